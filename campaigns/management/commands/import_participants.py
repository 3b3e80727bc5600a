from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from campaigns import services
from questionnaire.models import Campaign


class Command(BaseCommand):
    help = (
        "Add a campaign's participants from a CSV file `cpts_code,email` (an empty e-mail: the "
        "CPTS's coordinators). Every bad line is reported; if any is bad, nothing is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--campaign", required=True, help="campaign slug")
        parser.add_argument("--dry-run", action="store_true", help="validate only")

    def handle(self, *args, file, campaign, dry_run, **options):
        found = Campaign.objects.filter(slug=campaign).first()
        if found is None:
            raise CommandError(f"Campagne inconnue : « {campaign} ».")
        try:
            data = Path(file).read_bytes()
        except OSError as error:
            raise CommandError(f"Impossible de lire {file} : {error}") from error
        report = services.participants_import(campaign=found, text=data, dry_run=dry_run)
        if not report.ok:
            for error in report.errors:
                self.stderr.write(error)
            raise CommandError(
                f"{len(report.errors)} ligne(s) invalide(s) : aucun participant n'a été ajouté."
            )
        prefix = "Simulation : " if dry_run else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"{prefix}{report.participants_added} participant(s) et "
                f"{report.contacts_added} contact(s) ajouté(s)."
            )
        )

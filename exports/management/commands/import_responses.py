from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from exports.importer import ImportInvalid, responses_import
from questionnaire.models import Campaign


class Command(BaseCommand):
    help = (
        "Import responses from a long-format CSV (export_cohort --format long): every row is "
        "checked, nothing is written unless the whole file is valid; responses are submitted "
        "and scored."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="long-format CSV (',' or ';', UTF-8 with or without BOM)")
        parser.add_argument("--campaign", required=True, help="slug of the campaign to fill")
        parser.add_argument("--dry-run", action="store_true", help="check the file, write nothing")

    def handle(self, *args, file, campaign, dry_run, **options):
        target = Campaign.objects.select_related("questionnaire").filter(slug=campaign).first()
        if target is None:
            raise CommandError(f"Campagne inconnue : « {campaign} ».")
        try:
            data = Path(file).read_bytes()
        except FileNotFoundError as error:
            raise CommandError(f"Fichier introuvable : {file}") from error
        except OSError as error:
            raise CommandError(f"Impossible de lire {file}.") from error
        try:
            # Decoded (UTF-8, with or without BOM) by the importers' CSV reader.
            result = responses_import(text=data, campaign=target, dry_run=dry_run)
        except ImportInvalid as invalid:
            for message in invalid.errors:
                self.stderr.write(message)
            raise CommandError(str(invalid)) from invalid
        if result.dry_run:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Fichier valide : {result.responses} réponse(s), {result.answers} "
                    "réponse(s) aux questions (essai : rien n'a été écrit)."
                )
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"{result.responses} réponse(s) importée(s) et soumise(s), "
                    f"{result.answers} réponse(s) aux questions, {result.scored} score(s) "
                    "calculé(s)."
                )
            )

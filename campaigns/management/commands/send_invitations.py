from django.core.management.base import BaseCommand, CommandError

from campaigns import services
from questionnaire.models import Campaign


class Command(BaseCommand):
    help = "E-mail each contact of each participant not yet invited to the campaign (once)."

    def add_arguments(self, parser):
        parser.add_argument("--campaign", required=True, help="campaign slug")
        parser.add_argument("--dry-run", action="store_true", help="list, send nothing")

    def handle(self, *args, campaign, dry_run, **options):
        found = Campaign.objects.filter(slug=campaign).first()
        if found is None:
            raise CommandError(f"Campagne inconnue : « {campaign} ».")
        try:
            planned = services.invitations_send(campaign=found, dry_run=dry_run)
        except services.CampaignError as error:
            raise CommandError(str(error)) from error
        for item in planned:
            self.stdout.write(str(item))
        verb = "seraient envoyées" if dry_run else "envoyées"
        self.stdout.write(self.style.SUCCESS(f"{len(planned)} invitation(s) {verb}."))

from django.core.management.base import BaseCommand

from campaigns import services


class Command(BaseCommand):
    help = (
        "Send the campaign reminders due now, as the hourly beat task does, and list them "
        "(each message goes out once, however often this runs)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="list, send nothing")

    def handle(self, *args, dry_run, **options):
        planned = services.reminders_send_due(dry_run=dry_run)
        for item in planned:
            self.stdout.write(str(item))
        verb = "seraient envoyées" if dry_run else "envoyées"
        self.stdout.write(self.style.SUCCESS(f"{len(planned)} relance(s) {verb}."))

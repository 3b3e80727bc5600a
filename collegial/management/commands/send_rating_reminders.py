from django.core.management.base import BaseCommand

from collegial import services


class Command(BaseCommand):
    help = (
        "Remind the raters who have not finished, as the hourly beat task does (each reminder "
        "goes out once per rater and synthesis date, however often this runs)."
    )

    def handle(self, *args, **options):
        sent = services.reminders_send_due()
        self.stdout.write(self.style.SUCCESS(f"{sent} rappel(s) envoyé(s)."))

from django.core.management.base import BaseCommand

from collegial import services


class Command(BaseCommand):
    help = (
        "Delete the individual ratings of responses submitted more than "
        "COLLEGIAL_RATING_RETENTION_DAYS ago, as the daily beat task does."
    )

    def handle(self, *args, **options):
        purged = services.ratings_delete_expired()
        self.stdout.write(
            self.style.SUCCESS(f"Évaluations individuelles supprimées pour {purged} réponse(s).")
        )

from django.core.management.base import BaseCommand, CommandError

from scoring.grid import GridError
from scoring.services import DEFAULT_GRID_PATH, GridFrozen, grid_load


class Command(BaseCommand):
    help = (
        "Validate a scoring grid file against its questionnaire version and load it. Idempotent; "
        "refuses to change a grid version that already has scores."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=str(DEFAULT_GRID_PATH))

    def handle(self, *args, path, **options):
        try:
            result = grid_load(path=path)
        except GridError as error:
            raise CommandError(
                "Grille invalide :\n" + "\n".join(f"  - {e}" for e in error.errors)
            ) from error
        except GridFrozen as error:
            raise CommandError(str(error)) from error
        labels = {"created": "chargée", "updated": "mise à jour", "unchanged": "inchangée"}
        spec = result.grid.spec
        self.stdout.write(
            self.style.SUCCESS(
                f"Grille « {result.grid.code} » {labels[result.outcome]} : "
                f"{len(spec.rules)} questions notées, {len(spec.excluded)} exclues, "
                f"{len(spec.levels)} niveaux (questionnaire « {spec.questionnaire} »)."
            )
        )

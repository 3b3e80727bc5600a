from django.core.management.base import BaseCommand, CommandError

from improvement.library import Library, LibraryError
from improvement.services import DEFAULT_LIBRARY_PATH, LibraryFrozen, library_load


class Command(BaseCommand):
    help = (
        "Validate a recommendations file against its scoring grid and questionnaire and load "
        "it. Idempotent; refuses to change a version that plans already picked actions from."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=str(DEFAULT_LIBRARY_PATH))

    def handle(self, *args, path, **options):
        try:
            result = library_load(path=path)
        except LibraryError as error:
            raise CommandError(
                "Recommandations invalides :\n" + "\n".join(f"  - {e}" for e in error.errors)
            ) from error
        except LibraryFrozen as error:
            raise CommandError(str(error)) from error
        labels = {"created": "chargées", "updated": "mises à jour", "unchanged": "inchangées"}
        spec = Library.from_data(result.library.definition)
        suggestions = sum(len(a.suggestions) for a in spec.subdimensions.values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Recommandations « {result.library.code} » {labels[result.outcome]} : "
                f"{len(spec.subdimensions)} sous-dimensions, {suggestions} suggestions, "
                f"{len(spec.situational)} questions situationnelles (grille « {spec.grid} »)."
            )
        )

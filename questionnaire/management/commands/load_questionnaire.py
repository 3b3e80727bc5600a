from django.core.management.base import BaseCommand, CommandError

from questionnaire.definition import DefinitionError
from questionnaire.services import QuestionnaireFrozen, questionnaire_load

DEFAULT_PATH = "questionnaire/definitions/miller-2022.yaml"


class Command(BaseCommand):
    help = "Validate a questionnaire definition file and load it (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=DEFAULT_PATH)

    def handle(self, *args, path, **options):
        try:
            result = questionnaire_load(path=path)
        except DefinitionError as exc:
            raise CommandError(
                f"{path} est invalide :\n" + "\n".join(f"  - {e}" for e in exc.errors)
            ) from exc
        except QuestionnaireFrozen as exc:
            raise CommandError(str(exc)) from exc
        count = result.version.questions.count()
        labels = {"created": "créée", "updated": "mise à jour", "unchanged": "inchangée"}
        self.stdout.write(
            self.style.SUCCESS(
                f"Version {result.version.code} {labels[result.outcome]} ({count} questions)."
            )
        )

from django.core.management.base import BaseCommand, CommandError

from cpts_portal.spreadsheet import csv_lines
from questionnaire.codebook import CODEBOOK_HEADER, codebook_rows
from questionnaire.models import QuestionnaireVersion


class Command(BaseCommand):
    help = "Write the codebook of a questionnaire version as CSV (one row per option)."

    def add_arguments(self, parser):
        parser.add_argument("--questionnaire", required=True, help="version, e.g. miller-2022")
        parser.add_argument("--output", required=True, help="CSV file to write")

    def handle(self, *args, questionnaire, output, **options):
        version = QuestionnaireVersion.objects.filter(code=questionnaire).first()
        if version is None:
            known = ", ".join(QuestionnaireVersion.objects.values_list("code", flat=True))
            raise CommandError(
                f"Version de questionnaire inconnue : « {questionnaire} » "
                f"(versions chargées : {known or 'aucune'})."
            )
        rows = list(codebook_rows(version))
        with open(output, "w", encoding="utf-8", newline="") as handle:
            handle.writelines(csv_lines([CODEBOOK_HEADER, *rows]))
        self.stdout.write(self.style.SUCCESS(f"{len(rows)} lignes écrites dans {output}."))

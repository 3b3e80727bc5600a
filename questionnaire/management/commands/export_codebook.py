import csv

from django.core.management.base import BaseCommand, CommandError

from cpts_portal.spreadsheet import neutralise
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
        rows = 0
        with open(output, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(CODEBOOK_HEADER)
            for row in codebook_rows(version):
                writer.writerow([neutralise(cell) for cell in row])
                rows += 1
        self.stdout.write(self.style.SUCCESS(f"{rows} lignes écrites dans {output}."))

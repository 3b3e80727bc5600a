from django.core.management.base import BaseCommand, CommandError

from exports.spec import LONG, SCORES, STATUS_SUBMITTED, STATUSES, WIDE, ExportError, ExportSpec
from exports.writers import write_export
from territories.models import Cpts


class Command(BaseCommand):
    help = (
        "Write a cohort export (wide, long or scores) as CSV, national scope. The codebook "
        "that describes its columns comes from export_codebook."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--campaign",
            required=True,
            action="append",
            help="campaign slug; repeat the option for several campaigns",
        )
        parser.add_argument("--format", required=True, choices=[WIDE, LONG, SCORES])
        parser.add_argument("--region", default="", help="INSEE region code, e.g. 11")
        parser.add_argument("--department", default="", help="INSEE department code, e.g. 75")
        parser.add_argument("--stage", default="", choices=["", *Cpts.Stage.values])
        parser.add_argument(
            "--status",
            default=STATUS_SUBMITTED,
            choices=STATUSES,
            help="submitted (default) or all, drafts included",
        )
        parser.add_argument(
            "--labels", action="store_true", help="choice values as labels instead of codes"
        )
        parser.add_argument(
            "--excel",
            action="store_true",
            help="Excel (France): UTF-8 with BOM, ';' separator, decimal comma",
        )
        parser.add_argument("--grid", default="", help="scoring grid version (scores format)")
        parser.add_argument("--output", required=True, help="CSV file to write")

    def handle(self, *args, **options):
        try:
            spec = ExportSpec(
                campaigns=tuple(options["campaign"]),
                format=options["format"],
                region=options["region"],
                department=options["department"],
                stage=options["stage"],
                status=options["status"],
                labels=options["labels"],
                excel=options["excel"],
                grid=options["grid"],
            )
            with open(options["output"], "w", encoding="utf-8", newline="") as handle:
                count = write_export(handle, spec=spec, user=None)
        except ExportError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(f"{count} réponse(s) exportée(s) dans {options['output']}.")
        )

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from territories.services import cpts_import_csv


class Command(BaseCommand):
    help = (
        "Create or update CPTS from a CSV file (code, name, department_code, stage, ...). "
        "Every invalid row is reported by line number; if any row is invalid nothing is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="validate only")

    def handle(self, *args, file, dry_run, **options):
        try:
            data = Path(file).read_bytes()
        except OSError as exc:
            raise CommandError(f"Impossible de lire {file} (introuvable ou illisible).") from exc
        # Decoded (UTF-8, with or without BOM) by the importers' CSV reader.
        report = cpts_import_csv(text=data, dry_run=dry_run)
        if not report.ok:
            for error in report.errors:
                self.stderr.write(error)
            raise CommandError(
                f"{len(report.errors)} ligne(s) invalide(s) : aucune CPTS n'a été modifiée."
            )
        prefix = "Simulation : " if dry_run else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"{prefix}{report.created} CPTS créée(s), {report.updated} mise(s) à jour."
            )
        )

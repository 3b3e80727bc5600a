from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.services import USER_IMPORT_COLUMNS, users_import_csv


class Command(BaseCommand):
    help = (
        f"Create or update accounts from a CSV file ({','.join(USER_IMPORT_COLUMNS)}). Every "
        "invalid line is reported; if any line is invalid nothing is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="validate only, write nothing")
        parser.add_argument(
            "--send-activation",
            action="store_true",
            help="e-mail an activation link to every account of the file never activated (once)",
        )

    def handle(self, *args, file, dry_run, send_activation, **options):
        try:
            data = Path(file).read_bytes()
        except OSError as exc:
            raise CommandError(f"Impossible de lire {file} (introuvable ou illisible).") from exc
        # Decoded (UTF-8, with or without BOM) by the importers' CSV reader.
        report = users_import_csv(text=data, dry_run=dry_run, send_activation=send_activation)
        if not report.ok:
            for error in report.errors:
                self.stderr.write(error)
            raise CommandError(
                f"{len(report.errors)} ligne(s) invalide(s) : aucun compte n'a été créé ni modifié."
            )
        self.stdout.write(self.style.SUCCESS(report.summary(dry_run=dry_run)))

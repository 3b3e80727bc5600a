"""`python manage.py bench --size small|large|tiny`: build a synthetic cohort in a PostgreSQL
database of its own, measure the portal against baselines taken in the same run, print a table,
drop the database.

The command exists under `cpts_portal.settings_bench` only (production settings pointed at the
bench database, plus this app and its bare baseline view; `manage.py bench` picks them). Given
another `--database-url` than those settings', it starts itself again with that database, so
that it, gunicorn and locust all see the same configuration.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
import time
from io import StringIO
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

BENCH_SETTINGS = "cpts_portal.settings_bench"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/cpts_bench"


class Command(BaseCommand):
    help = (
        "Benchmark on a synthetic cohort in a separate PostgreSQL database (created, then "
        "dropped): CSV export, territory overview, rescore, PDF reports and bundles, autosave "
        "under load, each against a baseline measured in the same run."
    )

    def add_arguments(self, parser):
        parser.add_argument("--size", choices=["tiny", "small", "large"], default="small")
        parser.add_argument(
            "--database-url",
            default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL),
            help="PostgreSQL database to create and drop (default: %(default)s)",
        )
        parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
        parser.add_argument(
            "--profile", type=Path, help="write pyinstrument reports of each measure there"
        )
        parser.add_argument(
            "--workdir", type=Path, help="folder for locust/gunicorn logs (default: a temp dir)"
        )

    def handle(self, *args, **options):
        if (
            settings.SETTINGS_MODULE != BENCH_SETTINGS
            or options["database_url"] != settings.BENCH_DATABASE_URL
        ):
            return self._run_under_bench_settings(options)
        self._bench(**options)

    def _run_under_bench_settings(self, options) -> None:
        if not options["database_url"].startswith(("postgres://", "postgresql://")):
            raise CommandError("The bench runs on PostgreSQL: give a postgres:// --database-url.")
        command = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "bench"]
        command += ["--size", options["size"]]
        command += ["--keep"] if options["keep"] else []
        for name in ("profile", "workdir"):
            if options[name]:
                command += [f"--{name}", str(Path(options[name]).resolve())]
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": BENCH_SETTINGS,
            "BENCH_DATABASE_URL": options["database_url"],
        }
        # Output goes straight to ours so that progress shows as it happens.
        self.stdout.flush()
        result = subprocess.run(command, env=env, check=False)
        if result.returncode:
            raise CommandError(f"The bench failed (exit code {result.returncode}).")

    def _bench(self, *, size, keep, profile, workdir, **options) -> None:
        from benchmarks import cohort as cohorts
        from benchmarks import measures
        from benchmarks.database import database_drop, database_recreate
        from benchmarks.load import measure_load
        from benchmarks.report import table
        from benchmarks.report_pdf import BUNDLE_SIZES, measure_reports
        from scoring.models import ScoringGrid

        spec = cohorts.SIZES[size]
        database = settings.DATABASES["default"]
        workdir = Path(workdir or tempfile.mkdtemp(prefix="cpts-bench-"))
        workdir.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        self._step(f"Bench « {size} » on database {database['NAME']} (logs: {workdir})")
        database_recreate(database)
        try:
            call_command("migrate", verbosity=0, interactive=False)
            call_command("load_questionnaire", stdout=StringIO())
            call_command("load_scoring_grid", stdout=StringIO())
            grid = ScoringGrid.objects.select_related("questionnaire").get()
            self._step(f"Cohort: {spec.cpts:,} CPTS × {spec.campaigns} campaigns…")
            begun = time.perf_counter()
            cohort = cohorts.cohort_generate(size=spec, version=grid.questionnaire)
            self._step(
                f"  {cohort.responses:,} responses ({cohort.submitted:,} submitted), "
                f"{cohort.answers:,} answers in {time.perf_counter() - begun:.1f} s"
            )
            self._step("Rescore vs SQL + numpy…")
            rescore = measures.measure_rescore(grid=grid, profile_dir=profile)
            # As autovacuum would in time: the planner needs statistics on the score tables
            # rescore just filled, or it picks nested loops for the overview's aggregates.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            self._step("Wide CSV export vs COPY…")
            export = measures.measure_export(cohort=cohort, profile_dir=profile)
            self._step("Territory overview vs the bare page and one SQL aggregate…")
            overview = measures.measure_overview(cohort=cohort, grid=grid, profile_dir=profile)
            self._step(f"Reminders to {spec.reminder_participants:,} participants vs bulk_create…")
            reminders = measures.measure_reminders(
                count=spec.reminder_participants, version=grid.questionnaire, profile_dir=profile
            )
            self._step(
                f"PDF reports: one CPTS, then a bundle of {BUNDLE_SIZES[size]}, vs a one-page "
                "document…"
            )
            reports = measure_reports(size=size)
            self._step(
                f"Autosave under load: {spec.load_users} users, {spec.load_seconds} s each for "
                "autosave and the bare view…"
            )
            connection.close()  # gunicorn's workers get the database to themselves
            autosave, bare = measure_load(
                load_users=cohort.load_users,
                seconds=spec.load_seconds,
                workdir=workdir,
                stdout=self.stdout,
            )
            load = measures.autosave_line(
                autosave, bare, users=spec.load_users, seconds_=spec.load_seconds
            )
            self.stdout.write("")
            self.stdout.write(self._context(size, cohort, time.perf_counter() - started))
            self.stdout.write("")
            self.stdout.write(table([export, overview, rescore, *reports, load, reminders]))
        finally:
            if keep:
                self._step(f"Database {database['NAME']} kept (--keep).")
            else:
                database_drop(database)

    def _context(self, size: str, cohort, elapsed: float) -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            server = cursor.fetchone()[0]
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        return (
            f"Bench « {size} », {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}: "
            f"{cohort.cpts:,} CPTS × {len(cohort.campaigns)} campaigns, "
            f"{cohort.responses:,} responses, {cohort.answers:,} answers; "
            f"{os.cpu_count()} cores, {memory:.0f} GiB, PostgreSQL {server.split()[0]}, "
            f"Python {platform.python_version()}; whole run {elapsed:.0f} s."
        )

    def _step(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()

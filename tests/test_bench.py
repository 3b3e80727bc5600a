"""Smoke test of `python manage.py bench`: the tiny size, end to end, so that it does not rot.

No timing is asserted (timings on shared machines are noise): only that every line of the
table is printed with a verdict, that the rescore baseline computes the same scores, and that
the load test lost no answer. Needs PostgreSQL (the bench's own database is created and dropped)
and the `bench` extra; skipped otherwise.
"""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVER = "postgres://postgres@127.0.0.1:5432"


def _server_url() -> str:
    for name in ("BENCH_DATABASE_URL", "DATABASE_URL"):
        url = os.environ.get(name, "")
        if url.startswith(("postgres://", "postgresql://")):
            return url.rsplit("/", 1)[0]
    return SERVER


@pytest.fixture
def bench_database_url() -> str:
    # Looked up, not imported: importing locust monkey-patches the standard library with
    # gevent, which breaks Django's database connections for the rest of the test session.
    for module in ("locust", "numpy"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed (the `bench` extra)")
    server = _server_url()
    try:
        psycopg.connect(f"{server}/postgres", connect_timeout=3).close()
    except psycopg.OperationalError:
        pytest.skip(f"no PostgreSQL at {server}")
    # One database per test process: concurrent runs never drop each other's.
    return f"{server}/cpts_bench_smoke_{os.getpid()}"


@pytest.mark.bench
def test_bench_tiny_prints_every_line_of_the_table(bench_database_url, tmp_path):
    env = {
        **os.environ,
        "BENCH_DATABASE_URL": bench_database_url,
        "DJANGO_SETTINGS_MODULE": "cpts_portal.settings_bench",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "bench", "--size", "tiny", "--workdir", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout
    verdict = r"\|\s*(PASS|FAIL|not available yet)\s*\|$"
    for measure in (
        "wide CSV export of one campaign",
        "territory overview page (largest region)",
        "`rescore` of every submitted response",
        "PDF report of one CPTS",
        "ZIP bundle of 3 CPTS reports",
        "autosave under load",
    ):
        line = next((ln for ln in output.splitlines() if ln.startswith(f"| {measure}")), None)
        assert line is not None, f"no line for {measure!r} in:\n{output}"
        assert re.search(verdict, line), line
    rescore = next(ln for ln in output.splitlines() if ln.startswith("| `rescore`"))
    same = re.search(r"same scores for ([\d,]+)/([\d,]+)", rescore)
    assert same and same.group(1) == same.group(2), rescore
    autosave = next(ln for ln in output.splitlines() if ln.startswith("| autosave"))
    assert " 0 errors, 0 lost" in autosave, autosave
    # The database is dropped afterwards.
    with psycopg.connect(f"{_server_url()}/postgres") as admin:
        name = bench_database_url.rsplit("/", 1)[1]
        assert (
            admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None
        )

"""The autosave load test: gunicorn on the bench database, locust headless, then a count of
acknowledged saves missing from the database."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from benchmarks.cohort import LoadUser
from questionnaire.models import Answer, Question

LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"


@dataclass(frozen=True)
class LoadRun:
    target: str
    requests: int
    errors: int
    p50_ms: float
    p95_ms: float
    acknowledged: int
    lost: int | None  # None when not checked (the bare view)


def load_plan(load_users: list[LoadUser], csrf: str) -> dict:
    """Who saves what: each user's single-choice answers that change nothing else.

    Questions that other questions depend on (Q2) or that need an "Autre" text are left out,
    so that every save is valid on its own and applicability never moves under the test.
    """
    answers = Answer.objects.filter(
        response_id__in=[u.response_id for u in load_users],
        question__type=Question.Type.SINGLE_CHOICE,
        question__dependents__isnull=True,
    ).select_related("question")
    codes: dict[int, list[str]] = {}
    by_response: dict[int, list[dict]] = {}
    for answer in answers.prefetch_related("question__options"):
        question = answer.question
        if question.pk not in codes:
            options = [o for o in question.options.all() if o.kind == "choice"]
            codes[question.pk] = (
                [] if any(o.requires_text for o in options) else [o.code for o in options]
            )
        if len(codes[question.pk]) < 2:
            continue
        by_response.setdefault(answer.response_id, []).append(
            {
                "id": question.pk,
                "codes": codes[question.pk],
                "value": answer.value,
                "revision": answer.revision,
            }
        )
    return {
        "csrf": csrf,
        "users": [
            {
                "username": u.username,
                "session_key": u.session_key,
                "response_id": u.response_id,
                "questions": by_response[u.response_id],
            }
            for u in load_users
        ],
    }


def measure_load(
    *, load_users: list[LoadUser], seconds: int, workdir: Path, stdout
) -> tuple[LoadRun, LoadRun]:
    """Autosave first (its ledger is checked against a database nobody else wrote to since),
    then the bare view, both against one gunicorn."""
    csrf = secrets.token_hex(16)  # 32 characters: a CSRF secret as the cookie holds it
    with gunicorn_server(workdir) as base_url:
        plan_path = workdir / "load-plan.json"
        plan_path.write_text(json.dumps(load_plan(load_users, csrf)), encoding="utf-8")
        autosave = _locust("autosave", plan_path, base_url, len(load_users), seconds, workdir)
        autosave_ledger = json.loads((workdir / "ledger-autosave.json").read_text())
        lost = count_lost_answers(autosave_ledger["acks"])
        stdout.write(f"  autosave: {autosave.requests} saves, {lost} lost")
        bare = _locust("bare", plan_path, base_url, len(load_users), seconds, workdir)
        stdout.write(f"  bare view: {bare.requests} saves")
    return _with_lost(autosave, lost), bare


def count_lost_answers(acks: dict[str, list]) -> int:
    """Acknowledged saves whose value is not in the database at the revision acknowledged.

    Each response has one writer that waits for each answer before the next one, so the last
    acknowledged value of an answer is the one the database must hold.
    """
    keys = [tuple(int(part) for part in key.split(":")) for key in acks]
    stored = {
        (response_id, question_id): (value, revision)
        for response_id, question_id, value, revision in Answer.objects.filter(
            response_id__in={r for r, _ in keys}
        ).values_list("response_id", "question_id", "value", "revision")
    }
    return sum(
        1
        for key, (value, revision) in zip(keys, acks.values(), strict=True)
        if stored.get(key) != (value, revision)
    )


def _with_lost(run: LoadRun, lost: int) -> LoadRun:
    return LoadRun(**{**run.__dict__, "lost": lost})


def _locust(
    target: str, plan: Path, base_url: str, users: int, seconds: int, workdir: Path
) -> LoadRun:
    ledger = workdir / f"ledger-{target}.json"
    command = [
        str(Path(sys.executable).parent / "locust"),
        "-f", str(LOCUSTFILE),
        "--headless",
        "--users", str(users),
        "--spawn-rate", str(users),
        "--run-time", f"{seconds}s",
        "--stop-timeout", "10",
        "--host", base_url,
        "--only-summary",
        "--loglevel", "WARNING",
    ]  # fmt: skip
    env = {
        **os.environ,
        "BENCH_LOAD_PLAN": str(plan),
        "BENCH_LOAD_TARGET": target,
        "BENCH_LOAD_LEDGER": str(ledger),
    }
    log = workdir / f"locust-{target}.log"
    with log.open("w") as output:
        # locust exits 1 when a request failed: the ledger says which, so that is not fatal.
        subprocess.run(command, env=env, stdout=output, stderr=subprocess.STDOUT, check=False)
    if not ledger.exists():
        raise RuntimeError(f"locust wrote no ledger; see {log}")
    data = json.loads(ledger.read_text())
    latencies = sorted(data["latencies_ms"])
    return LoadRun(
        target=target,
        requests=len(latencies) + len(data["errors"]),
        errors=len(data["errors"]),
        p50_ms=_percentile(latencies, 50),
        p95_ms=_percentile(latencies, 95),
        acknowledged=len(data["acks"]),
        lost=None,
    )


def _percentile(values: list[float], percent: float) -> float:
    if not values:
        return float("nan")
    rank = max(0, min(len(values) - 1, round(percent / 100 * len(values) + 0.5) - 1))
    return values[rank]


@contextmanager
def gunicorn_server(workdir: Path):
    """gunicorn serving the bench settings on a free local port, for the length of the block."""
    port = _free_port()
    workers = 2 * (os.cpu_count() or 1) + 1  # gunicorn's own rule of thumb
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cpts_portal.settings_bench",
        "BENCH_DATABASE_URL": settings.BENCH_DATABASE_URL,
    }
    log = (workdir / "gunicorn.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "cpts_portal.wsgi:application",
            "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers),
            "--chdir", str(settings.BASE_DIR),
            "--log-level", "warning",
        ],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base_url, process)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_until_up(base_url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited at start; see gunicorn.log in the bench folder")
        try:
            with urllib.request.urlopen(f"{base_url}/sante/", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer within a minute")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]

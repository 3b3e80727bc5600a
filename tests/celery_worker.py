"""A real Celery worker for the tests about tasks: `celery -A cpts_portal worker` in a subprocess,
on this test database (PostgreSQL's test_<name>, or the SQLite file set in settings_test) and
the Redis broker (REDIS_URL, by default redis://127.0.0.1:6379/0).

Each test sends its task to a queue of its own run as well as the default one, so that the
worker of another test run sharing the Redis database (another checkout, another engineer)
cannot take it. While the worker runs, the test process stops running tasks eagerly.

Without a Redis server answering, these tests are skipped with the reason; with
CI_REQUIRE_SERVICES=1 (set by .ci/run) they fail instead, so that CI always proves them.
"""

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from django.db import connection
from kombu.utils.url import maybe_sanitize_url

from cpts_portal.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent


def require_broker(url: str | None = None) -> None:
    """Skip the calling test when no Redis broker answers; fail it under CI_REQUIRE_SERVICES=1."""
    url = url or celery_app.conf.broker_url
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as error:
        reason = (
            f"no Redis broker answers at {maybe_sanitize_url(url)} ({error}); "
            "start redis-server or set REDIS_URL"
        )
        if os.environ.get("CI_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{reason} (CI_REQUIRE_SERVICES=1 requires it)", pytrace=False)
        pytest.skip(reason)


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        assert db["NAME"] != ":memory:" and "mode=memory" not in str(db["NAME"])
        return f"sqlite:///{db['NAME']}"
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


@contextmanager
def celery_worker(
    *, queue: str, log: Path, env: dict[str, str] | None = None, pool: str = "solo"
) -> Iterator[subprocess.Popen]:
    """`pool="prefork"` runs one child process, as production workers do, that a test may kill."""
    require_broker()
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cpts_portal.settings_test",
        "DATABASE_URL": database_url(),
        "REDIS_URL": celery_app.conf.broker_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        **(env or {}),
    }
    command = [sys.executable, "-m", "celery", "-A", "cpts_portal", "worker", f"--pool={pool}"]
    command += ["--concurrency=1"] if pool == "prefork" else []
    command += ["--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    command += ["--queues", f"celery,{queue}", "--hostname", f"{queue}@%h"]
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=output, stderr=output)
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        yield process
    finally:
        celery_app.conf.task_always_eager = eager
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

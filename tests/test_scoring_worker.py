"""A real Celery worker, on Redis, scores a response once its submission is committed.

The worker is `celery -A cpts_portal worker` in a subprocess, pointed at this test database
(PostgreSQL's test_<name>, or the SQLite file set in settings_test) and at the Redis broker
(REDIS_URL, by default redis://127.0.0.1:6379/0). The test process stops running tasks eagerly
for the duration of the test, so the task travels through Redis.
"""

import os
import re
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection, transaction

from accounts.models import User
from cpts_portal.celery import app as celery_app
from questionnaire.services import response_submit
from scoring import services, tasks
from scoring.models import ResponseScore
from territories.reference import ensure_reference_territories
from tests.factories import CampaignFactory, CptsFactory, UserFactory
from tests.test_scoring import GRID_PATH, MIXED, make_response

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60
# A queue of this run's own, beside the default one: the worker of another test run sharing the
# Redis database (another checkout, another engineer) cannot take this test's task.
QUEUE = f"scoring-test-{os.getpid()}"


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        assert db["NAME"] != ":memory:" and "mode=memory" not in str(db["NAME"])
        return f"sqlite:///{db['NAME']}"
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker(transactional_db, tmp_path):
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cpts_portal.settings_test",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": celery_app.conf.broker_url,
    }
    command = [sys.executable, "-m", "celery", "-A", "cpts_portal", "worker", "--pool=solo"]
    command += ["--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    command += ["--queues", f"celery,{QUEUE}", "--hostname", f"{QUEUE}@%h"]
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=output)
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        yield process, log
    finally:
        celery_app.conf.task_always_eager = eager
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_a_submission_gets_its_scores_from_a_real_worker(worker, questionnaire):
    process, log = worker
    assert celery_app.conf.broker_url.startswith("redis://")
    ensure_reference_territories()  # transactional tests start from a flushed database
    services.grid_load(path=GRID_PATH)
    cpts = CptsFactory()
    coordinator = UserFactory(role=User.Role.COORDINATOR, cpts=[cpts])
    campaign = CampaignFactory(questionnaire=questionnaire)
    response = make_response(campaign, MIXED, cpts=cpts, submitted=False)

    with transaction.atomic():
        # On commit, response_submit sends score_response to the default queue. The same task
        # also goes to this run's queue: this run's worker gets it even if another run's worker
        # shares the Redis database. Scoring twice is harmless (the second finds no change).
        response_submit(response=response, user=coordinator)
        transaction.on_commit(lambda: tasks.score_response.apply_async((response.pk,), queue=QUEUE))

    deadline = time.monotonic() + TIMEOUT
    score = None
    while score is None and time.monotonic() < deadline:
        assert process.poll() is None, f"the worker stopped:\n{log.read_text()}"
        score = ResponseScore.objects.filter(response=response).first()
        time.sleep(0.2)
    assert score is not None, f"no scores after {TIMEOUT} s; worker log:\n{log.read_text()}"
    assert score.index == Decimal("64.50") and score.level == "structuration"
    assert score.areas.count() == 31
    assert re.search(r"Task scoring\.tasks\.score_response\[[-\w]+\] succeeded", log.read_text())

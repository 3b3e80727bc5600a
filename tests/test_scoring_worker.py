"""A real Celery worker, on Redis, scores a response once its submission is committed.

The worker (tests/celery_worker.py) runs in a subprocess on this test database and Redis; the
test process stops running tasks eagerly meanwhile, so the task travels through Redis.
"""

import os
import re
import socket
import time
from decimal import Decimal

import pytest
from django.db import transaction

from accounts.models import User
from cpts_portal.celery import app as celery_app
from questionnaire.services import response_submit
from scoring import services, tasks
from scoring.models import ResponseScore
from territories.reference import ensure_reference_territories
from tests.celery_worker import celery_worker, require_broker
from tests.factories import CampaignFactory, CptsFactory, UserFactory
from tests.helpers import GRID_PATH, MIXED, make_response

TIMEOUT = 60
QUEUE = f"scoring-test-{os.getpid()}"


@pytest.fixture
def worker(transactional_db, tmp_path):
    log = tmp_path / "worker.log"
    with celery_worker(queue=QUEUE, log=log) as process:
        yield process, log


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


@pytest.mark.parametrize(
    ("required", "outcome"), [("", pytest.skip.Exception), ("1", pytest.fail.Exception)]
)
def test_without_a_broker_worker_tests_skip_but_fail_in_ci(monkeypatch, required, outcome):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("CI_REQUIRE_SERVICES", required)
    with pytest.raises(outcome, match="no Redis broker answers at redis://127.0.0.1"):
        require_broker(f"redis://127.0.0.1:{port}/0")

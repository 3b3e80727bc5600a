"""A real Celery worker, on Redis, builds a large export queued by the export page.

The worker (tests/celery_worker.py) runs in a subprocess on this test database and Redis, with
this run's own queue; both processes share a temporary MEDIA_ROOT, where the worker writes the
file the page then serves.
"""

import os
import re
import time

import pytest
from django.db import transaction
from django.urls import reverse

from accounts.models import User
from cpts_portal.celery import app as celery_app
from exports import jobs, tasks
from exports.models import ExportJob
from exports.spec import ExportSpec
from territories.models import Department
from territories.reference import ensure_reference_territories
from tests.celery_worker import celery_worker
from tests.factories import CptsFactory, UserFactory
from tests.helpers import SLUG, build_cohort, export, load_grid

TIMEOUT = 60
QUEUE = f"exports-test-{os.getpid()}"


@pytest.fixture
def worker(transactional_db, tmp_path, settings):
    media = tmp_path / "media"
    settings.MEDIA_ROOT = media
    log = tmp_path / "worker.log"
    with celery_worker(queue=QUEUE, log=log, env={"DJANGO_MEDIA_ROOT": str(media)}) as process:
        yield process, log


def test_a_large_export_is_built_by_a_real_worker(worker, questionnaire, client, settings):
    process, log = worker
    assert celery_app.conf.broker_url.startswith("redis://")
    ensure_reference_territories()  # transactional tests start from a flushed database
    territory = {
        key: CptsFactory(name=name, department=Department.objects.get(code=code))
        for key, name, code in [
            ("paris_1", "CPTS Paris Un", "75"),
            ("paris_2", "CPTS Paris Deux", "75"),
            ("saint_denis", "CPTS Saint-Denis", "93"),
            ("lyon", "CPTS Lyon", "69"),
        ]
    }
    build_cohort(questionnaire, territory, load_grid())
    fcpts = UserFactory(role=User.Role.FCPTS)
    settings.EXPORTS_STREAM_MAX_RESPONSES = 1
    client.force_login(fcpts)

    # The page queues build_export on commit (default queue); the same job also goes to this
    # run's queue, so this run's worker gets it even if another run's worker shares Redis.
    with transaction.atomic():
        response = client.post(
            reverse("exports:index"),
            {"campaigns": [SLUG], "format": "wide", "status": "submitted", "values": "codes"},
        )
        job = ExportJob.objects.get()
        transaction.on_commit(lambda: tasks.build_export.apply_async((job.pk,), queue=QUEUE))
    assert response.status_code == 302

    deadline = time.monotonic() + TIMEOUT
    state = {}
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the worker stopped:\n{log.read_text()}"
        state = client.get(reverse("exports:job_status", args=[job.pk])).json()
        if state["status"] in ("done", "failed"):
            break
        time.sleep(0.2)
    assert state.get("status") == "done", f"{state}; worker log:\n{log.read_text()}"
    assert (state["done"], state["total"], state["percent"]) == (3, 3, 100)
    download = client.get(state["download_url"])
    content = b"".join(download.streaming_content).decode("utf-8")
    assert content == export(ExportSpec(campaigns=(SLUG,), format="wide"), fcpts)
    assert content.count("\r\n") == 4
    assert re.search(r"Task exports\.tasks\.build_export\[[-\w]+\] succeeded", log.read_text())
    jobs.export_jobs_purge(now=job.expires_at)
    assert not ExportJob.objects.exists()

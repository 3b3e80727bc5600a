"""A real Celery worker, on Redis, builds the ZIP of 40 CPTS reports queued by the bundle page.

The worker (tests/celery_worker.py) runs in a subprocess on this test database and Redis, with
this run's own queue; both processes share a temporary MEDIA_ROOT, where the worker writes the
reports and the ZIP that the exports' download view then serves to the requester.
"""

import io
import os
import re
import time
import zipfile

import pypdf
import pytest
from django.db import transaction
from django.urls import reverse

from accounts.models import User
from cpts_portal.celery import app as celery_app
from exports.models import ExportJob
from reports import tasks
from reports.models import Report
from scoring import services as scoring_services
from scoring.services import grid_load
from territories.models import Department, Region
from territories.reference import ensure_reference_territories
from tests.celery_worker import celery_worker
from tests.factories import CampaignFactory, CptsFactory, UserFactory
from tests.helpers import GRID_PATH, MIXED, make_response

TIMEOUT = 600  # 40 renderings on a shared two-core machine
QUEUE = f"reports-test-{os.getpid()}"
BUNDLE_SIZE = 40


@pytest.fixture
def worker(transactional_db, tmp_path, settings):
    media = tmp_path / "media"
    settings.MEDIA_ROOT = media
    log = tmp_path / "worker.log"
    with celery_worker(queue=QUEUE, log=log, env={"DJANGO_MEDIA_ROOT": str(media)}) as process:
        yield process, log


def test_a_40_cpts_bundle_is_built_by_a_real_worker(worker, questionnaire, client):
    process, log = worker
    assert celery_app.conf.broker_url.startswith("redis://")
    ensure_reference_territories()  # transactional tests start from a flushed database
    grid = grid_load(path=GRID_PATH).grid
    campaign = CampaignFactory(questionnaire=questionnaire)
    departments = list(Department.objects.filter(region__code="11"))
    for number in range(BUNDLE_SIZE):
        cpts = CptsFactory(
            name=f"CPTS Île-de-France {number:02d}", department=departments[number % 8]
        )
        answers = {**MIXED, "q07": number + 1}  # a different answer in each report
        response = make_response(campaign, answers, cpts=cpts)
        scoring_services.response_score(response=response, grid=grid)
    outside = CptsFactory(name="CPTS Lyon", department=Department.objects.get(code="69"))
    scoring_services.response_score(
        response=make_response(campaign, MIXED, cpts=outside), grid=grid
    )
    ars = UserFactory(role=User.Role.ARS, region=Region.objects.get(code="11"))
    client.force_login(ars)

    # The page queues build_bundle on commit (default queue); the same job also goes to this
    # run's queue, so this run's worker gets it even if another run's worker shares Redis.
    with transaction.atomic():
        response = client.post(reverse("reports:bundle") + f"?campagne={campaign.slug}")
        job = ExportJob.objects.get()
        transaction.on_commit(lambda: tasks.build_bundle.apply_async((job.pk,), queue=QUEUE))
    assert response.status_code == 302
    assert response.url == reverse("exports:job", args=[job.pk])

    deadline = time.monotonic() + TIMEOUT
    state, seen = {}, set()
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the worker stopped:\n{log.read_text()}"
        state = client.get(reverse("exports:job_status", args=[job.pk])).json()
        seen.add(state["done"])
        if state["status"] in ("done", "failed"):
            break
        time.sleep(0.5)
    assert state.get("status") == "done", f"{state}; worker log:\n{log.read_text()}"
    assert (state["done"], state["total"], state["percent"]) == (BUNDLE_SIZE, BUNDLE_SIZE, 100)
    assert len(seen) > 2, seen  # the progress bar moved on the way
    download = client.get(state["download_url"])
    assert download["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    names = [n for n in archive.namelist() if n.endswith(".pdf")]
    assert len(names) == BUNDLE_SIZE
    for number, name in enumerate(sorted(names)):
        reader = pypdf.PdfReader(io.BytesIO(archive.read(name)))
        text = reader.pages[0].extract_text()
        assert f"CPTS Île-de-France {number:02d}" in text, name
    assert "CPTS Lyon" not in archive.read("sommaire.txt").decode()
    assert Report.objects.filter(status=Report.Status.DONE).count() == BUNDLE_SIZE
    assert re.search(r"Task reports\.tasks\.build_bundle\[[-\w]+\] succeeded", log.read_text())

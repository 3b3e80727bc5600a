"""Issue 13 §1: work acknowledged to a user is never lost when Redis or a worker dies.

Real processes: a private `redis-server` on a free port (tests/broker.py) that the tests kill
and start again, real Celery workers (tests/celery_worker.py) killed with SIGKILL, Celery beat,
and `manage.py rescore` as a subprocess. The machine's own Redis is never touched.
"""

import datetime as dt
import os
import signal
import subprocess
import sys

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from exports.models import ExportJob
from exports.spec import ExportSpec
from exports.tasks import build_export
from questionnaire.models import Response
from scoring import services as scoring_services
from scoring.models import ResponseScore
from territories.reference import ensure_reference_territories
from tests.broker import celery_beat, private_redis, process_environment, wait_until
from tests.celery_worker import ROOT, celery_worker, database_url
from tests.factories import CampaignFactory, CptsFactory, UserFactory
from tests.helpers import GRID_PATH, MIXED, make_response

QUEUE = f"recovery-test-{os.getpid()}"
# The failure tests shorten the repair delays (README, "Failures and recovery") to seconds.
FAST = {
    "CELERY_VISIBILITY_TIMEOUT": "3",
    "RECONCILE_INTERVAL": "1",
    "EXPORTS_JOB_PENDING_GRACE": "2",
    "EXPORTS_JOB_STALE_AFTER": "2",
}
# Beat and `rescore` run with the production settings module (tasks go through Redis).
PRODUCTION_LIKE = {"DJANGO_SETTINGS_MODULE": "cpts_portal.settings", "DJANGO_DEBUG": "true"}


@pytest.fixture
def redis(transactional_db, tmp_path):
    with private_redis(tmp_path) as server:
        yield server


@pytest.fixture
def world(redis, questionnaire, tmp_path, settings):
    ensure_reference_territories()  # transactional tests start from a flushed database
    settings.MEDIA_ROOT = tmp_path / "media"
    return {
        "grid": scoring_services.grid_load(path=GRID_PATH).grid,
        "campaign": CampaignFactory(questionnaire=questionnaire),
        "media": str(tmp_path / "media"),
    }


def _log(path):
    return lambda: path.read_text() if path.exists() else "(no log)"


def _lock_waiters() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        return cursor.fetchone()[0]


def _side_connection():
    """A second database connection, to hold a row lock that pins a worker mid-task."""
    psycopg = pytest.importorskip("psycopg")
    if connection.vendor != "postgresql":
        pytest.skip("row locks pin a worker only on PostgreSQL")
    return psycopg.connect(database_url())


def test_actions_taken_while_redis_is_down_are_done_once_it_is_back(
    world, redis, client, tmp_path, settings
):
    grid, campaign = world["grid"], world["campaign"]
    cpts_a, cpts_b = CptsFactory(), CptsFactory()
    coordinator = UserFactory(role=User.Role.COORDINATOR, cpts=[cpts_a])
    fcpts = UserFactory(role=User.Role.FCPTS)
    to_submit = make_response(campaign, MIXED, cpts=cpts_a, submitted=False)
    to_reopen = make_response(campaign, MIXED, cpts=cpts_b)
    scoring_services.responses_score(response_ids=[to_reopen.pk], grid=grid)
    settings.EXPORTS_STREAM_MAX_RESPONSES = 0  # every export runs in the background
    env = {**FAST, "DJANGO_MEDIA_ROOT": world["media"]}
    worker_log, beat_log = tmp_path / "worker.log", tmp_path / "beat.log"

    with (
        celery_worker(queue=QUEUE, log=worker_log, env=env),
        celery_beat(
            log=beat_log, schedule=tmp_path / "beat-schedule", env={**env, **PRODUCTION_LIKE}
        ),
    ):
        # Both are connected and working when Redis dies under them.
        wait_until(lambda: " ready." in _log(worker_log)(), 60, _log(worker_log))
        wait_until(lambda: "Sending due task" in _log(beat_log)(), 60, _log(beat_log))
        redis.kill()
        client.force_login(coordinator)
        submitted = client.post(reverse("questionnaire:submit", args=[to_submit.pk]), follow=True)
        assert submitted.status_code == 200
        assert "Merci ! Votre questionnaire a été soumis." in submitted.content.decode()
        client.force_login(fcpts)
        reopened = client.post(
            reverse("questionnaire:reopen", args=[to_reopen.pk]), {"reason": "Erreur"}
        )
        assert reopened.status_code == 302
        started = client.post(
            reverse("exports:index"),
            {"campaigns": [campaign.slug], "format": "wide", "status": "all", "values": "codes"},
        )
        assert started.status_code == 302
        job = ExportJob.objects.get()
        assert started.url == reverse("exports:job", args=[job.pk])
        # Nothing happened yet, and no one will act: Redis comes back, that is all.
        assert not ResponseScore.objects.filter(response=to_submit).exists()
        assert job.status == ExportJob.Status.PENDING
        redis.start()

        wait_until(
            lambda: (
                ResponseScore.objects.filter(response=to_submit, grid=grid).exists()
                and not ResponseScore.objects.filter(response=to_reopen).exists()
                and ExportJob.objects.get().status == ExportJob.Status.DONE
            ),
            120,
            lambda: f"worker:\n{_log(worker_log)()}\nbeat:\n{_log(beat_log)()}",
        )
    assert Response.objects.get(pk=to_submit.pk).status == Response.Status.SUBMITTED
    assert Response.objects.get(pk=to_reopen.pk).status == Response.Status.DRAFT
    assert ResponseScore.objects.filter(response=to_submit).count() == 1
    download = client.get(reverse("exports:job_download", args=[job.pk]))
    assert b"".join(download.streaming_content).decode().count("\r\n") == 3  # header + 2


def test_rescore_finishes_when_its_worker_is_killed_mid_batch(world, redis, tmp_path):
    grid, campaign = world["grid"], world["campaign"]
    responses = [make_response(campaign, MIXED) for _ in range(6)]
    first_log, second_log = tmp_path / "worker-1.log", tmp_path / "worker-2.log"
    command = [sys.executable, "manage.py", "rescore", "--grid", grid.code, "--batch-size", "1"]
    with _side_connection() as side, celery_worker(queue=QUEUE, log=first_log, env=FAST) as first:
        # The third response's row is locked: the worker scores two batches, then waits on it.
        side.execute(
            "SELECT id FROM questionnaire_response WHERE id = %s FOR UPDATE", [responses[2].pk]
        )
        rescore = subprocess.Popen(
            command,
            cwd=ROOT,
            env=process_environment(**FAST, **PRODUCTION_LIKE),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_until(
            lambda: ResponseScore.objects.count() == 2 and _lock_waiters() == 1,
            60,
            _log(first_log),
        )
        assert redis.unacked() == 1  # the batch it holds, taken and not acknowledged
        first.send_signal(signal.SIGKILL)
        first.wait()
        side.rollback()

    with celery_worker(queue=QUEUE, log=second_log, env=FAST):
        out, err = rescore.communicate(timeout=120)
    assert rescore.returncode == 0, out + err + _log(second_log)()
    assert "Terminé : 6 créés, 0 mis à jour, 0 inchangés." in out
    assert "Traceback" not in out + err
    assert ResponseScore.objects.filter(grid=grid).count() == 6
    assert redis.unacked() == 0


def test_a_killed_worker_child_gives_its_batch_back(world, redis, tmp_path):
    """Prefork, as in production: the child running a batch is SIGKILLed; the batch is handed
    back (task_reject_on_worker_lost), not acknowledged as failed, and a new child scores it."""
    grid, campaign = world["grid"], world["campaign"]
    responses = [make_response(campaign, MIXED) for _ in range(3)]
    log = tmp_path / "worker.log"
    command = [sys.executable, "manage.py", "rescore", "--grid", grid.code, "--batch-size", "1"]
    with (
        _side_connection() as side,
        celery_worker(queue=QUEUE, log=log, env=FAST, pool="prefork") as worker,
    ):
        side.execute(
            "SELECT id FROM questionnaire_response WHERE id = %s FOR UPDATE", [responses[1].pk]
        )
        rescore = subprocess.Popen(
            command,
            cwd=ROOT,
            env=process_environment(**FAST, **PRODUCTION_LIKE),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_until(
            lambda: ResponseScore.objects.count() == 1 and _lock_waiters() == 1, 60, _log(log)
        )
        children = subprocess.run(
            ["pgrep", "-P", str(worker.pid)], capture_output=True, text=True, check=True
        ).stdout.split()
        assert len(children) == 1
        os.kill(int(children[0]), signal.SIGKILL)
        side.rollback()
        out, err = rescore.communicate(timeout=120)
    assert rescore.returncode == 0, out + err + _log(log)()
    assert "Terminé : 3 créés, 0 mis à jour, 0 inchangés." in out
    assert "Traceback" not in out + err
    assert ResponseScore.objects.filter(grid=grid).count() == 3


def test_background_exports_whose_worker_died_are_restarted_or_failed_with_a_message(
    world, redis, client, tmp_path
):
    campaign = world["campaign"]
    make_response(campaign, MIXED)
    fcpts = UserFactory(role=User.Role.FCPTS)
    spec = ExportSpec(campaigns=(campaign.slug,), format="wide")
    env = {**FAST, "DJANGO_MEDIA_ROOT": world["media"]}
    first_log, second_log = tmp_path / "worker-1.log", tmp_path / "worker-2.log"
    # A worker killed (SIGKILL) while it takes up a job: the job row is locked, so the worker
    # waits at the job's start, and dies there.
    with _side_connection() as side, celery_worker(queue=QUEUE, log=first_log, env=env) as first:
        killed = ExportJob.objects.create(
            requested_by=fcpts, parameters=spec.to_json(), filename="killed.csv"
        )
        side.execute("SELECT id FROM exports_exportjob WHERE id = %s FOR UPDATE", [killed.pk])
        build_export.delay(killed.pk)
        wait_until(lambda: _lock_waiters() == 1, 60, _log(first_log))
        first.send_signal(signal.SIGKILL)
        first.wait()
        side.rollback()
    # Jobs as a worker killed mid-export leaves them: running, at 1 %, no progress since.
    long_ago = timezone.now() - dt.timedelta(hours=1)
    stuck = ExportJob.objects.create(
        requested_by=fcpts,
        parameters=spec.to_json(),
        filename="stuck.csv",
        status=ExportJob.Status.RUNNING,
        total=100,
        done=1,
        attempts=1,
        touched_at=long_ago,
    )
    hopeless = ExportJob.objects.create(
        requested_by=fcpts,
        parameters=spec.to_json(),
        filename="hopeless.csv",
        status=ExportJob.Status.RUNNING,
        total=100,
        done=1,
        attempts=3,
        touched_at=long_ago,
    )

    beat_log = tmp_path / "beat.log"
    with (
        celery_worker(queue=QUEUE, log=second_log, env=env),
        celery_beat(
            log=beat_log, schedule=tmp_path / "beat-schedule", env={**env, **PRODUCTION_LIKE}
        ),
    ):
        wait_until(
            lambda: (
                set(ExportJob.objects.values_list("status", flat=True))
                == {ExportJob.Status.DONE, ExportJob.Status.FAILED}
            ),
            120,
            lambda: f"{list(ExportJob.objects.values())}\n{_log(second_log)()}",
        )
    for job in (killed, stuck):
        job.refresh_from_db()
        assert job.status == ExportJob.Status.DONE and job.done == job.total == 1
    assert stuck.attempts == 2
    hopeless.refresh_from_db()
    assert hopeless.status == ExportJob.Status.FAILED
    client.force_login(fcpts)
    state = client.get(reverse("exports:job_status", args=[hopeless.pk])).json()
    assert state["status"] == "failed"
    assert state["error"].startswith("L'export a été interrompu 3 fois")
    page = client.get(reverse("exports:job", args=[hopeless.pk])).content.decode()
    assert "Relancez-le depuis la page des exports" in page

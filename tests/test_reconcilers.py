"""Issue 13 §1, the state side: the beat reconcilers find every piece of lost work, do it once,
and leave everything else alone (tests/test_failures_and_recovery.py runs them for real)."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from cpts_portal.celery import app as celery_app
from exports import jobs as export_jobs
from exports.models import MAX_ATTEMPTS, ExportJob
from exports.spec import ExportSpec
from questionnaire import services as questionnaire_services
from questionnaire.models import Response
from scoring import services as scoring_services
from scoring.models import ResponseScore
from tests.factories import UserFactory
from tests.helpers import MIXED, make_response

UNREACHABLE = "redis://127.0.0.1:9/0"  # the discard port: nothing listens, connections refused


@pytest.fixture
def broker_down():
    """Tasks go to a broker that refuses connections, as when Redis is down."""
    eager, url = celery_app.conf.task_always_eager, celery_app.conf.broker_url
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = UNREACHABLE
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    yield
    celery_app.conf.task_always_eager, celery_app.conf.broker_url = eager, url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def test_scores_reconcile_scores_the_missing_and_clears_reopened_drafts(campaign, grid):
    scored, unscored = make_response(campaign, MIXED), make_response(campaign, MIXED)
    reopened = make_response(campaign, MIXED)
    scoring_services.responses_score(response_ids=[scored.pk, reopened.pk], grid=grid)
    Response.objects.filter(pk=reopened.pk).update(status="draft", submitted_at=None)
    draft = make_response(campaign, {"q01": "2020-05"}, submitted=False)

    assert scoring_services.scores_reconcile() == {"created": 1, "deleted": 1}
    assert set(ResponseScore.objects.values_list("response_id", flat=True)) == {
        scored.pk,
        unscored.pk,
    }
    assert not ResponseScore.objects.filter(response=draft).exists()
    assert scoring_services.scores_reconcile() == {}  # idempotent: nothing left to do


def test_scores_reconcile_takes_a_large_backlog_over_several_runs(campaign, grid):
    for _ in range(3):
        make_response(campaign, MIXED)
    assert scoring_services.scores_reconcile(limit=2) == {"created": 2}
    assert scoring_services.scores_reconcile(limit=2) == {"created": 1}


def test_submit_and_reopen_succeed_while_the_broker_is_down(campaign, grid, users, broker_down):
    response = make_response(
        campaign, MIXED, cpts=users["coordinator"].cpts.first(), submitted=False
    )
    questionnaire_services.response_submit(response=response, user=users["coordinator"])
    assert Response.objects.get(pk=response.pk).status == "submitted"
    assert not ResponseScore.objects.exists()  # the message was lost …
    scoring_services.scores_reconcile()
    assert ResponseScore.objects.filter(response=response).count() == 1  # … the state was not
    questionnaire_services.response_reopen(response=response, user=users["fcpts"], reason="x")
    scoring_services.scores_reconcile()
    assert not ResponseScore.objects.exists()


def test_rescore_says_in_french_that_the_broker_is_down(grid, broker_down, campaign):
    make_response(campaign, MIXED)
    with pytest.raises(CommandError, match="Le serveur de tâches \\(Redis\\) est injoignable"):
        call_command("rescore", grid=grid.code)


@pytest.fixture
def job_of(campaign):
    user = UserFactory(role="fcpts")
    spec = ExportSpec(campaigns=(campaign.slug,), format="wide")

    def make(**fields):
        return ExportJob.objects.create(
            requested_by=user, parameters=spec.to_json(), filename="f.csv", **fields
        )

    return make


def test_export_jobs_reconcile_requeues_lost_jobs_and_fails_hopeless_ones(job_of, campaign):
    make_response(campaign, MIXED)
    now = timezone.now()
    old = now - dt.timedelta(hours=1)
    fresh_pending = job_of()
    lost_pending = job_of(touched_at=old)
    stuck = job_of(status="running", attempts=1, done=1, total=10, touched_at=old)
    hopeless = job_of(status="running", attempts=MAX_ATTEMPTS, touched_at=old)
    running = job_of(status="running", attempts=1, touched_at=now)
    done = job_of(status="done", touched_at=old)

    # Eager Celery: a requeued job is built at once.
    assert export_jobs.export_jobs_reconcile(now=now) == {"requeued": 2, "failed": 1}
    states = {job.pk: job for job in ExportJob.objects.all()}
    assert states[fresh_pending.pk].status == "pending"  # within its grace: left alone
    assert states[lost_pending.pk].status == "done"
    assert (states[stuck.pk].status, states[stuck.pk].attempts) == ("done", 2)
    assert states[hopeless.pk].status == "failed"
    assert states[hopeless.pk].error.startswith(f"L'export a été interrompu {MAX_ATTEMPTS} fois")
    assert states[running.pk].status == "running"  # alive: left alone
    assert states[done.pk].status == "done"


def test_a_job_delivered_twice_is_built_once(job_of, campaign):
    make_response(campaign, MIXED)
    job = job_of()
    export_jobs.export_job_run(job=job)
    first = ExportJob.objects.get(pk=job.pk)
    export_jobs.export_job_run(job=job)  # the same message redelivered
    again = ExportJob.objects.get(pk=job.pk)
    assert (again.status, again.attempts, again.file.name) == ("done", 1, first.file.name)
    # A job running elsewhere with fresh progress is not taken over either.
    alive = job_of(status="running", attempts=1, touched_at=timezone.now())
    export_jobs.export_job_run(job=alive)
    assert ExportJob.objects.get(pk=alive.pk).attempts == 1

"""A real Celery worker delivers e-mail through a real SMTP server, retrying while the server
is down, and sends the message once."""

import datetime as dt
import os
import time

import pytest
from django.db import transaction
from django.urls import reverse

from accounts.models import User
from cpts_portal.celery import app as celery_app
from mailing import services, tasks
from mailing.models import SentMessage
from territories.reference import ensure_reference_territories
from tests.broker import celery_beat, private_redis, wait_until
from tests.celery_worker import celery_worker
from tests.factories import CptsFactory, UserFactory
from tests.smtp import smtp_server

TIMEOUT = 60
QUEUE = f"mailing-test-{os.getpid()}"


def test_the_worker_retries_until_the_server_answers_and_sends_once(transactional_db, tmp_path):
    assert celery_app.conf.broker_url.startswith("redis://")
    log = tmp_path / "worker.log"
    with smtp_server(started=False) as server:
        env = {"EMAIL_URL": server.url, "EMAIL_RETRY_BACKOFF": "1"}
        with celery_worker(queue=QUEUE, log=log, env=env) as process:
            with transaction.atomic():
                message = services.message_send(
                    key="worker-test",
                    to="claire@example.org",
                    template="team_added",
                    context={"user_name": "Claire", "cpts_name": "CPTS A", "invited_by": "Sophie"},
                )
                # Also on this run's queue, so that this run's worker gets it (see
                # tests/celery_worker.py); a message queued twice is still sent once.
                transaction.on_commit(
                    lambda: tasks.deliver_message.apply_async((message.pk,), queue=QUEUE)
                )
            deadline = time.monotonic() + TIMEOUT
            while time.monotonic() < deadline:
                assert process.poll() is None, log.read_text()
                message.refresh_from_db()
                if message.attempts >= 1:
                    break
                time.sleep(0.1)
            assert message.status == SentMessage.Status.PENDING, log.read_text()
            assert "ConnectionRefusedError" in message.error
            server.start()  # the server comes back: the next retry gets through
            while time.monotonic() < deadline and message.status == SentMessage.Status.PENDING:
                message.refresh_from_db()
                time.sleep(0.1)
            assert message.status == SentMessage.Status.SENT, log.read_text()
            time.sleep(2)  # long enough for a second copy, if any, to arrive
        assert len(server.mailbox.to("claire@example.org")) == 1
    assert message.attempts >= 2
    assert "Retry in" in log.read_text()


@pytest.mark.django_db
def test_a_pending_message_whose_task_was_lost_is_queued_again(settings):
    message = SentMessage.objects.create(
        key="lost",
        to="a@example.org",
        template="team_added",
        subject="s",
        body_text="t",
        body_html="h",
    )
    SentMessage.objects.filter(pk=message.pk).update(
        created_at=message.created_at - dt.timedelta(hours=1)
    )
    fresh = SentMessage.objects.create(
        key="fresh",
        to="b@example.org",
        template="team_added",
        subject="s",
        body_text="t",
        body_html="h",
    )
    assert services.messages_requeue() == 1  # eager here: delivered to the console backend
    message.refresh_from_db()
    fresh.refresh_from_db()
    assert message.status == SentMessage.Status.SENT
    assert fresh.status == SentMessage.Status.PENDING


def test_an_invitation_made_while_redis_is_down_arrives_once_it_is_back(
    transactional_db, client, tmp_path
):
    """Redis dies under a running worker and beat; a coordinator invites someone: the page
    succeeds, the message waits in the log, and the reconciler sends it once Redis is back."""
    ensure_reference_territories()  # transactional tests start from a flushed database
    cpts = CptsFactory()
    coordinator = UserFactory(role=User.Role.COORDINATOR, cpts=[cpts])
    worker_log, beat_log = tmp_path / "worker.log", tmp_path / "beat.log"
    with private_redis(tmp_path) as redis, smtp_server() as server:
        env = {
            "EMAIL_URL": server.url,
            "RECONCILE_INTERVAL": "1",
            "EMAIL_REQUEUE_AFTER": "1",
            "CELERY_VISIBILITY_TIMEOUT": "3",
        }
        with (
            celery_worker(queue=QUEUE, log=worker_log, env=env),
            celery_beat(
                log=beat_log,
                schedule=tmp_path / "beat-schedule",
                env={
                    **env,
                    "DJANGO_SETTINGS_MODULE": "cpts_portal.settings",
                    "DJANGO_DEBUG": "true",
                },
            ),
        ):
            wait_until(lambda: " ready." in worker_log.read_text(), 60, worker_log.read_text)
            redis.kill()
            client.force_login(coordinator)
            invited = client.post(
                reverse("accounts:team", args=[cpts.pk]),
                {"email": "late@example.org", "function": "", "role": "member"},
            )
            assert invited.status_code == 302  # the invitation is made, whatever the broker
            message = SentMessage.objects.get(to="late@example.org")
            assert (message.status, message.attempts) == ("pending", 0)
            redis.start()
            wait_until(
                lambda: SentMessage.objects.get(pk=message.pk).status == "sent",
                90,
                lambda: f"worker:\n{worker_log.read_text()}\nbeat:\n{beat_log.read_text()}",
            )
            time.sleep(3)  # a second copy, if any, would arrive now
        assert len(server.mailbox.to("late@example.org")) == 1

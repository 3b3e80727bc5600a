"""A real Celery worker delivers e-mail through a real SMTP server, retrying while the server
is down, and sends the message once."""

import os
import time

import pytest
from django.db import transaction

from cpts_portal.celery import app as celery_app
from mailing import services, tasks
from mailing.models import SentMessage
from tests.celery_worker import celery_worker
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
        created_at=message.created_at - services.timedelta(hours=1)
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

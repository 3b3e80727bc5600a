"""The inactivity beat task: warned after 24 months without login, deactivated 30 days later
unless the owner logs in; run daily, it never warns twice."""

import datetime as dt

import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.tasks import process_inactive_accounts
from tests.factories import UserFactory
from tests.smtp import text_of

START = dt.datetime(2024, 1, 10, 9, 0, tzinfo=dt.UTC)


def days(n: int) -> dt.datetime:
    return START + dt.timedelta(days=n)


def test_warned_then_deactivated_unless_the_owner_logs_in(db, client, smtp, committed, settings):
    with time_machine.travel(START, tick=False):
        idle = UserFactory(username="idle", email="idle@example.org", role="coordinator")
        back = UserFactory(username="back", email="back@example.org", role="coordinator")
        recent = UserFactory(username="recent", email="recent@example.org", role="member")
        for user in (idle, back, recent):
            user.last_login = timezone.now()
            user.save()
    with time_machine.travel(days(700), tick=False):
        recent.last_login = timezone.now()
        recent.save()

    with time_machine.travel(days(731), tick=False), committed():
        assert process_inactive_accounts.delay().get() == {"warned": 2, "deactivated": 0}
    [warning] = smtp.mailbox.wait_for("idle@example.org")
    assert warning["Subject"].strip().startswith("Votre compte sera désactivé le 9 février 2026")
    assert "depuis 24 mois" in text_of(warning)
    assert "http://127.0.0.1:8000/connexion/" in text_of(warning)

    with time_machine.travel(days(735), tick=False), committed():
        assert process_inactive_accounts() == {"warned": 0, "deactivated": 0}  # daily, idempotent
        assert (
            client.post(
                reverse("login"), {"username": "back", "password": "secret-password-1"}
            ).status_code
            == 302
        )

    with time_machine.travel(days(761), tick=False), committed():
        assert process_inactive_accounts() == {"warned": 0, "deactivated": 1}
    assert not User.objects.get(pk=idle.pk).is_active
    assert User.objects.get(pk=back.pk).is_active
    assert User.objects.get(pk=recent.pk).is_active
    assert len(smtp.mailbox.messages) == 2  # idle and back, once each
    client.logout()
    refused = client.post(reverse("login"), {"username": "idle", "password": "secret-password-1"})
    assert refused.status_code == 200  # a deactivated account cannot log in


def test_the_retention_periods_are_settings(db, settings, committed):
    settings.ACCOUNT_INACTIVITY_WARNING_DAYS = 30
    settings.ACCOUNT_INACTIVITY_GRACE_DAYS = 5
    with time_machine.travel(START, tick=False):
        user = UserFactory(username="never", email="never@example.org", role="member")
    with time_machine.travel(days(31), tick=False), committed():
        assert process_inactive_accounts() == {"warned": 1, "deactivated": 0}
    with time_machine.travel(days(37), tick=False), committed():
        assert process_inactive_accounts() == {"warned": 0, "deactivated": 1}
    user.refresh_from_db()
    assert not user.is_active

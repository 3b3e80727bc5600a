"""E-mail through a real SMTP server (aiosmtpd): once per event, text and HTML, refusals
recorded, transient failures retried."""

import pytest
from django.db import transaction

from mailing import services
from mailing.models import SentMessage
from tests.factories import UserFactory
from tests.smtp import REFUSED_DOMAIN, email_settings, html_of, smtp_server, text_of

CONTEXT = {
    "user_name": "Sophie Martin",
    "cpts_name": "CPTS Paris Un",
    "invited_by": "Marc Dubois",
    "login_url": "https://portail.example.org/connexion/",
}


def send(key="team:1", to="sophie@example.org", **kwargs) -> SentMessage | None:
    return services.message_send(
        key=key, to=to, template="team_added", context={**CONTEXT, **kwargs}
    )


def test_a_message_arrives_once_in_french_with_both_bodies_and_the_footer(
    db, smtp, settings, django_capture_on_commit_callbacks
):
    settings.PORTAL_BASE_URL = "https://portail.example.org/"
    settings.DEFAULT_FROM_EMAIL = "Portail CPTS <portail@example.org>"
    settings.REPLY_TO_EMAIL = "contact@fcpts.example.org"
    with django_capture_on_commit_callbacks(execute=True):
        message = send()
        again = send()  # the same event a second time: nothing more
    assert again is None
    [received] = smtp.mailbox.wait_for("sophie@example.org")
    assert received["Subject"].strip() == (
        "Vous faites partie de l'équipe de CPTS Paris Un — Portail de maturité des CPTS"
    )
    assert received["From"] == "Portail CPTS <portail@example.org>"
    assert received["Reply-To"] == "contact@fcpts.example.org"
    text, html = text_of(received), html_of(received)
    assert "Marc Dubois vous a ajouté·e à l'équipe de CPTS Paris Un" in text
    assert "https://portail.example.org/donnees-personnelles/" in text
    assert "&#x27;" not in text and "&amp;" not in text  # the text body is not HTML-escaped
    assert '<a href="https://portail.example.org/donnees-personnelles/"' in html
    assert "<strong>CPTS Paris Un</strong>" in html
    message.refresh_from_db()
    assert (message.status, message.attempts, message.error) == ("sent", 1, "")
    assert message.sent_at is not None
    assert SentMessage.objects.count() == 1


def test_context_is_escaped_in_html_only(db, smtp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        send(cpts_name="CPTS <b>Nord</b> & Sud")
    [received] = smtp.mailbox.wait_for("sophie@example.org")
    assert "CPTS <b>Nord</b> & Sud" in text_of(received)
    assert "CPTS &lt;b&gt;Nord&lt;/b&gt; &amp; Sud" in html_of(received)


def test_a_refused_address_is_recorded_and_never_retried(
    db, smtp, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = send(to=f"nobody@{REFUSED_DOMAIN}")
    message.refresh_from_db()
    assert message.status == SentMessage.Status.REFUSED
    assert message.attempts == 1
    assert "550" in message.error and "No such user" in message.error
    assert services.message_deliver(message_id=message.pk).attempts == 1  # not tried again
    assert smtp.mailbox.messages == []


def test_an_unreachable_server_defers_then_gives_up_after_the_maximum(db, settings):
    settings.EMAIL_MAX_ATTEMPTS = 3
    settings.EMAIL_RETRY_BACKOFF = 10
    with smtp_server(started=False) as server:
        for name, value in email_settings(server.url).items():
            setattr(settings, name, value)
        message = send()
        delays = []
        for _ in range(2):
            with pytest.raises(services.DeliveryDeferred) as deferred:
                services.message_deliver(message_id=message.pk)
            delays.append(deferred.value.retry_in)
        message.refresh_from_db()
        assert (message.status, message.attempts) == ("pending", 2)
        assert "ConnectionRefusedError" in message.error
        assert delays == [10, 20]  # exponential backoff
        services.message_deliver(message_id=message.pk)
        message.refresh_from_db()
        assert (message.status, message.attempts) == ("failed", 3)


def test_a_server_back_after_a_failure_gets_the_message_once(db, settings):
    with smtp_server(started=False) as server:
        for name, value in email_settings(server.url).items():
            setattr(settings, name, value)
        message = send()
        with pytest.raises(services.DeliveryDeferred):
            services.message_deliver(message_id=message.pk)
        server.start()
        services.message_deliver(message_id=message.pk)
        services.message_deliver(message_id=message.pk)  # delivered twice: sent once
        assert len(server.mailbox.wait_for("sophie@example.org")) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 2)


def test_no_address_no_message(db):
    assert send(to="") is None
    assert not SentMessage.objects.exists()


def test_a_rolled_back_event_sends_nothing(db, smtp, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        send()
        raise RuntimeError("the event did not happen")
    assert not SentMessage.objects.exists()
    assert smtp.mailbox.messages == []


def test_in_process_a_failure_leaves_the_message_pending_without_failing_the_caller(
    db, settings, django_capture_on_commit_callbacks
):
    """`make run` runs tasks eagerly: an unreachable server must not turn a page into a 500."""
    with smtp_server(started=False) as server:
        for name, value in email_settings(server.url).items():
            setattr(settings, name, value)
        with django_capture_on_commit_callbacks(execute=True):
            message = send()
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("pending", 1)


def test_the_admin_never_shows_a_message_body(db, client, committed):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    with committed():
        message = send(login_url="https://portail.example.org/connexion/secret-token/")
    client.force_login(admin)
    page = client.get(f"/admin/mailing/sentmessage/{message.pk}/change/").content.decode()
    assert "sophie@example.org" in page and "Envoyé" in page
    assert "secret-token" not in page

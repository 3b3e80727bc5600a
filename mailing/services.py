"""E-mail that leaves in the background, once per event.

`message_send(key=..., to=..., template=..., context=...)` renders a French message (text and
HTML, `templates/mailing/<template>.subject.txt`, `.txt`, `.html`, each extending the layout with
the portal's name and the data-protection footer), records it as a `SentMessage` under its unique
key and queues its delivery (`mailing.tasks.deliver_message`) once the transaction commits. The
same key never produces a second message: callers name the event (`"activation:12:initial"`,
`"reminder:<campaign>:<participant>:<rule>:<n>"`…).

`message_deliver` is what the task runs: it locks the row, sends through Django's mail backend
(`EMAIL_URL`), and records the outcome. A transient SMTP failure (server unreachable, 4xx) is
retried with exponential backoff up to `EMAIL_MAX_ATTEMPTS`; a permanent refusal (5xx: unknown
recipient, message rejected) is recorded as `refused` with the server's answer and never retried.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from cpts_portal.queueing import send_after_commit
from mailing.models import SentMessage

logger = logging.getLogger(__name__)

PORTAL_NAME = "Portail de maturité des CPTS"
# The data-protection notice's address is fixed by issue 15 (the page is in the `legal` app).
PRIVACY_NOTICE_PATH = "/donnees-personnelles/"
# Longest wait between two attempts, whatever the backoff says.
MAX_RETRY_DELAY = 3600


class DeliveryDeferred(Exception):
    """A transient failure: the message stays pending and is tried again in `retry_in` seconds."""

    def __init__(self, message: SentMessage):
        self.retry_in = min(
            MAX_RETRY_DELAY, settings.EMAIL_RETRY_BACKOFF * 2 ** max(0, message.attempts - 1)
        )
        super().__init__(f"{message.key}: {message.error}")


def absolute_url(path: str) -> str:
    """A link that works from a mailbox: `PORTAL_BASE_URL` followed by the path."""
    return settings.PORTAL_BASE_URL.rstrip("/") + "/" + path.lstrip("/")


def message_send(*, key: str, to: str, template: str, context: dict) -> SentMessage | None:
    """Queue one message for one event; returns None if this event already has its message
    (or there is no address to write to)."""
    to = (to or "").strip()
    if not to or SentMessage.objects.filter(key=key).exists():
        return None
    subject, text, html = _render(template, context)
    try:
        with transaction.atomic():
            message = SentMessage.objects.create(
                key=key, to=to, template=template, subject=subject, body_text=text, body_html=html
            )
    except IntegrityError:
        return None  # another process recorded the same event a moment ago
    # If the broker is down at commit, the message stays pending in the database, where
    # `messages_requeue` (beat) finds it: nothing acknowledged to the user is lost.
    send_after_commit(_deliver_message_task(), message.pk)
    return message


def _deliver_message_task():
    from mailing.tasks import deliver_message  # the task module imports this one

    return deliver_message


def _render(template: str, context: dict) -> tuple[str, str, str]:
    full = {
        **context,
        "portal_name": PORTAL_NAME,
        "portal_url": absolute_url("/"),
        "privacy_url": absolute_url(PRIVACY_NOTICE_PATH),
    }
    with translation.override("fr"):
        subject = render_to_string(f"mailing/{template}.subject.txt", full)
        text = render_to_string(f"mailing/{template}.txt", full)
        html = render_to_string(f"mailing/{template}.html", full)
    # A header holds one line.
    subject = " ".join(subject.split())[:250]
    return subject, text, html


def message_deliver(*, message_id: int) -> SentMessage | None:
    """Send a pending message once; raises DeliveryDeferred when it should be tried again."""
    with transaction.atomic():
        # The row lock makes a second delivery of the same message (task delivered twice,
        # requeued by beat meanwhile) wait, then find it sent.
        message = SentMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.status != SentMessage.Status.PENDING:
            return message
        message.attempts += 1
        message.last_attempt_at = timezone.now()
        try:
            _email(message).send()
        except (smtplib.SMTPException, OSError) as error:
            message.error = _describe(error)[:2000]
            if _is_permanent(error):
                message.status = SentMessage.Status.REFUSED
            elif message.attempts >= settings.EMAIL_MAX_ATTEMPTS:
                message.status = SentMessage.Status.FAILED
            logger.warning("Message %s attempt %s: %s", message.pk, message.attempts, error)
        else:
            message.status = SentMessage.Status.SENT
            message.sent_at = message.last_attempt_at
            message.error = ""
        message.save()
    if message.status == SentMessage.Status.PENDING:
        raise DeliveryDeferred(message)
    return message


def messages_requeue() -> int:
    """Queue again the pending messages nobody is working on (broker was down, worker died
    between two retries): created more than EMAIL_REQUEUE_AFTER seconds ago and not tried
    within the longest retry delay. Delivery is idempotent: a message queued twice goes once."""
    cutoff = timezone.now() - timedelta(seconds=settings.EMAIL_REQUEUE_AFTER)
    stale = SentMessage.objects.filter(status=SentMessage.Status.PENDING, created_at__lt=cutoff)
    stale = stale.exclude(last_attempt_at__gte=cutoff - timedelta(seconds=MAX_RETRY_DELAY))
    ids = list(stale.values_list("pk", flat=True)[:1000])
    for message_id in ids:
        _deliver_message_task().delay(message_id)
    return len(ids)


def _email(message: SentMessage) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to],
        reply_to=[settings.REPLY_TO_EMAIL] if settings.REPLY_TO_EMAIL else None,
        headers={"Auto-Submitted": "auto-generated"},
    )
    email.attach_alternative(message.body_html, "text/html")
    return email


def _smtp_codes(error: Exception) -> list[int]:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return [code for code, _ in error.recipients.values()]
    if isinstance(error, smtplib.SMTPResponseException):
        return [error.smtp_code]
    return []


def _is_permanent(error: Exception) -> bool:
    """5xx answers about the recipient or the message are final; authentication failures and
    4xx answers are the server's or the configuration's problem of the moment."""
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return False
    codes = _smtp_codes(error)
    return bool(codes) and all(500 <= code < 600 for code in codes)


def _describe(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{address}: {code} {reply.decode(errors='replace')}"
            for address, (code, reply) in error.recipients.items()
        )
    if isinstance(error, smtplib.SMTPResponseException):
        reply = error.smtp_error
        text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
        return f"{error.smtp_code} {text}"
    return f"{type(error).__name__}: {error}"

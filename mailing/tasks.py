"""Celery tasks: a few lines that take ids and call the mailing services."""

from __future__ import annotations

from celery import shared_task

from mailing import services
from mailing.models import SentMessage


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def deliver_message(self, message_id: int) -> str | None:
    """Deliver one queued message; the service bounds the attempts (EMAIL_MAX_ATTEMPTS)."""
    try:
        message = services.message_deliver(message_id=message_id)
    except services.DeliveryDeferred as deferred:
        if self.request.is_eager:
            # In-process (`make run`): no broker to wait on, and the user's request must not
            # fail; the message stays pending for `requeue_pending_messages`.
            return SentMessage.Status.PENDING
        raise self.retry(countdown=deferred.retry_in) from deferred
    return message.status if message else None


@shared_task
def requeue_pending_messages() -> int:
    """Beat: queue again pending messages whose task was lost (broker down, worker killed)."""
    return services.messages_requeue()

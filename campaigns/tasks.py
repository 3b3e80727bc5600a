from celery import shared_task

from campaigns import services


@shared_task
def follow_calendar() -> dict[str, int]:
    """Open and close campaigns on their dates (idempotent)."""
    return services.campaigns_follow_calendar()


@shared_task
def send_due_reminders() -> int:
    """Hourly: the reminders due now (idempotent: each message goes out once)."""
    return len(services.reminders_send_due())


@shared_task
def send_weekly_digests() -> int:
    """Monday morning: the digest of each subscriber (once per ISO week)."""
    return services.digests_send()

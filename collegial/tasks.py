from celery import shared_task

from collegial import services


@shared_task
def send_rating_reminders() -> int:
    """Hourly: remind raters who have not finished, before the synthesis opens (idempotent:
    one message per rater and synthesis date)."""
    return services.reminders_send_due()


@shared_task
def delete_expired_ratings() -> int:
    """Daily: delete the individual ratings past their retention (idempotent)."""
    return services.ratings_delete_expired()

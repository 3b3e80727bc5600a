"""Celery tasks: a few lines that call the people services."""

from __future__ import annotations

from celery import shared_task

from accounts import services


@shared_task
def process_inactive_accounts() -> dict[str, int]:
    """Beat, daily: warn long-unused accounts, deactivate those warned and still unused."""
    report = services.inactive_accounts_process()
    return {"warned": report.warned, "deactivated": report.deactivated}


@shared_task(acks_late=True)
def process_password_reset(request_id: int) -> bool:
    """Send what a forgotten-password request calls for (the page never looks it up)."""
    return services.password_reset_process(request_id=request_id) is not None


@shared_task(acks_late=True)
def send_activation_links(user_ids: list[int]) -> int:
    """The activation links of an import (each account's once, whatever the retries)."""
    return services.activation_links_send(user_ids=user_ids)

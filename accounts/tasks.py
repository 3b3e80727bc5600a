"""Celery tasks: a few lines that call the people services."""

from __future__ import annotations

from celery import shared_task

from accounts import services


@shared_task
def process_inactive_accounts() -> dict[str, int]:
    """Beat, daily: warn long-unused accounts, deactivate those warned and still unused."""
    report = services.inactive_accounts_process()
    return {"warned": report.warned, "deactivated": report.deactivated}

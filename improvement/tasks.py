"""Celery tasks: a few lines that call the improvement services."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from improvement.services import plan_reminders_send


@shared_task
def send_plan_reminders() -> int:
    """Beat, daily: reminders of the plans' due dates; idempotent (one message per event)."""
    return plan_reminders_send(today=timezone.localdate())

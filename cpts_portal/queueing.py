"""Queueing a Celery task once the work it follows is committed, without ever failing the request.

The state in the database is the record of what must happen (a submitted response without
scores, a pending export job); the message is only the fast path. If Redis is down when the
transaction commits, the message is lost but the state is not: the beat reconcilers
(`scoring.tasks.reconcile_scores`, `exports.tasks.reconcile_export_jobs`) find the work and do it
once Redis is back. So a failed send is logged, never raised: the user's action did succeed.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from django.db import transaction

logger = logging.getLogger(__name__)


def send_after_commit(task: Task, *args: Any) -> None:
    transaction.on_commit(lambda: _send(task, args))


def _send(task: Task, args: tuple) -> None:
    try:
        task.delay(*args)
    except Exception as error:  # kombu OperationalError, redis errors, a timeout: any of them
        logger.warning(
            "Could not queue %s%r (%s); the reconciler will do it once the broker is back.",
            task.name,
            args,
            error,
        )

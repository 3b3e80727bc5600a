"""Background exports: a job row per request, built by a Celery task, purged after retention.

The page hands exports larger than `writers.stream_max_responses()` to `export_job_start`;
`exports.tasks.build_export` calls `export_job_run`, which writes the file to storage;
the hourly beat task calls `export_jobs_purge`, and the reconciler beat task
`export_jobs_reconcile` queues again the jobs a lost message or a dead worker left.
"""

from __future__ import annotations

import io
import logging
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import BinaryIO

from celery import Task, current_app
from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import User
from cpts_portal.queueing import send_after_commit
from exports.models import MAX_ATTEMPTS, ExportJob
from exports.spec import ExportError, ExportSpec
from exports.writers import Export, Progress, export_prepare

logger = logging.getLogger(__name__)


@transaction.atomic
def export_job_start(*, export: Export, user: User) -> ExportJob:
    """Record a background export for `user` and queue it once committed.

    `export` is the request the page has just checked (`export_prepare`); the worker checks it
    again from the job's parameters when it runs, in its own process (`export_job_run`). If
    Redis is down, `export_jobs_reconcile` queues it once Redis is back."""
    from exports.tasks import build_export

    job = ExportJob.objects.create(
        requested_by=user, parameters=export.spec.to_json(), filename=export.filename
    )
    send_after_commit(build_export, job.pk)
    return job


def export_job_run(*, job: ExportJob) -> ExportJob:
    """Build a cohort export's file (see `job_build`)."""

    def write(handle: BinaryIO, progress: Progress) -> None:
        spec = ExportSpec.from_json(job.parameters)
        export = export_prepare(spec=spec, user=job.requested_by)
        job.total = export.count()
        job.save(update_fields=["total"])
        text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
        for chunk in export.lines(progress):
            text.write(chunk)
        text.flush()
        text.detach()

    return job_build(job=job, write=write)


JobWriter = Callable[[BinaryIO, Progress], None]


def job_build(*, job: ExportJob, write: JobWriter) -> ExportJob:
    """Run a background job's `write(handle, progress)` into a temporary file (memory stays
    flat), then move the file to storage. `write` sets `job.total`; `progress(done)` records
    how far it got. A failure is recorded, not raised (a user-facing ExportError keeps its
    message, anything else a generic one). Cohort exports and report bundles share it.

    Only a job that is pending, or running without progress for EXPORTS_JOB_STALE_AFTER (its
    worker died), is started: a message delivered twice, or redelivered after a worker was
    killed while another one took the job over, does nothing."""
    now = timezone.now()
    # One UPDATE claims the job, so two workers never both start it.
    claimed = (
        ExportJob.objects.filter(pk=job.pk)
        .filter(
            Q(status=ExportJob.Status.PENDING)
            | Q(status=ExportJob.Status.RUNNING, touched_at__lt=now - _stale_after())
        )
        .update(status=ExportJob.Status.RUNNING, done=0, touched_at=now, attempts=F("attempts") + 1)
    )
    job.refresh_from_db()
    if not claimed:
        return job

    def progress(done: int) -> None:
        job.done = done
        job.touched_at = timezone.now()
        job.save(update_fields=["done", "touched_at"])

    try:
        with tempfile.TemporaryFile("w+b") as handle:
            write(handle, progress)
            handle.seek(0)
            job.file.save(job.filename, File(handle), save=False)
    except ExportError as error:
        return _job_failed(job, str(error))
    except Exception:
        logger.exception("Export job %s failed", job.pk)
        return _job_failed(
            job, "Le fichier n'a pas pu être préparé. Réessayez, ou signalez-le à l'équipe FCPTS."
        )
    job.status = ExportJob.Status.DONE
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "file", "finished_at"])
    return job


def _stale_after() -> timedelta:
    return timedelta(seconds=settings.EXPORTS_JOB_STALE_AFTER)


INTERRUPTED = (
    "L'export a été interrompu {attempts} fois (arrêt du serveur de calcul) : il n'est plus "
    "relancé automatiquement. Relancez-le depuis la page des exports."
)


def export_jobs_reconcile(*, now: datetime | None = None) -> dict[str, int]:
    """Repair the jobs a lost message or a dead worker left behind (idempotent, run by beat).

    A job pending for EXPORTS_JOB_PENDING_GRACE is queued again; a running job without
    progress for EXPORTS_JOB_STALE_AFTER is queued again (its next run claims it) while it has
    attempts left, else it fails with a message its requester sees on the job's page.
    """
    from exports.tasks import build_export

    now = now or timezone.now()
    counts = {"requeued": 0, "failed": 0}
    pending_grace = timedelta(seconds=settings.EXPORTS_JOB_PENDING_GRACE)
    lost = ExportJob.objects.filter(
        Q(status=ExportJob.Status.PENDING, touched_at__lt=now - pending_grace)
        | Q(status=ExportJob.Status.RUNNING, touched_at__lt=now - _stale_after())
    )
    for job in lost:
        if job.status == ExportJob.Status.RUNNING and job.attempts >= MAX_ATTEMPTS:
            _job_failed(job, INTERRUPTED.format(attempts=job.attempts))
            counts["failed"] += 1
            continue
        if job.status == ExportJob.Status.PENDING:
            # Not queued again before another grace period, however long the queue is.
            job.touched_at = now
            job.save(update_fields=["touched_at"])
        _builder(job, default=build_export).delay(job.pk)
        counts["requeued"] += 1
    if any(counts.values()):
        logger.info("Export jobs reconciled: %s", counts)
    return counts


def _builder(job: ExportJob, *, default: Task) -> Task:
    """The task that builds this job: a job of another app (a bundle of reports) names its
    own in `parameters["task"]`, so that exports needs to know nothing of that app."""
    name = job.parameters.get("task")
    return current_app.tasks[name] if name else default


def _job_failed(job: ExportJob, message: str) -> ExportJob:
    job.status = ExportJob.Status.FAILED
    job.error = message
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "finished_at"])
    return job


def export_jobs_purge(*, now: datetime | None = None) -> int:
    """Delete expired export jobs and their files; returns how many were deleted."""
    expired = ExportJob.objects.filter(expires_at__lte=now or timezone.now())
    count = 0
    for job in expired.iterator():
        if job.file:
            job.file.delete(save=False)
        job.delete()
        count += 1
    return count

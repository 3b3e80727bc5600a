"""Background exports: a job row per request, built by a Celery task, purged after retention.

The page hands exports larger than `writers.stream_max_responses()` to `export_job_start`;
`exports.tasks.build_export` calls `export_job_run`, which writes the file to storage;
the hourly beat task calls `export_jobs_purge`.
"""

from __future__ import annotations

import io
import logging
import tempfile
from datetime import datetime

from django.core.files import File
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from exports.models import ExportJob
from exports.spec import ExportError, ExportSpec
from exports.writers import Export, export_prepare

logger = logging.getLogger(__name__)


@transaction.atomic
def export_job_start(*, export: Export, user: User) -> ExportJob:
    """Record a background export for `user` and queue it once committed.

    `export` is the request the page has just checked (`export_prepare`); the worker checks it
    again from the job's parameters when it runs, in its own process (`export_job_run`)."""
    from exports.tasks import build_export

    job = ExportJob.objects.create(
        requested_by=user, parameters=export.spec.to_json(), filename=export.filename
    )
    transaction.on_commit(lambda: build_export.delay(job.pk))
    return job


def export_job_run(*, job: ExportJob) -> ExportJob:
    """Build the job's file, reporting progress on the job row; a failure is recorded, not
    raised (a user-facing ExportError keeps its message, anything else a generic one).

    A job already built is left alone: a task delivered twice does not rebuild the file."""
    if job.status == ExportJob.Status.DONE:
        return job
    job.status = ExportJob.Status.RUNNING
    job.done = 0
    job.save(update_fields=["status", "done"])
    try:
        spec = ExportSpec.from_json(job.parameters)
        export = export_prepare(spec=spec, user=job.requested_by)
        job.total = export.count()
        job.save(update_fields=["total"])

        def progress(done: int) -> None:
            job.done = done
            job.save(update_fields=["done"])

        # Written to a temporary file first, then moved to storage: memory stays flat.
        with tempfile.TemporaryFile("w+b") as handle:
            text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
            for chunk in export.lines(progress):
                text.write(chunk)
            text.flush()
            handle.seek(0)
            job.file.save(job.filename, File(handle), save=False)
            text.detach()
    except ExportError as error:
        return _job_failed(job, str(error))
    except Exception:
        logger.exception("Export job %s failed", job.pk)
        return _job_failed(job, "L'export a échoué. Réessayez, ou signalez-le à l'équipe FCPTS.")
    job.status = ExportJob.Status.DONE
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "file", "finished_at"])
    return job


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

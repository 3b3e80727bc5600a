"""Celery tasks: thin wrappers that take ids and call the export jobs."""

from __future__ import annotations

import logging

from celery import shared_task

from exports import jobs
from exports.models import ExportJob

logger = logging.getLogger(__name__)


@shared_task
def build_export(job_id: int) -> str:
    """Build a background export's file; progress and failures are recorded on the job."""
    job = ExportJob.objects.select_related("requested_by").filter(pk=job_id).first()
    if job is None:
        logger.warning("build_export: export job %s does not exist", job_id)
        return "missing"
    return jobs.export_job_run(job=job).status


@shared_task
def purge_expired_exports() -> int:
    """Delete export files past their retention (run by Celery beat)."""
    return jobs.export_jobs_purge()


@shared_task
def reconcile_export_jobs() -> dict[str, int]:
    """Beat, every RECONCILE_INTERVAL: queue again the jobs a lost message or a dead worker left."""
    return jobs.export_jobs_reconcile()

"""Celery tasks: thin wrappers that take ids and call the report services."""

from __future__ import annotations

import logging

from celery import shared_task

from exports.models import ExportJob
from reports import services
from reports.models import Report

logger = logging.getLogger(__name__)


@shared_task
def render_report(report_id: int) -> str:
    """Render a pending report to PDF (a failure is recorded on the report)."""
    report = Report.objects.filter(pk=report_id).first()
    if report is None:  # replaced by a newer rendering meanwhile
        logger.info("render_report: report %s no longer exists", report_id)
        return "missing"
    return services.report_render(report=report).status


@shared_task
def build_bundle(job_id: int) -> str:
    """Build a bundle's ZIP; progress and failures are recorded on the job."""
    job = ExportJob.objects.select_related("requested_by").filter(pk=job_id).first()
    if job is None:
        logger.warning("build_bundle: job %s does not exist", job_id)
        return "missing"
    return services.bundle_run(job=job).status

"""Writes for the reports: render a report once per set of inputs, and build bundles.

A report is requested with `report_request`: its HTML is rendered from the current data (a
few queries, milliseconds) and its fingerprint looked up; an unchanged report is served from
the stored PDF without rendering. Otherwise a `Report` row keeps the HTML and the Celery task
`reports.tasks.render_report` renders it (eagerly, in the request, under `make run`). Bundles
render what is missing in the worker that builds them, through the same `_report_for`.
"""

from __future__ import annotations

import logging
import shutil
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from typing import BinaryIO

from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.text import slugify

from accounts.models import User
from cpts_portal.queueing import send_after_commit
from exports.jobs import job_build
from exports.models import ExportJob
from exports.spec import ExportError
from exports.writers import Progress
from questionnaire.models import Campaign, Response
from reports import charts, pdf, selectors
from reports.models import BUNDLE_KIND, Report
from scoring.models import ScoringGrid
from territories.models import Cpts, Department, Region

logger = logging.getLogger(__name__)

TEMPLATE = "reports/report.html"
# A render still pending after this long is queued again (its worker or message was lost).
STALE_AFTER = timedelta(minutes=5)
RENDER_FAILED = (
    "Le rapport n'a pas pu être préparé. Réessayez dans un moment, ou signalez-le à l'équipe FCPTS."
)


def report_html(data: selectors.ReportData) -> str:
    """The report as HTML for WeasyPrint, in French whatever the caller (request or worker)."""
    with translation.override("fr"):
        results = data.results
        return render_to_string(
            TEMPLATE,
            {
                "data": data,
                "response": data.response,
                "cpts": data.response.cpts,
                "grid": data.grid,
                "results": results,
                "score": results.score,
                "peers": results.peers,
                "stylesheet": pdf.STYLESHEET,
                "charts": {
                    "matrix": charts.matrix_svg(results.matrix, results.constraints),
                    "radar": charts.radar_svg(
                        results.subdimensions, with_median=results.peers.shown
                    ),
                    "evolution": (
                        charts.evolution_svg(data.evolution_points)
                        if len(data.evolution) > 1
                        else None
                    ),
                },
            },
        )


@dataclass(frozen=True)
class _Prepared:
    report: Report
    needs_render: bool


@transaction.atomic
def _report_for(
    *, user: User, response: Response, grid: ScoringGrid, retry: bool = True
) -> _Prepared | None:
    """The report row for the response's current data, and whether it still has to be
    rendered; None when the response has no scores to report. A failed rendering is tried
    again only when `retry` (the user asked for it)."""
    data = selectors.report_data(user=user, response=response, grid=grid)
    if data is None:
        return None
    html = report_html(data)
    key = pdf.fingerprint(html)
    report, created = Report.objects.select_for_update().get_or_create(
        key=key, defaults={"response": response, "grid": grid, "html": html}
    )
    if created:
        return _Prepared(report, needs_render=True)
    lost = report.status == Report.Status.DONE and not (
        report.file and report.file.storage.exists(report.file.name)
    )
    stale = (
        report.status == Report.Status.PENDING
        and report.requested_at < timezone.now() - STALE_AFTER
    )
    if lost or stale or (retry and report.status == Report.Status.FAILED):
        report.status = Report.Status.PENDING
        report.html = html
        report.error = ""
        report.requested_at = timezone.now()
        report.save(update_fields=["status", "html", "error", "requested_at"])
        return _Prepared(report, needs_render=True)
    return _Prepared(report, needs_render=False)


def report_request(
    *, user: User, response: Response, grid: ScoringGrid, retry: bool = False
) -> Report | None:
    """The response's report: served from storage when its inputs are unchanged, otherwise
    queued for rendering (rendered before this returns when Celery is eager). A rendering
    that failed stays failed, and says so, until `retry`."""
    from reports.tasks import render_report

    prepared = _report_for(user=user, response=response, grid=grid, retry=retry)
    if prepared is None:
        return None
    if prepared.needs_render:
        # A broker that is down leaves the report pending: a request after STALE_AFTER
        # queues it again, and this one does not fail.
        send_after_commit(render_report, prepared.report.pk)
    prepared.report.refresh_from_db()
    return prepared.report


def report_render(*, report: Report) -> Report:
    """Render a pending report's HTML to PDF and store it; older renderings of the same
    response are deleted. A report already rendered (a task delivered twice) is left alone."""
    if report.status == Report.Status.DONE:
        return report
    try:
        rendered = pdf.render(report.html)
    except Exception:
        logger.exception("Report %s failed to render", report.pk)
        report.status = Report.Status.FAILED
        report.error = RENDER_FAILED
        report.save(update_fields=["status", "error"])
        return report
    with transaction.atomic():
        current = Report.objects.select_for_update().filter(pk=report.pk).first()
        if current is None or current.status == Report.Status.DONE:
            return current or report
        current.file.save(f"rapport-{current.key[:20]}.pdf", ContentFile(rendered.pdf), save=False)
        current.pages = rendered.pages
        current.status = Report.Status.DONE
        current.rendered_at = timezone.now()
        current.html = ""
        current.save(update_fields=["file", "pages", "status", "rendered_at", "html"])
        for old in selectors.previous_reports(current):
            if old.file:
                old.file.delete(save=False)
            old.delete()
    return current


def report_filename(response: Response) -> str:
    return f"rapport-{slugify(response.cpts.code)}-{response.campaign.slug}.pdf"


# --- Bundles -----------------------------------------------------------------------------


@dataclass(frozen=True)
class BundleScope:
    """What a bundle holds: one campaign's submitted responses in the requester's scope,
    narrowed by these optional filters (the dashboards' query-string names)."""

    campaign: Campaign
    region: Region | None = None
    department: Department | None = None
    stage: str = ""

    def responses(self, user: User):
        return selectors.bundle_responses(
            user=user,
            campaign=self.campaign,
            region=self.region,
            department=self.department,
            stage=self.stage,
        )

    def to_json(self) -> dict:
        return {
            "kind": BUNDLE_KIND,
            # exports' reconciler queues a lost bundle again with this task.
            "task": "reports.tasks.build_bundle",
            "campaign": self.campaign.slug,
            "region": self.region.code if self.region else "",
            "department": self.department.code if self.department else "",
            "stage": self.stage,
        }

    @classmethod
    def from_json(cls, parameters: dict) -> BundleScope:
        campaign = Campaign.objects.filter(slug=parameters.get("campaign")).first()
        if campaign is None:
            raise ExportError("Campagne inconnue : le fichier ne peut pas être préparé.")
        return cls(
            campaign=campaign,
            region=Region.objects.filter(code=parameters.get("region") or None).first(),
            department=Department.objects.filter(code=parameters.get("department") or None).first(),
            stage=parameters.get("stage", ""),
        )

    @property
    def filename(self) -> str:
        parts = ["rapports", self.campaign.slug]
        if self.region:
            parts.append(f"region-{self.region.code}")
        if self.department:
            parts.append(f"departement-{self.department.code}")
        if self.stage:
            parts.append(self.stage)
        return "-".join(parts) + ".zip"


@transaction.atomic
def bundle_start(*, scope: BundleScope, user: User) -> ExportJob:
    """Record a bundle of reports for `user` and queue it once committed."""
    from reports.tasks import build_bundle

    job = ExportJob.objects.create(
        requested_by=user,
        parameters=scope.to_json(),
        filename=scope.filename,
        total=scope.responses(user).count(),
    )
    send_after_commit(build_bundle, job.pk)  # a lost message: exports' reconciler re-queues
    return job


def bundle_run(*, job: ExportJob) -> ExportJob:
    """Build the ZIP of a bundle job: one PDF per response, rendered here when not cached."""

    def write(handle: BinaryIO, progress: Progress) -> None:
        scope = BundleScope.from_json(job.parameters)
        responses = list(scope.responses(job.requested_by))
        job.total = len(responses)
        job.save(update_fields=["total"])
        write_bundle(handle, responses=responses, user=job.requested_by, progress=progress)

    return job_build(job=job, write=write)


def write_bundle(
    handle: BinaryIO, *, responses: list[Response], user: User, progress: Progress | None = None
) -> list[str]:
    """Write a ZIP of these responses' reports (PDFs are compressed already: stored as is)
    with a summary listing them; returns the names of the PDFs written."""
    written: list[str] = []
    names: set[str] = set()
    missing: list[tuple[Cpts, str]] = []
    grids: dict[int, ScoringGrid | None] = {}
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as archive:
        for done, response in enumerate(responses, start=1):
            questionnaire_id = response.campaign.questionnaire_id
            if questionnaire_id not in grids:
                grids[questionnaire_id] = selectors.report_grid(response)
            report = _rendered(user=user, response=response, grid=grids[questionnaire_id])
            if report is None:
                missing.append((response.cpts, "pas encore de score"))
            elif report.status != Report.Status.DONE:
                missing.append((response.cpts, "la mise en page a échoué"))
            else:
                name = f"{slugify(response.cpts.code)}_{slugify(response.cpts.name)[:80]}"
                if name in names:  # the same CPTS twice: responses to several campaigns
                    name += f"_{response.campaign.slug}"
                names.add(name)
                name += ".pdf"
                with report.file.open("rb") as source, archive.open(name, "w") as target:
                    shutil.copyfileobj(source, target)
                written.append(name)
            if progress is not None:
                progress(done)
        archive.writestr("sommaire.txt", _summary(written, missing))
    return written


def _rendered(*, user: User, response: Response, grid: ScoringGrid | None) -> Report | None:
    """The response's report, rendered here if it is not cached; None without scores."""
    if grid is None:
        return None
    prepared = _report_for(user=user, response=response, grid=grid)
    if prepared is None:
        return None
    report = prepared.report
    # In a worker already: render here what is not rendered yet, even if a request queued it.
    return report if report.status == Report.Status.DONE else report_render(report=report)


def _summary(written: list[str], missing: list[tuple[Cpts, str]]) -> str:
    lines = [f"Rapports de maturité : {len(written)} fichier(s).", ""]
    lines += written
    if missing:
        lines += ["", "Réponses soumises sans rapport dans ce fichier :"]
        lines += [f"{cpts.code} {cpts.name} : {reason}" for cpts, reason in missing]
    return "\r\n".join(lines) + "\r\n"

import mimetypes

from django.contrib import messages
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.access import gate
from accounts.scoping import can_export
from exports import jobs, selectors, writers
from exports.forms import ExportForm
from exports.models import ExportJob
from exports.spec import ExportError


@gate(can_export)
@require_http_methods(["GET", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    form = ExportForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        spec = form.spec()
        try:
            export = writers.export_prepare(spec=spec, user=request.user)
            if export.count() <= writers.stream_max_responses():
                return _stream(export)
            job = jobs.export_job_start(export=export, user=request.user)
        except ExportError as error:
            form.add_error(None, str(error))
        else:
            messages.info(request, _("Export volumineux : il est préparé en arrière-plan."))
            return redirect("exports:job", pk=job.pk)
    recent_jobs = selectors.export_jobs_of(request.user)[:20]
    return render(request, "exports/index.html", {"form": form, "jobs": recent_jobs})


def _stream(export: writers.Export) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        (chunk.encode("utf-8") for chunk in export.lines()),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = content_disposition_header(True, export.filename)
    return response


@gate(can_export)
@require_GET
def job(request: HttpRequest, pk: int) -> HttpResponse:
    export_job = selectors.get_export_job_for_user(request.user, pk)
    return render(request, "exports/job.html", {"job": export_job})


@gate(can_export)
@require_GET
def job_status(request: HttpRequest, pk: int) -> JsonResponse:
    export_job = selectors.get_export_job_for_user(request.user, pk)
    done = export_job.status == ExportJob.Status.DONE
    return JsonResponse(
        {
            "status": export_job.status,
            "status_label": export_job.get_status_display(),
            "done": export_job.done,
            "total": export_job.total,
            "percent": export_job.percent,
            "error": export_job.error,
            "download_url": reverse("exports:job_download", args=[pk]) if done else None,
        }
    )


@gate(can_export)
@require_GET
def job_download(request: HttpRequest, pk: int) -> FileResponse:
    export_job = selectors.get_export_job_for_user(request.user, pk)
    if export_job.status != ExportJob.Status.DONE or not export_job.file:
        raise Http404
    try:
        handle = export_job.file.open("rb")
    except FileNotFoundError as missing:
        raise Http404 from missing
    # A cohort CSV (UTF-8), or a ZIP of reports (reports.services.bundle_start).
    content_type = mimetypes.guess_type(export_job.filename)[0] or "application/octet-stream"
    if content_type.startswith("text/"):
        content_type += "; charset=utf-8"
    return FileResponse(
        handle, as_attachment=True, filename=export_job.filename, content_type=content_type
    )

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.access import gate
from accounts.scoping import can_export, get_response_for_user
from reports import selectors, services
from reports.forms import BundleForm
from reports.models import Report

# While a worker renders, the waiting page reloads itself every few seconds.
REFRESH_SECONDS = 3


@gate()
@require_GET
def report_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The response's maturity report, for anyone who may see its results page."""
    response = get_response_for_user(request.user, pk)
    grid = selectors.report_grid(response)
    report = (
        services.report_request(
            user=request.user, response=response, grid=grid, retry="reessayer" in request.GET
        )
        if grid is not None
        else None
    )
    context = {"response": response, "grid": grid, "report": report}
    if report is None:
        return render(request, "reports/unavailable.html", context, status=404)
    if report.status == Report.Status.DONE:
        try:
            handle = report.file.open("rb")
        except FileNotFoundError as missing:
            raise Http404 from missing
        # Inline: the waiting page, when there was one, is replaced by the document itself.
        return FileResponse(
            handle,
            filename=services.report_filename(response),
            content_type="application/pdf",
        )
    context["refresh_seconds"] = REFRESH_SECONDS
    status = 202 if report.status == Report.Status.PENDING else 200
    return render(request, "reports/preparing.html", context, status=status)


@gate(can_export)
@require_http_methods(["GET", "POST"])
def bundle(request: HttpRequest) -> HttpResponse:
    """A ZIP of the reports of every CPTS in scope with a submitted response to a campaign."""
    form = BundleForm(request.GET, user=request.user)
    if not form.is_valid():
        if form.out_of_scope():
            raise Http404
        return render(request, "reports/bundle.html", {"form": form}, status=400)
    campaign = form.cleaned_data["campagne"] or form.fields["campagne"].queryset.first()
    if campaign is None:
        return render(request, "reports/bundle.html", {"form": form, "scope": None})
    scope = services.BundleScope(
        campaign=campaign,
        region=form.cleaned_data["region"],
        department=form.cleaned_data["departement"],
        stage=form.cleaned_data["stade"],
    )
    count = scope.responses(request.user).count()
    if request.method == "POST" and count:
        job = services.bundle_start(scope=scope, user=request.user)
        messages.info(request, _("Le fichier ZIP des rapports est préparé en arrière-plan."))
        return redirect("exports:job", pk=job.pk)
    return render(
        request,
        "reports/bundle.html",
        {
            "form": form,
            "scope": scope,
            "count": count,
            "jobs": selectors.bundle_jobs_of(request.user)[:10],
        },
    )

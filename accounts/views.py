from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from accounts.models import User
from accounts.scoping import can_view_dashboards, cpts_visible_to, responses_visible_to
from questionnaire.models import Campaign


@login_required
def home(request: HttpRequest) -> HttpResponse:
    if request.user.role == User.Role.COORDINATOR:
        return redirect("questionnaire:my_cpts")
    if can_view_dashboards(request.user):
        return redirect("dashboards:overview")
    cpts = cpts_visible_to(request.user)
    campaign = Campaign.objects.order_by("-year").first()
    responses = (
        responses_visible_to(request.user).filter(campaign=campaign).order_by("cpts__name")
        if campaign
        else []
    )
    return render(
        request,
        "accounts/home.html",
        {"cpts_count": cpts.count(), "campaign": campaign, "responses": responses},
    )


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Liveness probe for the container health check: the app answers and the DB responds."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from accounts.access import gate
from accounts.scoping import can_fill_questionnaires, can_view_dashboards


@gate()
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Each role lands on its own page; an account without a role is told how to get one."""
    if can_fill_questionnaires(request.user):
        return redirect("questionnaire:my_cpts")
    if can_view_dashboards(request.user):
        return redirect("dashboards:overview")
    return render(request, "accounts/home.html")


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Liveness probe for the container health check: the app answers and the DB responds."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})

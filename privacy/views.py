"""The site's notices (personal data, accessibility; public) and "Télécharger mes données"."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.access import gate
from exports.models import RETENTION as EXPORT_RETENTION
from privacy import selectors
from scoring.selectors import SMALL_CELL_MINIMUM


@require_GET
def notice(request: HttpRequest) -> HttpResponse:
    """/donnees-personnelles/: the information notice (GDPR art. 13), public."""
    return render(
        request,
        "privacy/notice.html",
        {
            "contact_email": settings.PORTAL_CONTACT_EMAIL,
            "small_cell_minimum": SMALL_CELL_MINIMUM,
            "export_retention_days": EXPORT_RETENTION.days,
            "rating_retention_days": settings.COLLEGIAL_RATING_RETENTION_DAYS,
        },
    )


@require_GET
def accessibility(request: HttpRequest) -> HttpResponse:
    """/accessibilite/: the accessibility statement in the RGAA form, public."""
    return render(
        request, "privacy/accessibility.html", {"contact_email": settings.PORTAL_CONTACT_EMAIL}
    )


@gate()
@require_GET
@never_cache
def account_data(request: HttpRequest) -> JsonResponse:
    """ "Télécharger mes données": everything about the user, as one JSON file."""
    response = JsonResponse(
        selectors.personal_data(request.user),
        encoder=DjangoJSONEncoder,
        json_dumps_params={"ensure_ascii": False, "indent": 2},
    )
    response["Content-Disposition"] = 'attachment; filename="mes-donnees-portail-cpts.json"'
    return response

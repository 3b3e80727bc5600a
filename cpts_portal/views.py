"""The site's public notices: personal data (GDPR art. 13) and accessibility (RGAA statement).

They sit above the apps (like the urls) because they describe all of them; no login needed.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from exports.models import RETENTION as EXPORT_RETENTION
from scoring.selectors import PEER_MINIMUM


@require_GET
def privacy_notice(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "pages/privacy_notice.html",
        {
            "contact_email": settings.PORTAL_CONTACT_EMAIL,
            "small_cell_minimum": PEER_MINIMUM,
            "export_retention_days": EXPORT_RETENTION.days,
        },
    )


@require_GET
def accessibility(request: HttpRequest) -> HttpResponse:
    return render(
        request, "pages/accessibility.html", {"contact_email": settings.PORTAL_CONTACT_EMAIL}
    )

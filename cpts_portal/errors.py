"""French answers for refused requests, as JSON for the autosave client and HTML elsewhere.

Django answers a body over DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields or a malformed request
with its handler400, and a refused CSRF token with CSRF_FAILURE_VIEW; both come here, so every
refusal says in French what happened and that nothing was saved.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import (
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string


def wants_json(request: HttpRequest) -> bool:
    """The autosave client asks for JSON; a browser navigating asks for HTML."""
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def refusal_message(exception: Exception | None) -> str:
    if isinstance(exception, RequestDataTooBig):
        limit = filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        return (
            f"Les données envoyées sont trop volumineuses (au plus {limit}) : "
            "rien n'a été enregistré."
        )
    if isinstance(exception, TooManyFieldsSent | TooManyFilesSent):
        return "Le formulaire envoyé contient trop de champs : rien n'a été enregistré."
    return "La requête n'a pas pu être lue : rien n'a été enregistré."


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    message = refusal_message(exception)
    if wants_json(request):
        return JsonResponse({"status": "invalid", "error": message}, status=400)
    # Rendered without the request: the request's data is what could not be read.
    return HttpResponse(render_to_string("400.html", {"message": message}), status=400)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if wants_json(request):
        return JsonResponse(
            {
                "status": "csrf",
                "error": (
                    "Votre session a changé (reconnexion dans un autre onglet, ou session "
                    "expirée) : cet envoi a été refusé et rien n'a été enregistré."
                ),
            },
            status=403,
        )
    return HttpResponse(render_to_string("403_csrf.html", request=request), status=403)

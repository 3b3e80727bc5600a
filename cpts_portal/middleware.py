"""Site-wide response rules."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control


class PrivateCacheMiddleware:
    """Nothing the application answers is stored by a browser or a shared cache.

    Pages, chart CSVs and export files are per user and often confidential; a proxy or a shared
    computer's browser cache must never keep them. Static files are served before this
    middleware (WhiteNoise) and keep their own long-lived headers; a view that sets its own
    Cache-Control keeps it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response

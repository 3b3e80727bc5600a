"""Brute-force protection (django-axes) with two limits instead of one.

Axes locks a username from one address after AXES_FAILURE_LIMIT failures. On its own, that lets
one address try a few passwords on every username (password spraying). This handler also locks
an address once its failures across all usernames reach AXES_ADDRESS_FAILURE_LIMIT within the
cool-off period. Axes compares a single failure count with a single limit, so an address over its
own limit reports at least that limit.

The address is the client's, behind the trusted proxies (cpts_portal.network.client_address).
"""

from __future__ import annotations

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest


class PortalAxesHandler(AxesDatabaseHandler):
    def get_failures(self, request: HttpRequest, credentials: dict | None = None) -> int:
        failures = super().get_failures(request, credentials)
        if address_failures(request) >= settings.AXES_ADDRESS_FAILURE_LIMIT:
            return max(failures, get_failure_limit(request, credentials))
        return failures


def address_failures(request: HttpRequest) -> int:
    """Failed logins from the request's address, whatever the username, within the cool-off."""
    attempts = AccessAttempt.objects.filter(
        ip_address=request.axes_ip_address,
        attempt_time__gte=get_cool_off_threshold(request),
    )
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0

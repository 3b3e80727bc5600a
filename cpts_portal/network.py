"""The client's address behind the trusted reverse proxies.

`DJANGO_PROXY_COUNT` (setting PROXY_COUNT) says how many proxies stand in front of the app. Each
appends the address it received the connection from to `X-Forwarded-For`, so the client is the
PROXY_COUNT-th entry from the right: entries further left were written by the client itself and
prove nothing. With no proxy (0), or a header shorter than the proxy chain (a request that did not
come through it), the address is the connection's own, REMOTE_ADDR.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    remote = request.META.get("REMOTE_ADDR", "")
    hops = settings.PROXY_COUNT
    if hops <= 0:
        return remote
    forwarded = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [entry for entry in forwarded if entry]
    if len(forwarded) < hops:
        return remote
    candidate = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote

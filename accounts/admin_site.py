"""Django's admin behind the portal's own sign-in: password (axes), then the second factor."""

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from accounts.access import second_factor_redirect


class PortalAdminSite(admin.AdminSite):
    site_header = "Administration du portail CPTS"
    site_title = "Portail CPTS"

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and second_factor_redirect(request) is None

    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        """One way in: the portal's login page, then its second-factor step."""
        next_url = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        if not request.user.is_authenticated:
            return redirect_to_login(next_url)
        if pending := second_factor_redirect(request):
            return pending
        return super().login(request, extra_context)

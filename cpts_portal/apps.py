from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    """Django's admin on the portal's site, which asks for the second factor."""

    default_site = "accounts.admin_site.PortalAdminSite"

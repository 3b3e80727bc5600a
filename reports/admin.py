from django.contrib import admin

from reports.models import Report


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ["response", "grid", "status", "pages", "requested_at", "rendered_at"]
    list_filter = ["status"]
    # Renderings are made by the portal, never edited by hand.
    readonly_fields = [f.name for f in Report._meta.fields if f.name != "html"]
    exclude = ["html"]

    def has_add_permission(self, request) -> bool:
        return False

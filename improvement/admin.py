from django.contrib import admin

from improvement.models import RecommendationLibrary

# Plans are deliberately not in the admin: the federation's staff are the admin's users, and
# the federation never reads a CPTS's plan (README, "Action plan").


@admin.register(RecommendationLibrary)
class RecommendationLibraryAdmin(admin.ModelAdmin):
    list_display = ("code", "grid", "title", "loaded_at")
    readonly_fields = ("code", "grid", "title", "checksum", "definition", "loaded_at")

    def has_add_permission(self, request) -> bool:
        return False  # loaded from files by `load_recommendations`, never typed in

    def has_change_permission(self, request, obj=None) -> bool:
        return False

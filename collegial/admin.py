from django.contrib import admin

from collegial.models import CollegialAssessment


@admin.register(CollegialAssessment)
class CollegialAssessmentAdmin(admin.ModelAdmin):
    """The mode and its dates only: individual ratings are never shown outside the CPTS's team,
    so neither `Rating` nor `RatingAnswer` is in the admin."""

    list_display = ("response", "synthesis_opens_on", "created_at", "ratings_deleted_at")
    readonly_fields = [field.name for field in CollegialAssessment._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

from django.contrib import admin

from cpts_portal.admin import HistoryAdmin
from questionnaire.models import Answer, Campaign, Question, QuestionnaireVersion, Response


@admin.register(QuestionnaireVersion)
class QuestionnaireVersionAdmin(admin.ModelAdmin):
    list_display = ("code", "title", "loaded_at")
    readonly_fields = ("code", "title", "source", "checksum", "definition", "loaded_at")


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    # Questions come from versioned files through `load_questionnaire`; never edited here.
    list_display = ("number", "variable", "version", "subdimension", "type")
    list_filter = ("version", "type")

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "year", "questionnaire", "status", "opens_on", "closes_on")
    prepopulated_fields = {"slug": ("name",)}


class ReadOnlyAdmin(HistoryAdmin):
    """Shown, never changed here: answers and statuses change only through the services, which
    apply the questionnaire's rules (an answer the rules refuse would break every page that
    reads it), keep revisions and history, and queue scoring. Reverting history is disabled
    (SIMPLE_HISTORY_REVERT_DISABLED)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Response)
class ResponseAdmin(ReadOnlyAdmin):
    list_display = ("cpts", "campaign", "status", "submitted_at", "submitted_by_function")
    # The share of employees and board members among those who submitted (issue 15).
    list_filter = ("campaign", "status", "submitted_by_function")
    search_fields = ("cpts__name", "cpts__code")


@admin.register(Answer)
class AnswerAdmin(ReadOnlyAdmin):
    list_display = ("response", "question", "revision", "updated_at", "updated_by")
    list_filter = ("response__campaign",)

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from campaigns.models import Participant, ParticipantContact


class ContactInline(admin.TabularInline):
    model = ParticipantContact
    extra = 0


@admin.register(Participant)
class ParticipantAdmin(SimpleHistoryAdmin):
    list_display = ("cpts", "campaign", "invited_at", "excluded_reason")
    list_filter = ("campaign",)
    search_fields = ("cpts__name", "cpts__code")
    inlines = [ContactInline]

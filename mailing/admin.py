from django.contrib import admin

from mailing.models import SentMessage


@admin.register(SentMessage)
class SentMessageAdmin(admin.ModelAdmin):
    list_display = ("created_at", "template", "to", "status", "attempts", "sent_at")
    list_filter = ("status", "template")
    search_fields = ("to", "key")
    readonly_fields = [field.name for field in SentMessage._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

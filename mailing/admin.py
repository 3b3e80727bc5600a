from django.contrib import admin

from mailing.models import SentMessage


@admin.register(SentMessage)
class SentMessageAdmin(admin.ModelAdmin):
    list_display = ("created_at", "template", "to", "status", "attempts", "sent_at")
    list_filter = ("status", "template")
    search_fields = ("to", "key")
    # The bodies hold live activation and password-reset links: staff see what was sent to
    # whom and how it went, never a link that would open someone else's account.
    fields = readonly_fields = (
        "key",
        "to",
        "template",
        "subject",
        "status",
        "attempts",
        "error",
        "created_at",
        "last_attempt_at",
        "sent_at",
    )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import Membership, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["cpts"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("Rôle et territoire", {"fields": ("role", "region", "department")}),
    )
    list_display = ("username", "email", "role", "region", "department", "is_staff")
    list_filter = ("role", "region", "is_staff")
    inlines = [MembershipInline]

from django.contrib import admin

from cpts_portal.admin import HistoryAdmin
from territories.models import Cpts, Department, Region, TerritoryIndicator


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name")


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "region")
    list_filter = ("region",)
    search_fields = ("code", "name")


class TerritoryIndicatorInline(admin.TabularInline):
    model = TerritoryIndicator
    extra = 0


@admin.register(Cpts)
class CptsAdmin(HistoryAdmin):
    list_display = ("code", "name", "department", "stage", "created_on", "aci_signed_on")
    list_filter = ("stage", "department__region")
    search_fields = ("code", "name")
    inlines = [TerritoryIndicatorInline]

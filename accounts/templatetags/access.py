"""The scoping module's permission checks, for menus: `{% if user|can_view_dashboards %}`."""

from django import template

from accounts import scoping

register = template.Library()

register.filter("can_view_dashboards", scoping.can_view_dashboards)
register.filter("can_export", scoping.can_export)
register.filter("can_view_plan_counts", scoping.can_view_plan_counts)
register.filter("can_manage_campaigns", scoping.can_manage_campaigns)
register.filter("can_manage_accounts", scoping.can_manage_accounts)

from django import template

from accounts import scoping

register = template.Library()


@register.filter
def can_export(user) -> bool:
    """For the navigation: the same rule as the export views, from accounts.scoping."""
    return scoping.can_export(user)

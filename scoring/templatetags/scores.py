"""`{% load scores %}`: how every page shows a 0–100 score."""

from django import template
from django.template.defaultfilters import floatformat
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def score_or_not_assessed(value) -> SafeString:
    """Two decimals, or « non évalué » in grey: an area with no scored question that applies
    has no score, which is not the same as 0."""
    if value is None:
        return format_html('<span class="text-muted">{}</span>', _("non évalué"))
    return floatformat(value, 2)

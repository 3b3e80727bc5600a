"""What every model admin with history shares."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404
from simple_history.admin import SimpleHistoryAdmin


class HistoryAdmin(SimpleHistoryAdmin):
    """django-simple-history's admin, with ids from the URL checked before any query.

    Its views pass the URL's object and version ids straight into a query, so an id that is
    not a number (`…/history/abc/`) raised ValueError, a 500, instead of a 404.
    """

    def history_view(self, request, object_id, extra_context=None):
        _require_valid(self.model._meta.pk, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        _require_valid(self.model._meta.pk, object_id)
        history_model = getattr(self.model, self.model._meta.simple_history_manager_attribute)
        _require_valid(history_model.model._meta.pk, version_id)
        return super().history_form_view(request, object_id, version_id, extra_context)


def _require_valid(field: models.Field, raw: str) -> None:
    try:
        field.get_prep_value(field.to_python(raw))
    except (ValidationError, ValueError, TypeError, OverflowError) as invalid:
        raise Http404 from invalid

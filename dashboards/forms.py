"""The dashboards' query forms. Choices come from the user's scope, so a CPTS or a territory
outside it is an invalid choice: views answer 404 for those, as for any URL outside the scope."""

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.scoping import departments_visible_to, regions_visible_to
from dashboards.selectors import NO_RESPONSE, campaigns
from questionnaire.models import Response
from territories.models import Cpts

MAX_FOLLOWED = 5
COMPARE_MIN, COMPARE_MAX = 2, 5
OUT_OF_SCOPE = ("invalid_choice", "invalid_pk_value")


def out_of_scope(form: forms.Form, fields: tuple[str, ...]) -> bool:
    """True when a campaign, territory or CPTS asked for is not among the user's choices."""
    return any(form.has_error(name, code) for name in fields for code in OUT_OF_SCOPE)


class CampaignField(forms.ModelChoiceField):
    def __init__(self, **kwargs):
        super().__init__(
            queryset=campaigns(),
            to_field_name="slug",
            empty_label=None,
            label=_("Campagne"),
            **kwargs,
        )


class OverviewForm(forms.Form):
    campagne = CampaignField(required=False)
    suivre = forms.ModelMultipleChoiceField(
        queryset=Cpts.objects.none(),
        required=False,
        label=_("CPTS à suivre dans l’évolution"),
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("Jusqu’à %(max)s CPTS.") % {"max": MAX_FOLLOWED},
    )

    def __init__(self, *args, cpts: QuerySet[Cpts], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["suivre"].queryset = cpts.order_by("name")

    def clean_suivre(self):
        followed = self.cleaned_data["suivre"]
        if len(followed) > MAX_FOLLOWED:
            raise forms.ValidationError(
                _("Choisissez au plus %(max)s CPTS à suivre.") % {"max": MAX_FOLLOWED},
                code="too_many",
            )
        return followed


class CompareForm(forms.Form):
    campagne = CampaignField()
    cpts = forms.ModelMultipleChoiceField(
        queryset=Cpts.objects.none(),
        label=_("CPTS à comparer"),
        widget=forms.SelectMultiple(attrs={"size": 10}),
        help_text=_("De %(min)s à %(max)s CPTS.") % {"min": COMPARE_MIN, "max": COMPARE_MAX},
    )

    def __init__(self, *args, cpts: QuerySet[Cpts], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cpts"].queryset = cpts.order_by("name")

    def clean_cpts(self):
        chosen = self.cleaned_data["cpts"]
        if not COMPARE_MIN <= len(chosen) <= COMPARE_MAX:
            raise forms.ValidationError(
                _("Choisissez de %(min)s à %(max)s CPTS à comparer.")
                % {"min": COMPARE_MIN, "max": COMPARE_MAX},
                code="count",
            )
        return chosen


STATUS_CHOICES = [*Response.Status.choices, (NO_RESPONSE, _("Pas de réponse"))]


class CptsFilter(django_filters.FilterSet):
    """Filters of the overview table; the queryset is `selectors.cpts_with_scores`."""

    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label=_("Nom"))
    region = django_filters.ModelChoiceFilter(
        field_name="department__region", queryset=None, label=_("Région")
    )
    departement = django_filters.ModelChoiceFilter(
        field_name="department", queryset=None, label=_("Département")
    )
    stade = django_filters.ChoiceFilter(
        field_name="stage", choices=Cpts.Stage.choices, label=_("Stade")
    )
    niveau = django_filters.ChoiceFilter(field_name="score_level", choices=[], label=_("Niveau"))
    statut = django_filters.ChoiceFilter(
        field_name="response_status", choices=STATUS_CHOICES, label=_("Statut de la réponse")
    )

    TERRITORY_FIELDS = ("region", "departement")

    def __init__(self, *args, user, levels: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["region"].queryset = regions_visible_to(user).order_by("name")
        self.filters["departement"].queryset = departments_visible_to(user).order_by("code")
        self.filters["niveau"].extra["choices"] = levels

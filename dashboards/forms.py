"""The dashboards' query forms. Choices come from the user's scope, so a CPTS or a territory
outside it is an invalid choice: views answer 404 for those, as for any URL outside the scope."""

from dataclasses import dataclass

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.scoping import departments_visible_to, regions_visible_to
from dashboards.selectors import NO_RESPONSE, SEARCH_MIN_LENGTH, campaigns, cpts_matching
from questionnaire.models import Campaign, Response
from territories.models import Cpts

MAX_FOLLOWED = 5
COMPARE_MIN, COMPARE_MAX = 2, 5
OUT_OF_SCOPE = ("invalid_choice", "invalid_pk_value")


def out_of_scope(form: forms.Form, fields: tuple[str, ...]) -> bool:
    """True when a campaign, territory or CPTS asked for is not among the user's choices."""
    return any(form.has_error(name, code) for name in fields for code in OUT_OF_SCOPE)


class CampaignChoices(forms.models.ModelChoiceIterator):
    """The campaigns read once per form: a few rows the page draws more than once (crispy walks
    a select's options twice) and the views read too (`campaigns`), where Django's iterator
    would query them again each time."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for campaign in self.queryset:  # the queryset's result cache after the first pass
            yield self.choice(campaign)


class CampaignField(forms.ModelChoiceField):
    iterator = CampaignChoices

    def __init__(self, **kwargs):
        super().__init__(
            queryset=campaigns(),
            to_field_name="slug",
            empty_label=None,
            label=_("Campagne"),
            **kwargs,
        )


class CptsPickerForm(forms.Form):
    """A form with one list of CPTS picked among the user's scope through a search.

    The scope can hold every CPTS of France, so the page never lists it: only the CPTS already
    chosen (checked boxes) and the matches of the search term (`chercher`, unchecked boxes) are
    rendered. Without JavaScript the "Chercher" button (`rechercher`) submits the form and the
    page comes back with the matches; with it, static/js/cpts_picker.js asks
    `dashboards:cpts_search` as the user types. Either way the ids come back as the field's
    values, checked against the scope like any choice."""

    picker_field: str
    picker_max: int
    chercher = forms.CharField(
        required=False,
        max_length=100,
        label=_("Rechercher une CPTS"),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )

    def __init__(self, *args, cpts: QuerySet[Cpts], **kwargs):
        super().__init__(*args, **kwargs)
        self.scope = cpts
        self.fields[self.picker_field].queryset = cpts.order_by("name")
        # A search is not a request for results: the count rules wait until it is.
        self.searching = bool(self.data.get("rechercher"))
        self._chosen: list[Cpts] = []

    def _keep_chosen(self, chosen) -> list[Cpts]:
        self._chosen = list(chosen)
        return self._chosen

    @property
    def picker(self) -> "CptsPicker":
        term = self.cleaned_data.get("chercher", "") if hasattr(self, "cleaned_data") else ""
        chosen = self._chosen
        chosen_ids = {c.pk for c in chosen}
        matches = [c for c in cpts_matching(self.scope, term) if c.pk not in chosen_ids]
        return CptsPicker(
            field=self[self.picker_field],
            search=self["chercher"],
            chosen=chosen,
            matches=matches,
            term=term,
            maximum=self.picker_max,
            too_short=0 < len(term.strip()) < SEARCH_MIN_LENGTH,
        )


@dataclass
class CptsPicker:
    """What templates/dashboards/_cpts_picker.html draws."""

    field: forms.BoundField
    search: forms.BoundField
    chosen: list[Cpts]
    matches: list[Cpts]
    term: str
    maximum: int
    too_short: bool
    minimum_length: int = SEARCH_MIN_LENGTH


class OverviewForm(CptsPickerForm):
    picker_field = "suivre"
    picker_max = MAX_FOLLOWED
    campagne = CampaignField(required=False)
    suivre = forms.ModelMultipleChoiceField(
        queryset=Cpts.objects.none(),
        required=False,
        label=_("CPTS à suivre dans l’évolution"),
        help_text=_("Jusqu’à %(max)s CPTS.") % {"max": MAX_FOLLOWED},
    )

    @property
    def campaigns(self) -> list[Campaign]:
        """Every campaign, most recent first: the field's choices, read once."""
        return list(self.fields["campagne"].queryset)

    def clean_suivre(self):
        followed = self._keep_chosen(self.cleaned_data["suivre"])
        if len(followed) > MAX_FOLLOWED:
            raise forms.ValidationError(
                _("Choisissez au plus %(max)s CPTS à suivre.") % {"max": MAX_FOLLOWED},
                code="too_many",
            )
        return followed


class CompareForm(CptsPickerForm):
    picker_field = "cpts"
    picker_max = COMPARE_MAX
    campagne = CampaignField()
    cpts = forms.ModelMultipleChoiceField(
        queryset=Cpts.objects.none(),
        required=False,
        label=_("CPTS à comparer"),
        help_text=_("De %(min)s à %(max)s CPTS.") % {"min": COMPARE_MIN, "max": COMPARE_MAX},
    )

    def clean_cpts(self):
        chosen = self._keep_chosen(self.cleaned_data["cpts"])
        if not self.searching and not COMPARE_MIN <= len(chosen) <= COMPARE_MAX:
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
        field_name="department__region",
        queryset=None,
        label=_("Région"),
        empty_label=_("Toutes les régions"),
    )
    departement = django_filters.ModelChoiceFilter(
        field_name="department",
        queryset=None,
        label=_("Département"),
        empty_label=_("Tous les départements"),
    )
    stade = django_filters.ChoiceFilter(
        field_name="stage",
        choices=Cpts.Stage.choices,
        label=_("Stade"),
        empty_label=_("Tous les stades"),
    )
    niveau = django_filters.ChoiceFilter(
        field_name="score_level", choices=[], label=_("Niveau"), empty_label=_("Tous les niveaux")
    )
    statut = django_filters.ChoiceFilter(
        field_name="response_status",
        choices=STATUS_CHOICES,
        label=_("Statut de la réponse"),
        empty_label=_("Tous les statuts"),
    )

    TERRITORY_FIELDS = ("region", "departement")

    def __init__(self, *args, user, levels: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["region"].queryset = regions_visible_to(user).order_by("name")
        self.filters["departement"].queryset = departments_visible_to(user).order_by("code")
        self.filters["niveau"].extra["choices"] = levels

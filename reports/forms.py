"""The bundle page's query: a campaign and, within the user's scope, optional filters.

The names and values are the dashboards' (`campagne` slug, `region` and `departement` ids,
`stade` code), so the overview links here with its own query string. A campaign or territory
outside the user's choices is an invalid choice, which the view turns into a 404.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.scoping import departments_visible_to, regions_visible_to
from questionnaire.models import Campaign
from territories.models import Cpts

OUT_OF_SCOPE = ("invalid_choice", "invalid_pk_value")


class BundleForm(forms.Form):
    campagne = forms.ModelChoiceField(
        queryset=Campaign.objects.order_by("-year", "-opens_on"),
        to_field_name="slug",
        empty_label=None,
        required=False,
        label=_("Campagne"),
    )
    region = forms.ModelChoiceField(queryset=None, required=False, label=_("Région"))
    departement = forms.ModelChoiceField(queryset=None, required=False, label=_("Département"))
    stade = forms.ChoiceField(
        choices=[("", _("Tous les stades")), *Cpts.Stage.choices],
        required=False,
        label=_("Stade"),
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        regions = regions_visible_to(user).order_by("name")
        departments = departments_visible_to(user).order_by("code")
        self.fields["region"].queryset = regions
        self.fields["departement"].queryset = departments
        self.fields["region"].empty_label = _("Toutes les régions")
        self.fields["departement"].empty_label = _("Tous les départements")

    def out_of_scope(self) -> bool:
        return any(
            self.has_error(name, code)
            for name in ("campagne", "region", "departement")
            for code in OUT_OF_SCOPE
        )

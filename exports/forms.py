from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.scoping import departments_visible_to, regions_visible_to
from exports.spec import CODEBOOK, LONG, SCORES, STATUS_ALL, STATUS_SUBMITTED, WIDE, ExportSpec
from questionnaire.models import Campaign
from territories.models import Cpts


class ExportForm(forms.Form):
    """The export page's choices; regions and departments are those the user may see, so an
    ARS officer cannot even pick another region (the responses are scoped anyway)."""

    campaigns = forms.ModelMultipleChoiceField(
        label=_("Campagnes"),
        queryset=Campaign.objects.order_by("-year", "slug"),
        to_field_name="slug",
        widget=forms.CheckboxSelectMultiple,
    )
    format = forms.ChoiceField(
        label=_("Format"),
        choices=[
            (WIDE, _("Large : une ligne par réponse, une colonne par question ou modalité")),
            (LONG, _("Long : une ligne par réponse à une question (ou modalité cochée)")),
            (SCORES, _("Scores : une ligne par réponse (indice, niveau, dimensions, matrice)")),
            (CODEBOOK, _("Dictionnaire des variables (codebook)")),
        ],
        initial=WIDE,
        widget=forms.RadioSelect,
    )
    region = forms.ModelChoiceField(
        label=_("Région"),
        queryset=None,
        to_field_name="code",
        required=False,
        empty_label=_("Toutes les régions"),
    )
    department = forms.ModelChoiceField(
        label=_("Département"),
        queryset=None,
        to_field_name="code",
        required=False,
        empty_label=_("Tous les départements"),
    )
    stage = forms.ChoiceField(
        label=_("Stade de la CPTS"),
        choices=[("", _("Tous les stades"))] + list(Cpts.Stage.choices),
        required=False,
    )
    status = forms.ChoiceField(
        label=_("Réponses"),
        choices=[
            (STATUS_SUBMITTED, _("Soumises uniquement")),
            (STATUS_ALL, _("Toutes, brouillons compris")),
        ],
        initial=STATUS_SUBMITTED,
    )
    values = forms.ChoiceField(
        label=_("Réponses aux questions à choix"),
        choices=[("codes", _("Codes (option_code)")), ("labels", _("Libellés en clair"))],
        initial="codes",
        widget=forms.RadioSelect,
    )
    excel = forms.BooleanField(
        label=_("Excel (France) : point-virgule, virgule décimale, UTF-8 avec BOM"),
        required=False,
    )

    def __init__(self, user: User, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions_visible_to(user).order_by("code")
        self.fields["department"].queryset = departments_visible_to(user).order_by("code")

    def spec(self) -> ExportSpec:
        data = self.cleaned_data
        return ExportSpec(
            campaigns=tuple(c.slug for c in data["campaigns"]),
            format=data["format"],
            region=data["region"].code if data["region"] else "",
            department=data["department"].code if data["department"] else "",
            stage=data["stage"],
            status=data["status"],
            labels=data["values"] == "labels",
            excel=data["excel"],
        )

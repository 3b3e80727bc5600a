from django import forms
from django.utils.translation import gettext_lazy as _

from campaigns.models import ReminderRule
from campaigns.services import (
    DEFAULT_REMINDER_BODY,
    DEFAULT_REMINDER_SUBJECT,
    PLACEHOLDERS,
    unknown_placeholders,
)
from questionnaire.models import Campaign
from scoring.models import ScoringGrid
from territories.models import Cpts, Region

MAX_IMPORT_BYTES = 2 * 1024 * 1024


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = ["name", "slug", "year", "questionnaire", "grid_code", "opens_on", "closes_on"]
        widgets = {
            "opens_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "closes_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }
        help_texts = {
            "slug": _("Dans les adresses et les exports (lettres, chiffres, tirets)."),
            "questionnaire": _("Figée à l'ouverture de la campagne."),
            "grid_code": _(
                "Figée à l'ouverture ; sans choix, la dernière grille du questionnaire."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        grids = ScoringGrid.objects.select_related("questionnaire").order_by("-loaded_at")
        self.fields["grid_code"] = forms.ChoiceField(
            label=_("Grille de scores"),
            required=False,
            choices=[("", _("La dernière grille du questionnaire"))]
            + [(g.code, f"{g.code} ({g.questionnaire})") for g in grids],
            help_text=self.Meta.help_texts["grid_code"],
        )

    def clean(self):
        cleaned = super().clean()
        grid_code, questionnaire = cleaned.get("grid_code"), cleaned.get("questionnaire")
        if (
            grid_code
            and questionnaire
            and not ScoringGrid.objects.filter(code=grid_code, questionnaire=questionnaire).exists()
        ):
            self.add_error(
                "grid_code", _("Cette grille ne note pas cette version du questionnaire.")
            )
        opens_on, closes_on = cleaned.get("opens_on"), cleaned.get("closes_on")
        if opens_on and closes_on and closes_on < opens_on:
            self.add_error("closes_on", _("La clôture doit suivre l'ouverture."))
        return cleaned


class ParticipantRuleForm(forms.Form):
    stages = forms.MultipleChoiceField(
        label=_("Stades"),
        choices=Cpts.Stage.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Aucun coché : tous les stades."),
    )
    regions = forms.ModelMultipleChoiceField(
        label=_("Régions"),
        queryset=Region.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Aucune cochée : toutes les régions."),
    )


class ParticipantImportForm(forms.Form):
    file = forms.FileField(
        label=_("Fichier CSV"),
        help_text=_("En-tête cpts_code,email ; e-mail vide : les coordinateurs de la CPTS."),
    )
    dry_run = forms.BooleanField(label=_("Vérifier seulement"), required=False)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(_("Fichier trop volumineux (2 Mo au plus)."))
        return upload.read()  # decoded by the importers' reader, which says what is wrong


class ReminderRuleForm(forms.ModelForm):
    class Meta:
        model = ReminderRule
        fields = ["audience", "days", "anchor", "max_sends", "min_days_between", "subject", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["max_sends"].min_value = 1
        self.fields["max_sends"].widget.attrs["min"] = 1
        self.fields["body"].help_text = _("Peut contenir : ") + ", ".join(
            f"{{{name}}} ({label})" for name, label in PLACEHOLDERS.items()
        )
        if not self.is_bound:
            self.initial.setdefault("subject", DEFAULT_REMINDER_SUBJECT)
            self.initial.setdefault("body", DEFAULT_REMINDER_BODY)

    def clean_max_sends(self):
        value = self.cleaned_data["max_sends"]
        if value < 1:
            raise forms.ValidationError(_("Au moins un envoi."))
        return value

    def _check_placeholders(self, name):
        text = self.cleaned_data[name]
        if unknown := unknown_placeholders(text):
            raise forms.ValidationError(
                _("Inconnu(s) : %(names)s.") % {"names": ", ".join(f"{{{n}}}" for n in unknown)}
            )
        return text

    def clean_subject(self):
        return self._check_placeholders("subject")

    def clean_body(self):
        return self._check_placeholders("body")

from django import forms
from django.utils.translation import gettext_lazy as _

from improvement.models import Action
from improvement.services import ActionFields
from questionnaire.models import SubDimension


class ActionForm(forms.Form):
    subdimension = forms.ModelChoiceField(
        queryset=SubDimension.objects.none(), label=_("Sous-dimension"), empty_label=None
    )
    title = forms.CharField(label=_("Action"), max_length=300)
    owner_name = forms.CharField(label=_("Responsable (nom)"), max_length=150, required=False)
    due_on = forms.DateField(
        label=_("Échéance"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    means = forms.CharField(
        label=_("Moyens"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    indicator = forms.CharField(label=_("Indicateur de suivi"), max_length=300, required=False)
    status = forms.ChoiceField(label=_("Statut"), choices=Action.Status.choices)
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("N’inscrivez aucune donnée de patient."),
    )

    def __init__(self, *args, questionnaire_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subdimension"].queryset = SubDimension.objects.filter(
            dimension__version_id=questionnaire_id
        ).select_related("dimension")
        self.fields["subdimension"].label_from_instance = lambda s: (
            f"{s.dimension.label} · {s.label}"
        )

    @classmethod
    def for_action(cls, action: Action, **kwargs) -> "ActionForm":
        initial = {name: getattr(action, name) for name in ActionFields.__dataclass_fields__}
        return cls(initial=initial, prefix=f"action-{action.pk}", **kwargs)

    def fields_value(self) -> ActionFields:
        return ActionFields(**self.cleaned_data)

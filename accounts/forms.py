"""Forms of the people pages; labels and messages in French."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from accounts.models import Membership, User


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label="Adresse e-mail ou nom d’utilisateur",
        max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": (
            "Adresse e-mail, nom d’utilisateur ou mot de passe incorrect. Les majuscules "
            "comptent dans le mot de passe."
        ),
    }


class PasswordResetRequestForm(forms.Form):
    email = forms.EmailField(
        label="Votre adresse e-mail",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )


class TeamInviteForm(forms.Form):
    email = forms.EmailField(label="Adresse e-mail", max_length=254)
    first_name = forms.CharField(label="Prénom", max_length=150, required=False)
    last_name = forms.CharField(label="Nom", max_length=150, required=False)
    function = forms.ChoiceField(
        label="Fonction dans la CPTS",
        choices=[("", "—"), *Membership.Function.choices],
        required=False,
    )
    role = forms.ChoiceField(
        label="Rôle dans le portail",
        choices=[
            (User.Role.MEMBER, "Membre : répond au questionnaire, voit les résultats"),
            (
                User.Role.COORDINATOR,
                "Coordinateur·rice : soumet aussi le questionnaire et gère l’équipe",
            ),
        ],
        initial=User.Role.MEMBER,
        help_text="Un compte qui existe déjà garde son rôle.",
    )


class UserImportForm(forms.Form):
    file = forms.FileField(
        label="Fichier CSV",
        help_text="En-tête : email,first_name,last_name,role,territory,function "
        "(virgule ou point-virgule, UTF-8).",
    )
    dry_run = forms.BooleanField(label="Vérifier seulement (ne rien enregistrer)", required=False)
    send_activation = forms.BooleanField(
        label="Envoyer le lien d’activation aux comptes jamais activés",
        required=False,
        initial=True,
    )

    MAX_BYTES = 5 * 1024 * 1024

    def clean_file(self) -> bytes:
        """The file's bytes: the importers' CSV reader decodes them and names a bad line."""
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError("Fichier trop volumineux (5 Mo au plus).")
        return upload.read()

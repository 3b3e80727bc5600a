"""Forms of the account and people pages; labels and messages in French."""

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm

from accounts import services
from accounts.models import Membership, User


class AccountForm(forms.Form):
    """Name and e-mail; the address is unique whatever its case. A plain form, not a ModelForm,
    so that a refused change never touches `request.user` (the page header shows its name)."""

    EMAIL_TAKEN = "Cette adresse e-mail est déjà utilisée par un autre compte."

    first_name = forms.CharField(label="Prénom", max_length=150, required=False)
    last_name = forms.CharField(label="Nom", max_length=150, required=False)
    email = forms.EmailField(label="Adresse e-mail", max_length=254)

    def __init__(self, *args, user: User, **kwargs):
        self.user = user
        self.memberships = list(user.memberships.select_related("cpts").order_by("cpts__name"))
        initial = {"first_name": user.first_name, "last_name": user.last_name, "email": user.email}
        # One's function in each CPTS (recorded with a submission: employees and board members).
        for membership in self.memberships:
            initial[f"function_{membership.pk}"] = membership.function
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        for membership in self.memberships:
            self.fields[f"function_{membership.pk}"] = forms.ChoiceField(
                label=f"Fonction dans {membership.cpts.name}",
                choices=[("", "—"), *Membership.Function.choices],
                required=False,
            )

    @property
    def functions(self) -> dict[int, str]:
        """{membership id: function} as chosen (after is_valid)."""
        return {m.pk: self.cleaned_data[f"function_{m.pk}"] for m in self.memberships}

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if services.email_taken(email=email, user=self.user):
            raise forms.ValidationError(self.EMAIL_TAKEN)
        return email


class AccountDeleteForm(forms.Form):
    password = forms.CharField(
        label="Votre mot de passe, pour confirmer",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm = forms.BooleanField(
        label="Je comprends que mon compte sera supprimé définitivement.", required=True
    )

    def __init__(self, *args, request, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        # Through authenticate() so that axes counts wrong passwords here as at the login page.
        user = authenticate(
            self.request, username=self.request.user.get_username(), password=password
        )
        if user is None or user.pk != self.request.user.pk:
            raise forms.ValidationError("Mot de passe incorrect.")
        return password


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"}
        ),
    )


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

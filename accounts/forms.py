from django import forms
from django.contrib.auth import authenticate

from accounts import services
from accounts.models import User


class AccountForm(forms.Form):
    """Name and e-mail; the address is unique whatever its case. A plain form, not a ModelForm,
    so that a refused change never touches `request.user` (the page header shows its name)."""

    EMAIL_TAKEN = "Cette adresse e-mail est déjà utilisée par un autre compte."

    first_name = forms.CharField(label="Prénom", max_length=150, required=False)
    last_name = forms.CharField(label="Nom", max_length=150, required=False)
    email = forms.EmailField(label="Adresse e-mail", max_length=254)

    def __init__(self, *args, user: User, **kwargs):
        self.user = user
        kwargs.setdefault(
            "initial",
            {"first_name": user.first_name, "last_name": user.last_name, "email": user.email},
        )
        super().__init__(*args, **kwargs)

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

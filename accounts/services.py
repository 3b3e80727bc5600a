"""Writes on one's own account: profile, second factor, deletion."""

import math
import secrets

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.db import transaction
from django.utils import timezone
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.selectors import pending_totp_device

RECOVERY_CODE_COUNT = 10
DELETED_USERNAME_PREFIX = "supprime-"


class CodeRefused(Exception):
    """A second-factor code that was wrong, or tried too soon after wrong ones (French text)."""


class EmailTaken(Exception):
    """Another account already uses this address (compared without case)."""


def email_taken(*, email: str, user: User) -> bool:
    return User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists()


def account_update(*, user: User, first_name: str, last_name: str, email: str) -> User:
    email = email.strip()
    with transaction.atomic():
        if email_taken(email=email, user=user):
            raise EmailTaken(email)
        user.first_name, user.last_name, user.email = first_name.strip(), last_name.strip(), email
        user.save(update_fields=["first_name", "last_name", "email"])
    return user


@transaction.atomic
def account_delete(*, user: User) -> None:
    """Deactivate and anonymise: the row stays, so answers and history keep an author, but it
    names nobody ("utilisateur supprimé"), can never log in and belongs to no CPTS."""
    old_username = user.username
    user.memberships.all().delete()
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    # The login journal names the user and their addresses.
    for journal in (AccessAttempt, AccessFailureLog, AccessLog):
        journal.objects.filter(username=old_username).delete()
    user.username = f"{DELETED_USERNAME_PREFIX}{secrets.token_hex(8)}"
    user.first_name = user.last_name = user.email = ""
    user.set_unusable_password()
    user.is_active = user.is_staff = user.is_superuser = False
    user.role, user.region, user.department = "", None, None
    user.last_login = None
    user.anonymised_at = timezone.now()
    user.save()
    user.groups.clear()
    user.user_permissions.clear()


def second_factor_start(*, user: User) -> TOTPDevice:
    """The TOTP app the user is enrolling: a new secret, or the one they are already scanning."""
    device = pending_totp_device(user)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Application TOTP", confirmed=False)
    return device


def _check_code(device: Device, code: str) -> str | None:
    """None if `device` accepts `code`, else why not. Failures are recorded by django-otp
    (each one doubles the wait before the next try), so the caller must not roll them back."""
    allowed, refusal = device.verify_is_allowed()
    if not allowed:
        wait = math.ceil((refusal["locked_until"] - timezone.now()).total_seconds())
        return f"Trop de codes erronés : réessayez dans {max(wait, 1)} secondes."
    if device.verify_token(code):
        return None
    return "Code incorrect. Vérifiez l'heure de votre téléphone et saisissez le code affiché."


def _normalise_code(code: str) -> str:
    return "".join(code.split()).lower()


def second_factor_verify(*, user: User, code: str) -> Device:
    """The second step of signing in: a 6-digit code from the app, or one recovery code (which
    is then used up). Returns the device that accepted it; raises CodeRefused."""
    code = _normalise_code(code)
    model = TOTPDevice if code.isdigit() and len(code) == 6 else StaticDevice
    with transaction.atomic():
        device = model.objects.select_for_update().filter(user=user, confirmed=True).first()
        problem = "Code incorrect." if device is None else _check_code(device, code)
    if problem:
        raise CodeRefused(problem)
    return device


def _recovery_codes_replace(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Codes de secours", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def second_factor_confirm(*, device: TOTPDevice, code: str) -> list[str]:
    """Enrolment's last step: the first code from the app. If right, the app replaces any earlier
    one and comes with fresh recovery codes (returned, to be shown once); raises CodeRefused."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        problem = _check_code(device, _normalise_code(code))
    if problem:
        raise CodeRefused(problem)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        return _recovery_codes_replace(device.user)


@transaction.atomic
def recovery_codes_regenerate(*, user: User) -> list[str]:
    return _recovery_codes_replace(user)


@transaction.atomic
def second_factor_remove(*, user: User) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()

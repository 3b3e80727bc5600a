"""Reads about one's own account: the second factor."""

from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User


def has_second_factor(user: User) -> bool:
    """A confirmed TOTP app; recovery codes alone are no enrolment (they come with one)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def confirmed_totp_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def pending_totp_device(user: User) -> TOTPDevice | None:
    """The app being enrolled: created by the enrolment page, confirmed by its first code."""
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()

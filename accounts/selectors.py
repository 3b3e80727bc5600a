"""Reads about accounts: one's own second factor, a CPTS's team, the federation's accounts."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Membership, User
from territories.models import Cpts


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


def team_of(cpts: Cpts) -> QuerySet[Membership]:
    """The people of a CPTS: coordinators first, then members, by name."""
    return (
        Membership.objects.filter(cpts=cpts)
        .select_related("user")
        .order_by("user__role", "user__last_name", "user__first_name", "user__email")
    )


def accounts_with_memberships(users: QuerySet[User]) -> QuerySet[User]:
    return users.select_related("region", "department").prefetch_related(
        Prefetch("memberships", queryset=Membership.objects.select_related("cpts"))
    )

"""Reads for the people pages: a CPTS's team, the federation's list of accounts."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from accounts.models import Membership, User
from territories.models import Cpts


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

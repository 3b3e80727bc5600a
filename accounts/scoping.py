"""Who may see or change what: the one place that answers it.

Every view, export and dashboard starts from these selectors; nothing else filters by role.
A user without a role sees nothing (access is denied by default). "Not visible" and
"does not exist" look the same to callers (404), so URLs leak nothing.
"""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User
from questionnaire.models import Response
from territories.models import Cpts, Department, Region


def is_active_user(user: User) -> bool:
    """Any signed-in, active account: pages whose content is scoped inside (results index)."""
    return user.is_authenticated and user.is_active


def can_fill_questionnaires(user: User) -> bool:
    """CPTS teams fill in their own CPTS's questionnaire; territory staff only read it."""
    return is_active_user(user) and user.role == User.Role.COORDINATOR


def can_read_responses(user: User) -> bool:
    """Every role reads the responses of its scope; an account without a role reads nothing."""
    return is_active_user(user) and (user.is_superuser or bool(user.role))


def cpts_visible_to(user: User) -> QuerySet[Cpts]:
    cpts = Cpts.objects.select_related("department__region")
    if not user.is_authenticated or not user.is_active:
        return cpts.none()
    if user.is_superuser or user.role == User.Role.FCPTS:
        return cpts.all()
    if user.role == User.Role.ARS and user.region_id:
        return cpts.filter(department__region_id=user.region_id)
    if user.role == User.Role.CPAM and user.department_id:
        return cpts.filter(department_id=user.department_id)
    if user.role == User.Role.COORDINATOR:
        return cpts.filter(memberships__user=user)
    return cpts.none()


def regions_visible_to(user: User) -> QuerySet[Region]:
    """The regions that hold a CPTS the user may see: the choices of territory filters."""
    return Region.objects.filter(departments__cpts__in=cpts_visible_to(user)).distinct()


def departments_visible_to(user: User) -> QuerySet[Department]:
    """The departments that hold a CPTS the user may see: the choices of territory filters."""
    return Department.objects.filter(cpts__in=cpts_visible_to(user)).distinct()


def cpts_coordinated_by(user: User) -> QuerySet[Cpts]:
    """The CPTS whose questionnaire this user fills in."""
    if not user.is_authenticated or user.role != User.Role.COORDINATOR:
        return Cpts.objects.none()
    return cpts_visible_to(user)


def responses_visible_to(user: User) -> QuerySet[Response]:
    return Response.objects.filter(cpts__in=cpts_visible_to(user)).select_related(
        "campaign", "cpts__department__region"
    )


def responses_editable_by(user: User) -> QuerySet[Response]:
    """Only a CPTS's own coordinators fill in its questionnaire, and only while it is a draft."""
    return Response.objects.filter(
        cpts__in=cpts_coordinated_by(user), status=Response.Status.DRAFT
    ).select_related("campaign__questionnaire", "cpts__department__region")


def can_manage_campaigns(user: User) -> bool:
    """National federation staff run campaigns, reopen responses and read answer history."""
    return is_active_user(user) and (user.is_superuser or user.role == User.Role.FCPTS)


def can_view_dashboards(user: User) -> bool:
    """Territory dashboards are for ARS, CPAM and FCPTS staff; coordinators see their results."""
    return is_active_user(user) and (
        user.is_superuser or user.role in (User.Role.ARS, User.Role.CPAM, User.Role.FCPTS)
    )


def can_export(user: User) -> bool:
    """Cohort exports have the dashboards' audience, each for their own territory (an export
    spans CPTS, and a coordinator only ever sees their own)."""
    return can_view_dashboards(user)


def get_cpts_for_user(user: User, pk: int) -> Cpts:
    return get_object_or_404(cpts_visible_to(user), pk=pk)


def get_response_for_user(user: User, pk: int, *, write: bool = False) -> Response:
    queryset = responses_editable_by(user) if write else responses_visible_to(user)
    return get_object_or_404(queryset, pk=pk)

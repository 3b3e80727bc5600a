"""Who may see or change what: the one place that answers it.

Every view, export and dashboard starts from these selectors; nothing else filters by role.
A user without a role sees nothing (access is denied by default). "Not visible" and
"does not exist" look the same to callers (404), so URLs leak nothing.
"""

from django.conf import settings
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import TEAM_ROLES, User
from questionnaire.models import Campaign, Response
from territories.models import Cpts, Department, Region


def is_active_user(user: User) -> bool:
    """Any signed-in, active account: pages whose content is scoped inside (results index)."""
    return user.is_authenticated and user.is_active


def can_fill_questionnaires(user: User) -> bool:
    """CPTS teams (coordinators and members) fill in their own CPTS's questionnaire; territory
    staff only read it."""
    return is_active_user(user) and user.role in TEAM_ROLES


def can_submit(user: User) -> bool:
    """Submitting commits the CPTS: its coordinators do it, members only answer drafts."""
    return is_active_user(user) and user.role == User.Role.COORDINATOR


def can_manage_team(user: User) -> bool:
    """A CPTS's coordinators invite and remove the people of its team."""
    return can_submit(user)


def can_rate(user: User) -> bool:
    """Collegial assessment: the CPTS's team (members and coordinators) are its raters; who
    rates which response is decided by their invitation (`collegial.selectors`)."""
    return can_fill_questionnaires(user)


def can_lead_collegial_assessment(user: User) -> bool:
    """A CPTS's coordinators choose the mode, invite raters and run the synthesis."""
    return can_submit(user)


def can_manage_accounts(user: User) -> bool:
    """National federation staff create accounts in bulk, (re)send activations, deactivate."""
    return is_active_user(user) and (user.is_superuser or user.role == User.Role.FCPTS)


def can_read_responses(user: User) -> bool:
    """Every role reads the responses of its scope; an account without a role reads nothing."""
    return is_active_user(user) and (user.is_superuser or bool(user.role))


def can_use_second_factor(user: User) -> bool:
    """National and territorial staff may protect their account with a TOTP app."""
    return is_active_user(user) and (
        user.is_staff
        or user.is_superuser
        or user.role in (User.Role.ARS, User.Role.CPAM, User.Role.FCPTS)
    )


def must_use_second_factor(user: User) -> bool:
    """FCPTS admins see every CPTS and staff reach the Django admin: they must (setting
    `OTP_REQUIRED_FOR_FCPTS`, on outside the test settings)."""
    return (
        settings.OTP_REQUIRED_FOR_FCPTS
        and is_active_user(user)
        and (user.is_staff or user.is_superuser or user.role == User.Role.FCPTS)
    )


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
    if user.role in TEAM_ROLES:
        return cpts.filter(memberships__user=user)
    return cpts.none()


def regions_visible_to(user: User) -> QuerySet[Region]:
    """The regions that hold a CPTS the user may see: the choices of territory filters."""
    return Region.objects.filter(departments__cpts__in=cpts_visible_to(user)).distinct()


def departments_visible_to(user: User) -> QuerySet[Department]:
    """The departments that hold a CPTS the user may see: the choices of territory filters."""
    return Department.objects.filter(cpts__in=cpts_visible_to(user)).distinct()


def cpts_coordinated_by(user: User) -> QuerySet[Cpts]:
    """The CPTS whose questionnaire this user fills in (their team's CPTS)."""
    if not user.is_authenticated or user.role not in TEAM_ROLES:
        return Cpts.objects.none()
    return cpts_visible_to(user)


def cpts_managed_by(user: User) -> QuerySet[Cpts]:
    """The CPTS whose team this user manages."""
    if not can_manage_team(user):
        return Cpts.objects.none()
    return cpts_visible_to(user)


def responses_visible_to(user: User) -> QuerySet[Response]:
    return Response.objects.filter(cpts__in=cpts_visible_to(user)).select_related(
        "campaign", "cpts__department__region"
    )


def responses_editable_by(user: User) -> QuerySet[Response]:
    """Only a CPTS's own team fills in its questionnaire, and only while it is a draft."""
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


def campaigns_visible_to(user: User) -> QuerySet[Campaign]:
    """The federation sees every campaign, drafts included; territory staff follow the
    campaigns that have opened."""
    if can_manage_campaigns(user):
        return Campaign.objects.all()
    if can_view_dashboards(user):
        return Campaign.objects.exclude(status=Campaign.Status.DRAFT)
    return Campaign.objects.none()


def get_cpts_for_user(user: User, pk: int) -> Cpts:
    return get_object_or_404(cpts_visible_to(user), pk=pk)


def get_response_for_user(user: User, pk: int, *, write: bool = False) -> Response:
    queryset = responses_editable_by(user) if write else responses_visible_to(user)
    return get_object_or_404(queryset, pk=pk)


# --- Action plans (improvement app) ----------------------------------------------------------
# A plan belongs to the CPTS's team: whoever fills in its questionnaire (coordinators, and
# members once they may fill it in) writes it. ARS and CPAM staff read it only once the team
# shared it, for a CPTS of their territory; the federation never reads a plan, only counts.


def can_plan(user: User) -> bool:
    """The CPTS team writes its action plans: the same people who fill in its questionnaire."""
    return can_fill_questionnaires(user)


def can_share_plans(user: User) -> bool:
    """Sharing a plan with the territory commits the CPTS: its coordinators decide it."""
    return can_plan(user) and user.role == User.Role.COORDINATOR


def can_read_plans(user: User) -> bool:
    """The team, and territory staff for the plans shared with them."""
    return can_plan(user) or (is_active_user(user) and user.role in (User.Role.ARS, User.Role.CPAM))


def can_view_plan_counts(user: User) -> bool:
    """The federation sees how many actions CPTS plan per sub-dimension, never a plan."""
    return can_manage_campaigns(user)


def cpts_planned_by(user: User) -> QuerySet[Cpts]:
    if not can_plan(user):
        return Cpts.objects.none()
    return Cpts.objects.filter(memberships__user=user)


def plan_responses_editable_by(user: User) -> QuerySet[Response]:
    """Submitted responses of the user's own CPTS: their plans are the team's to write."""
    return Response.objects.filter(
        cpts__in=cpts_planned_by(user), status=Response.Status.SUBMITTED
    ).select_related("campaign__questionnaire", "cpts__department__region")


def plan_responses_readable_by(user: User) -> QuerySet[Response]:
    if can_plan(user):
        return plan_responses_editable_by(user)
    if can_read_plans(user):
        return responses_visible_to(user).filter(
            status=Response.Status.SUBMITTED, action_plan__shared_with_territory=True
        )
    return Response.objects.none()


def get_plan_response_for_user(user: User, pk: int, *, write: bool = False) -> Response:
    queryset = plan_responses_editable_by(user) if write else plan_responses_readable_by(user)
    return get_object_or_404(queryset, pk=pk)


def get_team_cpts_for_user(user: User, pk: int) -> Cpts:
    """A CPTS whose team the user manages; any other (or none) is 404."""
    return get_object_or_404(cpts_managed_by(user), pk=pk)


def users_visible_to(user: User) -> QuerySet[User]:
    """The accounts a user may list and act on (the federation's users page)."""
    if not can_manage_accounts(user):
        return User.objects.none()
    return User.objects.all()

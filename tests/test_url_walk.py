"""Every URL of the portal, walked for every role.

The app-level tests say what each role may do; this one holds the invariants of the whole site:
a new URL must be added to ROUTES (the first test fails otherwise), no URL answers 500, the
anonymous visitor is sent to the login page, and no page or file ever names a CPTS outside the
user's scope.
"""

import datetime as dt

import pytest
from django.urls import URLResolver, get_resolver, reverse
from django.utils.http import urlsafe_base64_encode

from accounts.models import Membership
from accounts.scoping import cpts_visible_to
from campaigns.models import ReminderRule
from campaigns.services import participants_add, unsubscribe_token
from collegial.models import CollegialAssessment, Rating
from exports.models import ExportJob
from improvement.models import Action, ActionPlan
from questionnaire.models import Response, SubDimension
from tests.factories import CampaignFactory, ResponseScoreFactory
from tests.helpers import MIXED, make_response

PUBLIC = {
    "login",
    "logout",
    "health",
    "privacy:notice",
    "privacy:accessibility",
    "accounts:activate",
    "accounts:activation_resend",
    "accounts:password_reset",
    "accounts:password_reset_done",
    "accounts:password_reset_confirm",
    "campaigns:unsubscribe",
}
# Pages about one's own account, open to every signed-in user (an account without a role too).
OWN_ACCOUNT = {
    "accounts:account",
    "accounts:password_change",
    "privacy:account_data",
    "accounts:account_delete",
}
ROLES = ["anonymous", "coordinator", "member", "other_member", "ars", "cpam", "fcpts", "no_role"]


def portal_routes(patterns=None, namespace: str = "") -> dict:
    """Every named route of the portal, with its view."""
    views = {}
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue  # Django's admin: staff only, tested by Django
            inner = f"{pattern.namespace}:" if pattern.namespace else namespace
            views |= portal_routes(pattern.url_patterns, inner)
        else:
            views[f"{namespace}{pattern.name}"] = pattern.callback
    return views


@pytest.fixture
def routes(users, territory, campaign, grid):
    """Arguments for every route, pointing at objects of CPTS Paris Un (in every territorial
    scope but Lyon's, and coordinated by the coordinator)."""
    for cpts in territory.values():
        ResponseScoreFactory(response=make_response(campaign, MIXED, cpts=cpts), grid=grid)
    open_campaign = CampaignFactory(questionnaire=campaign.questionnaire)
    paris = territory["paris_1"]
    draft = Response.objects.create(campaign=open_campaign, cpts=paris)
    draft_day = dt.date.today()
    submitted = Response.objects.get(campaign=campaign, cpts=paris)
    job = ExportJob.objects.create(
        requested_by=users["fcpts"], parameters={}, filename="export.csv"
    )
    section = SubDimension.objects.filter(dimension__version=campaign.questionnaire).first()
    plan = ActionPlan.objects.create(response=submitted)
    action = Action.objects.create(plan=plan, subdimension=section, title="Action du plan")
    participants_add(campaign=campaign)
    participant = campaign.participants.get(cpts=paris)
    rule = ReminderRule.objects.create(
        campaign=campaign,
        audience="not_started",
        anchor="after_opening",
        days=1,
        subject="s",
        body="b",
    )
    collegial = CollegialAssessment.objects.create(response=draft, synthesis_opens_on=draft_day)
    for rater in (users["coordinator"], users["member"]):
        Rating.objects.create(assessment=collegial, rater=rater)
    member = Membership.objects.get(user=users["member"], cpts=paris)
    uid = urlsafe_base64_encode(str(users["member"].pk).encode())
    return {
        "home": {},
        "login": {},
        "logout": {},
        "health": {},
        "privacy:notice": {},
        "privacy:accessibility": {},
        "accounts:account": {},
        "accounts:password_change": {},
        "privacy:account_data": {},
        "accounts:account_delete": {},
        "accounts:second_factor": {},
        "accounts:second_factor_enrol": {},
        "accounts:second_factor_verify": {},
        "questionnaire:my_cpts": {},
        "questionnaire:start": {"campaign_slug": open_campaign.slug, "cpts_pk": paris.pk},
        "questionnaire:section": {"pk": draft.pk, "code": section.code},
        "questionnaire:autosave": {"pk": draft.pk},
        "questionnaire:confirm_carried": {"pk": draft.pk, "code": section.code},
        "questionnaire:review": {"pk": draft.pk},
        "questionnaire:submit": {"pk": draft.pk},
        "questionnaire:reopen": {"pk": submitted.pk},
        "questionnaire:history": {"pk": submitted.pk},
        "scoring:index": {},
        "scoring:results": {"pk": submitted.pk},
        "scoring:explanation": {"pk": submitted.pk},
        "dashboards:overview": {},
        "dashboards:chart_csv": {"slug": "matrice"},
        "dashboards:cpts": {"pk": paris.pk},
        "dashboards:compare": {},
        "dashboards:cpts_search": {},
        "exports:index": {},
        "exports:job": {"pk": job.pk},
        "exports:job_status": {"pk": job.pk},
        "exports:job_download": {"pk": job.pk},
        "improvement:pistes": {"pk": submitted.pk},
        "improvement:plan": {"pk": submitted.pk},
        "improvement:plan_add_suggestions": {"pk": submitted.pk},
        "improvement:action_update": {"pk": submitted.pk, "action_pk": action.pk},
        "improvement:plan_share": {"pk": submitted.pk},
        "improvement:plan_review": {"pk": draft.pk},
        "improvement:evolution": {"pk": submitted.pk},
        "improvement:plan_counts": {},
        "campaigns:list": {},
        "campaigns:create": {},
        "campaigns:detail": {"slug": campaign.slug},
        "campaigns:edit": {"slug": campaign.slug},
        "campaigns:transition": {"slug": campaign.slug, "action": "cloturer"},
        "campaigns:participants_add": {"slug": campaign.slug},
        "campaigns:participants_import": {"slug": campaign.slug},
        "campaigns:participant_exclusion": {"slug": campaign.slug, "pk": participant.pk},
        "campaigns:invitations": {"slug": campaign.slug},
        "campaigns:reminder_add": {"slug": campaign.slug},
        "campaigns:reminder_delete": {"slug": campaign.slug, "pk": rule.pk},
        "campaigns:unsubscribe": {"token": unsubscribe_token(campaign, "x@example.org")},
        "campaigns:digest": {},
        "campaigns:tracking": {"slug": campaign.slug},
        "campaigns:tracking_csv": {"slug": campaign.slug},
        "accounts:activate": {"uidb64": uid, "token": "cz1a2b-0123456789abcdef"},
        "accounts:activation_resend": {"uidb64": uid},
        "accounts:password_reset": {},
        "accounts:password_reset_done": {},
        "accounts:password_reset_confirm": {"uidb64": uid, "token": "cz1a2b-0123456789abcdef"},
        "accounts:team": {"pk": paris.pk},
        "accounts:team_remove": {"pk": paris.pk, "membership_pk": member.pk},
        "accounts:federation_users": {},
        "accounts:federation_user_action": {"pk": users["member"].pk},
        "collegial:setup": {"pk": draft.pk},
        "collegial:rating": {"pk": draft.pk},
        "collegial:rating_section": {"pk": draft.pk, "code": section.code},
        "collegial:rating_autosave": {"pk": draft.pk},
        "collegial:rating_finish": {"pk": draft.pk},
        "collegial:rating_resume": {"pk": draft.pk},
        "collegial:synthesis": {"pk": draft.pk},
        "collegial:synthesis_open": {"pk": draft.pk},
        "collegial:synthesis_keep": {"pk": draft.pk},
        "collegial:synthesis_keep_unanimous": {"pk": draft.pk},
        "collegial:agenda": {"pk": draft.pk},
        "reports:pdf": {"pk": submitted.pk},
        "reports:bundle": {},
    }


def test_every_route_is_in_the_walk(routes):
    assert set(portal_routes()) == set(routes)


def test_every_view_but_the_public_ones_goes_through_the_gate():
    """One way to say who may enter a view: accounts.access.gate, with a scoping predicate."""
    for name, view in portal_routes().items():
        if name not in PUBLIC:
            assert callable(getattr(view, "gate", None)), name


@pytest.mark.parametrize("role", ROLES)
def test_no_route_fails_or_shows_a_cpts_outside_the_scope(client, users, territory, routes, role):
    user = users.get(role)
    if user is not None:
        client.force_login(user)
    visible = set(cpts_visible_to(user).values_list("pk", flat=True)) if user else set()
    hidden_names = [c.name for c in territory.values() if c.pk not in visible]
    for name, kwargs in routes.items():
        url = reverse(name, kwargs=kwargs)
        # Reads for everyone; writes only where they must be refused, so the walk changes nothing.
        methods = ["get", "post"] if role in ("anonymous", "no_role") else ["get"]
        for method in methods:
            response = getattr(client, method)(url)
            assert response.status_code < 500, (method, url)
            body = b"".join(response) if response.streaming else response.content
            for hidden in hidden_names:
                assert hidden not in body.decode(errors="replace"), (method, url, hidden)
            if role == "anonymous" and name not in PUBLIC and response.status_code != 405:
                assert response.status_code == 302, (method, url)
                assert response.url.startswith(reverse("login")), (method, url)
            if role == "no_role" and name not in PUBLIC | OWN_ACCOUNT | {"home", "scoring:index"}:
                assert response.status_code in (302, 403, 404, 405), (method, url)
    assert Response.objects.filter(status=Response.Status.SUBMITTED).count() == len(territory)


def test_an_fcpts_admin_without_a_second_factor_is_sent_to_enrolment_before_any_page(
    client, users, routes, settings
):
    """As in production (the test settings turn the requirement off for other tests)."""
    settings.OTP_REQUIRED_FOR_FCPTS = True
    client.force_login(users["fcpts"])
    enrol = reverse("accounts:second_factor_enrol")
    for name, kwargs in routes.items():
        if name in PUBLIC or name.startswith("accounts:second_factor"):
            continue
        response = client.get(reverse(name, kwargs=kwargs))
        assert response.status_code == 302, name
        assert response.url.startswith(enrol + "?next="), name

"""Who may open an action plan: the CPTS's team; its ARS and CPAM read-only once shared; the
federation only counts. Outcomes as everywhere: 403 for a role, 404 outside the scope."""

import pytest
from django.urls import reverse

from improvement import services
from improvement.models import Action, ActionPlan, PlanReview
from questionnaire.models import Response, SubDimension
from scoring import services as scoring_services
from tests.factories import CampaignFactory, CptsFactory, UserFactory
from tests.helpers import LIBRARY_PATH, MIXED, make_response


@pytest.fixture
def plans(campaign, grid, territory, users):
    """A plan with one action for each CPTS of the territory; Paris Un's is not shared yet."""
    services.library_load(path=LIBRARY_PATH)
    found = {}
    for name, cpts in territory.items():
        response = make_response(campaign, MIXED, cpts=cpts)
        scoring_services.response_score(response=response, grid=grid)
        services.plan_suggestions_add(
            response=response, grid=grid, keys=["plan-sse"], user=users["coordinator"]
        )
        found[name] = response
    return found


def _url(name, response, **kwargs):
    return reverse(f"improvement:{name}", kwargs={"pk": response.pk, **kwargs})


def test_the_team_reads_and_writes_its_plan(client, plans, users):
    client.force_login(users["coordinator"])
    response = plans["paris_1"]
    page = client.get(_url("plan", response))
    assert page.status_code == 200 and page.context["can_edit"]
    assert "Qui voit ce plan : votre équipe seulement" in page.content.decode()
    subdimension = SubDimension.objects.get(code="prevention")
    created = client.post(
        _url("plan", response),
        {
            "nouvelle-subdimension": subdimension.pk,
            "nouvelle-title": "Campagne de vaccination antigrippale",
            "nouvelle-owner_name": "Dr Martin",
            "nouvelle-due_on": "2027-01-15",
            "nouvelle-status": "a_faire",
        },
    )
    assert created.status_code == 302
    action = Action.objects.get(title="Campagne de vaccination antigrippale")
    assert action.owner_name == "Dr Martin" and str(action.due_on) == "2027-01-15"
    updated = client.post(
        _url("action_update", response, action_pk=action.pk),
        {
            f"action-{action.pk}-subdimension": subdimension.pk,
            f"action-{action.pk}-title": action.title,
            f"action-{action.pk}-status": "en_cours",
        },
    )
    assert updated.status_code == 302
    action.refresh_from_db()
    assert action.status == "en_cours"
    assert [h.status for h in action.history.order_by("history_date")] == ["a_faire", "en_cours"]


def test_a_bad_action_changes_nothing_and_says_why(client, plans, users):
    client.force_login(users["coordinator"])
    response = plans["paris_1"]
    page = client.post(_url("plan", response), {"nouvelle-title": "", "nouvelle-due_on": "demain"})
    assert page.status_code == 400
    assert "Saisissez une date valide." in page.content.decode()
    assert Action.objects.filter(plan__response=response).count() == 1


@pytest.mark.parametrize("role", ["ars", "cpam"])
def test_territory_staff_read_a_plan_only_once_shared(client, plans, users, role):
    response = plans["paris_1"]
    client.force_login(users[role])
    assert client.get(_url("plan", response)).status_code == 404  # not shared: as if absent
    ActionPlan.objects.filter(response=response).update(shared_with_territory=True)
    page = client.get(_url("plan", response))
    assert page.status_code == 200 and not page.context["can_edit"]
    body = page.content.decode()
    assert "Rédiger un plan de réponse aux situations sanitaires exceptionnelles" in body
    assert '<form method="post" action="/resultats' not in body  # read-only
    action = Action.objects.get(plan__response=response)
    for name, kwargs in [
        ("action_update", {"action_pk": action.pk}),
        ("plan_share", {}),
        ("plan_add_suggestions", {}),
    ]:
        assert client.post(_url(name, response, **kwargs), {"partage": "non"}).status_code == 403
    assert ActionPlan.objects.get(response=response).shared_with_territory


def test_a_shared_plan_stays_within_its_territory(client, plans, users):
    lyon = plans["lyon"]
    ActionPlan.objects.filter(response=lyon).update(shared_with_territory=True)
    for role in ("ars", "cpam"):  # Île-de-France, Paris: Lyon is outside both
        client.force_login(users[role])
        assert client.get(_url("plan", lyon)).status_code == 404


def test_the_coordinator_shares_and_unshares(client, plans, users):
    response = plans["paris_1"]
    client.force_login(users["coordinator"])
    client.post(_url("plan_share", response), {"partage": "oui"})
    assert ActionPlan.objects.get(response=response).shared_with_territory
    client.force_login(users["ars"])
    assert client.get(_url("plan", response)).status_code == 200
    client.force_login(users["coordinator"])
    client.post(_url("plan_share", response), {"partage": "non"})
    client.force_login(users["ars"])
    assert client.get(_url("plan", response)).status_code == 404


def test_another_cpts_plan_is_out_of_a_coordinators_scope(client, plans, users):
    client.force_login(users["coordinator"])  # coordinates Paris Un and Lyon, not Saint-Denis
    other = plans["saint_denis"]
    ActionPlan.objects.filter(response=other).update(shared_with_territory=True)
    assert client.get(_url("plan", other)).status_code == 404
    assert client.post(_url("plan_share", other), {"partage": "non"}).status_code == 404
    assert client.post(_url("plan_add_suggestions", other), {"suggestion": "crex"}).status_code == (
        404
    )


def test_the_federation_sees_counts_never_a_plan(client, plans, users, territory):
    client.force_login(users["fcpts"])
    response = plans["paris_1"]
    ActionPlan.objects.filter(response=response).update(shared_with_territory=True)
    assert client.get(_url("plan", response)).status_code == 403
    page = client.get(reverse("improvement:plan_counts"))
    assert page.status_code == 200
    # Four CPTS have an action on the SSE plan: fewer than five, so the count is masked.
    (row,) = page.context["counts"]
    assert row.subdimension.code == "plan_sse" and not row.shown and row.actions == 0
    assert "masqué : moins de 5 CPTS" in page.content.decode()
    extra = CptsFactory()
    services.plan_suggestions_add(
        response=make_response(response.campaign, MIXED, cpts=extra),
        grid=response.campaign.questionnaire.scoring_grids.get(),
        keys=["plan-sse"],
        user=users["coordinator"],
    )
    (row,) = client.get(reverse("improvement:plan_counts")).context["counts"]
    assert row.shown and (row.cpts, row.actions) == (5, 5)
    for role in ("coordinator", "ars", "cpam", "no_role"):
        client.force_login(users[role])
        assert client.get(reverse("improvement:plan_counts")).status_code == 403


def test_the_next_campaign_starts_with_the_plan_status_prompt(client, plans, users, grid):
    paris = plans["paris_1"]
    action = Action.objects.get(plan__response=paris)
    next_campaign = CampaignFactory(questionnaire=paris.campaign.questionnaire, year=2027)
    client.force_login(users["coordinator"])
    start = reverse("questionnaire:start", args=[next_campaign.slug, paris.cpts_id])
    started = client.post(start)
    draft = Response.objects.get(campaign=next_campaign, cpts=paris.cpts)
    assert started.url == reverse("improvement:plan_review", args=[draft.pk])
    prompt = client.get(started.url)
    assert "Où en êtes-vous de votre plan ?" in prompt.content.decode()
    answered = client.post(started.url, {f"statut-{action.pk}": "fait"})
    assert "/section/" in answered.url
    action.refresh_from_db()
    assert action.status == "fait"
    assert PlanReview.objects.filter(plan=action.plan, next_response=draft).exists()
    # Asked once: continuing the response goes straight to the questionnaire.
    assert "/section/" in client.post(start).url
    # Territory staff and other CPTS's coordinators never get the prompt.
    client.force_login(UserFactory(role="coordinator", cpts=[plans["saint_denis"].cpts]))
    assert client.get(reverse("improvement:plan_review", args=[draft.pk])).status_code == 404
    client.force_login(users["ars"])
    assert client.get(reverse("improvement:plan_review", args=[draft.pk])).status_code == 403


def test_the_next_results_page_shows_each_action_beside_its_score_change(
    client, plans, users, grid
):
    paris = plans["paris_1"]
    Action.objects.filter(plan__response=paris).update(status="fait")
    later = CampaignFactory(questionnaire=paris.campaign.questionnaire, year=2027)
    after = make_response(later, {**MIXED, "q38": "oui"}, cpts=paris.cpts)
    scoring_services.response_score(response=after, grid=grid)
    client.force_login(users["coordinator"])
    page = client.get(reverse("scoring:results", args=[after.pk]))
    body = page.content.decode()
    assert 'id="suivi-plan"' in body
    assert "Rédiger un plan de réponse aux situations sanitaires exceptionnelles" in body
    assert "+100,00" in body or "+100.00" in body  # plan SSE: 0 → 100
    # ARS staff see the follow-up only of a shared plan.
    client.force_login(users["ars"])
    assert (
        'id="suivi-plan"'
        not in client.get(reverse("scoring:results", args=[after.pk])).content.decode()
    )
    ActionPlan.objects.filter(response=paris).update(shared_with_territory=True)
    assert (
        'id="suivi-plan"'
        in client.get(reverse("scoring:results", args=[after.pk])).content.decode()
    )


def test_bad_input_changes_nothing_and_says_so_in_french(client, plans, users):
    client.force_login(users["coordinator"])
    response = plans["paris_1"]
    for data in ({}, {"suggestion": "inconnue"}):
        answer = client.post(_url("plan_add_suggestions", response), data, follow=True)
        assert "Suggestion inconnue : rechargez la page." in answer.content.decode()
    assert Action.objects.filter(plan__response=response).count() == 1
    # The same suggestion twice is one action.
    client.post(_url("plan_add_suggestions", response), {"suggestion": ["plan-sse", "plan-sse"]})
    assert Action.objects.filter(plan__response=response).count() == 1
    # An unknown status in the plan review prompt: nothing recorded, the prompt again.
    next_campaign = CampaignFactory(questionnaire=response.campaign.questionnaire, year=2027)
    draft = Response.objects.create(campaign=next_campaign, cpts=response.cpts)
    action = Action.objects.get(plan__response=response)
    page = client.post(
        reverse("improvement:plan_review", args=[draft.pk]), {f"statut-{action.pk}": "perdu"}
    )
    assert page.status_code == 200 and "Statut inconnu." in page.content.decode()
    action.refresh_from_db()
    assert action.status == "a_faire" and not PlanReview.objects.exists()


def test_only_the_federation_has_the_plan_counts_in_its_menu(client, users):
    link = reverse("improvement:plan_counts")
    for role, shown in [("fcpts", True), ("coordinator", False), ("ars", False)]:
        client.force_login(users[role])
        assert (f'href="{link}"' in client.get(reverse("scoring:index")).content.decode()) is shown

""" "Reprendre mes réponses de la campagne précédente": taken-over answers wait for the team's
confirmation, and until then nothing counts them (progress, submission, scores, exports)."""

import csv
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from questionnaire.models import Answer, CarriedAnswer, Response
from questionnaire.selectors import response_state
from tests.factories import CampaignFactory
from tests.helpers import MIXED, make_response


@pytest.fixture
def earlier(questionnaire, territory):
    """CPTS Paris Un answered last year's campaign in full."""
    last_year = CampaignFactory(questionnaire=questionnaire, year=2025, status="closed")
    return make_response(last_year, MIXED, cpts=territory["paris_1"])


@pytest.fixture
def this_year(questionnaire):
    return CampaignFactory(questionnaire=questionnaire, year=2026, slug="campagne-2026-bis")


def start(client, campaign, cpts, **data):
    return client.post(reverse("questionnaire:start", args=[campaign.slug, cpts.pk]), data)


def test_my_cpts_offers_to_take_over_the_previous_answers(
    client, users, territory, earlier, this_year
):
    client.force_login(users["coordinator"])
    page = client.get(reverse("questionnaire:my_cpts")).content.decode()
    assert f"Reprendre mes réponses de la {earlier.campaign.name}" in page
    start(client, this_year, territory["paris_1"], reprendre="1")
    response = Response.objects.get(campaign=this_year, cpts=territory["paris_1"])
    carried = {c.question.variable: c.value for c in response.carried.select_related("question")}
    assert carried == {a.question.variable: a.value for a in earlier.answers.all()}
    assert not response.answers.exists()
    state = response_state(response)
    assert state.answered == 0 and len(state.carried_waiting) == state.applicable

    section = state.sections[0]
    page = client.get(reverse("questionnaire:section", args=[response.pk, section.code]))
    body = page.content.decode()
    assert f"Reprise de la {earlier.campaign.name} — à confirmer" in body
    assert "Confirmer les réponses reprises de cette section" in body


def test_starting_without_taking_over_carries_nothing(client, users, territory, earlier, this_year):
    client.force_login(users["coordinator"])
    start(client, this_year, territory["paris_1"])
    assert not CarriedAnswer.objects.exists()


def test_submission_waits_for_every_confirmation_and_nothing_counts_before(
    client, users, territory, earlier, this_year, tmp_path
):
    client.force_login(users["coordinator"])
    start(client, this_year, territory["paris_1"], reprendre="1")
    response = Response.objects.get(campaign=this_year, cpts=territory["paris_1"])

    client.post(reverse("questionnaire:submit", args=[response.pk]))
    response.refresh_from_db()
    assert response.status == Response.Status.DRAFT
    # A draft export counts no unconfirmed answer.
    out = tmp_path / "wide.csv"
    call_command(
        "export_cohort", campaign=[this_year.slug], format="wide", status="all", output=str(out)
    )
    [header, row] = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert set(row[header.index("q01") :]) <= {"", "0"}

    # One answer changed by autosave: confirmed by that change.
    q04 = this_year.questionnaire.questions.get(number=4)
    saved = client.post(
        reverse("questionnaire:autosave", args=[response.pk]),
        {"question": q04.pk, f"q{q04.pk}": "partiel", f"q{q04.pk}-revision": "0"},
    )
    assert saved.json()["status"] == "saved"
    assert not response.carried.filter(question=q04).exists()

    for section in response_state(response).sections:
        confirmed = client.post(
            reverse("questionnaire:confirm_carried", args=[response.pk, section.code])
        )
        assert confirmed.status_code == 302
    assert not response.carried.exists()
    values = {a.question.variable: a.value for a in response.answers.select_related("question")}
    assert values == {
        **{a.question.variable: a.value for a in earlier.answers.all()},
        "q04": "partiel",
    }
    assert Answer.history.filter(response_id=response.pk).count() == len(values)

    client.post(reverse("questionnaire:submit", args=[response.pk]))
    response.refresh_from_db()
    assert response.status == Response.Status.SUBMITTED


def test_only_an_earlier_response_on_the_same_version_is_offered(
    client, users, territory, earlier, questionnaire
):
    older = CampaignFactory(questionnaire=questionnaire, year=2020, slug="campagne-2020")
    client.force_login(users["coordinator"])
    start(client, older, territory["paris_1"], reprendre="1")
    assert not CarriedAnswer.objects.exists()  # 2025 is later than 2020: nothing to take over

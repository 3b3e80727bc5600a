"""The questionnaire flow on the server: saves, conflicts, submission, reopening, access."""

import datetime as dt

import pytest
from django.urls import reverse

from questionnaire import selectors, services
from questionnaire.models import Answer, Response
from questionnaire.rules import AnswerInvalid
from tests.factories import AnswerFactory, ResponseFactory
from tests.helpers import save


@pytest.fixture
def draft(campaign, territory):
    return ResponseFactory(campaign=campaign, cpts=territory["paris_1"])


@pytest.fixture
def coordinator(users):
    return users["coordinator"]


def fill_all(response, q, user):
    """A valid answer to every applicable question of a running CPTS."""
    from questionnaire.rules import choices, rows

    for number in range(1, 43):
        question = q(number)
        if number == 28:
            continue
        if question.type == "single_choice":
            value = "fonctionnement" if number == 2 else choices(question)[0].code
        elif question.type == "multiple_choice":
            value = [next(o.code for o in choices(question) if not o.requires_text)]
        elif question.type == "number":
            value = 10
        elif question.type == "month_year":
            value = "2020-01"
        else:
            value = {rows(question)[0].code: choices(question)[0].code}
        save(response, question, value, user)


def test_save_create_update_and_clear(draft, q, coordinator):
    answer = save(draft, q(4), "total", coordinator)
    assert (answer.value, answer.revision, answer.updated_by) == ("total", 1, coordinator)
    answer = save(draft, q(4), "partiel", coordinator, revision=1)
    assert answer.revision == 2
    assert save(draft, q(4), "", coordinator, revision=2) is None
    assert not Answer.objects.filter(response=draft).exists()
    history = [h.history_type for h in Answer.history.order_by("history_date")]
    assert history == ["+", "~", "-"]
    assert all(h.history_user == coordinator for h in Answer.history.all())


def test_a_stale_revision_is_a_conflict_and_writes_nothing(draft, q, coordinator, users):
    save(draft, q(4), "total", coordinator)
    save(draft, q(4), "partiel", coordinator, revision=1)
    with pytest.raises(services.AnswerConflict) as conflict:
        save(draft, q(4), "faible", coordinator, revision=1)
    assert conflict.value.current.value == "partiel"
    assert Answer.objects.get(response=draft).value == "partiel"
    # The same value as the stored one loses nothing: accepted whatever the revision.
    assert save(draft, q(4), "partiel", coordinator, revision=1).revision == 2
    # A first answer racing another first answer conflicts too.
    save(draft, q(5), ["liberaux"], coordinator)
    with pytest.raises(services.AnswerConflict):
        save(draft, q(5), ["msp"], coordinator, revision=0)


def test_invalid_answers_change_nothing(draft, q, coordinator):
    save(draft, q(7), 12, coordinator)
    with pytest.raises(AnswerInvalid):
        save(draft, q(7), "-3", coordinator, revision=1)
    assert Answer.objects.get(response=draft).value == 12


def test_submit_needs_every_applicable_answer(draft, q, coordinator):
    save(draft, q(2), "fonctionnement", coordinator)
    with pytest.raises(services.ResponseIncomplete) as incomplete:
        services.response_submit(response=draft, user=coordinator)
    assert incomplete.value.missing == 40  # 42 questions, minus Q2 answered, minus Q28
    fill_all(draft, q, coordinator)
    submitted = services.response_submit(response=draft, user=coordinator)
    assert submitted.status == Response.Status.SUBMITTED and submitted.submitted_by == coordinator
    with pytest.raises(services.ResponseNotEditable, match="soumise"):
        save(draft, q(4), "faible", coordinator, revision=1)


def test_answers_to_questions_that_no_longer_apply_are_kept_but_do_not_count(draft, q, coordinator):
    from questionnaire.selectors import response_state

    save(draft, q(2), "ingenierie", coordinator)
    save(draft, q(28), ["prevention"], coordinator)
    assert response_state(draft).answered == 2
    save(draft, q(2), "fonctionnement", coordinator, revision=1)
    state = response_state(draft)
    assert q(28).id in state.answers and q(28).id not in state.applicable_ids
    assert state.answered == 1 and state.applicable == 41


def test_reopen_is_recorded_with_its_reason(draft, q, coordinator, users, client):
    fill_all(draft, q, coordinator)
    services.response_submit(response=draft, user=coordinator)
    client.force_login(users["fcpts"])
    url = reverse("questionnaire:reopen", args=[draft.pk])
    client.post(url, {"reason": ""})
    assert Response.objects.get(pk=draft.pk).status == Response.Status.SUBMITTED
    client.post(url, {"reason": "Soumis par erreur"})
    draft.refresh_from_db()
    assert draft.status == Response.Status.DRAFT and draft.submitted_at is None
    last = draft.history.order_by("-history_date").first()
    assert last.history_user == users["fcpts"]
    assert last.history_change_reason == "Réouverture : Soumis par erreur"
    history_page = client.get(reverse("questionnaire:history", args=[draft.pk]))
    assert "Réouverture : Soumis par erreur" in history_page.content.decode()


def test_closed_campaign_is_read_only(draft, q, coordinator):
    draft.campaign.opens_on = dt.date(2020, 1, 1)
    draft.campaign.closes_on = dt.date(2020, 12, 31)
    draft.campaign.save()
    with pytest.raises(services.ResponseNotEditable, match="close"):
        save(draft, q(4), "total", coordinator)


def test_autosave_endpoint_answers_in_french_json(draft, q, coordinator, client):
    client.force_login(coordinator)
    url = reverse("questionnaire:autosave", args=[draft.pk])
    field = f"q{q(7).id}"
    saved = client.post(url, {"question": q(7).id, field: "14", f"{field}-revision": "0"})
    assert saved.status_code == 200
    assert saved.json()["status"] == "saved" and saved.json()["revision"] == 1
    invalid = client.post(url, {"question": q(7).id, field: "-2", f"{field}-revision": "1"})
    assert invalid.status_code == 400
    assert invalid.json() == {
        "status": "invalid",
        "error": "Saisissez un nombre entier positif, sans espace ni décimale.",
    }
    stale = client.post(url, {"question": q(7).id, field: "20", f"{field}-revision": "0"})
    assert stale.status_code == 409 and "14" in stale.json()["error"]
    assert Answer.objects.get(response=draft).value == 14


def test_section_post_saves_valid_answers_and_shows_errors_beside_fields(
    draft, q, coordinator, client
):
    client.force_login(coordinator)
    url = reverse("questionnaire:section", args=[draft.pk, "population_territoire"])
    page = client.post(
        url,
        {
            f"q{q(6).id}": "moins_40k",
            f"q{q(7).id}": "quarante",
            f"q{q(8).id}": ["departement", "aucun"],
            "suivant": "",
        },
    )
    assert page.status_code == 400
    html = page.content.decode()
    assert "Saisissez un nombre entier positif" in html
    assert "ne peut pas être combinée" in html
    assert 'value="quarante"' in html  # what was typed is shown again, not lost
    assert list(
        Answer.objects.filter(response=draft).values_list("question__number", flat=True)
    ) == [6]


@pytest.mark.parametrize("stage", ["fonctionnement", "ingenierie"])
def test_autosave_progress_counts_what_response_state_counts(campaign, territory, stage):
    """The autosave's lean progress (a fix the bench's profile asked for) must not drift from
    the counts the questionnaire pages show; Q2 moves which of Q26-Q28 apply."""
    response = ResponseFactory(campaign=campaign, cpts=territory["paris_1"])
    questions = {q.number: q for q in campaign.questionnaire.questions.all()}
    AnswerFactory(response=response, question=questions[2], value=stage)
    AnswerFactory(response=response, question=questions[26], value="x")
    AnswerFactory(response=response, question=questions[7], value=3)

    state = selectors.response_state(response)
    progress = selectors.response_progress(response)
    assert (progress.answered, progress.applicable, progress.percent) == (
        state.answered,
        state.applicable,
        state.percent,
    )

"""The questionnaire flow on the server: saves, conflicts, submission, reopening, access."""

import datetime as dt

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from questionnaire import rules, selectors, services
from questionnaire.models import Answer, CarriedAnswer, Response
from questionnaire.rules import AnswerInvalid
from tests.factories import AnswerFactory, CampaignFactory, ResponseFactory
from tests.helpers import PROPERTY, save, value_strategy


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


# --- The autosave's queries and progress (issue 20) -------------------------------------------


def _autosave(client, response, question, value, revision):
    field = f"q{question.id}"
    data = {"question": question.id, field: value, f"{field}-revision": str(revision)}
    return client.post(reverse("questionnaire:autosave", args=[response.pk]), data).json()


# The session and the user (the middleware, as for the bench's bare view); the scope check with
# the row lock; the response's answers (revision check, condition, progress); the write; its
# history row. The test's transaction turns the service's own into SAVEPOINT and RELEASE.
AUTOSAVE_QUERIES = 8


def test_an_autosave_runs_the_queries_its_guarantees_need(
    draft, q, coordinator, client, django_assert_num_queries
):
    client.force_login(coordinator)
    with django_assert_num_queries(AUTOSAVE_QUERIES + 2):  # the version's questions and options
        assert _autosave(client, draft, q(4), "total", 0)["revision"] == 1
    with django_assert_num_queries(AUTOSAVE_QUERIES):  # from then on, from the process's cache
        saved = _autosave(client, draft, q(4), "partiel", 1)
    assert saved["revision"] == 2
    with django_assert_num_queries(AUTOSAVE_QUERIES):  # a first answer: INSERT, not UPDATE
        saved = _autosave(client, draft, q(6), "moins_40k", 0)
    progress = selectors.response_progress(draft)
    assert (
        (saved["answered"], saved["applicable"], saved["percent"])
        == (
            progress.answered,
            progress.applicable,
            progress.percent,
        )
        == (2, 39, 5)
    )
    assert [h.history_type for h in Answer.history.filter(question=q(4))] == ["~", "+"]


def test_an_autosave_to_a_conditional_question_reads_no_more(
    draft, q, coordinator, client, django_assert_num_queries
):
    client.force_login(coordinator)
    _autosave(client, draft, q(2), "ingenierie", 0)
    option = rules.choices(q(26))[0].code
    # Refused: neither write nor history row, but the savepoint is rolled back, then released.
    with django_assert_num_queries(AUTOSAVE_QUERIES - 1):
        refused = _autosave(client, draft, q(26), option, 0)
    assert refused["status"] == "invalid" and "question 2" in refused["error"]
    with django_assert_num_queries(AUTOSAVE_QUERIES):  # Q26-Q28 apply from now on
        saved = _autosave(client, draft, q(2), "fonctionnement", 1)
    assert (saved["answered"], saved["applicable"]) == (1, 41)
    with django_assert_num_queries(AUTOSAVE_QUERIES):
        saved = _autosave(client, draft, q(26), option, 0)
    assert (saved["status"], saved["answered"], saved["applicable"]) == ("saved", 2, 41)
    progress = selectors.response_progress(draft)
    assert (progress.answered, progress.applicable) == (2, 41)


def test_an_autosave_deletes_a_waiting_taken_over_answer_with_one_query_more(
    draft, q, coordinator, client, django_assert_num_queries
):
    source = ResponseFactory(
        campaign=CampaignFactory(questionnaire=draft.campaign.questionnaire, year=2020),
        cpts=draft.cpts,
    )
    CarriedAnswer.objects.create(response=draft, question=q(4), source=source, value="faible")
    client.force_login(coordinator)
    _autosave(client, draft, q(6), "moins_40k", 0)  # the cache is warm
    with django_assert_num_queries(AUTOSAVE_QUERIES + 1):
        assert _autosave(client, draft, q(4), "total", 0)["status"] == "saved"
    assert not CarriedAnswer.objects.filter(response=draft).exists()


@PROPERTY
@given(data=st.data())
def test_the_autosave_progress_is_what_response_progress_counts(data, draft, q, coordinator):
    """Saves, changes and clears in any order, Q2 moving which of Q26-Q28 apply: the progress
    counted under the lock from the answers read once is what a fresh count gives."""
    revisions = dict(Answer.objects.filter(response=draft).values_list("question_id", "revision"))
    for _ in range(data.draw(st.integers(1, 6))):
        question = q(data.draw(st.sampled_from([2, 2, 4, 7, 26, 27, 28, 38])))
        value = data.draw(st.one_of(st.just(""), value_strategy(question)))
        revision = revisions.get(question.id, 0)
        try:
            saved = services.answer_autosave(
                user=coordinator,
                response_id=draft.pk,
                question_id=question.id,
                read=lambda question, value=value, revision=revision: (value, "", revision),
            )
        except AnswerInvalid:
            continue
        revisions[question.id] = saved.answer.revision if saved.answer else 0
        assert saved.progress == selectors.response_progress(draft)

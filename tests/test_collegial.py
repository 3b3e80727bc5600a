"""Collegial assessment: each rater answers alone, the team agrees, only agreed answers count."""

import csv
import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import formats, timezone

from accounts.models import User
from collegial import selectors, services, tasks
from collegial.models import CollegialAssessment, Rating, RatingAnswer
from mailing.models import SentMessage
from questionnaire.models import Answer, Question, Response
from questionnaire.services import response_submit
from scoring import services as scoring_services
from scoring.models import ResponseScore, ScoringGrid
from tests.factories import UserFactory
from tests.helpers import MIXED
from tests.smtp import first_link, text_of

TODAY = dt.date.today


@pytest.fixture
def team(users, territory):
    """CPTS Paris Un: its coordinator and two members, each with an address."""
    for name in ("coordinator", "member"):
        users[name].email = f"{name}@example.org"
        users[name].first_name, users[name].last_name = name.title(), "Paris"
        users[name].save()
    third = UserFactory(
        role=User.Role.MEMBER,
        cpts=[territory["paris_1"]],
        email="third@example.org",
        first_name="Troisième",
        last_name="Membre",
    )
    return {"coordinator": users["coordinator"], "member": users["member"], "third": third}


@pytest.fixture
def response(campaign, territory):
    return Response.objects.create(campaign=campaign, cpts=territory["paris_1"])


@pytest.fixture
def assessment(response, team):
    assessment = services.mode_set(
        response=response,
        user=team["coordinator"],
        collegial=True,
        synthesis_opens_on=TODAY() + dt.timedelta(days=7),
    )
    services.raters_invite(
        assessment=assessment, raters=list(team.values()), invited_by=team["coordinator"]
    )
    return assessment


def questions_by_variable(campaign) -> dict[str, Question]:
    return {q.variable: q for q in campaign.questionnaire.questions.prefetch_related("options")}


def rate(assessment, user, answers: dict, *, finish: bool = True) -> Rating:
    rating = Rating.objects.get(assessment=assessment, rater=user)
    questions = questions_by_variable(assessment.response.campaign)
    for variable, raw in answers.items():
        value, other = raw if isinstance(raw, tuple) else (raw, "")
        services.rating_answer_save(
            rating=rating,
            question=questions[variable],
            value=value,
            other_text=other,
            expected_revision=0,
        )
    if finish:
        services.rating_finish(rating=rating)
    return rating


def three_ratings(assessment, team) -> None:
    """Unanimous everywhere but Q12 (a choice) and Q7 (numbers 3, 3 and 987)."""
    rate(assessment, team["coordinator"], MIXED)
    rate(assessment, team["member"], MIXED | {"q12": "plus_100"})
    rate(assessment, team["third"], MIXED | {"q07": 987})


def open_synthesis(assessment, team):
    return services.synthesis_open_now(assessment=assessment, user=team["coordinator"])


def test_mode_invitations_go_out_through_a_real_smtp_server(
    client, team, response, smtp, committed
):
    client.force_login(team["coordinator"])
    url = reverse("collegial:setup", args=[response.pk])
    day = (TODAY() + dt.timedelta(days=5)).isoformat()
    client.post(url, {"action": "mode", "mode": "collegial", "synthesis_opens_on": day})
    assessment = CollegialAssessment.objects.get(response=response)
    assert assessment.synthesis_opens_on.isoformat() == day
    with committed():
        client.post(url, {"action": "inviter", "raters": [team["member"].pk, team["third"].pk]})
    [mail] = smtp.mailbox.wait_for("third@example.org")
    assert "évaluation individuelle" in mail["Subject"]
    assert "seul·e" in text_of(mail)
    assert first_link(mail, "mon-evaluation").endswith(
        f"/questionnaire/reponses/{response.pk}/mon-evaluation/"
    )
    smtp.mailbox.wait_for("member@example.org")
    # Inviting again sends nothing more (one message per rater and assessment).
    with committed():
        client.post(url, {"action": "inviter", "raters": [team["member"].pk]})
    assert SentMessage.objects.filter(template="collegial_invitation").count() == 2


def test_bad_date_and_outsiders_are_refused_and_change_nothing(client, team, response, users):
    client.force_login(team["coordinator"])
    url = reverse("collegial:setup", args=[response.pk])
    page = client.post(
        url,
        {"action": "mode", "mode": "collegial", "synthesis_opens_on": "31/02/2026"},
        follow=True,
    )
    assert "Date invalide" in page.content.decode()
    past = (TODAY() - dt.timedelta(days=1)).isoformat()
    page = client.post(
        url, {"action": "mode", "mode": "collegial", "synthesis_opens_on": past}, follow=True
    )
    assert "ne peut pas être passée" in page.content.decode()
    assert not CollegialAssessment.objects.exists()
    client.post(url, {"action": "mode", "mode": "collegial", "synthesis_opens_on": TODAY()})
    client.post(url, {"action": "inviter", "raters": [users["other_member"].pk]})
    assert not Rating.objects.exists()


def test_a_rating_is_seen_by_its_rater_alone_until_the_synthesis(client, team, assessment):
    rate(assessment, team["member"], {"q07": 987, "q02": "fonctionnement"}, finish=False)
    member_page = reverse("collegial:rating", args=[assessment.response_id])
    client.force_login(team["member"])
    assert "987" in client.get(member_page).content.decode()

    client.force_login(team["third"])
    page = client.get(member_page).content.decode()
    assert "987" not in page  # their own, empty rating
    client.force_login(team["coordinator"])
    for name in ("collegial:rating", "collegial:setup", "collegial:synthesis", "collegial:agenda"):
        body = client.get(reverse(name, args=[assessment.response_id])).content.decode()
        assert "987" not in body, name
    setup = client.get(reverse("collegial:setup", args=[assessment.response_id])).content.decode()
    assert "Member Paris" in setup and "En cours" in setup
    assert (
        "La synthèse ouvre le"
        in client.get(
            reverse("collegial:synthesis", args=[assessment.response_id])
        ).content.decode()
    )
    # The official response is untouched by ratings.
    assert not Answer.objects.filter(response=assessment.response).exists()


def test_rating_autosave_applies_the_questionnaires_rules(client, team, assessment):
    questions = questions_by_variable(assessment.response.campaign)
    url = reverse("collegial:rating_autosave", args=[assessment.response_id])
    client.force_login(team["member"])
    q07 = questions["q07"]
    refused = client.post(url, {"question": q07.pk, f"q{q07.pk}": "5000"})
    assert refused.status_code == 400 and "entre" in refused.json()["error"]
    q09 = questions["q09"]  # "non" is exclusive
    exclusive = [o.code for o in q09.options.all() if o.exclusive][0]
    other = [o.code for o in q09.options.all() if not o.exclusive][0]
    mixed = client.post(url, {"question": q09.pk, f"q{q09.pk}": [exclusive, other]})
    assert mixed.status_code == 400
    assert not RatingAnswer.objects.exists()
    saved = client.post(url, {"question": q07.pk, f"q{q07.pk}": "12", f"q{q07.pk}-revision": "0"})
    assert saved.json()["status"] == "saved" and saved.json()["answered"] == 1
    assert RatingAnswer.objects.get().value == 12
    # The section page is the questionnaire's, pointed at the rating's autosave.
    section = client.get(
        reverse("collegial:rating_section", args=[assessment.response_id, q07.subdimension.code])
    ).content.decode()
    assert f'data-autosave-url="{url}"' in section and 'value="12"' in section


def test_finishing_needs_every_applicable_answer(client, team, assessment):
    rating = rate(assessment, team["member"], {"q02": "fonctionnement"}, finish=False)
    client.force_login(team["member"])
    page = client.post(
        reverse("collegial:rating_finish", args=[assessment.response_id]), follow=True
    ).content.decode()
    assert "sans réponse" in page
    rating.refresh_from_db()
    assert rating.finished_at is None


def test_synthesis_flags_divergences_and_writes_the_consensus(
    client, team, assessment, grid, committed, users
):
    three_ratings(assessment, team)
    response = assessment.response
    client.force_login(team["coordinator"])
    open_synthesis(assessment, team)
    synthesis = selectors.synthesis_of(assessment)
    assert {q.question.variable for q in synthesis.divergent} == {"q07", "q12"}
    q07 = next(q for q in synthesis.questions if q.question.variable == "q07")
    assert [(o.value, o.count) for o in q07.opinions] == [(3, 2), (987, 1)]
    assert q07.agreement == 67

    url = reverse("collegial:synthesis", args=[response.pk])
    page = client.get(url + "?divergences=1").content.decode()
    assert page.count('class="card card-body mb-3 synthesis-question') == 2
    assert "Member Paris" not in page  # names hidden by default
    assert "Member Paris" in client.get(url + "?noms=1").content.decode()

    client.post(reverse("collegial:synthesis_keep_unanimous", args=[response.pk]))
    kept = Answer.objects.filter(response=response)
    applicable = len(MIXED)
    assert kept.count() == applicable - 2
    note = f"consensus du {formats.date_format(timezone.localdate(), 'j F Y')}, 3 évaluateurs"
    reasons = set(
        Answer.history.filter(response_id=response.pk).values_list(
            "history_change_reason", flat=True
        )
    )
    assert reasons == {note}
    client.force_login(users["fcpts"])
    history = client.get(reverse("questionnaire:history", args=[response.pk])).content.decode()
    assert f"({note})" in history
    client.force_login(team["coordinator"])

    agenda = client.get(reverse("collegial:agenda", args=[response.pk])).content.decode()
    assert agenda.count('class="mb-3 agenda-item"') == 2

    questions = questions_by_variable(response.campaign)
    keep = reverse("collegial:synthesis_keep", args=[response.pk])
    q12 = questions["q12"]
    client.post(keep, {"question": q12.pk, f"q{q12.pk}": "plus_100", f"q{q12.pk}-revision": 0})
    # "Any other value": neither 3 nor 987.
    q7 = questions["q07"]
    client.post(keep, {"question": q7.pk, f"q{q7.pk}": "5", f"q{q7.pk}-revision": 0})
    assert Answer.objects.get(response=response, question=q7).value == 5
    assert (
        Answer.history.filter(question_id=q7.pk)
        .first()
        .history_change_reason.endswith("3 évaluateurs")
    )
    with committed():
        submitted = response_submit(response=response, user=team["coordinator"])
    assert submitted.status == Response.Status.SUBMITTED
    assert ResponseScore.objects.filter(response=response, grid=grid).exists()


def test_synthesis_writes_are_refused_before_it_opens(client, team, assessment):
    three_ratings(assessment, team)
    client.force_login(team["coordinator"])
    client.post(reverse("collegial:synthesis_keep_unanimous", args=[assessment.response_id]))
    assert not Answer.objects.exists()


def agreed(assessment, team):
    three_ratings(assessment, team)
    open_synthesis(assessment, team)
    services.consensus_keep_unanimous(assessment=assessment, user=team["coordinator"])
    questions = questions_by_variable(assessment.response.campaign)
    for variable, value in (("q07", 3), ("q12", MIXED["q12"])):
        services.consensus_keep(
            assessment=assessment,
            question=questions[variable],
            value=value,
            other_text="",
            expected_revision=0,
            user=team["coordinator"],
        )
    submitted = response_submit(response=assessment.response, user=team["coordinator"])
    scoring_services.response_score(response=submitted, grid=ScoringGrid.objects.get())
    return submitted


def test_territory_staff_see_the_agreed_response_and_nothing_of_the_ratings(
    client, team, assessment, grid, users, tmp_path
):
    response = agreed(assessment, team)
    for role in ("ars", "cpam", "fcpts"):
        client.force_login(users[role])
        for name in ("questionnaire:review", "scoring:results", "scoring:explanation"):
            body = client.get(reverse(name, args=[response.pk])).content.decode()
            assert "987" not in body and "Member Paris" not in body, (role, name)
            if name != "scoring:explanation":
                assert "évaluation collégiale, 3 évaluateurs" in body, (role, name)
            assert "Ce que révèlent vos désaccords" not in body
        for name in ("collegial:setup", "collegial:synthesis", "collegial:rating"):
            assert client.get(reverse(name, args=[response.pk])).status_code == 403
    out = tmp_path / "wide.csv"
    call_command("export_cohort", campaign=[response.campaign.slug], format="wide", output=str(out))
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    [row] = [r for r in rows if r["cpts_code"] == response.cpts.code]
    assert row["q07"] == "3" and "987" not in out.read_text()


def test_the_team_sees_its_disagreement_on_the_results_page(client, team, assessment, grid):
    response = agreed(assessment, team)
    client.force_login(team["member"])
    page = client.get(reverse("scoring:results", args=[response.pk])).content.decode()
    assert "Ce que révèlent vos désaccords" in page
    assert "Sujet à discuter" in page
    data = selectors.disagreement_of(assessment, grid)
    assert data.rater_count == 3 and len(data.individual_indexes) == 3
    # Q12 feeds a sub-dimension where one rater in three disagreed; Q7 is not scored.
    assert data.topic is not None and data.topic.divergent >= 1
    assert data.index_low <= data.agreed_index <= data.index_high
    assert ResponseScore.objects.filter(response=response).count() == 1  # nothing else stored


def test_raters_who_have_not_finished_are_reminded_once(team, assessment, settings):
    settings.COLLEGIAL_REMINDER_DAYS_BEFORE = 3
    rate(assessment, team["coordinator"], MIXED)
    assessment.synthesis_opens_on = TODAY() + dt.timedelta(days=5)
    assessment.save()
    assert services.reminders_send_due() == 0  # too early
    assessment.synthesis_opens_on = TODAY() + dt.timedelta(days=2)
    assessment.save()
    assert tasks.send_rating_reminders.delay().get() == 2  # the beat task, eager here
    out = io.StringIO()
    call_command("send_rating_reminders", stdout=out)
    assert "0 rappel(s) envoyé(s)." in out.getvalue()
    reminded = set(
        SentMessage.objects.filter(template="collegial_reminder").values_list("to", flat=True)
    )
    assert reminded == {"member@example.org", "third@example.org"}


def test_ratings_are_deleted_after_the_retention_period(
    client, team, assessment, settings, users, grid
):
    response = agreed(assessment, team)
    settings.COLLEGIAL_RATING_RETENTION_DAYS = 365
    assert services.ratings_delete_expired() == 0
    Response.objects.filter(pk=response.pk).update(
        submitted_at=timezone.now() - dt.timedelta(days=366)
    )
    assert tasks.delete_expired_ratings.delay().get() == 1
    assert not Rating.objects.exists() and not RatingAnswer.objects.exists()
    assessment.refresh_from_db()
    assert assessment.rater_count == 3
    client.force_login(users["ars"])
    body = client.get(reverse("questionnaire:review", args=[response.pk])).content.decode()
    assert "évaluation collégiale, 3 évaluateurs" in body
    out = io.StringIO()
    call_command("delete_expired_ratings", stdout=out)
    assert "pour 0 réponse(s)" in out.getvalue()


def test_back_to_direct_only_before_anyone_answered(team, assessment):
    response = assessment.response
    rate(assessment, team["member"], {"q02": "fonctionnement"}, finish=False)
    with pytest.raises(services.CollegialError):
        services.mode_set(
            response=response, user=team["coordinator"], collegial=False, synthesis_opens_on=None
        )
    RatingAnswer.objects.all().delete()
    services.mode_set(
        response=response, user=team["coordinator"], collegial=False, synthesis_opens_on=None
    )
    assert not CollegialAssessment.objects.exists()


COLLEGIAL_GETS = ("setup", "rating", "synthesis", "agenda")


@pytest.mark.parametrize(
    "role, expected",
    [
        ("coordinator", {"setup": 200, "rating": 200, "synthesis": 200, "agenda": 200}),
        ("member", {"setup": 403, "rating": 200, "synthesis": 403, "agenda": 403}),
        ("other_member", {"setup": 403, "rating": 404, "synthesis": 403, "agenda": 403}),
        ("ars", {"setup": 403, "rating": 403, "synthesis": 403, "agenda": 403}),
        ("cpam", {"setup": 403, "rating": 403, "synthesis": 403, "agenda": 403}),
        ("fcpts", {"setup": 403, "rating": 403, "synthesis": 403, "agenda": 403}),
        ("no_role", {"setup": 403, "rating": 403, "synthesis": 403, "agenda": 403}),
    ],
)
def test_who_may_open_the_collegial_pages(client, users, team, assessment, role, expected):
    client.force_login(users[role])
    for name in COLLEGIAL_GETS:
        url = reverse(f"collegial:{name}", args=[assessment.response_id])
        assert client.get(url).status_code == expected[name], name


def test_out_of_scope_ids_are_404(client, users, team, assessment, campaign, territory):
    """Another CPTS's collegial response, or a response that does not exist."""
    elsewhere = Response.objects.create(campaign=campaign, cpts=territory["paris_2"])
    other = CollegialAssessment.objects.create(response=elsewhere, synthesis_opens_on=TODAY())
    Rating.objects.create(assessment=other, rater=users["other_member"])
    client.force_login(team["coordinator"])
    for name in COLLEGIAL_GETS:
        for pk in (elsewhere.pk, 999999):
            assert client.get(reverse(f"collegial:{name}", args=[pk])).status_code == 404
    for name in ("synthesis_keep_unanimous", "synthesis_open", "rating_finish"):
        assert client.post(reverse(f"collegial:{name}", args=[elsewhere.pk])).status_code == 404
    client.force_login(users["other_member"])
    assert client.get(reverse("collegial:rating", args=[assessment.response_id])).status_code == 404
    # A member not invited to rate has no rating page.
    client.force_login(UserFactory(role=User.Role.MEMBER, cpts=[territory["paris_1"]]))
    assert client.get(reverse("collegial:rating", args=[assessment.response_id])).status_code == 404

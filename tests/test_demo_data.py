import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from accounts.scoping import cpts_visible_to
from questionnaire import rules
from questionnaire.models import Answer, Campaign, Response
from territories.models import Cpts, TerritoryIndicator


@pytest.fixture
def demo(questionnaire, settings):
    settings.DEBUG = True
    call_command("load_demo_data", password="mot-de-passe-demo")
    return questionnaire


def counts():
    return (
        Cpts.objects.count(),
        Campaign.objects.count(),
        Response.objects.count(),
        Answer.objects.count(),
        TerritoryIndicator.objects.count(),
        User.objects.count(),
    )


def test_demo_data_is_complete_and_idempotent(demo):
    first = counts()
    assert first[0] == 40 and first[1] == 3
    assert Cpts.objects.values("department__region").distinct().count() >= 5
    call_command("load_demo_data", password="mot-de-passe-demo")
    assert counts() == first


def test_thesis_cpts_carry_the_figures_of_tables_3_and_5(demo):
    a = TerritoryIndicator.objects.get(cpts__code="THESE-A", year=2021)
    assert (a.population, float(a.area_km2), float(a.unemployment_rate), a.gp_count) == (
        57482,
        5.0,
        17.3,
        28,
    )
    e = TerritoryIndicator.objects.get(cpts__code="THESE-E", year=2021)
    assert e.share_chronic_condition is None  # "ND" in Table 5
    assert Cpts.objects.get(code="THESE-B").stage == Cpts.Stage.FORMALISING
    assert Cpts.objects.get(code="THESE-C").department.code == "77"


def test_demo_users_and_their_scopes(demo):
    coordinator = User.objects.get(username="demo-coordinateur")
    assert coordinator.check_password("mot-de-passe-demo")
    assert sorted(c.code for c in cpts_visible_to(coordinator)) == ["THESE-A", "THESE-B"]
    ars = User.objects.get(username="demo-ars-idf")
    assert {c.department.region.code for c in cpts_visible_to(ars)} == {"11"}
    assert cpts_visible_to(ars).count() == 14
    cpam = User.objects.get(username="demo-cpam-75")
    assert cpts_visible_to(cpam).count() == 6
    assert cpts_visible_to(User.objects.get(username="demo-fcpts")).count() == 40
    member = User.objects.get(username="demo-membre")
    assert member.role == User.Role.MEMBER
    assert [c.code for c in cpts_visible_to(member)] == ["THESE-A"]
    assert member.memberships.get().function == "membre_bureau"
    assert coordinator.memberships.filter(function="coordinateur_salarie").count() == 2
    # Every demo user has an address, so that their e-mail shows (console) or arrives (SMTP).
    assert sorted(User.objects.values_list("email", flat=True)) == sorted(
        f"{u.username}@example.org" for u in User.objects.all()
    )


def test_every_demo_answer_obeys_the_questionnaire_rules(demo):
    answers = Answer.objects.select_related("question__condition_question").prefetch_related(
        "question__options"
    )
    by_response: dict[int, dict[int, object]] = {}
    for answer in answers:
        by_response.setdefault(answer.response_id, {})[answer.question_id] = answer.value
        assert rules.clean_answer(answer.question, answer.value, answer.other_text) == (
            answer.value,
            answer.other_text,
        )
    questions = list(demo.questions.prefetch_related("options"))
    for response in Response.objects.filter(status=Response.Status.SUBMITTED):
        values = by_response[response.id]
        applicable = {q.id for q in questions if rules.is_applicable(q, values)}
        assert set(values) == applicable, response
    # Answers vary between CPTS: not one value repeated everywhere.
    assert Answer.objects.filter(question__number=30).values("value").distinct().count() >= 3


def test_demo_data_is_refused_when_debug_is_off(questionnaire, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG est désactivé"):
        call_command("load_demo_data")
    assert not Cpts.objects.exists()

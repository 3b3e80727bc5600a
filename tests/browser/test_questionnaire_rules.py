"""Conditions, exclusive options, "Autre" text and concurrent editors, in Chromium."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from questionnaire.models import Answer, Question, Response

pytestmark = pytest.mark.browser


def open_section(page: Page, demo_site, response: Response, code: str) -> None:
    page.goto(f"{demo_site.url}/questionnaire/reponses/{response.pk}/section/{code}/")


def start_cpts_a(page: Page) -> Response:
    cpts_a = page.locator("section", has=page.get_by_role("heading", name="CPTS A"))
    cpts_a.get_by_role("button", name=re.compile("Commencer|Continuer")).click()
    expect(page.locator("#section-form")).to_be_visible()
    return Response.objects.get(cpts__code="THESE-A", campaign__slug="campagne-2026")


def question(response: Response, number: int) -> Question:
    return Question.objects.get(version=response.campaign.questionnaire, number=number)


def test_conditions_exclusive_options_and_other_text(page, login, screenshot, demo_site):
    login("demo-coordinateur")
    response = start_cpts_a(page)
    q2 = question(response, 2)

    # Q2 says "not running": the health-project section asks Q28, not Q26-27.
    page.locator(f"#q{q2.id}-ingenierie").check()
    expect(page.locator("#question-2 .save-status")).to_contain_text("Enregistré")
    open_section(page, demo_site, response, "projet_sante")
    expect(page.locator("#question-28")).to_be_visible()
    expect(page.locator("#question-26")).to_be_hidden()
    expect(page.locator("#question-27")).to_be_hidden()

    # Exclusive option: "Non, pour aucune" unticks the others, and the reverse.
    q28 = question(response, 28)
    page.locator(f"#q{q28.id}-acces_soins").check()
    page.locator(f"#q{q28.id}-prevention").check()
    page.locator(f"#q{q28.id}-aucune").check()
    expect(page.locator(f"#q{q28.id}-acces_soins")).not_to_be_checked()
    expect(page.locator(f"#q{q28.id}-prevention")).not_to_be_checked()
    expect(page.locator("#question-28 .save-status")).to_contain_text("Enregistré")
    assert Answer.objects.get(response=response, question=q28).value == ["aucune"]

    # "Autre : à spécifier" needs its text: refused in French until it is given.
    page.locator(f"#q{q28.id}-autre").check()
    expect(page.locator(f"#q{q28.id}-aucune")).not_to_be_checked()
    expect(page.locator(f"#q{q28.id}-other")).to_be_visible()
    expect(page.locator("#question-28 .field-error")).to_contain_text("Précisez votre réponse")
    screenshot("rules-other-text-required")
    assert Answer.objects.get(response=response, question=q28).value == ["aucune"]
    page.locator(f"#q{q28.id}-other").fill("Aide à la rédaction du diagnostic")
    expect(page.locator("#question-28 .save-status")).to_contain_text("Enregistré")
    stored = Answer.objects.get(response=response, question=q28)
    assert (stored.value, stored.other_text) == (["autre"], "Aide à la rédaction du diagnostic")

    # Back to "running": Q26-27 appear, Q28 is kept but no longer counts.
    open_section(page, demo_site, response, "niveau_maturite")
    page.locator(f"#q{q2.id}-fonctionnement").check()
    expect(page.locator("#question-2 .save-status")).to_contain_text("Enregistré")
    open_section(page, demo_site, response, "projet_sante")
    expect(page.locator("#question-26")).to_be_visible()
    expect(page.locator("#question-28")).to_be_hidden()
    screenshot("rules-conditions-running")

    # A number out of range is refused beside its field, and nothing is stored.
    open_section(page, demo_site, response, "population_territoire")
    q7 = question(response, 7)
    page.locator(f"#q{q7.id}").fill("5000")
    expect(page.locator("#question-7 .field-error")).to_contain_text("entre 1 et 1000")
    assert not Answer.objects.filter(response=response, question=q7).exists()
    screenshot("rules-number-out-of-range")


def test_two_coordinators_editing_at_once_lose_nothing(browser, login, demo_site, page):
    login("demo-coordinateur")
    response = start_cpts_a(page)
    q4 = question(response, 4)
    q30 = question(response, 30)

    other_context = browser.new_context()
    other = other_context.new_page()
    other.goto(f"{demo_site.url}/connexion/")
    other.get_by_label("Nom d’utilisateur").fill("demo-coordinateur")
    other.get_by_label("Mot de passe").fill("mot-de-passe-demo")
    other.get_by_role("button", name="Se connecter").click()
    expect(other.get_by_role("button", name="Se déconnecter")).to_be_visible()

    # Both open the same section; each answers a different question: both are kept.
    open_section(page, demo_site, response, "niveau_maturite")
    open_section(other, demo_site, response, "niveau_maturite")
    open_section(page, demo_site, response, "dynamique_collective")
    page.locator(f"#q{q30.id}-importante").check()
    other.locator(f"#q{q4.id}-partiel").check()
    expect(page.locator("#question-30 .save-status")).to_contain_text("Enregistré")
    expect(other.locator("#question-4 .save-status")).to_contain_text("Enregistré")

    # Both change Q4 from the same starting point: the second save is refused, and its
    # author sees the other's answer instead of silently overwriting it.
    open_section(page, demo_site, response, "niveau_maturite")
    other.locator(f"#q{q4.id}-total").check()
    expect(other.locator("#question-4 .save-status")).to_contain_text("Enregistré")
    page.locator(f"#q{q4.id}-faible").check()
    expect(page.locator("#question-4 .field-error")).to_contain_text("a été modifiée par")
    expect(page.locator("#question-4 .field-error")).to_contain_text("Total")
    expect(page.locator(f"#q{q4.id}-total")).to_be_checked()
    other_context.close()

    answers = {a.question.number: a.value for a in Answer.objects.filter(response=response)}
    assert answers[4] == "total" and answers[30] == "importante"
    history = Answer.history.filter(response_id=response.pk, question_id=q4.id)
    assert [h.value for h in history.order_by("history_date")] == ["partiel", "total"]


def test_questionnaire_pages_have_no_serious_accessibility_violation(page, login, demo_site):
    login("demo-coordinateur")
    response = start_cpts_a(page)
    axe = Axe()
    for url in (
        f"/questionnaire/reponses/{response.pk}/section/niveau_maturite/",
        f"/questionnaire/reponses/{response.pk}/section/gouvernance/",
        f"/questionnaire/reponses/{response.pk}/",
        "/questionnaire/",
    ):
        page.goto(demo_site.url + url)
        results = axe.run(page)
        serious = [
            (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:5])
            for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert serious == [], (url, serious)

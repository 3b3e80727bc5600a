"""Issue 13 §4: the autosave client tells the truth and keeps what was typed, in Chromium."""

import re

import pytest
from playwright.sync_api import Page, expect

from questionnaire.models import Answer, Question, Response
from tests.browser.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def start_cpts_a(page: Page) -> Response:
    cpts_a = page.locator("section", has=page.get_by_role("heading", name="CPTS A"))
    cpts_a.get_by_role("button", name=re.compile("Commencer|Continuer")).click()
    expect(page.locator("#section-form")).to_be_visible()
    return Response.objects.get(cpts__code="THESE-A", campaign__slug="campagne-2026")


def question(response: Response, number: int) -> Question:
    return Question.objects.get(version=response.campaign.questionnaire, number=number)


def section_url(demo_site, response: Response, code: str) -> str:
    return f"{demo_site.url}/questionnaire/reponses/{response.pk}/section/{code}/"


def stored_keys(page: Page, response: Response) -> list[str]:
    return page.evaluate(
        "pattern => Object.keys(localStorage).filter(key => new RegExp(pattern).test(key))",
        rf"^cpts-autosave:\d+:{response.pk}:",
    )


def test_answers_given_offline_survive_closing_the_page(
    page, context, login, demo_site, screenshot
):
    login("demo-coordinateur")
    response = start_cpts_a(page)
    q2, q4, q7 = (question(response, n) for n in (2, 4, 7))
    url = section_url(demo_site, response, "niveau_maturite")
    page.goto(url)
    before = Answer.objects.filter(response=response).count()

    context.set_offline(True)
    page.locator(f"#q{q2.id}-ingenierie").check()
    page.locator(f"#q{q4.id}-partiel").check()
    page.locator(f"#q{q4.id}-total").check()  # changed again, still offline
    expect(page.locator("#question-4 .save-status")).to_contain_text("hors connexion")
    expect(page.locator("#save-banner")).to_contain_text("gardées dans ce navigateur")
    screenshot("autosave-offline")
    assert len(stored_keys(page, response)) == 2
    page.close()  # a closed tab, a laptop that went to sleep
    assert Answer.objects.filter(response=response).count() == before  # nothing reached it

    context.set_offline(False)
    page = context.new_page()
    page.goto(url)
    # What was typed is shown again and sent.
    expect(page.locator(f"#q{q4.id}-total")).to_be_checked()
    expect(page.locator("#question-4 .save-status")).to_contain_text("Enregistré")
    expect(page.locator("#question-2 .save-status")).to_contain_text("Enregistré")
    expect(page.locator(".field-error:not(:empty)")).to_have_count(0)  # no conflict shown
    expect(page.locator("#save-banner")).to_be_hidden()
    assert stored_keys(page, response) == []
    answers = {a.question_id: a for a in Answer.objects.filter(response=response)}
    assert (answers[q2.id].value, answers[q2.id].revision) == ("ingenierie", 1)
    assert (answers[q4.id].value, answers[q4.id].revision) == ("total", 1)
    history = Answer.history.filter(response_id=response.pk, question_id=q4.id)
    assert [h.value for h in history] == ["total"]  # one revision, no duplicate

    # Offline again, without leaving the page: sent as soon as the connection is back.
    page.goto(section_url(demo_site, response, "population_territoire"))
    context.set_offline(True)
    page.locator(f"#q{q7.id}").fill("25")
    expect(page.locator("#question-7 .save-status")).to_contain_text("hors connexion")
    context.set_offline(False)
    expect(page.locator("#question-7 .save-status")).to_contain_text("Enregistré", timeout=15000)
    assert Answer.objects.get(response=response, question=q7).value == 25


def test_an_expired_session_is_said_and_typing_resumes_after_a_new_login(
    page, context, login, demo_site, screenshot
):
    login("demo-coordinateur")
    response = start_cpts_a(page)
    q4 = question(response, 4)
    page.goto(section_url(demo_site, response, "niveau_maturite"))

    other = context.new_page()  # another tab: the session ends there
    other.goto(demo_site.url)
    other.get_by_role("button", name="Se déconnecter").click()
    expect(other.get_by_label("Nom d’utilisateur")).to_be_visible()

    page.bring_to_front()
    page.locator(f"#q{q4.id}-faible").check()
    banner = page.locator("#save-banner")
    expect(banner).to_contain_text("Votre session a expiré")
    expect(banner.get_by_role("link", name="Se reconnecter (nouvel onglet)")).to_have_attribute(
        "target", "_blank"
    )
    screenshot("autosave-session-expired")
    assert not Answer.objects.filter(response=response, question=q4).exists()

    # Logging in again (a new CSRF token) in the other tab, then coming back: sent.
    other.bring_to_front()
    other.get_by_label("Nom d’utilisateur").fill("demo-coordinateur")
    other.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    other.get_by_role("button", name="Se connecter").click()
    expect(other.get_by_role("button", name="Se déconnecter")).to_be_visible()
    page.bring_to_front()
    expect(page.locator("#question-4 .save-status")).to_contain_text("Enregistré", timeout=20000)
    assert Answer.objects.get(response=response, question=q4).value == "faible"
    expect(banner).to_be_hidden()


def test_a_refused_answer_is_explained_beside_the_question(page, login, demo_site):
    login("demo-coordinateur")
    response = start_cpts_a(page)
    q7 = question(response, 7)
    page.goto(section_url(demo_site, response, "population_territoire"))
    page.locator(f"#q{q7.id}").fill("5000")
    expect(page.locator("#question-7 .field-error")).to_have_text(
        "Saisissez un nombre entre 1 et 1000."
    )
    expect(page.locator("#question-7 .save-status")).to_contain_text("corrigez la réponse")
    assert stored_keys(page, response) == []  # refused by the server: nothing left to send


def test_a_server_error_is_said_and_not_hammered(page, login, demo_site):
    login("demo-coordinateur")
    response = start_cpts_a(page)
    q4 = question(response, 4)
    page.goto(section_url(demo_site, response, "niveau_maturite"))
    attempts = []

    def proxy_error(route):
        # What the reverse proxy answers while the application server is down.
        attempts.append(route.request.url)
        route.fulfill(status=502, content_type="text/html", body="<h1>502 Bad Gateway</h1>")

    page.route("**/enregistrer/", proxy_error)
    page.locator(f"#q{q4.id}-partiel").check()
    expect(page.locator("#save-banner")).to_contain_text("Le serveur a rencontré une erreur")
    page.wait_for_timeout(5000)
    assert len(attempts) == 1  # the next try is a minute later, not every 2 s
    assert len(stored_keys(page, response)) == 1  # kept until the server acknowledges it

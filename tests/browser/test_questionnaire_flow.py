"""A coordinator fills the whole questionnaire in Chromium, with a logout halfway."""

import re

import pytest
from playwright.sync_api import Page, expect

from questionnaire.models import Answer, Question, Response
from tests.browser.helpers import answer_question

pytestmark = pytest.mark.browser


def section_links(page: Page) -> list[str]:
    return page.locator("nav .section-nav a").evaluate_all("links => links.map(a => a.href)")


def test_fill_everything_with_a_logout_halfway_then_submit(page, login, screenshot, demo_site):
    login("demo-coordinateur")
    expect(page.get_by_role("heading", name="Mes CPTS")).to_be_visible()
    screenshot("my-cpts")
    cpts_a = page.locator("section", has=page.get_by_role("heading", name="CPTS A"))
    cpts_a.get_by_role("button", name="Commencer").click()
    expect(
        page.get_by_role("heading", name=re.compile("Structure — Niveau de maturité"))
    ).to_be_visible()

    response = Response.objects.get(cpts__code="THESE-A", campaign__slug="campagne-2026")
    questions = {
        q.number: q for q in Question.objects.filter(version=response.campaign.questionnaire)
    }
    links = section_links(page)
    assert len(links) == 19
    answered: list[int] = []
    for index, link in enumerate(links):
        if index == 9:  # halfway: log out and back in, nothing must be lost
            page.get_by_role("button", name="Se déconnecter").click()
            login("demo-coordinateur")
            page.get_by_role("button", name="Continuer").first.click()
            for number in answered:
                fieldset = page.locator(f"#question-{number}")
                if fieldset.count():
                    assert (
                        fieldset.locator(
                            "input:checked, select option:checked[value]:not([value=''])"
                        ).count()
                        or fieldset.locator(
                            "input[type=number], input[type=month]"
                        ).first.input_value()
                    )
            assert Answer.objects.filter(response=response).count() == len(answered)
        page.goto(link)
        for fieldset in page.locator("fieldset.question:visible").all():
            number = int(fieldset.get_attribute("id").split("-")[1])
            answer_question(page, questions[number])
            answered.append(number)
        screenshot(f"section-{index + 1:02d}")

    stored = Answer.objects.filter(response=response)
    assert stored.count() == len(answered) == 41  # Q28 is not asked of a running CPTS
    page.get_by_role("link", name="Relire et soumettre").click()
    expect(page.get_by_role("button", name="Soumettre le questionnaire")).to_be_visible()
    screenshot("review-complete")
    page.get_by_role("button", name="Soumettre le questionnaire").click()
    expect(page.get_by_text("Merci ! Votre questionnaire a été soumis.")).to_be_visible()
    screenshot("submitted")
    response.refresh_from_db()
    assert response.status == Response.Status.SUBMITTED
    assert response.submitted_by.username == "demo-coordinateur"

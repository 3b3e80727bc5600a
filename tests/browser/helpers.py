"""What several browser test modules share."""

from playwright.sync_api import Page, expect

from questionnaire.models import Question


def answer_question(page: Page, question: Question) -> None:
    """Give a valid answer to one visible question, the way a user would."""
    fieldset = page.locator(f"#question-{question.number}")
    name = f"q{question.id}"
    if question.type == "single_choice":
        fieldset.locator(f"input[name={name}]").first.check()
    elif question.type == "multiple_choice":
        fieldset.locator(f"input[name={name}]:not([data-exclusive])").first.check()
        other = fieldset.locator(f"#{name}-other")
        if other.count() and other.is_visible():
            other.fill("Précision")
    elif question.type == "number":
        fieldset.locator(f"#{name}").fill("12")
    elif question.type == "month_year":
        fieldset.locator(f"#{name}").fill("2019-02")
    elif question.type == "role_table":
        fieldset.locator(f"#{name}-president").select_option("medecins")
        fieldset.locator(f"#{name}-tresorier").select_option("infirmiers")
    expect(fieldset.locator(".save-status")).to_contain_text("Enregistré")

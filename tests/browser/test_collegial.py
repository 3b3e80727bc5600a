"""Done when of issue 17: a coordinator runs a collegial assessment with two members, in three
browser contexts; an ARS officer then sees the agreed response and nothing of the ratings."""

import csv
import datetime as dt
import re

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Membership, User
from collegial import services
from collegial.models import Rating
from questionnaire.models import Question, Response
from tests.browser.conftest import DEMO_PASSWORD
from tests.helpers import MIXED

pytestmark = pytest.mark.browser

# Each rater answers Q12 (a choice) and Q7 (a number) in the browser, differently.
# Paul's answer to Q7, as a number of its own: not the digits inside a chart's coordinates.
RATING_987 = re.compile(r"(?<![\d.])987(?![\d.])")
BROWSER_ANSWERS = {
    "demo-coordinateur": ("de_51_a_100", "3"),
    "collegial-ines": ("de_51_a_100", "3"),
    "collegial-paul": ("plus_100", "987"),
}


def sign_in(page: Page, base: str, username: str, width: int) -> None:
    """Log in at desktop width (the phone layout folds the menu away), then use `width`."""
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{base}/connexion/")
    page.get_by_label("Nom d’utilisateur").fill(username)
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    page.set_viewport_size({"width": width, "height": 900})


def member(username: str, first: str, cpts) -> User:
    user = User.objects.create_user(
        username,
        email=f"{username}@example.org",
        password=DEMO_PASSWORD,
        first_name=first,
        last_name="Collège",
        role=User.Role.MEMBER,
    )
    Membership.objects.create(user=user, cpts=cpts)
    return user


def rate_in_browser(page: Page, base: str, response: Response, username: str) -> None:
    """Q12 and Q7 through the section pages and their autosave; the other questions of the
    rating are written by the service the autosave calls (42 questions × 3 raters in a browser
    would make this test take minutes without testing anything more)."""
    questions = {
        q.variable: q
        for q in Question.objects.filter(version=response.campaign.questionnaire).select_related(
            "subdimension"
        )
    }
    rating = Rating.objects.get(assessment__response=response, rater__username=username)
    for variable, raw in MIXED.items():
        if variable in ("q07", "q12"):
            continue
        value, other = raw if isinstance(raw, tuple) else (raw, "")
        services.rating_answer_save(
            rating=rating,
            question=questions[variable],
            value=value,
            other_text=other,
            expected_revision=0,
        )
    choice, number = BROWSER_ANSWERS[username]
    page.goto(f"{base}/questionnaire/reponses/{response.pk}/mon-evaluation/")
    expect(page.get_by_role("heading", name="Mon évaluation individuelle")).to_be_visible()
    for variable, fill in (("q12", choice), ("q07", number)):
        question = questions[variable]
        page.goto(
            f"{base}/questionnaire/reponses/{response.pk}/mon-evaluation/section/"
            f"{question.subdimension.code}/"
        )
        expect(page.locator("#section-notice")).to_contain_text("évaluation individuelle")
        fieldset = page.locator(f"#question-{question.number}")
        if question.type == "number":
            fieldset.locator(f"#q{question.id}").fill(fill)
        else:
            fieldset.locator(f"#q{question.id}-{fill}").check()
        expect(fieldset.locator(".save-status")).to_contain_text("Enregistré")
    # The section form's own button: on a phone the section list (and its link) is folded away.
    page.get_by_role("button", name="Relire mon évaluation").click()
    page.get_by_role("button", name="J'ai terminé").click()
    expect(page.locator("#rating-status")).to_contain_text("Terminée")


@pytest.mark.parametrize("width", [390, 1366])
def test_collegial_assessment_from_invitation_to_the_ars_view(
    page, browser, login, demo_site, screenshot, width, tmp_path
):
    base = demo_site.url
    login("demo-coordinateur")
    page.set_viewport_size({"width": width, "height": 900})
    cpts_a = page.locator("section", has=page.get_by_role("heading", name="CPTS A"))
    cpts_a.get_by_role("button", name="Commencer").click()
    response = Response.objects.get(cpts__code="THESE-A", status=Response.Status.DRAFT)
    ines = member("collegial-ines", "Inès", response.cpts)
    paul = member("collegial-paul", "Paul", response.cpts)

    # The coordinator switches the response to collegial and invites two members and herself.
    page.goto(f"{base}/questionnaire/reponses/{response.pk}/")
    page.get_by_role("link", name=re.compile("passer en évaluation collégiale")).click()
    page.get_by_label("Collégial").check()
    page.get_by_label("Ouverture de la synthèse").fill(
        (dt.date.today() + dt.timedelta(days=7)).isoformat()
    )
    page.get_by_role("button", name="Enregistrer le mode").click()
    expect(page.get_by_text("Mode collégial enregistré.")).to_be_visible()
    for user in (ines, paul):
        page.get_by_label(re.compile(user.first_name)).check()
    page.get_by_label(re.compile(r"\(moi\)")).check()
    page.get_by_role("button", name="Inviter").click()
    expect(page.get_by_text("3 évaluateur·rice(s) invité·e(s) par e-mail.")).to_be_visible()
    screenshot(f"collegial-setup-{width}")

    # Three raters, three browser contexts.
    rate_in_browser(page, base, response, "demo-coordinateur")
    contexts = []
    for username in ("collegial-ines", "collegial-paul"):
        context = browser.new_context()
        contexts.append(context)
        other = context.new_page()
        sign_in(other, base, username, width)
        rate_in_browser(other, base, response, username)
        if username == "collegial-paul":
            # A rater never sees another's answers before the synthesis.
            other.goto(f"{base}/questionnaire/reponses/{response.pk}/synthese/")
            assert "Accès refusé" in other.content()
    page.goto(f"{base}/questionnaire/reponses/{response.pk}/collegiale/")
    expect(page.locator("#raters")).to_contain_text("Terminé")
    assert not RATING_987.search(page.content())

    # The synthesis: divergences, unanimous answers at once, the rest settled one by one.
    page.get_by_role("button", name="Ouvrir la synthèse maintenant").click()
    page.get_by_role("link", name="Afficher seulement les divergences").click()
    divergent = page.locator("article.synthesis-question")
    expect(divergent).to_have_count(2)
    expect(page.locator("#synthesis-summary")).to_contain_text("2 questions divergentes")
    assert "Paul Collège" not in page.content()
    screenshot(f"collegial-synthesis-divergences-{width}")
    page.get_by_role("button", name=re.compile("Retenir les réponses unanimes")).click()
    expect(
        page.get_by_text(re.compile(r"\d+ réponse\(s\) unanime\(s\) retenue\(s\)"))
    ).to_be_visible()
    questions = {
        q.variable: q for q in Question.objects.filter(version=response.campaign.questionnaire)
    }
    q12 = page.locator(f"#synthese-q{questions['q12'].number}")
    q12.locator("li", has_text="[51-100]").get_by_role(
        "button", name="Retenir cette réponse"
    ).click()
    expect(page.get_by_text(f"Q{questions['q12'].number} : réponse retenue.")).to_be_visible()
    q7 = page.locator(f"#synthese-q{questions['q07'].number}")
    q7.get_by_text("Retenir une autre valeur").click()
    q7.locator(f"#q{questions['q07'].id}").fill("4")
    q7.get_by_role("button", name="Retenir cette valeur").click()
    expect(page.get_by_text(f"Q{questions['q07'].number} : réponse retenue.")).to_be_visible()
    page.get_by_role("link", name="Ordre du jour imprimable").click()
    expect(page.locator("li.agenda-item")).to_have_count(2)
    screenshot(f"collegial-agenda-{width}")

    page.goto(f"{base}/questionnaire/reponses/{response.pk}/")
    page.get_by_role("button", name="Soumettre le questionnaire").click()
    expect(page.get_by_text("Merci ! Votre questionnaire a été soumis.")).to_be_visible()
    page.locator("main").get_by_role("link", name="Résultats").click()
    expect(page.locator("#disagreement")).to_be_visible()
    expect(page.locator("#disagreement-topic")).to_contain_text("Sujet à discuter")
    screenshot(f"collegial-results-{width}")
    for context in contexts:
        context.close()

    # The ARS officer of the region: the agreed response, "3 évaluateurs", no rating anywhere.
    ars = browser.new_context()
    ars_page = ars.new_page()
    sign_in(ars_page, base, "demo-ars-idf", width)
    for url in (
        f"{base}/questionnaire/reponses/{response.pk}/",
        f"{base}/resultats/reponses/{response.pk}/",
    ):
        ars_page.goto(url)
        expect(ars_page.locator("#collegial-mention")).to_have_text(
            "évaluation collégiale, 3 évaluateurs"
        )
        body = ars_page.content()
        assert not RATING_987.search(body) and "Paul Collège" not in body and "Inès" not in body
        assert "Ce que révèlent vos désaccords" not in body
    ars_page.goto(f"{base}/questionnaire/reponses/{response.pk}/mon-evaluation/")
    assert "Accès refusé" in ars_page.content()
    ars_page.goto(f"{base}/exports/")
    ars_page.get_by_label(response.campaign.name).check()
    ars_page.get_by_label("Large : une ligne par réponse", exact=False).check()
    with ars_page.expect_download() as info:
        ars_page.get_by_role("button", name="Exporter").click()
    path = tmp_path / "wide.csv"
    info.value.save_as(path)
    text = path.read_text(encoding="utf-8-sig")
    [row] = [r for r in csv.DictReader(text.splitlines()) if r["cpts_code"] == "THESE-A"]
    assert row["q07"] == "4" and row["q12"] == "de_51_a_100"
    assert "987" not in text
    ars.close()

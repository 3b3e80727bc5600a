"""People in Chromium, with every e-mail through a real SMTP server: the federation imports
accounts, a coordinator activates and invites a board member who answers, a user resets a
forgotten password."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from accounts.models import Membership, User
from accounts.services import users_import_csv
from questionnaire.models import Answer, Question, Response
from territories.models import Cpts
from tests.browser.conftest import DEMO_PASSWORD
from tests.browser.helpers import answer_question
from tests.smtp import first_link

pytestmark = pytest.mark.browser

HEADER = "email,first_name,last_name,role,territory,function"
NEW_PASSWORD = "Printemps-des-CPTS-2027"


@pytest.fixture
def mail(smtp, demo_site, settings):
    """The real SMTP server, with links in e-mails pointing at the live server."""
    settings.PORTAL_BASE_URL = demo_site.url
    return smtp.mailbox


def choose_password(page: Page, link: str, password: str = NEW_PASSWORD) -> None:
    page.goto(link)
    page.locator("#id_new_password1").fill(password)
    page.get_by_label("Confirmation du nouveau mot de passe").fill(password)
    page.get_by_role(
        "button", name=re.compile("Activer mon compte|Changer mon mot de passe")
    ).click()


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("heading", name="Connexion")).to_be_visible()


def test_fcpts_imports_users_bad_line_then_fixed_file(page, login, mail, screenshot):
    login("demo-fcpts")
    page.get_by_role("link", name="Utilisateurs").click()
    expect(page.get_by_role("heading", name="Utilisateurs du portail")).to_be_visible()
    lines = [
        HEADER,
        "lea.moreau@example.org,Léa,Moreau,coordinator,THESE-C,coordinateur_salarie",
        "jean.petit@example.org,Jean,Petit,member,THESE-C|THESE-D,president",
        "ines.roux@example.org,Inès,Roux,member,THESE-X,membre_bureau",
    ]

    def upload(text: str) -> None:
        page.get_by_label("Fichier CSV").set_input_files(
            files=[{"name": "comptes.csv", "mimeType": "text/csv", "buffer": text.encode()}]
        )
        page.get_by_role("button", name="Importer").click()

    upload("\n".join(lines))
    errors = page.locator(".import-errors")
    expect(errors).to_contain_text("aucun compte n’a été créé ni modifié")
    expect(errors).to_contain_text("Ligne 4 : CPTS inconnue(s) : THESE-X.")
    screenshot("federation-import-refused")
    assert not User.objects.filter(email__in=["lea.moreau@example.org", "jean.petit@example.org"])

    lines[3] = "ines.roux@example.org,Inès,Roux,member,THESE-E,membre_bureau"
    upload("\n".join(lines))
    expect(page.get_by_role("status").first).to_contain_text(
        "3 compte(s) créé(s), 0 mis à jour, 0 inchangé(s), 3 lien(s) d'activation en cours d’envoi."
    )
    for address in ("lea.moreau@example.org", "jean.petit@example.org", "ines.roux@example.org"):
        [message] = mail.wait_for(address)
        assert first_link(message, "/connexion/activer/").startswith(
            page.url.split("/federation")[0]
        )
    page.get_by_label("Rôle").select_option("member")
    page.get_by_label("Jamais connecté").select_option("true")
    page.get_by_role("button", name="Filtrer").click()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(3)  # with the demo member, who never logged in either
    for name in ("Julien Garnier", "Jean Petit", "Inès Roux"):
        expect(rows.filter(has_text=name)).to_have_count(1)
    expect(rows.filter(has_text="Jean Petit")).to_contain_text("pas encore activé")
    screenshot("federation-users")


def test_coordinator_activates_invites_a_board_member_who_answers(
    page, browser, mail, demo_site, screenshot
):
    report = users_import_csv(
        text=f"{HEADER}\nsophie.bernard@example.org,Sophie,Bernard,coordinator,THESE-A,"
        "coordinateur_salarie\n",
        send_activation=True,
    )
    assert report.ok and report.activations == 1
    [invitation] = mail.wait_for("sophie.bernard@example.org")
    choose_password(page, first_link(invitation, "/connexion/activer/"))
    expect(page.get_by_text("Votre compte est activé. Bienvenue !")).to_be_visible()
    expect(page.get_by_role("heading", name="Mes CPTS")).to_be_visible()

    cpts_a = page.locator("section", has=page.get_by_role("heading", name="CPTS A"))
    cpts_a.get_by_role("link", name="Équipe").click()
    expect(page.get_by_role("heading", name=re.compile("Équipe de CPTS A"))).to_be_visible()
    page.get_by_label("Adresse e-mail").fill("Marc.Lambert@Example.org")
    page.get_by_label("Prénom").fill("Marc")
    page.locator("#id_last_name").fill("Lambert")
    page.get_by_label("Fonction dans la CPTS").select_option("membre_bureau")
    page.get_by_role("button", name="Inviter").click()
    expect(page.get_by_role("status").first).to_contain_text("Marc Lambert fait maintenant partie")
    marc = page.locator(".team-list li", has_text="Marc Lambert")
    expect(marc).to_contain_text("Membre du bureau")
    expect(marc).to_contain_text("pas encore activé")
    screenshot("team-page")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("team-page-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    # The board member, in a browser of their own.
    context = browser.new_context(viewport={"width": 390, "height": 844})
    member_page = context.new_page()
    [board] = mail.wait_for("marc.lambert@example.org")
    assert "Sophie Bernard vous invite" in board["Subject"]
    choose_password(member_page, first_link(board, "/connexion/activer/"), "Bureau-CPTS-A-2026")
    expect(member_page.get_by_role("heading", name="Mes CPTS")).to_be_visible()
    member_page.locator(
        "section", has=member_page.get_by_role("heading", name="CPTS A")
    ).get_by_role("button", name="Commencer").click()
    number = int(member_page.locator("fieldset.question:visible").first.get_attribute("id")[9:])
    response = Response.objects.get(cpts__code="THESE-A", campaign__slug="campagne-2026")
    question = Question.objects.get(version=response.campaign.questionnaire, number=number)
    answer_question(member_page, question)
    member_page.screenshot(path=str(screenshot("team-page-phone").parent / "member-answers.png"))
    context.close()

    marc = User.objects.get(email="marc.lambert@example.org")
    assert marc.role == User.Role.MEMBER
    assert Membership.objects.get(user=marc, cpts__code="THESE-A").function == "membre_bureau"
    assert Answer.objects.filter(response=response, updated_by=marc).count() == 1
    assert response.status == Response.Status.DRAFT


def test_a_user_resets_a_forgotten_password(page, mail, demo_site, screenshot):
    page.goto(f"{demo_site.url}/connexion/")
    page.get_by_role("link", name="Mot de passe oublié ?").click()
    page.get_by_label("Votre adresse e-mail").fill("Demo-CPAM-75@example.org")
    page.get_by_role("button", name="Recevoir un lien").click()
    expect(page.get_by_role("heading", name="Vérifiez votre messagerie")).to_be_visible()
    screenshot("password-reset-sent")
    [message] = mail.wait_for("demo-cpam-75@example.org")
    choose_password(page, first_link(message, "/connexion/nouveau-mot-de-passe/"))
    expect(page.get_by_text("Votre mot de passe a été changé")).to_be_visible()
    log_out(page)
    page.get_by_label("Nom d’utilisateur").fill("demo-cpam-75@example.org")
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(
        page.get_by_text("Adresse e-mail, nom d’utilisateur ou mot de passe incorrect")
    ).to_be_visible()
    page.get_by_label("Mot de passe").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name=re.compile("Tableau de bord"))).to_be_visible()


def serious_violations(page: Page) -> list:
    results = Axe().run(page)
    return [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:5])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_people_pages_have_no_serious_accessibility_violation(page, login, demo_site):
    for url in (
        "/connexion/",
        "/connexion/mot-de-passe-oublie/",
        "/connexion/mot-de-passe-oublie/envoye/",
        "/connexion/activer/MQ/c0ffee-0123456789abcdef/",
    ):
        page.goto(demo_site.url + url)
        assert serious_violations(page) == [], url
    login("demo-coordinateur")
    cpts_a = Cpts.objects.get(code="THESE-A")
    page.goto(f"{demo_site.url}/questionnaire/cpts/{cpts_a.pk}/equipe/")
    assert serious_violations(page) == []
    log_out(page)
    login("demo-fcpts")
    page.goto(f"{demo_site.url}/federation/utilisateurs/")
    assert serious_violations(page) == []

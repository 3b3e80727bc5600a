import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_demo_coordinator_logs_in_and_out(page, login, screenshot, demo_site):
    page.goto(f"{demo_site.url}/connexion/")
    expect(page.get_by_role("heading", name="Connexion")).to_be_visible()
    screenshot("login")
    login("demo-coordinateur")
    expect(page.get_by_role("heading", name="Mes CPTS")).to_be_visible()
    expect(page.get_by_role("heading", name="CPTS A")).to_be_visible()
    expect(page.get_by_role("heading", name="CPTS B")).to_be_visible()
    screenshot("home-coordinator")
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("heading", name="Connexion")).to_be_visible()


def test_wrong_password_gets_a_french_message(page, demo_site):
    page.goto(f"{demo_site.url}/connexion/")
    page.get_by_label("Nom d’utilisateur").fill("demo-coordinateur")
    page.get_by_label("Mot de passe").fill("pas le bon")
    page.get_by_role("button", name="Se connecter").click()
    message = page.get_by_text("Adresse e-mail, nom d’utilisateur ou mot de passe incorrect")
    expect(message).to_be_visible()

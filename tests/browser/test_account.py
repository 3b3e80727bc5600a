"""Browser: an FCPTS admin enrols TOTP and signs in with it; a coordinator downloads their data
and deletes their account; the notices are public."""

import json
import time
from base64 import b32decode
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django_otp.oath import TOTP
from playwright.sync_api import expect

from tests.browser.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def app_code(secret: str, steps_ahead: int = 0) -> str:
    """What an authenticator app shows for this base32 secret (RFC 6238, 30 s, 6 digits)."""
    totp = TOTP(b32decode(secret))
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def password_step(page, url: str, username: str) -> None:
    page.goto(f"{url}/connexion/")
    page.get_by_label("Nom d’utilisateur").fill(username)
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


def no_serious_violation(page) -> None:
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not serious, [(v["id"], v["nodes"][0]["target"]) for v in serious]


def test_an_fcpts_admin_enrols_totp_and_signs_in_with_it(page, demo_site, screenshot, settings):
    settings.OTP_REQUIRED_FOR_FCPTS = True
    password_step(page, demo_site.url, "demo-fcpts")
    expect(page.get_by_role("heading", name="Activer la double authentification")).to_be_visible()
    expect(page.get_by_text("la double authentification est obligatoire")).to_be_visible()
    expect(page.locator(".qr-code svg")).to_be_visible()
    no_serious_violation(page)
    screenshot("second-factor-enrol")
    page.set_viewport_size({"width": 390, "height": 844})
    # The QR code and the 32-character key fit a phone: nothing scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot("second-factor-enrol-phone")
    page.set_viewport_size({"width": 1280, "height": 720})
    secret = page.locator("#otp-secret").inner_text()

    page.get_by_role("textbox", name="Code").fill("000000")
    page.get_by_role("button", name="Activer").click()
    expect(page.get_by_text("Code incorrect")).to_be_visible()
    page.wait_for_timeout(1100)  # django-otp makes the next try wait 1 s after a wrong code
    page.get_by_role("textbox", name="Code").fill(app_code(secret))
    page.get_by_role("button", name="Activer").click()
    expect(page.get_by_text("La double authentification est activée.")).to_be_visible()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    screenshot("second-factor-recovery-codes")
    page.get_by_role("link", name="Continuer").click()
    expect(page.get_by_role("heading", name="Tableau de bord du territoire")).to_be_visible()

    page.get_by_role("button", name="Se déconnecter").click()
    password_step(page, demo_site.url, "demo-fcpts")
    expect(page.get_by_role("heading", name="Code de vérification")).to_be_visible()
    no_serious_violation(page)
    # The code just used is refused a second time; the app's next one is accepted.
    page.get_by_role("textbox", name="Code").fill(app_code(secret, steps_ahead=1))
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("heading", name="Tableau de bord du territoire")).to_be_visible()
    page.goto(f"{demo_site.url}/admin/")
    expect(page.get_by_role("heading", name="Site d’administration")).to_be_visible()


def test_a_coordinator_downloads_their_data_then_deletes_their_account(
    page, login, demo_site, screenshot
):
    login("demo-coordinateur")
    page.get_by_role("link", name="Mon compte").click()
    expect(page.get_by_role("heading", name="Mon compte", exact=True)).to_be_visible()
    no_serious_violation(page)
    screenshot("account")
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger mes données").click()
    data = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert data["account"]["username"] == "demo-coordinateur"
    assert {m["cpts_name"] for m in data["memberships"]} >= {"CPTS A", "CPTS B"}

    page.get_by_role("link", name="Supprimer mon compte").click()
    page.get_by_label("Votre mot de passe, pour confirmer").fill("pas le bon")
    page.get_by_label("Je comprends que mon compte sera supprimé définitivement.").check()
    page.get_by_role("button", name="Supprimer définitivement mon compte").click()
    expect(page.get_by_text("Mot de passe incorrect.")).to_be_visible()
    page.get_by_label("Votre mot de passe, pour confirmer").fill(DEMO_PASSWORD)
    page.get_by_label("Je comprends que mon compte sera supprimé définitivement.").check()
    page.get_by_role("button", name="Supprimer définitivement mon compte").click()
    expect(page.get_by_text("Votre compte a été supprimé")).to_be_visible()
    expect(page.get_by_role("heading", name="Connexion")).to_be_visible()

    password_step(page, demo_site.url, "demo-coordinateur")
    expect(page.get_by_text("ou mot de passe incorrect", exact=False)).to_be_visible()


@pytest.mark.parametrize("width", [390, 1280])
def test_notices_are_public_and_linked_from_the_login_page(page, demo_site, screenshot, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{demo_site.url}/connexion/")
    page.get_by_role("link", name="qui les voit").click()
    expect(
        page.get_by_role("heading", name="Vos données personnelles sur le portail")
    ).to_be_visible()
    no_serious_violation(page)
    screenshot(f"privacy-notice-{width}")
    page.get_by_role("link", name="Accessibilité : non conforme").click()
    expect(page.get_by_role("heading", name="Déclaration d'accessibilité")).to_be_visible()
    no_serious_violation(page)

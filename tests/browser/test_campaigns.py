"""The FCPTS admin runs a campaign from the console: creates it, imports its participants (a bad
line is refused), opens it, sends the invitations, and watches a submission move the funnel."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from campaigns.models import CampaignMessage
from questionnaire.models import Campaign
from territories.models import Cpts
from tests.helpers import MIXED, make_response

pytestmark = pytest.mark.browser


def funnel_total(page, column: int) -> str:
    total_row = page.locator("table.funnel").first.locator("tbody tr").last
    return total_row.locator("td").nth(column).inner_text()


@pytest.mark.parametrize("width", [390, 1366])
def test_fcpts_runs_a_campaign_from_the_console(
    page, login, demo_site, screenshot, tmp_path, width
):
    login("demo-fcpts")
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{demo_site.url}/federation/campagnes/")
    page.get_by_role("link", name="Nouvelle campagne").click()
    today = timezone.localdate()
    page.get_by_label("Nom").fill("Campagne pilote")
    page.get_by_label("Identifiant").fill("campagne-pilote")
    page.get_by_label("Année").fill(str(today.year + 1))
    page.get_by_label("Version du questionnaire").select_option(index=1)
    page.get_by_label("Ouverture").fill((today + dt.timedelta(days=5)).isoformat())
    page.get_by_label("Clôture").fill((today + dt.timedelta(days=60)).isoformat())
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Campagne créée en brouillon.")).to_be_visible()

    a, b = Cpts.objects.get(code="THESE-A"), Cpts.objects.get(code="THESE-B")
    bad = tmp_path / "participants.csv"
    bad.write_text(f"cpts_code,email\n{a.code},\nNOPE,\n{b.code},\n", encoding="utf-8")
    page.get_by_label("Fichier CSV").set_input_files(str(bad))
    page.get_by_role("button", name="Importer", exact=True).click()
    expect(page.get_by_text("Ligne 3 : CPTS inconnue « NOPE »")).to_be_visible()
    screenshot(f"campaign-import-refused-{width}")
    assert not Campaign.objects.get(slug="campagne-pilote").participants.exists()

    good = tmp_path / "participants-ok.csv"
    good.write_text(f"cpts_code;email\n{a.code};\n{b.code};\n", encoding="utf-8")
    page.get_by_label("Fichier CSV").set_input_files(str(good))
    page.get_by_role("button", name="Importer", exact=True).click()
    expect(page.get_by_text("2 participant(s) et 0 contact(s) ajouté(s).")).to_be_visible()

    page.get_by_role("button", name="Ouvrir maintenant").click()
    expect(page.get_by_text("La campagne est ouverte.")).to_be_visible()
    page.get_by_role("button", name="Envoyer les invitations").click()
    # Both CPTS are reached through the demo coordinator: one invitation per CPTS.
    expect(page.get_by_text("2 invitation(s) envoyée(s).")).to_be_visible()
    assert (
        CampaignMessage.objects.filter(participant__campaign__slug="campagne-pilote").count() == 2
    )
    screenshot(f"campaign-detail-{width}")

    page.get_by_role("link", name="Suivi de la campagne").click()
    expect(page.get_by_role("heading", name="Suivi — Campagne pilote")).to_be_visible()
    assert funnel_total(page, 0) == "2" and funnel_total(page, 4) == "0"
    make_response(Campaign.objects.get(slug="campagne-pilote"), MIXED, cpts=a)
    page.reload()
    assert funnel_total(page, 1) == "2"  # invited
    assert funnel_total(page, 4) == "1"  # submitted
    screenshot(f"campaign-tracking-{width}")
    assert page.evaluate("document.documentElement.scrollWidth") <= width

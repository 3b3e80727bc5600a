"""The coordinator's results in Chromium: Plotly charts under the strict CSP, and explanations."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from questionnaire.models import Response
from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.browser


@pytest.fixture
def scored_demo(demo_site):
    # load_demo_data scores the submitted responses it creates.
    return Response.objects.get(cpts__code="THESE-A", campaign__slug="campagne-2025")


@pytest.fixture
def console(page):
    messages: list[str] = []
    page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: messages.append(f"pageerror: {error}"))
    return messages


def test_coordinator_sees_matrix_radar_and_evolution(
    page, login, screenshot, demo_site, scored_demo, console
):
    assert scored_demo.status == Response.Status.SUBMITTED
    login("demo-coordinateur")
    console.clear()  # the login page's missing favicon is not this page's business
    page.goto(f"{demo_site.url}/resultats/reponses/{scored_demo.pk}/")
    expect(page.get_by_role("heading", name="Résultats de CPTS A — Campagne 2025")).to_be_visible()
    for chart in ("matrice", "radar", "evolution"):
        expect(page.locator(f"#graphique-{chart} .main-svg").first).to_be_visible()
    # The heatmap drew its nine cells' labels, "non évalué" included.
    matrix = page.locator("#graphique-matrice")
    expect(matrix.locator(".annotation-text", has_text="non évalué")).to_have_count(2)
    # More than five other CPTS answered the 2025 campaign: the radar adds their median.
    expect(
        page.get_by_text(re.compile(r"Médiane des \d+ autres CPTS de la campagne"))
    ).to_be_visible()
    expect(page.locator("#graphique-radar .scatterlayer .trace")).to_have_count(2)
    expect(page.locator("#graphique-evolution .scatterlayer .trace")).to_have_count(4)
    screenshot("results-coordinator")
    for chart in ("matrice", "radar", "evolution"):
        page.locator(f"#graphique-{chart}").screenshot(path=SCREENSHOTS / f"results-{chart}.png")
    # No CSP violation, no script error: the strict bundle and the static stylesheet suffice.
    assert [m for m in console if "Content Security Policy" in m or m.startswith("pageerror")] == []
    assert [m for m in console if m.startswith("error")] == []

    page.locator("#tableau-matrice a").first.click()
    expect(page).to_have_url(re.compile(r"/explication/#case-structure-interne$"))
    expect(
        page.get_by_role("heading", name=re.compile("^Structure × Contraintes internes"))
    ).to_be_visible()
    screenshot("explanation-coordinator")
    page.screenshot(path=SCREENSHOTS / "explanation-cell-viewport.png")  # scrolled to the cell


def test_results_pages_have_no_serious_accessibility_violation(page, login, demo_site, scored_demo):
    login("demo-coordinateur")
    axe = Axe()
    for url in (
        "/resultats/",
        f"/resultats/reponses/{scored_demo.pk}/",
        f"/resultats/reponses/{scored_demo.pk}/explication/",
    ):
        page.goto(demo_site.url + url)
        page.wait_for_load_state("networkidle")
        results = axe.run(page)
        serious = [
            (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:5])
            for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert serious == [], (url, serious)


def test_an_ars_officer_opens_a_cpts_explanation(page, login, screenshot, demo_site, scored_demo):
    login("demo-ars-idf")
    page.goto(f"{demo_site.url}/resultats/")
    row = page.locator("tr", has_text="CPTS A").filter(has_text="Campagne 2025")
    row.get_by_role("link", name=re.compile("^Explication")).click()
    expect(page.get_by_role("heading", name=re.compile("^Indice global : "))).to_be_visible()
    expect(page.locator("#question-2")).to_contain_text("CPTS en fonctionnement")
    screenshot("explanation-ars")
    page.screenshot(path=SCREENSHOTS / "explanation-ars-viewport.png")

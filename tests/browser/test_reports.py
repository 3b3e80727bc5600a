"""The PDF report and the territory bundle in Chromium, at phone and desktop widths."""

import io
import re

import pypdf
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from questionnaire.models import Response
from territories.models import Department

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [390, 1280])
def test_the_results_button_gives_the_demo_cpts_a_report(
    page, login, screenshot, demo_site, settings, tmp_path, width
):
    settings.MEDIA_ROOT = tmp_path / "media"
    response = Response.objects.get(cpts__code="THESE-A", campaign__slug="campagne-2025")
    login("demo-coordinateur")
    page.set_viewport_size({"width": width, "height": 900})  # after login: the menu folds
    page.goto(f"{demo_site.url}/resultats/reponses/{response.pk}/")
    button = page.get_by_role("link", name="Télécharger le rapport (PDF)")
    expect(button).to_be_visible()
    screenshot(f"results-report-button-{width}")
    # Celery is eager here, as under `make run`: the first answer is the PDF itself.
    answer = page.request.get(demo_site.url + button.get_attribute("href"))
    assert answer.status == 200 and answer.headers["content-type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(answer.body()))
    # About six to eight pages; demo CPTS A's many long options and its pistes take a ninth.
    assert "CPTS A" in reader.pages[0].extract_text() and 6 <= len(reader.pages) <= 9


@pytest.mark.parametrize("width", [390, 1280])
def test_an_ars_officer_prepares_the_bundle_of_her_region(
    page, login, screenshot, demo_site, settings, tmp_path, width
):
    settings.MEDIA_ROOT = tmp_path / "media"
    login("demo-ars-idf")
    page.set_viewport_size({"width": width, "height": 900})
    # Paris only, so that the bundle (built during the request: Celery is eager) stays small.
    paris = Department.objects.get(code="75")
    page.goto(f"{demo_site.url}/tableaux-de-bord/?campagne=campagne-2024&departement={paris.pk}")
    page.get_by_role("link", name="Rapports PDF de ces CPTS (ZIP)").click()
    expect(page.get_by_role("heading", name="Rapports PDF du territoire")).to_be_visible()
    count = page.locator("#bundle-count")
    expect(count).to_have_text(re.compile(r"^\d+ CPTS (a|ont) soumis"))
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    screenshot(f"reports-bundle-{width}")
    page.set_default_timeout(180_000)  # the POST renders every report of the bundle
    page.get_by_role("button", name="Préparer le fichier ZIP").click()
    heading = page.get_by_role("heading", name="Export en arrière-plan")
    expect(heading).to_be_visible(timeout=180_000)
    # Eager Celery built it during the request: the download link is there.
    expect(page.get_by_role("link", name="Télécharger le fichier")).to_be_visible(timeout=30_000)
    screenshot(f"reports-bundle-job-{width}")

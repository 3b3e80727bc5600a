"""Territory dashboards in Chromium, logged in as the demo ARS, CPAM and FCPTS users."""

import csv
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

DEMO_CPTS = Path(__file__).resolve().parents[2] / "demo" / "data" / "demo_cpts.csv"
ILE_DE_FRANCE = {"75", "77", "78", "91", "92", "93", "94", "95"}


def demo_cpts_names(departments: set[str] | None) -> set[str]:
    """The oracle: names straight from the demo data file, not from the portal's scoping."""
    with DEMO_CPTS.open(encoding="utf-8") as file:
        return {
            row["name"]
            for row in csv.DictReader(file)
            if departments is None or row["department_code"] in departments
        }


@pytest.fixture
def console(page):
    """Script errors and failed requests (the favicon included)."""
    messages: list[str] = []
    page.on("pageerror", lambda error: messages.append(f"pageerror: {error}"))

    def failed(response) -> None:
        if response.status >= 400:
            messages.append(f"{response.status} {response.url}")

    page.on("response", failed)
    return messages


def table_column(page, index: int) -> list[str]:
    return page.locator(f"#tableau-cpts tbody tr td:nth-child({index})").all_inner_texts()


@pytest.mark.parametrize(
    "username, departments",
    [("demo-ars-idf", ILE_DE_FRANCE), ("demo-cpam-75", {"75"}), ("demo-fcpts", None)],
)
def test_each_role_sees_its_territory_charts_and_filters(
    page, login, screenshot, console, username, departments
):
    login(username)
    expect(page.get_by_role("heading", name="Tableau de bord du territoire")).to_be_visible()
    assert set(table_column(page, 1)) == demo_cpts_names(departments)
    # Plotly drew at least one chart under the strict CSP, without a script error.
    expect(page.locator("[data-figure] .main-svg").first).to_be_visible()
    assert console == []
    screenshot(f"dashboard-{username}")

    everyone = table_column(page, 1)
    page.get_by_label("Statut de la réponse").select_option(label="Soumise")
    page.get_by_role("button", name="Appliquer").click()
    expect(page.get_by_label("Statut de la réponse")).to_have_value("submitted")
    submitted = table_column(page, 1)
    assert 0 < len(submitted) < len(everyone)
    assert set(table_column(page, 4)) == {"Soumise"}
    screenshot(f"dashboard-{username}-soumises")


def test_an_ars_officer_filters_by_department_and_downloads_chart_data(
    page, login, screenshot, demo_site
):
    login("demo-ars-idf")
    page.get_by_label("Département", exact=True).select_option(label="Paris (75)")
    page.get_by_role("button", name="Appliquer").click()
    expect(page.get_by_label("Département", exact=True)).not_to_have_value("")
    assert set(table_column(page, 1)) == demo_cpts_names({"75"})
    assert set(table_column(page, 2)) == {"Paris (75)"}
    with page.expect_download() as download:
        page.locator("#section-evolution").get_by_text("Télécharger ces données (CSV)").click()
    with open(download.value.path(), encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert [row["Campagne"] for row in rows] == ["Campagne 2024", "Campagne 2025", "Campagne 2026"]


def test_cpts_page_and_compare(page, login, screenshot, console, demo_site):
    login("demo-fcpts")
    page.get_by_role("link", name="CPTS A", exact=True).click()
    expect(page.get_by_role("heading", name="CPTS A", exact=True)).to_be_visible()
    expect(page.locator("#graphique-radar .main-svg").first).to_be_visible()
    expect(page.locator("#tableau-indicateurs")).to_contain_text("2026")
    expect(page.get_by_role("link", name="Explication du score").first).to_be_visible()
    screenshot("dashboard-cpts-page")

    page.get_by_role("link", name="Comparer", exact=True).first.click()
    page.get_by_label("Campagne").select_option(label="Campagne 2025")
    # The CPTS picker searches as one types; each CPTS found is ticked into the choice.
    search = page.get_by_label("Rechercher une CPTS")
    for name, department in (("CPTS A", "93"), ("CPTS B", "75"), ("CPTS C", "77")):
        search.fill(name)
        page.get_by_label(f"{name} ({department})", exact=True).check()
    expect(page.locator("[data-picker-chosen] input:checked")).to_have_count(3)
    page.get_by_role("button", name="Comparer", exact=True).click()
    expect(page.locator("#tableau-comparaison thead")).to_contain_text("CPTS C")
    expect(page.locator("#graphique-radar .main-svg").first).to_be_visible()
    assert page.locator("[data-figure^='figure-matrice-'] .main-svg").count() >= 2
    assert console == []
    screenshot("dashboard-compare")

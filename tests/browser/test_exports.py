"""The FCPTS admin downloads cohort exports from the export page, streamed or built in the
background with a progress bar."""

import csv

import pytest
from playwright.sync_api import expect

from questionnaire.models import Response

pytestmark = pytest.mark.browser


def _read(path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle, delimiter=";" if "excel" in str(path) else ","))


def _submitted_codes(slug: str) -> list[str]:
    return sorted(
        Response.objects.filter(campaign__slug=slug, status=Response.Status.SUBMITTED).values_list(
            "cpts__code", flat=True
        )
    )


def test_fcpts_downloads_a_wide_export(page, login, demo_site, screenshot, tmp_path):
    login("demo-fcpts")
    page.get_by_role("link", name="Exports").click()
    expect(page.get_by_role("heading", name="Exports de cohorte")).to_be_visible()
    page.get_by_label("Campagne 2025").check()
    page.get_by_label("Large : une ligne par réponse", exact=False).check()
    screenshot("exports-page")
    with page.expect_download() as info:
        page.get_by_role("button", name="Exporter").click()
    download = info.value
    assert download.suggested_filename == "cpts-wide-campagne-2025.csv"
    path = tmp_path / download.suggested_filename
    download.save_as(path)

    rows = _read(path)
    assert rows[0][:9] == [
        "campaign",
        "cpts_code",
        "cpts_name",
        "department",
        "region",
        "stage",
        "status",
        "submitted_at",
        "q01",
    ]
    codes = _submitted_codes("campagne-2025")
    assert len(codes) >= 30  # the demo's 2025 campaign: most of the 40 CPTS submitted
    assert sorted(row[1] for row in rows[1:]) == codes
    assert {row[0] for row in rows[1:]} == {"campagne-2025"}
    assert {row[6] for row in rows[1:]} == {"submitted"}
    width = len(rows[0])
    assert all(len(row) == width for row in rows)


def test_a_large_export_shows_its_progress_then_downloads(
    page, login, demo_site, screenshot, tmp_path, settings
):
    # Every export is "large" here; Celery runs eagerly in tests, so the file is ready when
    # the job page loads, and the page's script reveals the download link from the state URL.
    settings.EXPORTS_STREAM_MAX_RESPONSES = 0
    settings.MEDIA_ROOT = tmp_path / "media"
    login("demo-fcpts")
    page.goto(f"{demo_site.url}/exports/")
    page.get_by_label("Campagne 2026").check()
    page.get_by_label("Long : une ligne par réponse", exact=False).check()
    page.get_by_label("Excel (France)", exact=False).check()
    page.get_by_role("button", name="Exporter").click()
    expect(page.get_by_text("Export volumineux")).to_be_visible()
    link = page.get_by_role("link", name="Télécharger le fichier")
    expect(link).to_be_visible()
    expect(page.locator("progress")).to_have_attribute("value", "100")
    screenshot("exports-job-done")
    with page.expect_download() as info:
        link.click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    assert path.name == "cpts-long-campagne-2026-excel.csv"
    assert path.read_bytes().startswith("\ufeffcampaign;".encode())
    rows = _read(path)
    assert rows[0] == ["campaign", "cpts_code", "question", "variable", "option_code", "value"]
    assert sorted({row[1] for row in rows[1:]}) == _submitted_codes("campagne-2026")

"""The dashboards' CPTS pickers ("CPTS à suivre", "CPTS à comparer"): a scoped server-side search
instead of every CPTS of the scope as an <option>; and the filters' wording."""

import re

import pytest
from django.urls import reverse

from territories.models import Department
from tests.factories import CptsFactory

PICKER_BOX = re.compile(r'<input[^>]*name="(suivre|cpts)"[^>]*>')


def picker_boxes(response) -> list[tuple[str, bool]]:
    """(CPTS id, checked) for every checkbox of the page's picker."""
    found = []
    for tag in PICKER_BOX.finditer(response.content.decode()):
        value = re.search(r'value="(\d+)"', tag.group(0)).group(1)
        found.append((value, " checked" in tag.group(0)))
    return found


@pytest.fixture
def many_paris(territory):
    paris = Department.objects.get(code="75")
    return [CptsFactory(name=f"CPTS Montmartre {n}", department=paris) for n in range(30)]


def test_the_overview_lists_only_chosen_cpts_and_search_matches(
    client, users, territory, campaign, many_paris
):
    client.force_login(users["ars"])
    url = reverse("dashboards:overview")
    page = client.get(url, {"campagne": campaign.slug})
    body = page.content.decode()
    assert page.status_code == 200
    assert picker_boxes(page) == []
    assert not re.search(rf'<option value="{many_paris[0].pk}"[^>]*>CPTS Montmartre', body)

    followed = territory["paris_2"]
    page = client.get(
        url,
        {"campagne": campaign.slug, "suivre": [followed.pk], "chercher": "montmartre 1"},
    )
    boxes = picker_boxes(page)
    assert boxes[0] == (str(followed.pk), True)
    expected = sorted(
        (c for c in many_paris if "Montmartre 1" in c.name), key=lambda c: (c.name, c.pk)
    )
    assert boxes[1:] == [(str(c.pk), False) for c in expected]
    assert "CPTS Montmartre 1 (75)" in page.content.decode()


def test_the_search_is_scoped_capped_and_needs_two_letters(client, users, territory, many_paris):
    client.force_login(users["cpam"])  # Paris only
    url = reverse("dashboards:cpts_search")
    names = [r["name"] for r in client.get(url, {"q": "cpts"}).json()["results"]]
    assert len(names) == 20 and "CPTS Lyon" not in names and "CPTS Saint-Denis" not in names
    assert client.get(url, {"q": "lyon"}).json() == {"results": []}
    assert client.get(url, {"q": "u"}).json() == {"results": []}
    exact = client.get(url, {"q": territory["paris_1"].code.lower()}).json()["results"]
    assert exact == [{"id": territory["paris_1"].pk, "name": "CPTS Paris Un", "department": "75"}]
    client.force_login(users["ars"])  # Île-de-France: Paris and Saint-Denis, not Lyon
    names = {r["name"] for r in client.get(url, {"q": "saint"}).json()["results"]}
    assert names == {"CPTS Saint-Denis"}
    client.force_login(users["coordinator"])
    assert client.get(url, {"q": "cpts"}).status_code == 403


def test_compare_searches_without_javascript_and_keeps_the_choice(
    client, users, territory, campaign
):
    client.force_login(users["ars"])
    url = reverse("dashboards:compare")
    chosen = territory["paris_1"]
    page = client.get(
        url,
        {"campagne": campaign.slug, "cpts": [chosen.pk], "chercher": "paris", "rechercher": "1"},
    )
    assert page.status_code == 200
    assert "pairs" not in page.context
    assert "Choisissez de 2 à 5" not in page.content.decode()
    assert picker_boxes(page) == [(str(chosen.pk), True), (str(territory["paris_2"].pk), False)]
    # Comparing one CPTS is still refused once the user asks for the comparison.
    page = client.get(url, {"campagne": campaign.slug, "cpts": [chosen.pk], "chercher": "paris"})
    assert "Choisissez de 2 à 5 CPTS à comparer." in page.content.decode()
    assert picker_boxes(page)[0] == (str(chosen.pk), True)


def test_too_many_followed_cpts_keeps_them_on_the_page_with_the_error(
    client, users, campaign, many_paris
):
    client.force_login(users["fcpts"])
    six = [c.pk for c in many_paris[:6]]
    page = client.get(reverse("dashboards:overview"), {"campagne": campaign.slug, "suivre": six})
    assert "Choisissez au plus 5 CPTS à suivre." in page.content.decode()
    assert [value for value, checked in picker_boxes(page) if checked] == [str(pk) for pk in six]


def test_filters_name_their_empty_choice_and_the_campaign_reads_well(client, users, campaign):
    client.force_login(users["fcpts"])
    body = client.get(reverse("dashboards:overview"), {"campagne": campaign.slug}).content.decode()
    for label in (
        "Toutes les régions",
        "Tous les départements",
        "Tous les stades",
        "Tous les niveaux",
        "Tous les statuts",
    ):
        assert f">{label}</option>" in body
    assert "---------" not in body
    assert "pour la campagne" not in body and f"territoire — {campaign.name}." in body


def test_the_favicon_is_served(client, users):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and b"".join(icon.streaming_content)[:4] == b"\x00\x00\x01\x00"
    client.force_login(users["fcpts"])
    body = client.get(reverse("dashboards:overview")).content.decode()
    assert re.search(r'<link rel="icon" href="/static/favicon[.\w]*\.svg"', body)

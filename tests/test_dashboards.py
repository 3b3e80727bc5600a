"""Territory dashboards: who sees what, what the aggregates hide, and how many queries they cost."""

import csv
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dashboards.selectors import distribution
from questionnaire.models import Answer, Campaign, Response
from scoring import services
from scoring.models import AreaScore, ResponseScore
from territories.models import Cpts, Department, Region
from tests.factories import CampaignFactory, CptsFactory, ResponseScoreFactory
from tests.helpers import MIXED, make_response

CHARTS = ["matrice", "departements", "evolution", "stades"]


@pytest.fixture
def scored(campaign, territory, grid):
    """Every CPTS of the territory fixture submitted the campaign and is scored."""
    for cpts in territory.values():
        ResponseScoreFactory(response=make_response(campaign, MIXED, cpts=cpts), grid=grid)
    return campaign


def scored_cpts(campaign, grid, count: int, department_code: str = "75") -> list[Cpts]:
    department = Department.objects.get(code=department_code)
    found = []
    for _ in range(count):
        cpts = CptsFactory(department=department)
        ResponseScoreFactory(response=make_response(campaign, MIXED, cpts=cpts), grid=grid)
        found.append(cpts)
    return found


def dashboard_urls(territory, campaign) -> list[tuple[str, dict]]:
    """Every dashboard URL, with the campaign asked for."""
    params = {"campagne": campaign.slug}
    compare = {**params, "cpts": [territory["paris_1"].pk, territory["paris_2"].pk]}
    return [
        (reverse("dashboards:overview"), params),
        *[(reverse("dashboards:chart_csv", args=[slug]), params) for slug in CHARTS],
        (reverse("dashboards:cpts", args=[territory["paris_1"].pk]), {}),
        (reverse("dashboards:compare"), compare),
    ]


def rows_of(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def table_names(response) -> set[str]:
    return {row.record.name for row in response.context["table"].page.object_list}


# --- Access -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role, status",
    [("ars", 200), ("cpam", 200), ("fcpts", 200), ("coordinator", 403), ("no_role", 403)],
)
def test_every_dashboard_url_for_every_role(client, users, territory, scored, role, status):
    client.force_login(users[role])
    for url, params in dashboard_urls(territory, scored):
        assert client.get(url, params).status_code == status, url


def test_anonymous_visitors_are_sent_to_the_login_page(client, territory, scored):
    for url, params in dashboard_urls(territory, scored):
        response = client.get(url, params)
        assert response.status_code == 302 and response.url.startswith(reverse("login")), url


@pytest.mark.parametrize(
    "role, outside, other_region",
    [("ars", "lyon", True), ("cpam", "saint_denis", False), ("cpam", "lyon", True)],
)
def test_a_territory_outside_the_scope_is_not_found(
    client, users, territory, scored, role, outside, other_region
):
    client.force_login(users[role])
    foreign = territory[outside]
    params = {"campagne": scored.slug}
    asked = [
        (reverse("dashboards:cpts", args=[foreign.pk]), {}),
        (reverse("dashboards:overview"), {**params, "departement": foreign.department_id}),
        (reverse("dashboards:overview"), {**params, "suivre": [foreign.pk]}),
        (
            reverse("dashboards:compare"),
            {**params, "cpts": [territory["paris_1"].pk, foreign.pk]},
        ),
    ]
    if other_region:
        asked.append(
            (reverse("dashboards:overview"), {**params, "region": foreign.department.region_id})
        )
    for slug in CHARTS:
        url = reverse("dashboards:chart_csv", args=[slug])
        asked += [
            (url, {**params, "departement": foreign.department_id}),
            (url, {**params, "suivre": [foreign.pk]}),
        ]
    for url, query in asked:
        response = client.get(url, query)
        assert response.status_code == 404, (url, query)
        assert foreign.name not in response.content.decode()


def test_the_region_filter_keeps_cpam_staff_in_their_department(client, users, scored):
    client.force_login(users["cpam"])
    region = Region.objects.get(code="11")
    response = client.get(reverse("dashboards:overview"), {"region": region.pk})
    assert response.status_code == 200  # Île-de-France is offered: Paris is in it
    assert table_names(response) == {"CPTS Paris Un", "CPTS Paris Deux"}


def test_unknown_campaign_or_chart_is_not_found(client, users, scored):
    client.force_login(users["fcpts"])
    assert client.get(reverse("dashboards:overview"), {"campagne": "nope"}).status_code == 404
    assert client.get(reverse("dashboards:chart_csv", args=["camembert"])).status_code == 404


# --- What each role sees ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "role, names",
    [
        ("ars", {"CPTS Paris Un", "CPTS Paris Deux", "CPTS Saint-Denis"}),
        ("cpam", {"CPTS Paris Un", "CPTS Paris Deux"}),
        ("fcpts", {"CPTS Paris Un", "CPTS Paris Deux", "CPTS Saint-Denis", "CPTS Lyon"}),
    ],
)
def test_the_overview_lists_the_cpts_in_scope(client, users, scored, role, names):
    client.force_login(users[role])
    response = client.get(reverse("dashboards:overview"))
    assert table_names(response) == names
    rate = response.context["rate"]
    assert (rate.submitted, rate.total) == (len(names), len(names))


def test_filters_change_the_table_and_the_response_rate(client, users, territory, scored):
    Response.objects.filter(cpts=territory["paris_2"]).update(
        status=Response.Status.DRAFT, submitted_at=None
    )
    Cpts.objects.filter(pk=territory["saint_denis"].pk).update(stage=Cpts.Stage.DECLARED)
    client.force_login(users["ars"])
    url = reverse("dashboards:overview")

    submitted = client.get(url, {"statut": "submitted"})
    assert table_names(submitted) == {"CPTS Paris Un", "CPTS Saint-Denis"}
    assert table_names(client.get(url, {"statut": "draft"})) == {"CPTS Paris Deux"}
    assert table_names(client.get(url, {"stade": "declaration"})) == {"CPTS Saint-Denis"}
    assert table_names(client.get(url, {"q": "deux"})) == {"CPTS Paris Deux"}
    by_department = client.get(url, {"departement": territory["saint_denis"].department_id})
    assert table_names(by_department) == {"CPTS Saint-Denis"}
    everyone = client.get(url).context["rate"]
    assert (everyone.submitted, everyone.total, everyone.percent) == (2, 3, Decimal("66.7"))


def test_a_bad_filter_value_gets_a_french_message_and_no_error(client, users, scored):
    client.force_login(users["ars"])
    response = client.get(reverse("dashboards:overview"), {"stade": "inconnu"})
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in response.content.decode()


def test_sorting_by_score_puts_cpts_without_a_score_last(client, users, territory, scored, grid):
    lower = {**MIXED, "q22": "non"}
    response = make_response(
        scored, lower, cpts=CptsFactory(department=territory["paris_1"].department)
    )
    services.response_score(response=response, grid=grid)
    CptsFactory(name="CPTS sans réponse", department=territory["paris_1"].department)
    client.force_login(users["cpam"])
    for sort in ("score_index", "-score_index"):
        page = client.get(reverse("dashboards:overview"), {"sort": sort})
        records = [row.record for row in page.context["table"].page.object_list]
        assert records[-1].name == "CPTS sans réponse", sort
        indexes = [r.score_index for r in records[:-1]]
        assert indexes == sorted(indexes, reverse=sort.startswith("-"))


# --- Small-cell suppression ---------------------------------------------------------------


def test_quartiles_hide_a_group_of_four_and_show_a_group_of_five():
    four = distribution("quatre", [Decimal(v) for v in (10, 20, 30, 40)])
    assert not four.shown and four.count == 4
    assert (four.minimum, four.q1, four.median, four.q3, four.maximum) == (None,) * 5
    five = distribution("cinq", [Decimal(v) for v in (50, 10, 40, 20, 30)])
    assert five.shown
    assert (five.minimum, five.q1, five.median, five.q3, five.maximum) == (10, 20, 30, 40, 50)


@pytest.mark.parametrize("count, shown", [(4, False), (5, True)])
def test_territory_aggregates_need_five_cpts(client, users, campaign, grid, count, shown):
    created = scored_cpts(campaign, grid, count)
    client.force_login(users["cpam"])
    params = {"campagne": campaign.slug}
    page = client.get(reverse("dashboards:overview"), params)
    charts = {chart.slug: chart for chart in page.context["charts"]}
    cells = rows_of(client.get(reverse("dashboards:chart_csv", args=["matrice"]), params))
    departments = rows_of(
        client.get(reverse("dashboards:chart_csv", args=["departements"]), params)
    )
    assert departments[0]["Département"] == "Paris (75)"
    assert departments[0]["CPTS"] == str(count)
    # Every CPTS gave the same answers, so a shown mean is any one CPTS's stored value.
    one = AreaScore.objects.filter(
        score__response__cpts=created[0], kind=AreaScore.Kind.CELL, value__isnull=False
    )
    expected = {(a.dimension.label, a.get_constraint_display()): a.value for a in one}
    assessed = [row for row in cells if (row["Dimension"], row["Contrainte"]) in expected]
    assert len(assessed) == len(expected) > 0
    for row in assessed:
        assert row["CPTS évaluées"] == str(count)
        if shown:
            assert Decimal(row["Moyenne"]) == expected[(row["Dimension"], row["Contrainte"])]
            assert row["Note"] == ""
        else:
            assert row["Moyenne"] == "" and row["Note"] == "masqué : moins de 5 CPTS"
    assert (charts["matrice"].figure is not None) == shown
    assert (charts["departements"].figure is not None) == shown
    # All four or five CPTS share one stage: the other stages are empty, not hidden.
    assert charts["stades"].hidden == (0 if shown else 1)


def test_the_region_median_on_a_cpts_page_needs_five_other_cpts(client, users, campaign, grid):
    cpts = scored_cpts(campaign, grid, 5)
    client.force_login(users["ars"])
    page = client.get(reverse("dashboards:cpts", args=[cpts[0].pk]))
    radar = page.context["profile"].radar
    assert radar.peer_count == 4 and not radar.median_shown
    assert all(median is None for median in radar.medians)
    assert "Médiane régionale non affichée" in page.content.decode()

    scored_cpts(campaign, grid, 1, department_code="93")
    radar = client.get(reverse("dashboards:cpts", args=[cpts[0].pk])).context["profile"].radar
    assert radar.peer_count == 5 and radar.median_shown
    assert [m for m in radar.medians if m is not None] == [v for v in radar.values if v is not None]


# --- Pages ----------------------------------------------------------------------------------


def test_the_cpts_page_shows_every_campaign_the_indicators_and_the_explanation(
    client, users, territory, scored, grid
):
    older = CampaignFactory(questionnaire=scored.questionnaire, year=2025, name="Campagne 2025")
    cpts = territory["paris_1"]
    cpts.indicators.create(year=2026, population=50000, area_km2=Decimal("10"), gp_count=40)
    client.force_login(users["cpam"])
    page = client.get(reverse("dashboards:cpts", args=[cpts.pk]))
    html = page.content.decode()
    profile = page.context["profile"]
    assert [r.campaign for r in profile.results] == [older, scored]
    assert profile.results[0].response is None and profile.results[1].score is not None
    year = next(row for row in profile.years if row.year == 2026)
    assert year.indicator.density == Decimal("5000") and year.indicator.gps_per_10000 == 8
    response = Response.objects.get(cpts=cpts, campaign=scored)
    assert reverse("scoring:explanation", args=[response.pk]) in html
    assert 'data-figure="figure-matrice-' in html


def test_compare_two_to_five_cpts(client, users, territory, scored):
    client.force_login(users["fcpts"])
    url = reverse("dashboards:compare")
    one = client.get(url, {"campagne": scored.slug, "cpts": [territory["lyon"].pk]})
    assert "Choisissez de 2 à 5 CPTS à comparer." in one.content.decode()
    assert "pairs" not in one.context
    chosen = [territory["lyon"].pk, territory["paris_1"].pk, territory["saint_denis"].pk]
    page = client.get(url, {"campagne": scored.slug, "cpts": chosen})
    assert [c.name for c, _r in page.context["pairs"]] == [
        "CPTS Lyon",
        "CPTS Paris Un",
        "CPTS Saint-Denis",
    ]
    assert len(page.context["matrices"]) == 3
    assert len(page.context["radar_figure"]["data"]) == 3


def test_chart_csv_neutralises_formulas(client, users, campaign, grid):
    trap = scored_cpts(campaign, grid, 1)[0]
    trap.name = '=HYPERLINK("http://x")'
    trap.save()
    client.force_login(users["cpam"])
    response = client.get(
        reverse("dashboards:chart_csv", args=["evolution"]),
        {"campagne": campaign.slug, "suivre": [trap.pk]},
    )
    assert response["Content-Disposition"] == (
        f'attachment; filename="evolution-{campaign.slug}.csv"'
    )
    header = next(csv.reader(io.StringIO(response.content.decode())))
    assert '\'=HYPERLINK("http://x")' in header


# --- Query counts -----------------------------------------------------------------------------


def count_queries(client, url, params) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params).status_code == 200
    return len(queries.captured_queries)


def test_dashboard_queries_do_not_grow_with_the_number_of_cpts(client, users, grid):
    campaigns = [
        CampaignFactory(questionnaire=grid.questionnaire, year=year) for year in (2025, 2026)
    ]
    client.force_login(users["fcpts"])

    def measure() -> list[int]:
        cpts = Cpts.objects.order_by("pk")
        # The CPTS pickers' search lists a page of matches, whatever the number of CPTS.
        params = {
            "campagne": campaigns[-1].slug,
            "suivre": [cpts[0].pk, cpts[1].pk],
            "chercher": "CPTS",
        }
        compare = {"campagne": campaigns[-1].slug, "cpts": [c.pk for c in cpts[:2]]}
        return [
            count_queries(client, reverse("dashboards:overview"), params),
            *[
                count_queries(client, reverse("dashboards:chart_csv", args=[s]), params)
                for s in CHARTS
            ],
            count_queries(client, reverse("dashboards:cpts", args=[cpts[0].pk]), {}),
            count_queries(client, reverse("dashboards:compare"), compare),
        ]

    for campaign in campaigns:
        scored_cpts(campaign, grid, 3, "75")
        scored_cpts(campaign, grid, 3, "69")
    small = measure()
    for campaign in campaigns:
        scored_cpts(campaign, grid, 9, "93")
        scored_cpts(campaign, grid, 9, "13")
    assert Campaign.objects.count() == 2 and Cpts.objects.count() > 40
    assert measure() == small


def test_refusals_are_explained_in_french(client, users, scored):
    client.force_login(users["coordinator"])
    assert (
        "Votre rôle ne donne pas accès"
        in client.get(reverse("dashboards:overview")).content.decode()
    )
    client.force_login(users["ars"])
    missing = client.get(reverse("dashboards:cpts", args=[999999]))
    assert missing.status_code == 404 and "Page introuvable" in missing.content.decode()


# --- The charts' cache ------------------------------------------------------------------------


def test_the_charts_come_from_the_cache_until_a_score_changes(client, users, campaign, grid):
    created = scored_cpts(campaign, grid, 5)
    client.force_login(users["cpam"])
    url, params = reverse("dashboards:overview"), {"campagne": campaign.slug}

    def departments(page) -> list:
        return {chart.slug: chart for chart in page.context["charts"]}["departements"].table.rows

    with CaptureQueriesContext(connection) as computed:
        first = client.get(url, params)
    with CaptureQueriesContext(connection) as cached:
        again = client.get(url, params)
    assert again.context["charts"] == first.context["charts"]
    assert len(cached.captured_queries) < len(computed.captured_queries)
    index = ResponseScore.objects.get(response__cpts=created[0]).index
    assert departments(first)[0][1:3] == [5, index]  # every CPTS answered alike

    # One response's answers changed and rescored by the scoring service, which knows nothing
    # of the dashboards: the next page draws the new score.
    response = Response.objects.get(cpts=created[0], campaign=campaign)
    Answer.objects.filter(response=response, question__variable="q25").update(value="non")
    assert services.response_score(response=response, grid=grid).outcome == "updated"
    lower = ResponseScore.objects.get(response=response).index
    assert lower < index
    assert departments(client.get(url, params))[0][1:3] == [5, lower]

    # A score deleted (the response back to draft): four CPTS, a group too small to show.
    Response.objects.filter(pk=response.pk).update(status=Response.Status.DRAFT, submitted_at=None)
    response.refresh_from_db()
    assert services.response_score(response=response, grid=grid).outcome == "deleted"
    page = client.get(url, params)
    assert departments(page)[0][1:3] == [4, None]
    assert {chart.slug: chart for chart in page.context["charts"]}["departements"].figure is None


def test_cached_charts_are_never_shared_across_scopes(client, users, campaign, grid):
    scored_cpts(campaign, grid, 5, "75")
    scored_cpts(campaign, grid, 5, "93")
    params = {"campagne": campaign.slug}
    seen = {}
    for role in ("cpam", "ars", "cpam"):
        client.force_login(users[role])
        page = client.get(reverse("dashboards:overview"), params)
        charts = {chart.slug: chart for chart in page.context["charts"]}
        seen.setdefault(role, []).append([row[:2] for row in charts["departements"].table.rows])
    assert seen["cpam"] == [[["Paris (75)", 5]]] * 2
    assert seen["ars"] == [[["Paris (75)", 5], ["Seine-Saint-Denis (93)", 5]]]

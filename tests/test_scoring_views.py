"""Results and explanation pages: who sees them, what they show, how they render under the CSP."""

import json
import re
from decimal import Decimal
from html import unescape

import pytest
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from scoring import services
from tests.factories import CampaignFactory, CptsFactory
from tests.helpers import MIXED, grid_version_2, make_response

# MIXED answered by a declared initiative: Q26–Q27 do not apply, Q28 does.
DECLARED = {
    **{k: v for k, v in MIXED.items() if k not in ("q26", "q27")},
    "q02": "declaration",
    "q28": ["prevention"],
}


@pytest.fixture
def scored(campaign, territory, grid):
    """One scored response per CPTS of the territory fixture."""
    found = {}
    for name, cpts in territory.items():
        response = make_response(campaign, MIXED, cpts=cpts)
        services.response_score(response=response, grid=grid)
        found[name] = response
    return found


def _get(client, user, name, response, **params):
    client.force_login(user)
    return client.get(reverse(f"scoring:{name}", args=[response.pk]), params)


# Not "page": that name is pytest-playwright's fixture, and would make these browser tests.
@pytest.mark.parametrize("view", ["results", "explanation"])
@pytest.mark.parametrize(
    "role, cpts, status",
    [
        ("coordinator", "paris_1", 200),
        ("coordinator", "lyon", 200),
        ("coordinator", "paris_2", 404),  # another CPTS of the same department
        ("ars", "saint_denis", 200),  # Île-de-France
        ("ars", "lyon", 404),
        ("cpam", "paris_2", 200),  # Paris
        ("cpam", "saint_denis", 404),
        ("fcpts", "lyon", 200),
        ("no_role", "paris_1", 404),
    ],
)
def test_who_sees_a_response_sees_its_scores(client, users, scored, view, role, cpts, status):
    assert _get(client, users[role], view, scored[cpts]).status_code == status


def test_anonymous_users_are_sent_to_the_login_page(client, scored):
    response = client.get(reverse("scoring:results", args=[scored["paris_1"].pk]))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def _scripts(html: str) -> list[str]:
    return re.findall(r"<script\b[^>]*>", html)


def test_results_page(client, users, scored):
    page = _get(client, users["coordinator"], "results", scored["paris_1"])
    html = page.content.decode()
    assert "64,50" in html and "Structuration" in html
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"]
    # No inline script: only files, and figures as JSON data.
    for tag in _scripts(html):
        assert 'src="/static/' in tag or 'type="application/json"' in tag, tag
    assert '<script src="/static/vendor/plotly/plotly-strict.min.js">' in html
    matrix = json.loads(re.search(r'id="figure-matrice"[^>]*>(.*?)</script>', html, re.S)[1])
    heatmap = matrix["data"][0]
    assert heatmap["type"] == "heatmap"
    # Structure row: interne, externe, environnementale; Processus × environnementale is a gap.
    assert heatmap["z"][0] == [66.39, 50.0, 63.33]
    assert heatmap["z"][1][2] is None and heatmap["z"][2][2] is None
    assert "non évalué" in [a["text"] for a in matrix["layout"]["annotations"]]
    # The data table says the same, and each assessed cell links to its explanation.
    table = re.search(r'<table[^>]*id="tableau-matrice".*?</table>', html, re.S)[0]
    assert table.count("non évalué") == 2
    assert "explication/#case-structure-interne" in table
    # Three other CPTS answered the campaign: fewer than five, no median.
    assert "Médiane non affichée : 3 autres CPTS ont répondu" in html
    assert "L’évolution s’affichera" in html


def test_peer_median_from_five_other_cpts(client, users, scored, campaign, grid):
    # Three MIXED peers (64.50) already, two declared ones below: the median of five is 64.50.
    for _ in range(2):
        response = make_response(campaign, DECLARED)
        services.response_score(response=response, grid=grid)
    html = _get(client, users["coordinator"], "results", scored["paris_1"]).content.decode()
    assert "Médiane des 5 autres CPTS de la campagne : <strong>64,50</strong>" in html
    radar = json.loads(re.search(r'id="figure-radar"[^>]*>(.*?)</script>', html, re.S)[1])
    assert [trace["name"] for trace in radar["data"]] == ["Votre CPTS", "Médiane des autres CPTS"]


@pytest.mark.parametrize("view", ["results", "explanation"])
def test_queries_do_not_grow_with_peers(client, users, scored, campaign, grid, view):
    def count() -> int:
        client.force_login(users["fcpts"])
        url = reverse(f"scoring:{view}", args=[scored["paris_1"].pk])
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        return len(queries)

    def add_peers(number: int) -> None:
        for _ in range(number):
            services.response_score(response=make_response(campaign, MIXED), grid=grid)

    add_peers(2)  # five peers: the medians are computed
    before = count()
    add_peers(5)
    assert count() == before <= 25


def test_evolution_across_campaigns(client, users, scored, questionnaire, grid):
    earlier = CampaignFactory(questionnaire=questionnaire, year=2025, slug="campagne-2025")
    old = make_response(
        earlier, {**MIXED, "q30": "faible", "q38": "oui"}, cpts=scored["paris_1"].cpts
    )
    services.response_score(response=old, grid=grid)
    html = _get(client, users["coordinator"], "results", scored["paris_1"]).content.decode()
    figure = json.loads(re.search(r'id="figure-evolution"[^>]*>(.*?)</script>', html, re.S)[1])
    index = figure["data"][0]
    assert index["name"] == "Indice global" and len(index["y"]) == 2
    table = re.search(r'<table[^>]*id="tableau-evolution".*?</table>', html, re.S)[0]
    assert table.count("<tr") == 3


def test_explanation_traces_every_figure(client, users, scored):
    html = _get(client, users["ars"], "explanation", scored["paris_1"]).content.decode()
    # Matrix cell → sub-dimension → question → answer → points.
    assert 'id="case-structure-interne"' in html
    assert "Niveau de maturité :" in html and "83,04" in html
    assert "= 100 × 3,32 / 4" in html  # (2 + 4/7 + 3/4) = 3.32 of 4
    assert "CPTS en fonctionnement" in html and "3 / 3" in html
    assert "Points de la réponse choisie (maximum 3)." in html
    assert "Nombre de réponses distinctes du tableau moins 1, plafonné à 3." in html
    # Index arithmetic, excluded questions with their reasons, cells without questions.
    assert "Indice = 322,49 / 5 = 64,50." in html
    assert "Questions exclues du score" in html and "date de création ne dit pas" in html
    assert html.count("Aucune question notée ne porte sur cette case") == 2


def test_explanation_of_a_declared_cpts_shows_questions_that_do_not_apply(
    client, users, campaign, territory, grid
):
    response = make_response(campaign, DECLARED, cpts=territory["paris_1"])
    services.response_score(response=response, grid=grid)
    html = _get(client, users["coordinator"], "explanation", response).content.decode()
    assert html.count("non applicable : hors calcul") == 2  # Q26 and Q27


def test_a_draft_has_no_scores(client, users, campaign, territory, grid):
    draft = make_response(
        campaign, {"q02": "ingenierie"}, cpts=territory["paris_1"], submitted=False
    )
    for view in ("results", "explanation"):
        html = unescape(_get(client, users["coordinator"], view, draft).content.decode())
        assert "Cette réponse n'est pas soumise : elle n'a pas de score." in html


def test_without_a_grid_the_page_says_so(client, users, campaign, territory):
    response = make_response(campaign, MIXED, cpts=territory["paris_1"])
    html = unescape(_get(client, users["coordinator"], "results", response).content.decode())
    assert "Aucune grille de score n'est chargée" in html


def test_another_grid_version_on_request(client, users, scored, tmp_path, grid):
    v2 = services.grid_load(path=grid_version_2(tmp_path)).grid
    response = scored["paris_1"]
    # The latest grid has no scores for this response yet.
    html = _get(client, users["coordinator"], "results", response).content.decode()
    assert "pas encore calculés avec la grille « miller-2022-v2 »" in html
    html = _get(client, users["coordinator"], "results", response, grille=grid.code)
    assert "64,50" in html.content.decode()
    services.response_score(response=response, grid=v2)
    html = _get(client, users["coordinator"], "results", response).content.decode()
    assert "(miller-2022-v2)" in html and 'href="?grille=miller-2022-v1"' in html
    unknown = _get(client, users["coordinator"], "results", response, grille="v9")
    assert unknown.status_code == 404


def test_index_lists_only_visible_submitted_responses(
    client, users, scored, campaign, django_assert_max_num_queries
):
    make_response(campaign, {"q02": "ingenierie"}, cpts=CptsFactory(), submitted=False)
    client.force_login(users["cpam"])
    with django_assert_max_num_queries(8):  # not one per row
        html = client.get(reverse("scoring:index")).content.decode()
    assert "CPTS Paris Un" in html and "CPTS Paris Deux" in html
    assert "CPTS Lyon" not in html and "CPTS Saint-Denis" not in html
    assert html.count("64,50") == 2


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("62.125"), "62,13"),  # two decimals, rounded half up, French separator
        (Decimal("0"), "0,00"),  # assessed and nil: a score, not "non évalué"
        (None, '<span class="text-muted">non évalué</span>'),
    ],
)
def test_every_page_shows_a_score_or_not_assessed_alike(value, shown):
    template = Template("{% load scores %}{{ value|score_or_not_assessed }}")
    assert template.render(Context({"value": value})) == shown

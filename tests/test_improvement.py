"""Pistes de progression, the recommendations library, the decomposition of a score's change."""

import dataclasses
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command
from hypothesis import given
from hypothesis import strategies as st

from improvement import selectors, services
from improvement.decomposition import decompose
from improvement.library import Library
from improvement.models import Action
from questionnaire.models import Answer
from scoring import services as scoring_services
from scoring.arithmetic import ScoringPlan
from scoring.models import ResponseScore
from tests.factories import CampaignFactory
from tests.helpers import (
    GRID_PATH,
    LIBRARY_PATH,
    MINIMAL,
    MIXED,
    PROPERTY,
    answer_sets,
    areas,
    make_response,
)


@pytest.fixture
def library(grid):
    return services.library_load(path=LIBRARY_PATH).library


def _stored(response, grid) -> tuple[dict, Decimal]:
    score = ResponseScore.objects.get(response=response, grid=grid)
    return areas(score), score.index


def _variables(response) -> dict:
    return {
        a.question.variable: (a.value, a.other_text)
        for a in Answer.objects.filter(response=response).select_related("question")
    }


# --- pistes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("answers", [MIXED, MINIMAL], ids=["mixed", "declared"])
def test_every_piste_agrees_with_rescoring_the_response_with_its_answer(
    campaign, grid, library, answers
):
    response = make_response(campaign, answers)
    scoring_services.response_score(response=response, grid=grid)
    found, index = _stored(response, grid)
    pistes = selectors.pistes_for(response=response, grid=grid)
    assert pistes.count >= 5
    assert pistes.index == index  # the same figures as the results and explanation pages
    for cell in pistes.cells:
        for sub in cell.subdimensions:
            assert sub.score == found[sub.subdimension.code]
            for piste in sub.pistes:
                rule = piste.lever.rule
                cell_key = (rule.dimension, rule.constraint)
                assert piste.subdimension[0] == found[rule.subdimension]
                assert piste.cell[0] == found[cell_key]
                assert piste.index[0] == index
                # Rescore a copy of the response whose answer is the suggested one.
                changed = _variables(response)
                changed[piste.question.variable] = (piste.lever.suggested, "")
                rescored = make_response(campaign, changed)
                scoring_services.response_score(response=rescored, grid=grid)
                after, after_index = _stored(rescored, grid)
                assert piste.subdimension[1] == after[rule.subdimension], piste.question
                assert piste.cell[1] == after[cell_key], piste.question
                assert piste.index[1] == after_index, piste.question
                assert piste.index_rise > 0 or piste.subdimension_rise > 0
                rescored.delete()


def test_pistes_are_weakest_first_and_never_situational(campaign, grid, library):
    response = make_response(campaign, MIXED)
    pistes = selectors.pistes_for(response=response, grid=grid)
    scores = [c.score for c in pistes.cells]
    assert scores == sorted(scores)
    for cell in pistes.cells:
        subs = [s.score for s in cell.subdimensions]
        assert subs == sorted(subs)
    numbers = {p.question.number for c in pistes.cells for s in c.subdimensions for p in s.pistes}
    situational = set(Library.from_data(library.definition).situational)
    assert situational == {2, 4, 26, 27, 30, 41, 42}
    excluded = set(grid.spec.excluded)
    assert numbers and not numbers & (situational | excluded)
    # MIXED has Q38 = Non: the plan SSE piste and the library's suggestion for it.
    plan_sse = next(
        s for c in pistes.cells for s in c.subdimensions if s.subdimension.code == "plan_sse"
    )
    assert [p.suggested_text for p in plan_sse.pistes] == ["Oui"]
    assert [s.title for s in plan_sse.suggestions] == [
        "Rédiger un plan de réponse aux situations sanitaires exceptionnelles"
    ]
    assert plan_sse.band_label == "À construire"


def test_a_multiple_choice_piste_adds_options_up_to_the_cap(campaign, grid, library):
    response = make_response(campaign, MIXED)
    pistes = selectors.pistes_for(response=response, grid=grid)
    by_number = {
        p.question.number: p for c in pistes.cells for s in c.subdimensions for p in s.pistes
    }
    q36 = by_number[36]  # contact_dac + parcours_pluripro = 2 of max 4
    assert set(q36.lever.suggested) >= {"contact_dac", "parcours_pluripro"}
    assert len(q36.lever.added) == 2
    assert not any(o.requires_text for o in q36.lever.added)  # never "Autre : à spécifier"
    assert q36.lever.suggested_points == q36.lever.rule.maximum
    # The bureau table gains distinct professions (medecins, infirmiers → 4 distinct).
    q17 = by_number[17]
    assert len(set(q17.lever.suggested.values())) == 4


# --- the recommendations library ---------------------------------------------------------------


def test_load_recommendations_is_idempotent(grid, capsys):
    call_command("load_recommendations", str(LIBRARY_PATH))
    call_command("load_recommendations", str(LIBRARY_PATH))
    out = capsys.readouterr().out
    assert "« miller-2022-v1-r1 » chargées" in out and "inchangées" in out


def _broken(tmp_path, change) -> Path:
    data = yaml.safe_load(LIBRARY_PATH.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _subdimension(data, code):
    return next(s for s in data["subdimensions"] if s["subdimension"] == code)


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda d: d["situational"].append({"question": 99, "reason": "x"}),
            "question inconnue « 99 »",
        ),
        (
            lambda d: _subdimension(d, "plan_sse").update(subdimension="plan_crise"),
            "sous-dimension inconnue « plan_crise »",
        ),
        (
            lambda d: _subdimension(d, "plan_sse")["suggestions"][0]["when"].update(
                {"in": ["peut_etre"]}
            ),
            "option inconnue « peut_etre » pour Q38",
        ),
        (
            lambda d: _subdimension(d, "plan_sse")["suggestions"][0]["when"].update(question=37),
            "Q37 appartient à la sous-dimension « prevention », pas à « plan_sse »",
        ),
        (
            lambda d: _subdimension(d, "plan_sse")["suggestions"][0]["when"].update(question=142),
            "question inconnue « 142 » dans « when »",
        ),
        (lambda d: d.update(grid="miller-2022-v9"), "Grille « miller-2022-v9 » inconnue"),
        (
            lambda d: _subdimension(d, "prevention")["bands"].pop("solide"),
            "« prevention » : texte du palier « solide » absent",
        ),
        (
            lambda d: _subdimension(d, "prevention")["suggestions"][0].pop("source"),
            "Suggestion « action-prevention » : citez la source",
        ),
        (
            lambda d: _subdimension(d, "prevention")["suggestions"][0].update(key="plan-sse"),
            "identifiant « plan-sse » en double",
        ),
    ],
)
def test_validation_errors_name_what_is_wrong(grid, tmp_path, change, message):
    with pytest.raises(CommandError) as raised:
        call_command("load_recommendations", str(_broken(tmp_path, change)))
    assert message in str(raised.value)
    assert not services.RecommendationLibrary.objects.exists()


def test_a_library_used_by_a_plan_is_frozen(campaign, grid, library, users, tmp_path):
    response = make_response(campaign, MIXED)
    services.plan_suggestions_add(
        response=response, grid=grid, keys=["plan-sse"], user=users["coordinator"]
    )
    edited = _broken(tmp_path, lambda d: _subdimension(d, "plan_sse").update(source="Autre source"))
    with pytest.raises(CommandError, match="ne peuvent plus être modifiées"):
        call_command("load_recommendations", str(edited))
    library.refresh_from_db()
    assert library.definition == yaml.safe_load(LIBRARY_PATH.read_text(encoding="utf-8"))
    assert Action.objects.get().library == library


def test_an_unused_library_version_can_still_be_corrected(grid, library, tmp_path, capsys):
    edited = _broken(tmp_path, lambda d: d.update(title="Pistes corrigées"))
    call_command("load_recommendations", str(edited))
    assert "mises à jour" in capsys.readouterr().out
    library.refresh_from_db()
    assert library.title == "Pistes corrigées"


# --- why the score moved --------------------------------------------------------------------


def _other_grid(spec, data):
    """A second grid version as a published change would make one: some questions reweighted,
    one scored question excluded, other dimension weights."""
    rules = dict(spec.rules)
    for number in data.draw(st.lists(st.sampled_from(sorted(rules)), max_size=5, unique=True)):
        rules[number] = dataclasses.replace(
            rules[number], weight=Fraction(data.draw(st.integers(1, 3)))
        )
    if data.draw(st.booleans()):
        rules.pop(data.draw(st.sampled_from(sorted(rules))))
    weights = {code: Fraction(data.draw(st.integers(1, 4))) for code in spec.dimension_weights}
    return dataclasses.replace(spec, rules=rules, dimension_weights=weights)


@PROPERTY
@given(data=st.data())
def test_contributions_add_up_exactly_to_the_change(model, data):
    spec, layout, questions = model
    plan = ScoringPlan(grid=spec, layout=layout, questions=questions)
    other = ScoringPlan(grid=_other_grid(spec, data), layout=layout, questions=questions)
    before = data.draw(answer_sets(questions))
    after = data.draw(answer_sets(questions))
    same_grid = data.draw(st.booleans())
    result = decompose(
        questions=questions,
        before_plan=plan,
        after_plan=plan if same_grid else other,
        before_values=before,
        after_values=after,
    )
    for key in result.keys:
        change = result.change(key)
        answers, grid = result.answers_part(key), result.grid_part(key)
        if change is not None and answers is not None and grid is not None:
            assert answers + grid == change, key
    # The index is always assessed, and so always decomposed exactly.
    index = ("index",)
    assert result.answers_part(index) + result.grid_part(index) == result.change(index)
    if same_grid:  # an unchanged grid contributes nothing
        assert len(result.grid_steps) == 1
        assert all(not c for c in result.grid_steps[0].changes.values() if c is not None)


def test_evolution_page_splits_the_index_change_per_question(
    client, campaign, grid, users, territory, tmp_path
):
    paris = territory["paris_1"]
    earlier = CampaignFactory(questionnaire=campaign.questionnaire, year=2025)
    before = make_response(earlier, MIXED, cpts=paris)
    after = make_response(campaign, {**MIXED, "q38": "oui", "q34": "oui"}, cpts=paris)
    for response in (before, after):
        scoring_services.response_score(response=response, grid=grid)
    client.force_login(users["coordinator"])
    page = client.get(f"/resultats/reponses/{after.pk}/evolution/")
    assert page.status_code == 200
    comparison = page.context["comparison"]
    assert comparison.before == before and comparison.after == after
    assert [r.label for r in comparison.rows] == ["Q34", "Q38"]
    stored = [ResponseScore.objects.get(response=r, grid=grid).index for r in (before, after)]
    assert (comparison.zone.before, comparison.zone.after) == tuple(stored)
    decomposition = comparison.decomposition
    assert sum(r.contribution for r in comparison.rows) == (
        decomposition.after[("index",)] - decomposition.before[("index",)]
    )
    body = page.content.decode()
    assert 'id="graphique-cascade"' in body and 'id="tableau-contributions"' in body

    # A second grid version that weighs Q38 double: its part is shown apart from the answers'.
    data = yaml.safe_load(GRID_PATH.read_text(encoding="utf-8"))
    data["version"] = "miller-2022-v2"
    next(q for q in data["questions"] if q["question"] == 38)["weight"] = 2
    (tmp_path / "v2.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    v2 = scoring_services.grid_load(path=tmp_path / "v2.yaml").grid
    scoring_services.response_score(response=after, grid=v2)
    page = client.get(f"/resultats/reponses/{after.pk}/evolution/")
    comparison = page.context["comparison"]
    assert (comparison.before_grid, comparison.after_grid) == (grid, v2)
    assert [r.label for r in comparison.rows] == ["Q34", "Q38", "Q38 (grille)"]
    assert comparison.zone.after == ResponseScore.objects.get(response=after, grid=v2).index
    assert comparison.zone.before == stored[0]
    assert comparison.zone.grid > 0  # Q38 = Oui now weighs more
    # Parameters outside the user's choices answer 404, as everywhere.
    for query in ("comparer=999999", "grille_avant=inconnue", "zone=cell:x:y"):
        assert client.get(f"/resultats/reponses/{after.pk}/evolution/?{query}").status_code == 404

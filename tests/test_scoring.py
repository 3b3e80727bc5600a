"""The scoring grid and its arithmetic: validation, golden answer sets computed by hand, properties.

The answer sets (`MIXED`, `MINIMAL`) and `make_response` are in tests/helpers.py.
"""

import copy
from decimal import Decimal

import pytest
import yaml
from django.core.management import CommandError, call_command
from hypothesis import given
from hypothesis import strategies as st

from questionnaire import rules
from scoring import selectors, services
from scoring.arithmetic import NOT_APPLICABLE, ScoringPlan, score_answers
from scoring.grid import GridError, GridSpec, read_grid_file, validate_grid
from tests.helpers import (
    GRID_PATH,
    MINIMAL,
    MIXED,
    PROPERTY,
    answer_sets,
    areas,
    make_response,
    value_strategy,
)

D = Decimal


# --- helpers ---------------------------------------------------------------------------------


# --- the grid file ---------------------------------------------------------------------------


def test_the_grid_covers_every_question_explicitly(questionnaire, grid):
    spec = grid.spec
    numbers = set(questionnaire.questions.values_list("number", flat=True))
    assert set(spec.rules) | set(spec.excluded) == numbers
    assert not set(spec.rules) & set(spec.excluded)
    # Descriptive questions are excluded by name, each with its reason.
    assert sorted(spec.excluded) == [1, 6, 7, 8, 9, 28, 29]
    assert all(len(reason) > 40 for reason in spec.excluded.values())
    # Every scored question has a rule a human can read and a rationale.
    assert all(rule.rationale and rule.describe() for rule in spec.rules.values())
    assert [level.label for level in spec.levels] == [
        "Émergence",
        "Formalisation",
        "Structuration",
        "Déploiement",
    ]


def test_load_scoring_grid_command_is_idempotent(questionnaire, capsys):
    call_command("load_scoring_grid", str(GRID_PATH))
    assert "chargée : 35 questions notées, 7 exclues, 4 niveaux" in capsys.readouterr().out
    call_command("load_scoring_grid", str(GRID_PATH))
    assert "inchangée" in capsys.readouterr().out


def _grid_data():
    return read_grid_file(GRID_PATH)


def _errors(data, questionnaire) -> list[str]:
    with pytest.raises(GridError) as raised:
        validate_grid(data, questionnaire.definition)
    return raised.value.errors


def _entry(data, number):
    return next(item for item in data["questions"] if item["question"] == number)


def test_validation_names_every_missing_or_unknown_option(questionnaire):
    data = _grid_data()
    del _entry(data, 4)["points"]["faible"]
    _entry(data, 14)["points"]["peut_etre"] = 1
    errors = _errors(data, questionnaire)
    assert "Q4 : l'option « faible » n'a pas de points." in errors
    assert "Q14 : option inconnue « peut_etre » dans « points »." in errors


def test_validation_refuses_a_silently_missing_question(questionnaire):
    data = _grid_data()
    data["questions"] = [item for item in data["questions"] if item["question"] != 7]
    assert any(e.startswith("Q7 : absente de la grille") for e in _errors(data, questionnaire))


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda d: _entry(d, 1).update(excluded=""),
            "Q1 : donnez la raison de l'exclusion (« excluded »).",
        ),
        (
            lambda d: _entry(d, 10)["points"].update(aucun=1),
            "Q10 : l'option exclusive « aucun » (aucune) doit valoir 0.",
        ),
        (
            lambda d: _entry(d, 5)["feeds"].update(constraint="interne"),
            "Q5 : « feeds » doit être {dimension: structure, subdimension: "
            "identite_professionnelle, constraint: externe} comme dans le questionnaire.",
        ),
        (lambda d: _entry(d, 2).update(weight=0), "Q2 : « weight » doit être"),
        (lambda d: _entry(d, 2).update(rule="options_sum"), "Q2 : règle « options_sum »"),
        (lambda d: _entry(d, 3).update(max=8), "Q3 : « max » doit être positif"),
        (lambda d: d["levels"][2].update(min=20), "Niveau « structuration » : les seuils"),
        (lambda d: d["dimension_weights"].pop("resultats"), "Poids de dimension : « resultats »"),
        (lambda d: d.update(questionnaire="autre-2030"), "La grille porte sur le questionnaire"),
    ],
)
def test_validation_errors_say_what_to_fix(questionnaire, change, message):
    data = _grid_data()
    change(data)
    assert any(error.startswith(message) for error in _errors(data, questionnaire))


def test_month_year_and_number_questions_need_a_rule_or_an_exclusion(questionnaire):
    data = _grid_data()
    entry = _entry(data, 1)
    entry.clear()
    entry.update(
        question=1,
        variable="q01",
        rule="option_points",
        weight=1,
        feeds={
            "dimension": "structure",
            "subdimension": "niveau_maturite",
            "constraint": "interne",
        },
        rationale="Ancienneté",
    )
    assert any("aucune règle de score" in e for e in _errors(data, questionnaire))


def test_number_bands_rule(questionnaire):
    data = _grid_data()
    entry = _entry(data, 7)
    entry.clear()
    entry.update(
        question=7,
        variable="q07",
        feeds={
            "dimension": "structure",
            "subdimension": "population_territoire",
            "constraint": "environnementale",
        },
        weight=1,
        rule="number_bands",
        bands=[{"from": 1, "points": 0}, {"from": 5, "points": 1}, {"from": 20, "points": 2}],
        rationale="Exemple de règle par tranches.",
    )
    validate_grid(data, questionnaire.definition)
    rule = GridSpec.from_data(data, questionnaire.definition).rules[7]
    # 1–4 communes → 0, 5–19 → 1, 20 and more → 2 (of 2).
    assert [rule.raw_points(n) for n in (1, 4, 5, 19, 20, 900)] == [0, 0, 1, 1, 2, 2]
    assert rule.maximum == 2


def test_a_grid_with_scores_is_frozen(campaign, grid, tmp_path):
    services.response_score(response=make_response(campaign, MIXED), grid=grid)
    data = _grid_data()
    _entry(data, 2)["points"]["ingenierie"] = 1
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CommandError, match="ne peut plus être modifiée"):
        call_command("load_scoring_grid", str(changed))


def test_an_unused_grid_version_can_still_be_corrected(questionnaire, grid, tmp_path):
    data = _grid_data()
    _entry(data, 2)["points"]["ingenierie"] = 1
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert services.grid_load(path=changed).outcome == "updated"


# --- golden answer sets, computed by hand --------------------------------------------------------


def test_golden_mixed_answers(campaign, grid):
    """Every figure below is computed by hand from the grid file (p / m × weight)."""
    outcome = services.response_score(response=make_response(campaign, MIXED), grid=grid)
    assert outcome.outcome == "created"
    score = outcome.score
    found = areas(score)

    # Structure × interne
    # niveau_maturite: Q2 fonctionnement 3/3 × 2 = 2; Q3 4 missions 4/7; Q4 partiel 3/4
    #   (2 + 4/7 + 3/4) / (2 + 1 + 1) = (93/28) / 4 = 0.830357 → 83.04
    assert found["niveau_maturite"] == D("83.04")
    # ressources: Q12 [51-100] 6/7; Q13 4 professions 4/8; Q14 recruited 2/2;
    #   Q15 best place = members' premises 2/3 → (6/7 + 1/2 + 1 + 2/3) / 4 = (127/42) / 4 → 75.60
    assert found["ressources"] == D("75.60")
    # ethique_valeurs: Q16 equal compensation 2/2 → 100
    assert found["ethique_valeurs"] == D("100.00")
    # gouvernance: Q17 bureau of médecins + infirmiers = 2 professions − 1 = 1/3;
    #   Q18 monthly 3/4; Q19 none 0/3; Q20 no colleges 0/4 → (1/3 + 3/4) / 4 = 13/48 → 27.08
    assert found["gouvernance"] == D("27.08")
    # systeme_information: Q21 4 tools capped at 3 → 3/3; Q22 no 0/1; Q23 non-HDS 1/2 → 1.5/3
    assert found["systeme_information"] == D("50.00")
    # organisation_travail: Q24 3 practices 3/5; Q25 yes 1/1 → 1.6 / 2
    assert found["organisation_travail"] == D("80.00")
    # projet_sante: Q26 working groups 2/2; Q27 enriching 3/4 → 1.75 / 2 (Q28 does not apply)
    assert found["projet_sante"] == D("87.50")
    #   cell: (93/28 + 127/42 + 1 + 13/12 + 3/2 + 8/5 + 7/4) / (4+4+1+4+3+2+2)
    #       = (5577/420) / 20 = 0.663929 → 66.39
    assert found[("structure", "interne")] == D("66.39")
    # Structure × externe: identite_professionnelle, Q5 2 affiliations of 4 → 50
    assert found["identite_professionnelle"] == found[("structure", "externe")] == D("50.00")
    # Structure × environnementale: acteurs_territoire, Q10 2/3 + Q11 3/5 = 19/15 over 2 → 63.33
    assert found[("structure", "environnementale")] == D("63.33")
    # population_territoire: all four questions are descriptive → not assessed
    assert found["population_territoire"] is None
    # Structure: (5577/420 + 1/2 + 19/15) / (20 + 1 + 2) = (6319/420) / 23 = 0.654141 → 65.41
    assert found["structure"] == D("65.41")

    # Processus × interne: dynamique_collective, Q30 important 3/4 + Q31 2 ways 2/3 = 17/12 over 2
    assert found[("processus", "interne")] == D("70.83")
    # Processus × externe: Q32 4 actions capped 3/3 + Q33 1 (access to GP = 100);
    #   Q34 0 + Q35 1 (50); Q36 2/4 (50); Q37 1 (100); Q38 0 (0); Q39 3/4 (75)
    #   (2 + 1 + 1/2 + 1 + 0 + 3/4) / 8 = 21/32 = 0.65625 → 65.63 (half up)
    assert found["acces_medecin_traitant"] == D("100.00")
    assert found["plan_sse"] == D("0.00")  # assessed and nil: not the same as "not assessed"
    assert found[("processus", "externe")] == D("65.63")
    # Processus: (17/12 + 21/4) / 10 = (20/3) / 10 → 66.67
    assert found["processus"] == D("66.67")
    # No question at all in the environmental cells of Processus and Résultats.
    assert found[("processus", "environnementale")] is None
    assert found[("resultats", "environnementale")] is None

    # Résultats: Q40 2 of 4 → 50 (interne); Q41 satisfied 3/4 + Q42 50 % 2/4 → 62.50 (externe)
    assert found[("resultats", "interne")] == D("50.00")
    assert found[("resultats", "externe")] == D("62.50")
    # (1/2 + 3/4 + 1/2) / 3 = 7/12 → 58.33
    assert found["resultats"] == D("58.33")

    # Index = (2 × 65.4141 + 2 × 66.6667 + 1 × 58.3333) / 5 = 64.4990 → 64.50, Structuration
    assert score.index == D("64.50")
    assert score.level == "structuration"

    points = selectors.question_points(score)
    q17 = points[17]
    assert (q17.points, q17.max_points, q17.weight) == (D(1), D(3), D(1))
    # Excluded questions are not scored; the 35 scored ones are, even when they do not apply.
    assert not {28, 29} & points.keys()
    assert len(points) == 35


def test_golden_declared_cpts(campaign, grid):
    """A declared initiative: Q26–Q27 do not apply, so Projet de santé is not assessed."""
    score = services.response_score(response=make_response(campaign, MINIMAL), grid=grid).score
    found = areas(score)
    # The only points of the whole response: Q3 one mission 1/7, Q5 one affiliation 1/4,
    # Q13 one profession 1/8.
    # niveau_maturite = (0 × 2 + 1/7 + 0) / 4 = 1/28 → 3.57; ressources = (1/8) / 4 → 3.13
    assert found["niveau_maturite"] == D("3.57")
    assert found["ressources"] == D("3.13")
    assert found["identite_professionnelle"] == D("25.00")
    # Q26–Q27 do not apply, Q28–Q29 are descriptive: nothing left to assess.
    assert found["projet_sante"] is None
    # Structure × interne: (1/7 + 1/8) over 2+1+1 (maturité) + 4 (ressources) + 1 (éthique)
    #   + 4 (gouvernance) + 3 (SI) + 2 (organisation) = 18 → (15/56) / 18 = 0.014881 → 1.49
    assert found[("structure", "interne")] == D("1.49")
    # Structure: (15/56 + 1/4) / (18 + 1 + 2) = (29/56) / 21 = 0.024660 → 2.47
    assert found["structure"] == D("2.47")
    assert found["processus"] == found["resultats"] == D("0.00")
    # Index = (2 × 2.4660 + 2 × 0 + 1 × 0) / 5 = 0.9864 → 0.99
    assert score.index == D("0.99")
    q26 = selectors.question_points(score)[26]
    assert q26.status == NOT_APPLICABLE and q26.points is None
    assert score.level == "emergence"


def test_golden_best_answers(campaign, grid):
    best = {
        **MIXED,
        "q03": [c for c in _codes(grid, 3)],
        "q04": "total",
        "q05": ["msp", "centre_sante", "liberaux", "etablissement_sante"],
        "q10": ["asv", "cls", "clsm"],
        "q11": ["associations", "sante_mentale", "cmp_cmpp", "dac", "elus"],
        "q12": "plus_100",
        "q13": ["infirmiers", "medecins", "pharmaciens", "kinesitherapeutes", "sages_femmes"]
        + ["dentistes", "orthophonistes", "dieteticiens"],
        "q15": ["locaux_propres", "cafes_restaurants"],
        "q17": {"president": "medecins", "secretaire": "infirmiers", "tresorier": "pharmaciens"}
        | {"autre": "sages_femmes"},
        "q18": "bimensuelle",
        "q19": ["elus", "associations_patients"],
        "q20": ["liberaux", "usagers", "collectivites", "sante_mentale"],
        "q22": "oui",
        "q23": "oui_hds",
        "q24": ["referent", "comptes_rendus", "retroplanning", "evaluation", "reflexion_pluripro"],
        "q27": "tres_enrichissante",
        "q30": "tres_importante",
        "q31": ["invitation_directe", "reseau_recrutement", "campagnes_communication"],
        "q34": "oui",
        "q36": ["facilitateur_parcours", "contact_dac", "parcours_pluripro", "autre"],
        "q38": "oui",
        "q39": ["recherche", "enquetes_patients", "formation_continue", "accueil_stagiaires"],
        "q40": ["analyse_pratiques", "echanges_pathologies", "recherche", "enquetes_patients"],
        "q41": "tres_satisfaits",
        "q42": "p100",
    }
    best["q36"] = (best["q36"], "Équipe mobile")
    score = services.response_score(response=make_response(campaign, best), grid=grid).score
    found = areas(score)
    # Every scored question at its maximum: every assessed area is 100, the others stay None.
    assert {k: v for k, v in found.items() if v is not None} == dict.fromkeys(
        [k for k, v in found.items() if v is not None], D("100.00")
    )
    assert {k for k, v in found.items() if v is None} == {
        "population_territoire",
        ("processus", "environnementale"),
        ("resultats", "environnementale"),
    }
    assert score.index == D("100.00") and score.level == "deploiement"


def _codes(grid, number):
    return list(grid.spec.rules[number].points)


@pytest.mark.parametrize(
    "bureau, points",
    [
        # Tableau 6 of the thesis (line ~1012): the five bureaus by profession.
        (
            {"president": "medecins", "vice_president": "medecins", "secretaire": "medecins"}
            | {"tresorier": "infirmiers", "autre": "infirmiers"},
            1,
        ),  # A: 3 GPs, 2 nurses
        ({"president": "infirmiers", "secretaire": "medecins"}, 1),  # B: nurses and GPs
        (
            {"president": "infirmiers", "vice_president": "kinesitherapeutes"}
            | {"secretaire": "medecins", "autre": "medico_social"},
            3,
        ),  # C: 4 professions
        ({"president": "medecins", "tresorier": "sages_femmes"}, 1),  # D: GPs, a midwife
        ({"president": "medecins", "secretaire": "pharmaciens", "tresorier": "infirmiers"}, 2),
    ],
)
def test_bureau_pluriprofessionality_of_the_thesis_cpts(grid, bureau, points):
    assert grid.spec.rules[17].raw_points(bureau) == points


# --- properties -----------------------------------------------------------------------------


def _flat(result) -> dict:
    flat = {("index",): result.index}
    flat.update({("q", n): o.points for n, o in result.questions.items()})
    for name in ("subdimensions", "cells", "dimensions"):
        flat.update({(name, k): a.score for k, a in getattr(result, name).items()})
    return flat


@PROPERTY
@given(data=st.data())
def test_every_score_stays_within_its_bounds(model, data):
    spec, layout, questions = model
    values = data.draw(answer_sets(questions))
    result = score_answers(grid=spec, layout=layout, questions=questions, values=values)
    for outcome in result.questions.values():
        if outcome.status == NOT_APPLICABLE:
            assert outcome.points is None
        else:
            assert 0 <= outcome.points <= outcome.maximum
            assert 0 <= outcome.earned <= outcome.weight
    for name in ("subdimensions", "cells", "dimensions"):
        for area in getattr(result, name).values():
            assert area.score is None or 0 <= area.score <= 100
            assert 0 <= area.earned <= area.possible
    assert result.index is not None and 0 <= result.index <= 100
    assert result.level in spec.levels
    assert result.level == max(
        (lv for lv in spec.levels if lv.minimum <= result.index), key=lambda lv: lv.minimum
    )


@PROPERTY
@given(data=st.data())
def test_what_a_rescore_stores_is_what_score_gives(model, data):
    """`area_sums` (the stored figures), from a plan that has already scored other answers,
    equals `score` from a fresh plan: the packed sums and the outcome caches change nothing."""
    spec, layout, questions = model
    shared = ScoringPlan(grid=spec, layout=layout, questions=questions)
    for values in data.draw(st.lists(answer_sets(questions), min_size=1, max_size=4)):
        sums, index, level = shared.area_sums(values)
        result = ScoringPlan(grid=spec, layout=layout, questions=questions).score(values)
        areas = [getattr(result, group)[code] for group, code in shared.areas]
        assert sums == [(area.scaled_earned, area.scaled_possible) for area in areas]
        assert (index, level) == (result.index, result.level)


@PROPERTY
@given(data=st.data())
def test_improving_one_answer_never_lowers_any_score(model, data):
    """Raise the points of one answer (or answer a blank one): nothing goes down.

    The question changed is one no other question depends on: changing Q2 changes which
    questions apply (Q26–Q28), a different question set, not a better answer to the same one.
    """
    spec, layout, questions = model
    conditions = {q.condition_question_id for q in questions if q.condition_question_id}
    candidates = [q for q in questions if q.number in spec.rules and q.id not in conditions]
    values = data.draw(answer_sets(questions))
    question = data.draw(st.sampled_from(candidates))
    rule = spec.rules[question.number]
    other = data.draw(value_strategy(question))
    current = values.get(question.id)
    if current is not None and rule.raw_points(other) < rule.raw_points(current):
        values[question.id], other = other, current
    better = {**values, question.id: other}

    before = _flat(score_answers(grid=spec, layout=layout, questions=questions, values=values))
    after = _flat(score_answers(grid=spec, layout=layout, questions=questions, values=better))
    for key, old in before.items():
        new = after[key]
        assert (old is None) == (new is None), key
        assert old is None or new >= old, key


@PROPERTY
@given(data=st.data())
def test_a_non_applicable_or_excluded_question_never_changes_a_score(model, data):
    spec, layout, questions = model
    values = data.draw(answer_sets(questions, complete=True))
    result = score_answers(grid=spec, layout=layout, questions=questions, values=values)
    inert = [
        q for q in questions if q.number in spec.excluded or not rules.is_applicable(q, values)
    ]
    assert any(not rules.is_applicable(q, values) for q in inert)  # Q26–27 or Q28
    changed = copy.deepcopy(values)
    for question in inert:
        if data.draw(st.booleans()):
            changed.pop(question.id, None)
        else:
            changed[question.id] = data.draw(value_strategy(question))
    again = score_answers(grid=spec, layout=layout, questions=questions, values=changed)
    assert _flat(again) == _flat(result)

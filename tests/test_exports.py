"""Cohort exports: each format's header and cells against hand-written expectations, the CSV
injection rule, Excel (France), territory scoping, the page, background jobs and retention."""

import csv
import dataclasses
import io
import itertools
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from cpts_portal.spreadsheet import format_cell, neutralise, restore
from exports import columns, writers
from exports.spec import ExportSpec
from questionnaire.models import Answer, Question, Response
from scoring import services as scoring_services
from tests.factories import AnswerFactory, CptsFactory, ResponseFactory
from tests.helpers import MINIMAL, MIXED, SLUG, export, make_response

FORMULA_PREFIXES = ["=", "+", "-", "@", "\t", "\r", "\n"]


def read(text: str, delimiter: str = ",") -> list[list[str]]:
    return list(
        csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), delimiter=delimiter)
    )


def by_code(rows: list[list[str]]) -> dict[str, dict[str, str]]:
    header, *data = rows
    return {row[1]: dict(zip(header, row, strict=True)) for row in data}


# --- wide -------------------------------------------------------------------------------------


def test_wide_header_and_cells(cohort, territory):
    rows = read(export(ExportSpec(campaigns=(SLUG,), format="wide")))
    header = rows[0]
    assert header[:12] == [
        "campaign",
        "cpts_code",
        "cpts_name",
        "department",
        "region",
        "stage",
        "status",
        "submitted_at",
        "q01",
        "q02",
        "q03__medecin_traitant",
        "q03__soins_non_programmes",
    ]
    # A multiple choice: one 0/1 column per option, then its "Autre" text.
    assert [c for c in header if c.startswith("q10")] == [
        "q10__asv",
        "q10__cls",
        "q10__clsm",
        "q10__dac",
        "q10__autre",
        "q10__aucun",
        "q10_other_text",
    ]
    assert [c for c in header if c.startswith("q17")] == [
        "q17__president",
        "q17__vice_president",
        "q17__secretaire",
        "q17__tresorier",
        "q17__autre",
    ]
    assert len(header) == len(set(header))
    # Submitted only by default; ordered by CPTS code.
    codes = [territory[k].code for k in ("paris_1", "saint_denis", "lyon")]
    assert [row[1] for row in rows[1:]] == sorted(codes)
    paris = by_code(rows)[territory["paris_1"].code]
    assert list(paris.values())[:8] == [
        SLUG,
        territory["paris_1"].code,
        "CPTS Paris Un",
        "75",
        "11",
        "fonctionnement",
        "submitted",
        "2026-10-01T10:00:00+02:00",
    ]
    assert paris["q01"] == "2019-02"
    assert paris["q02"] == "fonctionnement"
    assert paris["q07"] == "3"
    assert [paris[f"q10__{c}"] for c in ("asv", "cls", "clsm", "dac", "autre", "aucun")] == [
        "0",
        "1",
        "0",
        "0",
        "1",
        "0",
    ]
    assert paris["q10_other_text"] == 'Réseau « ville-hôpital », 2e "cercle" 🩺'
    assert paris["q17__secretaire"] == "infirmiers"
    # Q28 does not apply to a CPTS in operation: empty, not 0.
    assert {paris[c] for c in header if c.startswith("q28")} == {""}
    assert paris["q32_other_text"] == "Signalements des pharmacies"


def test_wide_with_labels_and_drafts(cohort, territory):
    rows = read(export(ExportSpec(campaigns=(SLUG,), format="wide", labels=True, status="all")))
    data = by_code(rows)
    assert len(data) == 4
    paris = data[territory["paris_1"].code]
    assert paris["stage"] == "CPTS en fonctionnement"
    assert paris["status"] == "Soumise"
    assert paris["q02"] == "CPTS en fonctionnement"
    assert paris["q03__medecin_traitant"] == "1"  # 0/1 columns stay numbers
    assert paris["q17__president"] == "Médecins"
    draft = data[territory["paris_2"].code]
    assert (draft["status"], draft["submitted_at"], draft["q01"], draft["q02"]) == (
        "Brouillon",
        "",
        "2020-05",
        "",
    )


# --- long -------------------------------------------------------------------------------------


def test_long_header_and_rows(cohort, territory):
    rows = read(export(ExportSpec(campaigns=(SLUG,), format="long")))
    assert rows[0] == ["campaign", "cpts_code", "question", "variable", "option_code", "value"]
    code = territory["paris_1"].code
    mine = [row for row in rows[1:] if row[1] == code]
    assert mine[:6] == [
        [SLUG, code, "1", "q01", "", "2019-02"],
        [SLUG, code, "2", "q02", "fonctionnement", "1"],
        [SLUG, code, "3", "q03", "medecin_traitant", "1"],
        [SLUG, code, "3", "q03", "soins_non_programmes", "1"],
        [SLUG, code, "3", "q03", "parcours", "1"],
        [SLUG, code, "3", "q03", "prevention", "1"],
    ]
    assert [SLUG, code, "7", "q07", "", "3"] in mine
    assert [r for r in mine if r[3] == "q10"] == [
        [SLUG, code, "10", "q10", "cls", "1"],
        [SLUG, code, "10", "q10", "autre", 'Réseau « ville-hôpital », 2e "cercle" 🩺'],
    ]
    assert [r[4:] for r in mine if r[3] == "q17"] == [
        ["president", "medecins"],
        ["vice_president", "medecins"],
        ["secretaire", "infirmiers"],
        ["tresorier", "medecins"],
        ["autre", "infirmiers"],
    ]
    assert not [r for r in mine if r[3] == "q28"]  # not applicable: left out
    # One row per chosen option: as many rows as the answers have parts.
    expected = 0
    for variable, raw in MIXED.items():
        value = raw[0] if isinstance(raw, tuple) else raw
        if variable == "q10":
            value = ["cls", "autre"]
        expected += len(value) if isinstance(value, list | dict) else 1
    assert len(mine) == expected


def test_long_with_labels(cohort, territory):
    rows = read(export(ExportSpec(campaigns=(SLUG,), format="long", labels=True)))
    code = territory["paris_1"].code
    assert [SLUG, code, "2", "q02", "fonctionnement", "CPTS en fonctionnement"] in rows
    assert [SLUG, code, "17", "q17", "president", "Médecins"] in rows


# --- scores -----------------------------------------------------------------------------------


def test_scores_header_and_cells(cohort, territory, grid):
    rows = read(export(ExportSpec(campaigns=(SLUG,), format="scores", status="all")))
    header = rows[0]
    assert header[8:] == [
        "index",
        "level",
        "dimension__structure",
        "dimension__processus",
        "dimension__resultats",
        "cell__structure__interne",
        "cell__structure__externe",
        "cell__structure__environnementale",
        "cell__processus__interne",
        "cell__processus__externe",
        "cell__processus__environnementale",
        "cell__resultats__interne",
        "cell__resultats__externe",
        "cell__resultats__environnementale",
        *[f"subdimension__{code}" for code in SUBDIMENSIONS],
        "grid",
    ]
    data = by_code(rows)
    paris = data[territory["paris_1"].code]
    # tests/test_scoring_worker.py computes the same response by hand: 64.50, structuration.
    assert (paris["index"], paris["level"], paris["grid"]) == ("64.50", "structuration", grid.code)
    # Processus × environnementale has no scored question: not assessed, an empty cell.
    assert paris["cell__processus__environnementale"] == ""
    stored = Response.objects.get(cpts=territory["paris_1"]).scores.get().areas
    structure = stored.get(kind="dimension", dimension__code="structure").value
    assert paris["dimension__structure"] == format(structure, "f")
    # A draft has a row but no scores.
    draft = data[territory["paris_2"].code]
    assert {draft[c] for c in header[8:]} == {""}


SUBDIMENSIONS = [
    # structure
    "niveau_maturite",
    "identite_professionnelle",
    "population_territoire",
    "acteurs_territoire",
    "ressources",
    "ethique_valeurs",
    "gouvernance",
    "systeme_information",
    "organisation_travail",
    "projet_sante",
    # processus
    "dynamique_collective",
    "acces_medecin_traitant",
    "acces_soins_non_programmes",
    "coordination_continuite",
    "prevention",
    "plan_sse",
    "integration_accompagnement",
    # resultats
    "qualite_pertinence",
    "indicateurs",
]


def test_scores_level_label(cohort, territory):
    rows = read(export(ExportSpec(campaigns=(SLUG,), format="scores", labels=True)))
    assert by_code(rows)[territory["paris_1"].code]["level"] == "Structuration"


# --- codebook and Excel (France) --------------------------------------------------------------


def test_codebook_format_is_the_codebook(cohort, questionnaire, tmp_path):
    ours = export(ExportSpec(campaigns=(SLUG,), format="codebook"))
    path = tmp_path / "codebook.csv"
    call_command("export_codebook", questionnaire=questionnaire.code, output=str(path))
    assert read(ours) == read(path.read_text(encoding="utf-8"))


def test_excel_france_has_bom_semicolons_and_decimal_comma(cohort, territory):
    text = export(ExportSpec(campaigns=(SLUG,), format="scores", excel=True))
    assert text.startswith("\ufeffcampaign;cpts_code;cpts_name;")
    assert "\r\n" in text
    paris = by_code(read(text, ";"))[territory["paris_1"].code]
    assert paris["index"] == "64,50"
    wide = by_code(read(export(ExportSpec(campaigns=(SLUG,), format="wide", excel=True)), ";"))
    assert wide[territory["paris_1"].code]["q10_other_text"].startswith("Réseau")


# --- CSV injection ----------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", FORMULA_PREFIXES)
def test_formula_cells_are_neutralised_in_every_format(prefix, cohort, territory, questionnaire):
    dangerous = prefix + 'HYPERLINK("http://x")'
    cpts = territory["paris_1"]
    cpts.name = dangerous
    cpts.save()
    answer = Answer.objects.get(response__cpts=cpts, question__variable="q10")
    answer.other_text = dangerous  # as an import or an older version could have stored it
    answer.save()
    question = Question.objects.get(version=questionnaire, variable="q07")
    question.text = dangerous
    question.save()

    expected = "'" + dangerous
    wide = by_code(read(export(ExportSpec(campaigns=(SLUG,), format="wide"))))[cpts.code]
    assert wide["cpts_name"] == expected and wide["q10_other_text"] == expected
    assert wide["q07"] == "3"  # numbers are never prefixed
    long = read(export(ExportSpec(campaigns=(SLUG,), format="long")))
    assert [SLUG, cpts.code, "10", "q10", "autre", expected] in long
    scores = by_code(read(export(ExportSpec(campaigns=(SLUG,), format="scores"))))[cpts.code]
    assert scores["cpts_name"] == expected and scores["index"] == "64.50"
    codebook = read(export(ExportSpec(campaigns=(SLUG,), format="codebook")))
    assert [row[6] for row in codebook if row[1] == "q07"] == [expected]
    assert restore(expected) == dangerous


@pytest.mark.parametrize(
    "text",
    ["=1+1", "'=1+1", "''@x", "-", "'", "''", "ordinary", "'quoted'", "\n=x", "+33 1 23"],
)
def test_neutralise_then_restore_gives_the_text_back(text):
    assert restore(neutralise(text)) == text
    assert not neutralise(text).startswith(tuple(FORMULA_PREFIXES))


def test_numbers_are_never_prefixed():
    assert format_cell(Decimal("-1.50")) == "-1.50"
    assert format_cell(Decimal("-1.50"), excel=True) == "-1,50"
    assert format_cell(-3) == "-3"
    assert format_cell("-3") == "'-3"


# --- scope and filters ------------------------------------------------------------------------


def test_national_export_filters_by_region_department_and_stage(cohort, territory):
    def codes(**filters) -> set[str]:
        rows = read(export(ExportSpec(campaigns=(SLUG,), format="wide", **filters)))
        return {row[1] for row in rows[1:]}

    assert codes(region="11") == {territory["paris_1"].code, territory["saint_denis"].code}
    assert codes(department="93") == {territory["saint_denis"].code}
    assert codes(region="84") == {territory["lyon"].code}
    assert codes(stage="ingenierie") == set()


def test_ars_and_cpam_exports_hold_only_their_territory(cohort, territory, users):
    ars = by_code(read(export(ExportSpec(campaigns=(SLUG,), format="wide"), users["ars"])))
    assert set(ars) == {territory["paris_1"].code, territory["saint_denis"].code}
    assert {row["region"] for row in ars.values()} == {"11"}
    # Asking for another region gives nothing, never that region.
    other = read(export(ExportSpec(campaigns=(SLUG,), format="long", region="84"), users["ars"]))
    assert other == [columns.LONG_HEADER]
    cpam = read(export(ExportSpec(campaigns=(SLUG,), format="scores"), users["cpam"]))
    assert [row[1] for row in cpam[1:]] == [territory["paris_1"].code]


# --- PostgreSQL: answers pivoted in SQL -------------------------------------------------------


def test_answers_pivoted_in_sql_give_the_bytes_of_the_chunked_path(
    cohort, territory, questionnaire, grid, users, monkeypatch
):
    """On PostgreSQL the answers are pivoted in SQL (`selectors.pivoted_response_rows`); every
    format, with and without labels, Excel and drafts, must give the bytes of the path that
    reads a chunk's answers row by row (the one other databases take)."""
    assert connection.vendor == "postgresql"
    campaign, _ = cohort
    questions = {q.variable: q for q in questionnaire.questions.all()}
    # A declared initiative: Q28 applies; its Q26 and Q27, answered while it was in operation,
    # no longer do. An "Autre" text that looks like a formula, spans lines and quotes.
    declared = make_response(
        campaign,
        {**MINIMAL, "q32": (["autre"], '=1+1\r\nligne 2 « "x" » ; fin')},
        cpts=CptsFactory(name="CPTS Déclarée", stage="declaration"),
    )
    AnswerFactory(response=declared, question=questions["q26"], value="autre", other_text="Ancien")
    AnswerFactory(response=declared, question=questions["q27"], value="enrichissante")
    # In operation, with a Q28 answer left from before: not applicable either.
    running = make_response(campaign, MIXED, cpts=CptsFactory(name="CPTS Ancienne déclarée"))
    AnswerFactory(response=running, question=questions["q28"], value=["prevention"])
    # A draft without a single answer, and another with a few (a multiple choice among them).
    empty = make_response(campaign, {}, cpts=CptsFactory(name="CPTS Vide"), submitted=False)
    make_response(
        campaign,
        {"q02": "ingenierie", "q10": (["autre"], "Texte seul"), "q17": {"tresorier": "autres"}},
        cpts=CptsFactory(),
        submitted=False,
    )
    # Values of other shapes than the questionnaire's rules store (an old import, say).
    odd = ResponseFactory(campaign=campaign, cpts=CptsFactory(), status=Response.Status.DRAFT)
    for variable, value in {
        "q01": 2.5,
        "q03": [],
        "q07": True,
        "q17": {"president": "medecins", "tresorier": ""},
    }.items():
        AnswerFactory(response=odd, question=questions[variable], value=value)
    scoring_services.score_all_submitted(grid=grid)
    # Batches of 2 responses, so that the cursor's batches end inside the cohort.
    monkeypatch.setattr(writers, "CHUNK_SIZE", 2)
    monkeypatch.setattr(writers, "PIVOT_CHUNK_SIZE", 2)

    compared = 0
    for format_, labels, excel, status, user in itertools.product(
        ("wide", "long", "scores", "codebook"),
        (False, True),
        (False, True),
        ("submitted", "all"),
        (None, users["ars"]),
    ):
        spec = ExportSpec(
            campaigns=(SLUG,), format=format_, labels=labels, excel=excel, status=status
        )
        prepared = writers.export_prepare(spec=spec, user=user)
        assert prepared.pivot_in_sql
        pivoted = "".join(prepared.lines())
        chunked = "".join(dataclasses.replace(prepared, pivot_in_sql=False).lines())
        assert pivoted == chunked, spec
        compared += len(pivoted)
    assert compared > 100_000

    # What the comparison covers is in the export: these rows differ in every way listed.
    wide = by_code(read(export(ExportSpec(campaigns=(SLUG,), format="wide", status="all"))))
    assert wide[declared.cpts.code]["q26"] == wide[declared.cpts.code]["q27"] == ""
    assert wide[declared.cpts.code]["q28__prevention"] == "1"
    assert wide[declared.cpts.code]["q32_other_text"] == "'" + '=1+1\nligne 2 « "x" » ; fin'
    assert {v for k, v in wide[running.cpts.code].items() if k.startswith("q28")} == {""}
    assert wide[running.cpts.code]["q17__secretaire"] == "infirmiers"
    assert {v for k, v in wide[empty.cpts.code].items() if k.startswith("q")} == {""}

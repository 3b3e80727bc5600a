"""Hostile and malformed input to the importers (issue 13 §3): one CSV reader for both, every
bad value a French message naming its line and column, nothing written, never a traceback."""

import io

import pytest
from django.core.management import CommandError, call_command

from cpts_portal.spreadsheet import CELL_MAX_CHARACTERS, TableInvalid, read_table
from exports.spec import ExportSpec
from questionnaire.models import Answer, Response
from territories.models import Cpts, TerritoryIndicator
from tests.helpers import CPTS_COLUMNS, CPTS_ROW, SLUG, build_cohort, export

# --- The reader ------------------------------------------------------------------------------


def test_doubled_quotes_are_read_as_rfc_4180_says():
    table = read_table('code,name\r\nA,"CPTS ""Les Lilas"""\r\nB,"CPTS ""A, B"""\r\n')
    assert [row.values for row in table.rows] == [
        ("A", 'CPTS "Les Lilas"'),
        ("B", 'CPTS "A, B"'),
    ]


def test_the_delimiter_is_detected_then_quotes_read_normally():
    table = read_table('\ufeffcode;name\r\nA;"x; ""y"""\r\n;;\r\n')
    assert table.delimiter == ";"
    assert [(row.line, row.get("name")) for row in table.rows] == [(2, 'x; "y"')]


def test_bytes_with_or_without_bom_and_line_numbers_across_quoted_line_breaks():
    table = read_table(b'\xef\xbb\xbfa,b\n"two\nlines",1\n\nc,2\n')
    assert [(row.line, row.values) for row in table.rows] == [
        (2, ("two\nlines", "1")),
        (5, ("c", "2")),
    ]


@pytest.mark.parametrize(
    "source, expected",
    [
        ("a,b,a\n1,2,3\n", "ligne 1 : la colonne « a » figure deux fois dans l'en-tête"),
        ("a,b\n1,x\x00y\n", "ligne 2 : colonne « b » : caractère NUL interdit"),
        (
            "a,b\n1,2\n3," + "x" * 10_000_000 + "\n",
            f"ligne 3 : colonne « b » : plus de {CELL_MAX_CHARACTERS:,}".replace(",", "\u202f"),
        ),
        ('a,b\n1,"open\n', "ligne 2 : un guillemet ouvert n'est jamais fermé"),
        ('a,b\n1,"x"y\n', "ligne 2 : après un guillemet fermant"),
        (b"a,b\n1,\xff\n", "ligne 2 : le fichier n'est pas en UTF-8"),
        ("", "ligne 1 : le fichier est vide"),
        ("a,b\n", None),
    ],
    ids=["duplicate", "nul", "10-mb", "open-quote", "after-quote", "not-utf8", "empty", "ok"],
)
def test_what_the_reader_refuses(source, expected):
    if expected is None:
        assert read_table(source, required=["a"]).rows == []
        return
    with pytest.raises(TableInvalid) as refused:
        read_table(source)
    assert any(str(problem).startswith(expected) for problem in refused.value.problems), [
        str(p) for p in refused.value.problems
    ]


def test_missing_required_columns_are_named():
    with pytest.raises(TableInvalid) as refused:
        read_table("code,name\n", required=["code", "stage", "name", "department_code"])
    assert [str(p) for p in refused.value.problems] == [
        "ligne 1 : colonnes obligatoires absentes : stage, department_code"
    ]


# --- import_cpts -----------------------------------------------------------------------------

HEADER = ",".join(CPTS_COLUMNS)


def _cpts_file(tmp_path, text: str):
    path = tmp_path / "cpts.csv"
    path.write_bytes(text.encode("utf-8"))
    return path


def _row(**cells) -> str:
    row = dict(zip(CPTS_COLUMNS, CPTS_ROW, strict=True)) | cells
    return ",".join(row[column] for column in CPTS_COLUMNS)


def _import_cpts_refused(path) -> list[str]:
    err = io.StringIO()
    with pytest.raises(CommandError, match="aucune CPTS n'a été modifiée"):
        call_command("import_cpts", str(path), stderr=err)
    return err.getvalue().splitlines()


@pytest.mark.django_db
def test_import_cpts_reads_doubled_quotes(tmp_path):
    quoted = '"CPTS ""Les Lilas"""'
    text = f"{HEADER}\r\n{_row(name=quoted)}\r\n"
    text += _row(code="NEW-2", name='"CPTS ""A, B"""') + "\r\n"
    call_command("import_cpts", str(_cpts_file(tmp_path, text)), stdout=io.StringIO())
    assert Cpts.objects.get(code="NEW-1").name == 'CPTS "Les Lilas"'
    second = Cpts.objects.get(code="NEW-2")
    assert (second.name, second.department.code, second.stage) == (
        'CPTS "A, B"',
        "75",
        "fonctionnement",
    )


@pytest.mark.django_db
def test_import_cpts_refuses_a_duplicated_column(tmp_path):
    path = _cpts_file(tmp_path, "code,name,department_code,stage,name\nX,Un,75,declaration,Deux\n")
    assert _import_cpts_refused(path) == [
        "Ligne 1 : la colonne « name » figure deux fois dans l'en-tête (colonnes 2 et 5)."
    ]
    assert not Cpts.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "cells, expected",
    [
        ({"name": "N" * 201}, "name trop long (200 caractères au plus)"),
        ({"legal_form": "F" * 101}, "legal_form trop long (100 caractères au plus)"),
        ({"population": "NaN"}, "population « NaN » n'est pas un nombre"),
        ({"area_km2": "Infinity"}, "area_km2 « Infinity » n'est pas un nombre"),
        ({"population": "1e10"}, "population « 1e10 » n'est pas un nombre"),
        ({"share_aged_80_plus": "150"}, "share_aged_80_plus « 150 » est un pourcentage"),
        ({"area_km2": "9999999.999"}, "area_km2 « 9999999.999 » dépasse le maximum"),
        ({"population": "3000000000"}, "population « 3000000000 » dépasse le maximum"),
        ({"area_km2": "12345678"}, "area_km2 « 12345678 » dépasse le maximum de la colonne"),
        ({"population": "١٢٣"}, "population « ١٢٣ » n'est pas un nombre"),
        ({"year": "２０２５"}, "year manquante ou invalide"),
        ({"created_on": "0001-01-01"}, "created_on « 0001-01-01 » hors des dates possibles"),
        ({"created_on": "01/01/2999"}, "created_on « 01/01/2999 » hors des dates possibles"),
        ({"name": "CPTS\x00Nulle"}, "colonne « name » : caractère NUL interdit"),
        ({"legal_form": "x" * 10_000_000}, "colonne « legal_form » : plus de 131"),
    ],
    ids=[
        "name-too-long",
        "legal-form-too-long",
        "nan",
        "infinity",
        "1e10",
        "share-150",
        "area-rounds-past-the-column",
        "population-beyond-column",
        "area-beyond-column",
        "arabic-digits",
        "fullwidth-year",
        "year-0001",
        "year-2999",
        "nul",
        "10-mb-cell",
    ],
)
def test_import_cpts_names_the_line_and_column_of_a_bad_value(tmp_path, cells, expected):
    first = _row(code="OK-1")
    path = _cpts_file(tmp_path, f"{HEADER}\n{first}\n{_row(**cells)}\n")
    messages = _import_cpts_refused(path)
    assert any(m.startswith("Ligne 3 : ") and expected in m for m in messages), messages
    assert not Cpts.objects.exists() and not TerritoryIndicator.objects.exists()


# --- import_responses ------------------------------------------------------------------------


@pytest.fixture
def long_file(questionnaire, territory, grid, tmp_path):
    """One CPTS's valid long-format file, its campaign emptied for the import."""
    campaign, _ = build_cohort(questionnaire, territory, grid)
    paris = territory["paris_1"].code
    lines = [
        line
        for line in export(ExportSpec(campaigns=(SLUG,), format="long")).splitlines()
        if line.startswith("campaign") or line.split(",")[1] == paris
    ]
    Response.objects.filter(campaign=campaign).delete()
    return campaign, paris, lines


def _import_responses_refused(tmp_path, text: str) -> list[str]:
    path = tmp_path / "long.csv"
    path.write_bytes(text.encode("utf-8"))
    err = io.StringIO()
    with pytest.raises(CommandError, match="rien n'a été importé"):
        call_command("import_responses", str(path), campaign=SLUG, stderr=err)
    return err.getvalue().splitlines()


def _replace(lines: list[str], variable: str, row: str) -> tuple[str, int]:
    """The file with the (single) row of `variable` replaced, and that row's line number."""
    index = next(n for n, line in enumerate(lines) if line.split(",")[3] == variable)
    changed = [*lines[:index], row, *lines[index + 1 :]]
    return "\r\n".join(changed) + "\r\n", index + 1


@pytest.mark.parametrize(
    "variable, cells, expected",
    [
        ("q07", "7,q07,,٣", "q07 : nombre entier attendu, trouvé « ٣ »"),
        ("q07", "7,q07,," + "9" * 5000, "q07 : nombre trop grand (18 chiffres au plus)"),
        ("q07", "７,q07,,3", "question inconnue : « ７ »"),
        ("q07", "7,q07,,NaN", "q07 : nombre entier attendu, trouvé « NaN »"),
        ("q07", "7,q07,,1e10", "q07 : nombre entier attendu, trouvé « 1e10 »"),
        ("q07", "7,q07,,1000000", "q07 (CPTS"),
        ("q01", "1,q01,,0001-01", "q01 (CPTS"),
        ("q01", "1,q01,,2999-01", "q01 (CPTS"),
        ("q10", "10,q10,autre,Texte\x00nul", "colonne « value » : caractère NUL interdit"),
        ("q10", "10,q10,autre," + "x" * 501, "q10 (CPTS"),
        ("q10", "10,q10,autre," + "x" * 10_000_000, "colonne « value » : plus de 131"),
    ],
    ids=[
        "arabic-digit",
        "5000-digits",
        "fullwidth-question",
        "nan",
        "1e10",
        "beyond-range",
        "year-0001",
        "year-2999",
        "nul",
        "other-text-too-long",
        "10-mb-cell",
    ],
)
def test_import_responses_names_the_line_of_a_bad_value(
    long_file, tmp_path, variable, cells, expected
):
    campaign, paris, lines = long_file
    if variable == "q10":  # its "Autre" row; the file has one row per chosen option
        lines = [line for line in lines if ",q10," not in line or ",autre," in line]
    text, line = _replace(lines, variable, f"{SLUG},{paris},{cells}")
    messages = _import_responses_refused(tmp_path, text)
    assert any(m.startswith(f"ligne {line} : ") and expected in m for m in messages), messages
    assert not Response.objects.filter(campaign=campaign).exists()
    assert not Answer.objects.filter(response__campaign=campaign).exists()


def test_import_responses_refuses_a_duplicated_column(long_file, tmp_path):
    campaign, _, lines = long_file
    lines[0] += ",value"
    messages = _import_responses_refused(tmp_path, "\r\n".join(lines) + "\r\n")
    assert messages[0].startswith("ligne 1 : la colonne « value » figure deux fois"), messages
    assert not Response.objects.filter(campaign=campaign).exists()


def test_import_responses_goes_through_the_questionnaire_write_path(long_file, tmp_path):
    """Imported answers are what answer_save would store: the rules' cleaned values."""
    campaign, paris, lines = long_file
    text, _ = _replace(lines, "q07", f"{SLUG},{paris},7,q07,, 3 ")
    path = tmp_path / "long.csv"
    path.write_text(text, encoding="utf-8")
    call_command("import_responses", str(path), campaign=SLUG, stdout=io.StringIO())
    response = Response.objects.get(campaign=campaign, cpts__code=paris)
    assert response.status == Response.Status.SUBMITTED
    assert Answer.objects.get(response=response, question__variable="q07").value == 3
    assert response.history.first().history_change_reason == "Import"

"""Arbitrary Unicode into both importers (issue 13 §3), on the test database (PostgreSQL in
CI): control characters, NUL, other scripts' digits, quotes, separators, line breaks and bytes
that are not UTF-8. The command either imports or refuses with a French CommandError; it never
raises anything else, and whatever it stored passes the model's and the questionnaire's rules.
"""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exports.spec import ExportSpec
from questionnaire.models import Answer, Response
from questionnaire.rules import clean_answer
from territories.models import Cpts, TerritoryIndicator
from tests.helpers import CPTS_COLUMNS, CPTS_ROW, SLUG, build_cohort, export

# Values a hostile file holds, and any text at all (surrogates included: written with
# surrogatepass, they make bytes that are not UTF-8).
NASTY = st.sampled_from(
    [
        "NaN",
        "-Infinity",
        "1e10",
        "١٢٣",
        "７",
        "²",
        "0001-01-01",
        "2999-12-31",
        "\x00",
        '"',
        '""',
        '"x"y',
        "\r",
        "\n",
        ";",
        ",",
        "\ufeff",
        "\u2028",
        "=1+1",
        "'=1",
        " ",
        "9" * 5000,
    ]
)
SURROGATES = st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1)
CELL = st.one_of(NASTY, NASTY, st.text(max_size=40), SURROGATES)
FUZZ = settings(
    max_examples=100,
    derandomize=True,  # the same examples on every run: CI is never red by chance
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    return path


def _run(command: str, *args, **options) -> bool:
    """True if imported, False if refused with a French message; anything else fails."""
    err = io.StringIO()
    try:
        call_command(command, *args, stdout=io.StringIO(), stderr=err, **options)
    except CommandError as error:
        assert str(error) and "Traceback" not in err.getvalue()
        return False
    return True


def _edited(rows: list[list[str]], data, hot: tuple[int, ...]) -> list[list[str]]:
    """The rows with one of the NASTY values in one of the `hot` columns (those read as
    numbers) of a data row, and any text in up to two cells anywhere (a cell past a row's end
    is appended)."""
    rows = [list(row) for row in rows]
    row = data.draw(st.integers(1, len(rows) - 1), label="row")
    places = [(row, data.draw(st.sampled_from(hot)), data.draw(NASTY, label="nasty"))]
    for _ in range(data.draw(st.integers(0, 2), label="more edits")):
        row = data.draw(st.integers(0, len(rows) - 1), label="row")
        column = data.draw(st.integers(0, len(rows[row])), label="column")
        places.append((row, column, data.draw(CELL, label="cell")))
    for row, column, cell in places:
        if column >= len(rows[row]):
            rows[row].append(cell)
        else:
            rows[row][column] = cell
    return rows


def _joined(rows: list[list[str]], data) -> str:
    delimiter = data.draw(st.sampled_from([",", ";"]), label="delimiter")
    return "\r\n".join(delimiter.join(row) for row in rows) + "\r\n"


@pytest.mark.django_db
@FUZZ
@given(data=st.data())
def test_import_cpts_never_crashes_and_stores_only_valid_values(tmp_path, data):
    hot = tuple(range(CPTS_COLUMNS.index("year"), len(CPTS_COLUMNS)))
    rows = _edited([CPTS_COLUMNS, CPTS_ROW, ["NEW-2", *CPTS_ROW[1:]]], data, hot)
    path = _write(tmp_path, "cpts.csv", _joined(rows, data))
    with transaction.atomic():
        if _run("import_cpts", str(path)):
            for cpts in Cpts.objects.all():
                cpts.full_clean()
                assert "\x00" not in cpts.name + cpts.code + cpts.legal_form
            for indicator in TerritoryIndicator.objects.all():
                indicator.full_clean()
        else:
            assert not Cpts.objects.exists()
        transaction.set_rollback(True)


@pytest.fixture
def long_rows(questionnaire, territory, grid):
    campaign, _ = build_cohort(questionnaire, territory, grid)
    paris = territory["paris_1"].code
    text = export(ExportSpec(campaigns=(SLUG,), format="long"))
    rows = [line.split(",") for line in text.splitlines()]  # MIXED has no quoted cell
    rows = [row for n, row in enumerate(rows) if n == 0 or row[1] == paris]
    Response.objects.filter(campaign=campaign).delete()
    return campaign, rows


@pytest.mark.django_db
@FUZZ
@given(data=st.data())
def test_import_responses_never_crashes_and_stores_only_valid_answers(tmp_path, long_rows, data):
    campaign, rows = long_rows
    hot = (2, 5)  # question number, value
    path = _write(tmp_path, "long.csv", _joined(_edited(rows, data, hot), data))
    with transaction.atomic():
        if _run("import_responses", str(path), campaign=SLUG):
            answers = Answer.objects.filter(response__campaign=campaign).select_related("question")
            assert answers.exists()
            for answer in answers:
                cleaned = clean_answer(answer.question, answer.value, answer.other_text)
                assert cleaned == (answer.value, answer.other_text)
        else:
            assert not Response.objects.filter(campaign=campaign).exists()
        transaction.set_rollback(True)

"""Cohort exports (wide, long, scores, codebook) as typed rows and CSV text.

One row-generation path: `export_prepare` checks a request and returns an `Export` whose rows
(typed cells) and CSV lines are what the page streams, the Celery task writes to a file
(`exports.jobs`) and the `export_cohort` command writes to disk (`write_export`). Responses are
read with a server-side cursor in chunks (`iterator(chunk_size=…)`), each chunk's answers or
scores in one query, so memory and the query count stay flat as the cohort grows. Rows are
read as tuples (`values_list`), not model instances: building instances was most of an
export's time. On PostgreSQL the answers come with the responses from the same cursor, each
response's pivoted in SQL into one JSON text (`selectors.pivoted_response_rows`): the same rows
as the chunked read, which other databases keep.

Cells are typed: numbers (int, Decimal) are written as numbers, every text cell goes through
`cpts_portal.spreadsheet.neutralise` (OWASP CSV injection, done by `csv_lines`) and the importer
`restore`s it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TextIO, TypeVar

from django.conf import settings
from django.db import connections
from django.db.models import QuerySet

from accounts.models import User
from cpts_portal.spreadsheet import Cell, csv_cells, csv_delimiter, csv_lines, in_chunks
from exports import selectors
from exports.columns import IDENTITY_HEADER, LONG_HEADER, QuestionLayout, identity_cells, layouts
from exports.selectors import ResponseRow
from exports.spec import CODEBOOK, LONG, SCORES, WIDE, ExportError, ExportSpec
from questionnaire import rules
from questionnaire.codebook import CODEBOOK_HEADER, codebook_rows
from questionnaire.models import (
    ConstraintType,
    Dimension,
    Question,
    QuestionnaireVersion,
    Response,
    SubDimension,
)
from questionnaire.selectors import TextsById, ValuesById, answers_by_response, questions_of
from scoring.models import ScoringGrid, area_key, cell_key, dimension_key, subdimension_key
from scoring.selectors import grid_for

DEFAULT_STREAM_MAX_RESPONSES = 2000


def stream_max_responses() -> int:
    """Exports of more responses than this run in the background (setting
    EXPORTS_STREAM_MAX_RESPONSES); smaller ones are streamed to the browser at once."""
    return getattr(settings, "EXPORTS_STREAM_MAX_RESPONSES", DEFAULT_STREAM_MAX_RESPONSES)


Progress = Callable[[int], None]
T = TypeVar("T")

CHUNK_SIZE = 500  # responses read (and their answers prefetched) per round trip
# PostgreSQL: responses with their answers as JSON (a few KB each) per round trip; smaller
# batches keep the memory of the rows in flight low.
PIVOT_CHUNK_SIZE = 100
PROGRESS_EVERY = 50  # responses between two progress reports of a background export

_NO_TEXTS: TextsById = {}
_NO_VALUES: ValuesById = {}
RENDERED_PER_QUESTION = 64  # distinct answers remembered as CSV per question (wide, PostgreSQL)
ChunkAnswers = tuple[ValuesById, TextsById]


def _not_applicable_remover(questions: list[Question]) -> Callable[[ValuesById], None]:
    """Removes, in place, the answers to conditional questions that do not apply (answers
    kept after Q2 changed do not count). Answers to questions outside `questions` are left
    in; the row builders skip them."""
    conditional = [(q.pk, q) for q in questions if q.condition_question_id is not None]

    def remove(answers: ValuesById) -> None:
        # Conditions read every answer, including those that are themselves left out.
        left_out = [
            question_id
            for question_id, question in conditional
            if question_id in answers and not rules.is_applicable(question, answers)
        ]
        for question_id in left_out:
            del answers[question_id]

    return remove


def _applicable_answers_reader(
    questions: list[Question],
) -> Callable[[list[int]], dict[int, ChunkAnswers]]:
    """Reads a chunk's answers in one query: {response_id: (values, other texts)}, without
    the answers to conditional questions that do not apply."""
    remove = _not_applicable_remover(questions)

    def read(response_ids: list[int]) -> dict[int, ChunkAnswers]:
        values, texts = answers_by_response(response_ids)
        for answers in values.values():
            remove(answers)
        return {
            response_id: (answers, texts.get(response_id, _NO_TEXTS))
            for response_id, answers in values.items()
        }

    return read


def _pivoted_answers(
    responses: QuerySet[Response], questions: list[Question]
) -> Iterator[tuple[ResponseRow, ChunkAnswers | None]]:
    """PostgreSQL: what `_applicable_answers_reader` gives, each response's answers having
    been pivoted into one JSON text by the database (`selectors.pivoted_response_rows`)."""
    remove = _not_applicable_remover(questions)
    loads = json.loads
    for found in selectors.pivoted_response_rows(responses, PIVOT_CHUNK_SIZE):
        row, pivot = found[:-1], found[-1]
        if pivot is None:
            yield row, None
            continue
        pairs, text_pairs = loads(pivot)
        answers = dict(pairs)
        remove(answers)
        yield row, (answers, dict(text_pairs) if text_pairs else _NO_TEXTS)


@dataclass
class Export:
    """A checked export request: `rows()` yields the header then typed rows, `lines()` CSV."""

    spec: ExportSpec
    version: QuestionnaireVersion
    responses: QuerySet[Response]
    grid: ScoringGrid | None = None
    # PostgreSQL: answers pivoted in SQL and wide lines joined from rendered pieces; else
    # answers read a chunk at a time and every line written from typed cells. Same bytes.
    pivot_in_sql: bool = False

    def count(self) -> int:
        return 0 if self.spec.format == CODEBOOK else self.responses.count()

    def rows(self, progress: Progress | None = None) -> Iterator[list[Cell]]:
        if self.spec.format == CODEBOOK:
            yield list(CODEBOOK_HEADER)
            yield from codebook_rows(self.version)
            return
        questions = questions_of(self.version)
        if self.spec.format == WIDE:
            yield from _wide_rows(self, layouts(questions), progress)
        elif self.spec.format == LONG:
            yield from _long_rows(self, layouts(questions), progress)
        else:
            yield from _score_rows(self, progress)

    def lines(self, progress: Progress | None = None) -> Iterator[str]:
        if self.pivot_in_sql and self.spec.format == WIDE:
            return in_chunks(_wide_lines(self, layouts(questions_of(self.version)), progress))
        return csv_lines(self.rows(progress), excel=self.spec.excel)

    @property
    def filename(self) -> str:
        return self.spec.filename


def export_prepare(*, spec: ExportSpec, user: User | None) -> Export:
    """Check the request (campaigns, grid) before anything is written; raises ExportError.

    `user` scopes the responses through `accounts.scoping`; None is the national scope of the
    command line.
    """
    campaigns = selectors.export_campaigns(spec)
    version = campaigns[0].questionnaire
    grid = None
    if spec.format == SCORES:
        grid = grid_for(version, spec.grid)
        if grid is None:
            raise ExportError(
                f"Grille de score inconnue : « {spec.grid} »."
                if spec.grid
                else "Aucune grille de score n'est chargée pour le questionnaire "
                f"« {version.code} »."
            )
    responses = selectors.export_responses(user=user, spec=spec)
    return Export(
        spec=spec,
        version=version,
        responses=responses,
        grid=grid,
        pivot_in_sql=connections[responses.db].vendor == "postgresql",
    )


def write_export(
    out: TextIO, *, spec: ExportSpec, user: User | None, progress: Progress | None = None
) -> int:
    """Write the export as CSV text to `out` (opened with newline=""); returns its response
    count (0 for a codebook). The plain entry point for commands, tasks and benchmarks."""
    export = export_prepare(spec=spec, user=user)
    counted = _Counter(progress)
    for chunk in export.lines(counted):
        out.write(chunk)
    return counted.last


class _Counter:
    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.last = 0

    def __call__(self, done: int) -> None:
        self.last = done
        if self.progress:
            self.progress(done)


def _each_response(
    responses: QuerySet[Response],
    read: Callable[[list[int]], dict[int, T]],
    progress: Progress | None,
) -> Iterator[tuple[ResponseRow, T | None]]:
    """Each response's identity columns with what `read` found for it (None: nothing), `read`
    being called once per chunk with the chunk's response ids."""

    def found() -> Iterator[tuple[ResponseRow, T | None]]:
        for chunk in selectors.response_chunks(responses, CHUNK_SIZE):
            answers = read([row[0] for row in chunk])
            for row in chunk:
                yield row, answers.get(row[0])

    return _counted(found(), progress)


def _counted(rows: Iterator[T], progress: Progress | None) -> Iterator[T]:
    """`rows`, reporting progress every PROGRESS_EVERY responses and at the end."""
    done = 0
    for row in rows:
        yield row
        done += 1
        if progress and done % PROGRESS_EVERY == 0:
            progress(done)
    if progress:
        progress(done)


def _each_response_answers(
    export: Export, questions: list[Question], progress: Progress | None
) -> Iterator[tuple[ResponseRow, ChunkAnswers | None]]:
    """Each response's identity columns with its applicable answers (None: no answer)."""
    if export.pivot_in_sql:
        return _counted(_pivoted_answers(export.responses, questions), progress)
    return _each_response(export.responses, _applicable_answers_reader(questions), progress)


def _wide_plan(
    layouts: list[QuestionLayout], labels: bool
) -> tuple[list[str], list[tuple[int, int, Callable[[Any, str], list[Cell]]]]]:
    """The wide header, and each question's width and the function filling its columns."""
    header = list(IDENTITY_HEADER)
    plan = []
    for layout in layouts:
        columns = layout.wide_columns()
        plan.append((layout.question.pk, len(columns), layout.wide_filler(labels)))
        header += columns
    return header, plan


def _wide_rows(
    export: Export, layouts: list[QuestionLayout], progress: Progress | None
) -> Iterator[list[Cell]]:
    labels = export.spec.labels
    identity = identity_cells(labels)
    header, plan = _wide_plan(layouts, labels)
    # Each question's slice of the row and the function filling it, computed once.
    slots: dict[int, tuple[int, int, Callable[[Any, str], list[Cell]]]] = {}
    begin = len(IDENTITY_HEADER)
    for question_id, width, fill in plan:
        slots[question_id] = (begin, begin + width, fill)
        begin += width
    yield header
    blank: list[Cell] = [None] * (len(header) - len(IDENTITY_HEADER))
    questions = [layout.question for layout in layouts]
    for response, answers in _each_response_answers(export, questions, progress):
        row = identity(response) + blank
        if answers:
            values, texts = answers
            for question_id, value in values.items():
                slot = slots.get(question_id)
                if slot is not None:
                    begin, end, fill = slot
                    row[begin:end] = fill(value, texts.get(question_id, ""))
        yield row


def _wide_lines(
    export: Export, layouts: list[QuestionLayout], progress: Progress | None
) -> Iterator[str]:
    """The CSV lines of `_wide_rows` (PostgreSQL's path): a line is joined from each
    question's cells rendered once per distinct answer, since most answers are one of a
    few, rather than from 250 cells each converted and quoted per response (with the SQL
    pivot, that was most of the time left)."""
    labels, excel = export.spec.labels, export.spec.excel
    render = csv_cells(excel=excel)
    delimiter = csv_delimiter(excel)
    identity = identity_cells(labels)
    header, plan = _wide_plan(layouts, labels)
    # Per question, its cells as rendered for the first distinct answers: most answers are
    # one of those, and a question whose answers hardly repeat (a role table) keeps no more.
    pieces = [(question_id, fill, render([None] * width), {}) for question_id, width, fill in plan]
    yield ("\ufeff" if excel else "") + render(header) + "\r\n"
    questions = [layout.question for layout in layouts]
    for response, answers in _each_response_answers(export, questions, progress):
        values, texts = answers or (_NO_VALUES, _NO_TEXTS)
        parts = [render(identity(response))]
        for question_id, fill, blank, rendered in pieces:
            if question_id not in values:
                parts.append(blank)
                continue
            value, other_text = values[question_id], texts.get(question_id, "")
            try:
                # An "Autre" text is most often the only one of its kind: not remembered.
                key = None if other_text else _hashable(value)
                part = rendered.get(key)
            except TypeError:  # a value of another shape: rendered, not remembered
                key, part = None, None
            if part is None:
                part = render(fill(value, other_text))
                if key is not None and len(rendered) < RENDERED_PER_QUESTION:
                    rendered[key] = part
            parts.append(part)
        yield delimiter.join(parts) + "\r\n"


def _hashable(value: Any) -> tuple[type, Any]:
    """The key of an answer whose cells depend on its value only as a text, a whole number,
    or texts in a list or by key; TypeError for any other (1, 1.0 and True are equal keys,
    but different cells)."""
    kind = type(value)
    if kind is str or kind is int:
        return kind, value
    if kind is list and all(type(item) is str for item in value):
        return kind, tuple(value)
    if kind is dict and all(type(item) is str for item in value.values()):
        return kind, tuple(value.items())
    raise TypeError(kind)


def _long_rows(
    export: Export, layouts: list[QuestionLayout], progress: Progress | None
) -> Iterator[list[Cell]]:
    labels = export.spec.labels
    plan = [(layout, layout.question.pk, layout.names(labels)) for layout in layouts]
    yield list(LONG_HEADER)
    questions = [layout.question for layout in layouts]
    for response, answers in _each_response_answers(export, questions, progress):
        if not answers:
            continue
        values, texts = answers
        start = [response[1], response[2]]
        for layout, question_id, names in plan:
            if question_id not in values:
                continue
            number, variable = layout.question.number, layout.variable
            other_text = texts.get(question_id, "")
            for option_code, value in layout.long_cells(values[question_id], other_text, names):
                yield [*start, number, variable, option_code, value]


def _score_rows(export: Export, progress: Progress | None) -> Iterator[list[Cell]]:
    grid = export.grid
    assert grid is not None
    dimensions = list(Dimension.objects.filter(version=export.version).order_by("position"))
    subdimensions = list(
        SubDimension.objects.filter(dimension__version=export.version)
        .select_related("dimension")
        .order_by("dimension__position", "position")
    )
    constraints = list(ConstraintType.values)
    keys = (
        [dimension_key(d.code) for d in dimensions]
        + [cell_key(d.code, c) for d in dimensions for c in constraints]
        + [subdimension_key(s.code) for s in subdimensions]
    )
    yield [
        *IDENTITY_HEADER,
        "index",
        "level",
        *[f"dimension__{d.code}" for d in dimensions],
        *[f"cell__{d.code}__{c}" for d in dimensions for c in constraints],
        *[f"subdimension__{s.code}" for s in subdimensions],
        "grid",
    ]
    labels = export.spec.labels
    identity = identity_cells(labels)
    level_labels = grid.level_labels
    unscored: list[Cell] = [None] * (len(keys) + 3)

    # Each area's column, so that a score keeps one list rather than an object per area.
    position = {key: i for i, key in enumerate(keys)}
    not_assessed: list[Cell] = [None] * len(keys)

    def read(response_ids: list[int]) -> dict[int, tuple[Decimal | None, str, list[Cell]]]:
        scores = selectors.score_rows(response_ids, grid)
        areas: dict[int, list[Cell]] = {score[0]: not_assessed.copy() for score in scores}
        for score_id, kind, dimension, constraint, subdimension, value in selectors.area_rows(
            list(areas)
        ):
            column = position.get(area_key(kind, dimension, constraint, subdimension))
            if column is not None:
                areas[score_id][column] = value
        return {
            response_id: (index, level, areas[score_id])
            for score_id, response_id, index, level in scores
        }

    for response, score in _each_response(export.responses, read, progress):
        row = identity(response)
        if score is None:
            yield row + unscored
            continue
        index, level, cells = score
        level = level_labels.get(level, "") if labels else level
        yield row + [index, level or None, *cells, grid.code]

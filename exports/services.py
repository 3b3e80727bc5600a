"""Cohort exports (wide, long, scores, codebook) and the long-format import.

One row-generation path: `export_prepare` checks a request and returns an `Export` whose rows
(typed cells) and CSV lines are what the page streams, the Celery task writes to a file and
the `export_cohort` command writes to disk. Responses are read with a server-side cursor in
chunks (`iterator(chunk_size=…)`), each chunk's answers or scores in one query, so memory and
the query count stay flat as the cohort grows. Rows are read as tuples (`values_list`), not
model instances: building instances was most of an export's time.

Cells are typed: numbers (int, Decimal) are written as numbers, every text cell goes through
`cpts_portal.spreadsheet.neutralise` (OWASP CSV injection, done by `csv_lines`) and the importer
`restore`s it.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, TextIO, TypeVar

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from cpts_portal.spreadsheet import Cell, csv_lines, restore
from exports import selectors
from exports.models import ExportJob
from exports.selectors import ResponseRow, TextsById, ValuesById
from exports.spec import CODEBOOK, LONG, SCORES, WIDE, ExportError, ExportSpec
from questionnaire import rules
from questionnaire.codebook import CODEBOOK_HEADER, codebook_rows
from questionnaire.models import (
    Answer,
    Campaign,
    ConstraintType,
    Dimension,
    Option,
    Question,
    QuestionnaireVersion,
    Response,
    SubDimension,
)
from questionnaire.rules import AnswerInvalid, clean_answer
from scoring import selectors as scoring_selectors
from scoring import services as scoring_services
from scoring.models import (
    ScoringGrid,
    area_key,
    cell_key,
    dimension_key,
    subdimension_key,
)
from territories.models import Cpts

logger = logging.getLogger(__name__)

DEFAULT_STREAM_MAX_RESPONSES = 2000


def stream_max_responses() -> int:
    """Exports of more responses than this run in the background (setting
    EXPORTS_STREAM_MAX_RESPONSES); smaller ones are streamed to the browser at once."""
    return getattr(settings, "EXPORTS_STREAM_MAX_RESPONSES", DEFAULT_STREAM_MAX_RESPONSES)


Progress = Callable[[int], None]
T = TypeVar("T")

IDENTITY_HEADER = [
    "campaign",
    "cpts_code",
    "cpts_name",
    "department",
    "region",
    "stage",
    "status",
    "submitted_at",
]
LONG_HEADER = ["campaign", "cpts_code", "question", "variable", "option_code", "value"]
OTHER_TEXT_SUFFIX = "_other_text"

CHUNK_SIZE = 500  # responses read (and their answers prefetched) per round trip
PROGRESS_EVERY = 50  # responses between two progress reports of a background export
# --- The questionnaire's layout in columns --------------------------------------------------


@dataclass
class _QuestionLayout:
    question: Question
    choices: list[Option]
    rows: list[Option]
    by_code: dict[str, Option] = field(init=False)
    row_codes: set[str] = field(init=False)
    has_other: bool = field(init=False)

    def __post_init__(self) -> None:
        self.by_code = {o.code: o for o in self.choices}
        self.row_codes = {o.code for o in self.rows}
        self.has_other = any(o.requires_text for o in self.choices)

    @property
    def variable(self) -> str:
        return self.question.variable

    @property
    def type(self) -> str:
        return self.question.type

    def names(self, labels: bool) -> dict[str, str]:
        """What a choice code is written as: its label with `labels`, else the code itself
        (an empty map, read with `.get(code, code)`)."""
        return {o.code: o.label for o in self.choices} if labels else {}

    def wide_columns(self) -> list[str]:
        if self.type == Question.Type.MULTIPLE_CHOICE:
            columns = [f"{self.variable}__{o.code}" for o in self.choices]
        elif self.type == Question.Type.ROLE_TABLE:
            columns = [f"{self.variable}__{o.code}" for o in self.rows]
        else:
            columns = [self.variable]
        if self.has_other:
            columns.append(self.variable + OTHER_TEXT_SUFFIX)
        return columns

    def wide_filler(self, labels: bool) -> Callable[[Any, str], list[Cell]]:
        """The cells of an answer (value, other_text) in this question's wide columns.

        Built once per export: everything that does not depend on the answer (codes, labels,
        the question's type) is looked up here rather than once per cell."""
        names = self.names(labels)
        fill: Callable[[Any, str], list[Cell]]
        if self.type == Question.Type.MULTIPLE_CHOICE:
            codes = [o.code for o in self.choices]

            def fill(value: Any, other_text: str) -> list[Cell]:
                return [1 if code in value else 0 for code in codes]

        elif self.type == Question.Type.ROLE_TABLE:
            rows = [o.code for o in self.rows]

            def fill(value: Any, other_text: str) -> list[Cell]:
                return [
                    names.get(value[row], value[row]) if value.get(row) else None for row in rows
                ]

        elif self.type == Question.Type.SINGLE_CHOICE and labels:

            def fill(value: Any, other_text: str) -> list[Cell]:
                return [names.get(value, value)]

        else:

            def fill(value: Any, other_text: str) -> list[Cell]:
                return [value]

        if not self.has_other:
            return fill

        def fill_with_other(value: Any, other_text: str) -> list[Cell]:
            cells = fill(value, other_text)
            cells.append(other_text or None)
            return cells

        return fill_with_other

    def long_cells(
        self, value: Any, other_text: str, names: dict[str, str]
    ) -> Iterator[tuple[str, Cell]]:
        """(option_code, value) pairs: a chosen option is 1 (or its label), an "Autre" option
        carries its text; a role-table row carries its profession; open questions one value.
        `names` is `self.names(labels)`."""
        if self.question.is_choice:
            for code in value if isinstance(value, list) else [value]:
                option = self.by_code[code]
                if option.requires_text:
                    yield code, other_text
                else:
                    yield code, names.get(code, 1)
        elif self.type == Question.Type.ROLE_TABLE:
            # In the table's order: PostgreSQL's jsonb does not keep the keys' order.
            for row in self.rows:
                if value.get(row.code):
                    profession = value[row.code]
                    yield row.code, names.get(profession, profession)
        else:
            yield "", value


def _layouts(questions: list[Question]) -> list[_QuestionLayout]:
    return [_QuestionLayout(q, rules.choices(q), rules.rows(q)) for q in questions]


def _identity_cells(labels: bool) -> Callable[[ResponseRow], list[Cell]]:
    """The 8 identity cells of a response row (`selectors.RESPONSE_COLUMNS`)."""
    # As get_FOO_display() writes them, looked up once rather than once per row.
    stages = {k: str(v) for k, v in Cpts._meta.get_field("stage").flatchoices} if labels else {}
    statuses = (
        {k: str(v) for k, v in Response._meta.get_field("status").flatchoices} if labels else {}
    )
    localtime = timezone.localtime

    def cells(row: ResponseRow) -> list[Cell]:
        _, campaign, code, name, department, region, stage, status, submitted_at = row
        return [
            campaign,
            code,
            name,
            department,
            region,
            stages.get(stage, stage),
            statuses.get(status, status),
            localtime(submitted_at).isoformat(timespec="seconds") if submitted_at else None,
        ]

    return cells


_NO_TEXTS: TextsById = {}
ChunkAnswers = tuple[ValuesById, TextsById]


def _applicable_answers_reader(
    questions: list[Question],
) -> Callable[[list[int]], dict[int, ChunkAnswers]]:
    """Reads a chunk's answers in one query: {response_id: (values, other texts)}, without
    the answers to conditional questions that do not apply (answers kept after Q2 changed do
    not count). Answers to questions outside `questions` are left in; the row builders skip
    them."""
    conditional = [(q.pk, q) for q in questions if q.condition_question_id is not None]

    def read(response_ids: list[int]) -> dict[int, ChunkAnswers]:
        values, texts = selectors.answers_by_response(response_ids)
        for answers in values.values():
            # Conditions read every answer, including those that are themselves left out.
            left_out = [
                question_id
                for question_id, question in conditional
                if question_id in answers and not rules.is_applicable(question, answers)
            ]
            for question_id in left_out:
                del answers[question_id]
        return {
            response_id: (answers, texts.get(response_id, _NO_TEXTS))
            for response_id, answers in values.items()
        }

    return read


# --- Exports ----------------------------------------------------------------------------------


@dataclass
class Export:
    """A checked export request: `rows()` yields the header then typed rows, `lines()` CSV."""

    spec: ExportSpec
    version: QuestionnaireVersion
    responses: QuerySet[Response]
    grid: ScoringGrid | None = None

    def count(self) -> int:
        return 0 if self.spec.format == CODEBOOK else self.responses.count()

    def rows(self, progress: Progress | None = None) -> Iterator[list[Cell]]:
        if self.spec.format == CODEBOOK:
            yield list(CODEBOOK_HEADER)
            yield from codebook_rows(self.version)
            return
        questions = selectors.export_questions(self.version)
        if self.spec.format == WIDE:
            yield from _wide_rows(self, _layouts(questions), progress)
        elif self.spec.format == LONG:
            yield from _long_rows(self, _layouts(questions), progress)
        else:
            yield from _score_rows(self, progress)

    def lines(self, progress: Progress | None = None) -> Iterator[str]:
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
    grid = selectors.export_grid(version, spec.grid) if spec.format == SCORES else None
    responses = selectors.export_responses(user=user, spec=spec)
    return Export(spec=spec, version=version, responses=responses, grid=grid)


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
    done = 0
    for chunk in selectors.response_chunks(responses, CHUNK_SIZE):
        found = read([row[0] for row in chunk])
        for row in chunk:
            yield row, found.get(row[0])
            done += 1
            if progress and done % PROGRESS_EVERY == 0:
                progress(done)
    if progress:
        progress(done)


def _wide_rows(
    export: Export, layouts: list[_QuestionLayout], progress: Progress | None
) -> Iterator[list[Cell]]:
    labels = export.spec.labels
    identity = _identity_cells(labels)
    # Each question's slice of the row and the function filling it, computed once.
    slots: dict[int, tuple[int, int, Callable[[Any, str], list[Cell]]]] = {}
    header = list(IDENTITY_HEADER)
    for layout in layouts:
        columns = layout.wide_columns()
        slots[layout.question.pk] = (
            len(header),
            len(header) + len(columns),
            layout.wide_filler(labels),
        )
        header += columns
    yield header
    blank: list[Cell] = [None] * (len(header) - len(IDENTITY_HEADER))
    read = _applicable_answers_reader([layout.question for layout in layouts])
    for response, answers in _each_response(export.responses, read, progress):
        row = identity(response) + blank
        if answers:
            values, texts = answers
            for question_id, value in values.items():
                slot = slots.get(question_id)
                if slot is not None:
                    begin, end, fill = slot
                    row[begin:end] = fill(value, texts.get(question_id, ""))
        yield row


def _long_rows(
    export: Export, layouts: list[_QuestionLayout], progress: Progress | None
) -> Iterator[list[Cell]]:
    labels = export.spec.labels
    plan = [(layout, layout.question.pk, layout.names(labels)) for layout in layouts]
    yield list(LONG_HEADER)
    read = _applicable_answers_reader([layout.question for layout in layouts])
    for response, answers in _each_response(export.responses, read, progress):
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
    identity = _identity_cells(labels)
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


# --- Background exports ----------------------------------------------------------------------


@transaction.atomic
def export_job_start(*, spec: ExportSpec, user: User) -> ExportJob:
    """Record a background export for `user` and queue it once committed."""
    from exports.tasks import build_export

    export = export_prepare(spec=spec, user=user)
    job = ExportJob.objects.create(
        requested_by=user, parameters=spec.to_json(), filename=export.filename
    )
    transaction.on_commit(lambda: build_export.delay(job.pk))
    return job


def export_job_run(*, job: ExportJob) -> ExportJob:
    """Build the job's file, reporting progress on the job row; a failure is recorded, not
    raised (a user-facing ExportError keeps its message, anything else a generic one).

    A job already built is left alone: a task delivered twice does not rebuild the file."""
    if job.status == ExportJob.Status.DONE:
        return job
    job.status = ExportJob.Status.RUNNING
    job.done = 0
    job.save(update_fields=["status", "done"])
    try:
        spec = ExportSpec.from_json(job.parameters)
        export = export_prepare(spec=spec, user=job.requested_by)
        job.total = export.count()
        job.save(update_fields=["total"])

        def progress(done: int) -> None:
            job.done = done
            job.save(update_fields=["done"])

        # Written to a temporary file first, then moved to storage: memory stays flat.
        with tempfile.TemporaryFile("w+b") as handle:
            text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
            for chunk in export.lines(progress):
                text.write(chunk)
            text.flush()
            handle.seek(0)
            job.file.save(job.filename, File(handle), save=False)
            text.detach()
    except ExportError as error:
        return _job_failed(job, str(error))
    except Exception:
        logger.exception("Export job %s failed", job.pk)
        return _job_failed(job, "L'export a échoué. Réessayez, ou signalez-le à l'équipe FCPTS.")
    job.status = ExportJob.Status.DONE
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "file", "finished_at"])
    return job


def _job_failed(job: ExportJob, message: str) -> ExportJob:
    job.status = ExportJob.Status.FAILED
    job.error = message
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "finished_at"])
    return job


def export_jobs_purge(*, now: datetime | None = None) -> int:
    """Delete expired export jobs and their files; returns how many were deleted."""
    expired = ExportJob.objects.filter(expires_at__lte=now or timezone.now())
    count = 0
    for job in expired.iterator():
        if job.file:
            job.file.delete(save=False)
        job.delete()
        count += 1
    return count


# --- Import of the long format ---------------------------------------------------------------


class ImportInvalid(Exception):
    """The file has errors: nothing was written. `errors` are French, one per bad row."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__(f"{len(errors)} erreur(s) : rien n'a été importé.")


@dataclass(frozen=True)
class ImportResult:
    responses: int
    answers: int
    scored: int
    dry_run: bool


@dataclass
class _Pending:
    """The rows of one (CPTS, question), as read."""

    line: int
    layout: _QuestionLayout
    parts: list[tuple[int, str, str]] = field(default_factory=list)  # line, option, value


NUMBER = re.compile(r"^\d+$")


def responses_import(*, text: str, campaign: Campaign, dry_run: bool = False) -> ImportResult:
    """Read a long-format CSV (the `export_cohort --format long` file) into `campaign`.

    Every row is checked against the campaign's questionnaire version; every error is
    reported with its line and nothing is written unless the whole file is valid. Each CPTS
    becomes one submitted, complete response, scored with the latest grid.
    """
    version = campaign.questionnaire
    layouts = {layout.question.number: layout for layout in _layouts(_questions(version))}
    errors: list[tuple[int, str]] = []
    pending, first_lines = _read_long(text, campaign, layouts, errors)

    cpts_ids = dict(Cpts.objects.filter(code__in=pending).values_list("code", "pk"))
    existing = set(
        Response.objects.filter(campaign=campaign, cpts__code__in=pending).values_list(
            "cpts__code", flat=True
        )
    )
    drafts: dict[str, list[tuple[Question, Any, str, int]]] = {}
    for code, by_number in pending.items():
        if code in existing:
            errors.append(
                (
                    first_lines[code],
                    f"la CPTS {code} a déjà une réponse à la campagne « {campaign.slug} ».",
                )
            )
            continue
        answers = _clean_pending(code, by_number, errors)
        if answers is not None and _complete(code, first_lines[code], answers, layouts, errors):
            drafts[code] = answers
    if errors:
        raise ImportInvalid([f"ligne {line} : {message}" for line, message in sorted(errors)])
    answer_count = sum(len(answers) for answers in drafts.values())
    if dry_run:
        return ImportResult(len(drafts), answer_count, 0, dry_run=True)

    with transaction.atomic():
        now = timezone.now()
        response_ids = []
        for code, answers in drafts.items():
            response = Response(
                campaign=campaign,
                cpts_id=cpts_ids[code],
                status=Response.Status.SUBMITTED,
                submitted_at=now,
            )
            response._change_reason = "Import"
            response.save()
            response_ids.append(response.pk)
            for question, value, other_text, _ in answers:
                Answer(
                    response=response, question=question, value=value, other_text=other_text
                ).save()
    # Scored here rather than by a queued task: the command ends with the scores stored.
    grid = scoring_selectors.latest_grid(version)
    scored = 0
    if grid is not None:
        outcomes = scoring_services.responses_score(response_ids=response_ids, grid=grid)
        scored = outcomes.get(scoring_services.CREATED, 0) + outcomes.get(
            scoring_services.UPDATED, 0
        )
    return ImportResult(len(drafts), answer_count, scored, dry_run=False)


def _questions(version: QuestionnaireVersion) -> list[Question]:
    return selectors.export_questions(version)


def _read_long(
    text: str,
    campaign: Campaign,
    layouts: dict[int, _QuestionLayout],
    errors: list[tuple[int, str]],
) -> tuple[dict[str, dict[int, _Pending]], dict[str, int]]:
    text = text.removeprefix("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    pending: dict[str, dict[int, _Pending]] = {}
    first_lines: dict[str, int] = {}
    header = next(reader, None)
    if header != LONG_HEADER:
        found = delimiter.join(header or [])
        errors.append((1, f"en-tête attendu « {','.join(LONG_HEADER)} », trouvé « {found} »."))
        return pending, first_lines
    known_cpts = set(Cpts.objects.values_list("code", flat=True))
    seen: dict[tuple[str, int, str], int] = {}
    previous = reader.line_num
    for row in reader:
        line, previous = previous + 1, reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(LONG_HEADER):
            errors.append((line, f"{len(row)} colonne(s) au lieu de {len(LONG_HEADER)}."))
            continue
        slug, code, number, variable, option_code, value = (restore(cell) for cell in row)
        code, number, variable, option_code = (
            code.strip(),
            number.strip(),
            variable.strip(),
            option_code.strip(),
        )
        if slug.strip() and slug.strip() != campaign.slug:
            errors.append(
                (line, f"campagne « {slug} » alors que l'import est pour « {campaign.slug} ».")
            )
            continue
        if code not in known_cpts:
            errors.append((line, f"CPTS inconnue : « {code} »."))
            continue
        layout = layouts.get(int(number)) if NUMBER.match(number) else None
        if layout is None:
            errors.append((line, f"question inconnue : « {number} »."))
            continue
        if variable and variable != layout.variable:
            errors.append(
                (line, f"la question {number} est « {layout.variable} », pas « {variable} ».")
            )
            continue
        message = _check_part(layout, option_code, value)
        if message:
            errors.append((line, f"{layout.variable} : {message}"))
            continue
        key = (code, layout.question.number, option_code)
        if key in seen:
            errors.append((line, f"{layout.variable} : ligne en double (déjà ligne {seen[key]})."))
            continue
        seen[key] = line
        first_lines.setdefault(code, line)
        by_number = pending.setdefault(code, {})
        entry = by_number.setdefault(layout.question.number, _Pending(line, layout))
        entry.parts.append((line, option_code, value))
    return pending, first_lines


def _check_part(layout: _QuestionLayout, option_code: str, value: str) -> str:
    """A French message if one row is wrong on its own, else ""."""
    kind = layout.type
    if layout.question.is_choice:
        option = layout.by_code.get(option_code)
        if option is None:
            return f"modalité inconnue « {option_code} »."
        if option.requires_text:
            return "" if value.strip() else f"précisez la réponse « {option.label} »."
        if value.strip() not in ("1", option.label):
            return f"valeur « {value} » inattendue : 1 (ou le libellé) pour une modalité cochée."
        return ""
    if kind == Question.Type.ROLE_TABLE:
        if option_code not in layout.row_codes:
            return f"ligne de tableau inconnue « {option_code} »."
        if _profession(layout, value) is None:
            return f"profession inconnue « {value} »."
        return ""
    if option_code:
        return f"question ouverte : option_code doit être vide, trouvé « {option_code} »."
    if kind == Question.Type.NUMBER and not NUMBER.match(value.strip()):
        return f"nombre entier attendu, trouvé « {value} »."
    return ""


def _profession(layout: _QuestionLayout, value: str) -> str | None:
    value = value.strip()
    if value in layout.by_code:
        return value
    return next((o.code for o in layout.choices if o.label == value), None)


def _clean_pending(
    code: str, by_number: dict[int, _Pending], errors: list[tuple[int, str]]
) -> list[tuple[Question, Any, str, int]] | None:
    answers = []
    failed = False
    for number in sorted(by_number):
        entry = by_number[number]
        layout = entry.layout
        other_text = ""
        if layout.question.is_choice:
            codes = [option for _, option, _ in entry.parts]
            for _, option, text in entry.parts:
                if layout.by_code[option].requires_text:
                    other_text = text
            if layout.type == Question.Type.SINGLE_CHOICE and len(codes) > 1:
                errors.append(
                    (
                        entry.parts[1][0],
                        f"{layout.variable} (CPTS {code}) : une seule réponse attendue, "
                        f"{len(codes)} modalités trouvées.",
                    )
                )
                failed = True
                continue
            value: Any = codes if layout.type == Question.Type.MULTIPLE_CHOICE else codes[0]
        elif layout.type == Question.Type.ROLE_TABLE:
            value = {option: _profession(layout, text) for _, option, text in entry.parts}
        else:
            if len(entry.parts) > 1:
                errors.append(
                    (entry.parts[1][0], f"{layout.variable} (CPTS {code}) : réponse en double.")
                )
                failed = True
                continue
            raw = entry.parts[0][2]
            value = int(raw) if layout.type == Question.Type.NUMBER else raw
        try:
            cleaned, other = clean_answer(layout.question, value, other_text)
        except AnswerInvalid as error:
            errors.append((entry.line, f"{layout.variable} (CPTS {code}) : {error}"))
            failed = True
            continue
        answers.append((layout.question, cleaned, other, entry.line))
    return None if failed else answers


def _complete(
    code: str,
    line: int,
    answers: list[tuple[Question, Any, str, int]],
    layouts: dict[int, _QuestionLayout],
    errors: list[tuple[int, str]],
) -> bool:
    """An imported response is submitted, so it must be complete, with nothing that does not
    apply (the export leaves such answers out, so a round trip never has them)."""
    values = {question.pk: value for question, value, _, _ in answers}
    complete = True
    for question, _, _, answer_line in answers:
        if not rules.is_applicable(question, values):
            condition = question.condition_question.variable
            errors.append(
                (
                    answer_line,
                    f"{question.variable} (CPTS {code}) : ne s'applique pas à cette CPTS "
                    f"(selon {condition}).",
                )
            )
            complete = False
    missing = [
        layout.variable
        for layout in layouts.values()
        if layout.question.pk not in values and rules.is_applicable(layout.question, values)
    ]
    if missing:
        errors.append(
            (line, f"CPTS {code} : réponse incomplète, sans réponse à {', '.join(missing)}.")
        )
    return complete and not missing

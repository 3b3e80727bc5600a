"""The long format back in: `import_responses` reads an `export_cohort --format long` file.

The file is read by `cpts_portal.spreadsheet.read_table`, the reader of every importer. Every
row is checked and every error reported with its line; nothing is written unless the whole
file is valid. Each CPTS's rows become one response through
`questionnaire.services.response_import`, the write path (and the rules) every answer in the
database goes through.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from cpts_portal.spreadsheet import TableInvalid, TableRow, read_table, restore
from exports.columns import LONG_HEADER, QuestionLayout, layouts
from questionnaire import services as questionnaire_services
from questionnaire.models import Campaign, Question, Response
from questionnaire.selectors import questions_of
from questionnaire.services import AnswerInput, ResponseInvalid
from scoring import selectors as scoring_selectors
from scoring import services as scoring_services
from territories.models import Cpts


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
    layout: QuestionLayout
    parts: list[tuple[int, str, str]] = field(default_factory=list)  # line, option, value


# ASCII digits only (`\d` would take other scripts' digits, which `int()` reads too: a guess),
# and few enough of them for `int()` (Python refuses strings of more than 4,300 digits).
NUMBER_DIGITS_MAX = 18
NUMBER = re.compile(rf"[0-9]{{1,{NUMBER_DIGITS_MAX}}}")
DIGITS = re.compile(r"[0-9]+")


def responses_import(
    *, text: str | bytes, campaign: Campaign, dry_run: bool = False
) -> ImportResult:
    """Read a long-format CSV (the `export_cohort --format long` file) into `campaign`.

    Every row is checked against the campaign's questionnaire version; every error is
    reported with its line and nothing is written unless the whole file is valid. Each CPTS
    becomes one submitted, complete response, scored with the latest grid.
    """
    questions = questions_of(campaign.questionnaire)
    layout_of = {layout.question.number: layout for layout in layouts(questions)}
    errors: list[tuple[int, str]] = []
    pending, first_lines = _read_long(text, campaign, layout_of, errors)

    cpts_ids = dict(Cpts.objects.filter(code__in=pending).values_list("code", "pk"))
    existing = set(
        Response.objects.filter(campaign=campaign, cpts__code__in=pending).values_list(
            "cpts__code", flat=True
        )
    )
    drafts: dict[str, dict[int, AnswerInput]] = {}
    for code, by_number in pending.items():
        if code in existing:
            errors.append(
                (
                    first_lines[code],
                    f"la CPTS {code} a déjà une réponse à la campagne « {campaign.slug} ».",
                )
            )
            continue
        assembled = _assemble(code, by_number, errors)
        if assembled is None:
            continue
        answers, lines = assembled
        if _checked(code, first_lines[code], answers, lines, questions, errors):
            drafts[code] = answers
    if errors:
        raise ImportInvalid([f"ligne {line} : {message}" for line, message in sorted(errors)])
    answer_count = sum(len(answers) for answers in drafts.values())
    if dry_run:
        return ImportResult(len(drafts), answer_count, 0, dry_run=True)

    with transaction.atomic():
        now = timezone.now()
        response_ids = [
            questionnaire_services.response_import(
                campaign=campaign,
                cpts_id=cpts_ids[code],
                questions=questions,
                answers=answers,
                submitted_at=now,
            ).pk
            for code, answers in drafts.items()
        ]
    # Scored here rather than by a queued task: the command ends with the scores stored.
    grid = scoring_selectors.latest_grid(campaign.questionnaire)
    scored = 0
    if grid is not None:
        outcomes = scoring_services.responses_score(response_ids=response_ids, grid=grid)
        scored = outcomes.get(scoring_services.CREATED, 0) + outcomes.get(
            scoring_services.UPDATED, 0
        )
    return ImportResult(len(drafts), answer_count, scored, dry_run=False)


def _read_long(
    text: str | bytes,
    campaign: Campaign,
    layouts: dict[int, QuestionLayout],
    errors: list[tuple[int, str]],
) -> tuple[dict[str, dict[int, _Pending]], dict[str, int]]:
    pending: dict[str, dict[int, _Pending]] = {}
    first_lines: dict[str, int] = {}
    try:
        table = read_table(text)
    except TableInvalid as invalid:
        errors += [(problem.line, problem.message + ".") for problem in invalid.problems]
        return pending, first_lines
    if list(table.header) != LONG_HEADER:
        found = table.delimiter.join(table.header)
        errors.append((1, f"en-tête attendu « {','.join(LONG_HEADER)} », trouvé « {found} »."))
        return pending, first_lines
    known_cpts = set(Cpts.objects.values_list("code", flat=True))
    seen: dict[tuple[str, int, str], int] = {}
    for row in table.rows:
        line = row.line
        read = _read_row(row, campaign, known_cpts, layouts)
        if isinstance(read, str):
            errors.append((line, read))
            continue
        code, layout, option_code, value = read
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


def _read_row(
    row: TableRow, campaign: Campaign, known_cpts: set[str], layouts: dict[int, QuestionLayout]
) -> tuple[str, QuestionLayout, str, str] | str:
    """(CPTS code, question layout, option code, value) of one row, or a French message."""
    if len(row.values) != len(LONG_HEADER):
        return f"{len(row.values)} colonne(s) au lieu de {len(LONG_HEADER)}."
    slug, code, number, variable, option_code, value = (restore(cell) for cell in row.values)
    code, number, variable, option_code = (
        code.strip(),
        number.strip(),
        variable.strip(),
        option_code.strip(),
    )
    if slug.strip() and slug.strip() != campaign.slug:
        return f"campagne « {slug} » alors que l'import est pour « {campaign.slug} »."
    if code not in known_cpts:
        return f"CPTS inconnue : « {code} »."
    layout = layouts.get(int(number)) if NUMBER.fullmatch(number) else None
    if layout is None:
        return f"question inconnue : « {number} »."
    if variable and variable != layout.variable:
        return f"la question {number} est « {layout.variable} », pas « {variable} »."
    message = _check_part(layout, option_code, value)
    if message:
        return f"{layout.variable} : {message}"
    return code, layout, option_code, value


def _check_part(layout: QuestionLayout, option_code: str, value: str) -> str:
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
    if kind == Question.Type.NUMBER and not NUMBER.fullmatch(value.strip()):
        if DIGITS.fullmatch(value.strip()):
            return f"nombre trop grand ({NUMBER_DIGITS_MAX} chiffres au plus)."
        return f"nombre entier attendu, trouvé « {value} »."
    return ""


def _profession(layout: QuestionLayout, value: str) -> str | None:
    value = value.strip()
    if value in layout.by_code:
        return value
    return next((o.code for o in layout.choices if o.label == value), None)


def _assemble(
    code: str, by_number: dict[int, _Pending], errors: list[tuple[int, str]]
) -> tuple[dict[int, AnswerInput], dict[int, int]] | None:
    """Each question's rows as one answer (value, other text), by question id, as
    `response_answers_check` takes them, with the line each answer starts on; None when a
    question has more rows than it takes."""
    answers: dict[int, AnswerInput] = {}
    lines: dict[int, int] = {}
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
        answers[layout.question.pk] = (value, other_text)
        lines[layout.question.pk] = entry.line
    return None if failed else (answers, lines)


def _checked(
    code: str,
    line: int,
    answers: dict[int, AnswerInput],
    lines: dict[int, int],
    questions: list[Question],
    errors: list[tuple[int, str]],
) -> bool:
    """Whether the answers make a submitted response by the questionnaire's rules (the
    function `response_import` applies), each refusal reported on its line. A submitted
    response is complete, with nothing that does not apply (the export leaves such answers
    out, so a round trip never has them)."""
    try:
        questionnaire_services.response_answers_check(questions=questions, answers=answers)
    except ResponseInvalid as invalid:
        by_id = {question.pk: question for question in questions}
        for question_id, message in invalid.invalid.items():
            errors.append(
                (lines[question_id], f"{by_id[question_id].variable} (CPTS {code}) : {message}")
            )
        for question, message in invalid.not_applicable.items():
            errors.append((lines[question.pk], f"{question.variable} (CPTS {code}) : {message}"))
        if invalid.missing:
            missing = ", ".join(question.variable for question in invalid.missing)
            errors.append((line, f"CPTS {code} : réponse incomplète, sans réponse à {missing}."))
        return False
    return True

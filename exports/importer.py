"""The long format back in: `import_responses` reads an `export_cohort --format long` file.

Every row is checked and every error reported with its line; nothing is written unless the
whole file is valid. The rows become answers through `questionnaire.services.response_import`,
the write path (and rules) every answer in the database goes through.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from cpts_portal.spreadsheet import restore
from exports.columns import LONG_HEADER, QuestionLayout, layouts
from questionnaire import rules
from questionnaire.models import Answer, Campaign, Question, Response
from questionnaire.rules import AnswerInvalid, clean_answer
from questionnaire.selectors import questions_of
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


NUMBER = re.compile(r"^\d+$")


def responses_import(*, text: str, campaign: Campaign, dry_run: bool = False) -> ImportResult:
    """Read a long-format CSV (the `export_cohort --format long` file) into `campaign`.

    Every row is checked against the campaign's questionnaire version; every error is
    reported with its line and nothing is written unless the whole file is valid. Each CPTS
    becomes one submitted, complete response, scored with the latest grid.
    """
    version = campaign.questionnaire
    layout_of = {layout.question.number: layout for layout in layouts(questions_of(version))}
    errors: list[tuple[int, str]] = []
    pending, first_lines = _read_long(text, campaign, layout_of, errors)

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
        if answers is not None and _complete(code, first_lines[code], answers, layout_of, errors):
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


def _read_long(
    text: str,
    campaign: Campaign,
    layouts: dict[int, QuestionLayout],
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
    if kind == Question.Type.NUMBER and not NUMBER.match(value.strip()):
        return f"nombre entier attendu, trouvé « {value} »."
    return ""


def _profession(layout: QuestionLayout, value: str) -> str | None:
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
    layouts: dict[int, QuestionLayout],
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

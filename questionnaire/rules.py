"""The questionnaire's answer rules, read from the loaded definition, never from question numbers.

The browser applies the same rules for comfort; these functions are the authority: every
write (autosave, import, demo data) goes through `clean_answer`. Messages are in French
because they are shown beside the field.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from django.utils import timezone

from questionnaire.models import Option, Question

OTHER_TEXT_MAX_LENGTH = 500
EARLIEST_YEAR = 2000
# ASCII digits only: `\d` also matches other scripts' digits ("١٢"), which no one types here.
MONTH_YEAR = re.compile(r"^(?P<year>[0-9]{4})-(?P<month>[0-9]{2})$", re.ASCII)
MONTH_YEAR_FR = re.compile(r"^(?P<month>[0-9]{1,2})/(?P<year>[0-9]{4})$", re.ASCII)
DIGITS = re.compile(r"[0-9]+", re.ASCII)
# More digits than any questionnaire bound: refused as out of range before `int()` (which has
# a length limit of its own) is called.
NUMBER_MAX_DIGITS = 9
# Free text keeps line breaks and tabs; every other control character (NUL, which PostgreSQL
# refuses, escape sequences, C1 controls) and unpaired surrogates are refused.
TEXT_ALLOWED_CONTROLS = {"\t", "\n"}


class AnswerInvalid(ValueError):
    """An answer that breaks a rule; `str(error)` is the French message for the user."""


def choices(question: Question) -> list[Option]:
    return [o for o in question.options.all() if o.kind == Option.Kind.CHOICE]


def rows(question: Question) -> list[Option]:
    return [o for o in question.options.all() if o.kind == Option.Kind.ROW]


def is_applicable(question: Question, values_by_question_id: Mapping[int, Any]) -> bool:
    """A conditional question applies only when its condition question has a matching answer."""
    if question.condition_question_id is None:
        return True
    value = values_by_question_id.get(question.condition_question_id)
    selected = value if isinstance(value, list) else [value]
    return any(code in question.condition_values for code in selected)


def require_applicable(question: Question, values_by_question_id: Mapping[int, Any]) -> None:
    """The one rule for answers to conditional questions, for autosave and import alike: a
    question that does not apply, given the other answers, takes no new answer.

    (An answer given while it applied is kept when the condition changes, and ignored; see
    README, "Answers to questions that no longer apply".)
    """
    if not is_applicable(question, values_by_question_id):
        condition = question.condition_question
        raise AnswerInvalid(
            f"Cette question ne s'applique pas à cette CPTS (selon {condition.variable}, "
            f"question {condition.number})."
        )


def clean_free_text(value: str, limit: int, too_long: str) -> str:
    """Free text as stored: line breaks as LF, no control character, trimmed, within `limit`."""
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    for character in text:
        category = unicodedata.category(character)
        if (category == "Cc" and character not in TEXT_ALLOWED_CONTROLS) or category == "Cs":
            raise AnswerInvalid(
                "Le texte contient un caractère invisible non autorisé (caractère de contrôle) : "
                "retirez-le. Seuls les retours à la ligne et les tabulations sont acceptés."
            )
    text = text.strip()
    if len(text) > limit:
        raise AnswerInvalid(too_long)
    return text


def clean_answer(question: Question, value: Any, other_text: str = "") -> tuple[Any, str]:
    """Return the value to store and the "Autre" text to keep, or raise AnswerInvalid."""
    cleaner = _CLEANERS[question.type]
    cleaned = cleaner(question, value)
    return cleaned, _clean_other_text(question, cleaned, other_text)


def _clean_single(question: Question, value: Any) -> str:
    codes = {o.code for o in choices(question)}
    if not isinstance(value, str) or value not in codes:
        raise AnswerInvalid("Choisissez une des réponses proposées.")
    return value


def _clean_multiple(question: Question, value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise AnswerInvalid("Cochez au moins une réponse.")
    options = {o.code: o for o in choices(question)}
    if any(not isinstance(code, str) or code not in options for code in value):
        raise AnswerInvalid("Une des réponses cochées n'existe pas pour cette question.")
    if len(set(value)) != len(value):
        raise AnswerInvalid("Une même réponse est cochée deux fois.")
    exclusive = [options[code] for code in value if options[code].exclusive]
    if exclusive and len(value) > 1:
        raise AnswerInvalid(
            f"« {exclusive[0].label} » ne peut pas être combinée avec d'autres réponses."
        )
    # Stored in the questionnaire's order so that equal answers are equal values.
    order = {code: position for position, code in enumerate(options)}
    return sorted(value, key=order.__getitem__)


def _clean_number(question: Question, value: Any) -> int:
    if isinstance(value, bool):
        raise AnswerInvalid("Saisissez un nombre entier.")
    low = question.min_value if question.min_value is not None else 0
    high = question.max_value
    out_of_range = AnswerInvalid(f"Saisissez un nombre entre {low} et {high}.")
    if isinstance(value, str):
        value = value.strip()
        if not DIGITS.fullmatch(value):
            raise AnswerInvalid("Saisissez un nombre entier positif, sans espace ni décimale.")
        if len(value.lstrip("0")) > NUMBER_MAX_DIGITS:
            raise out_of_range
        value = int(value)
    if not isinstance(value, int):
        raise AnswerInvalid("Saisissez un nombre entier.")
    if value < low or (high is not None and value > high):
        raise out_of_range
    return value


def _clean_month_year(question: Question, value: Any) -> str:
    if not isinstance(value, str):
        raise AnswerInvalid("Saisissez un mois et une année (MM/AAAA).")
    value = value.strip()
    match = MONTH_YEAR.match(value) or MONTH_YEAR_FR.match(value)
    if not match:
        raise AnswerInvalid("Saisissez un mois et une année au format MM/AAAA.")
    year, month = int(match["year"]), int(match["month"])
    if not 1 <= month <= 12:
        raise AnswerInvalid("Le mois doit être compris entre 01 et 12.")
    if year < EARLIEST_YEAR:
        raise AnswerInvalid(f"L'année doit être postérieure à {EARLIEST_YEAR - 1}.")
    today = timezone.localdate()
    if dt.date(year, month, 1) > today.replace(day=1):
        raise AnswerInvalid("La date ne peut pas être dans le futur.")
    return f"{year:04d}-{month:02d}"


def _clean_text(question: Question, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise AnswerInvalid("Saisissez une réponse.")
    limit = question.max_length or OTHER_TEXT_MAX_LENGTH
    return clean_free_text(value, limit, f"La réponse ne doit pas dépasser {limit} caractères.")


def _clean_role_table(question: Question, value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise AnswerInvalid("Indiquez la profession d'au moins un membre du bureau.")
    if not all(isinstance(row, str) for row in value):
        raise AnswerInvalid("Ligne de tableau inconnue.")
    row_codes = [o.code for o in rows(question)]
    option_codes = {o.code for o in choices(question)}
    cleaned: dict[str, str] = {}
    for row, profession in value.items():
        if row not in row_codes:
            raise AnswerInvalid("Ligne de tableau inconnue.")
        if profession in ("", None):
            continue
        if not isinstance(profession, str) or profession not in option_codes:
            raise AnswerInvalid("Choisissez une profession de la liste.")
        cleaned[row] = profession
    if not cleaned:
        raise AnswerInvalid("Indiquez la profession d'au moins un membre du bureau.")
    return {row: cleaned[row] for row in row_codes if row in cleaned}


def _clean_other_text(question: Question, value: Any, other_text: str) -> str:
    selected = value if isinstance(value, list) else [value]
    needs_text = [o for o in choices(question) if o.requires_text and o.code in selected]
    if not needs_text:
        return ""
    text = other_text if isinstance(other_text, str) else ""
    if not text.strip():
        raise AnswerInvalid(f"Précisez votre réponse « {needs_text[0].label} ».")
    return clean_free_text(
        text,
        OTHER_TEXT_MAX_LENGTH,
        f"La précision ne doit pas dépasser {OTHER_TEXT_MAX_LENGTH} caractères.",
    )


_CLEANERS = {
    Question.Type.SINGLE_CHOICE: _clean_single,
    Question.Type.MULTIPLE_CHOICE: _clean_multiple,
    Question.Type.NUMBER: _clean_number,
    Question.Type.MONTH_YEAR: _clean_month_year,
    Question.Type.TEXT: _clean_text,
    Question.Type.ROLE_TABLE: _clean_role_table,
}

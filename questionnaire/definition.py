"""Read and validate a questionnaire definition file (questionnaire/definitions/*.yaml).

Pure functions over plain data: the loader service writes what they accept to the database.
Every error names the question it is about, so that whoever edits the file finds it at once.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

QUESTION_TYPES = {
    "single_choice",
    "multiple_choice",
    "number",
    "month_year",
    "text",
    "role_table",
}
CHOICE_TYPES = {"single_choice", "multiple_choice"}
CONSTRAINTS = {"interne", "externe", "environnementale"}
DEFAULT_TEXT_MAX_LENGTH = 2000


class DefinitionError(Exception):
    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("\n".join(errors))


def read_definition(path: str | Path) -> dict[str, Any]:
    try:
        with Path(path).open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except FileNotFoundError as exc:
        raise DefinitionError([f"Fichier introuvable : {path}"]) from exc
    except yaml.YAMLError as exc:
        raise DefinitionError([f"YAML invalide dans {path} : {exc}"]) from exc
    validate_definition(data)
    return data


def checksum(definition: dict[str, Any]) -> str:
    canonical = json.dumps(definition, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def validate_definition(data: Any) -> None:
    if not isinstance(data, dict):
        raise DefinitionError(["Le fichier doit contenir un dictionnaire YAML."])
    errors: list[str] = []
    for key in ("version", "title", "dimensions", "questions"):
        if not data.get(key):
            errors.append(f"Clé obligatoire absente : « {key} ».")
    if errors:
        raise DefinitionError(errors)

    subdimensions = _validate_dimensions(data["dimensions"], errors)
    questions_by_number: dict[int, dict[str, Any]] = {}
    variables: set[str] = set()
    for index, question in enumerate(data["questions"], start=1):
        if not isinstance(question, dict):
            errors.append(f"Question n°{index} de la liste : ce n'est pas un dictionnaire.")
            continue
        number = question.get("number")
        label = f"Q{number}" if number is not None else f"Question n°{index} de la liste"
        if not isinstance(number, int) or number < 1:
            errors.append(f"{label} : « number » doit être un entier positif.")
        elif number in questions_by_number:
            errors.append(f"{label} : numéro en double.")
        else:
            questions_by_number[number] = question
        variable = question.get("variable")
        if not variable or not str(variable).isidentifier():
            errors.append(f"{label} : « variable » manquante ou invalide.")
        elif variable in variables:
            errors.append(f"{label} : variable « {variable} » en double.")
        else:
            variables.add(variable)
        if question.get("subdimension") not in subdimensions:
            errors.append(f"{label} : sous-dimension inconnue « {question.get('subdimension')} ».")
        if not question.get("text"):
            errors.append(f"{label} : texte de la question manquant.")
        _validate_answer_shape(label, question, errors)

    for number, question in questions_by_number.items():
        _validate_condition(f"Q{number}", question, questions_by_number, errors)
    if errors:
        raise DefinitionError(errors)


def _validate_dimensions(dimensions: Any, errors: list[str]) -> set[str]:
    subdimensions: set[str] = set()
    dimension_codes: set[str] = set()
    for dimension in dimensions:
        code = dimension.get("code")
        if not code or code in dimension_codes:
            errors.append(f"Dimension « {code} » : code manquant ou en double.")
        dimension_codes.add(code)
        for sub in dimension.get("subdimensions") or []:
            if sub.get("code") in subdimensions:
                errors.append(f"Sous-dimension « {sub.get('code')} » en double.")
            if sub.get("constraint") not in CONSTRAINTS:
                errors.append(
                    f"Sous-dimension « {sub.get('code')} » : type de contrainte inconnu "
                    f"« {sub.get('constraint')} » (attendu : {', '.join(sorted(CONSTRAINTS))})."
                )
            subdimensions.add(sub.get("code"))
    return subdimensions


def _validate_codes(label: str, items: Any, what: str, errors: list[str]) -> list[dict]:
    if not isinstance(items, list) or not items:
        errors.append(f"{label} : la liste « {what} » est obligatoire pour ce type.")
        return []
    seen: set[str] = set()
    for item in items:
        code = item.get("code") if isinstance(item, dict) else None
        if not code or not str(code).replace("_", "").isalnum():
            errors.append(f"{label} : code invalide dans « {what} » : {item!r}.")
        elif code in seen:
            errors.append(f"{label} : code « {code} » en double dans « {what} ».")
        seen.add(code)
        if isinstance(item, dict) and not item.get("label"):
            errors.append(f"{label} : libellé manquant pour « {code} ».")
    return items


def _validate_answer_shape(label: str, question: dict[str, Any], errors: list[str]) -> None:
    kind = question.get("type")
    if kind not in QUESTION_TYPES:
        errors.append(
            f"{label} : type inconnu « {kind} » (attendu : {', '.join(sorted(QUESTION_TYPES))})."
        )
        return
    if kind in CHOICE_TYPES or kind == "role_table":
        options = _validate_codes(label, question.get("options"), "options", errors)
        if kind != "multiple_choice" and any(o.get("exclusive") for o in options):
            errors.append(f"{label} : « exclusive » n'a de sens que pour un choix multiple.")
    elif question.get("options"):
        errors.append(f"{label} : une question de type « {kind} » n'a pas d'options.")
    if kind == "role_table":
        _validate_codes(label, question.get("rows"), "rows", errors)
    if kind == "number":
        low, high = question.get("min"), question.get("max")
        if not isinstance(low, int) or not isinstance(high, int) or low < 0 or low > high:
            errors.append(f"{label} : bornes « min »/« max » entières, positives et ordonnées.")


def _validate_condition(
    label: str,
    question: dict[str, Any],
    questions_by_number: dict[int, dict[str, Any]],
    errors: list[str],
) -> None:
    condition = question.get("condition")
    if condition is None:
        return
    target = questions_by_number.get(condition.get("question"))
    if target is None:
        errors.append(
            f"{label} : condition sur une question inconnue ({condition.get('question')})."
        )
        return
    if target.get("type") not in CHOICE_TYPES:
        errors.append(f"{label} : la condition doit porter sur une question à choix.")
        return
    if target is question:
        errors.append(f"{label} : une question ne peut pas dépendre d'elle-même.")
        return
    known = {option.get("code") for option in target.get("options") or []}
    values = condition.get("in") or []
    if not values:
        errors.append(f"{label} : la condition doit lister au moins une option (« in »).")
    for value in values:
        if value not in known:
            errors.append(
                f"{label} : condition sur une option inconnue « {value} » de Q{target['number']}."
            )

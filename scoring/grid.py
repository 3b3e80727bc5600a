"""Read and validate a scoring grid file (scoring/grids/*.yaml) against its questionnaire.

Pure functions over plain data: the questionnaire is its stored definition (the dict loaded from
questionnaire/definitions/), so validation needs no database. Every error names the question it
is about, in French, for whoever edits the file. `GridSpec` is the validated grid as the
arithmetic reads it; it is rebuilt from the JSON stored with each loaded grid version.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from django.utils.translation import gettext as _

RULES_BY_TYPE = {
    "single_choice": {"option_points"},
    "multiple_choice": {"options_sum", "options_best"},
    "number": {"number_bands"},
    "role_table": {"distinct_options"},
    "month_year": set(),
    "text": set(),
}
OPTION_RULES = {"option_points", "options_sum", "options_best"}


class GridError(Exception):
    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("\n".join(errors))


@dataclass(frozen=True)
class Level:
    code: str
    label: str
    minimum: Fraction
    rationale: str


@dataclass(frozen=True)
class QuestionRule:
    """How one scored question turns an answer into raw points p, between 0 and `maximum`."""

    number: int
    variable: str
    dimension: str
    subdimension: str
    constraint: str
    weight: Fraction
    rule: str
    points: Mapping[str, Fraction]
    maximum: Fraction
    bands: tuple[tuple[Fraction, Fraction], ...]
    minus: int
    rationale: str

    def raw_points(self, value: Any) -> Fraction:
        if self.rule == "option_points":
            return self.points[value]
        if self.rule == "options_sum":
            # In integers over the points' common denominator: a sum of fractions reduces on
            # every addition, and a rescore meets thousands of distinct combinations.
            denominator, scaled, maximum = self._scaled_points
            total = sum([scaled[code] for code in value])
            return Fraction(min(total, maximum), denominator)
        if self.rule == "options_best":
            return max(self.points[code] for code in value)
        if self.rule == "number_bands":
            reached = [points for start, points in self.bands if start <= value]
            return reached[-1] if reached else Fraction(0)
        if self.rule == "distinct_options":
            distinct = len({code for code in value.values() if code})
            return min(max(Fraction(distinct - self.minus), Fraction(0)), self.maximum)
        raise ValueError(f"Unknown rule {self.rule!r}")

    @cached_property
    def _scaled_points(self) -> tuple[int, dict[str, int], int]:
        """The denominator L of the points and the maximum, each option's points × L, and the
        maximum × L."""
        points = self.points.values()
        denominator = math.lcm(self.maximum.denominator, *(p.denominator for p in points))
        return (
            denominator,
            {code: int(p * denominator) for code, p in self.points.items()},
            int(self.maximum * denominator),
        )

    def describe(self) -> str:
        """The rule in one French sentence, for the explanation page."""
        maximum = _number(self.maximum)
        if self.rule == "option_points":
            return _("Points de la réponse choisie (maximum %(max)s).") % {"max": maximum}
        if self.rule == "options_sum":
            return _("Somme des points des réponses cochées, plafonnée à %(max)s.") % {
                "max": maximum
            }
        if self.rule == "options_best":
            return _("Points de la meilleure réponse cochée (maximum %(max)s).") % {"max": maximum}
        if self.rule == "number_bands":
            bands = " ; ".join(
                _("à partir de %(start)s : %(points)s") % {"start": s, "points": _number(p)}
                for s, p in self.bands
            )
            return _("Points par tranche (%(bands)s).") % {"bands": bands}
        return _(
            "Nombre de réponses distinctes du tableau moins %(minus)s, plafonné à %(max)s."
        ) % {"minus": self.minus, "max": maximum}


@dataclass(frozen=True)
class GridSpec:
    version: str
    questionnaire: str
    title: str
    method: str
    dimension_weights: Mapping[str, Fraction]
    levels: tuple[Level, ...]
    rules: Mapping[int, QuestionRule]
    excluded: Mapping[int, str]

    @classmethod
    def from_data(cls, data: Mapping[str, Any], definition: Mapping[str, Any]) -> GridSpec:
        """Build from a grid that `validate_grid` accepted for this questionnaire definition."""
        placement = _placement(definition)
        rules: dict[int, QuestionRule] = {}
        excluded: dict[int, str] = {}
        for item in data["questions"]:
            number = item["question"]
            if "excluded" in item:
                excluded[number] = item["excluded"].strip()
                continue
            points = {code: _fraction(p) for code, p in (item.get("points") or {}).items()}
            bands = tuple(
                (_fraction(band["from"]), _fraction(band["points"]))
                for band in item.get("bands") or []
            )
            dimension, subdimension, constraint = placement[number]
            rules[number] = QuestionRule(
                number=number,
                variable=item["variable"],
                dimension=dimension,
                subdimension=subdimension,
                constraint=constraint,
                weight=_fraction(item["weight"]),
                rule=item["rule"],
                points=points,
                maximum=_maximum(item, points, bands),
                bands=bands,
                minus=int(item.get("minus", 0)),
                rationale=item.get("rationale", "").strip(),
            )
        levels = tuple(
            Level(lv["code"], lv["label"], _fraction(lv["min"]), lv.get("rationale", "").strip())
            for lv in data["levels"]
        )
        return cls(
            version=data["version"],
            questionnaire=data["questionnaire"],
            title=data["title"],
            method=data.get("method", "").strip(),
            dimension_weights={k: _fraction(v) for k, v in data["dimension_weights"].items()},
            levels=levels,
            rules=rules,
            excluded=excluded,
        )

    def level_for(self, index: Fraction) -> Level:
        return [level for level in self.levels if level.minimum <= index][-1]


def read_grid_file(path: str | Path) -> dict[str, Any]:
    try:
        with Path(path).open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except FileNotFoundError as exc:
        raise GridError([f"Fichier introuvable : {path}"]) from exc
    except yaml.YAMLError as exc:
        raise GridError([f"YAML invalide dans {path} : {exc}"]) from exc
    if not isinstance(data, dict):
        raise GridError(["Le fichier doit contenir un dictionnaire YAML."])
    return data


def validate_grid(data: Mapping[str, Any], definition: Mapping[str, Any]) -> None:
    """Raise GridError listing every problem of the grid for this questionnaire definition."""
    errors: list[str] = []
    for key in ("version", "questionnaire", "title", "method", "dimension_weights", "levels"):
        if not data.get(key):
            errors.append(f"Clé obligatoire absente : « {key} ».")
    if data.get("questionnaire") and data["questionnaire"] != definition["version"]:
        errors.append(
            f"La grille porte sur le questionnaire « {data['questionnaire']} », "
            f"pas sur « {definition['version']} »."
        )
    if not isinstance(data.get("questions"), list) or not data["questions"]:
        errors.append("Clé obligatoire absente : « questions » (une entrée par question).")
    if errors:
        raise GridError(errors)

    _validate_dimension_weights(data["dimension_weights"], definition, errors)
    _validate_levels(data["levels"], errors)
    questions = {q["number"]: q for q in definition["questions"]}
    placement = _placement(definition)
    seen: set[int] = set()
    for index, item in enumerate(data["questions"], start=1):
        number = item.get("question") if isinstance(item, dict) else None
        label = f"Q{number}" if number is not None else f"Entrée n°{index} de « questions »"
        if number not in questions:
            errors.append(f"{label} : question inconnue du questionnaire.")
            continue
        if number in seen:
            errors.append(f"{label} : question en double.")
            continue
        seen.add(number)
        _validate_question(label, item, questions[number], placement[number], errors)
    for number in sorted(set(questions) - seen):
        errors.append(
            f"Q{number} : absente de la grille ; notez-la ou excluez-la explicitement "
            "(« excluded: raison »)."
        )
    if errors:
        raise GridError(errors)


def _validate_dimension_weights(
    weights: Any, definition: Mapping[str, Any], errors: list[str]
) -> None:
    codes = {d["code"] for d in definition["dimensions"]}
    if not isinstance(weights, dict):
        errors.append("« dimension_weights » doit associer chaque dimension à un poids.")
        return
    for code in sorted(set(weights) - codes):
        errors.append(f"Poids de dimension : dimension inconnue « {code} ».")
    for code in sorted(codes - set(weights)):
        errors.append(f"Poids de dimension : « {code} » n'a pas de poids.")
    for code, weight in weights.items():
        if not _is_number(weight) or weight <= 0:
            errors.append(f"Poids de dimension « {code} » : nombre strictement positif attendu.")


def _validate_levels(levels: Any, errors: list[str]) -> None:
    if not isinstance(levels, list) or not levels:
        errors.append("« levels » : au moins un niveau est attendu.")
        return
    codes: set[str] = set()
    previous: float | None = None
    for position, level in enumerate(levels, start=1):
        if not isinstance(level, dict):
            errors.append(f"Niveau n°{position} : ce n'est pas un dictionnaire.")
            continue
        code, minimum = level.get("code"), level.get("min")
        if not code or code in codes:
            errors.append(f"Niveau n°{position} : code manquant ou en double.")
        codes.add(code)
        if not level.get("label") or not level.get("rationale"):
            errors.append(f"Niveau « {code} » : libellé (« label ») et justification attendus.")
        if not _is_number(minimum) or not 0 <= minimum < 100:
            errors.append(f"Niveau « {code} » : seuil « min » entre 0 et 100 (exclu) attendu.")
            continue
        if previous is None and minimum != 0:
            errors.append(f"Niveau « {code} » : le premier niveau doit commencer à 0.")
        if previous is not None and minimum <= previous:
            errors.append(f"Niveau « {code} » : les seuils doivent être croissants.")
        previous = minimum


def _validate_question(
    label: str,
    item: dict[str, Any],
    question: Mapping[str, Any],
    placement: tuple[str, str, str],
    errors: list[str],
) -> None:
    if item.get("variable") != question["variable"]:
        errors.append(
            f"{label} : variable « {item.get('variable')} » au lieu de « {question['variable']} »."
        )
    kind = question["type"]
    if "excluded" in item:
        if not isinstance(item["excluded"], str) or not item["excluded"].strip():
            errors.append(f"{label} : donnez la raison de l'exclusion (« excluded »).")
        extra = sorted(set(item) - {"question", "variable", "excluded"})
        if extra:
            errors.append(f"{label} : question exclue, clés en trop : {', '.join(extra)}.")
        return
    rule = item.get("rule")
    allowed = RULES_BY_TYPE[kind]
    if not allowed:
        errors.append(
            f"{label} : aucune règle de score pour une question de type « {kind} » ; "
            "excluez-la (« excluded: raison »)."
        )
        return
    if rule not in allowed:
        errors.append(
            f"{label} : règle « {rule} » impossible pour le type « {kind} » "
            f"(attendu : {', '.join(sorted(allowed))})."
        )
        return
    feeds = item.get("feeds") or {}
    declared = (feeds.get("dimension"), feeds.get("subdimension"), feeds.get("constraint"))
    if declared != placement:
        errors.append(
            f"{label} : « feeds » doit être {{dimension: {placement[0]}, subdimension: "
            f"{placement[1]}, constraint: {placement[2]}}} comme dans le questionnaire."
        )
    if not _is_number(item.get("weight")) or item["weight"] <= 0:
        errors.append(f"{label} : « weight » doit être un nombre strictement positif.")
    if not isinstance(item.get("rationale"), str) or not item["rationale"].strip():
        errors.append(f"{label} : justification (« rationale ») attendue.")
    if rule in OPTION_RULES:
        _validate_option_points(label, item, question, errors)
    elif rule == "number_bands":
        _validate_bands(label, item, question, errors)
    else:
        if not isinstance(item.get("minus", 0), int) or item.get("minus", 0) < 0:
            errors.append(f"{label} : « minus » doit être un entier positif ou nul.")
        if not _is_number(item.get("max")) or item["max"] <= 0:
            errors.append(f"{label} : « max » strictement positif attendu pour cette règle.")


def _validate_option_points(
    label: str, item: dict[str, Any], question: Mapping[str, Any], errors: list[str]
) -> None:
    points = item.get("points")
    if not isinstance(points, dict):
        errors.append(f"{label} : « points » doit donner des points à chaque option.")
        return
    options = {o["code"]: o for o in question.get("options") or []}
    for code in sorted(set(points) - set(options)):
        errors.append(f"{label} : option inconnue « {code} » dans « points ».")
    for code in sorted(set(options) - set(points)):
        errors.append(f"{label} : l'option « {code} » n'a pas de points.")
    for code, value in points.items():
        if not _is_number(value) or value < 0:
            errors.append(f"{label} : points de « {code} » : nombre positif ou nul attendu.")
        elif code in options and options[code].get("exclusive") and value != 0:
            errors.append(f"{label} : l'option exclusive « {code} » (aucune) doit valoir 0.")
    values = [v for v in points.values() if _is_number(v) and v >= 0]
    if not values or max(values) <= 0:
        errors.append(f"{label} : au moins une option doit rapporter des points.")
        return
    if item["rule"] == "options_sum" and "max" in item:
        if not _is_number(item["max"]) or not 0 < item["max"] <= sum(values):
            errors.append(
                f"{label} : « max » doit être positif et au plus la somme des points "
                f"({_number(_fraction(sum(values)))})."
            )
    elif "max" in item:
        errors.append(f"{label} : « max » ne s'applique qu'à la règle options_sum.")


def _validate_bands(
    label: str, item: dict[str, Any], question: Mapping[str, Any], errors: list[str]
) -> None:
    bands = item.get("bands")
    if not isinstance(bands, list) or not bands:
        errors.append(f"{label} : « bands » (liste de {{from, points}}) attendu.")
        return
    starts = [band.get("from") for band in bands if isinstance(band, dict)]
    values = [band.get("points") for band in bands if isinstance(band, dict)]
    if len(starts) != len(bands) or not all(isinstance(s, int) for s in starts):
        errors.append(f"{label} : chaque tranche a un « from » entier.")
        return
    if starts != sorted(set(starts)):
        errors.append(f"{label} : les tranches doivent être croissantes.")
    if starts[0] > question.get("min", 0):
        errors.append(
            f"{label} : la première tranche doit commencer au plus à {question.get('min', 0)}."
        )
    if not all(_is_number(v) and v >= 0 for v in values) or max(values, default=0) <= 0:
        errors.append(f"{label} : points des tranches positifs, au moins un non nul.")


def _placement(definition: Mapping[str, Any]) -> dict[int, tuple[str, str, str]]:
    subdimensions = {
        sub["code"]: (dimension["code"], sub["code"], sub["constraint"])
        for dimension in definition["dimensions"]
        for sub in dimension["subdimensions"]
    }
    return {q["number"]: subdimensions[q["subdimension"]] for q in definition["questions"]}


def _maximum(
    item: Mapping[str, Any],
    points: Mapping[str, Fraction],
    bands: tuple[tuple[Fraction, Fraction], ...],
) -> Fraction:
    rule = item["rule"]
    if rule == "options_sum":
        return _fraction(item["max"]) if "max" in item else sum(points.values(), Fraction(0))
    if rule in ("option_points", "options_best"):
        return max(points.values())
    if rule == "number_bands":
        return max(points for _start, points in bands)
    return _fraction(item["max"])


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _fraction(value: Any) -> Fraction:
    # Through str so that 0.1 in the file is exactly one tenth.
    return Fraction(str(value))


def _number(value: Fraction) -> str:
    """A fraction as the grid author wrote it: 3, 0,5 (French decimal comma)."""
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.4g}".replace(".", ",")

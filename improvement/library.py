"""Read and validate a recommendations file (improvement/recommendations/*.yaml).

Pure functions over plain data, like `scoring.grid`: the file is checked against the stored
questionnaire definition and the grid it was written for, and every error names what it is
about (sub-dimension, question, option, band), in French, for whoever edits the file.
`Library` is the validated file as the pages read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

CHOICE_TYPES = ("single_choice", "multiple_choice")


class LibraryError(Exception):
    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("\n".join(errors))


@dataclass(frozen=True)
class Band:
    code: str
    label: str
    minimum: Fraction


@dataclass(frozen=True)
class Resource:
    title: str
    url: str
    source: str


@dataclass(frozen=True)
class Suggestion:
    key: str
    subdimension: str
    title: str
    detail: str
    question: int | None
    when_in: tuple[str, ...]
    when_lacks: tuple[str, ...]
    source: str
    proposal: bool
    resources: tuple[Resource, ...]

    def applies(self, value: Any) -> bool:
        """Whether the suggestion fits an answer (None: unanswered or not applicable)."""
        if self.question is None:
            return True
        chosen = set(value) if isinstance(value, list) else {value} if value else set()
        if self.when_in and not chosen & set(self.when_in):
            return False
        return not (self.when_lacks and chosen & set(self.when_lacks))


@dataclass(frozen=True)
class SubdimensionAdvice:
    code: str
    source: str
    band_texts: Mapping[str, str]
    suggestions: tuple[Suggestion, ...]


@dataclass(frozen=True)
class Library:
    version: str
    grid: str
    title: str
    source: str
    bands: tuple[Band, ...]
    situational: Mapping[int, str]
    subdimensions: Mapping[str, SubdimensionAdvice]

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Library:
        """Build from a file that `validate_library` accepted."""
        advice = {}
        for entry in data["subdimensions"]:
            code = entry["subdimension"]
            suggestions = tuple(
                Suggestion(
                    key=item["key"],
                    subdimension=code,
                    title=item["title"].strip(),
                    detail=(item.get("detail") or "").strip(),
                    question=(item.get("when") or {}).get("question"),
                    when_in=tuple((item.get("when") or {}).get("in") or ()),
                    when_lacks=tuple((item.get("when") or {}).get("lacks") or ()),
                    source=(item.get("source") or "").strip(),
                    proposal=bool(item.get("proposal")),
                    resources=tuple(
                        Resource(r["title"], r.get("url", ""), r.get("source", ""))
                        for r in item.get("resources") or []
                    ),
                )
                for item in entry.get("suggestions") or []
            )
            advice[code] = SubdimensionAdvice(
                code=code,
                source=(entry.get("source") or "").strip(),
                band_texts={k: v.strip() for k, v in entry["bands"].items()},
                suggestions=suggestions,
            )
        return cls(
            version=data["version"],
            grid=data["grid"],
            title=data["title"],
            source=(data.get("source") or "").strip(),
            bands=tuple(
                Band(b["code"], b["label"], Fraction(str(b["min"]))) for b in data["bands"]
            ),
            situational={s["question"]: s["reason"].strip() for s in data.get("situational") or []},
            subdimensions=advice,
        )

    def band_for(self, score: Fraction | None) -> Band | None:
        if score is None:
            return None
        return [band for band in self.bands if band.minimum <= score][-1]

    def suggestions_by_key(self) -> dict[str, Suggestion]:
        return {s.key: s for a in self.subdimensions.values() for s in a.suggestions}


def read_library_file(path: str | Path) -> dict[str, Any]:
    try:
        with Path(path).open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except FileNotFoundError as exc:
        raise LibraryError([f"Fichier introuvable : {path}"]) from exc
    except yaml.YAMLError as exc:
        raise LibraryError([f"YAML invalide dans {path} : {exc}"]) from exc
    if not isinstance(data, dict):
        raise LibraryError(["Le fichier doit contenir un dictionnaire YAML."])
    return data


def validate_library(
    data: Mapping[str, Any], definition: Mapping[str, Any], grid: Mapping[str, Any]
) -> None:
    """Raise LibraryError listing every problem of the file for this questionnaire and grid."""
    errors: list[str] = []
    for key in ("version", "grid", "title", "bands", "subdimensions"):
        if not data.get(key):
            errors.append(f"Clé obligatoire absente : « {key} ».")
    if data.get("grid") and data["grid"] != grid["version"]:
        errors.append(
            f"Les recommandations portent sur la grille « {data['grid']} », "
            f"pas sur « {grid['version']} »."
        )
    if errors:
        raise LibraryError(errors)
    band_codes = _validate_bands(data["bands"], errors)
    questions = {q["number"]: q for q in definition["questions"]}
    subdimension_codes = [
        s["code"] for dimension in definition["dimensions"] for s in dimension["subdimensions"]
    ]
    _validate_situational(data.get("situational") or [], questions, errors)
    if not isinstance(data["subdimensions"], list):
        raise LibraryError(errors + ["« subdimensions » doit être une liste."])
    seen_subdimensions: set[str] = set()
    seen_keys: set[str] = set()
    for position, entry in enumerate(data["subdimensions"], start=1):
        code = entry.get("subdimension") if isinstance(entry, dict) else None
        if code not in subdimension_codes:
            errors.append(
                f"Entrée n°{position} de « subdimensions » : sous-dimension inconnue "
                f"« {code} » (attendu : une de {', '.join(subdimension_codes)})."
            )
            continue
        if code in seen_subdimensions:
            errors.append(f"Sous-dimension « {code} » : en double.")
            continue
        seen_subdimensions.add(code)
        texts = entry.get("bands")
        if not isinstance(texts, dict):
            errors.append(f"Sous-dimension « {code} » : « bands » (un texte par palier) attendu.")
        else:
            for band in sorted(set(texts) - set(band_codes)):
                errors.append(f"Sous-dimension « {code} » : palier inconnu « {band} ».")
            for band in band_codes:
                if not isinstance(texts.get(band), str) or not texts[band].strip():
                    errors.append(f"Sous-dimension « {code} » : texte du palier « {band} » absent.")
        for index, item in enumerate(entry.get("suggestions") or [], start=1):
            _validate_suggestion(code, index, item, questions, seen_keys, errors)
    if errors:
        raise LibraryError(errors)


def _validate_bands(bands: Any, errors: list[str]) -> list[str]:
    if not isinstance(bands, list):
        errors.append("« bands » : une liste de paliers {code, label, min} est attendue.")
        return []
    codes: list[str] = []
    previous = None
    for position, band in enumerate(bands, start=1):
        if not isinstance(band, dict) or not band.get("code") or not band.get("label"):
            errors.append(f"Palier n°{position} : « code » et « label » attendus.")
            continue
        minimum = band.get("min")
        if not isinstance(minimum, int | float) or isinstance(minimum, bool):
            errors.append(f"Palier « {band['code']} » : seuil « min » numérique attendu.")
            continue
        if previous is None and minimum != 0:
            errors.append(f"Palier « {band['code']} » : le premier palier doit commencer à 0.")
        if previous is not None and minimum <= previous:
            errors.append(f"Palier « {band['code']} » : les seuils doivent être croissants.")
        previous = minimum
        codes.append(band["code"])
    return codes


def _validate_situational(items: Any, questions: Mapping[int, Any], errors: list[str]) -> None:
    if not isinstance(items, list):
        errors.append("« situational » : une liste de {question, reason} est attendue.")
        return
    for item in items:
        number = item.get("question") if isinstance(item, dict) else None
        if number not in questions:
            errors.append(f"« situational » : question inconnue « {number} ».")
        elif not isinstance(item.get("reason"), str) or not item["reason"].strip():
            errors.append(f"« situational » : Q{number} : raison (« reason ») attendue.")


def _validate_suggestion(
    code: str,
    index: int,
    item: Any,
    questions: Mapping[int, Any],
    seen_keys: set[str],
    errors: list[str],
) -> None:
    label = f"Sous-dimension « {code} », suggestion n°{index}"
    if not isinstance(item, dict):
        errors.append(f"{label} : ce n'est pas un dictionnaire.")
        return
    key = item.get("key")
    if not isinstance(key, str) or not key:
        errors.append(f"{label} : identifiant « key » attendu.")
    elif key in seen_keys:
        errors.append(f"{label} : identifiant « {key} » en double.")
    else:
        seen_keys.add(key)
        label = f"Suggestion « {key} »"
    if not isinstance(item.get("title"), str) or not item["title"].strip():
        errors.append(f"{label} : titre (« title ») attendu.")
    if not item.get("proposal") and not (isinstance(item.get("source"), str) and item["source"]):
        errors.append(
            f"{label} : citez la source (« source ») ou marquez-la comme proposition "
            "(« proposal: true »)."
        )
    when = item.get("when")
    if when is not None:
        _validate_condition(label, code, when, questions, errors)
    for resource in item.get("resources") or []:
        if not isinstance(resource, dict) or not resource.get("title"):
            errors.append(f"{label} : chaque ressource a un titre (« title »).")
            continue
        url = resource.get("url", "")
        if url and not str(url).startswith(("https://", "http://")):
            errors.append(f"{label} : adresse de ressource invalide « {url} ».")


def _validate_condition(
    label: str, code: str, when: Any, questions: Mapping[int, Any], errors: list[str]
) -> None:
    number = when.get("question") if isinstance(when, dict) else None
    if number not in questions:
        errors.append(f"{label} : question inconnue « {number} » dans « when ».")
        return
    question = questions[number]
    if question["subdimension"] != code:
        errors.append(
            f"{label} : Q{number} appartient à la sous-dimension « {question['subdimension']} », "
            f"pas à « {code} »."
        )
    if question["type"] not in CHOICE_TYPES:
        errors.append(f"{label} : Q{number} n'est pas une question à choix.")
        return
    if not when.get("in") and not when.get("lacks"):
        errors.append(f"{label} : « when » donne « in » ou « lacks » (codes d'options).")
    options = {o["code"] for o in question.get("options") or []}
    for field in ("in", "lacks"):
        codes = when.get(field) or []
        if not isinstance(codes, list):
            errors.append(f"{label} : « {field} » doit être une liste de codes d'options.")
            continue
        for option in codes:
            if option not in options:
                errors.append(f"{label} : option inconnue « {option} » pour Q{number}.")

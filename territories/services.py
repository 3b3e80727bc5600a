"""Writes to the territory reference data: the CPTS list and its indicators."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from cpts_portal.spreadsheet import TableInvalid, read_table
from territories.models import Cpts, Department, TerritoryIndicator

REQUIRED_COLUMNS = ("code", "name", "department_code", "stage")
INDICATOR_FIELDS = (
    "population",
    "area_km2",
    "share_aged_80_plus",
    "share_under_17",
    "unemployment_rate",
    "gp_count",
    "share_gp_over_60",
    "gp_active_patients",
    "specialist_count",
    "share_without_gp",
    "share_chronic_condition",
    "flu_vaccination_rate",
    "er_visits_per_100",
)
INTEGER_INDICATORS = {
    "population",
    "gp_count",
    "gp_active_patients",
    "specialist_count",
}
PERCENT_INDICATORS = {
    "share_aged_80_plus",
    "share_under_17",
    "unemployment_rate",
    "share_gp_over_60",
    "share_without_gp",
    "share_chronic_condition",
    "flu_vaccination_rate",
}
# The range Django documents as safe on every database for a PositiveIntegerField.
INTEGER_MAXIMUM = 2_147_483_647
# Digits, with a decimal point or comma: no exponent ("1e10"), no NaN or Infinity, no digits
# of other scripts (which Decimal() would read).
DECIMAL = re.compile(r"[+-]?[0-9]+(?:[.,][0-9]+)?")
YEAR = re.compile(r"[0-9]{4}")
# No CPTS, nor the association that carries one, before the law on associations of 1901; no
# creation or signature date in the future.
EARLIEST_DATE = dt.date(1901, 7, 1)


@dataclass
class CptsImportReport:
    created: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def cpts_import_csv(*, text: str | bytes, dry_run: bool = False) -> CptsImportReport:
    """Create or update CPTS from CSV text; any invalid row means nothing is written.

    Columns: code, name, department_code, stage (code or French label), and optionally
    created_on, aci_signed_on (YYYY-MM-DD or DD/MM/YYYY), legal_form, and a `year` with
    territory indicators named as in TerritoryIndicator. The file is read by
    `cpts_portal.spreadsheet.read_table`; every value is checked against its column (length,
    range, decimals) before anything is written.
    """
    report = CptsImportReport()
    try:
        table = read_table(text, required=REQUIRED_COLUMNS)
    except TableInvalid as invalid:
        report.errors += [f"Ligne {p.line} : {p.message}." for p in invalid.problems]
        return report

    departments = {d.code: d for d in Department.objects.all()}
    stages = _stage_lookup()
    parsed: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
    seen_codes: dict[str, int] = {}
    for table_row in table.rows:
        line, row = table_row.line, table_row.as_dict()
        errors: list[str] = []
        values = _parse_cpts_row(row, departments, stages, errors)
        indicators = _parse_indicators(row, errors)
        code = values.get("code")
        if code in seen_codes:
            errors.append(f"code « {code} » déjà présent ligne {seen_codes[code]}")
        elif code:
            seen_codes[code] = line
        if errors:
            report.errors.append(f"Ligne {line} : " + " ; ".join(errors) + ".")
        else:
            parsed.append((values, indicators))

    if report.errors or dry_run:
        if not report.errors:
            existing = set(Cpts.objects.filter(code__in=seen_codes).values_list("code", flat=True))
            report.updated = len(existing)
            report.created = len(parsed) - len(existing)
        return report

    with transaction.atomic():
        for values, indicators in parsed:
            code = values.pop("code")
            cpts, created = Cpts.objects.update_or_create(code=code, defaults=values)
            if created:
                report.created += 1
            else:
                report.updated += 1
            if indicators:
                year = indicators.pop("year")
                TerritoryIndicator.objects.update_or_create(
                    cpts=cpts, year=year, defaults=indicators
                )
    return report


def _stage_lookup() -> dict[str, str]:
    lookup = {}
    for value, label in Cpts.Stage.choices:
        lookup[value] = value
        lookup[str(label).casefold()] = value
    return lookup


def _parse_date(raw: str, column: str, errors: list[str]) -> dt.date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            date = dt.datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
        if not EARLIEST_DATE <= date <= timezone.localdate():
            errors.append(
                f"{column} « {raw} » hors des dates possibles "
                f"(du {EARLIEST_DATE:%d/%m/%Y} à aujourd'hui)"
            )
            return None
        return date
    errors.append(f"{column} « {raw} » n'est pas une date (AAAA-MM-JJ ou JJ/MM/AAAA)")
    return None


def _too_long(model: type[models.Model], column: str, value: str) -> str:
    """A French message if `value` does not fit the model's column, else ""."""
    limit = model._meta.get_field(column).max_length
    return f"{column} trop long ({limit} caractères au plus)" if len(value) > limit else ""


def _parse_cpts_row(
    row: dict[str, str], departments: dict, stages: dict[str, str], errors: list[str]
) -> dict[str, Any]:
    code = (row.get("code") or "").strip()
    name = (row.get("name") or "").strip()
    if not code:
        errors.append("code manquant")
    elif message := _too_long(Cpts, "code", code):
        errors.append(message)
    if not name:
        errors.append("nom manquant")
    elif message := _too_long(Cpts, "name", name):
        errors.append(message)
    department_code = (row.get("department_code") or "").strip().upper()
    if len(department_code) == 1:
        department_code = "0" + department_code
    department = departments.get(department_code)
    if department is None:
        errors.append(f"département inconnu « {row.get('department_code') or ''} »")
    raw_stage = (row.get("stage") or "").strip()
    stage = stages.get(raw_stage.casefold()) or stages.get(raw_stage)
    if stage is None:
        errors.append(f"stade inconnu « {raw_stage} » (attendu : {', '.join(Cpts.Stage.values)})")
    created_on = _parse_date(row.get("created_on", ""), "created_on", errors)
    aci_signed_on = _parse_date(row.get("aci_signed_on", ""), "aci_signed_on", errors)
    if created_on and aci_signed_on and aci_signed_on < created_on:
        errors.append("la signature de l'ACI précède la création")
    values: dict[str, Any] = {
        "code": code,
        "name": name,
        "department": department,
        "stage": stage,
        "created_on": created_on,
        "aci_signed_on": aci_signed_on,
    }
    if row.get("legal_form"):
        values["legal_form"] = row["legal_form"].strip()
        if message := _too_long(Cpts, "legal_form", values["legal_form"]):
            errors.append(message)
    return values


def _parse_indicators(row: dict[str, str], errors: list[str]) -> dict[str, Any] | None:
    present = {f: (row.get(f) or "").strip() for f in INDICATOR_FIELDS}
    if not any(present.values()):
        return None
    year_raw = (row.get("year") or "").strip()
    if not YEAR.fullmatch(year_raw) or not 2000 <= int(year_raw) <= 2100:
        errors.append("year manquante ou invalide pour les indicateurs")
        return None
    indicators: dict[str, Any] = {"year": int(year_raw)}
    for name, raw in present.items():
        if not raw:
            continue
        text = raw.replace(" ", "").replace("\u00a0", "").replace("\u202f", "")
        if not DECIMAL.fullmatch(text):
            errors.append(f"{name} « {raw} » n'est pas un nombre")
            continue
        number = Decimal(text.replace(",", "."))
        if message := _out_of_column(name, raw, number):
            errors.append(message)
        elif name in INTEGER_INDICATORS:
            indicators[name] = int(number)
        else:
            indicators[name] = number
    if indicators.get("area_km2") == 0:
        errors.append("area_km2 doit être positive")
    return indicators


def _out_of_column(name: str, raw: str, number: Decimal) -> str:
    """A French message if the indicator's column cannot hold `number` as it is meant, else
    "": negative, a fraction for a count, a share beyond 100 %, more integer digits than the
    column has (decimals beyond its places are rounded, as the column rounds them)."""
    if number < 0:
        return f"{name} ne peut pas être négatif"
    if name in INTEGER_INDICATORS:
        if number != number.to_integral_value():
            return f"{name} doit être un entier"
        if number > INTEGER_MAXIMUM:
            return f"{name} « {raw} » dépasse le maximum de la colonne ({_french(INTEGER_MAXIMUM)})"
        return ""
    if name in PERCENT_INDICATORS and number > 100:
        return f"{name} « {raw} » est un pourcentage : entre 0 et 100"
    column = TerritoryIndicator._meta.get_field(name)
    places = column.decimal_places
    step = Decimal(1).scaleb(-places)
    maximum = Decimal(10) ** (column.max_digits - places) - step
    if number.adjusted() >= column.max_digits - places or number.quantize(step) > maximum:
        return f"{name} « {raw} » dépasse le maximum de la colonne ({_french(maximum)})"
    return ""


def _french(number: int | Decimal) -> str:
    """1 234 567,89: thin spaces between thousands, a decimal comma."""
    return f"{number:,}".replace(",", "\u202f").replace(".", ",")

"""Writes to the territory reference data: the CPTS list and its indicators."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

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


@dataclass
class CptsImportReport:
    created: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def cpts_import_csv(*, text: str, dry_run: bool = False) -> CptsImportReport:
    """Create or update CPTS from CSV text; any invalid row means nothing is written.

    Columns: code, name, department_code, stage (code or French label), and optionally
    created_on, aci_signed_on (YYYY-MM-DD or DD/MM/YYYY), legal_form, and a `year` with
    territory indicators named as in TerritoryIndicator.
    """
    report = CptsImportReport()
    text = text.lstrip("\ufeff")
    try:
        dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        report.errors.append(f"Ligne 1 : colonnes obligatoires absentes : {', '.join(missing)}.")
        return report

    departments = {d.code: d for d in Department.objects.all()}
    stages = _stage_lookup()
    parsed: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
    seen_codes: dict[str, int] = {}
    for line, row in enumerate(reader, start=2):
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
            return dt.datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    errors.append(f"{column} « {raw} » n'est pas une date (AAAA-MM-JJ ou JJ/MM/AAAA)")
    return None


def _parse_cpts_row(
    row: dict[str, str], departments: dict, stages: dict[str, str], errors: list[str]
) -> dict[str, Any]:
    code = (row.get("code") or "").strip()
    name = (row.get("name") or "").strip()
    if not code:
        errors.append("code manquant")
    elif len(code) > 30:
        errors.append("code trop long (30 caractères au plus)")
    if not name:
        errors.append("nom manquant")
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
    return values


def _parse_indicators(row: dict[str, str], errors: list[str]) -> dict[str, Any] | None:
    present = {f: (row.get(f) or "").strip() for f in INDICATOR_FIELDS}
    if not any(present.values()):
        return None
    year_raw = (row.get("year") or "").strip()
    if not year_raw.isdigit() or not 2000 <= int(year_raw) <= 2100:
        errors.append("year manquante ou invalide pour les indicateurs")
        return None
    indicators: dict[str, Any] = {"year": int(year_raw)}
    for name, raw in present.items():
        if not raw:
            continue
        try:
            number = Decimal(raw.replace(",", ".").replace(" ", "").replace("\u202f", ""))
        except InvalidOperation:
            errors.append(f"{name} « {raw} » n'est pas un nombre")
            continue
        if number < 0:
            errors.append(f"{name} ne peut pas être négatif")
        elif name in INTEGER_INDICATORS:
            if number != number.to_integral_value():
                errors.append(f"{name} doit être un entier")
            indicators[name] = int(number)
        else:
            indicators[name] = number
    if indicators.get("area_km2") == 0:
        errors.append("area_km2 doit être positive")
    return indicators

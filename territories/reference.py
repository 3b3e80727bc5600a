"""The official INSEE regions (18) and departments (101), from territories/data/*.csv.

Loaded by migration 0002; `ensure_reference_territories` lets demo and test set-ups restore
them after a database flush. Takes the model classes so that the migration can pass its
historical models.
"""

import csv
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


def _read_rows(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def load_reference_territories(region_model, department_model) -> None:
    regions = {}
    for row in _read_rows("regions.csv"):
        regions[row["code"]], _ = region_model.objects.update_or_create(
            code=row["code"], defaults={"name": row["name"]}
        )
    for row in _read_rows("departments.csv"):
        department_model.objects.update_or_create(
            code=row["code"],
            defaults={"name": row["name"], "region": regions[row["region_code"]]},
        )


def ensure_reference_territories() -> None:
    from territories.models import Department, Region

    if Department.objects.count() != len(_read_rows("departments.csv")):
        load_reference_territories(Region, Department)

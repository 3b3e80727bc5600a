"""What an export is asked for: shared by the page, the Celery task and the command line."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

WIDE, LONG, SCORES, CODEBOOK = "wide", "long", "scores", "codebook"
FORMATS = (WIDE, LONG, SCORES, CODEBOOK)

STATUS_SUBMITTED, STATUS_ALL = "submitted", "all"
STATUSES = (STATUS_SUBMITTED, STATUS_ALL)


class ExportError(ValueError):
    """An export that cannot be produced as asked; `str(error)` is a French message."""


@dataclass(frozen=True)
class ExportSpec:
    """Campaigns by slug; territory filters by INSEE code (empty: no filter).

    `labels` writes choice values as their French label instead of their code; `excel` writes
    UTF-8 with BOM, `;` and decimal comma ("Excel (France)") instead of RFC 4180 with `,`.
    `grid` is the scoring grid version of a scores export (empty: the latest one loaded).
    """

    campaigns: tuple[str, ...]
    format: str
    region: str = ""
    department: str = ""
    stage: str = ""
    status: str = STATUS_SUBMITTED
    labels: bool = False
    excel: bool = False
    grid: str = ""

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ExportError(f"Format d'export inconnu : « {self.format} ».")
        if self.status not in STATUSES:
            raise ExportError(f"Statut inconnu : « {self.status} ».")
        if not self.campaigns:
            raise ExportError("Choisissez au moins une campagne.")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["campaigns"] = list(self.campaigns)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExportSpec:
        return cls(**{**data, "campaigns": tuple(data["campaigns"])})

    @property
    def filename(self) -> str:
        campaigns = "_".join(self.campaigns)[:80]
        territory = f"-{self.region or self.department}" if self.region or self.department else ""
        return f"cpts-{self.format}-{campaigns}{territory}{'-excel' if self.excel else ''}.csv"

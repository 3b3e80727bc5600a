"""CSV files for spreadsheets: cells they cannot turn into formulas (OWASP "CSV injection").

Every text cell written by an export goes through `neutralise` (`csv_lines` does it); importers
call `restore` so free text round-trips unchanged. Numbers are written as numbers and never
touched.
"""

import csv
from collections.abc import Iterable, Iterator
from decimal import Decimal

Cell = int | Decimal | str | None

FLUSH_BYTES = 64 * 1024  # streamed chunks are about this size
TEXT_MEMO_SIZE = 10_000  # distinct text cells remembered as already neutralised

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def _looks_like_formula(text: str) -> bool:
    # Quotes already in front of a trigger count too: "'=x" is written "''=x", so that
    # `restore` (which drops one quote) gives "'=x" back rather than "=x".
    return text.lstrip("'").startswith(FORMULA_TRIGGERS)


def neutralise(text: str) -> str:
    if text and _looks_like_formula(text):
        return "'" + text
    return text


def restore(text: str) -> str:
    if len(text) > 1 and text[0] == "'" and _looks_like_formula(text[1:]):
        return text[1:]
    return text


def format_cell(value: Cell, *, excel: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text.replace(".", ",") if excel else text
    return neutralise(str(value))


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[list[Cell]], *, excel: bool = False) -> Iterator[str]:
    """CSV text in chunks of about FLUSH_BYTES: RFC 4180 (`,`, CRLF), or for Excel (France)
    a BOM, `;` and decimal comma."""
    writer = csv.writer(_Echo(), delimiter=";" if excel else ",", lineterminator="\r\n")
    buffer: list[str] = ["\ufeff"] if excel else []
    size = 0
    # Most text cells repeat (option codes, campaign, region...): each distinct text is
    # neutralised once. The memo is emptied when full, so memory does not grow with rows.
    texts: dict[str, str] = {}

    def text(cell: str) -> str:
        if len(texts) >= TEXT_MEMO_SIZE:
            texts.clear()
        texts[cell] = neutralise(cell)
        return texts[cell]

    for row in rows:
        # The csv module writes None as "" and an int as str(int) itself; decimals and
        # booleans go through format_cell.
        line = writer.writerow(
            [
                cell
                if cell is None or type(cell) is int
                else (texts.get(cell) or text(cell))
                if type(cell) is str
                else format_cell(cell, excel=excel)
                for cell in row
            ]
        )
        buffer.append(line)
        size += len(line)
        if size >= FLUSH_BYTES:
            yield "".join(buffer)
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer)

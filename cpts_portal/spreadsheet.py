"""CSV files for spreadsheets: written with cells they cannot turn into formulas (OWASP "CSV
injection"), read by every importer through one reader (`read_table`).

Every text cell written by an export goes through `neutralise` (`csv_lines` does it); importers
call `restore` so free text round-trips unchanged. Numbers are written as numbers and never
touched.
"""

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
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
    writer = csv.writer(_Echo(), delimiter=csv_delimiter(excel), lineterminator="\r\n")
    # Most text cells repeat (option codes, campaign, region...): each distinct text is
    # neutralised once. The memo is emptied when full, so memory does not grow with rows.
    texts: dict[str, str] = {}

    def text(cell: str) -> str:
        if len(texts) >= TEXT_MEMO_SIZE:
            texts.clear()
        texts[cell] = neutralise(cell)
        return texts[cell]

    def lines() -> Iterator[str]:
        if excel:
            yield "\ufeff"
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
            yield line

    return in_chunks(lines())


def in_chunks(lines: Iterable[str]) -> Iterator[str]:
    """The lines joined into streamed chunks of about FLUSH_BYTES."""
    buffer: list[str] = []
    size = 0
    for line in lines:
        buffer.append(line)
        size += len(line)
        if size >= FLUSH_BYTES:
            yield "".join(buffer)
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer)


def csv_cells(*, excel: bool = False) -> Callable[[list[Cell]], str]:
    """The CSV text `csv_lines` writes for these cells within a line (no line terminator):
    for a writer that renders the recurring pieces of its lines once and joins them with
    `csv_delimiter(excel)`, which gives the bytes of `csv_lines`, since a cell's quoting
    depends on that cell only."""
    delimiter = csv_delimiter(excel)
    writer = csv.writer(_Echo(), delimiter=delimiter, lineterminator="\r\n")
    # A trailing empty cell, cut off again: a lone empty cell would be written quoted.
    cut = -len(delimiter + "\r\n")

    def render(cells: list[Cell]) -> str:
        # As csv_lines converts them: None and whole numbers are written by the csv module.
        return writer.writerow(
            [
                cell
                if cell is None or type(cell) is int
                else neutralise(cell)
                if type(cell) is str
                else format_cell(cell, excel=excel)
                for cell in cells
            ]
            + [""]
        )[:cut]

    return render


def csv_delimiter(excel: bool) -> str:
    return ";" if excel else ","


# --- Reading: the one CSV reader of every importer ---------------------------------------

DELIMITERS = (",", ";")
CELL_MAX_CHARACTERS = csv.field_size_limit()  # Python's limit (131,072), never raised


@dataclass(frozen=True)
class TableProblem:
    """Why a file cannot be read: its line (1 is the header), the column when there is one,
    and a French message that names it."""

    line: int
    message: str
    column: str = ""

    def __str__(self) -> str:
        return f"ligne {self.line} : {self.message}"


class TableInvalid(ValueError):
    """The file is not a table an importer may read; nothing should be written.
    `problems` lists every problem found, in file order."""

    def __init__(self, problems: list[TableProblem]):
        self.problems = problems
        super().__init__("; ".join(str(problem) for problem in problems))


@dataclass(frozen=True)
class TableRow:
    """One record of the file: `line` is the line it starts on (a quoted cell may span
    several), `values` its cells as read (as many as the record has, which may differ from
    the header's count)."""

    line: int
    values: tuple[str, ...]
    header: tuple[str, ...]

    def get(self, column: str, default: str = "") -> str:
        """The cell under `column`; `default` when the header has no such column or the
        record is shorter than the header."""
        if column not in self.header:
            return default
        index = self.header.index(column)
        return self.values[index] if index < len(self.values) else default

    def as_dict(self) -> dict[str, str]:
        """{column: cell} for the header's non-empty names; missing cells are ""."""
        return {column: self.get(column) for column in self.header if column}


@dataclass(frozen=True)
class Table:
    """A file as `read_table` read it: its header, its delimiter, its non-blank records."""

    header: tuple[str, ...]
    delimiter: str
    rows: list[TableRow]


def read_table(source: str | bytes, *, required: Sequence[str] = ()) -> Table:
    """Read a CSV file the way every importer reads it; raises TableInvalid (French messages)
    rather than guess.

    `source` is the file's text, or its bytes (UTF-8, with or without a BOM). The delimiter is
    `,` or `;`, whichever the header line holds more of; the records are then read with the
    standard quoting rules (RFC 4180: a quoted cell may hold the delimiter, line breaks and
    doubled quotes `""`), strictly: a quote left open or text after a closing quote is an
    error, not a guess. Refused, with the line and, where it applies, the column:
    a file that is not UTF-8, an empty file, a header naming a column twice, a missing
    `required` column, a NUL character anywhere, a cell longer than CELL_MAX_CHARACTERS.
    Records whose cells are all blank (a spreadsheet's trailing `;;;`) are skipped.

    Returns the header (names as written, BOM removed) and every other record with the line
    it starts on; what each cell means is the importer's to check (`TableRow.get`).
    Used by `import_cpts` (territories.services) and `import_responses` (exports.importer).
    An importer of users would read its file so:

        try:
            table = read_table(data, required=("email", "role"))
        except TableInvalid as invalid:
            return [str(problem) for problem in invalid.problems]  # "ligne 1 : …"
        for row in table.rows:
            email = row.get("email").strip()  # row.line names the line in a message
    """
    text = _decoded(source)
    first_line = re.split(r"\r\n|\r|\n", text, maxsplit=1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    problems: list[TableProblem] = []
    records: list[tuple[int, list[str]]] = []
    line = 1
    try:
        for values in reader:
            records.append((line, values))
            line = reader.line_num + 1
    except csv.Error as error:
        problems += _csv_problems(error, text, line, delimiter, records)
    if not records and not problems:
        raise TableInvalid([TableProblem(1, "le fichier est vide : l'en-tête manque")])
    header = tuple(records[0][1]) if records else ()
    if records:
        problems += _header_problems(header, required)
    for line, values in records:
        for index, value in enumerate(values):
            if "\x00" in value:
                column = header[index] if index < len(header) else ""
                where = f"colonne « {column} »" if column else f"cellule n° {index + 1}"
                problems.append(
                    TableProblem(line, f"{where} : caractère NUL interdit", column=column)
                )
    if problems:
        raise TableInvalid(sorted(problems, key=lambda problem: problem.line))
    rows = [
        TableRow(line, tuple(values), header)
        for line, values in records[1:]
        if any(value.strip() for value in values)
    ]
    return Table(header=header, delimiter=delimiter, rows=rows)


def _decoded(source: str | bytes) -> str:
    if isinstance(source, bytes):
        try:
            source = source.decode("utf-8")
        except UnicodeDecodeError as error:
            line = source.count(b"\n", 0, error.start) + 1
            raise TableInvalid(
                [TableProblem(line, "le fichier n'est pas en UTF-8 (octet invalide)")]
            ) from error
    return source.removeprefix("\ufeff")


def _header_problems(header: tuple[str, ...], required: Sequence[str]) -> list[TableProblem]:
    if not any(name.strip() for name in header):
        return [TableProblem(1, "la première ligne, l'en-tête qui nomme les colonnes, est vide")]
    problems = []
    seen: dict[str, int] = {}
    for position, name in enumerate(header, start=1):
        if not name:
            continue  # an empty header cell names nothing: its cells are ignored
        if name in seen:
            problems.append(
                TableProblem(
                    1,
                    f"la colonne « {name} » figure deux fois dans l'en-tête (colonnes "
                    f"{seen[name]} et {position})",
                    column=name,
                )
            )
        else:
            seen[name] = position
    missing = [name for name in required if name not in seen]
    if missing:
        problems.append(TableProblem(1, f"colonnes obligatoires absentes : {', '.join(missing)}"))
    return problems


def _csv_problems(
    error: csv.Error, text: str, line: int, delimiter: str, records: list[tuple[int, list[str]]]
) -> list[TableProblem]:
    """The csv module's error, in French, at the line of the record it stopped in."""
    reason = str(error)
    if "field larger than field limit" in reason:
        limit = f"{CELL_MAX_CHARACTERS:,}".replace(",", "\u202f")
        header = records[0][1] if records else []
        columns = _oversized_columns(text, line, delimiter, header)
        return [
            TableProblem(line, f"{where} : plus de {limit} caractères", column=column)
            for column, where in columns
        ] or [TableProblem(line, f"une cellule dépasse {limit} caractères")]
    if "unexpected end of data" in reason:
        message = "un guillemet ouvert n'est jamais fermé"
    elif "expected after" in reason:
        message = (
            "après un guillemet fermant, seul le séparateur ou une fin de ligne est permis "
            '(un guillemet dans une cellule s\'écrit "")'
        )
    else:
        message = "le fichier n'est pas un CSV lisible"
    return [TableProblem(line, message)]


def _oversized_columns(
    text: str, line: int, delimiter: str, header: list[str]
) -> list[tuple[str, str]]:
    """(column, "colonne « … »") of the cells of the record starting at `line` that are one
    run of ordinary characters longer than the limit, found by reading the record again with
    each such run replaced by a NUL (the delimiters, quotes and line breaks stay in place, so
    every cell keeps its position). A long cell of another shape is not found: []."""
    starts = [0] + [match.end() for match in re.finditer(r"\r\n|\r|\n", text)]
    record = text[starts[line - 1] :] if line - 1 < len(starts) else ""
    ordinary = f'[^{re.escape(delimiter)}"\r\n]'
    marked = re.sub(f"{ordinary}{{{CELL_MAX_CHARACTERS + 1},}}", "\x00", record)
    try:
        values = next(csv.reader(io.StringIO(marked, newline=""), delimiter=delimiter))
    except (csv.Error, StopIteration):
        return []
    found = []
    for index, value in enumerate(values):
        if "\x00" in value:
            column = header[index] if index < len(header) else ""
            found.append((column, f"colonne « {column} »" if column else f"cellule n° {index + 1}"))
    return found

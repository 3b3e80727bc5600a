"""Writing many rows at once: PostgreSQL's COPY where it is available, bulk_create elsewhere.

Used by scoring (the ~31 area rows of each response of a rescore batch) and by the bench's
cohort generator (millions of answers). Rows are plain tuples in the order of `columns`, which
are model field names (or attnames such as `department_id`); nothing of the model's save()
or signals runs, and history tables are not written.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection, models


def rows_insert(model: type[models.Model], columns: tuple[str, ...], rows: Iterable[tuple]) -> None:
    """Insert many rows: COPY on PostgreSQL with psycopg 3, bulk_create anywhere else."""
    if copy_supported():
        rows_copy(model, columns, rows)
        return
    model.objects.bulk_create(
        (model(**dict(zip(columns, row, strict=True))) for row in rows), batch_size=2_000
    )


def copy_supported() -> bool:
    # psycopg 3's cursors have copy(); psycopg2's and SQLite's do not.
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        return hasattr(cursor.cursor, "copy")


def rows_copy(model: type[models.Model], columns: tuple[str, ...], rows: Iterable[tuple]) -> None:
    """COPY the rows into the model's table (PostgreSQL with psycopg 3 only)."""
    # One COPY streams tens of thousands of rows without SQL parameters or model instances:
    # several times faster than bulk_create, which is what the bench measured.
    with connection.cursor() as cursor, cursor.cursor.copy(_copy_into(model, columns)) as copy:
        for row in rows:
            copy.write_row(row)


def rows_copy_text(
    model: type[models.Model], columns: tuple[str, ...], lines: Iterable[str]
) -> None:
    """COPY rows already written in COPY's text format (`copy_text` values joined by tabs, each
    line ending with a newline; PostgreSQL with psycopg 3 only).

    For callers whose rows repeat a few values: rendered once and reused, they spare
    `write_row` converting every value of every row (most of a scoring batch's COPY)."""
    with connection.cursor() as cursor, cursor.cursor.copy(_copy_into(model, columns)) as copy:
        copy.write("".join(lines))


def _copy_into(model: type[models.Model], columns: tuple[str, ...]):
    from psycopg import sql

    names = [model._meta.get_field(name).column for name in columns]
    return sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(model._meta.db_table), sql.SQL(", ").join(map(sql.Identifier, names))
    )


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value: Any) -> str:
    """A value in COPY's text format: \\N for NULL, backslash, tab and line ends escaped."""
    if value is None:
        return "\\N"
    return str(value).translate(_COPY_ESCAPES)

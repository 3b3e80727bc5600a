"""Create and drop the bench's own PostgreSQL database, through the server's maintenance DB."""

from __future__ import annotations

import psycopg
from django.db import connections
from psycopg import sql


def _admin_connection(settings_dict: dict) -> psycopg.Connection:
    return psycopg.connect(
        dbname="postgres",
        user=settings_dict.get("USER") or None,
        password=settings_dict.get("PASSWORD") or None,
        host=settings_dict.get("HOST") or None,
        port=settings_dict.get("PORT") or None,
        autocommit=True,
    )


def database_recreate(settings_dict: dict) -> None:
    """An empty database of that name: a bench never measures what a previous one left."""
    database_drop(settings_dict)
    with _admin_connection(settings_dict) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(settings_dict["NAME"])))


def database_drop(settings_dict: dict) -> None:
    connections.close_all()
    with _admin_connection(settings_dict) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(settings_dict["NAME"])
            )
        )

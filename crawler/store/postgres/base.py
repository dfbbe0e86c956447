"""The PostgreSQL backend's core: a psycopg 3 async connection pool, one transaction per call, and the
row helpers every domain module uses."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from psycopg import AsyncConnection, errors
from psycopg_pool import AsyncConnectionPool

from crawler.errors import StoreError
from crawler.events import Event

__all__ = ["JSON_FIELDS", "PostgresBase", "decode", "encode"]

JSON_FIELDS = ("authors", "tags", "provenance")


class PostgresBase:
    def __init__(self, pool: AsyncConnectionPool, label: str, read_only: bool) -> None:
        self._pool = pool
        self.label = label  # the DSN without its password, for messages
        self._read_only = read_only

    @contextlib.asynccontextmanager
    async def _transaction(self, *, writes: bool = True) -> AsyncIterator[AsyncConnection]:
        """A connection from the pool inside one transaction (committed at the end, rolled back on an
        error); database errors become StoreError naming the database."""
        if writes and self._read_only:
            raise StoreError(f"database {self.label}: opened read-only")
        try:
            async with self._pool.connection() as conn, conn.transaction():
                yield conn
        except errors.Error as exc:
            raise StoreError(f"database {self.label}: {type(exc).__name__}: {exc}".strip()) from exc

    async def _insert_event(self, conn: AsyncConnection, event: Event) -> Event:
        row = event.as_row()
        cursor = await conn.execute(
            "INSERT INTO events (ts, type, source_id, article_id, data) VALUES (%s, %s, %s, %s, %s)"
            " RETURNING id, xact::text::bigint",
            [row["ts"], row["type"], row["source_id"], row["article_id"], row["data"]],
        )
        event_id, xact = await cursor.fetchone() or (None, 0)
        return Event(event.type, event.source_id, event.article_id, event.data, event.ts, event_id, xact)

    async def _insert(self, conn: AsyncConnection, table: str, values: dict[str, Any]) -> int:
        """A row of plain values; its id (0 for tables without one). Table and column names are ours."""
        columns = ", ".join(values)
        marks = ", ".join(["%s"] * len(values))
        returning = " RETURNING id" if table in ("articles", "article_versions", "fetches") else ""
        cursor = await conn.execute(
            f"INSERT INTO {table} ({columns}) VALUES ({marks}){returning}", list(values.values())
        )
        row = await cursor.fetchone() if returning else None
        return int(row[0]) if row else 0

    async def _rows(self, conn: AsyncConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        """Every row of the query as a dict keyed by column name (inside the backend only)."""
        cursor = await conn.execute(sql, params)
        names = [column.name for column in cursor.description or []]
        return [dict(zip(names, row)) for row in await cursor.fetchall()]


def encode(values: dict[str, Any]) -> dict[str, Any]:
    return {k: json.dumps(v, ensure_ascii=False) if k in JSON_FIELDS else v for k, v in values.items()}


def decode(row: dict[str, Any]) -> dict[str, Any]:
    return {k: json.loads(v) if k in JSON_FIELDS and isinstance(v, str) else v for k, v in row.items()}

"""The SQLite backend's core: the connection (opened, migrated), transactions and savepoints, and the
few row helpers every domain module uses. Synchronous: only ever called on the store thread."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from crawler.errors import StoreError
from crawler.events import Event
from crawler.store.sqlite.connection import (
    Database,
    check_readable,
    read_only_connection,
    unusable,
    writable_connection,
)
from crawler.store.sqlite.schema import migrations

__all__ = ["JSON_FIELDS", "SqliteBase", "decode", "encode"]

JSON_FIELDS = ("authors", "tags", "provenance")


class SqliteBase:
    def __init__(self, path: Path, *, read_only: bool = False, live: bool = False) -> None:
        """Open (and create, and migrate) the database for writing; with ``read_only``, open an existing
        one for reading only: nothing is written, not even the WAL's shared-memory file when the daemon
        is not running (a group member, a backup, a snapshot on a read-only filesystem); ``live`` keeps
        watching for a writer's changes. Raises StoreError naming the file and what to do."""
        try:
            connection = read_only_connection(path, live=live) if read_only else writable_connection(path)
            self.db = Database(connection, execute_plugins=False)
            if read_only:
                check_readable(self.db, path, migrations)
            else:
                self.db.execute("PRAGMA foreign_keys = ON")
                migrations.apply(self.db)
        except sqlite3.DatabaseError as exc:
            raise StoreError(unusable(path, exc, read_only)) from None
        # Search-index rows waiting for the end of a group commit (see index_later), else None.
        self._pending_index: list[tuple[int, str, str, bool]] | None = None

    def close(self) -> None:
        self.db.close()

    def ping(self) -> None:
        """A no-op query: the store thread and the database answer (the watchdog asks)."""
        self.db.execute("SELECT 1").fetchone()

    @contextlib.contextmanager
    def index_later(self) -> Iterator[None]:
        """Inside the block, search-index rows are written at its end rather than as each article is
        saved. FTS5 writes its pending rows out as a new index segment at every savepoint, so a group
        commit's savepoint per call made one segment per article (0.33 -> 0.28 ms of store time an
        article). Call it inside the transaction: the rows still commit with their articles."""
        self._pending_index = []
        try:
            yield
            for article_id, title, body, new in self._pending_index:
                self._write_index(article_id, title, body, new)
        finally:
            self._pending_index = None

    def pending_index_mark(self) -> int:
        """Where the pending index rows stand now; ``forget_index_rows(mark)`` drops those added since."""
        return len(self._pending_index) if self._pending_index is not None else 0

    def forget_index_rows(self, mark: int) -> None:
        if self._pending_index is not None:
            del self._pending_index[mark:]

    def _index(self, article_id: int, title: str, body: str, new: bool = False) -> None:
        """The article's search-index row, written in the same transaction as the article."""
        if self._pending_index is not None:
            self._pending_index.append((article_id, title, body, new))
        else:
            self._write_index(article_id, title, body, new)

    def _write_index(self, article_id: int, title: str, body: str, new: bool) -> None:
        if not new:
            self.db.conn.execute("DELETE FROM articles_fts WHERE rowid = ?", [article_id])
        self.db.conn.execute(
            "INSERT INTO articles_fts (rowid, title, body) VALUES (?, ?, ?)", [article_id, title, body]
        )

    @contextlib.contextmanager
    def _atomic(self) -> Iterator[None]:
        """A transaction, or inside one (a group commit) a savepoint. Not sqlite-utils' atomic(), which
        names each savepoint at random: SQLite then compiles both statements anew on every call (an
        eighth of the store thread's time in a crawl). Savepoints of one name nest."""
        conn = self.db.conn
        if not conn.in_transaction:
            with self.db.atomic():
                yield
            return
        conn.execute("SAVEPOINT nested")
        try:
            yield
        except BaseException:
            if conn.in_transaction:  # an error can end the whole transaction, savepoints included
                conn.execute("ROLLBACK TO SAVEPOINT nested")
                conn.execute("RELEASE SAVEPOINT nested")
            raise
        conn.execute("RELEASE SAVEPOINT nested")

    def _insert(self, table: str, values: dict[str, Any]) -> int:
        """A row of plain values; its rowid. (sqlite-utils' insert() looks up the table's schema on every
        call: a fifth of the store thread's time in a crawl.) Table and column names are ours."""
        sql = f"INSERT INTO {table} ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})"
        return int(self.db.conn.execute(sql, list(values.values())).lastrowid or 0)

    def _insert_event(self, event: Event) -> Event:
        event_id = self._insert("events", event.as_row())
        return Event(event.type, event.source_id, event.article_id, event.data, event.ts, event_id)

    def _rows(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        """Every row of the query as a dict keyed by column name (inside the backend only)."""
        cursor = self.db.execute(sql, params)
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]


def encode(values: dict[str, Any]) -> dict[str, Any]:
    return {k: json.dumps(v, ensure_ascii=False) if k in JSON_FIELDS else v for k, v in values.items()}


def decode(row: dict[str, Any]) -> dict[str, Any]:
    return {k: json.loads(v) if k in JSON_FIELDS and isinstance(v, str) else v for k, v in row.items()}

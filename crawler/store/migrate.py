"""``crawler migrate-db --to URL``: the whole database copied to another backend (SQLite to PostgreSQL to
move up to several machines; PostgreSQL to an SQLite snapshot to browse with Datasette), then checked.

The source is read in one snapshot (an SQLite read transaction, a REPEATABLE READ one on PostgreSQL), so
a daemon that keeps writing meanwhile does not tear the copy; rows keep their ids, so events, versions
and stories still point at their articles. The target must be empty. Everything is written in one
transaction, the counts of every table (and of the search index, rebuilt from the articles' match-key
text) are compared with the source's, and the transaction commits only when they all agree: a failed
or interrupted migration leaves the target as it was.

Not copied: the sinks' place in the events stream (a position means something only in the database it
was read in; on the new database the sinks start at the stream's end, after the copied events).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, Protocol

from crawler.config import database_location, redacted_database
from crawler.errors import StoreError
from crawler.search import index_text, search_title
from crawler.store import open_store
from crawler.store.sqlite.connection import read_only_connection, writable_connection

__all__ = ["COPIED_TABLES", "MigrationReport", "TableCount", "migrate_database"]

# In an order that satisfies the foreign keys (articles need their source, versions their article).
COPIED_TABLES = ("sources", "articles", "article_versions", "near_dup_signatures", "near_dup_bands", "events",
                 "fetches", "discovery_pages", "template_blocks", "hosts")  # fmt: skip
_WITH_IDS = ("articles", "article_versions", "events", "fetches")  # identity columns to move past the copied ids
_BATCH = 1000


@dataclass(frozen=True, slots=True)
class TableCount:
    table: str
    source: int
    target: int

    @property
    def agrees(self) -> bool:
        return self.source == self.target


@dataclass(frozen=True, slots=True)
class MigrationReport:
    counts: list[TableCount]  # every copied table, then the search index against the articles

    @property
    def agrees(self) -> bool:
        return all(count.agrees for count in self.counts)


class _Side(Protocol):
    search_table: str

    def columns(self, table: str) -> list[str]: ...
    def count(self, table: str) -> int: ...
    def rows(self, table: str, columns: Sequence[str]) -> Iterator[Sequence[Any]]: ...
    def write(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None: ...
    def index(self, articles: Iterable[Sequence[Any]]) -> None: ...
    def finish(self) -> None: ...


def migrate_database(source: Path | str, target: Path | str) -> MigrationReport:
    """Copy ``source`` into the empty ``target`` and compare the counts; the target's transaction is
    committed only when every count agrees (StoreError otherwise, naming the tables that differ)."""
    source_at, target_at = database_location(source), database_location(target)
    if str(source_at) == str(target_at):
        raise StoreError(f"{target}: the target is the database the config already uses")
    asyncio.run(_check_schema(source, read_only=True))  # the current schema, or a message saying what to do
    asyncio.run(_check_schema(target, read_only=False))  # the target's tables, made and migrated
    with _opened(source_at, reading=True) as reader, _opened(target_at, reading=False) as writer:
        held = sum(writer.count(table) for table in ("sources", "articles", "events"))
        if held:
            raise StoreError(f"{target}: not empty ({held} sources, articles and events); migrate into a new database")
        for table in COPIED_TABLES:
            wanted = set(writer.columns(table))
            columns = [column for column in reader.columns(table) if column in wanted]
            writer.write(table, columns, reader.rows(table, columns))
        writer.index(_search_rows(reader.rows("articles", ("id", "title", "body", "tags", "authors"))))
        counts = [TableCount(table, reader.count(table), writer.count(table)) for table in COPIED_TABLES]
        counts.append(TableCount(f"search index ({writer.search_table})", reader.count("articles"),
                                 writer.count(writer.search_table)))  # fmt: skip
        report = MigrationReport(counts)
        if not report.agrees:
            differing = ", ".join(f"{c.table} {c.source} -> {c.target}" for c in counts if not c.agrees)
            raise StoreError(f"{target}: the copy does not match the source ({differing}); nothing was kept")
        writer.finish()
    return report


async def _check_schema(database: Path | str, *, read_only: bool) -> None:
    store = await open_store(database, read_only=read_only)
    await store.close()


@contextlib.contextmanager
def _opened(location: Path | str, *, reading: bool) -> Iterator[_Side]:
    """One side of the copy in its transaction, rolled back unless ``finish`` committed it."""
    if isinstance(location, Path):
        conn = read_only_connection(location) if reading else writable_connection(location)
        try:
            conn.execute("BEGIN")
            yield _SqliteSide(conn)
        except sqlite3.Error as exc:
            raise StoreError(f"{location}: {exc}") from exc
        finally:
            conn.rollback()  # after finish()'s commit, there is nothing left to roll back
            conn.close()
        return
    import psycopg

    try:
        with psycopg.connect(location) as pg:
            if reading:
                pg.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
                pg.read_only = True
            yield _PostgresSide(pg)
    except psycopg.Error as exc:
        raise StoreError(f"{redacted_database(location)}: {type(exc).__name__}: {exc}") from exc


def _search_rows(articles: Iterable[Sequence[Any]]) -> Iterator[tuple[int, str, str]]:
    """(id, title, body, tags, authors) rows as the search index holds them: (id, title column, body)."""
    for article_id, title, body, tags, authors in articles:
        yield article_id, search_title(title, json.loads(tags or "[]"), json.loads(authors or "[]")), index_text(body)


class _SqliteSide:
    search_table = "articles_fts"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def columns(self, table: str) -> list[str]:
        return [row[1] for row in self._conn.execute(f"PRAGMA table_info({table})")]

    def count(self, table: str) -> int:
        return int(self._conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

    def rows(self, table: str, columns: Sequence[str]) -> Iterator[Sequence[Any]]:
        cursor = self._conn.execute(f"SELECT {', '.join(columns)} FROM {table}")
        while batch := cursor.fetchmany(_BATCH):
            yield from batch

    def write(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        marks = ", ".join("?" * len(columns))
        self._conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    def index(self, articles: Iterable[Sequence[Any]]) -> None:
        self._conn.executemany("INSERT INTO articles_fts (rowid, title, body) VALUES (?, ?, ?)", articles)

    def finish(self) -> None:
        self._conn.commit()


class _PostgresSide:
    search_table = "article_search"

    def __init__(self, conn: Any) -> None:  # a psycopg.Connection (psycopg is imported only when needed)
        self._conn = conn

    def columns(self, table: str) -> list[str]:
        cursor = self._conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND table_name = %s ORDER BY ordinal_position",
            [table],
        )
        return [row[0] for row in cursor.fetchall()]

    def count(self, table: str) -> int:
        return int(self._conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

    def rows(self, table: str, columns: Sequence[str]) -> Iterator[Sequence[Any]]:
        with self._conn.cursor(name=f"copy_{table}") as cursor:  # server-side: read in batches
            cursor.itersize = _BATCH
            cursor.execute(f"SELECT {', '.join(columns)} FROM {table}")
            yield from cursor

    def write(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        with self._conn.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([_text_for_postgres(value) for value in row])

    def index(self, articles: Iterable[Sequence[Any]]) -> None:
        from crawler.store.postgres.articles import INDEXED_CHARACTERS, SEARCH_ROW

        rows = iter(articles)
        with self._conn.cursor() as cursor:
            while batch := list(islice(rows, _BATCH)):
                cursor.executemany(SEARCH_ROW, [(article_id, title, body[:INDEXED_CHARACTERS])
                                                for article_id, title, body in batch])  # fmt: skip

    def finish(self) -> None:
        for table in _WITH_IDS:  # new rows continue after the copied ids
            self._conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 0) + 1, false) FROM {table}"
            )
        self._conn.commit()


def _text_for_postgres(value: Any) -> Any:
    """PostgreSQL text cannot hold NUL characters, which SQLite text can: they are dropped."""
    return value.replace("\x00", "") if isinstance(value, str) else value

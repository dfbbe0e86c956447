"""What the read commands and the search show, on PostgreSQL (store/sqlite/views.py's counterpart). Search
runs over the same match-key text as SQLite's FTS5: ts_rank with the title weighing more than the body,
and over SEARCH_RANK_LIMIT matches the newest first, title matches ahead, as there."""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

from psycopg import AsyncConnection

from crawler.events import Event
from crawler.models import HostState
from crawler.search import tsquery_text
from crawler.store.postgres.base import PostgresBase, decode
from crawler.store.values import (
    ArticleHistory,
    ArticleVersion,
    ArticleView,
    EventQuery,
    ExportQuery,
    SavedHost,
    SearchHit,
    SearchQuery,
    SourceOverview,
    StoreStats,
    StreamPosition,
    TemplateRow,
)

__all__ = ["SEARCH_RANK_LIMIT", "ViewsMixin"]

SEARCH_RANK_LIMIT = 20_000
_VIEW_COLUMNS = ", ".join(field.name for field in fields(ArticleView))
_DAY = "substr(COALESCE(published, first_seen), 1, 10)"
_HIT_COLUMNS = "a.id, a.source_id, a.canonical_url, a.title, a.published, a.first_seen, a.body"


class ViewsMixin(PostgresBase):
    async def search(self, query: SearchQuery, rank_limit: int = SEARCH_RANK_LIMIT) -> list[SearchHit]:
        if not query.query.groups:
            return []
        filters, params = ["s.document @@ q.query"], []
        if query.source_id:
            filters.append("a.source_id = %s")
            params.append(query.source_id)
        if query.since:
            filters.append("substr(COALESCE(a.published, a.first_seen), 1, 10) >= %s")
            params.append(query.since)
        # the terms are \w+ words of the index's own alphabet: the tsquery holds no syntax of the user's
        source = (f"FROM article_search s JOIN articles a ON a.id = s.article_id,"
                  f" to_tsquery('simple', %s) AS q (query) WHERE {' AND '.join(filters)}")  # fmt: skip
        words = tsquery_text(query.query)
        async with self._transaction(writes=False) as conn:
            over = await (await conn.execute(
                f"SELECT 1 {source} LIMIT 1 OFFSET %s", [words, *params, rank_limit]
            )).fetchone()  # fmt: skip
            if over is None:
                sql = (f"SELECT {_HIT_COLUMNS}, -ts_rank(s.document, q.query) AS score {source}"
                       " ORDER BY score, a.id DESC LIMIT %s")  # fmt: skip
                return await _hits(conn, sql, [words, *params, query.limit])
            newest = f"SELECT {_HIT_COLUMNS}, NULL::float8 AS score {source} ORDER BY a.id DESC LIMIT %s"
            in_title = await _hits(conn, newest.replace("s.document @@", "s.title @@"), [words, *params, query.limit])
            seen = {hit.id for hit in in_title}
            in_body = [hit for hit in await _hits(conn, newest, [words, *params, query.limit + len(seen)])
                       if hit.id not in seen]  # fmt: skip
            return (in_title + in_body)[: query.limit]

    async def article(self, key: str) -> ArticleView | None:
        number = int(key) if key.isdigit() else None
        async with self._transaction(writes=False) as conn:
            rows = await self._rows(
                conn, f"SELECT {_VIEW_COLUMNS} FROM articles WHERE id = %s OR url = %s OR canonical_url = %s"
                " ORDER BY id LIMIT 1", [number, key, key],
            )  # fmt: skip
        return _view(rows[0]) if rows else None

    async def export_batch(self, query: ExportQuery) -> list[ArticleView]:
        filters: list[str] = ["id > %s"]
        params: list[Any] = [query.after_id]
        for condition, value in (("source_id = %s", query.source_id), (f"{_DAY} >= %s", query.since),
                                 (f"{_DAY} <= %s", query.until)):  # fmt: skip
            if value:
                filters.append(condition)
                params.append(value)
        sql = f"SELECT {_VIEW_COLUMNS} FROM articles WHERE {' AND '.join(filters)} ORDER BY id LIMIT %s"
        async with self._transaction(writes=False) as conn:
            return [_view(row) for row in await self._rows(conn, sql, [*params, query.batch])]

    async def stats(self) -> StoreStats:
        async with self._transaction(writes=False) as conn:

            async def one(sql: str) -> Any:
                row = await (await conn.execute(sql)).fetchone()
                return row[0] if row else 0

            async def pairs(sql: str) -> dict[str, int]:
                cursor = await conn.execute(sql)
                return {str(key): int(value) for key, value in await cursor.fetchall()}

            return StoreStats(
                articles=int(await one("SELECT count(*) FROM articles")),
                versions=int(await one("SELECT count(*) FROM article_versions")),
                articles_per_source=await pairs("SELECT source_id, count(*) FROM articles GROUP BY 1 ORDER BY 1"),
                articles_per_day=await pairs(
                    "SELECT substr(first_seen, 1, 10), count(*) FROM articles WHERE first_seen >="
                    " to_char(now() AT TIME ZONE 'UTC' - interval '13 days', 'YYYY-MM-DD') GROUP BY 1 ORDER BY 1"
                ),
                events_per_type=await pairs("SELECT type, count(*) FROM events GROUP BY 1 ORDER BY 2 DESC, 1"),
                fetches_per_outcome=await pairs("SELECT outcome, count(*) FROM fetches GROUP BY 1 ORDER BY 2 DESC, 1"),
                database_bytes=int(await one("SELECT pg_database_size(current_database())")),
            )

    async def article_history(self, key: str) -> ArticleHistory | None:
        number = int(key) if key.isdigit() else None
        async with self._transaction(writes=False) as conn:
            row = await (await conn.execute(
                "SELECT id, source_id, canonical_url, title, first_seen FROM articles"
                " WHERE id = %s OR url = %s OR canonical_url = %s ORDER BY id LIMIT 1", [number, key, key],
            )).fetchone()  # fmt: skip
            if row is None:
                return None
            cursor = await conn.execute(
                "SELECT version, fetched_at, changed, title, published, modified, body FROM article_versions"
                " WHERE article_id = %s ORDER BY version",
                [row[0]],
            )
            versions = [ArticleVersion(v[0], v[1], json.loads(v[2] or "[]"), v[3], v[4], v[5], v[6] or "")
                        for v in await cursor.fetchall()]  # fmt: skip
        return ArticleHistory(id=row[0], source_id=row[1], canonical_url=row[2], title=row[3], first_seen=row[4],
                              versions=versions)  # fmt: skip

    async def source_overview(self) -> list[SourceOverview]:
        async with self._transaction(writes=False) as conn:
            cursor = await conn.execute(
                "SELECT s.id, s.name, s.enabled, s.state, s.health, s.health_reason, s.consecutive_failures,"
                " s.last_success_at, s.last_error,"
                " (SELECT count(*) FROM articles a WHERE a.source_id = s.id) AS articles,"
                " (SELECT count(*) FROM articles a WHERE a.source_id = s.id AND a.first_seen >="
                " to_char(now() AT TIME ZONE 'UTC' - interval '7 days', 'YYYY-MM-DD\"T\"HH24:MI:SS')) / 7.0 AS per_day,"
                " s.last_warning FROM sources s ORDER BY s.id"
            )
            rows = await cursor.fetchall()
        return [SourceOverview(row[0], row[1], bool(row[2]), row[3], row[4], row[5], int(row[6] or 0), row[7], row[8],
                               int(row[9]), float(row[10]), row[11]) for row in rows]  # fmt: skip

    async def events(self, query: EventQuery) -> list[Event]:
        """Events in stream order, (xact, id), after the query's position, from transactions older than
        every one still running: a transaction that took its ids earlier but commits later is waited for,
        never passed over (its rows would otherwise appear behind a reader that already moved on)."""
        sql = "SELECT type, source_id, article_id, data, ts, id, xact::text::bigint FROM events"
        if query.after is not None:
            sql += " WHERE (xact, id) > (%s::text::xid8, %s)"
            params: list[Any] = [str(query.after.xact), query.after.event_id]
        else:  # after an event named by id: its own transaction's place in the stream
            sql += " WHERE (xact, id) > (COALESCE((SELECT xact FROM events WHERE id = %s), '0'::xid8), %s)"
            params = [query.after_id, query.after_id]
        sql += " AND xact < pg_snapshot_xmin(pg_current_snapshot())"
        if query.source_id:
            sql += " AND source_id = %s"
            params.append(query.source_id)
        if query.types:
            sql += " AND type = ANY(%s)"
            params.append(list(query.types))
        if query.since:
            sql += " AND ts >= %s"
            params.append(query.since)
        async with self._transaction(writes=False) as conn:
            order = " ORDER BY xact DESC, id DESC" if query.newest else " ORDER BY xact, id"
            cursor = await conn.execute(sql + order + " LIMIT %s", [*params, query.limit])
            rows = await cursor.fetchall()
        events = [Event(row[0], row[1], row[2], json.loads(row[3] or "{}"), row[4], row[5], row[6]) for row in rows]
        return events[::-1] if query.newest else events

    async def stream_position(self, reader: str) -> StreamPosition | None:
        async with self._transaction(writes=False) as conn:
            cursor = await conn.execute(
                "SELECT xact::text::bigint, event_id FROM stream_cursors WHERE name = %s", [reader]
            )
            row = await cursor.fetchone()
        return StreamPosition(row[0], row[1]) if row else None

    async def stream_end(self) -> StreamPosition:
        """The position of the last event a reader can see now (the stream's start when there is none)."""
        async with self._transaction(writes=False) as conn:
            cursor = await conn.execute(
                "SELECT xact::text::bigint, id FROM events WHERE xact < pg_snapshot_xmin(pg_current_snapshot())"
                " ORDER BY xact DESC, id DESC LIMIT 1"
            )
            row = await cursor.fetchone()
        return StreamPosition(row[0], row[1]) if row else StreamPosition()

    async def save_stream_position(self, reader: str, position: StreamPosition) -> None:
        async with self._transaction() as conn:
            await conn.execute(
                "INSERT INTO stream_cursors (name, xact, event_id) VALUES (%s, %s::text::xid8, %s)"
                " ON CONFLICT (name) DO UPDATE SET xact = excluded.xact, event_id = excluded.event_id",
                [reader, str(position.xact), position.event_id],
            )

    async def template_rows(self, source_id: str | None = None) -> list[TemplateRow]:
        sql = "SELECT source_id, key, text, articles, sampled, learned_at FROM template_blocks"
        params: list[Any] = []
        if source_id:
            sql, params = sql + " WHERE source_id = %s", [source_id]
        async with self._transaction(writes=False) as conn:
            cursor = await conn.execute(sql + " ORDER BY source_id, articles DESC, key", params)
            return [TemplateRow(*row) for row in await cursor.fetchall()]

    async def hosts(self) -> list[SavedHost]:
        names = [field.name for field in fields(HostState)]
        async with self._transaction(writes=False) as conn:
            cursor = await conn.execute(f"SELECT {', '.join(names)}, updated_at FROM hosts ORDER BY host")
            return [SavedHost(HostState(*row[:-1]), row[-1]) for row in await cursor.fetchall()]


async def _hits(conn: AsyncConnection, sql: str, params: list[Any]) -> list[SearchHit]:
    cursor = await conn.execute(sql, params)
    return [SearchHit(id=row[0], source_id=row[1], canonical_url=row[2], title=row[3], published=row[4],
                      first_seen=row[5], body=row[6] or "", score=row[7]) for row in await cursor.fetchall()]  # fmt: skip


def _view(row: dict[str, Any]) -> ArticleView:
    decoded = decode(row)
    for name in ("authors", "tags"):
        decoded[name] = decoded[name] or []
    decoded["provenance"] = decoded["provenance"] or {}
    decoded["body"] = decoded["body"] or ""
    return ArticleView(**decoded)

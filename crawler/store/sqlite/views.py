"""What the read commands and the search show: full-text search, one article and its history, exports,
figures, sources, events, templates and hosts, each as typed values."""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

from crawler.events import Event
from crawler.models import HostState
from crawler.search import match_expression
from crawler.store.sqlite.base import SqliteBase, decode
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

SEARCH_RANK_LIMIT = 20_000  # a query matching more articles lists the newest first, unranked (search)
_VIEW_COLUMNS = ", ".join(field.name for field in fields(ArticleView))
_DAY = "substr(COALESCE(published, first_seen), 1, 10)"


class ViewsMixin(SqliteBase):
    def search(self, query: SearchQuery, rank_limit: int = SEARCH_RANK_LIMIT) -> list[SearchHit]:
        """Articles matching every term, best first: bm25, a title match weighing 3x a body match. A query
        matching more than ``rank_limit`` articles lists the newest first instead, those with the words in
        their title before the others (``score`` None): bm25 counts every match of each word before scoring
        any (60-90 ms for words in half of a million articles), and among that many the recent ones are what
        a news reader wants."""
        if not query.query.groups:
            return []
        expression = match_expression(query.query)
        filters, params = ["articles_fts MATCH ?"], [expression]
        if query.source_id:
            filters.append("a.source_id = ?")
            params.append(query.source_id)
        if query.since:
            filters.append("substr(COALESCE(a.published, a.first_seen), 1, 10) >= ?")
            params.append(query.since)
        # Rank or order on ids alone, then read the few winners' rows (bodies and all). With filters the index
        # drives (CROSS JOIN) and each match is checked against its article by primary key: filtering with
        # "rowid IN (SELECT ...)" made FTS5 look up every id of the source (8-12 s at 1M articles).
        joined = " CROSS JOIN articles a ON a.id = articles_fts.rowid" if len(filters) > 1 else ""
        where = f"FROM articles_fts{joined} WHERE {' AND '.join(filters)}"
        columns = "a.id, a.source_id, a.canonical_url, a.title, a.published, a.first_seen, a.body, r.score"
        limit = query.limit
        if not self._matches_more_than(expression, rank_limit):
            ranked = (
                f"SELECT articles_fts.rowid AS id, bm25(articles_fts, 3.0, 1.0) AS score {where} ORDER BY score LIMIT ?"
            )
            return self._hits(f"SELECT {columns} FROM ({ranked}) AS r JOIN articles a ON a.id = r.id ORDER BY r.score",
                              [*params, limit])  # fmt: skip
        newest = (f"SELECT {columns} FROM (SELECT articles_fts.rowid AS id, NULL AS score {where}"
                  " ORDER BY articles_fts.rowid DESC LIMIT ?) AS r JOIN articles a ON a.id = r.id ORDER BY a.id DESC")  # fmt: skip
        in_title = self._hits(newest, [match_expression(query.query, column="title"), *params[1:], limit])
        seen = {hit.id for hit in in_title}
        in_body = [hit for hit in self._hits(newest, [*params, limit + len(seen)]) if hit.id not in seen]
        return (in_title + in_body)[:limit]

    def _hits(self, sql: str, params: list[Any]) -> list[SearchHit]:
        return [SearchHit(id=row[0], source_id=row[1], canonical_url=row[2], title=row[3], published=row[4],
                          first_seen=row[5], body=row[6] or "", score=row[7])
                for row in self.db.execute(sql, params).fetchall()]  # fmt: skip

    def _matches_more_than(self, expression: str, count: int) -> bool:
        """Whether more than ``count`` articles match: a walk from the newest match (cheap; counting every
        match is not)."""
        row = self.db.execute(
            "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? ORDER BY rowid DESC LIMIT 1 OFFSET ?",
            [expression, count],
        ).fetchone()
        return row is not None

    def article(self, key: str) -> ArticleView | None:
        """One article by id, URL or canonical URL."""
        number = int(key) if key.isdigit() else None
        rows = self._rows(f"SELECT {_VIEW_COLUMNS} FROM articles WHERE id = ? OR url = ? OR canonical_url = ? LIMIT 1",
                          [number, key, key])  # fmt: skip
        return _view(rows[0]) if rows else None

    def export_batch(self, query: ExportQuery) -> list[ArticleView]:
        """Up to ``query.batch`` articles after ``query.after_id``, in id order (a large database is read a
        batch at a time, from anywhere)."""
        filters: list[str] = ["id > ?"]
        params: list[Any] = [query.after_id]
        for condition, value in (("source_id = ?", query.source_id), (f"{_DAY} >= ?", query.since),
                                 (f"{_DAY} <= ?", query.until)):  # fmt: skip
            if value:
                filters.append(condition)
                params.append(value)
        sql = f"SELECT {_VIEW_COLUMNS} FROM articles WHERE {' AND '.join(filters)} ORDER BY id LIMIT ?"
        return [_view(row) for row in self._rows(sql, [*params, query.batch])]

    def stats(self) -> StoreStats:
        """Articles per source and per day (first seen, last 14 days), events per type, the file's size."""

        def pairs(sql: str) -> dict[str, int]:
            return {str(key): int(value) for key, value in self.db.execute(sql).fetchall()}

        page_size = self.db.execute("PRAGMA page_size").fetchone()[0]
        pages = self.db.execute("PRAGMA page_count").fetchone()[0]
        return StoreStats(
            articles=self.db.execute("SELECT count(*) FROM articles").fetchone()[0],
            versions=self.db.execute("SELECT count(*) FROM article_versions").fetchone()[0],
            articles_per_source=pairs("SELECT source_id, count(*) FROM articles GROUP BY 1 ORDER BY 1"),
            articles_per_day=pairs(
                "SELECT substr(first_seen, 1, 10), count(*) FROM articles"
                " WHERE first_seen >= strftime('%Y-%m-%d', 'now', '-13 days') GROUP BY 1 ORDER BY 1"
            ),
            events_per_type=pairs("SELECT type, count(*) FROM events GROUP BY 1 ORDER BY 2 DESC"),
            fetches_per_outcome=pairs("SELECT outcome, count(*) FROM fetches GROUP BY 1 ORDER BY 2 DESC"),
            database_bytes=page_size * pages,
        )

    def article_history(self, key: str) -> ArticleHistory | None:
        """An article (by id, URL or canonical URL) and its versions, oldest first."""
        number = int(key) if key.isdigit() else None
        row = self.db.execute(
            "SELECT id, source_id, canonical_url, title, first_seen FROM articles"
            " WHERE id = ? OR url = ? OR canonical_url = ? LIMIT 1",
            [number, key, key],
        ).fetchone()
        if row is None:
            return None
        versions = [
            ArticleVersion(v[0], v[1], json.loads(v[2] or "[]"), v[3], v[4], v[5], v[6] or "")
            for v in self.db.execute(
                "SELECT version, fetched_at, changed, title, published, modified, body FROM article_versions"
                " WHERE article_id = ? ORDER BY version",
                [row[0]],
            ).fetchall()
        ]
        return ArticleHistory(id=row[0], source_id=row[1], canonical_url=row[2], title=row[3], first_seen=row[4],
                              versions=versions)  # fmt: skip

    def source_overview(self) -> list[SourceOverview]:
        """Every source with its state, health, last success and articles per day over the last week."""
        rows = self.db.execute(
            "SELECT s.id, s.name, s.enabled, s.state, s.health, s.health_reason, s.consecutive_failures,"
            " s.last_success_at, s.last_error,"
            " (SELECT count(*) FROM articles a WHERE a.source_id = s.id) AS articles,"
            " (SELECT count(*) FROM articles a WHERE a.source_id = s.id AND a.first_seen >= strftime('%Y-%m-%dT%H:%M:%S', 'now', '-7 days'))"
            " / 7.0 AS per_day, s.last_warning FROM sources s ORDER BY s.id"
        ).fetchall()
        return [SourceOverview(row[0], row[1], bool(row[2]), row[3], row[4], row[5], int(row[6] or 0), *row[7:])
                for row in rows]  # fmt: skip

    def events(self, query: EventQuery) -> list[Event]:
        """Stored events after the query's position, oldest first (ids are in commit order here)."""
        sql = "SELECT type, source_id, article_id, data, ts, id FROM events WHERE id > ?"
        params: list[Any] = [query.after.event_id if query.after is not None else query.after_id]
        if query.source_id:
            sql += " AND source_id = ?"
            params.append(query.source_id)
        if query.types:
            sql += f" AND type IN ({','.join('?' * len(query.types))})"
            params.extend(query.types)
        if query.since:
            sql += " AND ts >= ?"
            params.append(query.since)
        order = " ORDER BY id DESC" if query.newest else " ORDER BY id"
        rows = self.db.execute(sql + order + " LIMIT ?", [*params, query.limit]).fetchall()
        events = [Event(row[0], row[1], row[2], json.loads(row[3] or "{}"), row[4], row[5]) for row in rows]
        return events[::-1] if query.newest else events

    def stream_position(self, reader: str) -> StreamPosition | None:
        row = self.db.execute("SELECT event_id FROM stream_cursors WHERE name = ?", [reader]).fetchone()
        return StreamPosition(0, row[0]) if row else None

    def stream_end(self) -> StreamPosition:
        return StreamPosition(0, self.db.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0])

    def template_rows(self, source_id: str | None = None) -> list[TemplateRow]:
        sql = "SELECT source_id, key, text, articles, sampled, learned_at FROM template_blocks"
        params: list[Any] = []
        if source_id:
            sql, params = sql + " WHERE source_id = ?", [source_id]
        return [TemplateRow(*row) for row in self.db.execute(sql + " ORDER BY source_id, articles DESC", params)]

    def hosts(self) -> list[SavedHost]:
        names = [field.name for field in fields(HostState)]
        rows = self.db.execute(f"SELECT {', '.join(names)}, updated_at FROM hosts ORDER BY host").fetchall()
        return [SavedHost(HostState(*row[:-1]), row[-1]) for row in rows]


def _view(row: dict[str, Any]) -> ArticleView:
    decoded = decode(row)
    for name in ("authors", "tags"):
        decoded[name] = decoded[name] or []
    decoded["provenance"] = decoded["provenance"] or {}
    decoded["body"] = decoded["body"] or ""
    return ArticleView(**decoded)

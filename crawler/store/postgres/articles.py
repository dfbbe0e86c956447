"""Articles on PostgreSQL: the same reads and writes as store/sqlite/articles.py, the same decisions
(crawler.decide), one transaction per save. Two workers saving the same new article at once: one insert
wins the canonical URL's unique index, the other's transaction is run again and finds it stored."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, replace
from typing import Any

from psycopg import AsyncConnection, errors

from crawler.decide import (
    ArticleChange,
    claim_needs_proof,
    decide_article,
    duplicate_link,
    nearest_duplicate,
    removal_event,
    restoration_event,
)
from crawler.errors import StoreError
from crawler.events import Event
from crawler.extract.templates import TemplateBlock, learn_template
from crawler.models import ArticleRecord, Validators
from crawler.neardup import band_keys
from crawler.normalize import identity_claim_holds
from crawler.search import index_text, search_title
from crawler.store.postgres.base import PostgresBase, encode
from crawler.store.values import FetchRecord, KnownArticle, SaveResult, StoredArticle

__all__ = ["INDEXED_CHARACTERS", "SEARCH_ROW", "ArticlesMixin"]
logger = logging.getLogger("crawler.store")

NEAR_DUP_CANDIDATES = 200
# A tsvector holds at most 1 MB and positions up to 16,383: the first 300,000 characters of a body's index
# text are indexed (a long feature's whole text; SQLite's FTS5 indexes all of it).
INDEXED_CHARACTERS = 300_000
# An article's search row from its match-key title and body (search.index_text): id, title, body.
SEARCH_ROW = (
    "INSERT INTO article_search (article_id, title, document)"
    " SELECT v.id, to_tsvector('simple', v.title),"
    " setweight(to_tsvector('simple', v.title), 'A') || setweight(to_tsvector('simple', v.body), 'B')"
    " FROM (VALUES (%s::bigint, %s::text, %s::text)) AS v (id, title, body)"
    " ON CONFLICT (article_id) DO UPDATE SET title = excluded.title, document = excluded.document"
)
_STORED_FIELDS = (
    "source_id", "url", "canonical_url", "title", "published", "modified", "authors", "section", "tags", "language",
    "image", "site_name", "description", "body", "content_hash", "etag", "last_modified", "provenance",
    "published_text", "modified_text",
)  # fmt: skip
_ARTICLE_FIELDS = (
    "title", "published", "modified", "authors", "section", "tags", "language", "image", "site_name",
    "description", "body", "provenance", "published_text", "modified_text",
)  # fmt: skip
_VERSION_FIELDS = ("title", "published", "modified", "authors", "section", "tags", "image", "description", "body")
_KNOWN_COLUMNS = "id, url, canonical_url, last_checked, etag, last_modified, first_seen, removed_at"
_STORED_COLUMNS = (
    "id, url, canonical_url, source_id, content_hash, versions, title, body, published, modified, authors, section,"
    " tags, image"
)


class ArticlesMixin(PostgresBase):
    async def known_articles(self, urls: list[str]) -> dict[str, KnownArticle]:
        found: dict[str, KnownArticle] = {}
        async with self._transaction(writes=False) as conn:
            for start in range(0, len(urls), 1000):
                chunk = urls[start : start + 1000]
                asked = set(chunk)
                cursor = await conn.execute(
                    f"SELECT {_KNOWN_COLUMNS} FROM articles WHERE url = ANY(%s) OR canonical_url = ANY(%s)",
                    [chunk, chunk],
                )
                for row in await cursor.fetchall():
                    known = KnownArticle(*row)
                    for key in (known.url, known.canonical_url):
                        if key in asked:
                            found[key] = known
        return found

    async def due_articles(self, source_id: str, now: str, limit: int, everything: bool = False) -> list[KnownArticle]:
        sql = f"SELECT {_KNOWN_COLUMNS} FROM articles WHERE source_id = %s" + (
            "" if everything else " AND next_check IS NOT NULL AND next_check <= %s"
        )
        params: list[Any] = [source_id] if everything else [source_id, now]
        async with self._transaction(writes=False) as conn:
            cursor = await conn.execute(sql + " ORDER BY next_check LIMIT %s", [*params, limit])
            return [KnownArticle(*row) for row in await cursor.fetchall()]

    async def save_article(
        self, record: ArticleRecord, now: str, template: frozenset[str] = frozenset(), next_check: str | None = None,
        fetch: FetchRecord | None = None,
    ) -> SaveResult:  # fmt: skip
        """decide_article's change written with its version, search row, fetch row and events, in one
        transaction (run once more when another writer inserted the same article meanwhile)."""
        for attempt in (1, 2):
            try:
                async with self._transaction() as conn:
                    if fetch is not None:
                        await self._insert(conn, "fetches", asdict(fetch))
                    return await self._save(conn, record, now, template, next_check)
            except StoreError as exc:
                if attempt == 2 or not isinstance(exc.__cause__, errors.UniqueViolation):
                    raise
        raise AssertionError("unreachable")

    async def _save(
        self, conn: AsyncConnection, record: ArticleRecord, now: str, template: frozenset[str], next_check: str | None
    ) -> SaveResult:
        current = await self._stored_article(conn, record.canonical_url, record.url)
        if claim_needs_proof(current, record) and current is not None:
            cursor = await conn.execute("SELECT signature FROM near_dup_signatures WHERE article_id = %s", [current.id])
            row = await cursor.fetchone()
            signature = bytes(row[0]) if row else None
            if not identity_claim_holds(current.url, current.source_id, signature, record):
                logger.info("%s declares %s as its canonical URL, another article's: kept apart under its own URL",
                            record.url, record.canonical_url)  # fmt: skip
                record = replace(record, canonical_url=record.url)
                current = await self._stored_article(conn, record.url, record.url)
        change = decide_article(current, record, template, now)
        if change.kind == "new":
            return await self._insert_article(conn, change, record, now, next_check)
        assert change.article_id is not None
        article_id = change.article_id
        if change.kind == "unchanged":
            await conn.execute(
                "UPDATE articles SET last_seen = %s, last_checked = %s, etag = %s, last_modified = %s, next_check = %s"
                " WHERE id = %s",
                [now, now, record.etag, record.last_modified, next_check, article_id],
            )
            return SaveResult("unchanged", article_id)
        update = encode({name: getattr(record, name) for name in _ARTICLE_FIELDS})
        update.update(content_hash=record.content_hash, last_seen=now, last_checked=now, etag=record.etag,
                      last_modified=record.last_modified, next_check=next_check)  # fmt: skip
        if change.kind == "updated":
            update.update(versions=change.version, last_changed=now)
        assignments = ", ".join(f"{name} = %s" for name in update)
        await conn.execute(f"UPDATE articles SET {assignments} WHERE id = %s", [*update.values(), article_id])
        await self._index(conn, article_id, record)
        if change.kind == "refreshed":
            return SaveResult("unchanged", article_id)
        await self._insert_version(conn, article_id, change.version, record, now, list(change.changed))
        return SaveResult("updated", article_id, tuple([await self._insert_event(conn, e) for e in change.events]))

    async def _insert_article(
        self, conn: AsyncConnection, change: ArticleChange, record: ArticleRecord, now: str, next_check: str | None
    ) -> SaveResult:
        values = encode({name: getattr(record, name) for name in _STORED_FIELDS})
        values.update(first_seen=now, last_seen=now, last_checked=now, last_changed=now, versions=1,
                      next_check=next_check)  # fmt: skip
        article_id = await self._insert(conn, "articles", values)
        await self._index(conn, article_id, record)
        duplicate = await self._link_duplicate(conn, article_id, record, now)
        await self._insert_version(conn, article_id, 1, record, now, changed=[])
        events = [replace(event, article_id=article_id) for event in change.events]
        if duplicate is not None:
            events.append(replace(duplicate, article_id=article_id))
        return SaveResult("new", article_id, tuple([await self._insert_event(conn, event) for event in events]))

    async def _index(self, conn: AsyncConnection, article_id: int, record: ArticleRecord) -> None:
        title, body = record.search_form or (search_title(record.title, record.tags, record.authors),
                                             index_text(record.body))  # fmt: skip
        await conn.execute(SEARCH_ROW, [article_id, title, body[:INDEXED_CHARACTERS]])

    async def _link_duplicate(
        self, conn: AsyncConnection, article_id: int, record: ArticleRecord, now: str
    ) -> Event | None:
        if record.signature is None:
            return None
        bands = band_keys(record.signature)
        cursor = await conn.execute(
            "SELECT article_id, signature FROM near_dup_signatures WHERE article_id IN"
            " (SELECT article_id FROM near_dup_bands WHERE band = ANY(%s)) AND source_id != %s"
            " ORDER BY article_id DESC LIMIT %s",
            [bands, record.source_id, NEAR_DUP_CANDIDATES],
        )
        candidates = [(row[0], bytes(row[1])) for row in await cursor.fetchall()]
        await conn.execute(
            "INSERT INTO near_dup_signatures (article_id, source_id, signature) VALUES (%s, %s, %s)",
            [article_id, record.source_id, record.signature],
        )
        async with conn.cursor() as many:
            await many.executemany(
                "INSERT INTO near_dup_bands (band, article_id) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                [(band, article_id) for band in bands],
            )
        nearest = nearest_duplicate(record.signature, candidates)
        if nearest is None:
            return None
        other_id, score = nearest
        row = await (await conn.execute(
            "SELECT canonical_url, COALESCE(story_id, id) FROM articles WHERE id = %s", [other_id]
        )).fetchone()  # fmt: skip
        assert row is not None
        link = duplicate_link(record, other_id, row[0], row[1], score, now)
        await conn.execute("UPDATE articles SET story_id = %s WHERE id = %s", [link.story_id, article_id])
        return link.event

    async def _insert_version(
        self, conn: AsyncConnection, article_id: int, version: int, record: ArticleRecord, now: str, changed: list[str]
    ) -> None:
        values = encode({name: getattr(record, name) for name in _VERSION_FIELDS})
        values.update(article_id=article_id, version=version, fetched_at=now, content_hash=record.content_hash,
                      changed=json.dumps(changed))  # fmt: skip
        await self._insert(conn, "article_versions", values)

    async def _stored_article(self, conn: AsyncConnection, canonical_url: str, url: str) -> StoredArticle | None:
        """The stored article with this canonical URL, else the one fetched at this URL; its row locked
        until the transaction ends, so two writers of one article take turns."""
        cursor = await conn.execute(
            f"SELECT {_STORED_COLUMNS} FROM articles WHERE canonical_url = %s OR url = %s"
            " ORDER BY canonical_url = %s DESC, id LIMIT 1 FOR UPDATE",
            [canonical_url, url, canonical_url],
        )
        row = await cursor.fetchone()
        if row is None:
            return None
        return StoredArticle(id=row[0], url=row[1], canonical_url=row[2], source_id=row[3], content_hash=row[4],
                             versions=int(row[5] or 1), title=row[6], body=row[7] or "", published=row[8],
                             modified=row[9], authors=json.loads(row[10] or "[]"), section=row[11],
                             tags=json.loads(row[12] or "[]"), image=row[13])  # fmt: skip

    async def mark_checked(
        self, article_id: int, validators: Validators, now: str, next_check: str | None = None
    ) -> None:
        async with self._transaction() as conn:
            await conn.execute(
                "UPDATE articles SET last_seen = %s, last_checked = %s, etag = COALESCE(%s, etag),"
                " last_modified = COALESCE(%s, last_modified), next_check = %s WHERE id = %s",
                [now, now, validators.etag, validators.last_modified, next_check, article_id],
            )

    async def mark_removed(self, article_id: int, now: str, reason: str, next_check: str | None) -> Event | None:
        async with self._transaction() as conn:
            row = await (await conn.execute(
                "SELECT source_id, canonical_url, removed_at FROM articles WHERE id = %s FOR UPDATE", [article_id]
            )).fetchone()  # fmt: skip
            await conn.execute(
                "UPDATE articles SET next_check = %s, last_checked = %s WHERE id = %s", [next_check, now, article_id]
            )
            event = removal_event(article_id, row[0], row[1], row[2], reason, now) if row else None
            if event is None:
                return None
            await conn.execute("UPDATE articles SET removed_at = %s WHERE id = %s", [now, article_id])
            return await self._insert_event(conn, event)

    async def mark_restored(self, article_id: int, now: str) -> Event | None:
        async with self._transaction() as conn:
            row = await (await conn.execute(
                "SELECT source_id, canonical_url, removed_at FROM articles WHERE id = %s FOR UPDATE", [article_id]
            )).fetchone()  # fmt: skip
            event = restoration_event(article_id, row[0], row[1], row[2], now) if row else None
            if event is None:
                return None
            await conn.execute("UPDATE articles SET removed_at = NULL WHERE id = %s", [article_id])
            return await self._insert_event(conn, event)

    async def template_keys(self, source_id: str) -> frozenset[str]:
        async with self._transaction(writes=False) as conn:
            cursor = await conn.execute("SELECT key FROM template_blocks WHERE source_id = %s", [source_id])
            return frozenset(row[0] for row in await cursor.fetchall())

    async def learn_template(self, source_id: str, now: str, sample: int = 100) -> list[TemplateBlock]:
        async with self._transaction() as conn:
            cursor = await conn.execute(
                "SELECT body FROM articles WHERE source_id = %s AND body != '' ORDER BY first_seen DESC, id DESC"
                " LIMIT %s",
                [source_id, sample],
            )
            bodies = [row[0] for row in await cursor.fetchall()]
            cursor = await conn.execute("SELECT key FROM template_blocks WHERE source_id = %s", [source_id])
            known = {row[0] for row in await cursor.fetchall()}
            fresh = [block for block in learn_template(bodies) if block.key not in known]
            for b in fresh:
                await conn.execute(
                    "INSERT INTO template_blocks (source_id, key, text, articles, sampled, learned_at)"
                    " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                    [source_id, b.key, b.text, b.articles, b.sampled, now],
                )
            return fresh

    async def reset_template(self, source_id: str) -> int:
        async with self._transaction() as conn:
            return (await conn.execute("DELETE FROM template_blocks WHERE source_id = %s", [source_id])).rowcount

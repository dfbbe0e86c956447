"""Articles: what is stored, saving a fetched version as decided (decide.articles), re-check marks,
near-duplicate bands, versions and the search-index row, and the sites' learned templates."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, replace
from typing import Any

from crawler.decide import (
    ArticleChange,
    claim_needs_proof,
    decide_article,
    duplicate_link,
    nearest_duplicate,
    removal_event,
    restoration_event,
)
from crawler.events import Event
from crawler.extract.templates import TemplateBlock, learn_template
from crawler.models import ArticleRecord, Validators
from crawler.neardup import band_keys
from crawler.normalize import identity_claim_holds
from crawler.search import index_text, search_title
from crawler.store.sqlite.base import SqliteBase, encode
from crawler.store.values import FetchRecord, KnownArticle, SaveResult, StoredArticle

__all__ = ["NEAR_DUP_CANDIDATES", "STORED_FIELDS", "ArticlesMixin"]
logger = logging.getLogger("crawler.store")

NEAR_DUP_CANDIDATES = 200  # newest articles sharing a band compared at most (a band common to thousands says little)
STORED_FIELDS = (
    "source_id", "url", "canonical_url", "title", "published", "modified", "authors", "section", "tags", "language",
    "image", "site_name", "description", "body", "content_hash", "etag", "last_modified", "provenance",
    "published_text", "modified_text",
)  # ArticleRecord fields with an articles column (the signature and search form are stored elsewhere)  # fmt: skip
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


class ArticlesMixin(SqliteBase):
    def known_articles(self, urls: list[str]) -> dict[str, KnownArticle]:
        """Stored articles matching any of urls (by fetched or canonical URL), keyed by the given url."""
        found: dict[str, KnownArticle] = {}
        for start in range(0, len(urls), 400):
            chunk = urls[start : start + 400]
            asked = set(chunk)
            marks = ",".join("?" * len(chunk))
            cursor = self.db.execute(
                f"SELECT {_KNOWN_COLUMNS} FROM articles WHERE url IN ({marks}) OR canonical_url IN ({marks})",
                chunk + chunk,
            )
            for row in cursor.fetchall():
                known = KnownArticle(*row)
                for key in (known.url, known.canonical_url):
                    if key in asked:
                        found[key] = known
        return found

    def due_articles(self, source_id: str, now: str, limit: int, everything: bool = False) -> list[KnownArticle]:
        """The source's stored articles whose next re-check is due (all of them with ``everything``),
        the most overdue first."""
        sql = f"SELECT {_KNOWN_COLUMNS} FROM articles WHERE source_id = ?" + (
            "" if everything else " AND next_check IS NOT NULL AND next_check <= ?"
        )
        params: list[Any] = [source_id] if everything else [source_id, now]
        rows = self.db.execute(sql + " ORDER BY next_check LIMIT ?", [*params, limit]).fetchall()
        return [KnownArticle(*row) for row in rows]

    def save_article(
        self, record: ArticleRecord, now: str, template: frozenset[str] = frozenset(), next_check: str | None = None,
        fetch: FetchRecord | None = None,
    ) -> SaveResult:  # fmt: skip
        """Write what decide_article makes of the record against the stored article, with its version,
        search row and events, in one transaction. ``next_check`` is the article's next scheduled re-check;
        ``fetch``, the page's fetch-log row, written in the same call (one trip to the store thread)."""
        with self._atomic():
            if fetch is not None:
                self._insert("fetches", asdict(fetch))
            current = self._stored_article(record.canonical_url, record.url)
            if claim_needs_proof(current, record) and current is not None:
                signature = self.db.execute(
                    "SELECT signature FROM near_dup_signatures WHERE article_id = ?", [current.id]
                ).fetchone()
                if not identity_claim_holds(current.url, current.source_id, signature and signature[0], record):
                    logger.info("%s declares %s as its canonical URL, another article's: kept apart under its own URL",
                                record.url, record.canonical_url)  # fmt: skip
                    record = replace(record, canonical_url=record.url)
                    current = self._stored_article(record.url, record.url)
            change = decide_article(current, record, template, now)
            return self._apply(change, record, now, next_check)

    def _apply(self, change: ArticleChange, record: ArticleRecord, now: str, next_check: str | None) -> SaveResult:
        if change.kind == "new":
            return self._insert_article(change, record, now, next_check)
        assert change.article_id is not None
        article_id = change.article_id
        if change.kind == "unchanged":
            self.db.execute(
                "UPDATE articles SET last_seen = ?, last_checked = ?, etag = ?, last_modified = ?, next_check = ?"
                " WHERE id = ?",
                [now, now, record.etag, record.last_modified, next_check, article_id],
            )
            return SaveResult("unchanged", article_id)
        update = encode({name: getattr(record, name) for name in _ARTICLE_FIELDS})
        update.update(content_hash=record.content_hash, last_seen=now, last_checked=now, etag=record.etag,
                      last_modified=record.last_modified, next_check=next_check)  # fmt: skip
        if change.kind == "updated":
            update.update(versions=change.version, last_changed=now)
        self.db.table("articles").update(article_id, update)
        self._index(article_id, *_search_form(record))
        if change.kind == "refreshed":  # the newly extracted form of an unchanged article (template blocks gone)
            return SaveResult("unchanged", article_id)
        self._insert_version(article_id, change.version, record, now, list(change.changed))
        return SaveResult("updated", article_id, tuple(self._insert_event(event) for event in change.events))

    def _insert_article(
        self, change: ArticleChange, record: ArticleRecord, now: str, next_check: str | None
    ) -> SaveResult:
        values = encode({name: getattr(record, name) for name in STORED_FIELDS})
        values.update(first_seen=now, last_seen=now, last_checked=now, last_changed=now, versions=1,
                      next_check=next_check)  # fmt: skip
        article_id = self._insert("articles", values)
        self._index(article_id, *_search_form(record), new=True)
        duplicate = self._link_duplicate(article_id, record, now)
        self._insert_version(article_id, 1, record, now, changed=[])
        events = [replace(event, article_id=article_id) for event in change.events]
        if duplicate is not None:
            events.append(replace(duplicate, article_id=article_id))
        return SaveResult("new", article_id, tuple(self._insert_event(event) for event in events))

    def _link_duplicate(self, article_id: int, record: ArticleRecord, now: str) -> Event | None:
        """Record the new article's LSH bands; if another source stored a near-identical body first
        (decide.nearest_duplicate), join its story and return the article_duplicate event to write."""
        if record.signature is None:
            return None
        bands = band_keys(record.signature)
        marks = ",".join("?" * len(bands))
        candidates = self.db.execute(
            "SELECT article_id, signature FROM near_dup_signatures WHERE article_id IN"
            f" (SELECT article_id FROM near_dup_bands WHERE band IN ({marks})) AND source_id != ?"
            " ORDER BY article_id DESC LIMIT ?",
            [*bands, record.source_id, NEAR_DUP_CANDIDATES],
        ).fetchall()
        self.db.execute(
            "INSERT INTO near_dup_signatures (article_id, source_id, signature) VALUES (?, ?, ?)",
            [article_id, record.source_id, record.signature],
        )
        self.db.conn.executemany(
            "INSERT INTO near_dup_bands (band, article_id) VALUES (?, ?)", [(band, article_id) for band in bands]
        )
        nearest = nearest_duplicate(record.signature, [(row[0], row[1]) for row in candidates])
        if nearest is None:
            return None
        other_id, score = nearest
        other_url, story_id = self.db.execute(
            "SELECT canonical_url, COALESCE(story_id, id) FROM articles WHERE id = ?", [other_id]
        ).fetchone()
        link = duplicate_link(record, other_id, other_url, story_id, score, now)
        self.db.execute("UPDATE articles SET story_id = ? WHERE id = ?", [link.story_id, article_id])
        return link.event

    def _insert_version(
        self, article_id: int, version: int, record: ArticleRecord, now: str, changed: list[str]
    ) -> None:
        values = encode({name: getattr(record, name) for name in _VERSION_FIELDS})
        values.update(article_id=article_id, version=version, fetched_at=now, content_hash=record.content_hash,
                      changed=json.dumps(changed))  # fmt: skip
        self._insert("article_versions", values)

    def _stored_article(self, canonical_url: str, url: str) -> StoredArticle | None:
        """The stored article with this canonical URL, else the one fetched at this URL."""
        row = self.db.execute(
            f"SELECT {_STORED_COLUMNS} FROM articles WHERE canonical_url = ? OR url = ?"
            " ORDER BY canonical_url = ? DESC LIMIT 1",
            [canonical_url, url, canonical_url],
        ).fetchone()
        if row is None:
            return None
        return StoredArticle(id=row[0], url=row[1], canonical_url=row[2], source_id=row[3], content_hash=row[4],
                             versions=int(row[5] or 1), title=row[6], body=row[7] or "", published=row[8], modified=row[9],
                             authors=json.loads(row[10] or "[]"), section=row[11], tags=json.loads(row[12] or "[]"),
                             image=row[13])  # fmt: skip

    # --- re-checks ---------------------------------------------------------------------------------------

    def mark_checked(self, article_id: int, validators: Validators, now: str, next_check: str | None = None) -> None:
        """A re-check answered 304: the article is unchanged; ``next_check`` is its next scheduled one."""
        with self._atomic():
            self.db.execute(
                "UPDATE articles SET last_seen = ?, last_checked = ?, etag = COALESCE(?, etag), "
                "last_modified = COALESCE(?, last_modified), next_check = ? WHERE id = ?",
                [now, now, validators.etag, validators.last_modified, next_check, article_id],
            )

    def mark_removed(self, article_id: int, now: str, reason: str, next_check: str | None) -> Event | None:
        """A stored article is gone (404/410, or sent to the home page): its versions stay, and it keeps
        being re-checked so a return is noticed; article_removed the first time (decide.removal_event)."""
        with self._atomic():
            row = self.db.execute(
                "SELECT source_id, canonical_url, removed_at FROM articles WHERE id = ?", [article_id]
            ).fetchone()
            self.db.execute(
                "UPDATE articles SET next_check = ?, last_checked = ? WHERE id = ?", [next_check, now, article_id]
            )
            event = removal_event(article_id, row[0], row[1], row[2], reason, now) if row else None
            if event is None:
                return None
            self.db.execute("UPDATE articles SET removed_at = ? WHERE id = ?", [now, article_id])
            return self._insert_event(event)

    def mark_restored(self, article_id: int, now: str) -> Event | None:
        """A removed article answered again (decide.restoration_event)."""
        with self._atomic():
            row = self.db.execute(
                "SELECT source_id, canonical_url, removed_at FROM articles WHERE id = ?", [article_id]
            ).fetchone()
            event = restoration_event(article_id, row[0], row[1], row[2], now) if row else None
            if event is None:
                return None
            self.db.execute("UPDATE articles SET removed_at = NULL WHERE id = ?", [article_id])
            return self._insert_event(event)

    # --- site templates ----------------------------------------------------------------------------------

    def template_keys(self, source_id: str) -> frozenset[str]:
        rows = self.db.execute("SELECT key FROM template_blocks WHERE source_id = ?", [source_id]).fetchall()
        return frozenset(row[0] for row in rows)

    def learn_template(self, source_id: str, now: str, sample: int = 100) -> list[TemplateBlock]:
        """Learn from the source's newest stored bodies; blocks once learned stay until reset (their later
        absence from bodies is the template working, not a reason to forget them). Returns new blocks."""
        bodies = [row[0] for row in self.db.execute(
            "SELECT body FROM articles WHERE source_id = ? AND body != '' ORDER BY first_seen DESC, id DESC LIMIT ?",
            [source_id, sample],
        ).fetchall()]  # fmt: skip
        known = self.template_keys(source_id)
        fresh = [block for block in learn_template(bodies) if block.key not in known]
        with self._atomic():
            self.db.table("template_blocks").upsert_all(
                [{"source_id": source_id, "key": b.key, "text": b.text, "articles": b.articles, "sampled": b.sampled,
                  "learned_at": now} for b in fresh],
                pk=("source_id", "key"),
            )  # fmt: skip
        return fresh

    def reset_template(self, source_id: str) -> int:
        with self._atomic():
            return self.db.execute("DELETE FROM template_blocks WHERE source_id = ?", [source_id]).rowcount


def _search_form(record: ArticleRecord) -> tuple[str, str]:
    return record.search_form or (search_title(record.title, record.tags, record.authors), index_text(record.body))

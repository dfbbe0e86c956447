"""The SQLite schema: sqlite-utils migrations, applied in order when a database is opened for writing.
A migration once released is never edited: a change is a new one."""

from __future__ import annotations

import json

from crawler.search import FTS_TOKENIZER, index_text, search_title
from crawler.store.sqlite.connection import Database, Migrations

__all__ = ["migrations"]

migrations = Migrations("crawler")


@migrations()
def m001_initial(db: Database) -> None:
    db.table("sources").create(
        {"id": str, "name": str, "enabled": int, "state": str, "consecutive_failures": int, "last_run_at": str,
         "last_success_at": str, "last_error": str, "created_at": str},
        pk="id", not_null={"name", "state"}, defaults={"state": "ok", "consecutive_failures": 0, "enabled": 1},
    )  # fmt: skip
    db.table("articles").create(
        {"id": int, "source_id": str, "url": str, "canonical_url": str, "title": str, "published": str,
         "modified": str, "authors": str, "section": str, "tags": str, "language": str, "image": str,
         "site_name": str, "description": str, "body": str, "content_hash": str, "versions": int,
         "first_seen": str, "last_seen": str, "last_checked": str, "last_changed": str, "etag": str,
         "last_modified": str},
        pk="id", not_null={"source_id", "url", "canonical_url", "content_hash"}, foreign_keys=[("source_id", "sources")],
    )  # fmt: skip
    db.table("articles").create_index(["canonical_url"], unique=True)
    db.table("articles").create_index(["url"])
    db.table("articles").create_index(["source_id", "first_seen"])
    db.table("article_versions").create(
        {"id": int, "article_id": int, "version": int, "fetched_at": str, "content_hash": str, "changed": str,
         "title": str, "published": str, "modified": str, "authors": str, "section": str, "tags": str,
         "image": str, "description": str, "body": str},
        pk="id", not_null={"article_id", "version", "content_hash"}, foreign_keys=[("article_id", "articles")],
    )  # fmt: skip
    db.table("article_versions").create_index(["article_id", "version"], unique=True)
    db.table("events").create(
        {"id": int, "ts": str, "type": str, "source_id": str, "article_id": int, "data": str},
        pk="id", not_null={"ts", "type"},
    )  # fmt: skip
    db.table("events").create_index(["ts"])
    db.table("events").create_index(["type", "ts"])
    db.table("fetches").create(
        {"id": int, "ts": str, "source_id": str, "url": str, "kind": str, "status": int, "outcome": str,
         "bytes": int, "ms": float, "error": str},
        pk="id", not_null={"ts", "url", "kind", "outcome"},
    )  # fmt: skip
    db.table("fetches").create_index(["source_id", "ts"])
    db.table("discovery_pages").create(
        {"url": str, "source_id": str, "kind": str, "etag": str, "last_modified": str, "links": str,
         "last_fetched": str, "last_status": int},
        pk="url",
    )  # fmt: skip


@migrations()
def m002_provenance(db: Database) -> None:
    """Where each extracted field came from (JSON object: field → source label)."""
    db.table("articles").add_column("provenance", str)


@migrations()
def m003_template_blocks(db: Database) -> None:
    """Blocks learned as a source's site template (crawler/extract/templates.py)."""
    db.table("template_blocks").create(
        {"source_id": str, "key": str, "text": str, "articles": int, "sampled": int, "learned_at": str},
        pk=("source_id", "key"), not_null={"text"},
    )  # fmt: skip


@migrations()
def m004_search_index(db: Database) -> None:
    """FTS5 over titles and bodies in match-key form (crawler/search.py), rowid = articles.id."""
    db.execute(f'CREATE VIRTUAL TABLE articles_fts USING fts5(title, body, tokenize = "{FTS_TOKENIZER}")')
    rows = db.execute("SELECT id, title, body FROM articles").fetchall()
    db.conn.executemany(
        "INSERT INTO articles_fts (rowid, title, body) VALUES (?, ?, ?)",
        [(article_id, index_text(title), index_text(body)) for article_id, title, body in rows],
    )


@migrations()
def m005_date_texts(db: Database) -> None:
    """Dates are stored as UTC instants from now on; the strings the page wrote go beside them."""
    db.table("articles").add_column("published_text", str)
    db.table("articles").add_column("modified_text", str)


@migrations()
def m006_recheck_schedule(db: Database) -> None:
    """When each article is next re-checked (by its age), and when it was found removed."""
    db.table("articles").add_column("next_check", str)
    db.table("articles").add_column("removed_at", str)
    db.table("articles").create_index(["source_id", "next_check"])


@migrations()
def m007_source_health(db: Database) -> None:
    """Extraction quality and freshness per source, against its own history."""
    db.table("sources").add_column("baselines", str)  # JSON: the source's usual extraction signals, while healthy
    db.table("sources").add_column("health", str)  # null, "degraded" or "stale"
    db.table("sources").add_column("health_reason", str)


@migrations()
def m008_near_duplicates(db: Database) -> None:
    """MinHash signatures, their LSH bands, and the story an article belongs to (crawler/neardup.py)."""
    db.table("articles").add_column("signature", bytes)
    db.table("articles").add_column("story_id", int)
    db.table("near_dup_bands").create({"band": str, "article_id": int})
    db.table("near_dup_bands").create_index(["band"])


@migrations()
def m009_failure_score(db: Database) -> None:
    """Failed runs weighted by kind (crawler.models.RunSummary.failure_weight)."""
    db.table("sources").add_column("failure_score", float)


@migrations()
def m010_hosts(db: Database) -> None:
    """The fetcher's politeness state per host, saved after every source run (``crawler hosts``)."""
    db.table("hosts").create(
        {"host": str, "delay_s": float, "backoff_s": float, "blocked_until": str, "last_status": int,
         "last_error": str, "last_at": str, "requests": int, "failures": int, "robots": str, "updated_at": str},
        pk="host",
    )  # fmt: skip


@migrations()
def m011_child_sitemaps(db: Database) -> None:
    """A sitemap index's children, kept like its links so a 304 on the index still visits them. Stored
    validators are dropped, so every index is read in full once and its children recorded."""
    db.table("discovery_pages").add_column("children", str)
    db.execute("UPDATE discovery_pages SET etag = NULL, last_modified = NULL WHERE kind = 'sitemap'")


@migrations()
def m012_signature_table(db: Database) -> None:
    """Signatures move out of the articles row: read there, each candidate's 256 bytes sat behind its
    body's overflow pages, and the duplicate check slowed as the database grew."""
    db.table("near_dup_signatures").create(
        {"article_id": int, "source_id": str, "signature": bytes}, pk="article_id", not_null={"source_id", "signature"}
    )  # fmt: skip
    db.execute(
        "INSERT INTO near_dup_signatures (article_id, source_id, signature)"
        " SELECT id, source_id, signature FROM articles WHERE signature IS NOT NULL"
    )
    db.execute("UPDATE articles SET signature = NULL WHERE signature IS NOT NULL")


@migrations()
def m013_band_index(db: Database) -> None:
    """Bands as one B-tree keyed by (band, article_id): the band index held no article ids, so finding a new
    article's candidates read a row of the bands table per match, at random (at 1M articles half of the
    store thread's time went to those reads)."""
    db.execute(
        "CREATE TABLE near_dup_bands_keyed (band TEXT NOT NULL, article_id INTEGER NOT NULL,"
        " PRIMARY KEY (band, article_id)) WITHOUT ROWID"
    )
    db.execute(
        "INSERT OR IGNORE INTO near_dup_bands_keyed SELECT band, article_id FROM near_dup_bands ORDER BY band, article_id"
    )
    db.execute("DROP TABLE near_dup_bands")
    db.execute("ALTER TABLE near_dup_bands_keyed RENAME TO near_dup_bands")


@migrations()
def m014_stream_cursors(db: Database) -> None:
    """How far a named reader of the events stream has read (the cluster's sinks; PostgreSQL has the same)."""
    db.table("stream_cursors").create({"name": str, "event_id": int}, pk="name", not_null={"event_id"})


@migrations()
def m015_search_plurals_tags_authors(db: Database) -> None:
    """The search index again: Latin plurals carry their singular, and tags and authors are searchable
    with the title (crawler/search.py). Read and written in batches: bodies never all in memory at once."""
    db.execute("DELETE FROM articles_fts")
    cursor = db.conn.execute("SELECT id, title, body, tags, authors FROM articles")
    while batch := cursor.fetchmany(500):
        db.conn.executemany(
            "INSERT INTO articles_fts (rowid, title, body) VALUES (?, ?, ?)",
            [(article_id, search_title(title, json.loads(tags or "[]"), json.loads(authors or "[]")), index_text(body))
             for article_id, title, body, tags, authors in batch],
        )  # fmt: skip


@migrations()
def m016_source_warning(db: Database) -> None:
    """Why a source's last working run took no link (the filters that refused them), for ``crawler sources``."""
    db.table("sources").add_column("last_warning", str)

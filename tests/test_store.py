"""The SQLite backend's own detail, the store thread's group commit: calls that queue up while it is busy share one transaction, each in its
own savepoint; a failing call takes back only its own writes; callers hear back after the commit. Real
SQLite files, calls made through the async Store as the pipeline makes them."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import threading
from dataclasses import fields, replace
from pathlib import Path

import pytest

from crawler.dedupe import content_hash
from crawler.errors import StoreError
from crawler.models import ArticleRecord
from crawler.neardup import signature
from crawler.store.sqlite import GROUP_COMMIT_MAX, SqliteStore, SyncSqlite
from crawler.store.sqlite.articles import STORED_FIELDS


def _record(number: int, source: str = "s") -> ArticleRecord:
    body = f"Article {number} says something new about the city council's budget."
    return ArticleRecord(
        source_id=source, url=f"https://e.com/{number}", canonical_url=f"https://e.com/{number}", title=f"Title {number}",
        published=None, modified=None, authors=[], section=None, tags=[], language="en", image=None, site_name=None,
        description=None, body=body, content_hash=content_hash({"title": f"Title {number}", "body": body}), etag=None,
        last_modified=None,
    )  # fmt: skip


def _add_source(sync: SyncSqlite) -> None:
    with sync.db.atomic():
        sync.db.table("sources").insert({"id": "s", "name": "S"})


def _in_transaction(sync: SyncSqlite) -> bool:
    return sync.db.conn.in_transaction


def _wait(sync: SyncSqlite, release: threading.Event) -> None:
    assert release.wait(10)


def _counts(path: Path) -> tuple[int, int, int, int]:
    with sqlite3.connect(path) as reader:
        return tuple(  # type: ignore[return-value]
            reader.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("articles", "article_versions", "events", "articles_fts")
        )


async def _queue_behind_a_busy_thread(store: SqliteStore, calls: list) -> list:  # type: ignore[type-arg]
    """Hold the store thread, queue the calls, then let it go: they run as one batch."""
    release = threading.Event()
    holding = asyncio.ensure_future(store.do(_wait, release))
    await asyncio.sleep(0.05)
    pending = [asyncio.ensure_future(store.do(*call)) for call in calls]
    await asyncio.sleep(0.05)
    release.set()
    await holding
    return await asyncio.gather(*pending, return_exceptions=True)


def test_calls_queued_while_the_thread_is_busy_commit_together(tmp_path: Path) -> None:
    async def run() -> tuple[bool, list, bool]:  # type: ignore[type-arg]
        store = await SqliteStore.open(tmp_path / "crawler.db")
        try:
            await store.do(_add_source)
            alone = await store.do(_in_transaction)
            calls = [(_in_transaction,)] + [
                (SyncSqlite.save_article, _record(n), "2024-01-01T00:00:00Z") for n in range(20)
            ]
            batched = await _queue_behind_a_busy_thread(store, calls)
            after = await store.do(_in_transaction)
            return alone, batched, after
        finally:
            await store.close()

    alone, batched, after = asyncio.run(run())
    assert alone is False and batched[0] is True and after is False  # a batch is one transaction, ended
    assert [outcome.kind for outcome in batched[1:]] == ["new"] * 20
    assert _counts(tmp_path / "crawler.db") == (20, 20, 20, 20)  # committed: another connection sees them


def test_a_crowd_waits_for_company_until_a_lone_call_or_a_full_batch_ends_the_wait(tmp_path: Path) -> None:
    """Article saves (do_in_crowd) wait for more to share their transaction; a plain call does not wait
    and takes the waiting ones with it. A window of a minute: no timing involved."""

    async def run() -> tuple[bool, list, list]:  # type: ignore[type-arg]
        store = await SqliteStore.open(tmp_path / "crawler.db", commit_window=60)
        try:
            await store.do(_add_source)
            saves = [asyncio.ensure_future(store.do_in_crowd(SyncSqlite.save_article, _record(n), "2024-01-01T00:00:00Z"))
                     for n in range(3)]  # fmt: skip
            await asyncio.sleep(0.2)
            waited = not any(save.done() for save in saves)
            lone = await asyncio.wait_for(store.do(_in_transaction), 10)  # runs in the crowd's transaction
            crowd = await asyncio.wait_for(asyncio.gather(*saves), 10)
            full = [
                store.do_in_crowd(SyncSqlite.save_article, _record(n), "2024-01-01T00:00:00Z")
                for n in range(3, 3 + GROUP_COMMIT_MAX)
            ]
            filled = await asyncio.wait_for(asyncio.gather(*full), 10)  # a full batch commits at once
            return waited and lone, crowd, filled
        finally:
            await store.close()

    waited_then_joined, crowd, filled = asyncio.run(run())
    assert waited_then_joined
    assert [outcome.kind for outcome in crowd + filled] == ["new"] * (3 + GROUP_COMMIT_MAX)
    assert _counts(tmp_path / "crawler.db")[0] == 3 + GROUP_COMMIT_MAX


def test_a_failing_call_in_a_batch_undoes_only_its_own_writes(tmp_path: Path) -> None:
    async def run() -> list:  # type: ignore[type-arg]
        store = await SqliteStore.open(tmp_path / "crawler.db")
        try:
            await store.do(_add_source)
            calls = [(SyncSqlite.save_article, _record(1), "2024-01-01T00:00:00Z"),
                     (SyncSqlite.save_article, _record(2, source="unknown"), "2024-01-01T00:00:00Z"),  # foreign key
                     (SyncSqlite.save_article, _record(3), "2024-01-01T00:00:00Z")]  # fmt: skip
            return await _queue_behind_a_busy_thread(store, calls)
        finally:
            await store.close()

    first, failed, third = asyncio.run(run())
    assert first.kind == "new" and third.kind == "new"
    assert isinstance(failed, StoreError) and "FOREIGN KEY" in str(failed) and "save_article" in str(failed)
    assert _counts(tmp_path / "crawler.db") == (2, 2, 2, 2)
    with sqlite3.connect(tmp_path / "crawler.db") as reader:
        assert {url for (url,) in reader.execute("SELECT url FROM articles")} == {"https://e.com/1", "https://e.com/3"}


def _save_then_fail(sync: SyncSqlite, record: ArticleRecord) -> None:
    sync.save_article(record, "2024-01-01T00:00:00Z")
    raise ValueError("failed after saving")


def test_a_call_failing_after_its_article_was_indexed_leaves_no_index_row(tmp_path: Path) -> None:
    """A group commit writes the search-index rows at its end: those of a call that failed are dropped."""

    async def run() -> list:  # type: ignore[type-arg]
        store = await SqliteStore.open(tmp_path / "crawler.db")
        try:
            await store.do(_add_source)
            calls = [(SyncSqlite.save_article, _record(1), "2024-01-01T00:00:00Z"), (_save_then_fail, _record(2)),
                     (SyncSqlite.save_article, _record(3), "2024-01-01T00:00:00Z")]  # fmt: skip
            return await _queue_behind_a_busy_thread(store, calls)
        finally:
            await store.close()

    first, failed, third = asyncio.run(run())
    assert first.kind == "new" and third.kind == "new" and "failed after saving" in str(failed)
    assert _counts(tmp_path / "crawler.db") == (2, 2, 2, 2)
    with sqlite3.connect(tmp_path / "crawler.db") as reader:
        indexed = reader.execute("SELECT rowid, title FROM articles_fts ORDER BY rowid").fetchall()
        stored = reader.execute("SELECT id, title FROM articles ORDER BY id").fetchall()
    assert len(stored) == 2 and [rowid for rowid, _ in indexed] == [article_id for article_id, _ in stored]


def test_the_crawlers_process_loads_no_numpy_and_numpy_stays_importable(tmp_path: Path) -> None:
    """numpy (30 ms of every start) is for the workers' MinHash: the CLI and store do without it, sqlite-utils
    included (it is hidden while sqlite-utils loads), and it imports normally afterwards."""
    script = (
        "import sys, pathlib; import crawler.cli, crawler.crawl_once, crawler.store.sqlite as s; "
        "assert 'numpy' not in sys.modules, 'numpy imported'; "
        f"db = s.SyncSqlite(pathlib.Path({str(tmp_path / 'x.db')!r})); db.ping(); db.close(); "
        "assert 'numpy' not in sys.modules, 'numpy imported by opening a database'; "
        "import numpy; print(numpy.uint32(7) + 1)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "8"


def test_an_unopenable_database_is_a_store_error_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "crawler.db").mkdir()

    async def run() -> None:
        await SqliteStore.open(tmp_path / "crawler.db")

    with pytest.raises(StoreError, match=r"crawler\.db: cannot open the database"):
        asyncio.run(run())


def test_a_database_from_before_the_signature_table_and_keyed_bands_keeps_finding_duplicates(tmp_path: Path) -> None:
    """A database from before m012 (signature in the articles row) keeps its near-duplicate detection."""
    path = tmp_path / "crawler.db"
    old = SyncSqlite(path)
    _add_source(old)
    original = replace(_record(1), body=" ".join(f"word{n}" for n in range(60)), source_id="s")
    old.save_article(replace(original, signature=signature(original.body)), "2024-01-01T00:00:00Z")
    with old.db.atomic():  # as m011 left it: signatures in the articles row, bands in a rowid table
        old.db.execute(
            "UPDATE articles SET signature = (SELECT signature FROM near_dup_signatures WHERE article_id = 1)"
        )
        old.db.execute("DROP TABLE near_dup_signatures")
        old.db.execute("ALTER TABLE near_dup_bands RENAME TO keyed")
        old.db.execute("CREATE TABLE near_dup_bands (band TEXT, article_id INTEGER)")
        old.db.execute("CREATE INDEX idx_near_dup_bands_band ON near_dup_bands (band)")
        old.db.execute("INSERT INTO near_dup_bands SELECT band, article_id FROM keyed")
        old.db.execute("DROP TABLE keyed")
        old.db.execute("DELETE FROM _sqlite_migrations WHERE name IN ('m012_signature_table', 'm013_band_index')")
        old.db.table("sources").insert({"id": "other", "name": "Other"})
    old.close()

    store = SyncSqlite(path)
    assert store.db.execute("SELECT count(*) FROM articles WHERE signature IS NOT NULL").fetchone() == (0,)
    assert (
        "WITHOUT ROWID" in store.db.execute("SELECT sql FROM sqlite_master WHERE name = 'near_dup_bands'").fetchone()[0]
    )
    assert store.db.execute("SELECT count(*) FROM near_dup_bands").fetchone() == (16,)
    copy = replace(original, source_id="other", url="https://f.com/1", canonical_url="https://f.com/1")
    outcome = store.save_article(replace(copy, signature=signature(copy.body)), "2024-01-02T00:00:00Z")
    store.close()
    assert [event.type for event in outcome.events] == ["article_new", "article_duplicate"]
    assert outcome.events[1].data["duplicate_of"] == 1


def test_every_article_field_has_a_column_or_a_table_of_its_own() -> None:
    elsewhere = {"signature", "search_form"}  # near_dup_signatures, articles_fts
    assert {field.name for field in fields(ArticleRecord)} - elsewhere == set(STORED_FIELDS)


def test_a_database_indexed_before_plural_folding_and_tags_is_reindexed_when_it_opens(tmp_path: Path) -> None:
    """A database from before m015 (titles alone in the index, plurals as written) finds by tag, author and
    singular once a writer has opened it."""
    from crawler.search import index_text, parse_query
    from crawler.store.values import SearchQuery

    path = tmp_path / "crawler.db"
    old = SyncSqlite(path)
    _add_source(old)
    article = replace(_record(1), title="Oil prices", tags=["Basra"], authors=["Zainab Hassan"], search_form=None)
    old.save_article(article, "2024-01-01T00:00:00Z")
    with old.db.atomic():  # as m004 left the index: words as written, no tags or authors
        old.db.execute("DELETE FROM articles_fts")
        old.db.execute("INSERT INTO articles_fts (rowid, title, body) VALUES (1, ?, ?)",
                       ["oil prices", index_text(article.body).replace("price", "prices")])  # fmt: skip
        old.db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm015_search_plurals_tags_authors'")
    old.close()

    store = SyncSqlite(path)
    try:
        for query in ("basra", "hassan", "price", "oil prices"):
            assert [hit.id for hit in store.search(SearchQuery(parse_query(query)))] == [1], query
    finally:
        store.close()

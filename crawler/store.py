"""Store: the SQLite database (sqlite-utils), the only module that imports sqlite3 or sqlite_utils.

All database work runs on one dedicated thread (sqlite connections are thread-bound), reached from the
event loop through ``Store.do``. Each article is written in one transaction together with its version
row and its event; nothing here does network I/O. WAL mode lets readers (sqlite3, Datasette) read while
the daemon writes. Schema changes are sqlite-utils migrations, applied at open.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import queue
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Concatenate, Literal, ParamSpec, TypeVar

from crawler.config import SourceConfig
from crawler.dedupe import changed_fields, paragraph_diff
from crawler.errors import StoreError
from crawler.events import Event
from crawler.extract.templates import TemplateBlock, learn_template
from crawler.models import ArticleRecord, HostState, Link, Validators
from crawler.neardup import DUPLICATE_SIMILARITY, band_keys, similarity
from crawler.normalize import identity_claim_holds
from crawler.search import FTS_TOKENIZER, index_text, match_expression

# sqlite-utils imports numpy, when it is installed, only to map numpy scalar types to column types. We never
# hand it numpy values, and numpy is 30 ms of every command's start in a process that otherwise needs it
# nowhere (the workers sign bodies with it): it is hidden while sqlite-utils loads (a module set to None in
# sys.modules is one that cannot be imported), unless something imported it already.
_NUMPY_HIDDEN = "numpy" not in sys.modules
if _NUMPY_HIDDEN:
    sys.modules["numpy"] = None  # type: ignore[assignment]
try:
    from sqlite_utils import Database  # noqa: E402
    from sqlite_utils.migrations import Migrations  # noqa: E402
finally:
    if _NUMPY_HIDDEN:
        del sys.modules["numpy"]

__all__ = ["SaveOutcome", "Store", "SyncStore", "migrations"]
logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")
migrations = Migrations("crawler")
_MIN_PAGES = 3  # article pages in a run before its extraction quality says anything
STALE_GAPS = 5  # silent for this many usual gaps between new articles: stale
NEAR_DUP_CANDIDATES = 200  # newest articles sharing a band compared at most (a band common to thousands says little)
SEARCH_RANK_LIMIT = 20_000  # a query matching more articles lists the newest first, unranked (SyncStore.search)
_JSON_FIELDS = ("authors", "tags", "provenance")
_STORED_FIELDS = (
    "source_id", "url", "canonical_url", "title", "published", "modified", "authors", "section", "tags", "language",
    "image", "site_name", "description", "body", "content_hash", "etag", "last_modified", "provenance",
    "published_text", "modified_text",
)  # ArticleRecord fields with an articles column (the signature and search form are stored elsewhere)  # fmt: skip
_ARTICLE_FIELDS = (
    "title", "published", "modified", "authors", "section", "tags", "language", "image", "site_name",
    "description", "body", "provenance", "published_text", "modified_text",
)  # fmt: skip


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


class SaveOutcome:
    """What save_article did: "new", "updated" or "unchanged", with the event it wrote (if any)."""

    __slots__ = ("also", "article_id", "event", "kind")

    def __init__(
        self, kind: Literal["new", "updated", "unchanged"], article_id: int, event: Event | None,
        also: list[Event] | None = None,
    ) -> None:  # fmt: skip
        self.kind, self.article_id, self.event = kind, article_id, event
        self.also = also or []  # further events of the same save (article_duplicate)


def _fallen_signals(
    seen: dict[str, float], baselines: dict[str, float], pages: int, recovery: bool = False
) -> list[str]:
    """The signals of a run that fell against the source's baselines (for recovery: that are still not
    back to 80 % of them), as reasons a person can read."""
    fallen = []
    for name, label in (("content", "a body and a title"), ("dated", "a publication date")):
        usual = baselines.get(name)
        if usual is not None and usual >= 0.6 and seen[name] < usual * (0.8 if recovery else 0.5):
            fallen.append(f"{round(seen[name] * pages)} of {pages} article pages gave {label} (usually {usual:.0%})")
    usual_length = baselines.get("length")
    if (
        usual_length is not None
        and usual_length >= 500
        and seen["length"] < usual_length * (0.8 if recovery else 1 / 3)
    ):
        fallen.append(f"bodies averaged {seen['length']:.0f} characters (usually {usual_length:.0f})")
    return fallen


def _writable_connection(path: Path) -> sqlite3.Connection:
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=30)
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def _read_only_connection(path: Path, *, live: bool = False) -> sqlite3.Connection:
    """A connection that cannot write, and writes nothing beside the database. A WAL database is shared
    through its -shm file: while a writer (the daemon) has it open the file exists, and the reader joins
    it read-only; when nobody has it open (the daemon stopped; a backup, a snapshot) the reader opens the
    file as immutable, creating no -wal or -shm that a group member could not create anyway. ``live``
    (``events --follow``) always joins, to see what a writer that starts later adds."""
    if not path.is_file():
        raise sqlite3.OperationalError("unable to open database file: no such file")
    uri = path.resolve().as_uri()
    if not live and not path.with_name(path.name + "-shm").exists():
        return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True)
    conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=30)
    conn.execute("PRAGMA busy_timeout = 30000")
    return conn


def _check_readable(db: Database, path: Path) -> None:
    """The read commands read the current schema: a database an older version wrote needs one writable
    open (the daemon, `crawler crawl`) to migrate it."""
    db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    if migrations.pending(db):
        raise StoreError(
            f"{path}: the database is from an older version of crawler; open it once for writing (start the "
            "daemon, or run `crawler crawl`) to migrate it, then read it again"
        )


def _unusable(path: Path, exc: sqlite3.DatabaseError, read_only: bool) -> str:
    """One line naming the file, what is wrong and what to do."""
    reason = str(exc)
    if "not a database" in reason or "malformed" in reason:
        return f"{path}: not a usable crawler database ({reason}); restore it from a backup or point `database` at another file"
    if read_only and "unable to open" in reason:
        return f"{path}: cannot open the database ({reason}); is it there, and readable for this user?"
    return f"{path}: cannot open the database ({reason}){_hint(exc)}"


class SyncStore:
    """The database operations, synchronous; only ever called on the store thread."""

    def __init__(self, path: Path, *, read_only: bool = False, live: bool = False) -> None:
        """Open (and create, and migrate) the database for writing; with ``read_only``, open an existing
        one for reading only: nothing is written, not even the WAL's shared-memory file when the daemon
        is not running (a group member, a backup, a snapshot on a read-only filesystem); ``live`` keeps
        watching for a writer's changes. Raises StoreError naming the file and what to do."""
        try:
            connection = _read_only_connection(path, live=live) if read_only else _writable_connection(path)
            self.db = Database(connection, execute_plugins=False)
            if read_only:
                _check_readable(self.db, path)
            else:
                self.db.execute("PRAGMA foreign_keys = ON")
                migrations.apply(self.db)
        except sqlite3.DatabaseError as exc:
            raise StoreError(_unusable(path, exc, read_only)) from None
        # Search-index rows waiting for the end of a group commit (see index_later), else None.
        self._pending_index: list[tuple[int, str, str, bool]] | None = None

    def close(self) -> None:
        self.db.close()

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

    def ping(self) -> None:
        """A no-op query: the store thread and the database answer (the watchdog asks)."""
        self.db.execute("SELECT 1").fetchone()

    # --- sources -------------------------------------------------------------------------------------

    def sync_sources(self, sources: Iterable[SourceConfig], now: str) -> None:
        """Insert new sources and refresh names/enabled flags; runtime state is kept."""
        with self._atomic():
            for source in sources:
                existing = self.db.execute("SELECT 1 FROM sources WHERE id = ?", [source.id]).fetchone()
                if existing:
                    self.db.execute(
                        "UPDATE sources SET name = ?, enabled = ? WHERE id = ?",
                        [source.name, int(source.enabled), source.id],
                    )
                else:
                    self.db.table("sources").insert(
                        {"id": source.id, "name": source.name, "enabled": int(source.enabled), "state": "ok",
                         "consecutive_failures": 0, "created_at": now}
                    )  # fmt: skip

    def source_row(self, source_id: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT * FROM sources WHERE id = ?", [source_id]).fetchone()
        return (
            dict(zip([c[0] for c in self.db.execute("SELECT * FROM sources LIMIT 0").description], row))
            if row
            else None
        )

    def finish_run(
        self, source_id: str, ok: bool, error: str | None, now: str, threshold: int,
        extraction: tuple[int, int, int, int] = (0, 0, 0, 0), weight: float = 1.0,
    ) -> list[Event]:  # fmt: skip
        """Record a run's outcome; return (and store) source_failing / source_recovered on a transition,
        and source_degraded / source_stale (see _health) once each until the source recovers. Failed runs
        in a row add their ``weight`` (timeouts only: 0.5); failing when the sum reaches the threshold."""
        events = self._run_transitions(source_id, ok, error, now, threshold, weight)
        with self._atomic():
            events += [self._insert_event(event) for event in self._health(source_id, now, *extraction)]
        return events

    def _health(
        self, source_id: str, now: str, extracted: int, poor: int, undated: int, body_chars: int
    ) -> list[Event]:
        """Degraded: in a run of at least MIN_PAGES article pages, one of the source's usual signals fell
        away: the share of pages with a body and a title, or with a publication date, under half its
        baseline (when that is 60 % or more), or the average body under a third of its usual length.
        Baselines are moving averages kept while the source is healthy. Stale: no new article for
        STALE_GAPS times the median gap between its last 20 articles (and at least a day). Each is
        reported once, with the reason, and cleared with a source_recovered event."""
        row = self.source_row(source_id) or {}
        health, reason = row.get("health"), row.get("health_reason")
        baselines: dict[str, float] = json.loads(row.get("baselines") or "{}")
        events: list[Event] = []
        if extracted >= _MIN_PAGES:
            now_seen = {"content": (extracted - poor) / extracted, "dated": (extracted - undated) / extracted,
                        "length": body_chars / extracted}  # fmt: skip
            fallen = _fallen_signals(now_seen, baselines, extracted)
            if health != "degraded" and fallen:
                health, reason = "degraded", "; ".join(fallen)
                events.append(Event("source_degraded", source_id, data={"reason": reason}, ts=now))
            elif health == "degraded" and not _fallen_signals(now_seen, baselines, extracted, recovery=True):
                events.append(Event("source_recovered", source_id, data={"from": "degraded", "reason": reason}, ts=now))
                health, reason = None, None
            if health != "degraded":
                baselines = {k: v if k not in baselines else 0.8 * baselines[k] + 0.2 * v for k, v in now_seen.items()}
        stale = self._staleness(source_id, now)
        if health is None and stale:
            health, reason = "stale", stale
            events.append(Event("source_stale", source_id, data={"reason": stale}, ts=now))
        elif health == "stale" and not stale:
            events.append(Event("source_recovered", source_id, data={"from": "stale", "reason": reason}, ts=now))
            health, reason = None, None
        self.db.execute(
            "UPDATE sources SET baselines = ?, health = ?, health_reason = ? WHERE id = ?",
            [json.dumps(baselines), health, reason, source_id],
        )
        return events

    def _staleness(self, source_id: str, now: str) -> str | None:
        seen = [row[0] for row in self.db.execute(
            "SELECT first_seen FROM articles WHERE source_id = ? ORDER BY first_seen DESC LIMIT 20", [source_id]
        ).fetchall()]  # fmt: skip
        if len(seen) < 5:
            return None
        times = [datetime.fromisoformat(value) for value in seen]
        gaps = sorted((newer - older).total_seconds() for newer, older in zip(times, times[1:]))
        usual = max(gaps[len(gaps) // 2], 1.0)
        silent = (datetime.fromisoformat(now) - times[0]).total_seconds()
        if silent > max(STALE_GAPS * usual, 86400):
            return f"no new article for {silent / 3600:.0f} h (usually one every {usual / 3600:.1f} h)"
        return None

    def _run_transitions(
        self, source_id: str, ok: bool, error: str | None, now: str, threshold: int, weight: float
    ) -> list[Event]:
        row = self.source_row(source_id) or {"state": "ok", "consecutive_failures": 0}
        failures = 0 if ok else int(row["consecutive_failures"] or 0) + 1
        score = 0.0 if ok else float(row.get("failure_score") or 0) + weight
        state = row["state"]
        events: list[Event] = []
        if ok and state == "failing":
            state = "ok"
            events.append(Event("source_recovered", source_id, data={"after_failures": row["consecutive_failures"]}))
        elif not ok and state != "failing" and score >= threshold:
            state = "failing"
            events.append(Event("source_failing", source_id, data={"failures": failures, "reason": error}))
        with self._atomic():
            self.db.execute(
                "UPDATE sources SET state = ?, consecutive_failures = ?, failure_score = ?, last_run_at = ?,"
                " last_error = ?" + (", last_success_at = ?" if ok else "") + " WHERE id = ?",
                [state, failures, score, now, error, *([now] if ok else []), source_id],
            )
            stored = [self._insert_event(event) for event in events]
        return stored

    # --- discovery -----------------------------------------------------------------------------------

    def discovery_state(self, url: str) -> tuple[Validators, list[Link], list[str]] | None:
        """A discovery page's validators, and the links and child sitemaps it gave last time (for a 304)."""
        row = self.db.execute(
            "SELECT etag, last_modified, links, children FROM discovery_pages WHERE url = ?", [url]
        ).fetchone()
        if row is None:
            return None
        links = [Link(**item) for item in json.loads(row[2] or "[]")]
        return Validators(row[0], row[1]), links, json.loads(row[3] or "[]")

    def save_discovery_state(
        self, url: str, source_id: str, kind: str, validators: Validators, links: list[Link], children: list[str],
        status: int, now: str,
    ) -> None:  # fmt: skip
        with self._atomic():
            self.db.table("discovery_pages").upsert(
                {"url": url, "source_id": source_id, "kind": kind, "etag": validators.etag,
                 "last_modified": validators.last_modified, "links": json.dumps([asdict(link) for link in links]),
                 "children": json.dumps(children), "last_fetched": now, "last_status": status},
                pk="url",
            )  # fmt: skip

    # --- articles ------------------------------------------------------------------------------------

    def known_articles(self, urls: list[str]) -> dict[str, dict[str, Any]]:
        """Stored articles matching any of urls (by fetched or canonical URL), keyed by the given url."""
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(urls), 400):
            chunk = urls[start : start + 400]
            asked = set(chunk)
            marks = ",".join("?" * len(chunk))
            cursor = self.db.execute(
                f"SELECT id, url, canonical_url, last_checked, etag, last_modified, first_seen, removed_at FROM articles "
                f"WHERE url IN ({marks}) OR canonical_url IN ({marks})",
                chunk + chunk,
            )
            for row in cursor.fetchall():
                record = {"id": row[0], "url": row[1], "canonical_url": row[2], "last_checked": row[3],
                          "etag": row[4], "last_modified": row[5], "first_seen": row[6], "removed_at": row[7]}  # fmt: skip
                for key in (row[1], row[2]):
                    if key in asked:
                        found[key] = record
        return found

    def save_article(
        self, record: ArticleRecord, now: str, template: frozenset[str] = frozenset(), next_check: str | None = None,
        fetch: dict[str, Any] | None = None,
    ) -> SaveOutcome:  # fmt: skip
        """Insert a new article or a new version of a known one, with its event, in one transaction.
        A body that differs only by the source's template blocks is refreshed without a new version.
        ``next_check`` is the article's next scheduled re-check (recheck_after); ``fetch``, the page's
        fetches row, written in the same call (one trip to the store thread per article, not two)."""
        with self._atomic():
            if fetch is not None:
                self._insert("fetches", fetch)
            outcome = self._save_article(record, now, template, next_check)
            if outcome.kind != "new":  # a new row has it already: an UPDATE rewrites the whole row, body and all
                self.db.execute("UPDATE articles SET next_check = ? WHERE id = ?", [next_check, outcome.article_id])
            return outcome

    def _save_article(
        self, record: ArticleRecord, now: str, template: frozenset[str], next_check: str | None
    ) -> SaveOutcome:
        current = self._stored_article(record.canonical_url, record.url)
        if current is not None and current["url"] != record.url and record.canonical_url != record.url:
            stored_signature = self.db.execute(
                "SELECT signature FROM near_dup_signatures WHERE article_id = ?", [current["id"]]
            ).fetchone()
            signature = stored_signature[0] if stored_signature else None
            if not identity_claim_holds(current["url"], current["source_id"], signature, record):
                logger.info("%s declares %s as its canonical URL, another article's: kept apart under its own URL",
                            record.url, record.canonical_url)  # fmt: skip
                record = replace(record, canonical_url=record.url)
                current = self._stored_article(record.url, record.url)
        if current is None:
            return self._insert_article(record, now, next_check)
        if current["content_hash"] == record.content_hash:
            self.db.execute(
                "UPDATE articles SET last_seen = ?, last_checked = ?, etag = ?, last_modified = ? WHERE id = ?",
                [now, now, record.etag, record.last_modified, current["id"]],
            )
            return SaveOutcome("unchanged", current["id"], None)
        if not changed_fields(current, asdict(record), template):
            self._refresh_article(current["id"], record, now)
            return SaveOutcome("unchanged", current["id"], None)
        return self._update_article(current, record, now, template)

    def _stored_article(self, canonical_url: str, url: str) -> dict[str, Any] | None:
        """The stored article with this canonical URL, else the one fetched at this URL."""
        row = self.db.execute(
            "SELECT * FROM articles WHERE canonical_url = ? OR url = ? ORDER BY canonical_url = ? DESC LIMIT 1",
            [canonical_url, url, canonical_url],
        ).fetchone()
        if row is None:
            return None
        names = [c[0] for c in self.db.execute("SELECT * FROM articles LIMIT 0").description]
        return _decode(dict(zip(names, row)))

    def due_articles(self, source_id: str, now: str, limit: int, everything: bool = False) -> list[dict[str, Any]]:
        """The source's stored articles whose next re-check is due (all of them with ``everything``),
        the most overdue first."""
        sql = (
            "SELECT id, url, canonical_url, last_checked, etag, last_modified, first_seen, removed_at FROM articles"
            " WHERE source_id = ?" + ("" if everything else " AND next_check IS NOT NULL AND next_check <= ?")
        )
        params: list[Any] = [source_id] if everything else [source_id, now]
        return self._rows(sql + " ORDER BY next_check LIMIT ?", [*params, limit])

    def mark_restored(self, article_id: int, now: str) -> Event | None:
        """A removed article answered again: one article_restored event."""
        with self._atomic():
            row = self.db.execute(
                "SELECT source_id, canonical_url, removed_at FROM articles WHERE id = ?", [article_id]
            ).fetchone()
            if row is None or row[2] is None:
                return None
            self.db.execute("UPDATE articles SET removed_at = NULL WHERE id = ?", [article_id])
            return self._insert_event(
                Event("article_restored", row[0], article_id, {"url": row[1], "removed_at": row[2]}, ts=now)
            )

    def mark_removed(self, article_id: int, now: str, reason: str, next_check: str | None) -> Event | None:
        """A stored article is gone (404/410, or sent to the home page): one article_removed event, the
        first time; its versions stay, and it keeps being re-checked so a return is noticed."""
        with self._atomic():
            row = self.db.execute(
                "SELECT source_id, canonical_url, removed_at FROM articles WHERE id = ?", [article_id]
            ).fetchone()
            self.db.execute(
                "UPDATE articles SET next_check = ?, last_checked = ? WHERE id = ?", [next_check, now, article_id]
            )
            if row is None or row[2] is not None:
                return None
            self.db.execute("UPDATE articles SET removed_at = ? WHERE id = ?", [now, article_id])
            return self._insert_event(
                Event("article_removed", row[0], article_id, {"url": row[1], "reason": reason}, ts=now)
            )

    def mark_checked(self, article_id: int, validators: Validators, now: str, next_check: str | None = None) -> None:
        """A re-check answered 304: the article is unchanged; ``next_check`` is its next scheduled one."""
        with self._atomic():
            self.db.execute(
                "UPDATE articles SET last_seen = ?, last_checked = ?, etag = COALESCE(?, etag), "
                "last_modified = COALESCE(?, last_modified), next_check = ? WHERE id = ?",
                [now, now, validators.etag, validators.last_modified, next_check, article_id],
            )

    def _insert_article(self, record: ArticleRecord, now: str, next_check: str | None) -> SaveOutcome:
        values = _encode({name: getattr(record, name) for name in _STORED_FIELDS})
        values.update(first_seen=now, last_seen=now, last_checked=now, last_changed=now, versions=1,
                      next_check=next_check)  # fmt: skip
        article_id = self._insert("articles", values)
        self._index(article_id, record, new=True)
        duplicate = self._link_duplicate(article_id, record, now)
        self._insert_version(article_id, 1, record, now, changed=[])
        event = self._insert_event(
            Event("article_new", record.source_id, article_id,
                  {"url": record.canonical_url, "title": record.title, "published": record.published}, ts=now)
        )  # fmt: skip
        also = [self._insert_event(duplicate)] if duplicate is not None else []
        return SaveOutcome("new", article_id, event, also)

    def _link_duplicate(self, article_id: int, record: ArticleRecord, now: str) -> Event | None:
        """Record the new article's LSH bands; if another source already stored a near-identical body,
        join its story (story_id = the first copy's id) and return an article_duplicate event."""
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
        for other_id, other_signature in candidates:
            score = similarity(record.signature, other_signature)
            if score >= DUPLICATE_SIMILARITY:
                other_url, story_id = self.db.execute(
                    "SELECT canonical_url, COALESCE(story_id, id) FROM articles WHERE id = ?", [other_id]
                ).fetchone()
                self.db.execute("UPDATE articles SET story_id = ? WHERE id = ?", [story_id, article_id])
                return Event("article_duplicate", record.source_id, article_id,
                             {"url": record.canonical_url, "duplicate_of": other_id, "duplicate_url": other_url,
                              "story_id": story_id, "similarity": round(score, 2)}, ts=now)  # fmt: skip
        return None

    def _refresh_article(self, article_id: int, record: ArticleRecord, now: str) -> None:
        """Store the newly extracted form of an unchanged article (e.g. once template blocks are gone)."""
        update = _encode({name: getattr(record, name) for name in _ARTICLE_FIELDS})
        update.update(content_hash=record.content_hash, last_seen=now, last_checked=now, etag=record.etag,
                      last_modified=record.last_modified)  # fmt: skip
        self.db.table("articles").update(article_id, update)
        self._index(article_id, record)

    def _index(self, article_id: int, record: ArticleRecord, new: bool = False) -> None:
        """The article's search-index row, written in the same transaction as the article."""
        title, body = record.search_form or (index_text(record.title), index_text(record.body))
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

    def _insert(self, table: str, values: dict[str, Any]) -> int:
        """A row of plain values; its rowid. (sqlite-utils' insert() looks up the table's schema on every
        call: a fifth of the store thread's time in a crawl.) Table and column names are ours."""
        sql = f"INSERT INTO {table} ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})"
        return int(self.db.conn.execute(sql, list(values.values())).lastrowid or 0)

    def _update_article(
        self, current: dict[str, Any], record: ArticleRecord, now: str, template: frozenset[str]
    ) -> SaveOutcome:
        new_values = asdict(record)
        changed = changed_fields(current, new_values, template)
        version = int(current["versions"] or 1) + 1
        update = _encode({name: new_values[name] for name in _ARTICLE_FIELDS})
        update.update(content_hash=record.content_hash, versions=version, last_seen=now, last_checked=now,
                      last_changed=now, etag=record.etag, last_modified=record.last_modified)  # fmt: skip
        self.db.table("articles").update(current["id"], update)
        self._index(current["id"], record)
        self._insert_version(current["id"], version, record, now, changed)
        data: dict[str, Any] = {
            "url": record.canonical_url,
            "title": record.title,
            "version": version,
            "changed": changed,
        }
        if "body" in changed:
            data["diff"] = paragraph_diff(current["body"] or "", record.body)
        event = self._insert_event(Event("article_updated", record.source_id, current["id"], data, ts=now))
        return SaveOutcome("updated", current["id"], event)

    def _insert_version(
        self, article_id: int, version: int, record: ArticleRecord, now: str, changed: list[str]
    ) -> None:
        values = _encode({name: getattr(record, name) for name in
                          ("title", "published", "modified", "authors", "section", "tags", "image", "description", "body")})  # fmt: skip
        values.update(article_id=article_id, version=version, fetched_at=now, content_hash=record.content_hash,
                      changed=json.dumps(changed))  # fmt: skip
        self._insert("article_versions", values)

    # --- search ------------------------------------------------------------------------------------

    def search(
        self,
        terms: list[str],
        source_id: str | None = None,
        since: str | None = None,
        limit: int = 20,
        rank_limit: int = SEARCH_RANK_LIMIT,
    ) -> list[dict[str, Any]]:
        """Articles matching every term, best first: bm25, a title match weighing 3x a body match. A query
        matching more than ``rank_limit`` articles lists the newest first instead, those with the words in
        their title before the others (``score`` None): bm25 counts every match of each word before scoring
        any (60-90 ms for words in half of a million articles), and among that many the recent ones are what
        a news reader wants. ``since`` is a date (YYYY-MM-DD) compared with the publication date, else the
        first-seen date."""
        if not terms:
            return []
        expression = match_expression(terms)
        filters, params = ["articles_fts MATCH ?"], [expression]
        if source_id:
            filters.append("a.source_id = ?")
            params.append(source_id)
        if since:
            filters.append("substr(COALESCE(a.published, a.first_seen), 1, 10) >= ?")
            params.append(since)
        # Rank or order on ids alone, then read the few winners' rows (bodies and all). With filters the index
        # drives (CROSS JOIN) and each match is checked against its article by primary key: filtering with
        # "rowid IN (SELECT ...)" made FTS5 look up every id of the source (8-12 s at 1M articles).
        joined = " CROSS JOIN articles a ON a.id = articles_fts.rowid" if len(filters) > 1 else ""
        where = f"FROM articles_fts{joined} WHERE {' AND '.join(filters)}"
        columns = "a.id, a.source_id, a.canonical_url, a.title, a.published, a.first_seen, a.body, r.score"
        if not self._matches_more_than(expression, rank_limit):
            ranked = (
                f"SELECT articles_fts.rowid AS id, bm25(articles_fts, 3.0, 1.0) AS score {where} ORDER BY score LIMIT ?"
            )
            return self._rows(f"SELECT {columns} FROM ({ranked}) AS r JOIN articles a ON a.id = r.id ORDER BY r.score",
                              [*params, limit])  # fmt: skip
        newest = (f"SELECT {columns} FROM (SELECT articles_fts.rowid AS id, NULL AS score {where}"
                  " ORDER BY articles_fts.rowid DESC LIMIT ?) AS r JOIN articles a ON a.id = r.id ORDER BY a.id DESC")  # fmt: skip
        in_title = self._rows(newest, [f"title : ({expression})", *params[1:], limit])
        seen = {row["id"] for row in in_title}
        in_body = [row for row in self._rows(newest, [*params, limit + len(seen)]) if row["id"] not in seen]
        return (in_title + in_body)[:limit]

    def _matches_more_than(self, expression: str, count: int) -> bool:
        """Whether more than ``count`` articles match: a walk from the newest match (cheap; counting every
        match is not)."""
        row = self.db.execute(
            "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? ORDER BY rowid DESC LIMIT 1 OFFSET ?",
            [expression, count],
        ).fetchone()
        return row is not None

    def _rows(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        """Every row of the query as a dict keyed by column name."""
        cursor = self.db.execute(sql, params)
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    # --- site templates ----------------------------------------------------------------------------

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
        learned = learn_template(bodies)
        with self._atomic():
            self.db.table("template_blocks").upsert_all(
                [{"source_id": source_id, "key": b.key, "text": b.text, "articles": b.articles, "sampled": b.sampled,
                  "learned_at": now} for b in learned if b.key not in known],
                pk=("source_id", "key"),
            )  # fmt: skip
        return [block for block in learned if block.key not in known]

    def template_rows(self, source_id: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT source_id, key, text, articles, sampled, learned_at FROM template_blocks"
        params: list[Any] = []
        if source_id:
            sql, params = sql + " WHERE source_id = ?", [source_id]
        return self._rows(sql + " ORDER BY source_id, articles DESC", params)

    def reset_template(self, source_id: str) -> int:
        with self._atomic():
            return self.db.execute("DELETE FROM template_blocks WHERE source_id = ?", [source_id]).rowcount

    # --- events and fetches --------------------------------------------------------------------------

    def add_event(self, event: Event) -> Event:
        with self._atomic():
            return self._insert_event(event)

    def _insert_event(self, event: Event) -> Event:
        event_id = self._insert("events", event.as_row())
        return Event(event.type, event.source_id, event.article_id, event.data, event.ts, event_id)

    def record_fetch(self, row: dict[str, Any]) -> None:
        with self._atomic():
            self._insert("fetches", row)

    def prune_fetches(self, before: str, chunk: int = 5000) -> int:
        """Delete up to ``chunk`` fetches rows older than ``before`` (oldest first); how many went. Called
        until it returns 0, so a large backlog never holds the store thread in one long transaction."""
        with self._atomic():
            return self.db.conn.execute(
                "DELETE FROM fetches WHERE id IN (SELECT id FROM fetches WHERE ts < ? ORDER BY id LIMIT ?)",
                [before, chunk],
            ).rowcount

    def save_hosts(self, states: list[HostState], now: str) -> None:
        """Replace the saved state of these hosts (the counters are the daemon's since it started)."""
        with self._atomic():
            self.db.table("hosts").upsert_all([{**asdict(state), "updated_at": now} for state in states], pk="host")

    def host_rows(self) -> list[dict[str, Any]]:
        return list(self.db.table("hosts").rows_where(order_by="host"))

    def article(self, article: str) -> dict[str, Any] | None:
        """One article by id, URL or canonical URL: every column but the signature, JSON fields decoded."""
        key = int(article) if article.isdigit() else None
        cursor = self.db.execute(
            "SELECT * FROM articles WHERE id = ? OR url = ? OR canonical_url = ? LIMIT 1", [key, article, article]
        )
        row = cursor.fetchone()
        if row is None:
            return None
        found = _decode(dict(zip([c[0] for c in cursor.description], row)))
        found.pop("signature", None)
        return found

    def export_batches(
        self, fields: tuple[str, ...], source_id: str | None, since: str | None, until: str | None, batch: int = 500
    ) -> Iterator[list[dict[str, Any]]]:
        """Articles in id order, ``batch`` rows at a time (a large database is never read whole). since/until
        are dates (YYYY-MM-DD, inclusive) compared with the publication date, else the first-seen date."""
        day = "substr(COALESCE(published, first_seen), 1, 10)"
        filters, params = ["1"], []
        for condition, value in (("source_id = ?", source_id), (f"{day} >= ?", since), (f"{day} <= ?", until)):
            if value:
                filters.append(condition)
                params.append(value)
        cursor = self.db.execute(
            f"SELECT {', '.join(fields)} FROM articles WHERE {' AND '.join(filters)} ORDER BY id", params
        )
        while rows := cursor.fetchmany(batch):
            yield [_decode(dict(zip(fields, row))) for row in rows]

    def stats(self) -> dict[str, Any]:
        """Articles per source and per day (first seen, last 14 days), events per type, the file's size."""

        def pairs(sql: str) -> dict[str, int]:
            return {str(key): int(value) for key, value in self.db.execute(sql).fetchall()}

        page_size = self.db.execute("PRAGMA page_size").fetchone()[0]
        pages = self.db.execute("PRAGMA page_count").fetchone()[0]
        return {
            "articles": self.db.execute("SELECT count(*) FROM articles").fetchone()[0],
            "versions": self.db.execute("SELECT count(*) FROM article_versions").fetchone()[0],
            "articles_per_source": pairs("SELECT source_id, count(*) FROM articles GROUP BY 1 ORDER BY 1"),
            "articles_per_day": pairs(
                "SELECT substr(first_seen, 1, 10), count(*) FROM articles"
                " WHERE first_seen >= strftime('%Y-%m-%d', 'now', '-13 days') GROUP BY 1 ORDER BY 1"
            ),
            "events_per_type": pairs("SELECT type, count(*) FROM events GROUP BY 1 ORDER BY 2 DESC"),
            "fetches_per_outcome": pairs("SELECT outcome, count(*) FROM fetches GROUP BY 1 ORDER BY 2 DESC"),
            "database_bytes": page_size * pages,
        }

    def article_history(self, article: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        """An article (by id, URL or canonical URL) and its versions, oldest first; None if unknown."""
        key = int(article) if article.isdigit() else None
        row = self.db.execute(
            "SELECT id, source_id, canonical_url, title, versions, first_seen, last_changed FROM articles"
            " WHERE id = ? OR url = ? OR canonical_url = ? LIMIT 1",
            [key, article, article],
        ).fetchone()
        if row is None:
            return None
        names = ("id", "source_id", "canonical_url", "title", "versions", "first_seen", "last_changed")
        cursor = self.db.execute(
            "SELECT version, fetched_at, changed, title, published, modified, body FROM article_versions"
            " WHERE article_id = ? ORDER BY version",
            [row[0]],
        )
        columns = [c[0] for c in cursor.description]
        versions = [{**dict(zip(columns, v)), "changed": json.loads(v[2] or "[]")} for v in cursor.fetchall()]
        return dict(zip(names, row)), versions

    def source_overview(self) -> list[dict[str, Any]]:
        """Every source with its state, health, last success and articles per day over the last week."""
        return self._rows(
            "SELECT s.id, s.name, s.enabled, s.state, s.health, s.health_reason, s.consecutive_failures,"
            " s.last_success_at, s.last_error,"
            " (SELECT count(*) FROM articles a WHERE a.source_id = s.id) AS articles,"
            " (SELECT count(*) FROM articles a WHERE a.source_id = s.id AND a.first_seen >= strftime('%Y-%m-%dT%H:%M:%S', 'now', '-7 days'))"
            " / 7.0 AS per_day FROM sources s ORDER BY s.id",
            [],
        )

    def events_since(
        self, after_id: int = 0, limit: int = 100, source_id: str | None = None, types: list[str] | None = None,
        since: str | None = None,
    ) -> list[dict[str, Any]]:  # fmt: skip
        sql = "SELECT id, ts, type, source_id, article_id, data FROM events WHERE id > ?"
        params: list[Any] = [after_id]
        if source_id:
            sql += " AND source_id = ?"
            params.append(source_id)
        if types:
            sql += f" AND type IN ({','.join('?' * len(types))})"
            params.extend(types)
        if since:
            sql += " AND ts >= ?"
            params.append(since)
        rows = self.db.execute(sql + " ORDER BY id LIMIT ?", [*params, limit]).fetchall()
        keys = ("id", "ts", "type", "source_id", "article_id", "data")
        return [{**dict(zip(keys, row)), "data": json.loads(row[5] or "{}")} for row in rows]


_Call = tuple[Callable[["SyncStore"], Any], "asyncio.Future[Any]", bool]  # the call, its answer, in a crowd?
GROUP_COMMIT_MAX = 64  # calls at most in one transaction
# How long a crowd's call (a run's article saves) waits for company. Each commit writes a new FTS5 segment
# and rewrites the pages the transaction touched: a crawl writing 600 articles a second committed them
# 2-3 at a time, and the store thread spent a quarter of its time there (1.75 -> 1.3 CPU s per 3,000
# articles with the wait; 50 ms held the run's article tasks back).
GROUP_COMMIT_WINDOW = 0.01


class Store:
    """Async front of SyncStore: every call runs on the one store thread.

    Calls that queued up while the thread was busy run together in one transaction (group commit), each
    inside its own savepoint, and their callers hear back once it is committed: under load a commit is
    paid per batch instead of per call (it was 60 % of an article's write time), an article still lands
    whole or not at all, and a transaction is never held open waiting for work or the network. Calls
    made in crowds (``do_in_crowd``: a run's article saves) wait up to GROUP_COMMIT_WINDOW for company
    before the transaction begins."""

    def __init__(self, path: Path, calls: queue.SimpleQueue[_Call | None], thread: threading.Thread) -> None:
        self._path = path
        self._calls = calls
        self._thread = thread

    @classmethod
    async def open(cls, path: Path, commit_window: float = GROUP_COMMIT_WINDOW) -> Store:
        loop = asyncio.get_running_loop()
        opened: asyncio.Future[None] = loop.create_future()
        calls: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        thread = threading.Thread(target=_serve, args=(path, calls, loop, opened, commit_window), name="crawler-store",
                                  daemon=True)  # fmt: skip
        thread.start()
        try:
            await opened
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open database {path}: {exc}{_hint(exc)}") from exc
        return cls(path, calls, thread)

    async def do(self, method: Callable[Concatenate[SyncStore, P], R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run ``SyncStore.method(*args)`` on the store thread; sqlite errors become StoreError."""
        return await self._call(method, False, *args, **kwargs)

    async def do_in_crowd(self, method: Callable[Concatenate[SyncStore, P], R], *args: P.args, **kwargs: P.kwargs) -> R:
        """do(), for a call one of many made at once (a run's article saves): it may wait up to
        GROUP_COMMIT_WINDOW for others to share its transaction."""
        return await self._call(method, True, *args, **kwargs)

    async def _call(
        self, method: Callable[Concatenate[SyncStore, P], R], crowd: bool, *args: P.args, **kwargs: P.kwargs
    ) -> R:
        done: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._calls.put((lambda sync: method(sync, *args, **kwargs), done, crowd))
        try:
            return await done
        except sqlite3.Error as exc:
            raise StoreError(f"database {self._path}: {exc}{_hint(exc)} (in {method.__name__})") from exc

    async def close(self) -> None:
        self._calls.put(None)
        await asyncio.to_thread(self._thread.join)


def _serve(
    path: Path,
    calls: queue.SimpleQueue[_Call | None],
    loop: asyncio.AbstractEventLoop,
    opened: asyncio.Future[None],
    commit_window: float,
) -> None:
    """The store thread: open the database, then run queued calls in batches until told to stop."""
    try:
        sync = SyncStore(path)
    except BaseException as exc:  # handed to Store.open, which reports it
        loop.call_soon_threadsafe(_settle, opened, None, exc)
        return
    loop.call_soon_threadsafe(_settle, opened, None, None)
    try:
        while (first := calls.get()) is not None:
            batch = _gather(first, calls, commit_window)
            outcomes = _run_batch(sync, [call for call, _, _ in batch])
            # one wake-up of the event loop per batch, not per call
            loop.call_soon_threadsafe(_settle_all, [(done, *outcome) for (_, done, _), outcome in zip(batch, outcomes)])
    finally:
        sync.close()


def _gather(first: _Call, calls: queue.SimpleQueue[_Call | None], window: float) -> list[_Call]:
    """One transaction's calls: the first and those queued behind it, up to GROUP_COMMIT_MAX. While all
    of them are a crowd's, more are awaited until ``window`` seconds after the first; any other call (a
    lone caller waiting on each answer in turn) ends the wait."""
    batch = [first]
    deadline = time.monotonic() + window
    lingering = first[2]
    while len(batch) < GROUP_COMMIT_MAX:
        more = _next_waiting(calls, max(0.0, deadline - time.monotonic()) if lingering else 0.0)
        if more is None:
            break
        batch.append(more)
        lingering = lingering and more[2]
    return batch


def _next_waiting(calls: queue.SimpleQueue[_Call | None], wait: float = 0.0) -> _Call | None:
    """The next queued call (waiting up to ``wait`` seconds for one), or None when there is none or the
    queue says stop (put back for the main loop)."""
    try:
        call = calls.get(timeout=wait) if wait > 0 else calls.get_nowait()
    except queue.Empty:
        return None
    if call is None:
        calls.put(None)
    return call


def _run_batch(sync: SyncStore, batch: list[Callable[[SyncStore], Any]]) -> list[tuple[Any, BaseException | None]]:
    """Run the calls in one transaction, each in a savepoint. If the transaction itself fails (a full disk
    at commit, a busy database), roll it all back and run them one by one, so each caller gets its own
    outcome."""
    if len(batch) == 1:
        return [_run_one(sync, batch[0])]
    conn = sync.db.conn
    try:
        conn.execute("BEGIN")
        with sync.index_later():
            outcomes = [_run_in_savepoint(sync, call) for call in batch]
        conn.execute("COMMIT")
    except Exception:  # not lost: each call runs again on its own below and its caller gets what it raises
        if conn.in_transaction:
            conn.rollback()
        return [_run_one(sync, call) for call in batch]
    return outcomes


def _run_in_savepoint(sync: SyncStore, call: Callable[[SyncStore], Any]) -> tuple[Any, BaseException | None]:
    conn = sync.db.conn
    conn.execute("SAVEPOINT call")
    mark = sync.pending_index_mark()
    try:
        result = call(sync)
    except Exception as exc:  # the caller's to handle; undo its writes, keep the others'
        if not conn.in_transaction:
            raise  # the error ended the whole transaction: _run_batch runs the calls one by one
        conn.execute("ROLLBACK TO SAVEPOINT call")
        conn.execute("RELEASE SAVEPOINT call")
        sync.forget_index_rows(mark)
        return None, exc
    conn.execute("RELEASE SAVEPOINT call")
    return result, None


def _run_one(sync: SyncStore, call: Callable[[SyncStore], Any]) -> tuple[Any, BaseException | None]:
    try:
        return call(sync), None
    except Exception as exc:  # the caller's to handle
        return None, exc


def _settle_all(outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for done, result, error in outcomes:
        _settle(done, result, error)


def _settle(done: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if done.cancelled():
        return
    if error is not None:
        done.set_exception(error)
    else:
        done.set_result(result)


def _hint(exc: Exception) -> str:
    """What an operator should check, for the errors a disk or its permissions cause."""
    message = str(exc)
    if "disk is full" in message or "disk I/O error" in message:
        return " - the disk refused a write: is it full, or over a quota or file size limit?"
    if "readonly" in message or "unable to open" in message:
        return " - is the file, or its directory, read-only for this user?"
    return ""


def _encode(values: dict[str, Any]) -> dict[str, Any]:
    return {k: json.dumps(v, ensure_ascii=False) if k in _JSON_FIELDS else v for k, v in values.items()}


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    return {k: json.loads(v) if k in _JSON_FIELDS and isinstance(v, str) else v for k, v in row.items()}

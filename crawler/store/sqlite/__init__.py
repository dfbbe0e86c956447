"""The SQLite backend (the embedded default): sqlite-utils, WAL, one store thread with group commit.

``SqliteStore`` is the async Store; its methods queue the matching SyncSqlite call for the store thread
(commit.py). The domain parts are articles.py, sources.py and views.py, over base.py and schema.py.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from crawler.config import SourceConfig
from crawler.errors import StoreError
from crawler.events import Event
from crawler.extract.templates import TemplateBlock
from crawler.models import ArticleRecord, HostState, Validators
from crawler.store.sqlite.commit import GROUP_COMMIT_MAX, GROUP_COMMIT_WINDOW, Call, serve
from crawler.store.sqlite.connection import hint
from crawler.store.sqlite.sync import SyncSqlite
from crawler.store.values import (
    ArticleHistory,
    ArticleView,
    DiscoveryState,
    EventQuery,
    ExportQuery,
    FetchRecord,
    KnownArticle,
    RunOutcome,
    SavedHost,
    SaveResult,
    SearchHit,
    SearchQuery,
    SourceOverview,
    SourceState,
    StoreStats,
    StreamPosition,
    TemplateRow,
)

__all__ = ["GROUP_COMMIT_MAX", "GROUP_COMMIT_WINDOW", "SqliteStore", "SyncSqlite"]

P = ParamSpec("P")
R = TypeVar("R")


class SqliteStore:
    """The Store protocol over SQLite. Calls that queued up while the store thread was busy run together
    in one transaction (group commit), each inside its own savepoint, and their callers hear back once it
    is committed: under load a commit is paid per batch instead of per call (it was 60 % of an article's
    write time), an article still lands whole or not at all, and a transaction is never held open waiting
    for work or the network. Article saves (a run's crowd) wait up to GROUP_COMMIT_WINDOW for company
    before the transaction begins."""

    def __init__(self, path: Path, calls: queue.SimpleQueue[Call | None], thread: threading.Thread) -> None:
        self.path = path
        self._calls = calls
        self._thread = thread

    @classmethod
    async def open(
        cls, path: Path, *, read_only: bool = False, live: bool = False, commit_window: float = GROUP_COMMIT_WINDOW
    ) -> SqliteStore:
        """Open (create, migrate) the database at path; ``read_only``: an existing one, never written
        (``live``: watching a writer's changes)."""
        loop = asyncio.get_running_loop()
        opened: asyncio.Future[None] = loop.create_future()
        calls: queue.SimpleQueue[Call | None] = queue.SimpleQueue()

        def open_sync() -> SyncSqlite:
            return SyncSqlite(path, read_only=read_only, live=live)

        thread = threading.Thread(target=serve, args=(open_sync, calls, loop, opened, commit_window),
                                  name="crawler-store", daemon=True)  # fmt: skip
        thread.start()
        try:
            await opened
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open database {path}: {exc}{hint(exc)}") from exc
        return cls(path, calls, thread)

    async def do(self, method: Callable[Concatenate[SyncSqlite, P], R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run ``SyncSqlite.method(*args)`` on the store thread; sqlite errors become StoreError."""
        return await self._call(method, False, *args, **kwargs)

    async def do_in_crowd(
        self, method: Callable[Concatenate[SyncSqlite, P], R], *args: P.args, **kwargs: P.kwargs
    ) -> R:
        """do(), for a call one of many made at once (a run's article saves): it may wait up to
        GROUP_COMMIT_WINDOW for others to share its transaction."""
        return await self._call(method, True, *args, **kwargs)

    async def _call(
        self, method: Callable[Concatenate[SyncSqlite, P], R], crowd: bool, *args: P.args, **kwargs: P.kwargs
    ) -> R:
        done: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._calls.put((lambda sync: method(sync, *args, **kwargs), done, crowd))
        try:
            return await done
        except sqlite3.Error as exc:
            raise StoreError(f"database {self.path}: {exc}{hint(exc)} (in {method.__name__})") from exc

    async def close(self) -> None:
        self._calls.put(None)
        await asyncio.to_thread(self._thread.join)

    async def ping(self) -> None:
        await self.do(SyncSqlite.ping)

    # --- sources and runs ---

    async def sync_sources(self, sources: Iterable[SourceConfig], now: str) -> None:
        await self.do(SyncSqlite.sync_sources, list(sources), now)

    async def source_state(self, source_id: str) -> SourceState | None:
        return await self.do(SyncSqlite.source_state, source_id)

    async def finish_run(self, outcome: RunOutcome) -> list[Event]:
        return await self.do(SyncSqlite.finish_run, outcome)

    async def discovery_read_at(self, urls: list[str]) -> dict[str, str]:
        return await self.do(SyncSqlite.discovery_read_at, urls)

    async def discovery_state(self, url: str) -> DiscoveryState | None:
        return await self.do(SyncSqlite.discovery_state, url)

    async def save_discovery_state(self, state: DiscoveryState) -> None:
        await self.do(SyncSqlite.save_discovery_state, state)

    # --- articles ---

    async def known_articles(self, urls: list[str]) -> dict[str, KnownArticle]:
        return await self.do(SyncSqlite.known_articles, urls)

    async def due_articles(self, source_id: str, now: str, limit: int, everything: bool = False) -> list[KnownArticle]:
        return await self.do(SyncSqlite.due_articles, source_id, now, limit, everything)

    async def save_article(
        self, record: ArticleRecord, now: str, template: frozenset[str] = frozenset(), next_check: str | None = None,
        fetch: FetchRecord | None = None,
    ) -> SaveResult:  # fmt: skip
        return await self.do_in_crowd(SyncSqlite.save_article, record, now, template, next_check, fetch)

    async def mark_checked(
        self, article_id: int, validators: Validators, now: str, next_check: str | None = None
    ) -> None:
        await self.do(SyncSqlite.mark_checked, article_id, validators, now, next_check)

    async def mark_removed(self, article_id: int, now: str, reason: str, next_check: str | None) -> Event | None:
        return await self.do(SyncSqlite.mark_removed, article_id, now, reason, next_check)

    async def mark_restored(self, article_id: int, now: str) -> Event | None:
        return await self.do(SyncSqlite.mark_restored, article_id, now)

    # --- templates ---

    async def template_keys(self, source_id: str) -> frozenset[str]:
        return await self.do(SyncSqlite.template_keys, source_id)

    async def learn_template(self, source_id: str, now: str) -> list[TemplateBlock]:
        return await self.do(SyncSqlite.learn_template, source_id, now)

    async def template_rows(self, source_id: str | None = None) -> list[TemplateRow]:
        return await self.do(SyncSqlite.template_rows, source_id)

    async def reset_template(self, source_id: str) -> int:
        return await self.do(SyncSqlite.reset_template, source_id)

    # --- events, fetches, hosts ---

    async def add_event(self, event: Event) -> Event:
        return await self.do(SyncSqlite.add_event, event)

    async def events(self, query: EventQuery) -> list[Event]:
        return await self.do(SyncSqlite.events, query)

    async def stream_position(self, reader: str) -> StreamPosition | None:
        return await self.do(SyncSqlite.stream_position, reader)

    async def stream_end(self) -> StreamPosition:
        return await self.do(SyncSqlite.stream_end)

    async def save_stream_position(self, reader: str, position: StreamPosition) -> None:
        await self.do(SyncSqlite.save_stream_position, reader, position)

    async def record_fetch(self, fetch: FetchRecord) -> None:
        await self.do(SyncSqlite.record_fetch, fetch)

    async def prune_fetches(self, before: str) -> int:
        return await self.do(SyncSqlite.prune_fetches, before)

    async def save_hosts(self, states: list[HostState], now: str) -> None:
        await self.do(SyncSqlite.save_hosts, states, now)

    async def hosts(self) -> list[SavedHost]:
        return await self.do(SyncSqlite.hosts)

    # --- reading ---

    async def search(self, query: SearchQuery) -> list[SearchHit]:
        return await self.do(SyncSqlite.search, query)

    async def article(self, key: str) -> ArticleView | None:
        return await self.do(SyncSqlite.article, key)

    async def article_history(self, key: str) -> ArticleHistory | None:
        return await self.do(SyncSqlite.article_history, key)

    async def export_batch(self, query: ExportQuery) -> list[ArticleView]:
        return await self.do(SyncSqlite.export_batch, query)

    async def stats(self) -> StoreStats:
        return await self.do(SyncSqlite.stats)

    async def source_overview(self) -> list[SourceOverview]:
        return await self.do(SyncSqlite.source_overview)

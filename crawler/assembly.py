"""The composition root: the store, fetcher, notifier and parse workers a crawl runs on, built and closed
in one place for the daemon (schedule.py) and the one-pass crawl (crawl_once.py)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from crawler.config import Config
from crawler.events import Event, utc_now
from crawler.fetch import Fetcher
from crawler.notify import ArticleText, Notifier
from crawler.pipeline import Deps
from crawler.store import Store, open_store
from crawler.workers import Parser

__all__ = ["Parts", "assembled", "stored_text"]


@dataclass(frozen=True, slots=True)
class Parts:
    config: Config
    store: Store
    fetcher: Fetcher
    notifier: Notifier
    parser: Parser

    def deps(
        self,
        *,
        on_article_done: Callable[[str, str], None] | None = None,
        on_event: Callable[[Event], None] | None = None,
        on_fetch: Callable[[str, str, int | None], None] | None = None,
    ) -> Deps:
        """What a source run needs; every stored event goes to the sinks, and to ``on_event`` first."""
        submit = self.notifier.submit

        def published(event: Event) -> None:
            if on_event is not None:
                on_event(event)
            submit(event)

        return Deps(self.store, self.fetcher, self.config.crawler, on_article_done, published, on_fetch,
                    parser=self.parser)  # fmt: skip


def stored_text(store: Store) -> ArticleText:
    """What a sink's query is matched against: the stored article's title, body, tags and authors (as
    the search index holds them)."""

    async def text(article_id: int) -> str | None:
        view = await store.article(str(article_id))
        return None if view is None else "\n".join([view.title or "", view.body or "", *view.tags, *view.authors])

    return text


@contextlib.asynccontextmanager
async def assembled(config: Config) -> AsyncIterator[Parts]:
    """The parts, open, with the config's sources recorded in the store; all closed on the way out,
    parse workers first (they hold connections of their own), the store last."""
    settings = config.crawler
    async with contextlib.AsyncExitStack() as stack:
        store = await open_store(settings.database)
        stack.push_async_callback(store.close)
        turns = None
        if isinstance(settings.database, str):  # PostgreSQL: other processes fetch from the same hosts
            from crawler.cluster.turns import SharedTurns

            turns = await SharedTurns.open(settings.database)
            stack.push_async_callback(turns.aclose)
        fetcher = Fetcher(settings, turns=turns)
        stack.push_async_callback(fetcher.aclose)
        # On PostgreSQL the sinks are fed from the events stream by the scheduler (cluster/stream.py), in
        # the stream's order, not by each process that stores an event. [[sinks]] changes need a restart.
        in_process = [] if isinstance(settings.database, str) else config.sinks
        notifier = Notifier(in_process, settings.user_agent, stored_text(store))
        notifier.start()
        stack.push_async_callback(notifier.aclose)
        parser = Parser(settings.parse_processes, settings)
        stack.push_async_callback(parser.aclose)
        await store.sync_sources(config.sources, utc_now())
        yield Parts(config, store, fetcher, notifier, parser)

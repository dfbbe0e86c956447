"""The Store contract: every method of the protocol, through open_store, for every backend (SQLite, the
embedded default, for now). What a second backend must pass unchanged: the same values back, the same
events, all-or-nothing saves and idempotent re-runs. Real database files; nothing mocked."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from crawler.config import SourceConfig
from crawler.dedupe import content_hash
from crawler.errors import StoreError
from crawler.events import Event
from crawler.models import ArticleRecord, HostState, Link, Validators
from crawler.neardup import signature
from crawler.search import index_text, parse_query
from crawler.store import Store, open_store
from crawler.store.values import (
    DiscoveryState,
    EventQuery,
    ExportQuery,
    FetchRecord,
    RunOutcome,
    SearchQuery,
    StreamPosition,
)

T0, T1, T2 = "2026-01-01T00:00:00.000+00:00", "2026-01-02T00:00:00.000+00:00", "2026-01-03T00:00:00.000+00:00"
STORY = " ".join(f"word{n}" for n in range(80))


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each backend's database, empty: an SQLite file, a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'contract.db'}"
    return str(request.getfixturevalue("postgres_database"))


def source(source_id: str) -> SourceConfig:
    return SourceConfig(
        id=source_id, name=source_id.upper(), feeds=[f"https://{source_id}.example/feed"], interval="1h"
    )


def record(number: int, source_id: str = "a", body: str | None = None, title: str | None = None) -> ArticleRecord:
    body = body or f"Article {number}: the council approved the budget after a long debate. {STORY}"
    title = title or f"Council story {number}"
    url = f"https://{source_id}.example/news/{number}"
    fields = {"title": title, "body": body}
    return ArticleRecord(
        source_id=source_id, url=url, canonical_url=url, title=title, published=None, modified=None, authors=["A"],
        section="Politics", tags=["budget"], language="en", image=None, site_name=None, description=None, body=body,
        content_hash=content_hash(fields), etag='"1"', last_modified=None, signature=signature(body),
        search_form=(index_text(title), index_text(body)),
    )  # fmt: skip


def fetch(url: str, ts: str = T0) -> FetchRecord:
    return FetchRecord(ts, "a", url, "article", 200, "ok", 1000, 1.5, None)


def with_store(database: str, test: Callable[[Store], Coroutine[Any, Any, None]]) -> None:
    async def run() -> None:
        store = await open_store(database)
        try:
            await store.sync_sources([source("a"), source("b")], T0)
            await test(store)
        finally:
            await store.close()

    asyncio.run(run())


def test_sources_runs_and_discovery_state(database: str) -> None:
    async def test(store: Store) -> None:
        state = await store.source_state("a")
        assert state is not None and (state.name, state.state, state.consecutive_failures) == ("A", "ok", 0)
        assert await store.source_state("nobody") is None
        assert await store.finish_run(RunOutcome("a", False, "HTTP 500", T1, 2)) == []
        [failing] = await store.finish_run(RunOutcome("a", False, "HTTP 500", T1, 2))
        assert failing.type == "source_failing" and failing.id is not None
        state = await store.source_state("a")
        assert state is not None and (state.state, state.consecutive_failures, state.last_error) == (
            "failing",
            2,
            "HTTP 500",
        )
        [recovered] = await store.finish_run(RunOutcome("a", True, None, T2, 2))
        state = await store.source_state("a")
        assert recovered.type == "source_recovered" and state is not None and state.last_success_at == T2
        links = [Link("https://a.example/news/1", "https://a.example/feed", "feed", T0)]
        page = DiscoveryState("https://a.example/feed", "a", "feed", Validators('"e"', None), links, [], 200, T1)
        await store.save_discovery_state(page)
        assert await store.discovery_state("https://a.example/feed") == page
        assert await store.discovery_state("https://a.example/other") is None
        read_at = await store.discovery_read_at(["https://a.example/feed", "https://a.example/other"])
        assert read_at == {"https://a.example/feed": T1}  # never read: not in the answer
        await store.sync_sources([source("a")], T2)  # a known source keeps its runtime state
        assert (await store.source_state("a")).last_success_at == T2  # type: ignore[union-attr]
        [overview_a, _] = await store.source_overview()
        assert (overview_a.id, overview_a.state, overview_a.articles, overview_a.last_warning) == ("a", "ok", 0, None)
        refused = "no article link taken: 3 not matching article_url_pattern '/x/'"
        await store.finish_run(RunOutcome("a", True, None, T2, 2, warning=refused))
        await store.finish_run(RunOutcome("a", False, "HTTP 500", T2, 2))  # a failed run keeps the warning
        [overview_a, _] = await store.source_overview()
        assert overview_a.last_warning == refused
        await store.finish_run(RunOutcome("a", True, None, T2, 2))  # a working run that took links clears it
        [overview_a, _] = await store.source_overview()
        assert overview_a.last_warning is None

    with_store(database, test)


def test_a_save_writes_the_article_its_version_search_row_fetch_and_event_together(database: str) -> None:
    async def test(store: Store) -> None:
        first = record(1)
        saved = await store.save_article(first, T0, frozenset(), T1, fetch(first.url))
        assert saved.kind == "new" and [e.type for e in saved.events] == ["article_new"]
        assert saved.events[0].article_id == saved.article_id and saved.events[0].id is not None
        known = await store.known_articles([first.url, "https://a.example/news/unknown"])
        assert list(known) == [first.url] and known[first.url].id == saved.article_id
        assert known[first.url].validators == Validators('"1"', None)
        view = await store.article(first.url)
        assert view is not None and (view.title, view.authors, view.tags, view.versions) == (
            first.title,
            ["A"],
            ["budget"],
            1,
        )
        assert await store.article(str(saved.article_id)) == view
        [hit] = await store.search(SearchQuery(parse_query("council budget")))
        assert hit.id == saved.article_id and hit.canonical_url == first.url
        stats = await store.stats()
        assert (stats.articles, stats.versions, stats.events_per_type, stats.fetches_per_outcome) == (
            1, 1, {"article_new": 1}, {"ok": 1})  # fmt: skip

    with_store(database, test)


def test_a_failed_save_leaves_nothing_behind(database: str) -> None:
    async def test(store: Store) -> None:
        orphan = record(1, source_id="unknown")  # no such source: the database refuses the article
        with pytest.raises(StoreError):
            await store.save_article(orphan, T0, frozenset(), None, fetch(orphan.url))
        stats = await store.stats()
        assert (stats.articles, stats.versions, stats.events_per_type, stats.fetches_per_outcome) == (0, 0, {}, {})
        assert await store.search(SearchQuery(parse_query("council"))) == []
        assert (await store.save_article(record(2), T0)).kind == "new"  # the store goes on

    with_store(database, test)


def test_saving_the_same_page_again_is_idempotent_and_an_edit_is_one_version(database: str) -> None:
    async def test(store: Store) -> None:
        first = record(1)
        new = await store.save_article(first, T0)
        again = await store.save_article(first, T1)
        assert (again.kind, again.article_id, again.events) == ("unchanged", new.article_id, ())
        edited = replace(record(1, title="Council story 1, corrected"), content_hash="edited")
        updated = await store.save_article(edited, T2)
        assert updated.kind == "updated" and [e.type for e in updated.events] == ["article_updated"]
        assert updated.events[0].data["changed"] == ["title"]
        history = await store.article_history(first.url)
        assert history is not None and [v.version for v in history.versions] == [1, 2]
        assert [v.changed for v in history.versions] == [[], ["title"]]
        stats = await store.stats()
        assert (stats.articles, stats.versions) == (1, 2)
        assert [hit.title for hit in await store.search(SearchQuery(parse_query("corrected")))] == [edited.title]

    with_store(database, test)


def test_a_copy_on_another_source_joins_the_first_ones_story(database: str) -> None:
    async def test(store: Store) -> None:
        original = await store.save_article(record(1), T0)
        copy = await store.save_article(record(1, source_id="b"), T1)
        assert [e.type for e in copy.events] == ["article_new", "article_duplicate"]
        assert copy.events[1].data["duplicate_of"] == original.article_id
        view = await store.article(str(copy.article_id))
        assert view is not None and view.story_id == original.article_id

    with_store(database, test)


def test_rechecks_removal_and_restoration(database: str) -> None:
    async def test(store: Store) -> None:
        saved = await store.save_article(record(1), T0, frozenset(), T1)
        assert [k.id for k in await store.due_articles("a", T0, 10)] == []
        assert [k.id for k in await store.due_articles("a", T1, 10)] == [saved.article_id]
        assert [k.id for k in await store.due_articles("a", T0, 10, everything=True)] == [saved.article_id]
        await store.mark_checked(saved.article_id, Validators('"2"', None), T1, T2)
        assert (await store.known_articles([record(1).url]))[record(1).url].etag == '"2"'
        removed = await store.mark_removed(saved.article_id, T1, "HTTP 404", T2)
        assert removed is not None and removed.type == "article_removed"
        assert await store.mark_removed(saved.article_id, T1, "HTTP 404", T2) is None  # once
        restored = await store.mark_restored(saved.article_id, T2)
        assert restored is not None and restored.data["removed_at"] == T1
        assert await store.mark_restored(saved.article_id, T2) is None

    with_store(database, test)


def test_templates_events_fetches_hosts_and_exports(database: str) -> None:
    async def test(store: Store) -> None:
        promo = "Follow us on Telegram for the latest news."
        for number in range(6):
            await store.save_article(record(number, body=f"Story {number} has its own text.\n\n{promo}"), T0)
        [block] = await store.learn_template("a", T1)
        assert block.text == promo and await store.template_keys("a") == frozenset({block.key})
        assert [row.key for row in await store.template_rows("a")] == [block.key]
        assert await store.learn_template("a", T1) == []  # learned once
        assert await store.reset_template("a") == 1 and await store.template_keys("a") == frozenset()
        failed = await store.add_event(Event("fetch_failed", "b", None, {"url": "https://b.example/x"}, ts=T1))
        assert failed.id is not None
        found = await store.events(EventQuery(types=("fetch_failed",)))
        assert found == [failed]
        assert len(await store.events(EventQuery(after_id=0, limit=3))) == 3
        await store.record_fetch(fetch("https://a.example/old", ts=T0))
        await store.record_fetch(fetch("https://a.example/new", ts=T2))
        assert await store.prune_fetches(T1) == 1 and await store.prune_fetches(T1) == 0
        host = HostState("a.example", 0.5, 0.0, None, 200, None, T1, 7, 0, "ok")
        await store.save_hosts([host], T1)
        [saved_host] = await store.hosts()
        assert saved_host.state == host and saved_host.updated_at == T1
        first = await store.export_batch(ExportQuery(source_id="a", batch=4))
        rest = await store.export_batch(ExportQuery(source_id="a", batch=4, after_id=first[-1].id))
        assert [view.id for view in first + rest] == sorted(view.id for view in first + rest) and len(first + rest) == 6
        assert await store.export_batch(ExportQuery(source_id="b")) == []
        await store.ping()

    with_store(database, test)


def test_the_events_stream_pages_from_a_saved_position(database: str) -> None:
    async def test(store: Store) -> None:
        assert await store.stream_end() == StreamPosition() and await store.stream_position("sinks") is None
        stored = [await store.add_event(Event("source_stale", "a", None, {"n": n}, ts=T1)) for n in range(5)]
        assert await store.stream_end() == StreamPosition.of(stored[-1])
        first = await store.events(EventQuery(limit=2))
        await store.save_stream_position("sinks", StreamPosition.of(first[-1]))
        position = await store.stream_position("sinks")
        assert position == StreamPosition.of(stored[1])
        rest = await store.events(EventQuery(after=position))
        assert [event.data["n"] for event in first + rest] == [0, 1, 2, 3, 4]
        assert await store.events(EventQuery(after_id=stored[3].id or 0)) == [stored[4]]  # --after ID
        assert await store.events(EventQuery(limit=2, newest=True)) == stored[3:]  # the newest, oldest first
        await store.save_stream_position("sinks", StreamPosition.of(stored[-1]))  # moved on, not added
        assert await store.stream_position("sinks") == StreamPosition.of(stored[-1])

    with_store(database, test)


def test_a_read_only_store_reads_and_refuses_to_write(database: str) -> None:
    with_store(database, lambda store: _save(store))

    async def read() -> None:
        store = await open_store(database, read_only=True)
        try:
            assert (await store.stats()).articles == 1
            with pytest.raises(StoreError):
                await store.save_article(record(2), T1)
        finally:
            await store.close()

    asyncio.run(read())


async def _save(store: Store) -> None:
    await store.save_article(record(1), T0)


def test_open_store_names_what_it_cannot_open(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no store backend for mysql://"):
        asyncio.run(open_store("mysql://localhost/crawler"))
    with pytest.raises(StoreError, match="missing.db"):
        asyncio.run(open_store(tmp_path / "missing.db", read_only=True))


def test_arabic_spelling_variants_find_each_other_on_every_backend(database: str) -> None:
    body = "أعلنت وزارةُ الخارجيّة العراقية اليوم عن زيارة رسمية. " + STORY

    async def test(store: Store) -> None:
        await store.save_article(record(1, body=body, title="بيان من الخارجية"), T0)
        await store.save_article(record(2, body="The council approved the budget. " + STORY), T0)
        for query in ("وزاره الخارجيه", "وزارة الخارجية", "والخارجية", "الخارجيّة", "بالعراقيه"[1:]):
            hits = await store.search(SearchQuery(parse_query(query)))
            assert [hit.canonical_url for hit in hits] == [record(1).url], query
        assert await store.search(SearchQuery(parse_query("وزارة"), source_id="b")) == []
        assert await store.search(SearchQuery(parse_query('" OR 1 NEAR(a) title:x *'))) == []  # never syntax

    with_store(database, test)


def test_or_exclusion_and_prefix_mean_the_same_on_every_backend(database: str) -> None:
    bodies = {1: "Oil prices rose in Basra today.", 2: "Gas prices fell in Baghdad today.", 3: "Sport news from Basra."}

    async def test(store: Store) -> None:
        for number, text in bodies.items():
            await store.save_article(record(number, body=f"{text} {STORY}", title=f"Story {number}"), T0)

        async def found(query: str) -> set[int]:
            hits = await store.search(SearchQuery(parse_query(query)))
            return {int(hit.canonical_url.rsplit("/", 1)[1]) for hit in hits}

        assert await found("prices today") == {1, 2}
        assert await found("oil OR gas") == {1, 2}
        assert await found("basra -sport") == {1}  # an excluded word keeps its articles out
        assert await found("bas*") == {1, 3}  # a prefix
        assert await found("bag* OR sport -gas") == {3}
        assert await found("-sport") == set()  # only exclusions: nothing to find
        assert await found('"prices rose"') == {1}  # a phrase: its words next to each other, in order
        assert await found('"rose prices"') == set()
        assert await found('basra -"sport news"') == {1}
        assert await found('"in basra" OR "in baghdad"') == {1, 2}
        assert await found("oil OR gas fell") == {2}  # an OR group, then a word: both must hold

    with_store(database, test)


def test_plurals_tags_and_authors_are_found_the_same_on_every_backend(database: str) -> None:
    bodies = {1: "Two companies raised oil prices.", 2: "The company said the price held.", 3: "Sport news."}

    async def test(store: Store) -> None:
        for number, text in bodies.items():
            tagged = replace(record(number, body=f"{text} {STORY}", title=f"Story {number}"), search_form=None,
                             tags=["Basra ports"] if number == 3 else [], authors=["Zainab Hassan"] if number == 3 else [])  # fmt: skip
            await store.save_article(tagged, T0)

        async def found(query: str) -> set[int]:
            hits = await store.search(SearchQuery(parse_query(query)))
            return {int(hit.canonical_url.rsplit("/", 1)[1]) for hit in hits}

        assert await found("company") == await found("companies") == {1, 2}  # either form finds both
        assert await found("prices") == {1, 2}
        assert await found('"oil prices"') == await found('"oil price"') == {1}  # a phrase keeps its places
        assert await found("news") == {3} and await found("new") == set()  # "news" is not a plural
        assert await found("basra port") == {3}  # a tag
        assert await found('"zainab hassan"') == {3}  # an author

    with_store(database, test)


def test_a_password_in_a_postgresql_url_never_shows(tmp_path: Path) -> None:
    from crawler.config import CrawlerSettings

    settings = CrawlerSettings(database="postgresql://crawler:s3cret@127.0.0.1:1/nowhere")
    assert settings.database_label == "postgresql://crawler:***@127.0.0.1:1/nowhere"
    with pytest.raises(StoreError) as refused:
        asyncio.run(open_store(settings.database))
    assert "s3cret" not in str(refused.value) and "crawler:***@127.0.0.1:1/nowhere" in str(refused.value)

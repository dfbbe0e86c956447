"""The pipeline: one run of one source, stage by stage. The ONLY place the stage order is written.

    discover  feeds, sitemaps, listing pages → links (conditional GET; a 304 reuses the stored links)
    select    drop links already stored, except those due for a re-check
    fetch     new links, and due re-checks with their ETag/Last-Modified   } each exchange in a worker
    extract   page → ExtractedArticle                                      } process (parse_processes),
    normalise → ArticleRecord                                              } which parses what it fetched
    store     new article / new version / unchanged, with its event, in one transaction
    events    logged as they are stored; source_failing / source_recovered after the run

(crawler/workers.py; without workers, pages are fetched in this process and parsed in threads.)
A failing page never fails the run; a run fails when every discovery page failed or a CrawlerError
escaped. StoreError (the database refused a write) and unexpected exceptions propagate to the caller.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from crawler.config import CrawlerSettings, SourceConfig
from crawler.decide import children_this_run
from crawler.discover import discover_links
from crawler.errors import (
    CrawlerError,
    DiscoveryError,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    NotHtml,
    ParseFailed,
    StoreError,
)
from crawler.events import Event, publish, utc_now
from crawler.fetch import Exchange, Fetcher
from crawler.models import DiscoveryKind, Link, Page, RunSummary, Validators
from crawler.store import Store
from crawler.store.values import DiscoveryState, FetchOutcome, FetchRecord, KnownArticle, RunOutcome
from crawler.urls import BadUrl, UrlPolicy, canonicalize
from crawler.workers import Parser, ParseSpec

__all__ = ["Deps", "article_policy", "discovery_policy", "record_failed_run", "run_concurrently", "run_source"]
logger = logging.getLogger(__name__)
T = TypeVar("T")

_MAX_CHILD_SITEMAPS = 50


@dataclass(slots=True)
class Deps:
    """What a source run needs from outside: the store, the shared fetcher and settings."""

    store: Store
    fetcher: Fetcher
    settings: CrawlerSettings
    on_article_done: Callable[[str, str], None] | None = field(default=None)  # (source id, outcome) for progress
    on_event: Callable[[Event], None] | None = field(default=None)  # stored events, for the notifier's sinks
    on_fetch: Callable[[str, str, int | None], None] | None = field(default=None)  # (source id, kind, status)
    parser: Parser = field(default_factory=lambda: Parser(0))  # where article pages are fetched and parsed (workers.py)
    # Article pages between the start of their fetch and the end of their storing, across sources: twice
    # the fetch concurrency, so fetching never waits on parsing that keeps up, and fetched pages cannot
    # pile up in memory when it does not (650 pages, 90 MB, had piled up in a 3,000-page crawl).
    pages_in_flight: asyncio.Semaphore = field(init=False)
    # Discovery pages are parsed one at a time across sources: a listing page at max_page_bytes makes an
    # HTML tree of ~15 times its size, and threads would hold one each (the GIL gains nothing from more).
    discovery_parsing: asyncio.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        self.pages_in_flight = asyncio.Semaphore(2 * self.settings.concurrency)
        self.discovery_parsing = asyncio.Semaphore(1)


async def run_source(source: SourceConfig, deps: Deps, *, recheck_all: bool = False) -> RunSummary:
    """Run every stage for one source once and record the run's outcome."""
    summary = RunSummary(source.id)
    policy = article_policy(source)
    try:
        links = await _discover(source, policy, deps, summary)
        new, due = await _select(links, source, deps, recheck_all)
        template = await deps.store.template_keys(source.id)
        spec = ParseSpec(source, policy, source.extract.rules(), template)
        if new or due:
            await deps.parser.ready()  # no pages, no workers started; and workers that cannot start are not used
        via = deps.parser.exchange_for(spec) if new or due else None
        job = _Job(source, policy, deps, summary, spec, via)
        pages: list[tuple[Link, KnownArticle | None]] = [(link, None) for link in new[: source.max_articles_per_run]]
        pages += due
        if len(new) > source.max_articles_per_run:
            summary.skipped["over_max_articles_per_run"] = len(new) - source.max_articles_per_run
        await _collect_all(pages, job)
        if summary.new:
            await _learn_template(source, deps)
    except StoreError:
        raise  # the database refused a write: not this source's failure, and nothing more can be recorded
    except CrawlerError as exc:
        summary.error = str(exc)
        logger.error("source %s: run failed: %s", source.id, exc, extra={"fields": {"source": source.id}})
    await _finish(source, deps, summary)
    return summary


async def run_concurrently(jobs: Iterable[Coroutine[Any, Any, T]]) -> list[T]:
    """Run jobs concurrently and return their results. When one raises, the others are cancelled (none
    is left running against a closing store or client) and its exception is raised as it is."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(job) for job in jobs]
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return [task.result() for task in tasks]


async def record_failed_run(source: SourceConfig, deps: Deps, reason: str) -> RunSummary:
    """Record a run that was cut short (timeout, unexpected error) as a failed run."""
    summary = RunSummary(source.id, error=reason)
    await _finish(source, deps, summary)
    return summary


def article_policy(source: SourceConfig) -> UrlPolicy:
    pattern = re.compile(source.article_url_pattern) if source.article_url_pattern else None
    return UrlPolicy(source.domains, pattern)


def discovery_policy(source: SourceConfig) -> UrlPolicy:
    """Configured discovery URLs are trusted: their hosts are allowed even outside allowed_domains."""
    hosts = {urlsplit(url).hostname or "" for _, url in source.discovery_urls}
    return UrlPolicy(tuple(sorted(set(source.domains) | hosts - {""})))


# --- stage 1: discover ----------------------------------------------------------------------------------


async def _discover(source: SourceConfig, policy: UrlPolicy, deps: Deps, summary: RunSummary) -> list[Link]:
    queue: list[tuple[DiscoveryKind, str]] = list(source.discovery_urls)  # type: ignore[arg-type]
    fetch_policy = discovery_policy(source)
    links: dict[str, Link] = {}
    refused = {"off_domain": 0, "not_article": 0}  # links the source's own filters turned away, this run
    children_left = _MAX_CHILD_SITEMAPS
    fetched: set[str] = set()  # an index that lists itself, or two that list each other, is read once a run
    while queue:
        kind, url = queue.pop(0)
        key = _spelling(url)
        if key in fetched:
            logger.debug("%s: %s was read already this run (a sitemap index loops)", source.id, url)
            continue
        fetched.add(key)
        state = await deps.store.discovery_state(url)
        try:
            page = await deps.fetcher.fetch(url, fetch_policy, state.validators if state else None)
            if page.not_modified and state is not None:
                await _record_fetch(deps, source, url, kind, page=page)
                found, children = state.links, state.children
            else:
                async with deps.discovery_parsing:
                    cap = deps.settings.max_links_per_page
                    discovered = await asyncio.to_thread(discover_links, page, kind, policy, cap)
                await _record_fetch(deps, source, url, kind, page=page, note=discovered.problem)
                found, children = discovered.links, discovered.child_sitemaps
                refused["off_domain"] += discovered.off_domain
                refused["not_article"] += discovered.not_article
                if discovered.bad_links:
                    summary.skipped["bad_link"] = summary.skipped.get("bad_link", 0) + discovered.bad_links
                if discovered.over_cap:
                    logger.warning("%s: %s has %d links over max_links_per_page (%d), not read", source.id, url,
                                   discovered.over_cap, deps.settings.max_links_per_page)  # fmt: skip
                    over = summary.skipped.get("over_max_links_per_page", 0)
                    summary.skipped["over_max_links_per_page"] = over + discovered.over_cap
                # A page whose every link the filters refused keeps no validators: read in full next run too,
                # its refusals are counted again and the warning repeats instead of a silent 304.
                refused_all = not found and (discovered.off_domain or discovered.not_article)
                validators = Validators() if refused_all else page.validators
                await deps.store.save_discovery_state(
                    DiscoveryState(url, source.id, kind, validators, found, children, page.status, utc_now())
                )
            children = [child for child in children if _spelling(child) not in fetched]  # a loop is not a new child
            if len(children) > children_left:
                read_at = await deps.store.discovery_read_at(children)
                children, waiting = children_this_run(children, read_at, children_left)
                logger.warning("%s: %s lists %d more child sitemaps than a run reads (%d); they are read on "
                               "later runs, those read longest ago first", source.id, url, waiting,
                               _MAX_CHILD_SITEMAPS)  # fmt: skip
                summary.skipped["child_sitemaps_later"] = summary.skipped.get("child_sitemaps_later", 0) + waiting
            for child in children:  # an unchanged index still has children that changed
                queue.append(("sitemap", child))
            children_left -= len(children)
        except (FetchError, DiscoveryError) as exc:
            summary.discovery_failed += 1
            summary.discovery_timeouts += isinstance(exc, FetchTimeout)
            if isinstance(exc, DiscoveryError):
                await _record_fetch(deps, source, url, kind, error=exc.reason, outcome="unusable")
            else:
                await _record_fetch(deps, source, url, kind, error=exc.reason, status=getattr(exc, "status", None))
            await _emit(deps, Event("fetch_failed", source.id, data={"url": url, "kind": kind, "reason": exc.reason}))
            continue
        summary.discovery_ok += 1
        for link in found:
            links.setdefault(link.url, link)
    if not links and any(refused.values()):
        summary.warning = f"no article link taken: {_refusals(source, refused)}"
        logger.warning("%s: %s", source.id, summary.warning)
    return list(links.values())


def _refusals(source: SourceConfig, refused: dict[str, int]) -> str:
    """Which of the source's filters turned every link away (a run that finds nothing says why)."""
    reasons = []
    if refused["off_domain"]:
        reasons.append(f"{refused['off_domain']} link(s) outside allowed_domains {list(source.domains)}")
    if refused["not_article"]:
        reasons.append(f"{refused['not_article']} not matching article_url_pattern {source.article_url_pattern!r}")
    return "; ".join(reasons)


def _spelling(url: str) -> str:
    """One spelling of a discovery URL, to notice the same page listed twice."""
    try:
        return canonicalize(url)
    except BadUrl:
        return url


# --- stage 2: select ------------------------------------------------------------------------------------


async def _select(
    links: list[Link], source: SourceConfig, deps: Deps, recheck_all: bool
) -> tuple[list[Link], list[tuple[Link, KnownArticle]]]:
    """New links; known links whose last check is older than the source's recheck_interval; and stored
    articles due by their age (recheck_after), listed or not, at most max_articles_per_run of them, taken
    after the new links so re-checks never starve discovery (--recheck-all: every stored article)."""
    known = await deps.store.known_articles([link.url for link in links])
    now = utc_now()
    cutoff = (datetime.fromisoformat(now) - source.recheck_interval).isoformat()
    new: list[Link] = []
    due: list[tuple[Link, KnownArticle]] = []
    rechecked: set[int] = set()
    for link in links:
        row = known.get(link.url)
        if row is None:
            new.append(link)
        elif row.id not in rechecked and (recheck_all or (row.last_checked or "") <= cutoff):
            rechecked.add(row.id)
            due.append((link, row))
    scheduled = await deps.store.due_articles(source.id, now, source.max_articles_per_run, recheck_all)
    for row in scheduled:
        if row.id not in rechecked:
            rechecked.add(row.id)
            due.append((Link(row.url, found_on="schedule", kind="schedule"), row))
    return new, due


def next_check(first_seen: str, now: str, ages: list[timedelta]) -> str | None:
    """The first age on the source's recheck_after schedule not yet past, as a timestamp; None after the
    last (the article is no longer re-checked unless it is still listed or --recheck-all asks)."""
    born, current = datetime.fromisoformat(first_seen), datetime.fromisoformat(now)
    for age in ages:
        if born + age >= current:
            return (born + age).isoformat(timespec="milliseconds")
    return None


# --- stages 3-6: fetch, extract, normalise, store -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Job:
    """What every article of one source run shares."""

    source: SourceConfig
    policy: UrlPolicy
    deps: Deps
    summary: RunSummary
    spec: ParseSpec
    via: Exchange | None  # article pages are fetched and parsed in a worker, or (None) fetched here


async def _collect_all(pages: list[tuple[Link, KnownArticle | None]], job: _Job) -> None:
    """Every page, by as many tasks as pages may be in flight: one task per page would hold a task and a
    coroutine per link before any was fetched: 4 MB per 3,000 links, over 130 MB for a sitemap of 100,000."""
    queue = iter(pages)

    async def take_turns() -> None:
        for link, known in queue:  # the tasks share the iterator: each page is taken once
            async with job.deps.pages_in_flight:
                await _collect_page(link, known, job)

    await run_concurrently(take_turns() for _ in range(min(len(pages), 2 * job.deps.settings.concurrency)))


async def _collect_page(link: Link, known: KnownArticle | None, job: _Job) -> None:
    source, policy, deps, summary = job.source, job.policy, job.deps, job.summary
    kind = "recheck" if known else "article"
    validators = known.validators if known else None
    outcome = "failed"
    try:
        try:
            page = await deps.fetcher.fetch(known.url if known else link.url, policy, validators, via=job.via)
        except FetchError as exc:
            if known and isinstance(exc, HTTPStatusError) and exc.status in (404, 410):
                await _record_fetch(deps, source, exc.url, kind, error=exc.reason, status=exc.status, outcome="gone")
                await _removed(known, f"HTTP {exc.status}", job)
                outcome = "removed"
                return
            summary.failed += 1
            await _record_fetch(deps, source, exc.url, kind, error=exc.reason, status=getattr(exc, "status", None))
            await _emit(deps, Event("fetch_failed", source.id, known.id if known else None,
                                    {"url": exc.url, "kind": kind, "reason": exc.reason}))  # fmt: skip
            return
        except ParseFailed as exc:  # the worker making the exchange died or hung
            await _parse_failed(exc, link, kind, None, job)
            outcome = "skipped"
            return
        if known and _sent_home(known.url, page.final_url):
            await _record_fetch(deps, source, link.url, kind, page=page)
            await _removed(known, "redirected to the home page", job)
            outcome = "removed"
            return
        if page.not_modified and known:
            await _record_fetch(deps, source, link.url, kind, page=page)
            now = utc_now()
            upcoming = next_check(known.first_seen or now, now, source.recheck_after)
            await deps.store.mark_checked(known.id, page.validators, now, upcoming)
            await _restored(known, job)
            summary.unchanged += 1
            outcome = "unchanged"
            return
        try:
            parsed = await deps.parser.parse(page, job.spec)
        except NotHtml as exc:  # an image, a PDF or nothing where the article should be: not stored
            await _record_fetch(deps, source, link.url, kind, page=page, error=str(exc))
            summary.skip("not_html")
            outcome = "skipped"
            return
        except ParseFailed as exc:
            await _parse_failed(exc, link, kind, page, job)
            outcome = "skipped"
            return
        article, record = parsed.article, parsed.record
        summary.extracted += 1
        summary.poor += record is None or not article.title
        summary.undated += article.published is None
        summary.body_chars += len(article.body)
        if record is None:
            # a new page without text is not an article; a known article without text is a broken page
            # or template, never a new version that erases what was stored
            why = article.empty_body_reason or f"only {len(article.body)} characters of article text"
            await _record_fetch(deps, source, link.url, kind, page=page, error=f"no article text: {why}")
            summary.skip("empty_extraction" if known else "not_an_article")
            outcome = "skipped"
            return
        fetched = _fetch_row(deps, source, link.url, kind, page=page)
        now = utc_now()
        upcoming = next_check((known.first_seen or now) if known else now, now, source.recheck_after)
        saved = await deps.store.save_article(record, now, job.spec.template, upcoming, fetched)
        if known:
            await _restored(known, job)
        outcome = saved.kind
        setattr(summary, saved.kind, getattr(summary, saved.kind) + 1)
        for event in saved.events:
            _publish(deps, event)
    finally:
        if deps.on_article_done:
            deps.on_article_done(source.id, outcome)


async def _parse_failed(exc: ParseFailed, link: Link, kind: str, page: Page | None, job: _Job) -> None:
    logger.error("source %s: %s", job.source.id, exc)
    await _record_fetch(job.deps, job.source, link.url, kind, page=page, error=str(exc),
                        outcome=None if page else "unusable")  # fmt: skip
    job.summary.skip("parse_failed")


async def _restored(known: KnownArticle, job: _Job) -> None:
    """A removed article answered again."""
    if known.removed_at is None:
        return
    event = await job.deps.store.mark_restored(known.id, utc_now())
    if event is not None:
        _publish(job.deps, event)


async def _removed(known: KnownArticle, reason: str, job: _Job) -> None:
    now = utc_now()
    upcoming = next_check(known.first_seen or now, now, job.source.recheck_after)
    event = await job.deps.store.mark_removed(known.id, now, reason, upcoming)
    if event is not None:
        _publish(job.deps, event)
    job.summary.skip("removed")


def _sent_home(article_url: str, final_url: str) -> bool:
    """A known article that now redirects to its site's front page was taken down."""
    before, after = urlsplit(article_url), urlsplit(final_url)
    return after.path in ("", "/") and before.path not in ("", "/") and not after.query


async def _learn_template(source: SourceConfig, deps: Deps) -> None:
    """New articles arrived: look again for blocks that recur across this source's pages."""
    learned = await deps.store.learn_template(source.id, utc_now())
    if learned:
        logger.info(
            "source %s: learned %d site-template block(s), e.g. %r",
            source.id,
            len(learned),
            learned[0].text[:80],
            extra={"fields": {"source": source.id, "template_blocks": len(learned)}},
        )


# --- records and events ---------------------------------------------------------------------------------


async def _record_fetch(
    deps: Deps, source: SourceConfig, url: str, kind: str, *, page: Page | None = None,
    error: str | None = None, status: int | None = None, outcome: FetchOutcome | None = None, note: str | None = None,
) -> None:  # fmt: skip
    """One fetches row (see _fetch_row), written now."""
    row = _fetch_row(deps, source, url, kind, page=page, error=error, status=status, outcome=outcome, note=note)
    await deps.store.record_fetch(row)


def _fetch_row(
    deps: Deps, source: SourceConfig, url: str, kind: str, *, page: Page | None = None,
    error: str | None = None, status: int | None = None, outcome: FetchOutcome | None = None, note: str | None = None,
) -> FetchRecord:  # fmt: skip
    """One fetches row, logged and counted. With a page: an error means it came but is unusable; a note,
    that it was used although something was wrong with it (kept in the error column, outcome ok)."""
    if page is not None:
        outcome = "not_modified" if page.not_modified else "unusable" if error else "ok"
        status = page.status
    if note:
        logger.warning("source %s: %s: %s", source.id, url, note)
        error = note
    row = FetchRecord(utc_now(), source.id, url, kind, status, outcome or "failed", page.size if page else None,
                      round(page.elapsed_ms, 1) if page else None, error)  # fmt: skip
    logger.debug("fetch %s %s %s %s", source.id, status, row.bytes, url, extra={"fields": asdict(row)})
    if deps.on_fetch is not None:
        deps.on_fetch(source.id, kind, status)
    return row


def _publish(deps: Deps, event: Event) -> None:
    """A stored event: logged, and handed to the sinks (which never block or fail the run)."""
    publish(event)
    if deps.on_event is not None:
        deps.on_event(event)


async def _emit(deps: Deps, event: Event) -> None:
    _publish(deps, await deps.store.add_event(event))


async def _finish(source: SourceConfig, deps: Deps, summary: RunSummary) -> None:
    error = summary.error or (None if summary.ok else "every discovery page failed")
    transitions = await deps.store.finish_run(RunOutcome(
        source.id, summary.ok, error, utc_now(), deps.settings.failure_threshold, summary.failure_weight,
        summary.extracted, summary.poor, summary.undated, summary.body_chars, summary.warning,
    ))  # fmt: skip
    for event in transitions:
        _publish(deps, event)
    await deps.store.save_hosts(deps.fetcher.changed_host_states(), utc_now())
    logger.info(
        "source %s: new %d, updated %d, unchanged %d, failed %d%s",
        source.id, summary.new, summary.updated, summary.unchanged, summary.failed,
        f" (run failed: {error})" if error else "",
        extra={"fields": {"source": source.id, "new": summary.new, "updated": summary.updated,
                          "unchanged": summary.unchanged, "failed": summary.failed, "error": error}},
    )  # fmt: skip

"""``crawler sources test ID``: why a source finds what it finds. Its feeds, sitemaps (with their
children, as a run reads them) and listing pages are fetched as a run fetches them, and every link they
give is shown with what became of it: an article to collect, one already stored, or turned away (by
allowed_domains, article_url_pattern, robots.txt, or as not a URL). Nothing is stored."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import cast

from crawler.config import CrawlerSettings, SourceConfig
from crawler.discover import link_verdicts
from crawler.errors import CrawlerError
from crawler.fetch import Fetcher
from crawler.models import DiscoveryKind
from crawler.pipeline import article_policy, discovery_policy
from crawler.store import Store

__all__ = ["PageCheck", "check_source"]

_MAX_PAGES = 60  # discovery pages fetched in one test (a run reads at most 50 child sitemaps)


@dataclass(slots=True)
class PageCheck:
    url: str
    kind: str
    error: str | None = None
    links: list[tuple[str, str]] = field(default_factory=list)  # (url, verdict)

    @property
    def counts(self) -> Counter[str]:
        return Counter(verdict for _, verdict in self.links)


async def check_source(source: SourceConfig, settings: CrawlerSettings, store: Store | None) -> list[PageCheck]:
    """Every discovery page of the source, with each of its links and its verdict."""
    policy, fetch_policy = article_policy(source), discovery_policy(source)
    queue = [(cast(DiscoveryKind, kind), url) for kind, url in source.discovery_urls]
    pages: list[PageCheck] = []
    fetcher = Fetcher(settings)
    try:
        while queue and len(pages) < _MAX_PAGES:
            kind, url = queue.pop(0)
            report = PageCheck(url, kind)
            pages.append(report)
            try:
                page = await fetcher.fetch(url, fetch_policy)
                verdicts, children = await asyncio.to_thread(
                    link_verdicts, page, kind, policy, settings.max_links_per_page
                )
            except CrawlerError as exc:
                report.error = str(exc)
                continue
            queue.extend(("sitemap", child) for child in children if not fetch_policy.refusal(child))
            report.links = await _checked(verdicts, fetcher, store)
    finally:
        await fetcher.aclose()
    return pages


async def _checked(verdicts: list[tuple[str, str]], fetcher: Fetcher, store: Store | None) -> list[tuple[str, str]]:
    """Articles further told apart: already stored, or refused by the site's robots.txt."""
    candidates = [url for url, verdict in verdicts if verdict == "article"]
    known = await store.known_articles(candidates) if candidates and store is not None else {}
    checked = []
    for url, verdict in verdicts:
        if verdict == "article":
            if url in known:
                verdict = "known"
            elif not await fetcher.robots_allows(url):
                verdict = "robots"
        checked.append((url, verdict))
    return checked

"""``crawler sources add URL``: look at a site the way a careful person would before watching it. Its page,
the feeds it advertises (or the usual feed paths), its sitemaps (robots.txt's ``Sitemap:`` lines, or the
usual sitemap paths), its section pages; the shape of its article addresses; then a few of its newest
articles fetched and extracted, so the user sees what would be collected before anything is written.

Every request goes through the Fetcher: the address rules, robots.txt, per-host delays and size caps
of a run apply. Only the site's own host (and hosts the site itself names as its feeds) is fetched."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from crawler.config import CrawlerSettings
from crawler.decode import decode_html
from crawler.discover import document_kind, link_verdicts
from crawler.errors import CrawlerError
from crawler.extract import extract_article
from crawler.fetch import Fetcher
from crawler.models import DiscoveryKind, Page
from crawler.onboard.draft import SourceDraft, Suggestion
from crawler.onboard.infer import (
    PatternChoice,
    advertised_feeds,
    article_hosts,
    article_pattern,
    base_host,
    looks_like_article,
    page_language,
    page_links,
    section_pages,
    site_name,
    source_id,
)
from crawler.urls import UrlPolicy, host_allowed

__all__ = ["Probe", "SampleArticle", "probe_site"]

_FEED_PATHS = ("/feed/", "/rss", "/rss.xml", "/feed.xml", "/atom.xml", "/index.xml")
# Where sites keep sitemaps robots.txt does not name (the usual CMS paths; ultimate-sitemap-parser tries the same)
_NEWS_SITEMAP_PATHS = ("/news-sitemap.xml", "/sitemap-news.xml", "/sitemap_news.xml", "/sitemap-news.xml.gz")
_SITEMAP_PATHS = ("/sitemap.xml", "/sitemap_index.xml", "/sitemap-index.xml", "/sitemap.xml.gz", "/sitemap")
_MAX_FEEDS = 6  # advertised feeds tried (sites advertise one per section; the first is the main one)
_NO_HOST = UrlPolicy(())


@dataclass(frozen=True, slots=True)
class SampleArticle:
    url: str
    title: str | None = None
    published: str | None = None
    authors: tuple[str, ...] = ()
    body_chars: int = 0
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Probe:
    """What was found: the proposed source, each page looked at and what it gave, and sample articles."""

    draft: SourceDraft
    looked_at: tuple[tuple[str, str], ...]  # (url, what it gave or why not)
    samples: tuple[SampleArticle, ...]


@dataclass(slots=True)
class _Found:
    feeds: dict[str, list[str]]  # working feed → its article links
    sitemaps: dict[str, list[str]]  # working sitemap → its article links (a child's, for an index)
    looked_at: list[tuple[str, str]]

    def links_of(self, pages: tuple[str, ...]) -> list[str]:
        """The article links of these working feeds and sitemaps, in order."""
        return [link for page in pages for link in self.feeds.get(page) or self.sitemaps.get(page) or []]


async def probe_site(url: str, settings: CrawlerSettings, taken_ids: list[str], samples: int = 3) -> Probe:
    """Look at the site at ``url`` and propose a source for it (CrawlerError when the page cannot be had)."""
    fetcher = Fetcher(settings.model_copy(update={"retries": min(settings.retries, 1)}))
    site_policy = UrlPolicy((base_host(url),))
    found = _Found({}, {}, [])
    try:
        start = await fetcher.fetch(url, site_policy)
        origin = f"{urlsplit(start.final_url).scheme}://{urlsplit(start.final_url).netloc}"
        html = ""
        kind = document_kind(start.body)
        if kind == "listing":
            html = decode_html(start.body, start.content_type)[0]
            found.looked_at.append((start.final_url, "an HTML page"))
            advertised = advertised_feeds(html, start.final_url)[:_MAX_FEEDS]
            feed_policy = UrlPolicy(tuple({base_host(u) for u in [url, *advertised]}))
            await _try_all(fetcher, advertised, "feed", feed_policy, found.feeds, found, stop_at_first=False)
            if not found.feeds:
                tries = [urljoin(origin, path) for path in _FEED_PATHS]
                await _try_all(fetcher, tries, "feed", site_policy, found.feeds, found, stop_at_first=True)
        else:
            await _try_all(fetcher, [start.final_url], kind, site_policy,
                           found.feeds if kind == "feed" else found.sitemaps, found, stop_at_first=True)  # fmt: skip
        if kind != "sitemap":
            await _find_sitemaps(fetcher, origin, site_policy, found)
        links = page_links(html, start.final_url) if html else []
        draft = _draft(url, start, html, links, found, taken_ids)
        article_policy = UrlPolicy(draft.allowed_domains)
        sample_urls = _sample_urls(draft, found, links)[:samples]
        sampled = tuple([await _sample(fetcher, link, article_policy, draft.language) for link in sample_urls])
    finally:
        await fetcher.aclose()
    return Probe(draft, tuple(found.looked_at), sampled)


async def _try_all(
    fetcher: Fetcher, urls: list[str], kind: DiscoveryKind, policy: UrlPolicy,
    into: dict[str, list[str]], found: _Found, *, stop_at_first: bool,
) -> None:  # fmt: skip
    """Fetch each URL as a feed or sitemap; the ones that give links go ``into`` with their links."""
    for url in urls:
        try:
            page = await fetcher.fetch(url, policy)
            verdicts, children = await asyncio.to_thread(link_verdicts, page, kind, _NO_HOST)
        except CrawlerError as exc:
            found.looked_at.append((url, f"no {kind}: {exc}"))
            continue
        # With no host allowed, every usable link the page gives comes back "off_domain": all of them are
        # wanted here; which hosts are the site's is decided from them after.
        links = [link for link, verdict in verdicts if verdict == "off_domain"]
        if kind == "sitemap" and not links and children:  # an index: its first child shows its links
            found.looked_at.append((url, f"a sitemap index of {len(children)} sitemaps"))
            child_links: dict[str, list[str]] = {}
            await _try_all(fetcher, children[:1], "sitemap", policy, child_links, found, stop_at_first=True)
            links = next(iter(child_links.values()), [])
        elif links:
            found.looked_at.append((url, f"a {kind} of {len(links)} links"))
        if links:
            into[page.final_url if kind == "feed" else url] = links
            if stop_at_first:
                return
        elif not children:
            found.looked_at.append((url, f"a {kind} with no links"))


async def _find_sitemaps(fetcher: Fetcher, origin: str, policy: UrlPolicy, found: _Found) -> None:
    """The sitemaps robots.txt names (news sitemaps first, at most four), else the usual paths; and the
    usual news sitemap paths when no news sitemap is named."""
    named: list[str] = []
    try:
        robots = await fetcher.fetch(urljoin(origin, "/robots.txt"), policy)
        try:  # read as a run reads a robots.txt given as a sitemap: its Sitemap: lines are the children
            named = link_verdicts(robots, "sitemap", _NO_HOST)[1]
        except CrawlerError:  # no Sitemap: line (nor a URL line)
            named = []
        found.looked_at.append((robots.final_url, f"robots.txt naming {len(named)} sitemap(s)"))
    except CrawlerError as exc:
        found.looked_at.append((urljoin(origin, "/robots.txt"), f"no robots.txt: {exc}"))
    named.sort(key=lambda url: "news" not in url.lower())
    candidates = named[:4] or [urljoin(origin, path) for path in _SITEMAP_PATHS]
    if not any("news" in url.lower() for url in candidates):  # a news sitemap is what a monitor wants most
        candidates[:0] = [urljoin(origin, path) for path in _NEWS_SITEMAP_PATHS]
    await _try_all(fetcher, candidates, "sitemap", policy, found.sitemaps, found, stop_at_first=False)


def _draft(url: str, start: Page, html: str, links: list[str], found: _Found, taken_ids: list[str]) -> SourceDraft:
    """The proposal: the first working feed (others suggested), news sitemaps, or the first sitemap when
    there is no feed; the page itself as a listing page when neither exists (sections suggested)."""
    home = base_host(url)
    feeds = list(found.feeds)[:1]
    news = [s for s in found.sitemaps if "news" in s.lower()]
    sitemaps = news or ([] if feeds else list(found.sitemaps)[:1])
    listing = [start.final_url] if html and not feeds and not sitemaps else []
    articles = found.links_of((*feeds, *sitemaps))
    own = [link for link in links if host_allowed(base_host(link), (home,))]
    articles = articles or [link for link in own if looks_like_article(link)]
    taken = set(articles)
    others = [link for link in own if link not in taken]
    pattern = article_pattern(articles, others)
    sections = section_pages(html, start.final_url) if html else []
    suggestions = [Suggestion("feeds", [f], "another feed the site advertises") for f in list(found.feeds)[1:]]
    suggestions += [Suggestion("sitemaps", [s], "another sitemap the site has (all its pages: a big first run)")
                    for s in found.sitemaps if s not in sitemaps]  # fmt: skip
    if sections and not listing:
        suggestions.append(Suggestion("listing_pages", sections, "section pages linked from the site's navigation"))
    elif sections:
        suggestions.append(Suggestion("listing_pages", listing + sections, "the section pages of the site's "
                                      "navigation too, for the articles its home page does not link"))  # fmt: skip
    notes = [f"Added by `crawler sources add {url}`.", *_pattern_notes(pattern, bool(listing))]
    if pattern and not listing:
        suggestions.append(Suggestion("article_url_pattern", pattern.pattern, "needed only with listing_pages"))
    suggestions.append(Suggestion("timezone", "UTC", "the IANA zone of dates the site prints without an offset"))
    return SourceDraft(
        id=source_id(home, taken_ids), name=site_name(html, home) if html else home,
        feeds=tuple(feeds), sitemaps=tuple(sitemaps), listing_pages=tuple(listing),
        allowed_domains=tuple(article_hosts(articles, home)),
        article_url_pattern=pattern.pattern if pattern and listing else None,
        language=page_language(html) if html else None, notes=tuple(notes), suggestions=tuple(suggestions),
    )  # fmt: skip


def _pattern_notes(pattern: PatternChoice | None, in_use: bool) -> list[str]:
    if pattern is None:
        return ["No article_url_pattern: the article links seen have no one shape (a date, an id, a slug)."]
    use = "" if in_use else " (not set: feeds and sitemaps list only articles)"
    return [f"Article links look like '{pattern.pattern}': {pattern.matched} of {pattern.articles} match, "
            f"{pattern.false_matches} of the page's {pattern.others} other links do{use}."]  # fmt: skip


def _sample_urls(draft: SourceDraft, found: _Found, page_links: list[str]) -> list[str]:
    """The newest articles the proposed source would take, in its pages' order."""
    urls = found.links_of((*draft.feeds, *draft.sitemaps))
    if draft.listing_pages:
        pattern = re.compile(draft.article_url_pattern) if draft.article_url_pattern else None
        urls = [link for link in page_links if pattern and pattern.search(link)]
    policy = UrlPolicy(draft.allowed_domains)
    return [link for link in dict.fromkeys(urls) if policy.refusal(link) is None]


async def _sample(fetcher: Fetcher, url: str, policy: UrlPolicy, language: str | None) -> SampleArticle:
    try:
        page = await fetcher.fetch(url, policy)
    except CrawlerError as exc:
        return SampleArticle(url, error=str(exc))
    html = decode_html(page.body, page.content_type)[0]
    article = await asyncio.to_thread(extract_article, html, page.final_url, "UTC", language)
    return SampleArticle(url, article.title, article.published, tuple(article.authors), len(article.body),
                         article.empty_body_reason)  # fmt: skip

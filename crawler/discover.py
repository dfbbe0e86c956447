"""Discover stage: a fetched feed, sitemap or listing page → candidate article Links.

Owns parsing of RSS/Atom (feedparser), XML sitemaps incl. news sitemaps and sitemap indexes
(defusedxml), and listing pages (selectolax). Links are resolved, canonicalised and filtered by the
source's URL policy here. Does not fetch, extract articles or touch the database.
"""

from __future__ import annotations

import gzip
import io
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from selectolax.lexbor import LexborHTMLParser

from crawler.decode import decode_html
from crawler.errors import DiscoveryError
from crawler.models import DiscoveryKind, Link, Page
from crawler.urls import BadUrl, UrlPolicy, canonicalize, resolve_link

__all__ = ["Discovered", "discover_links"]
logger = logging.getLogger(__name__)

_MAX_SITEMAP_BYTES = 50_000_000  # the sitemap protocol's own limit for an uncompressed file
_MAX_LINKS_READ = 1_000_000  # raw links looked at on one page (the per-page cap on links taken is the source's)


@dataclass(frozen=True, slots=True)
class Discovered:
    """Article links found on one page, plus child sitemaps an index points to."""

    links: list[Link]
    child_sitemaps: list[str]
    problem: str | None = None  # what was wrong with a page that still gave links (a feed cut off mid-way)
    bad_links: int = 0  # links skipped as unfetchable whatever the policy (malformed, too long, credentials)


def discover_links(page: Page, kind: DiscoveryKind, policy: UrlPolicy) -> Discovered:
    """Parse one discovery page; raise DiscoveryError when it is not what its kind promises."""
    problem = None
    children: list[str] = []
    if kind == "feed":
        raw, problem = _feed_links(page)
    elif kind == "sitemap":
        raw, children = _sitemap_links(page)
    else:
        raw = _listing_links(page)
    links, bad = _filter(raw, page.final_url, kind, policy)
    sitemaps, bad_sitemaps = _fetchable(children, page.final_url)
    return Discovered(links, [c for c in sitemaps if not policy.refusal(c)], problem, bad + bad_sitemaps)


def _filter(
    raw: list[tuple[str, str | None]], found_on: str, kind: DiscoveryKind, policy: UrlPolicy
) -> tuple[list[Link], int]:
    """Canonical, allowed, article-looking, unique links in page order; and how many links were skipped
    as unfetchable (each with a debug line: one bad link never costs the page's others)."""
    seen: set[str] = {canonicalize(found_on)}
    links = []
    bad = 0
    for url, updated in raw[:_MAX_LINKS_READ]:
        try:
            canonical = canonicalize(url)
        except BadUrl as exc:
            bad += 1
            logger.debug("skipped a link on %s: %s", found_on, exc)
            continue
        if canonical in seen or policy.refusal(canonical) or not policy.is_article(canonical):
            continue
        seen.add(canonical)
        links.append(Link(canonical, found_on, kind, updated))
    return links, bad


def _fetchable(urls: list[str], found_on: str) -> tuple[list[str], int]:
    """The canonical form of each URL that can be fetched at all, and how many could not."""
    fetchable, bad = [], 0
    for url in urls:
        try:
            fetchable.append(canonicalize(url))
        except BadUrl as exc:
            bad += 1
            logger.debug("skipped a sitemap on %s: %s", found_on, exc)
    return fetchable, bad


def _feed_links(page: Page) -> tuple[list[tuple[str, str | None]], str | None]:
    """The feed's entry links; and, when feedparser had to recover from broken XML, what was broken."""
    import feedparser  # 20 ms to import: sources with only sitemaps and listing pages never need it

    parsed = feedparser.parse(io.BytesIO(page.body), response_headers={"content-type": page.content_type or ""})
    if not parsed.entries and (parsed.bozo or not parsed.get("version")):
        reason = parsed.get("bozo_exception") or "no entries and no recognisable RSS/Atom"
        raise DiscoveryError(page.final_url, f"not a usable feed: {reason}")
    problem = f"malformed feed, {len(parsed.entries)} entries recovered: {parsed.bozo_exception}" if parsed.bozo else None
    links = []
    for entry in parsed.entries:
        href = entry.get("link") or next((li.get("href") for li in entry.get("links", []) if li.get("href")), None)
        url = resolve_link(href, page.final_url, web_only=False) if href else None  # an entry's link is meant as a page
        if url:
            # dict.get: feedparser's own get() maps updated→published with a DeprecationWarning
            stamp = dict.get(entry, "updated_parsed") or dict.get(entry, "published_parsed")
            links.append((url, _struct_time_iso(stamp)))
    return links, problem


def _sitemap_links(page: Page) -> tuple[list[tuple[str, str | None]], list[str]]:
    body = page.body
    if body[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(body)) as compressed:
                body = compressed.read(_MAX_SITEMAP_BYTES + 1)
        except (OSError, EOFError) as exc:
            raise DiscoveryError(page.final_url, f"broken gzip sitemap: {exc}") from exc
        if len(body) > _MAX_SITEMAP_BYTES:
            raise DiscoveryError(page.final_url, "sitemap is over 50 MB uncompressed")
    try:
        root = fromstring(body)
    except (ParseError, DefusedXmlException) as exc:
        raise DiscoveryError(page.final_url, f"not a usable sitemap: {exc}") from exc
    name = _local(root)
    if name == "sitemapindex":
        return [], [loc for loc in (_child_text(s, "loc") for s in root) if loc]
    if name != "urlset":
        raise DiscoveryError(page.final_url, f"not a sitemap: root element is <{name}>")
    links = []
    for entry in root:
        loc = _child_text(entry, "loc")
        if loc:
            updated = _child_text(entry, "publication_date") or _child_text(entry, "lastmod")
            links.append((loc, updated))
    return links, []


def _listing_links(page: Page) -> list[tuple[str, str | None]]:
    text, _ = decode_html(page.body, page.content_type)
    tree = LexborHTMLParser(text)
    base_node = tree.css_first("base[href]")
    base = resolve_link(base_node.attributes.get("href") or "", page.final_url) if base_node else None
    links: list[tuple[str, str | None]] = []
    for anchor in tree.css("a[href]"):
        url = resolve_link(anchor.attributes.get("href") or "", base or page.final_url)
        if url:
            links.append((url, None))
    return links


def _local(element: Element) -> str:
    return element.tag.rsplit("}", 1)[-1].lower()


def _child_text(element: Element, name: str) -> str | None:
    """Text of the first descendant called name in any namespace (news:publication_date, loc...)."""
    for child in element.iter():
        if _local(child) == name and child.text and child.text.strip():
            return child.text.strip()
    return None


def _struct_time_iso(value: time.struct_time | None) -> str | None:
    if value is None:
        return None
    return datetime(*value[:6], tzinfo=UTC).isoformat()

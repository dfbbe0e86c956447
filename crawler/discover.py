"""Discover stage: a fetched feed, sitemap or listing page → candidate article Links.

Owns parsing of RSS/Atom (feedparser), XML sitemaps incl. news sitemaps and sitemap indexes
(defusedxml), and listing pages (selectolax). Links are resolved, canonicalised and filtered by the
source's URL policy here. Does not fetch, extract articles or touch the database.
"""

from __future__ import annotations

import dataclasses
import io
import itertools
import logging
import re
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse
from selectolax.lexbor import LexborHTMLParser

from crawler.decode import decode_html
from crawler.errors import DiscoveryError
from crawler.models import DiscoveryKind, Link, Page
from crawler.urls import BadUrl, UrlPolicy, canonicalize, resolve_link

__all__ = ["DEFAULT_MAX_LINKS", "Discovered", "discover_links", "document_kind", "link_verdicts"]
logger = logging.getLogger(__name__)

_MAX_SITEMAP_BYTES = 50_000_000  # the sitemap protocol's own limit for an uncompressed file
DEFAULT_MAX_LINKS = 50_000  # the sitemap protocol's own limit of URLs in one file
_ANCHOR_START = re.compile(r"<a[\s>]", re.IGNORECASE)
_FEED_ROOT = re.compile(rb"^(?:<\?xml[^>]*>|<!--.*?-->|<![^>]*>|\s)*<(?:rss|feed|rdf:RDF)[\s>]", re.DOTALL)
_SITEMAP_ROOT = re.compile(rb"<(?:\w+:)?(?:urlset|sitemapindex)[\s>]")
_SITEMAP_LINE = re.compile(r"^sitemap\s*:\s*(\S+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Discovered:
    """Article links found on one page, plus child sitemaps an index points to."""

    links: list[Link]
    child_sitemaps: list[str]
    problem: str | None = None  # what was wrong with a page that still gave links (a feed cut off mid-way)
    bad_links: int = 0  # links skipped as unfetchable whatever the policy (malformed, too long, credentials)
    over_cap: int = 0  # links (or child sitemaps) on the page after the first max_links, not read
    off_domain: int = 0  # links refused: their host is not in allowed_domains
    not_article: int = 0  # links refused: they do not match article_url_pattern


def discover_links(
    page: Page, kind: DiscoveryKind, policy: UrlPolicy, max_links: int = DEFAULT_MAX_LINKS
) -> Discovered:
    """Parse one discovery page, reading at most max_links of its links (the work and memory of a page
    stay bounded however many it holds); raise DiscoveryError when it is not what its kind promises."""
    raw, children, problem, over = _raw_links(page, kind, max_links)
    links: list[Link] = []
    counts = dict.fromkeys(("bad_link", "off_domain", "not_article"), 0)
    for url, updated, verdict in _judged(raw, page.final_url, policy):
        if verdict == "article":
            links.append(Link(url, page.final_url, kind, updated))
        elif verdict in counts:
            counts[verdict] += 1
    sitemaps, bad_sitemaps = _fetchable(children, page.final_url)
    return Discovered(links, [c for c in sitemaps if not policy.refusal(c)], problem,
                      counts["bad_link"] + bad_sitemaps, over, counts["off_domain"], counts["not_article"])  # fmt: skip


def link_verdicts(
    page: Page, kind: DiscoveryKind, policy: UrlPolicy, max_links: int = DEFAULT_MAX_LINKS
) -> tuple[list[tuple[str, str]], list[str]]:
    """Every link the page gives, in page order, with what the source's filters make of it: ``article``,
    ``off_domain``, ``not_article``, ``bad_link`` or ``repeated``; and its child sitemaps
    (``crawler sources test``: why a source finds what it finds)."""
    raw, children, _, _ = _raw_links(page, kind, max_links)
    verdicts = [(url, verdict) for url, _, verdict in _judged(raw, page.final_url, policy)]
    return verdicts, _fetchable(children, page.final_url)[0]


def document_kind(body: bytes) -> DiscoveryKind:
    """What a fetched page is by its first bytes: a feed, an XML sitemap, or else a page of links."""
    start = body[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if _FEED_ROOT.search(start):
        return "feed"
    if start.startswith(b"<?xml") and _SITEMAP_ROOT.search(start):
        return "sitemap"
    return "listing"


def _raw_links(
    page: Page, kind: DiscoveryKind, max_links: int
) -> tuple[list[tuple[str, str | None]], list[str], str | None, int]:
    """(link, date) pairs as the page gives them, child sitemaps, what was broken, how many went unread."""
    if kind == "feed":
        raw, problem, over = _feed_links(page, max_links)
        return raw, [], problem, over
    if kind == "sitemap":
        return _sitemap_links(page, max_links)
    raw, over = _listing_links(page, max_links)
    return raw, [], None, over


def _judged(
    raw: list[tuple[str, str | None]], found_on: str, policy: UrlPolicy
) -> Iterator[tuple[str, str | None, str]]:
    """Each link, canonical, with its verdict: ``article`` (allowed, article-looking, first time on the
    page), ``repeated``, ``off_domain`` (allowed_domains), ``not_article`` (article_url_pattern) or
    ``bad_link`` (not fetchable at all, as written; a debug line each: one bad link never costs the page's
    others)."""
    seen: set[str] = {canonicalize(found_on)}
    for url, updated in raw:
        try:
            canonical = canonicalize(url)
        except BadUrl as exc:
            logger.debug("skipped a link on %s: %s", found_on, exc)
            yield url, updated, "bad_link"
            continue
        if canonical in seen:
            verdict = "repeated"
        elif policy.refusal(canonical):
            verdict = "off_domain"
        else:
            verdict = "article" if policy.is_article(canonical) else "not_article"
        seen.add(canonical)
        yield canonical, updated, verdict


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


def _feed_links(page: Page, max_links: int) -> tuple[list[tuple[str, str | None]], str | None, int]:
    """The links of the feed's first max_links entries; when feedparser had to recover from broken XML,
    what was broken; and how many entries were left unread."""
    import feedparser  # 20 ms to import: sources with only sitemaps and listing pages never need it

    parsed = feedparser.parse(io.BytesIO(page.body), response_headers={"content-type": page.content_type or ""})
    if not parsed.entries and (parsed.bozo or not parsed.get("version")):
        reason = parsed.get("bozo_exception") or "no entries and no recognisable RSS/Atom"
        raise DiscoveryError(page.final_url, f"not a usable feed: {reason}")
    problem = (
        f"malformed feed, {len(parsed.entries)} entries recovered: {parsed.bozo_exception}" if parsed.bozo else None
    )
    links = []
    for entry in parsed.entries[:max_links]:
        href = _entry_link(entry)
        url = resolve_link(href, page.final_url, web_only=False) if href else None  # an entry's link is meant as a page
        if url:
            # dict.get: feedparser's own get() maps updated→published with a DeprecationWarning
            stamp = dict.get(entry, "updated_parsed") or dict.get(entry, "published_parsed")
            links.append((url, _struct_time_iso(stamp)))
    return links, problem, max(0, len(parsed.entries) - max_links)


def _entry_link(entry: dict[str, Any]) -> str | None:
    """The article an entry is about: FeedBurner's original link over its redirect; of several
    rel=alternate HTML links (Atom allows them, one per query variant), the one without a query string;
    else the link feedparser chose, else any link."""
    if origin := entry.get("feedburner_origlink"):
        return str(origin)
    alternates = [li.get("href") for li in entry.get("links", []) if li.get("href")
                  and li.get("rel", "alternate") == "alternate" and li.get("type", "text/html") == "text/html"]  # fmt: skip
    plain = next((href for href in alternates if "?" not in href), None)
    chosen = entry.get("link")
    if plain and (not chosen or "?" in chosen):
        return str(plain)
    return str(chosen) if chosen else next((li.get("href") for li in entry.get("links", []) if li.get("href")), None)


def _sitemap_links(page: Page, max_links: int) -> tuple[list[tuple[str, str | None]], list[str], str | None, int]:
    """The first max_links entries of a urlset (links) or a sitemap index (child sitemaps), read as a
    stream so a large sitemap never becomes a whole tree in memory; what was broken when the XML breaks
    off after some entries; and how many entries were left unread."""
    body = page.body
    cut_short = False
    if body[:2] == b"\x1f\x8b":
        body, cut_short = _gunzip(body, page.final_url)
    start = body[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not start.startswith(b"<"):  # a text sitemap (one URL a line), or a robots.txt naming sitemaps
        return _text_sitemap(body, page.final_url, max_links)
    # blank lines before <?xml: an XML parser refuses them, and site templates send them
    if lead := min(4096, len(body)) - len(start):
        body = body[lead:]
    if _FEED_ROOT.search(start):  # a feed where a sitemap was expected: sites list them as such
        feed_links, feed_problem, feed_over = _feed_links(dataclasses.replace(page, body=body), max_links)
        return feed_links, [], feed_problem, feed_over
    root, entries, problem, over = _sitemap_entries(body, page.final_url, max_links)
    if cut_short:
        problem = problem or f"gzip sitemap cut short, {len(entries)} entries recovered"
    if _local(root) == "sitemapindex":
        return [], [loc for loc, _ in entries], problem, over
    return entries, [], problem, over


def _gunzip(body: bytes, url: str) -> tuple[bytes, bool]:
    """A gzipped sitemap unpacked (at most 50 MB), and whether it was cut short: a download that broke off
    still gives the entries before the break, as a broken XML sitemap or feed does."""
    unpacker = zlib.decompressobj(wbits=31)
    try:
        unpacked = unpacker.decompress(body, _MAX_SITEMAP_BYTES + 1)
    except zlib.error as exc:
        raise DiscoveryError(url, f"broken gzip sitemap: {exc}") from exc
    if len(unpacked) > _MAX_SITEMAP_BYTES:
        raise DiscoveryError(url, "sitemap is over 50 MB uncompressed")
    if not unpacked:
        raise DiscoveryError(url, "broken gzip sitemap: nothing could be unpacked")
    return unpacked, not unpacker.eof


def _text_sitemap(body: bytes, url: str, max_links: int) -> tuple[list[tuple[str, str | None]], list[str], None, int]:
    """A text sitemap: one URL a line (sitemaps.org); ``Sitemap:`` lines (a robots.txt given as a
    sitemap: its sitemaps are the children, so a source can name just its site's robots.txt). Other
    lines (robots rules, comments) are not links."""
    entries: list[tuple[str, str | None]] = []
    children: list[str] = []
    over = 0
    for raw in body.decode("utf-8-sig", errors="replace").splitlines():
        line = raw.strip()
        named = _SITEMAP_LINE.match(line)
        if named:
            children.append(named.group(1))
        elif line.startswith(("http://", "https://")) and " " not in line:
            if len(entries) < max_links:
                entries.append((line, None))
            else:
                over += 1
    if not entries and not children:
        raise DiscoveryError(url, "not a usable sitemap: neither XML nor a list of URLs")
    return entries, children[:max_links], None, over + max(0, len(children) - max_links)


def _sitemap_entries(
    body: bytes, url: str, max_links: int
) -> tuple[Element, list[tuple[str, str | None]], str | None, int]:
    """The root element; (loc, date) of the root's first max_links children; what broke the XML if it
    broke after some entries; how many children were past the cap."""
    entries: list[tuple[str, str | None]] = []
    over, depth, problem = 0, 0, None
    root: Element | None = None
    try:
        for event, element in iterparse(io.BytesIO(body), events=("start", "end")):
            if event == "start":
                depth += 1
                if root is None:
                    root = element
                    if _local(root) not in ("urlset", "sitemapindex"):
                        raise DiscoveryError(url, f"not a sitemap: root element is <{_local(root)}>")
                continue
            depth -= 1
            if depth != 1 or root is None:  # only the root's children are entries
                continue
            if len(entries) >= max_links:
                over += 1
            elif loc := _child_text(element, "loc"):
                entries.append((loc, _child_text(element, "publication_date") or _child_text(element, "lastmod")))
            root.clear()  # entries read are dropped: memory stays one entry deep
    except (ParseError, DefusedXmlException) as exc:
        if root is None or not entries:
            raise DiscoveryError(url, f"not a usable sitemap: {exc}") from exc
        problem = f"malformed sitemap, {len(entries)} entries recovered: {exc}"
    if root is None:
        raise DiscoveryError(url, "not a usable sitemap: no XML element")
    return root, entries, problem, over


def _listing_links(page: Page, max_links: int) -> tuple[list[tuple[str, str | None]], int]:
    text, _ = decode_html(page.body, page.content_type)
    text, unread = _up_to_anchor(text, max_links)
    tree = LexborHTMLParser(text)
    base_node = tree.css_first("base[href]")
    base = resolve_link(base_node.attributes.get("href") or "", page.final_url) if base_node else None
    anchors = tree.css("a[href]")
    links: list[tuple[str, str | None]] = []
    for anchor in anchors[:max_links]:
        url = resolve_link(anchor.attributes.get("href") or "", base or page.final_url)
        if url:
            links.append((url, None))
    return links, unread + max(0, len(anchors) - max_links)


def _up_to_anchor(text: str, count: int) -> tuple[str, int]:
    """The page up to its (count + 1)th <a> tag, and how many <a> tags follow from there. A page with
    more links than are read is parsed only as far as they are read: the HTML tree of a 10 MB page of
    220,000 links took 200 MB. (A "<a " in a script counts too, so a page over the cap may give a few
    links fewer than the cap; never more.)"""
    starts = _ANCHOR_START.finditer(text)
    cut = next(itertools.islice(starts, count, None), None)
    if cut is None:
        return text, 0
    return text[: cut.start()], 1 + sum(1 for _ in starts)


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

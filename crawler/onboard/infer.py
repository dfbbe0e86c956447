"""What a site's own pages say about how to watch it: the feeds a page advertises, its section pages, the
shape of its article addresses and the hosts they live on. Pure functions over HTML text and URLs; the
fetching is ``onboard.probe``'s."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from selectolax.lexbor import LexborHTMLParser

from crawler.urls import BadUrl, canonicalize, resolve_link

__all__ = [
    "PatternChoice",
    "advertised_feeds",
    "article_hosts",
    "article_pattern",
    "base_host",
    "looks_like_article",
    "page_language",
    "page_links",
    "section_pages",
    "site_name",
    "source_id",
]

_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json")
_COMMENTS = re.compile(r"comment|تعليق", re.IGNORECASE)
_DATE_PATH = re.compile(r"/(?:19|20)\d{2}/[01]?\d/[0-3]?\d(?:/|$)")
_MONTH_PATH = re.compile(r"/(?:19|20)\d{2}/[01]?\d(?:/|$)")
_LONG_NUMBER = re.compile(r"\d{5,}")
_SLUG = re.compile(r"[^/?#.\-_]+(?:[-_][^/?#.\-_]+){3,}")
_NAV = "nav a[href], header a[href], [role=navigation] a[href], [class*=menu] a[href]"
_SECOND_LEVEL = {"co", "com", "org", "net", "gov", "edu", "ac", "ne", "or"}
MIN_COVERAGE = 0.9  # share of the article links a proposed pattern must match


@dataclass(frozen=True, slots=True)
class PatternChoice:
    """An article_url_pattern and how it did: article links it matched, of all; other links it matched."""

    pattern: str
    matched: int
    articles: int
    false_matches: int
    others: int


# Candidate patterns, most telling first: a date in the path, a long number (an article id), a slug of
# four or more words. Each is a shape many CMSes give article addresses and not section pages.
_CANDIDATES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (written, re.compile(written))
    for written in (
        r"/\d{4}/\d{1,2}/\d{1,2}/",
        r"/\d{4}/\d{1,2}/",
        # "(?<!/)/": a slash of the path, not the "//" before the host (a port has five digits too)
        r"(?<!/)/[^/#]*\d{5,}",
        r"(?<!/)/[^/?#]+-[^/?#]+-[^/?#]+-[^/?#]+",
    )
)


def advertised_feeds(html: str, base_url: str) -> list[str]:
    """The feeds a page names in ``<link rel=alternate type=…rss|atom…>``, comment feeds left out."""
    tree = LexborHTMLParser(html)
    feeds: list[str] = []
    for node in tree.css("link[rel][href]"):
        rel = (node.attributes.get("rel") or "").lower().split()
        kind = (node.attributes.get("type") or "").lower().split(";")[0].strip()
        if "alternate" not in rel or kind not in _FEED_TYPES:
            continue
        title = node.attributes.get("title") or ""
        url = resolve_link(node.attributes.get("href") or "", base_url)
        if url and not _COMMENTS.search(title) and not _COMMENTS.search(url) and url not in feeds:
            feeds.append(url)
    return feeds


def page_links(html: str, base_url: str, selector: str = "a[href]") -> list[str]:
    """The page's links, canonical, once each, in page order (unusable ones left out)."""
    tree = LexborHTMLParser(html)
    links: dict[str, None] = {}
    for node in tree.css(selector):
        url = resolve_link(node.attributes.get("href") or "", base_url)
        if url is None:
            continue
        try:
            links.setdefault(canonicalize(url))
        except BadUrl:
            continue
    return list(links)


def base_host(url: str) -> str:
    """The URL's host without a leading ``www.``: the domain a source's pages are allowed on."""
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def looks_like_article(url: str) -> bool:
    """An address shaped like an article's: a date in its path, an id of five or more digits, or a slug of
    four or more words. (How a site without a feed shows which of its links are articles.)"""
    path = unquote(urlsplit(url).path)
    return bool(_DATE_PATH.search(path) or _LONG_NUMBER.search(path) or _SLUG.search(path))


def section_pages(html: str, base_url: str, limit: int = 8) -> list[str]:
    """Section pages a home page links to from its navigation (the whole page when it has none): links on
    the site's own host, one or two path segments deep, not shaped like an article."""
    home = canonicalize(base_url)
    host = base_host(base_url)
    links = page_links(html, base_url, _NAV) or page_links(html, base_url)
    sections = []
    for url in links:
        parts = urlsplit(url)
        depth = len([segment for segment in parts.path.split("/") if segment])
        if url == home or base_host(url) != host or parts.query or not 1 <= depth <= 2 or looks_like_article(url):
            continue
        sections.append(url)
    return sections[:limit]


def article_pattern(articles: list[str], others: list[str]) -> PatternChoice | None:
    """The candidate pattern that matches at least 90% of the article links and the fewest other links
    (section and navigation pages), the more telling one on a tie; None when none covers the articles."""
    best: PatternChoice | None = None
    for written, compiled in _CANDIDATES:
        matched = sum(1 for url in articles if compiled.search(url))
        if not articles or matched / len(articles) < MIN_COVERAGE:
            continue
        false = sum(1 for url in others if compiled.search(url))
        choice = PatternChoice(written, matched, len(articles), false, len(others))
        if best is None or false < best.false_matches:
            best = choice
    return best


def article_hosts(articles: Iterable[str], home: str) -> list[str]:
    """allowed_domains for a site: its own host (www. dropped, so subdomains count) and any other host
    that carries at least a fifth of its article links (an articles subdomain, a second domain)."""
    counts = Counter(base_host(url) for url in articles)
    total = sum(counts.values())
    hosts = [home]
    for host, count in counts.most_common():
        if host != home and not host.endswith("." + home) and count * 5 >= total:
            hosts.append(host)
    return hosts[:4]


def site_name(html: str, fallback: str) -> str:
    """The site's name as it gives it: og:site_name, else the home page's title, else ``fallback``."""
    tree = LexborHTMLParser(html)
    node = tree.css_first('meta[property="og:site_name"][content]')
    name = (node.attributes.get("content") or "").strip() if node else ""
    if not name and (title := tree.css_first("title")):
        name = re.split(r"\s+[|\-–—:]\s+", title.text(strip=True))[0].strip()
    return " ".join(name.split())[:120] or fallback


def page_language(html: str) -> str | None:
    """The two- or three-letter language of ``<html lang>`` ("ar-IQ" → "ar"), when it declares one."""
    node = LexborHTMLParser(html).css_first("html[lang]")
    code = (node.attributes.get("lang") or "").split("-")[0].split("_")[0].strip().lower() if node else ""
    return code if re.fullmatch(r"[a-z]{2,3}", code) else None


def source_id(host: str, taken: Iterable[str]) -> str:
    """A source id from a host ("www.alsumaria.tv" → "alsumaria"), made unique among ``taken``."""
    labels = [label for label in host.lower().split(".") if label and label != "www"]
    if all(label.isdigit() for label in labels):  # an address, not a name
        labels = ["-".join(labels)]
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2:  # bbc.co.uk, alahram.org.eg
        labels = labels[:-1]
    stem = labels[-2] if len(labels) >= 2 else (labels[0] if labels else "site")
    stem = re.sub(r"[^a-z0-9_.-]+", "-", stem).strip("-._")[:56] or "site"
    taken = set(taken)
    candidate, n = stem, 2
    while candidate in taken:
        candidate, n = f"{stem}-{n}", n + 1
    return candidate

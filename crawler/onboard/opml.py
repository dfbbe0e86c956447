"""OPML, the file feed readers import and export: its feed outlines read as source drafts, and the
config's feeds written out as one."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError, SubElement, indent, tostring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from crawler.config import SourceConfig
from crawler.errors import ConfigError
from crawler.onboard.draft import SourceDraft
from crawler.onboard.infer import base_host, source_id
from crawler.urls import BadUrl, canonicalize

__all__ = ["OpmlFeed", "drafts_from_opml", "read_opml", "write_opml"]


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    title: str
    feed_url: str
    site_url: str | None
    folder: str | None  # the outline it was filed under in the reader, if any


def read_opml(data: bytes, origin: str) -> list[OpmlFeed]:
    """Every outline with an ``xmlUrl``, at any depth, in file order; ConfigError naming ``origin`` when
    the file is not OPML or holds no feed."""
    try:
        root = fromstring(data)
    except (ParseError, DefusedXmlException) as exc:
        raise ConfigError([f"{origin}: not an OPML file: {exc}"]) from None
    body = root.find("body")
    if root.tag != "opml" or body is None:
        raise ConfigError([f"{origin}: not an OPML file (no <opml> with a <body>)"])
    feeds: list[OpmlFeed] = []
    _collect(body, None, feeds)
    if not feeds:
        raise ConfigError([f"{origin}: no outline with an xmlUrl (a feed) in it"])
    return feeds


def _collect(parent: Element, folder: str | None, feeds: list[OpmlFeed]) -> None:
    for outline in parent.findall("outline"):
        title = (outline.get("title") or outline.get("text") or "").strip()
        url = (outline.get("xmlUrl") or "").strip()
        if url:
            feeds.append(OpmlFeed(title, url, (outline.get("htmlUrl") or "").strip() or None, folder))
        else:
            _collect(outline, title or folder, feeds)


def drafts_from_opml(
    feeds: list[OpmlFeed], taken_ids: Iterable[str], known_feeds: Iterable[str]
) -> tuple[list[SourceDraft], list[str]]:
    """One source per feed not already in the config, and a line for each feed left out (already
    there, twice in the file, or not an http(s) URL)."""
    taken = set(taken_ids)
    seen = {_spelling(url) for url in known_feeds}
    drafts: list[SourceDraft] = []
    skipped: list[str] = []
    for feed in feeds:
        spelling = _spelling(feed.feed_url)
        if not spelling.startswith(("http://", "https://")):
            skipped.append(f"{feed.feed_url}: not an http(s) feed address")
            continue
        if spelling in seen:
            skipped.append(f"{feed.feed_url}: already a feed of a source")
            continue
        seen.add(spelling)
        new_id = source_id(base_host(feed.site_url or feed.feed_url), taken)
        taken.add(new_id)
        hosts = dict.fromkeys(base_host(url) for url in (feed.feed_url, feed.site_url) if url)
        notes = (f"From an OPML file{f', folder {feed.folder!r}' if feed.folder else ''}.",)
        drafts.append(SourceDraft(new_id, feed.title or new_id, feeds=(feed.feed_url,),
                                  allowed_domains=tuple(host for host in hosts if host), notes=notes))  # fmt: skip
    return drafts, skipped


def _spelling(url: str) -> str:
    try:
        return canonicalize(url)
    except BadUrl:
        return url


def write_opml(sources: Iterable[SourceConfig], title: str = "crawler sources") -> str:
    """An OPML 2.0 document with one outline per feed of each source (a source without feeds has no
    place in a feed reader and is left out)."""
    root = Element("opml", version="2.0")
    SubElement(SubElement(root, "head"), "title").text = title
    body = SubElement(root, "body")
    for source in sources:
        site = source.listing_pages[0] if source.listing_pages else None
        for feed in source.feeds:
            attributes = {"type": "rss", "text": source.name, "title": source.name, "xmlUrl": feed}
            if site:
                attributes["htmlUrl"] = site
            SubElement(body, "outline", attributes)
    indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root, encoding="unicode") + "\n"

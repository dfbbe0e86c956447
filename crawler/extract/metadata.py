"""Article metadata from the page head and markup: JSON-LD, OpenGraph / article:* meta, <time>, links.

Each getter tries the most trustworthy place first: JSON-LD written by the CMS, then meta tags, then
microdata and <time>, then visible markup. Only the article's own header area is searched for visible
dates, so the site header's "today" date and teaser dates never win.
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode

from crawler.dates import parse_date

__all__ = ["PageMetadata", "read_metadata"]
logger = logging.getLogger(__name__)

_ARTICLE_TYPES = {
    "newsarticle", "article", "blogposting", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
    "backgroundnewsarticle", "reviewnewsarticle", "socialmediaposting", "liveblogposting", "techarticle", "report",
}  # fmt: skip
_TITLE_SEPARATORS = re.compile(r"\s+[|\-–—«»:•]\s+")
_TAG_SPLIT = re.compile(r"\s*[,،;]\s*")
_DATE_CLASS = re.compile(r"(^|[\s_-])(date|time|published|posted|post-date|entry-date|meta-date|timestamp)", re.I)
_UPDATED_HINT = re.compile(r"(updated|modified|آخر تحديث|تحديث|تم التحديث|last-updated)", re.I)


@dataclass(slots=True)
class PageMetadata:
    """Everything read from one page except the body."""

    title: str | None = None
    canonical_url: str | None = None
    published: str | None = None
    modified: str | None = None
    authors: list[str] = field(default_factory=list)
    section: str | None = None
    tags: list[str] = field(default_factory=list)
    language: str | None = None
    image: str | None = None
    site_name: str | None = None
    description: str | None = None
    json_ld_body: str | None = None


def read_metadata(tree: LexborHTMLParser, timezone: str) -> PageMetadata:
    """Read every metadata field; dates come back as ISO 8601 strings with an offset."""
    ld = _json_ld_article(tree)
    meta = _meta_index(tree)
    title = _first(_text(ld.get("headline")), meta.get("og:title"), meta.get("twitter:title"), _h1(tree), _doc_title(tree))
    published = _first_date(timezone, ld.get("datePublished"), meta.get("article:published_time"),
                            meta.get("datepublished"), meta.get("date"), meta.get("dc.date"),
                            meta.get("pubdate"), meta.get("publishdate"), _time_attr(tree, "datePublished"))
    modified = _first_date(timezone, ld.get("dateModified"), meta.get("article:modified_time"),
                           meta.get("og:updated_time"), meta.get("datemodified"), _time_attr(tree, "dateModified"))
    if published is None:
        published, visible_modified = _visible_dates(tree, timezone)
        modified = modified or visible_modified
    return PageMetadata(
        title=_clean_title(title, meta.get("og:site_name")),
        canonical_url=_canonical_link(tree) or meta.get("og:url"),
        published=published,
        modified=modified,
        authors=_authors(ld, meta, tree),
        section=_first(_text(ld.get("articleSection")), meta.get("article:section"), _breadcrumb_section(tree)),
        tags=_tags(ld, meta, tree),
        language=_language(tree, ld, meta),
        image=_first(_image(ld.get("image")), meta.get("og:image"), meta.get("twitter:image")),
        site_name=_first(meta.get("og:site_name"), _text(_name(ld.get("publisher")))),
        description=_first(meta.get("description"), meta.get("og:description"), _text(ld.get("description"))),
        json_ld_body=_text(ld.get("articleBody")),
    )


# --- JSON-LD -----------------------------------------------------------------------------------------


def _json_ld_article(tree: LexborHTMLParser) -> dict[str, Any]:
    """The first JSON-LD object typed as an article (merged over @graph and lists), else {}."""
    for script in tree.css('script[type="application/ld+json"]'):
        try:
            data = json.loads(script.text(deep=True) or "null", strict=False)
        except (json.JSONDecodeError, RecursionError):
            continue  # broken JSON-LD is common; other sources of metadata still apply
        for item in _ld_items(data):
            types = item.get("@type")
            names = {str(t).lower() for t in (types if isinstance(types, list) else [types])}
            if names & _ARTICLE_TYPES:
                return item
    return {}


def _ld_items(data: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    if depth > 4:
        return
    if isinstance(data, list):
        for entry in data:
            yield from _ld_items(entry, depth + 1)
    elif isinstance(data, dict):
        yield data
        if "@graph" in data:
            yield from _ld_items(data["@graph"], depth + 1)


def _name(value: Any) -> Any:
    if isinstance(value, dict):
        return value.get("name")
    if isinstance(value, list) and value:
        return _name(value[0])
    return value


def _image(value: Any) -> str | None:
    if isinstance(value, list):
        return _image(value[0]) if value else None
    if isinstance(value, dict):
        return _text(value.get("url") or value.get("contentUrl"))
    return _text(value)


def _text(value: Any) -> str | None:
    """A non-empty string from a JSON-LD value (first element of a list)."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str):
        value = " ".join(html.unescape(value).split())  # CMSes often HTML-escape JSON-LD strings
        return value or None
    return None


# --- meta tags and markup ----------------------------------------------------------------------------


def _meta_index(tree: LexborHTMLParser) -> dict[str, str]:
    """First non-empty content per lower-cased meta property/name/itemprop."""
    index: dict[str, str] = {}
    for node in tree.css("meta[content]"):
        key = node.attributes.get("property") or node.attributes.get("name") or node.attributes.get("itemprop")
        content = (node.attributes.get("content") or "").strip()
        if key and content:
            index.setdefault(key.strip().lower(), content)
    return index


def _meta_all(tree: LexborHTMLParser, key: str) -> list[str]:
    return [
        (node.attributes.get("content") or "").strip()
        for node in tree.css(f'meta[property="{key}"], meta[name="{key}"]')
        if (node.attributes.get("content") or "").strip()
    ]


def _canonical_link(tree: LexborHTMLParser) -> str | None:
    node = tree.css_first('link[rel="canonical"][href]')
    return (node.attributes.get("href") or "").strip() or None if node else None


def _h1(tree: LexborHTMLParser) -> str | None:
    node = tree.css_first("article h1") or tree.css_first("h1")
    return node.text(deep=True, separator=" ").strip() or None if node else None


def _doc_title(tree: LexborHTMLParser) -> str | None:
    node = tree.css_first("title")
    return node.text().strip() or None if node else None


def _clean_title(title: str | None, site_name: str | None) -> str | None:
    """Drop a trailing " | Site name" the CMS appends to <title>."""
    if not title:
        return None
    title = " ".join(title.split())
    if site_name and title.endswith(site_name) and title != site_name:
        parts = _TITLE_SEPARATORS.split(title)
        if len(parts) > 1:
            title = title[: title.rfind(parts[-1])].rstrip(" |-–—«»:•")
    return title or None


def _time_attr(tree: LexborHTMLParser, prop: str) -> str | None:
    node = tree.css_first(f'[itemprop="{prop}"]')
    if node is None:
        return None
    return node.attributes.get("content") or node.attributes.get("datetime") or node.text().strip() or None


def _authors(ld: dict[str, Any], meta: dict[str, str], tree: LexborHTMLParser) -> list[str]:
    raw = ld.get("author")
    names: list[str] = []
    for entry in raw if isinstance(raw, list) else [raw]:
        name = _text(_name(entry))
        if name:
            names.append(name)
    if not names:
        for candidate in (meta.get("author"), meta.get("article:author"), meta.get("dc.creator")):
            if candidate and not candidate.startswith("http"):
                names = [candidate]
                break
    if not names:
        names = [n.text(deep=True).strip() for n in tree.css('a[rel="author"], [itemprop="author"] [itemprop="name"]')]
    return _unique(name for name in names if name and len(name) < 120)


def _tags(ld: dict[str, Any], meta: dict[str, str], tree: LexborHTMLParser) -> list[str]:
    tags = _meta_all(tree, "article:tag")
    keywords = ld.get("keywords")
    if not tags and keywords:
        items = keywords if isinstance(keywords, list) else [keywords]
        tags = [part for item in items if isinstance(item, str) for part in _TAG_SPLIT.split(item)]
    if not tags:
        tags = [node.text(deep=True) for node in tree.css('a[rel~="tag"]')]
    return _unique(" ".join(tag.split()) for tag in tags if tag and tag.strip())


def _breadcrumb_section(tree: LexborHTMLParser) -> str | None:
    crumbs = tree.css('[id*="breadcrumb"] a, [class*="breadcrumb"] a')
    if len(crumbs) >= 2:
        return crumbs[-1].text(deep=True).strip() or None
    return None


def _language(tree: LexborHTMLParser, ld: dict[str, Any], meta: dict[str, str]) -> str | None:
    html = tree.css_first("html")
    declared = _first(_text(ld.get("inLanguage")), html.attributes.get("lang") if html else None,
                      meta.get("og:locale"), meta.get("content-language"), meta.get("language"))
    if not declared:
        return None
    return declared.replace("_", "-").split("-")[0].strip().lower() or None


# --- visible dates -------------------------------------------------------------------------------------


def _visible_dates(tree: LexborHTMLParser, timezone: str) -> tuple[str | None, str | None]:
    """Published and modified dates printed in the article's header, never the site header or teasers."""
    published = modified = None
    scope = tree.css_first("article") or tree.css_first("main") or tree.body
    if scope is None:
        return None, None
    for node in scope.css("time, [class]"):
        if not _is_date_node(node) or _in_teaser(node, scope):
            continue
        text = node.attributes.get("datetime") or node.text(deep=True, separator=" ")
        parsed = parse_date(text, timezone)
        if parsed is None:
            continue
        iso = parsed.isoformat()
        if _UPDATED_HINT.search(node.attributes.get("class") or "") or _UPDATED_HINT.search(text):
            modified = modified or iso
        else:
            published = published or iso
        if published and modified:
            break
    return published, modified


def _is_date_node(node: LexborNode) -> bool:
    if node.tag == "time":
        return True
    return bool(_DATE_CLASS.search(node.attributes.get("class") or "")) and len(node.text(deep=True)) < 120


def _in_teaser(node: LexborNode, scope: LexborNode) -> bool:
    """True inside related/read-also blocks, lists of other stories, or comments."""
    current = node.parent
    while current is not None and current.mem_id != scope.mem_id:
        hint = f"{current.attributes.get('class') or ''} {current.attributes.get('id') or ''}".lower()
        if current.tag in ("li", "aside", "nav", "footer") or re.search(r"related|read-also|teaser|comment|widget", hint):
            return True
        current = current.parent
    return False


# --- small helpers --------------------------------------------------------------------------------------


def _first(*values: str | None) -> str | None:
    for value in values:
        if value and value.strip():
            return value.strip()
    return None


def _first_date(timezone: str, *values: Any) -> str | None:
    for value in values:
        text = _text(value)
        if text:
            parsed = parse_date(text, timezone)
            if parsed is not None:
                return parsed.isoformat()
    return None


def _unique(items: Iterator[str] | list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)

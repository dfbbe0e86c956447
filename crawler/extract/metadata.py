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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from crawler.dates import parse_date
from crawler.extract.authors import byline_names, clean_names
from crawler.extract.container import title_heading
from crawler.extract.headline import clean_title, is_site_name_part, segment_headline, without_decoration
from crawler.extract.visible_dates import script_date, url_date, visible_dates

__all__ = ["PageMetadata", "read_metadata"]
logger = logging.getLogger(__name__)

_ARTICLE_TYPES = {
    "newsarticle", "article", "blogposting", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
    "backgroundnewsarticle", "reviewnewsarticle", "socialmediaposting", "liveblogposting", "techarticle", "report",
}  # fmt: skip
_PAGE_TYPES = {"webpage", "itempage"}
_TAG_LIST_CLASS = re.compile(
    r"(^|[\s_-])(tags?|post-?tags|tag-?links|tags-?links|entry-?tags|field-?tags|keywords)([\s_-]|$)", re.I
)
_TAG_LIST_LABEL = re.compile(
    r"^\s*(tags|tagged|topics|keywords|schlagwörter|themen|etiquetas|mots-clés|وسوم|الوسوم|الكلمات الدال[ةه]|"
    r"الكلمات المفتاحية|الكلمات المفاتيح|كلمات دلالية|برچسب‌?ها|کلمات کلیدی)\s*:?",
    re.I,
)
_NOT_A_TAG_LIST = re.compile(r"cloud|widget|sidebar|footer|menu|nav", re.I)
_LONGEST_TAG, _MOST_TAGS = 60, 30
_TAG_SPLIT = re.compile(r"\s*[,،;]\s*")
_PUBLISHED_META = (
    "article:published_time",
    "article:published:time",
    "datepublished",
    "date",
    "dc.date",
    "dc.date.issued",
    "dcterms.date",
    "pubdate",
    "publishdate",
    "publish-date",
    "publish_date",
    "published-date",
    "published_date",
    "publication_date",
    "citation_publication_date",
    "sailthru.date",
    "parsely-pub-date",
    "og:published_time",
    "published_time",
    "published",
    "article_date_original",
    "original-publish-date",
)
_MODIFIED_META = (
    "article:modified_time",
    "article:modified:time",
    "og:updated_time",
    "datemodified",
    "dc.date.modified",
    "dcterms.modified",
    "lastmod",
    "modified_time",
)
_BYLINE_CLASS = re.compile(r"(^|[\s_-])(author(-?name)?|byline|post-author|entry-author|writer)([\s_-]|$)", re.I)
# Where a field came from, recorded beside it so a user can see why a value was chosen.
JSON_LD, META, MICRODATA, VISIBLE, MARKUP = "json-ld", "meta", "microdata", "visible", "markup"

Candidate = tuple[str, Callable[[], Any]]  # (provenance label, a getter evaluated only when needed)


@dataclass(slots=True)
class PageMetadata:
    """Everything read from one page except the body, and where each field was found."""

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
    provenance: dict[str, str] = field(default_factory=dict)
    date_texts: dict[str, str] = field(default_factory=dict)  # "published"/"modified" → the string as written


def read_metadata(tree: LexborHTMLParser, timezone: str, url: str | None = None) -> PageMetadata:
    """Read every metadata field; dates come back as ISO 8601 strings with an offset. Each field's
    candidates are tried in order of trust; the first usable one wins and its label is recorded."""
    head = _read_head_markup(tree)
    ld = _json_ld_article(head.json_ld) or _json_ld_article(_body_json_ld(tree))
    meta = head.meta
    markup = _MarkupFallbacks(tree)
    found = PageMetadata()
    sources = found.provenance

    def pick(name: str, *candidates: Candidate) -> Any:
        for label, getter in candidates:
            value = getter()
            if value:
                sources[name] = label
                return value
        return None

    def pick_date(name: str, *candidates: Candidate) -> str | None:
        for label, getter in candidates:
            text = _text(getter())
            parsed = parse_date(text, timezone) if text else None
            if parsed is not None and text:
                sources[name] = label
                found.date_texts[name] = text
                return parsed.isoformat()
        return None

    found.title = clean_title(
        pick(
            "title",
            (f"{JSON_LD}:headline", lambda: _text(ld.get("headline"))),
            (f"{META}:og:title", lambda: meta.get("og:title")),
            (f"{META}:twitter:title", lambda: meta.get("twitter:title")),
            (
                f"{MARKUP}:title+heading",
                lambda: segment_headline(tree, _doc_title(tree), meta.get("og:site_name"), url),
            ),
            (f"{MARKUP}:h1", lambda: _h1_unless_site_name(markup, tree, meta.get("og:site_name"), url)),
            (f"{MARKUP}:title", lambda: _doc_title(tree)),
        ),
        meta.get("og:site_name"),
        lambda: _h1(markup),
    )
    found.published = pick_date(
        "published",
        (f"{JSON_LD}:datePublished", lambda: ld.get("datePublished")),
        *((f"{META}:{key}", lambda key=key: meta.get(key)) for key in _PUBLISHED_META),
        (f"{MICRODATA}:datePublished", lambda: _itemprop_date(markup, "datePublished")),
    )
    found.modified = pick_date(
        "modified",
        (f"{JSON_LD}:dateModified", lambda: ld.get("dateModified")),
        *((f"{META}:{key}", lambda key=key: meta.get(key)) for key in _MODIFIED_META),
        (f"{MICRODATA}:dateModified", lambda: _itemprop_date(markup, "dateModified")),
    )
    found.canonical_url = pick(
        "canonical_url",
        (f"{MARKUP}:link-canonical", lambda: head.canonical),
        (f"{META}:og:url", lambda: meta.get("og:url")),
    )
    found.authors = _authors(ld, meta, markup, meta.get("og:site_name"), url, sources)
    found.section = pick(
        "section",
        (f"{JSON_LD}:articleSection", lambda: _text(ld.get("articleSection"))),
        (f"{META}:article:section", lambda: meta.get("article:section")),
        (f"{MARKUP}:breadcrumb", lambda: _breadcrumb_section(markup)),
    )
    found.title = without_decoration(found.title, found.section, url)
    if found.published is None:  # after the title lost its " | Section": the headline is found by its words
        _read_visible_dates(tree, markup, timezone, url, found)
    found.tags = _tags(ld, head.meta_all.get("article:tag", []), markup, sources)
    found.language = _language(tree, ld, meta, sources)
    found.image = pick(
        "image",
        (f"{JSON_LD}:image", lambda: _image(ld.get("image"))),
        (f"{META}:og:image", lambda: meta.get("og:image")),
        (f"{META}:twitter:image", lambda: meta.get("twitter:image")),
    )
    found.site_name = pick(
        "site_name",
        (f"{META}:og:site_name", lambda: meta.get("og:site_name")),
        (f"{JSON_LD}:publisher", lambda: _text(_name(ld.get("publisher")))),
    )
    found.description = pick(
        "description",
        (f"{META}:description", lambda: meta.get("description")),
        (f"{META}:og:description", lambda: meta.get("og:description")),
        (f"{JSON_LD}:description", lambda: _text(ld.get("description"))),
    )
    found.json_ld_body = _text(ld.get("articleBody"))
    for name in ("title", "canonical_url", "section", "image", "site_name", "description"):
        value = getattr(found, name)
        setattr(found, name, value.strip() if isinstance(value, str) and value.strip() else None)
    return found  # fmt: skip


# --- JSON-LD -----------------------------------------------------------------------------------------


def _json_ld_article(scripts: list[str]) -> dict[str, Any]:
    """The first JSON-LD object typed as an article (merged over @graph and lists), its missing dates filled
    from the page's WebPage node (Yoast and Rank Math put them there); the WebPage node alone when no
    article is typed; else {}."""
    article: dict[str, Any] | None = None
    page: dict[str, Any] | None = None
    for script in scripts:
        try:
            data = json.loads(script or "null", strict=False)
        except (json.JSONDecodeError, RecursionError):
            continue  # broken JSON-LD is common; other sources of metadata still apply
        for item in _ld_items(data):
            types = item.get("@type")
            names = {str(t).lower() for t in (types if isinstance(types, list) else [types])}
            if article is None and names & _ARTICLE_TYPES:
                article = item
            elif page is None and names & _PAGE_TYPES:
                page = item
    if article is None:
        return {key: page[key] for key in ("datePublished", "dateModified") if key in page} if page else {}
    missing: dict[str, Any] = {
        key: page[key] for key in ("datePublished", "dateModified") if page and key in page and key not in article
    }
    return {**article, **missing} if missing else article


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


@dataclass(slots=True)
class _HeadMarkup:
    """meta tags, JSON-LD scripts and rel=canonical, read in one pass over the page (each full-page
    selector query costs about as much as parsing a tenth of the page)."""

    meta: dict[str, str] = field(default_factory=dict)  # first non-empty content per lower-cased key
    meta_all: dict[str, list[str]] = field(default_factory=dict)
    json_ld: list[str] = field(default_factory=list)
    canonical: str | None = None


class _MarkupFallbacks:
    """The markup read only when JSON-LD and meta tags lack a field (rel=author/tag links, microdata,
    breadcrumbs), gathered by one selector query the first time any of it is needed."""

    def __init__(self, tree: LexborHTMLParser) -> None:
        self._tree = tree
        self._nodes: list[LexborNode] | None = None
        self._h1: tuple[LexborNode | None] | None = None

    @property
    def nodes(self) -> list[LexborNode]:
        if self._nodes is None:
            self._nodes = self._tree.css(
                'h1, a[rel], [itemprop], [class*="breadcrumb"], [id*="breadcrumb"], [class*="author"], [class*="byline"]'
            )
        return self._nodes

    def h1(self) -> LexborNode | None:
        """The article's h1: one inside <article>, else one that <title> names, else the first (a site's
        logo is often the page's first h1)."""
        if self._h1 is None:
            headings = [node for node in self.nodes if node.tag == "h1"]
            doc_title = " ".join((_doc_title(self._tree) or "").split()).casefold()
            texts = {h.mem_id: " ".join(h.text(deep=True).split()).casefold() for h in headings}
            named = [h for h in headings if texts[h.mem_id] and texts[h.mem_id] in doc_title]
            inside = next((h for h in headings if _inside_article(h)), None)
            longest = max(named, key=lambda h: len(texts[h.mem_id]), default=None)  # the headline, not the site name
            self._h1 = (inside or longest or (headings[0] if headings else None),)
        return self._h1[0]

    def with_rel(self, rel: str, in_article: bool = False) -> list[LexborNode]:
        """Links with this rel; ``in_article``: those inside <article> when it has any (a page's teasers link
        their own authors)."""
        links = [n for n in self.nodes if n.tag == "a" and rel in (n.attrs.get("rel") or "").lower().split()]
        inside = [link for link in links if _inside_article(link)] if in_article else []
        return inside or links

    def with_itemprop(self, prop: str) -> list[LexborNode]:
        return [n for n in self.nodes if prop in (n.attrs.get("itemprop") or "").split()]

    def bylines(self) -> list[LexborNode]:
        """Short elements whose class names an author or byline (most themes print "By <name>" so)."""
        return [
            node for node in self.nodes
            if node.tag != "h1" and _BYLINE_CLASS.search(classes := node.attrs.get("class") or "")
            and "comment" not in classes  # a commenter is not the author
        ]  # fmt: skip

    def tag_lists(self) -> list[LexborNode]:
        """Blocks that look like the article's list of tags: named for tags, or labelled so."""
        found = []
        for node in self._tree.css('[class*="tag" i], [class*="keyword" i], [id*="tag" i]'):
            names = f"{node.attrs.get('class') or ''} {node.attrs.get('id') or ''}"
            if node.tag != "a" and _TAG_LIST_CLASS.search(names) and not _NOT_A_TAG_LIST.search(names):
                found.append(node)
        if not found:
            for node in self._tree.css("span, strong, b, h3, h4, div, p, dt"):
                text = node.text(deep=False) or ""
                if text.strip() and len(text) < 40 and _TAG_LIST_LABEL.match(text) and node.parent is not None:
                    found.append(node.parent)
        return [node for node in found if node.css_first("a") is not None]

    def breadcrumb(self) -> LexborNode | None:
        for node in self.nodes:
            names = f"{node.attrs.get('class') or ''} {node.attrs.get('id') or ''}"
            if "breadcrumb" in names and node.tag != "a":
                return node
        return None


def _inside_article(node: LexborNode) -> bool:
    current = node.parent
    while current is not None:
        if current.tag == "article":
            return True
        current = current.parent
    return False


def _read_head_markup(tree: LexborHTMLParser) -> _HeadMarkup:
    """From <head> only (a fraction of the page to search); microdata <meta itemprop> in the body is read
    by _MarkupFallbacks, JSON-LD in the body by _body_json_ld."""
    found = _HeadMarkup()
    head_nodes = tree.head.css("meta[content], script[type], link[rel][href]") if tree.head is not None else []
    for node in head_nodes:
        _index_head_node(node, found)
    return found


def _body_json_ld(tree: LexborHTMLParser) -> list[str]:
    """JSON-LD scripts in <body> (plugins often print them in the footer)."""
    if tree.body is None:
        return []
    return [
        node.text(deep=True) for node in tree.body.css("script[type]")
        if (node.attrs.get("type") or "").strip().lower() == "application/ld+json"
    ]  # fmt: skip


def _index_head_node(node: LexborNode, found: _HeadMarkup) -> None:
    attributes = node.attrs
    if node.tag == "meta":
        key = attributes.get("property") or attributes.get("name") or attributes.get("itemprop")
        content = (attributes.get("content") or "").strip()
        if key and content:
            key = key.strip().lower()
            found.meta.setdefault(key, content)
            found.meta_all.setdefault(key, []).append(content)
    elif node.tag == "script":
        if (attributes.get("type") or "").strip().lower() == "application/ld+json":
            found.json_ld.append(node.text(deep=True))
    elif found.canonical is None and "canonical" in (attributes.get("rel") or "").lower().split():
        found.canonical = (attributes.get("href") or "").strip() or None


def _h1(markup: _MarkupFallbacks) -> str | None:
    node = markup.h1()
    return node.text(deep=True, separator=" ").strip() or None if node else None


def _h1_unless_site_name(
    markup: _MarkupFallbacks, tree: LexborHTMLParser, site_name: str | None, url: str | None
) -> str | None:
    """The h1, unless it prints only the site's name that <title> puts beside the headline."""
    node = markup.h1()
    if node is not None and is_site_name_part(node, _doc_title(tree), site_name, url):
        return None
    return _h1(markup)


def _doc_title(tree: LexborHTMLParser) -> str | None:
    node = tree.css_first("title")
    return node.text().strip() or None if node else None


def _itemprop_date(markup: _MarkupFallbacks, prop: str) -> str | None:
    nodes = markup.with_itemprop(prop)
    if not nodes:
        return None
    node = nodes[0]
    attributes = node.attrs
    return (
        attributes.get("content")
        or attributes.get("datetime")
        or attributes.get("title")
        or node.text().strip()
        or None
    )


def _authors(
    ld: dict[str, Any],
    meta: dict[str, str],
    markup: _MarkupFallbacks,
    site_name: str | None,
    url: str | None,
    sources: dict[str, str],
) -> list[str]:
    """The people who wrote the article, from the most trusted source that names anybody."""
    raw = ld.get("author")
    host = urlsplit(url).hostname if url else None
    candidates: list[tuple[str, Callable[[], list[str]]]] = [
        (
            f"{JSON_LD}:author",
            lambda: [n for entry in (raw if isinstance(raw, list) else [raw]) if (n := _text(_name(entry)))],
        ),
        *(
            (f"{META}:{key}", lambda key=key: [v for v in [meta.get(key, "")] if v and not v.startswith("http")])
            for key in ("author", "article:author", "dc.creator", "parsely-author", "sailthru.author")
        ),
        (f"{MARKUP}:rel-author", lambda: [node.text(deep=True) for node in markup.with_rel("author", in_article=True)]),
        (f"{MICRODATA}:author", lambda: _microdata_authors(markup)),
        (f"{VISIBLE}:byline", lambda: byline_names(markup.bylines())),
    ]
    credited: tuple[str, list[str]] | None = None  # the publication credited as its own author
    for label, getter in candidates:
        values = getter()
        names = clean_names(values, site_name, host)
        if names:
            sources["authors"] = label
            return names
        credited = credited or ((label, itself) if (itself := clean_names(values, None, None)) else None)
    if credited is None:
        return []
    sources["authors"] = f"{credited[0]} (the publication)"  # nobody is named but the site itself
    return credited[1]


def _microdata_authors(markup: _MarkupFallbacks) -> list[str]:
    names = []
    for node in markup.with_itemprop("author"):
        name_node = node.css_first('[itemprop="name"]')
        names.append(node.attrs.get("content") or (name_node or node).text(deep=True).strip())
    return names


def _tags(ld: dict[str, Any], meta_tags: list[str], markup: _MarkupFallbacks, sources: dict[str, str]) -> list[str]:
    tags, label = meta_tags, f"{META}:article:tag"
    keywords = ld.get("keywords")
    if not tags and keywords:
        items = keywords if isinstance(keywords, list) else [keywords]
        tags = [part for item in items if isinstance(item, str) for part in _TAG_SPLIT.split(item)]
        label = f"{JSON_LD}:keywords"
    if not tags:
        tags, label = [node.text(deep=True) for node in markup.with_rel("tag", in_article=True)], f"{MARKUP}:rel-tag"
    if not tags:
        tags, label = _labelled_tag_links(markup), f"{VISIBLE}:tag-list"
    unique = _unique(" ".join(tag.split()) for tag in tags if tag and tag.strip())
    if unique:
        sources["tags"] = label
    return unique


def _labelled_tag_links(markup: _MarkupFallbacks) -> list[str]:
    """The links of the article's tag list as news themes print it without rel=tag: a block named for tags
    or keywords ("post-tags", "field-tags", "tags-links") or opening with a label ("Tags:", "وسوم",
    "الكلمات الدالة", "برچسب‌ها", "Schlagwörter"), never a site-wide tag cloud in a sidebar."""
    for node in markup.tag_lists():
        links = [" ".join(link.text(deep=True).split()) for link in node.css("a")]
        links = [text for text in links if 0 < len(text) <= _LONGEST_TAG]
        if links and len(links) <= _MOST_TAGS:
            return links
    return []


def _breadcrumb_section(markup: _MarkupFallbacks) -> str | None:
    trail = markup.breadcrumb()
    crumbs = trail.css("a") if trail is not None else []
    if len(crumbs) >= 2:
        return crumbs[-1].text(deep=True).strip() or None
    return None


def _language(tree: LexborHTMLParser, ld: dict[str, Any], meta: dict[str, str], sources: dict[str, str]) -> str | None:
    root = tree.css_first("html")
    for label, value in (
        (f"{JSON_LD}:inLanguage", _text(ld.get("inLanguage"))),
        (f"{MARKUP}:html-lang", root.attrs.get("lang") if root else None),
        (f"{META}:og:locale", meta.get("og:locale")),
        (f"{META}:content-language", meta.get("content-language")),
        (f"{META}:language", meta.get("language")),
    ):
        code = (value or "").replace("_", "-").split("-")[0].strip().lower()
        if code:
            sources["language"] = label
            return code
    return None


# --- dates printed on the page ------------------------------------------------------------------------


def _read_visible_dates(
    tree: LexborHTMLParser, markup: _MarkupFallbacks, timezone: str, url: str | None, found: PageMetadata
) -> None:
    """No machine-readable publication date: the dates printed for the article, a framework's script data,
    then the URL."""
    root = tree.css_first("html")
    lang = ((root.attrs.get("lang") if root is not None else None) or "").lower()
    month_first = lang in ("en", "en-us")  # 10/12/2023 is October 12 on an American page
    heading = title_heading(tree, found.title) or markup.h1()  # a site's logo is often the first h1
    published, modified = visible_dates(tree, heading, timezone, month_first)
    if published is None:
        scripts = (node.text(deep=True) for node in tree.css("script:not([src])"))
        published = next(filter(None, (script_date(text, timezone) for text in scripts)), None)
    if published is None:
        published = url_date(url, timezone)
    if published is not None:
        found.published, found.provenance["published"], found.date_texts["published"] = published
    if modified is not None and found.modified is None:
        found.modified, found.provenance["modified"], found.date_texts["modified"] = modified


# --- small helpers --------------------------------------------------------------------------------------


def _unique(items: Iterator[str] | list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)

"""Dates the page prints for its article, read when nothing machine-readable (JSON-LD, meta tags,
microdata) gives the publication date.

Where: first the few elements around the article's headline, then <article>/<main>, then the page; in
each, <time> and date-named elements (never inside related stories, lists of other stories, comments, or
the site's header with its "today" clock), then date-shaped text beside the headline. What: the month
families dates.py parses (Arabic, Iraqi/Levantine, Maghrebi, Persian, Hijri, English) and the numeric
forms of European and American pages (22.12.2012; 10/12/2023 day first, or month first on an English
page). A date labelled "updated" is the modified date; when it is the only one, it stands for the
publication date too, labelled so. Then a "datePublished" in a page's script data (a framework's state,
not JSON-LD), then a date written in the URL.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import NamedTuple

from selectolax.lexbor import LexborHTMLParser, LexborNode

from crawler.dates import ARABIC_MONTHS, parse_date

__all__ = ["FoundDate", "script_date", "url_date", "visible_dates"]

TIME, VISIBLE, URL, SCRIPT = "time", "visible", "url", "script"

_DATE_CLASS = re.compile(
    r"(^|[\s_-])(date|time|published|posted|post-date|entry-date|meta-date|timestamp|created|dateline)", re.I
)
_DATE_NODE_SELECTOR = "time, abbr[title], " + ", ".join(
    f"[class*={word} i]" for word in ("date", "time", "publish", "posted", "created", "dateline")
)
_URL_DATE = re.compile(r"/((?:19|20)\d{2})[/-](\d{1,2})[/-](\d{1,2})(?=[/_.+-]|$)|/((?:19|20)\d{2})(\d{2})(\d{2})(?=/)")
_MONTH_NAMES = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|Jun(?:e)?|Jul(?:y)?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|"
    r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_NUMERIC_DATE = re.compile(r"(?<![\d.:/])(\d{1,2})([./])(\d{1,2})\2((?:19|20)\d{2})(?![\d.:/])")
_DATE_PHRASE = re.compile(
    rf"\b{_MONTH_NAMES}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+(?:19|20)\d{{2}}\b"  # December 19, 2025
    rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\.?\s+{_MONTH_NAMES},?\s+(?:19|20)\d{{2}}\b"  # 19 December 2025
    r"|\b(?:19|20)\d{2}-\d{2}-\d{2}\b"
    rf"|\d{{1,2}}\s+(?:{ARABIC_MONTHS})(?:\s*/\s*(?:{ARABIC_MONTHS}))?\s+(?:19|20)\d{{2}}"  # 24 نيسان / أبريل 2020
    r"|(?<![\d.:/])\d{1,2}[./]\d{1,2}[./](?:19|20)\d{2}(?![\d.:/])",  # 22.12.2012, 10/12/2023
    re.IGNORECASE,
)
_FOUR_DIGITS = re.compile(r"\d{4}")
_UPDATED_HINT = re.compile(r"(updated|modified|آخر تحديث|تحديث|تم التحديث|last-updated|aktualisiert)", re.I)
# Blocks whose dates are never the article's: other stories, comments, and the site's own header.
_NOT_THE_ARTICLES = re.compile(
    r"related|read-also|teaser|comment|widget|sidebar|header|masthead|top-?bar|navbar|today|clock|weather|ticker", re.I
)
_PUBLISHED_LABEL = re.compile(
    r"^(?:published|posted|date|first published|veröffentlicht|publié|publicado|pubblicato|تاريخ النشر|نشر في|"
    r"تاريخ|منتشر شده|تاریخ انتشار)\b",
    re.I,
)
_LABEL_CHARS = 30
_OTHER_STORIES = re.compile(r"comment|related", re.I)  # a labelled date there is another story's or a comment's
# The names frameworks and headless CMSs give the publication date in a page's state (Next.js, Contentful,
# Sanity, Strapi, Ghost): "publishedAt", "published_at", "publishDate"...
_SCRIPT_DATE = re.compile(
    r'"(?:datePublished|publishedAt|published_at|publishDate|publishedDate|publicationDate|firstPublishedAt)"'
    r'\s*:\s*"([^"]{8,40})"'
)
_NOT_PRINTED = {"script", "style", "noscript", "template"}
_CODE_TAGS = ", ".join(_NOT_PRINTED)
_MAX_WALKED_CHARS = 200_000
_SHORT_TEXT = 24  # longer texts are read from their date-shaped phrase first
_TIME_AFTER = re.compile(
    r"\s*[,|\-–—]?\s*(?:at\s+|um\s+|à\s+)?\d{1,2}:\d{2}(?::\d{2})?\s*(?:[AaPp]\.?[Mm]\.?|ص|م|صباحاً|صباحا|مساءً|مساء|ب\.ظ|ق\.ظ|Uhr)?"
)
_ISO_START = re.compile(r"\d{4}-\d{2}-\d{2}")
_HEADING_REACH = 3  # how many elements above the headline are searched first for dated elements
_PHRASE_REACH = 6  # how many elements above the headline are searched for a date in the text
_BEFORE_HEADLINE, _AFTER_HEADLINE = 300, 600  # characters of text around the headline searched for one


class FoundDate(NamedTuple):
    iso: str
    label: str  # provenance
    text: str  # as written on the page


def visible_dates(
    tree: LexborHTMLParser, heading: LexborNode | None, timezone: str, month_first: bool
) -> tuple[FoundDate | None, FoundDate | None]:
    """(published, modified) as printed for the article; ``heading`` is its headline element and
    ``month_first`` reads 10/12/2023 as October 12 (an American English page)."""
    published = modified = None
    for scope in _scopes(tree, heading):
        found_published, found_modified = _dated_elements(scope, heading, timezone, month_first)
        published, modified = published or found_published, modified or found_modified
        if published:
            break
    if published is None:
        published = _date_near_heading(heading, timezone, month_first)
    if published is None and modified is not None:
        published = modified._replace(label=f"{modified.label}:updated")  # the only date the page gives
    return published, modified


def _scopes(tree: LexborHTMLParser, heading: LexborNode | None) -> list[LexborNode]:
    """Where to look, nearest first: the headline's close ancestors, <article>/<main>, the page."""
    scopes: list[LexborNode] = []
    current = heading.parent if heading is not None else None
    while current is not None and len(scopes) < _HEADING_REACH and current.tag not in ("body", "html"):
        scopes.append(current)
        current = current.parent
    for outer in (tree.css_first("article") or tree.css_first("main"), tree.body):
        if outer is not None:
            scopes.append(outer)
    return scopes


def _dated_elements(
    scope: LexborNode, heading: LexborNode | None, timezone: str, month_first: bool
) -> tuple[FoundDate | None, FoundDate | None]:
    published = modified = None
    for node in scope.css(_DATE_NODE_SELECTOR):  # the selector engine pre-filters; _is_date_node decides
        if not _is_date_node(node) or (_not_the_articles(node, scope, heading) and not _labelled_published(node)):
            continue
        text = node.attrs.get("datetime") or node.attrs.get("title") or node.text(deep=True, separator=" ")
        parsed = _parse(text, timezone, month_first, relative=True)  # "منذ 3 ساعات" in the article's own header
        if parsed is None and node.tag == "abbr":
            parsed = _parse(node.text(deep=True, separator=" "), timezone, month_first)
        if parsed is None:
            continue
        found = FoundDate(parsed.isoformat(), TIME if node.tag == "time" else VISIBLE, " ".join(text.split()))
        if _UPDATED_HINT.search(node.attrs.get("class") or "") or _UPDATED_HINT.search(text):
            modified = modified or found
        else:
            published = published or found
        if published and modified:
            break
    return published, modified


def _date_near_heading(heading: LexborNode | None, timezone: str, month_first: bool) -> FoundDate | None:
    """The date-shaped phrase printed nearest the article's headline ("By Jane Doe | Nov 21, 2018",
    "Datum: 22.12.2012"), looked for in the text around it, in wider circles; a date labelled "updated"
    only when nothing else is printed there."""
    if heading is None:
        return None
    raw_headline = heading.text(deep=True, separator=" ")
    headline = " ".join(raw_headline.split())
    area, updated = heading.parent, None
    for _ in range(_PHRASE_REACH):
        if area is None or area.tag == "html":
            break
        window, offset, start = _window(area.text(deep=True, separator=" "), raw_headline, headline)
        if "{" in window and area.css_first(_CODE_TAGS) is not None:  # a script's or a style's code in the way
            window, offset, start = _window(_printed_text(area), raw_headline, headline)
        found = []
        for match in _DATE_PHRASE.finditer(window):
            parsed = _parse(match.group(0), timezone, month_first)
            if parsed is not None:
                prefix = window[max(0, match.start() - 25) : match.start()]
                found.append(
                    (abs(offset + match.start() - start), bool(_UPDATED_HINT.search(prefix)), parsed, match.group(0))
                )
        published = [item for item in sorted(found, key=lambda item: item[0]) if not item[1]]
        if published:
            return FoundDate(published[0][2].isoformat(), VISIBLE, published[0][3])
        if found and updated is None:
            nearest = min(found, key=lambda item: item[0])
            updated = FoundDate(nearest[2].isoformat(), f"{VISIBLE}:updated", nearest[3])
        area = area.parent
    return updated


def _window(raw: str, raw_headline: str, headline: str) -> tuple[str, int, int]:
    """The text around the headline (_BEFORE_HEADLINE characters before it, _AFTER_HEADLINE after), where that
    window starts in the one-lined text, and where the headline starts."""
    text, start = _around(raw, raw_headline, headline)
    offset = max(0, start - _BEFORE_HEADLINE)
    return text[offset : start + len(headline) + _AFTER_HEADLINE], offset, start


def _printed_text(area: LexborNode) -> str:
    """The area's text as a reader sees it: without the code of its scripts and styles, which can put
    thousands of characters between a headline and the date printed beside it."""
    raw = area.text(deep=True, separator=" ")
    if len(raw) > _MAX_WALKED_CHARS:
        return raw  # a node walk in Python over megabytes of text would cost more than the date is worth
    return " ".join(
        node.text_content or ""
        for node in area.traverse(include_text=True)
        if node.is_text_node and (node.parent is None or node.parent.tag not in _NOT_PRINTED)
    )


def _around(raw: str, raw_headline: str, headline: str) -> tuple[str, int]:
    """The area's text on one line, at least around its headline (_BEFORE_HEADLINE characters before it,
    _AFTER_HEADLINE after), and where the headline starts in it (0 when it is not there). Only a slice of
    the raw text is one-lined, widened until it holds that much: an area can hold a 10 MB page's text,
    and one-lining all of it made a million word strings (90 MB) to read 900 characters."""
    at = max(raw.find(raw_headline), 0) if headline else 0
    reach = 4 * (_BEFORE_HEADLINE + _AFTER_HEADLINE)
    while True:
        low, high = max(0, at - reach), min(len(raw), at + len(raw_headline) + reach)
        text = " ".join(raw[low:high].split())
        start = max(text.find(headline), 0) if headline else 0
        # the margin keeps a word cut in two at the slice's ends out of the window
        whole_before = low == 0 or start >= _BEFORE_HEADLINE + 50
        whole_after = high == len(raw) or len(text) - start - len(headline) >= _AFTER_HEADLINE + 50
        if whole_before and whole_after:
            return text, start
        reach *= 2


def _parse(text: str, timezone: str, month_first: bool, *, relative: bool = False) -> datetime | None:
    """parse_date, with numeric dates read day first (or month first on an American page) here. A longer
    text ("May 3, 2024 | By Jane Doe | 4 min read") is read from its date-shaped phrase when it has one:
    the whole text would go to dateparser, at half a millisecond a try."""
    if len(text) > _SHORT_TEXT and not _ISO_START.match(text.strip()):
        phrase = _DATE_PHRASE.search(text)
        if phrase is not None:
            clock = _TIME_AFTER.match(
                text, phrase.end()
            )  # "24 نيسان / أبريل 2020 09:22 مساءً", "May 3, 2024 at 9:41 AM"
            text, relative = text[phrase.start() : clock.end() if clock else phrase.end()], False
    numeric = _NUMERIC_DATE.search(text)
    if numeric is not None and len(text.strip()) <= len(numeric.group(0)) + 12:
        first, separator, second, year = numeric.groups()
        day, month = (int(second), int(first)) if month_first and separator == "/" else (int(first), int(second))
        if not (1 <= month <= 12 and 1 <= day <= 31):
            day, month = month, day  # 13/11/2025 on an American page is still 13 November
        return parse_date(f"{int(year):04d}-{month:02d}-{day:02d}", timezone) if 1 <= month <= 12 else None
    return parse_date(text, timezone, relative=relative)


def _is_date_node(node: LexborNode) -> bool:
    if node.tag == "time":
        return True
    if node.tag == "abbr":
        return bool(node.attrs.get("title")) and bool(_DATE_CLASS.search(node.attrs.get("class") or "published"))
    return bool(_DATE_CLASS.search(node.attrs.get("class") or "")) and len(node.text(deep=True)) < 120


def _not_the_articles(node: LexborNode, scope: LexborNode, heading: LexborNode | None) -> bool:
    """True inside related/read-also blocks, lists of other stories, comments, sidebars or the site's
    header (its "today" clock); a <header> that holds the headline is the article's own."""
    current = node.parent
    while current is not None and current.mem_id != scope.mem_id:
        tag = current.tag
        if tag in ("li", "aside", "nav", "footer"):
            return True
        if tag == "header" and (heading is None or heading.mem_id not in {n.mem_id for n in current.css("h1, h2, h3")}):
            return True
        hint = f"{current.attrs.get('class') or ''} {current.attrs.get('id') or ''}"
        if _NOT_THE_ARTICLES.search(hint) and not _holds(current, heading):
            return True
        current = current.parent
    return False


def _labelled_published(node: LexborNode) -> bool:
    """A date printed under a "Published" label (a meta box in the sidebar: "<h4>Published</h4><div
    class=date>"): the article's own, wherever the theme puts it; never one in a list or in comments."""
    label = _printed_before(node)
    if label is None and node.parent is not None:  # "<p><b>Published</b> <time>" or a wrapper's heading
        label = _printed_before(node.parent)
    text = " ".join((label.text(deep=True) if label is not None else "").split())
    if not text or len(text) > _LABEL_CHARS or not _PUBLISHED_LABEL.search(text):
        return False
    current = node.parent
    while current is not None and current.tag not in ("body", "html"):
        if current.tag == "li" or _OTHER_STORIES.search(current.attrs.get("class") or ""):
            return False
        current = current.parent
    return True


def _printed_before(node: LexborNode) -> LexborNode | None:
    """The sibling just before node, element or text, passing over blank text."""
    before = node.prev
    while before is not None and not before.is_element_node and not (before.text_content or "").strip():
        before = before.prev
    return before


def _holds(element: LexborNode, heading: LexborNode | None) -> bool:
    """True when element is an ancestor of heading (an "entry-header" around the headline is the article's)."""
    current = heading
    while current is not None:
        if current.mem_id == element.mem_id:
            return True
        current = current.parent
    return False


def script_date(html: str, timezone: str) -> FoundDate | None:
    """The first publication date in the page's script data (a framework's state object, not JSON-LD)."""
    for match in _SCRIPT_DATE.finditer(html):
        parsed = parse_date(match.group(1), timezone)
        if parsed is not None:
            return FoundDate(parsed.isoformat(), SCRIPT, match.group(1))
    return None


def url_date(url: str | None, timezone: str = "UTC") -> FoundDate | None:
    """A full date written in the URL's path (/2024/01/25/, /2024-01-25-, /20240125/)."""
    match = _URL_DATE.search(url) if url else None
    if match is None:
        return None
    year, month, day = (int(part) for part in match.groups() if part)
    parsed = parse_date(f"{year:04d}-{month:02d}-{day:02d}", timezone) if 1 <= month <= 12 and 1 <= day <= 31 else None
    return FoundDate(parsed.isoformat(), URL, match.group(0)) if parsed else None

"""The article's title, freed of what sites print around it: the site's name, a section, a separator.

A page whose <title> joins the headline with the site's name ("Blog: Post", "Post - Blog"): many blogs and
older news sites print the site's name as the page's h1 and the post's headline as an h2 or h3, and give no
og:title. The <title> tells them apart: both are parts of it, and the headline is the longest part that is
not the site's name, printed as a heading. Then the site's name and a section are cut from whichever title
was chosen (clean_title, without_decoration).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import SplitResult, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

__all__ = ["clean_title", "is_site_name_part", "segment_headline", "title_segments", "without_decoration"]

# What sites put between the headline and their name in <title>: a spaced dash, bar, colon or guillemet,
# a colon after a word, a slash with spaces.
_SEGMENT_SEPARATORS = re.compile(r"\s+[|\-–—«»:•/]\s+|\s*[|»«•]\s*|(?<=\w):\s+")
_MIN_SEGMENT_CHARS = 3
_TITLE_SEPARATORS = re.compile(r"\s+[|\-–—«»:•]\s+")
_TRAILING_PART = re.compile(r"\s*(?:\s[|\-–—•:]|[|•])\s*([^|\-–—•:]{2,60})$")
_HEADINGS = "h1, h2, h3"
_HOME_PATHS = ("", "/", "/index.html", "/index.php")


def title_segments(doc_title: str) -> list[str]:
    """The parts of a <title> between its separators, spacing normalised."""
    return [part for part in (" ".join(piece.split()) for piece in _SEGMENT_SEPARATORS.split(doc_title)) if part]


def segment_headline(
    tree: LexborHTMLParser, doc_title: str | None, site_name: str | None, url: str | None = None
) -> str | None:
    """The longest part of the <title> that is not the site's name, when the page prints it as a heading
    (h1-h3); None otherwise (the title is then left to the other fields). The site's name: og:site_name,
    a part naming the host, a part printed as a heading that links to the front page."""
    if not doc_title or tree.body is None:
        return None
    segments = {segment.casefold(): segment for segment in title_segments(doc_title)}
    if len(segments) < 2:
        return None
    printed: dict[str, LexborNode] = {}  # segment → the first heading printing it
    for heading in tree.body.css(_HEADINGS):
        text = " ".join(heading.text(deep=True, separator=" ").split()).casefold()
        if len(text) >= _MIN_SEGMENT_CHARS and text in segments:
            printed.setdefault(text, heading)
    if not printed:
        return None
    label = _host_label(url)
    names = {(site_name or "").casefold()} | {key for key, heading in printed.items() if _links_home(heading)}
    names |= {key for key in segments if label and label in re.sub(r"\W", "", key)}
    parts = [key for key in segments if key not in names]
    longest = max(parts, key=len, default=None)
    if longest is None or longest not in printed:
        return None
    return " ".join(printed[longest].text(deep=True, separator=" ").split())


def is_site_name_part(heading: LexborNode, doc_title: str | None, site_name: str | None, url: str | None) -> bool:
    """True when the heading prints only the part of the <title> that is the site's name (og:site_name, the
    host's name, or a heading linking to the front page): a masthead, beside a headline printed otherwise."""
    segments = {segment.casefold() for segment in title_segments(doc_title or "")}
    key = " ".join(heading.text(deep=True, separator=" ").split()).casefold()
    if len(segments) < 2 or key not in segments:
        return False
    label, compact = _host_label(url), re.sub(r"\W", "", key)
    named_by_host = bool(label) and label in compact and len(label) >= 0.6 * len(compact)  # not "gardening" of a post
    return key == (site_name or "").casefold() or named_by_host or _links_home(heading)


def _host_label(url: str | None) -> str:
    """The site's own name in its address ("smh" of www.smh.com.au), when long enough to tell."""
    host = (urlsplit(url).hostname or "") if url else ""
    labels = [label for label in host.removeprefix("www.").split(".") if len(label) > 3]
    return labels[0] if labels else ""


def _links_home(heading: LexborNode) -> bool:
    """The heading is, or sits in, a link to the site's front page (a masthead)."""
    links = heading.css("a[href]")
    current = heading.parent
    while current is not None and current.tag not in ("body", "html"):
        if current.tag == "a" and current.attrs.get("href") is not None:
            links.append(current)
            break
        current = current.parent
    hrefs = [(link.attrs.get("href") or "").strip() for link in links]
    return any(not href.startswith("#") and _is_home(urlsplit(href)) for href in hrefs)


def _is_home(address: SplitResult) -> bool:
    return address.path in _HOME_PATHS and not address.query  # "/?p=15500" is a post's address


def clean_title(title: str | None, site_name: str | None, read_heading: Callable[[], str | None]) -> str | None:
    """Drop the site's name that CMSes add before or after the headline ("Site - Headline | Site")."""
    if not title:
        return None
    title = " ".join(title.split())
    heading = " ".join((read_heading() or "").split())
    if heading and heading != title and heading in title and len(heading) >= 0.5 * len(title):
        return heading  # the page's own h1 is the headline without the decorations
    if site_name and site_name != title:
        parts = _TITLE_SEPARATORS.split(title)
        if len(parts) > 1 and parts[-1] == site_name:
            title = title[: title.rfind(parts[-1])].rstrip(" |-–—«»:•")
        elif len(parts) > 1 and parts[0] == site_name:
            title = title[len(parts[0]) :].lstrip(" |-–—«»:•")
    return title or None


def without_decoration(title: str | None, section: str | None, url: str | None) -> str | None:
    """The headline without a trailing " - Site.de" or " | Section" that the site name test missed: the part
    after the last separator names the site's domain or the article's section."""
    if not title:
        return title
    match = _TRAILING_PART.search(title)
    if match is None:
        return title
    tail = match.group(1).casefold()
    host = (urlsplit(url).hostname or "").casefold().removeprefix("www.") if url else ""
    label = host.split(".")[-2] if host.count(".") >= 1 else ""
    compact = re.sub(r"\W", "", tail)
    names_host = len(label) >= 3 and (
        label in compact or (len(compact) >= max(4, len(label) // 2) and compact in label)
    )
    if (section and tail == section.casefold()) or names_host:  # "DianaHR" of getdianahr.com too
        return title[: match.start()].rstrip() or title
    return title

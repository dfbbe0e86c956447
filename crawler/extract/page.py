"""Parsing a page for extraction, with the one repair a browser's parser cannot make for us.

A ``<title>`` that is never closed is RCDATA to the end of the file: an HTML5 parser (lexbor, every
browser) reads the whole page as the title's text and the body comes out empty. Pages like that exist
(a CMS template that lost its ``</title>``, a crawl that cut the head short), and what their author meant
is plain: the title ends where the first tag begins, as libxml2's forgiving parser reads it. The repair
is made only when the page proves it is needed, that is when no ``</title>`` follows the opening tag.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser

__all__ = ["parse_page", "repair_unclosed_title"]

_TITLE_OPEN = re.compile(r"<title\b[^>]*>", re.IGNORECASE)
_TITLE_CLOSE = re.compile(r"</title\s*>", re.IGNORECASE)


def parse_page(html: str) -> LexborHTMLParser:
    return LexborHTMLParser(repair_unclosed_title(html))


def repair_unclosed_title(html: str) -> str:
    """``html`` with ``</title>`` put before the first tag after an unclosed ``<title>``; unchanged otherwise."""
    opening = _TITLE_OPEN.search(html)
    if opening is None or _TITLE_CLOSE.search(html, opening.end()):
        return html
    first_tag = html.find("<", opening.end())
    if first_tag < 0:
        return html  # nothing after the title to rescue
    return f"{html[:first_tag]}</title>{html[first_tag:]}"

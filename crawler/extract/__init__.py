"""Extract stage: an article page (HTML) → ExtractedArticle (metadata and plain-text body).

Public entry point: ``extract(html, url=None)``. ``html`` may be ``str`` or ``bytes``; bytes are decoded
with the same charset rules as fetched pages. Metadata is read first on the intact tree
(metadata.py), then site chrome and boilerplate are stripped and the body is scored (body.py,
boilerplate.py). Text fields come back in display form (textnorm.display_text).
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser

from crawler.decode import decode_html
from crawler.extract.body import extract_body
from crawler.extract.boilerplate import strip_page_chrome
from crawler.extract.metadata import read_metadata
from crawler.models import ExtractedArticle
from crawler.textnorm import display_text

__all__ = ["extract", "extract_article"]
logger = logging.getLogger(__name__)

_ARABIC_LETTER = re.compile("[\u0600-\u06ff]")
_PERSIAN_ONLY = re.compile("[پچژگ]")
_LATIN_LETTER = re.compile("[A-Za-z]")


def extract(html: str | bytes, url: str | None = None, timezone: str = "UTC") -> ExtractedArticle:
    """Extract one article page. Naive dates on the page are read in ``timezone``."""
    if isinstance(html, bytes):
        html, _ = decode_html(html)
    return extract_article(html, url, timezone)


def extract_article(html: str, url: str | None, timezone: str = "UTC", language_hint: str | None = None) -> ExtractedArticle:
    """The extract stage proper (text in, article out); ``language_hint`` is the source's language."""
    tree = LexborHTMLParser(html)
    meta = read_metadata(tree, timezone)
    strip_page_chrome(tree)
    body = extract_body(tree, meta.title).text
    if meta.json_ld_body and len(meta.json_ld_body) > 2 * max(len(body), 1):
        body = meta.json_ld_body  # the CMS's own articleBody beats a poor guess from the markup
    language = _language(meta.language, body or meta.title or "", language_hint)
    return ExtractedArticle(
        url=url,
        canonical_url=_absolute(meta.canonical_url, url),
        title=_display(meta.title, language),
        published=meta.published,
        modified=meta.modified,
        authors=[display_text(a, language) for a in meta.authors],
        section=_display(meta.section, language),
        tags=list(dict.fromkeys(tag for tag in (display_text(t, language) for t in meta.tags) if tag)),
        language=language,
        image=_absolute(meta.image, url),
        site_name=_display(meta.site_name, language),
        description=_display(meta.description, language),
        body=display_text(body, language),
    )


def _language(declared: str | None, text: str, hint: str | None) -> str | None:
    """The declared language, unless the text's script plainly contradicts it (a theme's lang="en-US"
    on an Arabic page); then the script decides, and the source's language breaks ties."""
    sample = text[:1500]
    arabic = len(_ARABIC_LETTER.findall(sample))
    latin = len(_LATIN_LETTER.findall(sample))
    if arabic > 3 * latin and arabic > 50:
        script_language = "fa" if _PERSIAN_ONLY.search(sample) and hint != "ar" else "ar"
        if declared not in ("ar", "fa", "ur", "ps", "ku", "ckb"):
            return hint if hint in ("ar", "fa") else script_language
    return declared or hint


def _display(value: str | None, language: str | None) -> str | None:
    return display_text(value, language) or None if value else None


def _absolute(link: str | None, base: str | None) -> str | None:
    if not link:
        return None
    return urljoin(base, link) if base else link




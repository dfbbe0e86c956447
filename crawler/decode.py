"""Bytes → text for fetched pages, with the charset rules browsers use (not httpx's utf-8 default).

Order: byte-order mark, then the HTTP Content-Type charset, then the page's own <meta charset> /
<?xml encoding?>, then charset-normalizer's detection, then UTF-8 with replacement. Every declared
charset is checked by a strict decode before it is trusted, so a wrong label falls through to the
next rule instead of silently garbling the text.
"""

from __future__ import annotations

import logging

from charset_normalizer import from_bytes
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

__all__ = ["decode_html"]
logger = logging.getLogger(__name__)

# Labels servers send by default when nobody configured a charset; a page's own meta tag beats them.
_WEAK_HEADER_LABELS = {"cp1252", "latin_1", "iso8859-1", "ascii"}


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Return (text, encoding name) for an HTML or XML document."""
    encoding, bom = read_bom(body)
    if encoding and bom:
        return body[len(bom) :].decode(encoding, errors="replace"), encoding

    header = http_content_type_encoding(content_type) if content_type else None
    declared = html_body_declared_encoding(body)
    if header and header in _WEAK_HEADER_LABELS and declared and declared != header:
        header = None  # a server-wide latin-1 default loses to the page's own declaration
    for candidate in (header, declared):
        if candidate:
            text = _strict(body, candidate)
            if text is not None:
                return text, candidate

    if _strict(body, "utf-8") is not None:
        return body.decode("utf-8"), "utf-8"
    best = from_bytes(body).best()
    if best is not None and best.encoding:
        text = _strict(body, best.encoding)
        if text is not None:
            return text, best.encoding
    logger.info("no charset decodes the page cleanly; using utf-8 with replacement characters")
    return body.decode("utf-8", errors="replace"), "utf-8"


def _strict(body: bytes, encoding: str) -> str | None:
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None

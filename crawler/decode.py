"""Bytes → text for fetched pages, with the charset rules browsers use (not httpx's utf-8 default).

Order: byte-order mark; bytes that are valid UTF-8 beyond ASCII (a label saying latin-1 or cp1252 on
them is a server default or a template's leftover); the HTTP Content-Type charset; the page's own <meta
charset> / <?xml encoding?>; charset-normalizer's detection; UTF-8 with replacement. Every declared
charset is checked by a strict decode before it is trusted, so a wrong label falls through to the
next rule instead of silently garbling the text. A Latin label (latin-1, cp1252) decodes any bytes
without error, so it is also distrusted when the result looks like Arabic bytes read as Latin
("ÇáÚÑÇÞ"). Text that was UTF-8 read as cp1256 somewhere upstream ("ط§ظ„ط¹ط±ط§ظ‚") is repaired line by
line when the reverse round trip is exact.
"""

from __future__ import annotations

import logging
import re

from charset_normalizer import from_bytes
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

__all__ = ["binary_reason", "decode_html", "non_html_reason", "repair_mojibake"]
logger = logging.getLogger(__name__)

# Labels servers send by default when nobody configured a charset; a page's own meta tag beats them.
_WEAK_HEADER_LABELS = {"cp1252", "latin_1", "iso8859-1", "ascii"}
_LATIN_LABELS = {"cp1252", "latin_1", "iso8859-1", "iso8859_1", "iso8859-15", "iso8859_15", "windows-1252"}
_LATIN_SUPPLEMENT = re.compile("[\u00c0-\u00ff]")
_LETTERS = re.compile(r"[^\W\d_]")
_MOJIBAKE_MARKER = "ظ„"  # how "ل" (UTF-8 d9 84) reads in cp1256: the commonest Arabic letter
_HTML_TYPES = {"", "text/html", "application/xhtml+xml", "text/plain", "application/octet-stream"}
_HTML_START = re.compile(rb"^\s*(<!doctype html|<html|<head|<body|<!--|<meta|<title|<div|<p[ >])", re.I)
_UTF8_LABELS = {"utf-8", "utf8"}
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")


def non_html_reason(body: bytes, content_type: str | None) -> str | None:
    """Why a fetched article page is not an HTML document, or None. A wrong label alone is forgiven
    (servers send HTML as text/plain or octet-stream); an image or PDF where the page should be is not."""
    if not body.strip():
        return "empty body"
    declared = (content_type or "").split(";", 1)[0].strip().lower()
    if declared in _HTML_TYPES or _HTML_START.match(body[:1024].lstrip(b"\xef\xbb\xbf")):
        return None
    return f"Content-Type {declared} is not HTML, nor does the body look like HTML"


def binary_reason(body: bytes) -> str | None:
    """Why bytes are not text in any charset (an image, an archive, random data), or None. Text in every
    charset a page may use is free of NUL and most control bytes, UTF-16 aside (it starts with a BOM)."""
    encoding, _ = read_bom(body)
    if encoding and encoding.startswith("utf-16"):
        return None
    sample = body[:8192]
    controls = len(_CONTROL_BYTES.findall(sample))
    if controls > max(2, len(sample) // 200):
        return f"binary data ({controls} control bytes in the first {len(sample):,})"
    return None


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Return (text, encoding name) for an HTML or XML document."""
    encoding, bom = read_bom(body)
    if encoding and bom:
        return body[len(bom) :].decode(encoding, errors="replace"), encoding

    header = http_content_type_encoding(content_type) if content_type else None
    declared = html_body_declared_encoding(body)
    if header and header in _WEAK_HEADER_LABELS and declared and declared != header:
        header = None  # a server-wide latin-1 default loses to the page's own declaration
    if (header or declared) and not {header, declared} & _UTF8_LABELS and _is_utf8_beyond_ascii(body):
        return repair_mojibake(body.decode("utf-8")), "utf-8"  # the bytes themselves say UTF-8 louder than a label
    for candidate in (header, declared):
        if candidate:
            text = _strict(body, candidate)
            if text is not None and not (candidate in _LATIN_LABELS and _looks_like_misread_arabic(text)):
                return repair_mojibake(text), candidate
    if {header, declared} & _UTF8_LABELS:
        text = body.decode("utf-8", errors="replace")
        if text.count("\ufffd") <= max(8, len(text) // 1000):
            return repair_mojibake(text), "utf-8"  # declared UTF-8 with a few bad bytes: not another charset

    if _strict(body, "utf-8") is not None:
        return repair_mojibake(body.decode("utf-8")), "utf-8"
    best = from_bytes(body).best()
    if best is not None and best.encoding:
        text = _strict(body, best.encoding)
        if text is not None:
            return text, best.encoding
    logger.info("no charset decodes the page cleanly; using utf-8 with replacement characters")
    return body.decode("utf-8", errors="replace"), "utf-8"


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 that was decoded as cp1256 and stored again ("ط§ظ„" for "ال"), line by line, where the
    reverse round trip is exact; other text is returned as it is."""
    middle = len(text) // 2
    if _MOJIBAKE_MARKER not in text[middle - 10_000 : middle + 10_000] and _MOJIBAKE_MARKER not in text[:10_000]:
        return text  # mojibake runs through a whole page: two samples find it without scanning megabytes
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if line.count(_MOJIBAKE_MARKER) + line.count("ط§") >= 2:
            try:
                lines[index] = line.encode("cp1256").decode("utf-8")
            except (UnicodeEncodeError, UnicodeDecodeError):
                continue  # not mojibake after all (or mixed on one line): left alone
    return "\n".join(lines)


def _looks_like_misread_arabic(text: str) -> bool:
    """cp1256 bytes read as latin-1/cp1252 give runs of accented capitals ("ÇáÚÑÇÞ æÇáÍßæãÉ")."""
    middle = len(text) // 3  # past the head's ASCII markup, into the text
    sample = text[middle : middle + 6000]
    accented = len(_LATIN_SUPPLEMENT.findall(sample))
    return accented > 50 and accented > 0.3 * len(_LETTERS.findall(sample))


def _is_utf8_beyond_ascii(body: bytes) -> bool:
    """Valid UTF-8 with multi-byte characters in it: text in a single-byte charset (latin-1, cp1252, cp1256)
    almost never forms valid UTF-8 sequences, so such bytes are UTF-8 whatever label they came with."""
    if body.isascii():
        return False
    return _strict(body, "utf-8") is not None


def _strict(body: bytes, encoding: str) -> str | None:
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None

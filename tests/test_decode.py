"""Charset decoding: legacy Arabic and Hebrew pages without declarations, wrong and right labels."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.decode import decode_html
from crawler.extract import extract

CHARSET = Path(__file__).parent / "fixtures" / "charset"


@pytest.mark.parametrize(
    ("name", "encoding", "word"),
    [
        ("ar-charset-windows-1256-no-charset.html", "cp1256", "قطاع غزة"),
        ("ar-charset-iso-8859-6-no-charset.html", "iso8859_6", "قطاع غزة"),
        ("he-charset-windows-1255-no-charset.html", "cp1255", "אולמרט"),
    ],
)
def test_undeclared_legacy_pages_are_detected(name: str, encoding: str, word: str) -> None:
    text, detected = decode_html((CHARSET / name).read_bytes(), "text/html")
    assert detected == encoding and word in text and "\ufffd" not in text


def test_meta_charset_is_read_when_the_header_has_none() -> None:
    body = '<html><head><meta charset="windows-1256"></head><body>العراق</body></html>'.encode("cp1256")
    text, encoding = decode_html(body, "text/html")
    assert encoding == "cp1256" and "العراق" in text


def test_wrong_header_charset_falls_through_to_the_page() -> None:
    body = '<html><head><meta charset="utf-8"></head><body>بغداد</body></html>'.encode()
    text, encoding = decode_html(body, "text/html; charset=iso-8859-1")
    assert encoding == "utf-8" and "بغداد" in text


def test_bom_decides() -> None:
    text, encoding = decode_html("\ufeff<p>الموصل</p>".encode("utf-16-le"), "text/html")
    assert "الموصل" in text and encoding.startswith("utf-16")


def test_extract_accepts_bytes_with_the_same_rules() -> None:
    article = extract((CHARSET / "ar-charset-windows-1256-no-charset.html").read_bytes())
    assert "قطاع غزة" in article.body

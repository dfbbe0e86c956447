"""Charset decoding: legacy Arabic and Hebrew pages without declarations, wrong and right labels."""

from __future__ import annotations

from pathlib import Path

import pytest
from shared_data import shared_names, shared_path

from crawler.decode import decode_html, repair_mojibake
from crawler.extract import extract

CHARSET = (
    Path(__file__).parent / "fixtures" / "charset"
)  # short news paragraphs the project wrote, saved in each charset


@pytest.mark.parametrize(
    ("name", "encoding", "word"),
    [
        ("ar-windows-1256.html", "cp1256", "وزارة الموارد المائية"),
        ("ar-iso-8859-6.html", "iso8859_6", "وزارة الموارد المائية"),
        ("he-windows-1255.html", "cp1255", "משרד החקלאות"),
    ],
)
def test_undeclared_legacy_pages_are_detected(name: str, encoding: str, word: str) -> None:
    text, detected = decode_html((CHARSET / name).read_bytes(), "text/html")
    assert detected == encoding and word in text and "\ufffd" not in text


# Chromium's test pages (via chardet), in the team's shared fixtures: the true charset is in the name.
_REAL_ENCODINGS = {"windows-1256": "cp1256", "iso-8859-6": "iso8859_6", "windows-1255": "cp1255"}


@pytest.mark.parametrize("name", shared_names("fixtures/real", "*-charset-*-no-charset.html"))
def test_real_undeclared_legacy_pages_are_detected(name: str) -> None:
    body = shared_path("fixtures", "real", name).read_bytes()
    encoding = next(python for label, python in _REAL_ENCODINGS.items() if f"-charset-{label}-" in name)
    text, detected = decode_html(body, "text/html")
    assert detected == encoding and text == body.decode(encoding)


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
    article = extract((CHARSET / "ar-windows-1256.html").read_bytes())
    assert "وزارة الموارد المائية" in article.body


ARABIC_PAGE = "<html><body><p>" + "العراق والحكومة العراقية تعلن خطة جديدة للخدمات. " * 10 + "</p></body></html>"


def test_a_latin_label_on_arabic_bytes_is_not_trusted() -> None:
    """Servers default to latin-1; read as latin-1, cp1256 bytes become "ÇáÚÑÇÞ" without any decode error."""
    text, encoding = decode_html(ARABIC_PAGE.encode("cp1256"), "text/html; charset=iso-8859-1")
    assert encoding == "cp1256" and "العراق والحكومة" in text and "\ufffd" not in text


def test_a_latin_page_keeps_its_latin_label() -> None:
    page = "<html><body><p>" + "Café crème à la française, déjà vu. " * 20 + "</p></body></html>"
    text, encoding = decode_html(page.encode("latin-1"), "text/html; charset=iso-8859-1")
    assert encoding == "cp1252" and "Café crème" in text  # w3lib reads the latin-1 label as its superset


def test_utf8_read_as_cp1256_upstream_is_repaired() -> None:
    mojibake = ARABIC_PAGE.encode("utf-8").decode("cp1256")  # "ط§ظ„ط¹ط±ط§ظ‚ …"
    text, _ = decode_html(mojibake.encode("utf-8"), "text/html; charset=utf-8")
    assert "العراق والحكومة العراقية" in text and "ظ„" not in text


def test_mojibake_repair_leaves_real_text_and_mixed_lines_alone() -> None:
    assert repair_mojibake("ظلال الطائرة فوق بغداد") == "ظلال الطائرة فوق بغداد"
    mixed = "café " + "العراق".encode().decode("cp1256")
    assert repair_mojibake(mixed) == mixed  # é is not UTF-8 once encoded back: the line is not touched


def test_a_wrong_utf8_declaration_on_cp1256_bytes_never_gives_replacement_characters() -> None:
    body = ('<html><head><meta charset="utf-8"></head>' + ARABIC_PAGE[6:]).encode("cp1256")
    text, encoding = decode_html(body, "text/html")
    assert "\ufffd" not in text and "العراق" in text and encoding == "cp1256"


def test_utf8_bytes_under_a_latin_label_are_read_as_utf8() -> None:
    """A template's leftover <meta charset=iso-8859-15> (or a server's default) on UTF-8 bytes: read as
    latin-1 they give "perdÃ completamente"; valid UTF-8 beyond ASCII is UTF-8 whatever the label says."""
    page = (
        '<html><head><meta charset="iso-8859-15"></head><body><p>Ayer perdí el respeto por él. العراق</p></body></html>'
    )
    for content_type in ("text/html", "text/html; charset=iso-8859-1"):
        text, encoding = decode_html(page.encode("utf-8"), content_type)
        assert encoding == "utf-8" and "perdí el respeto por él" in text and "العراق" in text


def test_a_real_latin1_page_keeps_its_label() -> None:
    page = '<html><head><meta charset="iso-8859-1"></head><body><p>Ayer perdí el respeto por él.</p></body></html>'
    text, encoding = decode_html(page.encode("latin-1"), "text/html")
    assert encoding == "cp1252" and "perdí el respeto por él" in text  # w3lib reads the latin-1 label as its superset

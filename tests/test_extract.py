"""Golden extraction: tests/golden/<case>/article.html beside article.expected.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.extract import extract

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.parent for p in GOLDEN.glob("*/article.expected.json"))
EXACT_FIELDS = ("title", "published", "modified", "section", "language", "canonical_url", "image", "site_name")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_page_extracts_as_expected(case: Path) -> None:
    expected = json.loads((case / "article.expected.json").read_text(encoding="utf-8"))
    article = extract((case / "article.html").read_bytes(), expected["url"])

    for field in EXACT_FIELDS:
        if field in expected:
            assert getattr(article, field) == expected[field], field
    assert article.tags == expected["tags_normalized"]
    position = 0
    for paragraph in expected["body_paragraphs"]:
        found = article.body.find(paragraph, position)
        assert found >= 0, f"missing or out of order: {paragraph[:60]}"
        position = found + len(paragraph)
    for snippet in expected["must_not_contain"]:
        assert snippet not in article.body, f"boilerplate leaked into the body: {snippet[:60]}"


def test_body_paragraphs_are_separated_by_blank_lines_and_list_items_by_newlines() -> None:
    article = extract(
        "<html><body><article><h1>T</h1><p>First paragraph, long enough to be text, with commas, yes.</p>"
        "<h2>A heading</h2><ul><li>one item</li><li>two item</li></ul>"
        "<p>Second paragraph, also long enough to count as article text, with commas.</p></article></body></html>"
    )
    assert article.body.split("\n\n") == [
        "First paragraph, long enough to be text, with commas, yes.",
        "A heading",
        "one item\ntwo item",
        "Second paragraph, also long enough to count as article text, with commas.",
    ]


@pytest.mark.parametrize("html", ["", "<html>", "\x00\x01binary", "<div>" * 5000 + "deep" + "</div>" * 5000])
def test_extract_returns_something_on_broken_input(html: str) -> None:
    article = extract(html)
    assert isinstance(article.body, str)


def test_header_today_date_and_teaser_dates_never_win() -> None:
    html = (
        '<html lang="ar"><body><header><span class="today-date">السبت, 29 نوفمبر 2025</span></header>'
        '<article><h1>عنوان</h1><div class="post-meta"><span class="date">25 كانون الثاني 2024</span></div>'
        "<p>نص المقال الأول، وهو طويل بما يكفي ليكون نصاً حقيقياً في الصفحة.</p>"
        '<div class="related"><ul><li><span class="date">21 أبريل 2025</span></li></ul></div></article></body></html>'
    )
    article = extract(html, timezone="Asia/Baghdad")
    assert article.published == "2024-01-25T00:00:00+03:00"

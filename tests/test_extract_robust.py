"""Extraction never raises: hostile, broken and huge inputs give what could be found, with a reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.extract import extract
from crawler.models import ExtractedArticle

SEED = (Path(__file__).parent / "golden" / "seed" / "article.html").read_bytes()
PARAGRAPH = "<p>" + "A sentence of article text, long enough to count as prose. " * 3 + "</p>"

HOSTILE_INPUTS: dict[str, str | bytes] = {
    "empty string": "",
    "empty bytes": b"",
    "whitespace": " \n\t ",
    "binary noise": bytes(range(256)) * 40,
    "png header": b"\x89PNG\r\n\x1a\n" + b"\x00" * 500,
    "text without markup": "just a line of text",
    "truncated seed page": SEED[: len(SEED) // 2],
    "truncated inside a tag": SEED[:5000] + b'<div class="entry',
    "no body element": "<html><head><title>T</title></head></html>",
    "only scripts": "<html><body><script>var a = '<p>not text</p>';</script><style>p{}</style></body></html>",
    "broken json-ld": '<html><head><script type="application/ld+json">{"@type": "NewsArticle", "headline": </script>'
    "</head><body>" + PARAGRAPH + "</body></html>",
    "json-ld of the wrong shapes": '<script type="application/ld+json">[1, "x", null, {"@graph": 5}, '
    '{"@type": ["NewsArticle"], "headline": {"a": 1}, "datePublished": [], "author": [{"name": null}, 7], '
    '"image": [[]], "keywords": {"x": 1}}]</script>' + PARAGRAPH,
    "nonsense dates": '<meta property="article:published_time" content="not a date"><time datetime="9999-99-99">x'
    "</time><span class='date'>32/13/2020</span>" + PARAGRAPH,
    "deeply nested": "<div>" * 20_000 + PARAGRAPH + "</div>" * 20_000,
    "deeply nested inline": "<p>" + "<span>" * 20_000 + "deep text, with a comma, in spans" + "</span>" * 20_000,
    "ten megabytes": "<html><body><article>" + PARAGRAPH * 45_000 + "</article></body></html>",
    "huge attribute": f'<div class="{"x" * 1_000_000}">' + PARAGRAPH + "</div>",
    "nul and controls": "<p>text\x00with\x01controls\x1b, and more words to make a paragraph</p>",
    "unpaired surrogate-like bytes": b"<p>\xed\xa0\x80 caf\xe9 \xff\xfe text, with bytes that are not UTF-8</p>",
}


@pytest.mark.parametrize("name", list(HOSTILE_INPUTS))
def test_extract_returns_an_article_for_any_input(name: str) -> None:
    article = extract(HOSTILE_INPUTS[name], "https://example.com/a")
    assert isinstance(article, ExtractedArticle)
    assert isinstance(article.body, str)
    if not article.body:
        assert article.empty_body_reason, "an empty body must say why"
    else:
        assert article.empty_body_reason is None


def test_huge_and_deep_pages_still_yield_their_text() -> None:
    deep = extract(HOSTILE_INPUTS["deeply nested"])
    assert "A sentence of article text" in deep.body
    big = extract(HOSTILE_INPUTS["ten megabytes"])
    assert len(big.body) > 5_000_000


def test_reasons_name_what_was_missing() -> None:
    assert extract("").empty_body_reason == "the page is empty"
    assert "no paragraph" in (extract(HOSTILE_INPUTS["only scripts"]).empty_body_reason or "")


def test_a_title_never_closed_does_not_swallow_the_page() -> None:
    # An HTML5 parser reads an unclosed <title> to the end of the file; the page's author meant it to end at the
    # first tag, and the article after it must still be found.
    page = (
        "<html><head><title>Storm closes the port\n<link rel='stylesheet' href='/a.css'></head>"
        f"<body><div id='nav'><a href='/'>Home</a></div><div class='story'>{PARAGRAPH * 3}</div></body></html>"
    )
    article = extract(page, "https://example.com/a")
    assert "A sentence of article text" in article.body
    assert article.title == "Storm closes the port"


def test_a_closed_title_and_form_text_are_left_as_written() -> None:
    # The repair is made only when no </title> follows: a title closed later, and a <textarea> holding markup
    # (an "embed this" box), are read as the parser reads them.
    page = (
        "<html><head><title>Port <b> news</title></head><body>"
        f"<article>{PARAGRAPH * 3}</article><textarea><p>embed code, not the story</p></textarea></body></html>"
    )
    article = extract(page, "https://example.com/a")
    assert article.title == "Port <b> news"
    assert "embed code" not in article.body

"""Extraction quality on real pages: the Arabic/Persian fixtures and a sample of the WCXB dataset.

Data (see tests/PROVENANCE.md): tests/golden/real/ holds the real-site fixtures with their original
ground truth plus checks.json; tests/golden/wcxb/ holds 40 pages drawn at random (seed 20261129) from
the WCXB development articles, their ground truth, the snippets we are expected to get right
(expected.json, "known_misses"/"known_leaks" list the rest honestly) and the quality floor.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser

from bench.extraction_metric import Totals, load_fixture_pages, load_pages, score_page
from crawler.decode import decode_html
from crawler.extract import extract
from crawler.extract.boilerplate import is_label
from crawler.textnorm import match_key

GOLDEN = Path(__file__).parent / "golden"
REAL = GOLDEN / "real"
WCXB = GOLDEN / "wcxb"
FIXTURES = {page.page_id: (page, truth) for page, truth in load_fixture_pages(REAL)}
CHECKS = json.loads((REAL / "checks.json").read_text(encoding="utf-8"))
WCXB_EXPECTED = json.loads((WCXB / "expected.json").read_text(encoding="utf-8"))


def words(text: str) -> str:
    """Text as its words (the metric's tokens) in match-key form, so quotes, dashes, spacing, tatweel
    and letter variants do not matter."""
    return " " + " ".join(re.findall(r"\w+", match_key(text)))


@pytest.mark.parametrize("page_id", sorted(FIXTURES))
def test_real_fixture_title_and_date_are_right(page_id: str) -> None:
    page, truth = FIXTURES[page_id]
    article = extract(page.html, page.url or None)
    if truth["title"]:
        assert words(article.title or "") == words(truth["title"])
    check = CHECKS.get(page_id, {})
    published = article.published[:10] if article.published else None
    if "allowed_dates" in check:
        assert published in check["allowed_dates"], check["date_exception"]
    elif truth["date"]:
        assert published == truth["date"], article.provenance.get("published")


@pytest.mark.parametrize("page_id", sorted(FIXTURES))
def test_real_fixture_body_has_no_teasers_or_block_labels(page_id: str) -> None:
    """No line of the body is a headline linking elsewhere or a block label ("ذات صلة", "اقرأ أيضا");
    the fixture's own with/without snippets and the hand-picked teasers of checks.json hold."""
    page, _ = FIXTURES[page_id]
    article = extract(page.html, page.url or None)
    assert article.body, article.empty_body_reason
    tree = LexborHTMLParser(decode_html(page.html)[0])
    teasers = {words(a.text(deep=True)) for a in tree.css("a") if len(a.text(deep=True).strip()) >= 25}
    teasers.discard(words(article.title or ""))  # links to the article itself (breadcrumb, share) carry its title
    for line in article.body.split("\n"):
        assert words(line) not in teasers, f"a teaser headline became body text: {line[:80]}"
        assert not is_label(line.split(":")[0]), f"a block label in the body: {line[:80]}"
    body = words(article.body)
    for snippet in page.with_snippets:
        assert words(snippet) in body, snippet
    for snippet in page.without_snippets + CHECKS.get(page_id, {}).get("must_not_contain", []):
        assert words(snippet) not in body, snippet


@pytest.mark.parametrize("page_id", [p for p, (page, _) in sorted(FIXTURES.items()) if page.main_content])
def test_real_fixture_body_matches_its_ground_truth(page_id: str) -> None:
    page, _ = FIXTURES[page_id]
    score = score_page(extract(page.html, page.url or None).body, page.main_content)
    assert score.recall is not None and score.recall >= 0.95
    assert score.precision is not None and score.precision >= 0.8  # CNN's comment-policy notice is the rest


@pytest.mark.parametrize("page_id", sorted(WCXB_EXPECTED))
def test_wcxb_page_keeps_its_text_and_drops_its_boilerplate(page_id: str) -> None:
    record = json.loads((WCXB / f"{page_id}.json").read_text(encoding="utf-8"))
    article = extract(gzip.decompress((WCXB / f"{page_id}.html.gz").read_bytes()), record["url"])
    body = words(article.body)
    expected = WCXB_EXPECTED[page_id]
    for snippet in expected["with"]:
        assert words(snippet) in body, f"missing: {snippet[:80]}"
    for snippet in expected["without"]:
        assert words(snippet) not in body, f"leaked: {snippet[:80]}"


def test_wcxb_sample_f1_stays_above_the_floor() -> None:
    """The quality floor: F1 (article-extraction-benchmark metric) over the 40 sampled pages."""
    floor = json.loads((WCXB / "floor.json").read_text(encoding="utf-8"))
    totals = Totals()
    for page in load_pages(WCXB):
        totals.add(score_page(extract(page.html, page.url).body, page.main_content))
    assert totals.f1 >= floor["f1"], f"F1 {totals.f1:.4f} fell below the floor {floor['f1']}"

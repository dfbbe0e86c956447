"""Extraction quality on real pages the project does not carry: the team's shared fixtures and datasets.

Real Arabic and Persian news pages (``fixtures/real`` of the shared directory, with their original
ground truth) beside our own checks (``tests/fixtures/real-checks.json``: teaser headlines picked by
hand that must never reach the body, and documented exceptions); and the quality floor of every
development dataset (``datasets/``), checked by the benchmark's own command. All of it is read through
tests/shared_data.py: skipped without the shared directory, a failure under CI.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser
from shared_data import ABSENT, CHECKOUT, shared_path, shared_root

from bench.extraction_metric import DatasetPage, load_fixture_pages, score_page
from crawler.decode import decode_html
from crawler.extract import extract
from crawler.extract.boilerplate import is_label
from crawler.textnorm import match_key

CHECKS = json.loads((Path(__file__).parent / "fixtures" / "real-checks.json").read_text(encoding="utf-8"))
REAL = shared_root() / "fixtures" / "real"
FIXTURES = {page.page_id: (page, truth) for page, truth in load_fixture_pages(REAL)} if REAL.is_dir() else {}
WITH_BODY = [page_id for page_id, (page, _) in sorted(FIXTURES.items()) if page.main_content]


def fixture(page_id: str) -> tuple[DatasetPage, dict[str, str]]:
    shared_path("fixtures", "real")  # skips (fails under CI) when the shared fixtures are absent
    return FIXTURES[page_id]


def words(text: str) -> str:
    """Text as its words (the metric's tokens) in match-key form, so quotes, dashes, spacing, tatweel
    and letter variants do not matter."""
    return " " + " ".join(re.findall(r"\w+", match_key(text)))


@pytest.mark.parametrize("page_id", sorted(FIXTURES) or [ABSENT])
def test_real_fixture_title_and_date_are_right(page_id: str) -> None:
    page, truth = fixture(page_id)
    article = extract(page.html, page.url or None)
    if truth["title"]:
        assert words(article.title or "") == words(truth["title"])
    check = CHECKS.get(page_id, {})
    published = article.published[:10] if article.published else None
    if "allowed_dates" in check:
        assert published in check["allowed_dates"], check["date_exception"]
    elif truth["date"]:
        assert published == truth["date"], article.provenance.get("published")


@pytest.mark.parametrize("page_id", sorted(FIXTURES) or [ABSENT])
def test_real_fixture_body_has_no_teasers_or_block_labels(page_id: str) -> None:
    """No line of the body is a headline linking elsewhere or a block label ("ذات صلة", "اقرأ أيضا");
    the fixture's own with/without snippets and the hand-picked teasers of real-checks.json hold."""
    page, _ = fixture(page_id)
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


@pytest.mark.parametrize("page_id", WITH_BODY or [ABSENT])
def test_real_fixture_body_matches_its_ground_truth(page_id: str) -> None:
    page, _ = fixture(page_id)
    score = score_page(extract(page.html, page.url or None).body, page.main_content)
    assert score.recall is not None and score.recall >= 0.95
    assert score.precision is not None and score.precision >= 0.8  # CNN's comment-policy notice is the rest


def test_every_development_dataset_stays_above_its_floor() -> None:
    """The benchmark's floor check, as `make bench-extraction` runs it, over every shared dataset (ours only:
    the peers are not installed for tests)."""
    datasets = shared_path("datasets")
    command = [sys.executable, str(CHECKOUT / "bench" / "extraction.py"), str(datasets), "--only", "crawler",
               "--check-floor", str(CHECKOUT / "bench" / "extraction_floor.json")]  # fmt: skip
    finished = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=CHECKOUT)
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    assert finished.stdout.count("above the floor") == len(list(datasets.glob("*/ground-truth"))), finished.stdout

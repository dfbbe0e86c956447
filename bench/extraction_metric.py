"""The article-extraction-benchmark metric, as described in the WCXB dataset's README.

Tokens are matches of the Unicode regex ``\\w+``; shingles are runs of 4 consecutive tokens (a text of
1-3 tokens is one shorter shingle). Per page: tp = sum of the multiset minimum, fp and fn the leftover
counts. Dataset precision is the mean over pages that predicted something, dataset recall the mean over
pages whose truth is non-empty, F1 the harmonic mean of the two means.

Also the loaders of the two dataset layouts (WCXB; the real-site fixtures with their various truth files).
Shared by bench/extraction.py and tests/test_extraction_quality.py, which read the team's shared directory.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["DatasetPage", "PageScore", "Totals", "load_fixture_pages", "load_pages", "score_page", "shingles"]

_TOKEN = re.compile(r"\w+")
_SHINGLE = 4


def shingles(text: str) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text)
    if not tokens:
        return Counter()
    if len(tokens) < _SHINGLE:
        return Counter([tuple(tokens)])
    return Counter(tuple(tokens[i : i + _SHINGLE]) for i in range(len(tokens) - _SHINGLE + 1))


@dataclass(frozen=True, slots=True)
class PageScore:
    precision: float | None  # None when nothing was predicted
    recall: float | None  # None when the truth is empty


def score_page(predicted: str, truth: str) -> PageScore:
    p, t = shingles(predicted), shingles(truth)
    tp = sum((p & t).values())
    fp = sum((p - t).values())
    fn = sum((t - p).values())
    precision = None if not p else (1.0 if fp == 0 and fn == 0 else tp / (tp + fp))
    recall = None if not t else (1.0 if fp == 0 and fn == 0 else tp / (tp + fn))
    return PageScore(precision, recall)


@dataclass(slots=True)
class Totals:
    """Running dataset means of one extractor."""

    precisions: list[float] = field(default_factory=list)
    recalls: list[float] = field(default_factory=list)

    def add(self, score: PageScore) -> None:
        if score.precision is not None:
            self.precisions.append(score.precision)
        if score.recall is not None:
            self.recalls.append(score.recall)

    @property
    def precision(self) -> float:
        return sum(self.precisions) / len(self.precisions) if self.precisions else 0.0

    @property
    def recall(self) -> float:
        return sum(self.recalls) / len(self.recalls) if self.recalls else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True, slots=True)
class DatasetPage:
    page_id: str
    url: str
    html: bytes
    title: str | None
    main_content: str
    with_snippets: list[str]
    without_snippets: list[str]
    body_known: bool = True  # False for fixtures whose ground truth has no body (dates only)


def load_pages(directory: Path, limit: int | None = None) -> Iterator[DatasetPage]:
    """Pages of a WCXB-layout directory: html/NNNN.html.gz beside ground-truth/NNNN.json."""
    truth_files = sorted((directory / "ground-truth").glob("[0-9]*.json"))
    if not truth_files:
        raise SystemExit(f"{directory}: no ground-truth/*.json (expected the WCXB layout)")
    for truth_file in truth_files[:limit]:
        record = json.loads(truth_file.read_text(encoding="utf-8"))
        truth = record.get("ground_truth") or {}
        page_id = truth_file.stem
        html_file = directory / "html" / f"{page_id}.html.gz"
        yield DatasetPage(
            page_id=page_id,
            url=record.get("url") or "",
            html=gzip.decompress(html_file.read_bytes()),
            title=truth.get("title"),
            main_content=truth.get("main_content") or "",
            with_snippets=list(truth.get("with") or []),
            without_snippets=list(truth.get("without") or []),
        )


def load_fixture_pages(directory: Path) -> Iterator[tuple[DatasetPage, dict[str, str]]]:
    """The real-site fixtures (MANIFEST.tsv layout) and the seed page, whatever their truth format."""
    for truth_file in sorted(directory.glob("*.expected.json")):
        stem = truth_file.name.removesuffix(".expected.json")
        html_file = next((p for p in (directory / f"{stem}.html", directory / f"{stem}.html.gz") if p.exists()), None)
        if html_file is None:
            html_file = directory / "article.html"
        raw = html_file.read_bytes()
        html = gzip.decompress(raw) if html_file.suffix == ".gz" else raw
        record = json.loads(truth_file.read_text(encoding="utf-8"))
        body, title, date = "", record.get("title") or "", record.get("published_date") or ""
        if "V1" in record:  # fundus parser output
            v1 = record["V1"]
            body = "\n\n".join(p for s in v1["body"]["sections"] for p in s["paragraphs"])
            title, date = v1.get("title") or "", (v1.get("publishing_date") or "")[:10]
        elif "body_paragraphs" in record:  # our seed page
            body = "\n\n".join(record["body_paragraphs"])
            date = record["published"][:10]
        elif (directory / f"{stem}.expected.txt").exists():  # newspaper4k text
            body = (directory / f"{stem}.expected.txt").read_text(encoding="utf-8")
        url = record.get("url") or ""
        if not url:
            meta = directory / f"{stem}.meta.json"
            url = next(iter(json.loads(meta.read_text()).values()))["url"] if meta.exists() else ""
        page = DatasetPage(
            page_id=stem,
            url=url,
            html=html,
            title=title,
            main_content=body,
            with_snippets=list(record.get("with") or []),
            without_snippets=list(record.get("without") or []) + list(record.get("must_not_contain") or []),
            body_known=bool(body),
        )
        yield page, {"title": title, "date": date[:10], "author": ""}

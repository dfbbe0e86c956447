"""Metadata truth and how a prediction is compared with it (title, publication day and minute, authors, tags).

Shared by bench/extraction.py. Titles compare as match keys; the first author is "among the names on the
other side" (lists are written "A; B", "A, B and C"); all authors compare as sets of names; tags score a
per-page F1 of the two sets; the minute compares in UTC for an answer with an offset, and with the
truth's own wall clock for an answer without one (what htmldate gives).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.extraction_metric import DatasetPage
from crawler.textnorm import match_key

__all__ = [
    "Truth",
    "fixture_truth",
    "same_authors",
    "same_first_author",
    "same_minute",
    "same_title",
    "tags_f1",
    "truths_of",
]

_AUTHOR_SPLIT = re.compile(r";|,|\band\b|&")


@dataclass(frozen=True, slots=True)
class Truth:
    title: str = ""
    date: str = ""  # YYYY-MM-DD
    minute: str = ""  # YYYY-MM-DDTHH:MM in UTC, where the truth has a time of day
    wall_minute: str = ""  # the same on the truth's own clock
    author: str = ""  # the names as one string, as the set gives them
    authors: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()


def truths_of(directory: Path, pages: list[DatasetPage]) -> dict[str, Truth]:
    """Truth of each page of a dataset in the shared layout (ground-truth/NNNN.json)."""
    truths = {}
    for page in pages:
        record = json.loads((directory / "ground-truth" / f"{page.page_id}.json").read_text(encoding="utf-8"))
        truth = record.get("ground_truth") or {}
        author, published = truth.get("author"), truth.get("publish_date") or ""
        minute, wall = _minutes(published)
        truths[page.page_id] = Truth(
            title=truth.get("title") or "",
            date=published[:10],
            minute=minute,
            wall_minute=wall,
            author=author if isinstance(author, str) else "",
            authors=tuple(name for name in truth.get("authors") or () if isinstance(name, str)),
            topics=tuple(topic for topic in truth.get("topics") or () if isinstance(topic, str)),
        )
    return truths


def fixture_truth(fields: dict[str, str]) -> Truth:
    """The real-site fixtures' truth (bench.extraction_metric.load_fixture_pages)."""
    return Truth(title=fields.get("title", ""), date=fields.get("date", ""), author=fields.get("author", ""))


def _minutes(published: str) -> tuple[str, str]:
    """(UTC minute, wall-clock minute) of a truth's timestamp; empty without a time of day."""
    try:
        value = datetime.fromisoformat(published)
    except ValueError:
        return "", ""
    if len(published) <= 10 or value.tzinfo is None:
        return "", ""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M"), value.strftime("%Y-%m-%dT%H:%M")


def same_title(predicted: str | None, truth: str) -> bool:
    return bool(predicted) and match_key(predicted or "").strip() == match_key(truth).strip()


def same_first_author(predicted: str | None, truth: str) -> bool:
    """The first author named on one side is among the names on the other (roles follow names: "Jane
    Doe, MD")."""
    if not predicted:
        return False
    first_predicted = _words(_AUTHOR_SPLIT.split(predicted)[0])
    first_truth = _words(_AUTHOR_SPLIT.split(truth)[0])
    return bool(first_predicted) and (first_predicted <= _words(truth) or first_truth <= _words(predicted))


def same_authors(predicted: tuple[str, ...], truth: tuple[str, ...]) -> bool:
    """The same people, in any order, spelling variants aside."""
    return {_name_key(name) for name in predicted if name.strip()} == {_name_key(name) for name in truth}


def tags_f1(predicted: tuple[str, ...], truth: tuple[str, ...]) -> float:
    wanted = {_name_key(tag) for tag in truth}
    found = {_name_key(tag) for tag in predicted if tag.strip()}
    hits = len(wanted & found)
    return 2 * hits / (len(wanted) + len(found)) if hits else 0.0


def same_minute(predicted: str | None, truth: Truth) -> bool:
    """An ISO answer with an offset compares in UTC; one without an offset compares with the truth's clock."""
    if not predicted or not truth.minute:
        return False
    try:
        value = datetime.fromisoformat(predicted.replace(" ", "T", 1))
    except ValueError:
        return False
    if value.tzinfo is None:
        return value.strftime("%Y-%m-%dT%H:%M") == truth.wall_minute
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M") == truth.minute


def _name_key(name: str) -> str:
    return " ".join(re.findall(r"\w+", match_key(name)))


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", match_key(text)))

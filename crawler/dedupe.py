"""Dedupe: content keys, change detection and body diffs. Pure functions, no I/O.

Two fetches of an article are the same version when their content hash is equal. The hash covers the
fields a reader cares about, compared as the words of their match-key form (textnorm.match_key), so
whitespace, punctuation, letter variants and diacritics never count as edits, and volatile bits of text
(view counters, "منذ 3 ساعات", "5 hours ago") are masked.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from difflib import SequenceMatcher
from typing import Any

from crawler.dates import as_utc
from crawler.extract.templates import remove_template_blocks
from crawler.models import ExtractedArticle
from crawler.textnorm import match_key, match_keys_by_piece

__all__ = [
    "VERSIONED_FIELDS",
    "changed_fields",
    "comparable_words",
    "comparable_words_of_key",
    "content_hash",
    "paragraph_diff",
]

_WORD = re.compile(r"\w+")
_NON_WORD = re.compile(r"\W+")
# Text that changes on every fetch without anyone editing the article (as match keys: folded letters).
# The lookahead names every alternative's first character: without it the regex engine tries each
# alternative at every position of a body (40 -> 20 us for 1,600 characters).
_VOLATILE = re.compile(
    r"(?=[مقuj\d])(?:"
    r"(?:منذ|قبل)\s+\d*\s*(?:ثانيه|ثوان|دقيقه|دقائق|دقيقتين|ساعه|ساعات|ساعتين|يوم|ايام|يومين|اسبوع|اسابيع)"
    r"|\d[\d,.]*\s*(?:مشاهده|مشاهدات|قراءه|قراءات|views?|reads?|comments?|تعليق|تعليقات|shares?)"
    r"|\d+\s+(?:seconds?|minutes?|hours?|days?|weeks?)\s+ago|(?:updated|just now)\b"
    r")"
)

# Fields whose change makes a new version (description and site name are page chrome, not content).
VERSIONED_FIELDS = ("title", "body", "published", "modified", "authors", "section", "tags", "image")


def _comparable(field: str, value: Any, template: frozenset[str] = frozenset()) -> Any:
    if field in ("published", "modified") and isinstance(value, str):
        return as_utc(value)  # the same instant written with another offset is the same date
    if field == "body" and isinstance(value, str) and template:
        value = remove_template_blocks(value, template)
    if field in ("title", "body", "section") and isinstance(value, str):
        return comparable_words(value)
    if field in ("authors", "tags") and isinstance(value, list):
        return [match_key(item) for item in value]
    return value


def comparable_words(text: str) -> str:
    """The text as words in match-key form, volatile phrases masked (what edits and duplicates compare)."""
    return " ".join(filter(None, map(comparable_words_of_key, match_keys_by_piece(text))))


def comparable_words_of_key(key: str) -> str:
    """comparable_words for text already in match-key form (a body's key serves several indexes)."""
    return _NON_WORD.sub(" ", _VOLATILE.sub(" ", key)).strip()  # the words, one space apart, without a list of them


def paragraph_diff(old: str, new: str, limit: int = 20) -> dict[str, list[Any]]:
    """Paragraph-level changes from the old body to the new (compared on their words): added and
    removed paragraphs, and changed ones as [old, new] pairs; at most ``limit`` entries each."""
    old_paragraphs, new_paragraphs = _paragraphs(old), _paragraphs(new)
    matcher = SequenceMatcher(
        a=[comparable_words(p) for p in old_paragraphs], b=[comparable_words(p) for p in new_paragraphs], autojunk=False
    )
    diff: dict[str, list[Any]] = {"added": [], "removed": [], "changed": []}
    for operation, a1, a2, b1, b2 in matcher.get_opcodes():
        if operation == "insert":
            diff["added"] += new_paragraphs[b1:b2]
        elif operation == "delete":
            diff["removed"] += old_paragraphs[a1:a2]
        elif operation == "replace":
            pairs = list(zip(old_paragraphs[a1:a2], new_paragraphs[b1:b2]))
            diff["changed"] += [list(pair) for pair in pairs]
            diff["removed"] += old_paragraphs[a1 + len(pairs) : a2]
            diff["added"] += new_paragraphs[b1 + len(pairs) : b2]
    return {kind: entries[:limit] for kind, entries in diff.items()}


def _paragraphs(body: str | None) -> list[str]:
    return [paragraph for paragraph in (body or "").split("\n\n") if paragraph.strip()]


def content_hash(article: ExtractedArticle | Mapping[str, Any], body_words: str | None = None) -> str:
    """SHA-256 over the versioned fields in comparable form (body_words: the body's, when already made)."""
    get = article.get if isinstance(article, Mapping) else lambda name: getattr(article, name)
    payload = {field: _comparable(field, get(field)) for field in VERSIONED_FIELDS if field != "body"}
    payload["body"] = _comparable("body", get("body")) if body_words is None else body_words
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def changed_fields(old: Mapping[str, Any], new: Mapping[str, Any], template: frozenset[str] = frozenset()) -> list[str]:
    """Names of the versioned fields that differ between two versions, in VERSIONED_FIELDS order; bodies
    are compared without the source's template blocks (learning a template is not an edit)."""
    return [f for f in VERSIONED_FIELDS if _comparable(f, old.get(f), template) != _comparable(f, new.get(f), template)]

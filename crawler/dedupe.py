"""Dedupe: content keys and change detection. Pure functions, no I/O.

Two fetches of an article are the same version when their content hash is equal. The hash covers the
fields a reader cares about, compared in match-key form (textnorm.match_key), so whitespace, letter
variants and diacritics never count as edits.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from crawler.extract.templates import remove_template_blocks
from crawler.models import ExtractedArticle
from crawler.textnorm import match_key

__all__ = ["VERSIONED_FIELDS", "changed_fields", "content_hash"]

# Fields whose change makes a new version (description and site name are page chrome, not content).
VERSIONED_FIELDS = ("title", "body", "published", "modified", "authors", "section", "tags", "image")


def _comparable(field: str, value: Any, template: frozenset[str] = frozenset()) -> Any:
    if field in ("published", "modified") and isinstance(value, str):
        return _instant(value)  # the same instant written with another offset is the same date
    if field == "body" and isinstance(value, str) and template:
        value = remove_template_blocks(value, template)
    if field in ("title", "body", "section") and isinstance(value, str):
        return match_key(value)
    if field in ("authors", "tags") and isinstance(value, list):
        return [match_key(item) for item in value]
    return value


def _instant(iso: str) -> str:
    try:
        value = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return value.astimezone(UTC).isoformat() if value.tzinfo else iso


def content_hash(article: ExtractedArticle | Mapping[str, Any]) -> str:
    """SHA-256 over the versioned fields in comparable form."""
    get = article.get if isinstance(article, Mapping) else lambda name: getattr(article, name)
    payload = {field: _comparable(field, get(field)) for field in VERSIONED_FIELDS}
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def changed_fields(old: Mapping[str, Any], new: Mapping[str, Any], template: frozenset[str] = frozenset()) -> list[str]:
    """Names of the versioned fields that differ between two versions, in VERSIONED_FIELDS order; bodies
    are compared without the source's template blocks (learning a template is not an edit)."""
    return [
        f for f in VERSIONED_FIELDS if _comparable(f, old.get(f), template) != _comparable(f, new.get(f), template)
    ]

"""Decide stage: what a newly fetched article or a finished run means, as pure functions over values.

Between normalise and store: the store reads what is stored, these decide what changed (new, updated,
refreshed, unchanged; which fields; the paragraph diff; a near-duplicate's story; a source's failing,
recovered, degraded and stale transitions) and which events that makes, and the store writes the result.
Nothing here touches a database, so every backend shares the same decisions and they are tested alone.
"""

from crawler.decide.articles import (
    ArticleChange,
    DuplicateLink,
    claim_needs_proof,
    decide_article,
    duplicate_link,
    nearest_duplicate,
    removal_event,
    restoration_event,
)
from crawler.decide.discovery import children_this_run
from crawler.decide.sources import SourceUpdate, decide_run

__all__ = [
    "ArticleChange",
    "DuplicateLink",
    "SourceUpdate",
    "children_this_run",
    "claim_needs_proof",
    "decide_article",
    "decide_run",
    "duplicate_link",
    "nearest_duplicate",
    "removal_event",
    "restoration_event",
]

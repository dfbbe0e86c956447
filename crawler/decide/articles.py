"""What a fetched version of an article means against the stored one, and the events it makes."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from crawler.dedupe import VERSIONED_FIELDS, changed_fields, paragraph_diff
from crawler.events import Event
from crawler.models import ArticleRecord
from crawler.neardup import DUPLICATE_SIMILARITY, similarity
from crawler.store.values import StoredArticle

__all__ = [
    "ArticleChange",
    "DuplicateLink",
    "claim_needs_proof",
    "decide_article",
    "duplicate_link",
    "nearest_duplicate",
    "removal_event",
    "restoration_event",
]


@dataclass(frozen=True, slots=True)
class ArticleChange:
    """What to write for one fetched article. ``kind`` "refreshed": the body differs from the stored one
    only by the source's template blocks, so the stored form is replaced without a new version. The
    events of a new article carry no article id: the store fills in the id it is given."""

    kind: Literal["new", "updated", "refreshed", "unchanged"]
    article_id: int | None  # the stored article's; None for a new one
    version: int  # the article's version after the change
    changed: tuple[str, ...] = ()
    events: tuple[Event, ...] = ()


@dataclass(frozen=True, slots=True)
class DuplicateLink:
    """A new article joins the story of a near-identical one another source stored first."""

    story_id: int
    event: Event  # article_duplicate, without the new article's id


def claim_needs_proof(current: StoredArticle | None, record: ArticleRecord) -> bool:
    """Whether the page's declared canonical URL names an article stored under another URL: the claim
    must then be proven (normalize.identity_claim_holds) before the page may update that article."""
    return current is not None and current.url != record.url and record.canonical_url != record.url


def decide_article(
    current: StoredArticle | None, record: ArticleRecord, template: frozenset[str], now: str
) -> ArticleChange:
    """New, unchanged (same content hash), refreshed (only template blocks differ) or updated (which
    versioned fields changed, with a paragraph diff when the body did)."""
    if current is None:
        new = {"url": record.canonical_url, "title": record.title, "published": record.published}
        return ArticleChange("new", None, 1, events=(Event("article_new", record.source_id, None, new, ts=now),))
    if current.content_hash == record.content_hash:
        return ArticleChange("unchanged", current.id, current.versions)
    changed = changed_fields(_versioned(current), asdict(record), template)
    if not changed:
        return ArticleChange("refreshed", current.id, current.versions)
    version = current.versions + 1
    data: dict[str, Any] = {"url": record.canonical_url, "title": record.title, "version": version, "changed": changed}
    if "body" in changed:
        data["diff"] = paragraph_diff(current.body, record.body)
    event = Event("article_updated", record.source_id, current.id, data, ts=now)
    return ArticleChange("updated", current.id, version, tuple(changed), (event,))


def nearest_duplicate(signature: bytes, candidates: list[tuple[int, bytes]]) -> tuple[int, float] | None:
    """The first candidate (article id, signature), in the order given (newest first), whose body is a
    near-duplicate of the signed one, with the similarity."""
    for article_id, other in candidates:
        score = similarity(signature, other)
        if score >= DUPLICATE_SIMILARITY:
            return article_id, score
    return None


def duplicate_link(
    record: ArticleRecord, other_id: int, other_url: str, story_id: int, score: float, now: str
) -> DuplicateLink:
    data = {"url": record.canonical_url, "duplicate_of": other_id, "duplicate_url": other_url,
            "story_id": story_id, "similarity": round(score, 2)}  # fmt: skip
    return DuplicateLink(story_id, Event("article_duplicate", record.source_id, None, data, ts=now))


def removal_event(
    article_id: int, source_id: str, url: str, removed_at: str | None, reason: str, now: str
) -> Event | None:
    """article_removed the first time a stored article is found gone; None when it was gone already."""
    if removed_at is not None:
        return None
    return Event("article_removed", source_id, article_id, {"url": url, "reason": reason}, ts=now)


def restoration_event(article_id: int, source_id: str, url: str, removed_at: str | None, now: str) -> Event | None:
    """article_restored when a removed article answers again; None when it was never removed."""
    if removed_at is None:
        return None
    return Event("article_restored", source_id, article_id, {"url": url, "removed_at": removed_at}, ts=now)


def _versioned(article: StoredArticle) -> dict[str, Any]:
    return {name: getattr(article, name) for name in VERSIONED_FIELDS}

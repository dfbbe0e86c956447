"""The typed values that cross the store's seam, in and out. Every backend takes and returns these; no
row dicts leave a backend."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from crawler.events import Event
from crawler.models import HostState, Link, Validators
from crawler.search import ParsedQuery

__all__ = [
    "ArticleHistory",
    "ArticleVersion",
    "ArticleView",
    "DiscoveryState",
    "EventQuery",
    "ExportQuery",
    "FetchOutcome",
    "FetchRecord",
    "KnownArticle",
    "RunOutcome",
    "SaveResult",
    "SavedHost",
    "SearchHit",
    "SearchQuery",
    "SourceOverview",
    "SourceState",
    "StoreStats",
    "StoredArticle",
    "StreamPosition",
    "TemplateRow",
]

FetchOutcome = Literal["ok", "not_modified", "unusable", "failed", "gone"]


@dataclass(frozen=True, slots=True)
class KnownArticle:
    """A stored article as the crawl needs it to decide what to fetch again."""

    id: int
    url: str
    canonical_url: str
    last_checked: str | None
    etag: str | None
    last_modified: str | None
    first_seen: str | None
    removed_at: str | None

    @property
    def validators(self) -> Validators:
        return Validators(self.etag, self.last_modified)


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """A stored article as the change decisions compare it with a newly fetched version."""

    id: int
    url: str
    canonical_url: str
    source_id: str
    content_hash: str
    versions: int
    title: str | None
    body: str
    published: str | None
    modified: str | None
    authors: list[str]
    section: str | None
    tags: list[str]
    image: str | None


@dataclass(frozen=True, slots=True)
class FetchRecord:
    """One row of the fetch log: what was asked, what came back."""

    ts: str
    source_id: str | None
    url: str
    kind: str
    status: int | None
    outcome: FetchOutcome
    bytes: int | None
    ms: float | None
    error: str | None


@dataclass(frozen=True, slots=True)
class SaveResult:
    """What saving an article did, with the events written in the same transaction."""

    kind: Literal["new", "updated", "unchanged"]
    article_id: int
    events: tuple[Event, ...] = ()


@dataclass(frozen=True, slots=True)
class SourceState:
    """A source's stored run state and health."""

    id: str
    name: str
    enabled: bool
    state: Literal["ok", "failing"]
    consecutive_failures: int
    failure_score: float
    last_run_at: str | None
    last_success_at: str | None
    last_error: str | None
    health: Literal["degraded", "stale"] | None
    health_reason: str | None
    baselines: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """How one source run went, as the source's state and health are decided from it."""

    source_id: str
    ok: bool
    error: str | None
    now: str
    failure_threshold: int
    weight: float = 1.0  # what a failed run adds to the failure score (timeouts only: 0.5)
    extracted: int = 0  # article pages run through extraction
    poor: int = 0  # of those, without a body or a title
    undated: int = 0  # of those, without a publication date
    body_chars: int = 0
    warning: str | None = None  # the run worked but took no link (RunSummary.warning); a run that works replaces it


@dataclass(frozen=True, slots=True)
class DiscoveryState:
    """A feed, sitemap or listing page as last read: its validators, links and child sitemaps."""

    url: str
    source_id: str
    kind: str
    validators: Validators
    links: list[Link]
    children: list[str]
    status: int | None = None
    fetched_at: str | None = None


@dataclass(frozen=True, slots=True)
class SearchQuery:
    query: ParsedQuery  # search.parse_query
    source_id: str | None = None
    since: str | None = None  # YYYY-MM-DD, compared with the publication date, else the first-seen date
    limit: int = 20


@dataclass(frozen=True, slots=True)
class SearchHit:
    id: int
    source_id: str
    canonical_url: str
    title: str | None
    published: str | None
    first_seen: str
    body: str
    score: float | None  # bm25 (lower is better); None when too many matched to rank (newest first)


@dataclass(frozen=True, slots=True)
class TemplateRow:
    source_id: str
    key: str
    text: str
    articles: int
    sampled: int
    learned_at: str


@dataclass(frozen=True, slots=True)
class SavedHost:
    state: HostState
    updated_at: str


@dataclass(frozen=True, slots=True)
class ArticleView:
    """One stored article, every column but its signature (``crawler show``)."""

    id: int
    source_id: str
    url: str
    canonical_url: str
    title: str | None
    published: str | None
    modified: str | None
    authors: list[str]
    section: str | None
    tags: list[str]
    language: str | None
    image: str | None
    site_name: str | None
    description: str | None
    body: str
    content_hash: str
    versions: int
    first_seen: str
    last_seen: str
    last_checked: str | None
    last_changed: str | None
    etag: str | None
    last_modified: str | None
    provenance: dict[str, str]
    published_text: str | None
    modified_text: str | None
    next_check: str | None
    removed_at: str | None
    story_id: int | None


@dataclass(frozen=True, slots=True)
class ExportQuery:
    source_id: str | None = None
    since: str | None = None  # YYYY-MM-DD, inclusive, publication date else first-seen date
    until: str | None = None
    batch: int = 500
    after_id: int = 0  # the batch starts after this article id (ids ascending)


@dataclass(frozen=True, slots=True)
class ArticleVersion:
    version: int
    fetched_at: str
    changed: list[str]
    title: str | None
    published: str | None
    modified: str | None
    body: str


@dataclass(frozen=True, slots=True)
class ArticleHistory:
    id: int
    source_id: str
    canonical_url: str
    title: str | None
    first_seen: str
    versions: list[ArticleVersion]


@dataclass(frozen=True, slots=True)
class SourceOverview:
    id: str
    name: str
    enabled: bool
    state: str
    health: str | None
    health_reason: str | None
    consecutive_failures: int
    last_success_at: str | None
    last_error: str | None
    articles: int
    per_day: float
    last_warning: str | None = None  # the last run found links and took none: why (RunOutcome.warning)


@dataclass(frozen=True, slots=True)
class StoreStats:
    articles: int
    versions: int
    articles_per_source: dict[str, int]
    articles_per_day: dict[str, int]  # first seen, the last 14 days
    events_per_type: dict[str, int]
    fetches_per_outcome: dict[str, int]
    database_bytes: int


@dataclass(frozen=True, slots=True, order=True)
class StreamPosition:
    """How far a reader of the events stream has read: up to the event ``event_id``, written by
    transaction ``xact``. Events are read in (xact, id) order, and only from transactions older than every
    one still running, so a row committed late (its id taken before an earlier-committed one's) is never
    passed over. On SQLite writers take turns, ids are handed out in commit order, and ``xact`` is 0."""

    xact: int = 0
    event_id: int = 0

    @classmethod
    def of(cls, event: Event) -> StreamPosition:
        assert event.id is not None, "a stored event"
        return cls(event.xact, event.id)


@dataclass(frozen=True, slots=True)
class EventQuery:
    after_id: int = 0  # events after this one (in stream order); ignored when ``after`` is given
    limit: int = 100
    source_id: str | None = None
    types: tuple[str, ...] = ()
    since: str | None = None
    after: StreamPosition | None = None  # a position a reader saved (``stream_position``)
    newest: bool = False  # the last ``limit`` events (still returned oldest first), not the first after

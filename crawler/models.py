"""Value types passed between the pipeline's stages.

Stages import these, never each other: discover yields Links, fetch yields Pages, extract yields an
ExtractedArticle, normalize turns it into an ArticleRecord that store saves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from crawler.errors import NotHtml, ParseFailed

__all__ = [
    "ArticleRecord",
    "ByPosition",
    "DiscoveryKind",
    "ExtractedArticle",
    "HostState",
    "Link",
    "Page",
    "ParseOutcome",
    "Parsed",
    "RunSummary",
    "Validators",
]


class ByPosition:
    """Pickles as its class and positional arguments. The values crossing between the crawler and its
    workers are slots dataclasses, which otherwise pickle through dataclasses' __getstate__/__setstate__:
    those call fields() on every object, and unpickling workers' results took a tenth of the event loop."""

    __slots__ = ()
    __match_args__: tuple[str, ...]  # set by @dataclass: the __init__ parameters, in order

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        return type(self), tuple(getattr(self, name) for name in self.__match_args__)


DiscoveryKind = Literal["feed", "sitemap", "listing", "schedule"]  # schedule: a stored article due for re-checking


@dataclass(frozen=True, slots=True)
class Link:
    """A candidate article URL found on a discovery page."""

    url: str
    found_on: str
    kind: DiscoveryKind
    updated: str | None = None  # ISO 8601 when the feed or sitemap gives one


@dataclass(frozen=True, slots=True)
class Validators(ByPosition):
    """HTTP cache validators remembered for a URL, sent back as a conditional GET."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class Page(ByPosition):
    """A fetched URL. ``not_modified`` pages (304) carry no body. A page a parse worker fetched carries what
    the worker made of its body instead (``processed``: the Parsed result, or the error parsing raised),
    and the body's size; the body itself stayed in the worker."""

    url: str
    final_url: str
    status: int
    body: bytes
    content_type: str | None
    validators: Validators
    elapsed_ms: float
    not_modified: bool = False
    processed: ParseOutcome | None = None
    body_size: int | None = None  # when the body stayed in the worker

    @property
    def size(self) -> int:
        """Bytes of body received (decompressed)."""
        return len(self.body) if self.body_size is None else self.body_size


@dataclass(frozen=True, slots=True)
class HostState:
    """The fetcher's politeness state for one host (``crawler hosts``; the ``hosts`` table)."""

    host: str
    delay_s: float  # minimum seconds between request starts (per_host_delay, or the site's Crawl-delay)
    backoff_s: float  # extra seconds while the host answers 429/503
    blocked_until: str | None  # no request before this (Retry-After), ISO 8601 UTC
    last_status: int | None
    last_error: str | None
    last_at: str | None
    requests: int
    failures: int
    robots: str | None  # "ok", "missing", "unreachable: …"


@dataclass(frozen=True, slots=True)
class ExtractedArticle(ByPosition):
    """What extraction finds on one article page (the public result of ``crawler.extract.extract``).

    Datetimes are ISO 8601 strings with an offset, or None.
    """

    url: str | None
    canonical_url: str | None
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
    # field name → where its value came from ("json-ld:datePublished", "meta:og:title", "url", "override:…",
    # "markup:div#content" for the body); see the README's extraction section.
    provenance: dict[str, str] = field(default_factory=dict)
    empty_body_reason: str | None = None  # why the body is empty, when it is
    published_text: str | None = None  # the publication date as the page wrote it ("يناير 25, 2024")
    modified_text: str | None = None


@dataclass(frozen=True, slots=True)
class ArticleRecord(ByPosition):
    """A normalised article, ready to be stored: extracted fields plus identity and a content hash."""

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
    etag: str | None
    last_modified: str | None
    provenance: dict[str, str] = field(default_factory=dict)
    published_text: str | None = None  # the dates as the page wrote them; published/modified are UTC
    modified_text: str | None = None
    signature: bytes | None = None  # MinHash of the body (neardup.py), for cross-source duplicates
    search_form: tuple[str, str] | None = None  # title and body as the search index holds them (search.index_text)


@dataclass(slots=True)
class RunSummary:
    """Counters of one source run (urlwatch's outcome verbs plus failures)."""

    source_id: str
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    discovery_failed: int = 0
    discovery_timeouts: int = 0  # of the failed discovery pages, those that only timed out
    discovery_ok: int = 0
    error: str | None = None
    warning: str | None = None  # links found, none taken: which of the source's filters turned them away
    extracted: int = 0  # article pages (200) run through extraction this run
    poor: int = 0  # of those, pages without an article body or a title (a changed layout looks like this)
    undated: int = 0  # of those, pages without a publication date
    body_chars: int = 0  # their bodies' total length

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    @property
    def failure_weight(self) -> float:
        """How much a failed run counts toward failure_threshold: a run that failed only by timeouts (a slow
        or overloaded site) counts half; hard errors (DNS, refused, HTTP errors) count fully."""
        timeouts_only = self.error == "run_timeout exceeded" or (
            self.error is None and self.discovery_failed > 0 and self.discovery_timeouts == self.discovery_failed
        )
        return 0.5 if timeouts_only else 1.0

    @property
    def ok(self) -> bool:
        """A run fails when it raised, or when every discovery page failed."""
        return self.error is None and (self.discovery_ok > 0 or self.discovery_failed == 0)


@dataclass(frozen=True, slots=True)
class Parsed(ByPosition):
    """What parsing an article page's body gives (workers.parse_page)."""

    article: ExtractedArticle
    record: ArticleRecord | None  # None when the page has too little text to be an article


# What a parse worker made of a body: the result, or why there is none (raised in the crawler's process).
ParseOutcome = Parsed | NotHtml | ParseFailed

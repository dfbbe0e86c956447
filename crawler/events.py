"""Events: what changed, as frozen values, written to the events table and logged as one JSON line each.

Event types (the ``type`` column):
    article_new        a new article was stored
    article_updated    a stored article's content changed (data.changed lists the fields, data.diff the paragraphs)
    article_removed    a stored article answered 404/410 or redirected to the home page (once)
    article_restored   a removed article answered again
    article_duplicate  a new article's body nearly equals one another source stored first (data.duplicate_of)
    fetch_failed       an article, feed, sitemap or listing page could not be fetched or read
    source_failing     a source failed failure_threshold runs in a row (once per transition)
    source_recovered   a failing, degraded or stale source worked again (once per transition; data.from)
    source_degraded    extraction quality fell against the source's own baseline (a changed layout)
    source_stale       no new article for several times the source's usual gap

Events are decided in crawler.decide and written by the store, an article's in the same transaction as
the article; ``publish`` then only logs them (the pipeline hands them to the notifier's sinks too).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, get_args

__all__ = ["EVENT_TYPES", "Event", "EventType", "publish", "utc_now"]
logger = logging.getLogger("crawler.events")

EventType = Literal[
    "article_new", "article_updated", "article_removed", "article_restored", "article_duplicate", "fetch_failed",
    "source_failing",
    "source_recovered", "source_degraded", "source_stale",
]  # fmt: skip
EVENT_TYPES: tuple[EventType, ...] = get_args(EventType)  # the types, listed once (above)


def utc_now() -> str:
    """The current time as the ISO 8601 UTC string used in every timestamp column."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True, slots=True)
class Event:
    type: EventType
    source_id: str | None
    article_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    ts: str = field(default_factory=utc_now)
    id: int | None = None
    xact: int = 0  # PostgreSQL: the writing transaction (the stream's order is xact, id); 0 on SQLite

    def as_row(self) -> dict[str, Any]:
        return {
            "ts": self.ts,
            "type": self.type,
            "source_id": self.source_id,
            "article_id": self.article_id,
            "data": json.dumps(self.data, ensure_ascii=False),
        }


def publish(event: Event) -> None:
    """Log an already stored event as one structured line (the JSON formatter prints it as JSON)."""
    fields = {"event": event.type, "event_id": event.id, "source": event.source_id, "article_id": event.article_id}
    fields.update(event.data)
    level = logging.WARNING if event.type in ("fetch_failed", "source_failing") else logging.INFO
    logger.log(level, "%s %s %s", event.type, event.source_id or "-", _summary(event), extra={"fields": fields})


def _summary(event: Event) -> str:
    data = event.data
    if event.type == "article_updated":
        return f"{data.get('url')} changed: {', '.join(data.get('changed', []))}"
    if event.type in ("fetch_failed", "source_failing"):
        return f"{data.get('url', '')} {data.get('reason', '')}".strip()
    return str(data.get("url") or data.get("title") or "")

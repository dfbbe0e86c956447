"""Sources and what is recorded about polling them: run state and health, discovery pages, the fetch
log, hosts' politeness state, and events outside an article's save."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict

from crawler.config import SourceConfig
from crawler.decide import decide_run
from crawler.events import Event
from crawler.models import HostState, Link, Validators
from crawler.store.sqlite.base import SqliteBase
from crawler.store.values import DiscoveryState, FetchRecord, RunOutcome, SourceState, StreamPosition

__all__ = ["SourcesMixin"]

_SOURCE_COLUMNS = ("id, name, enabled, state, consecutive_failures, failure_score, last_run_at, last_success_at,"
                   " last_error, health, health_reason, baselines")  # fmt: skip


class SourcesMixin(SqliteBase):
    def sync_sources(self, sources: Iterable[SourceConfig], now: str) -> None:
        """Insert new sources and refresh names/enabled flags; runtime state is kept."""
        with self._atomic():
            for source in sources:
                existing = self.db.execute("SELECT 1 FROM sources WHERE id = ?", [source.id]).fetchone()
                if existing:
                    self.db.execute(
                        "UPDATE sources SET name = ?, enabled = ? WHERE id = ?",
                        [source.name, int(source.enabled), source.id],
                    )
                else:
                    self._insert("sources", {"id": source.id, "name": source.name, "enabled": int(source.enabled),
                                             "state": "ok", "consecutive_failures": 0, "created_at": now})  # fmt: skip

    def source_state(self, source_id: str) -> SourceState | None:
        row = self.db.execute(f"SELECT {_SOURCE_COLUMNS} FROM sources WHERE id = ?", [source_id]).fetchone()
        if row is None:
            return None
        return SourceState(
            id=row[0], name=row[1], enabled=bool(row[2]), state=row[3] or "ok", consecutive_failures=int(row[4] or 0),
            failure_score=float(row[5] or 0), last_run_at=row[6], last_success_at=row[7], last_error=row[8],
            health=row[9], health_reason=row[10], baselines=json.loads(row[11] or "{}"),
        )  # fmt: skip

    def finish_run(self, outcome: RunOutcome) -> list[Event]:
        """Record a run's outcome and the source's new state and health (decide.decide_run), with the
        transition events it makes, in one transaction; return those events as stored."""
        with self._atomic():
            recent = [row[0] for row in self.db.execute(
                "SELECT first_seen FROM articles WHERE source_id = ? ORDER BY first_seen DESC LIMIT 20",
                [outcome.source_id],
            ).fetchall()]  # fmt: skip
            update = decide_run(self.source_state(outcome.source_id), outcome, recent)
            success = ", last_success_at = ?, last_warning = ?" if outcome.ok else ""  # a failed run keeps the warning
            self.db.execute(
                "UPDATE sources SET state = ?, consecutive_failures = ?, failure_score = ?, last_run_at = ?,"
                f" last_error = ?, baselines = ?, health = ?, health_reason = ?{success} WHERE id = ?",
                [update.state, update.consecutive_failures, update.failure_score, outcome.now, outcome.error,
                 json.dumps(update.baselines), update.health, update.health_reason,
                 *([outcome.now, outcome.warning] if outcome.ok else []), outcome.source_id],
            )  # fmt: skip
            return [self._insert_event(event) for event in update.events]

    # --- discovery pages -------------------------------------------------------------------------------

    def discovery_read_at(self, urls: list[str]) -> dict[str, str]:
        """When each of these discovery pages was last read (those never read are not in the answer)."""
        read_at: dict[str, str] = {}
        for start in range(0, len(urls), 500):
            chunk = urls[start : start + 500]
            rows = self.db.execute(
                f"SELECT url, last_fetched FROM discovery_pages WHERE url IN ({','.join('?' * len(chunk))})"
                " AND last_fetched IS NOT NULL",
                chunk,
            ).fetchall()
            read_at.update(rows)
        return read_at

    def discovery_state(self, url: str) -> DiscoveryState | None:
        """A discovery page's validators, and the links and child sitemaps it gave last time (for a 304)."""
        row = self.db.execute(
            "SELECT source_id, kind, etag, last_modified, links, children, last_status, last_fetched"
            " FROM discovery_pages WHERE url = ?",
            [url],
        ).fetchone()
        if row is None:
            return None
        links = [Link(**item) for item in json.loads(row[4] or "[]")]
        return DiscoveryState(url, row[0], row[1], Validators(row[2], row[3]), links, json.loads(row[5] or "[]"),
                              row[6], row[7])  # fmt: skip

    def save_discovery_state(self, state: DiscoveryState) -> None:
        with self._atomic():
            self.db.table("discovery_pages").upsert(
                {"url": state.url, "source_id": state.source_id, "kind": state.kind, "etag": state.validators.etag,
                 "last_modified": state.validators.last_modified,
                 "links": json.dumps([asdict(link) for link in state.links]), "children": json.dumps(state.children),
                 "last_fetched": state.fetched_at, "last_status": state.status},
                pk="url",
            )  # fmt: skip

    # --- the fetch log, events, hosts -------------------------------------------------------------------

    def record_fetch(self, fetch: FetchRecord) -> None:
        with self._atomic():
            self._insert("fetches", asdict(fetch))

    def prune_fetches(self, before: str, chunk: int = 5000) -> int:
        """Delete up to ``chunk`` fetches rows older than ``before`` (oldest first); how many went. Called
        until it returns 0, so a large backlog never holds the store thread in one long transaction."""
        with self._atomic():
            return self.db.conn.execute(
                "DELETE FROM fetches WHERE id IN (SELECT id FROM fetches WHERE ts < ? ORDER BY id LIMIT ?)",
                [before, chunk],
            ).rowcount

    def add_event(self, event: Event) -> Event:
        with self._atomic():
            return self._insert_event(event)

    def save_stream_position(self, reader: str, position: StreamPosition) -> None:
        with self._atomic():
            self.db.table("stream_cursors").upsert({"name": reader, "event_id": position.event_id}, pk="name")

    def save_hosts(self, states: list[HostState], now: str) -> None:
        """Replace the saved state of these hosts (the counters are the daemon's since it started)."""
        with self._atomic():
            self.db.table("hosts").upsert_all([{**asdict(state), "updated_at": now} for state in states], pk="host")

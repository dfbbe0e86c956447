"""Sources and what is recorded about polling them (the PostgreSQL side of store/sqlite/sources.py)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict

from psycopg import AsyncConnection

from crawler.config import SourceConfig
from crawler.decide import decide_run
from crawler.events import Event
from crawler.models import HostState, Link, Validators
from crawler.store.postgres.base import PostgresBase
from crawler.store.values import DiscoveryState, FetchRecord, RunOutcome, SourceState

__all__ = ["SourcesMixin"]

_SOURCE_COLUMNS = ("id, name, enabled, state, consecutive_failures, failure_score, last_run_at, last_success_at,"
                   " last_error, health, health_reason, baselines")  # fmt: skip


class SourcesMixin(PostgresBase):
    async def sync_sources(self, sources: Iterable[SourceConfig], now: str) -> None:
        """Insert new sources and refresh names/enabled flags; runtime state is kept."""
        async with self._transaction() as conn:
            for source in sources:
                await conn.execute(
                    "INSERT INTO sources (id, name, enabled, state, consecutive_failures, created_at)"
                    " VALUES (%s, %s, %s, 'ok', 0, %s)"
                    " ON CONFLICT (id) DO UPDATE SET name = excluded.name, enabled = excluded.enabled",
                    [source.id, source.name, int(source.enabled), now],
                )

    async def source_state(self, source_id: str) -> SourceState | None:
        async with self._transaction(writes=False) as conn:
            return await self._source_state(conn, source_id)

    async def _source_state(self, conn: AsyncConnection, source_id: str, lock: bool = False) -> SourceState | None:
        sql = f"SELECT {_SOURCE_COLUMNS} FROM sources WHERE id = %s" + (" FOR UPDATE" if lock else "")
        row = await (await conn.execute(sql, [source_id])).fetchone()
        if row is None:
            return None
        return SourceState(
            id=row[0], name=row[1], enabled=bool(row[2]), state=row[3] or "ok", consecutive_failures=int(row[4] or 0),
            failure_score=float(row[5] or 0), last_run_at=row[6], last_success_at=row[7], last_error=row[8],
            health=row[9], health_reason=row[10], baselines=json.loads(row[11] or "{}"),
        )  # fmt: skip

    async def finish_run(self, outcome: RunOutcome) -> list[Event]:
        """The run's outcome, the source's new state and health (decide.decide_run) and the transition
        events, in one transaction; the source's row is locked so two runs' ends never interleave."""
        async with self._transaction() as conn:
            state = await self._source_state(conn, outcome.source_id, lock=True)
            cursor = await conn.execute(
                "SELECT first_seen FROM articles WHERE source_id = %s ORDER BY first_seen DESC LIMIT 20",
                [outcome.source_id],
            )
            recent = [row[0] for row in await cursor.fetchall()]
            update = decide_run(state, outcome, recent)
            success = (
                ", last_success_at = %s, last_warning = %s" if outcome.ok else ""
            )  # a failed run keeps the warning
            await conn.execute(
                "UPDATE sources SET state = %s, consecutive_failures = %s, failure_score = %s, last_run_at = %s,"
                f" last_error = %s, baselines = %s, health = %s, health_reason = %s{success} WHERE id = %s",
                [update.state, update.consecutive_failures, update.failure_score, outcome.now, outcome.error,
                 json.dumps(update.baselines), update.health, update.health_reason,
                 *([outcome.now, outcome.warning] if outcome.ok else []), outcome.source_id],
            )  # fmt: skip
            return [await self._insert_event(conn, event) for event in update.events]

    async def discovery_read_at(self, urls: list[str]) -> dict[str, str]:
        async with self._transaction(writes=False) as conn:
            cursor = await conn.execute(
                "SELECT url, last_fetched FROM discovery_pages WHERE url = ANY(%s) AND last_fetched IS NOT NULL", [urls]
            )
            return {row[0]: row[1] for row in await cursor.fetchall()}

    async def discovery_state(self, url: str) -> DiscoveryState | None:
        async with self._transaction(writes=False) as conn:
            row = await (await conn.execute(
                "SELECT source_id, kind, etag, last_modified, links, children, last_status, last_fetched"
                " FROM discovery_pages WHERE url = %s", [url],
            )).fetchone()  # fmt: skip
        if row is None:
            return None
        links = [Link(**item) for item in json.loads(row[4] or "[]")]
        return DiscoveryState(url, row[0], row[1], Validators(row[2], row[3]), links, json.loads(row[5] or "[]"),
                              row[6], row[7])  # fmt: skip

    async def save_discovery_state(self, state: DiscoveryState) -> None:
        async with self._transaction() as conn:
            await conn.execute(
                "INSERT INTO discovery_pages (url, source_id, kind, etag, last_modified, links, children, last_fetched,"
                " last_status) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (url) DO UPDATE SET"
                " source_id = excluded.source_id, kind = excluded.kind, etag = excluded.etag,"
                " last_modified = excluded.last_modified, links = excluded.links, children = excluded.children,"
                " last_fetched = excluded.last_fetched, last_status = excluded.last_status",
                [state.url, state.source_id, state.kind, state.validators.etag, state.validators.last_modified,
                 json.dumps([asdict(link) for link in state.links]), json.dumps(state.children), state.fetched_at,
                 state.status],
            )  # fmt: skip

    async def record_fetch(self, fetch: FetchRecord) -> None:
        async with self._transaction() as conn:
            await self._insert(conn, "fetches", asdict(fetch))

    async def prune_fetches(self, before: str, chunk: int = 5000) -> int:
        """Delete up to ``chunk`` fetch-log rows older than ``before``; how many went (called until 0)."""
        async with self._transaction() as conn:
            cursor = await conn.execute(
                "DELETE FROM fetches WHERE id IN (SELECT id FROM fetches WHERE ts < %s ORDER BY id LIMIT %s)",
                [before, chunk],
            )
            return cursor.rowcount

    async def add_event(self, event: Event) -> Event:
        async with self._transaction() as conn:
            return await self._insert_event(conn, event)

    async def save_hosts(self, states: list[HostState], now: str) -> None:
        if not states:
            return
        async with self._transaction() as conn:
            for state in states:
                values = {**asdict(state), "updated_at": now}
                columns = ", ".join(values)
                updates = ", ".join(f"{name} = excluded.{name}" for name in values if name != "host")
                await conn.execute(
                    f"INSERT INTO hosts ({columns}) VALUES ({', '.join(['%s'] * len(values))})"
                    f" ON CONFLICT (host) DO UPDATE SET {updates}",
                    list(values.values()),
                )

"""The events stream on PostgreSQL: many writers commit at once, their ids committing out of order, and a
reader paging through the stream sees every event once, in the stream's order, none passed over. Then the
cluster's sinks: a command sink fed by the scheduler gets each event of a two-worker crawl exactly once."""

from __future__ import annotations

import asyncio
import random

import psycopg

from crawler.store import open_store
from crawler.store.values import EventQuery, StreamPosition

WRITERS, PER_WRITER = 8, 40


async def _write(dsn: str, writer: int, committed: list[int]) -> None:
    """Events one per transaction, each held open a random few ms after its id was taken: ids taken in
    one order commit in another, as when many workers save at once."""
    rng = random.Random(writer)
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        for n in range(PER_WRITER):
            async with conn.transaction():
                cursor = await conn.execute(
                    "INSERT INTO events (ts, type, source_id, data) VALUES (now()::text, 'source_stale', %s, %s)"
                    " RETURNING id",
                    [f"w{writer}", f'{{"n": {n}}}'],
                )
                row = await cursor.fetchone()
                assert row is not None
                await asyncio.sleep(rng.uniform(0, 0.02))
            committed.append(row[0])


def test_a_reader_of_the_stream_sees_every_event_once_while_many_writers_commit_out_of_order(
    postgres_database: str,
) -> None:
    async def run() -> tuple[list[int], list[int], list[tuple[int, int]]]:
        store = await open_store(postgres_database)  # makes the tables
        committed: list[int] = []
        read: list[int] = []
        writers = asyncio.gather(*(_write(postgres_database, w, committed) for w in range(WRITERS)))
        position = StreamPosition()
        try:
            while True:  # a reader following the stream in small pages while the writers write
                done = writers.done()
                batch = await store.events(EventQuery(limit=7, after=position))
                read.extend(event.id or 0 for event in batch)
                if batch:
                    position = StreamPosition.of(batch[-1])
                elif done:
                    break
                await asyncio.sleep(0.002)
            await writers
        finally:
            await store.close()
        async with await psycopg.AsyncConnection.connect(postgres_database) as conn:
            cursor = await conn.execute("SELECT xact::text::bigint, id FROM events ORDER BY xact, id")
            stream_order = [(row[0], row[1]) for row in await cursor.fetchall()]
        return committed, read, stream_order

    committed, read, stream_order = asyncio.run(run())
    assert committed != sorted(committed), "the writers' ids did not commit out of order: the test proves nothing"
    assert len(read) == WRITERS * PER_WRITER and len(set(read)) == len(read), "an event lost or read twice"
    assert read == [event_id for _, event_id in stream_order]

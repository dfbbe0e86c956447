"""The sinks of a cluster, fed from the events stream: workers on many machines store events, and one
reader (the scheduler, ``crawler run``) hands them to the configured sinks in the stream's order, each
once, however many workers wrote them at the same time.

The reader keeps its place in the database (``stream_cursors``, under READER), saved after each batch:
a scheduler restarted, or moved to another machine, goes on where the last one stopped, and events
stored while no scheduler ran are delivered when one starts. A first start begins at the stream's end
(a new sink does not get the database's whole history). A crash between delivering a batch and saving
its end delivers that batch again: at least once, exactly once when nothing crashes.
"""

from __future__ import annotations

import asyncio
import logging

from crawler.errors import StoreError
from crawler.notify import Notifier
from crawler.store import Store
from crawler.store.values import EventQuery, StreamPosition

__all__ = ["READER", "feed_sinks"]
logger = logging.getLogger(__name__)

READER = "sinks"
_BATCH = 200


async def feed_sinks(store: Store, notifier: Notifier, poll_seconds: float = 1.0) -> None:
    """Deliver stored events to the sinks until cancelled; a database that is away is waited for."""
    position: StreamPosition | None = None
    while True:
        try:
            if position is None:
                position = await _start(store)
            position = await _deliver_batch(store, notifier, position)
        except StoreError as exc:
            logger.error("event sinks: cannot read the events stream (%s); trying again", exc)
            await asyncio.sleep(poll_seconds * 5)
            continue
        await asyncio.sleep(poll_seconds)


async def _start(store: Store) -> StreamPosition:
    saved = await store.stream_position(READER)
    if saved is not None:
        return saved
    end = await store.stream_end()
    await store.save_stream_position(READER, end)
    return end


async def _deliver_batch(store: Store, notifier: Notifier, position: StreamPosition) -> StreamPosition:
    """Deliver every event after ``position`` that is ready, batch by batch; the position reached."""
    while True:
        batch = await store.events(EventQuery(limit=_BATCH, after=position))
        if not batch:
            return position
        for event in batch:
            await notifier.deliver(event)
        position = StreamPosition.of(batch[-1])
        await store.save_stream_position(READER, position)

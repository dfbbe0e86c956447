"""The SQLite backend's own detail: one store thread owns the connection (sqlite connections are
thread-bound), and calls queued while it was busy run together in one transaction (group commit)."""

from __future__ import annotations

import asyncio
import queue
import time
from collections.abc import Callable
from typing import Any

from crawler.store.sqlite.sync import SyncSqlite

__all__ = ["GROUP_COMMIT_MAX", "GROUP_COMMIT_WINDOW", "Call", "serve"]

Call = tuple[Callable[[SyncSqlite], Any], "asyncio.Future[Any]", bool]  # the call, its answer, in a crowd?
GROUP_COMMIT_MAX = 64  # calls at most in one transaction
# How long a crowd's call (a run's article saves) waits for company. Each commit writes a new FTS5 segment
# and rewrites the pages the transaction touched: a crawl writing 600 articles a second committed them
# 2-3 at a time, and the store thread spent a quarter of its time there (1.75 -> 1.3 CPU s per 3,000
# articles with the wait; 50 ms held the run's article tasks back).
GROUP_COMMIT_WINDOW = 0.01


def serve(
    open_sync: Callable[[], SyncSqlite],
    calls: queue.SimpleQueue[Call | None],
    loop: asyncio.AbstractEventLoop,
    opened: asyncio.Future[None],
    commit_window: float,
) -> None:
    """The store thread: open the database, then run queued calls in batches until told to stop."""
    try:
        sync = open_sync()
    except BaseException as exc:  # handed to Store.open, which reports it
        loop.call_soon_threadsafe(_settle, opened, None, exc)
        return
    loop.call_soon_threadsafe(_settle, opened, None, None)
    try:
        while (first := calls.get()) is not None:
            batch = _gather(first, calls, commit_window)
            outcomes = _run_batch(sync, [call for call, _, _ in batch])
            # one wake-up of the event loop per batch, not per call
            loop.call_soon_threadsafe(_settle_all, [(done, *outcome) for (_, done, _), outcome in zip(batch, outcomes)])
    finally:
        sync.close()


def _gather(first: Call, calls: queue.SimpleQueue[Call | None], window: float) -> list[Call]:
    """One transaction's calls: the first and those queued behind it, up to GROUP_COMMIT_MAX. While all
    of them are a crowd's, more are awaited until ``window`` seconds after the first; any other call (a
    lone caller waiting on each answer in turn) ends the wait."""
    batch = [first]
    deadline = time.monotonic() + window
    lingering = first[2]
    while len(batch) < GROUP_COMMIT_MAX:
        more = _next_waiting(calls, max(0.0, deadline - time.monotonic()) if lingering else 0.0)
        if more is None:
            break
        batch.append(more)
        lingering = lingering and more[2]
    return batch


def _next_waiting(calls: queue.SimpleQueue[Call | None], wait: float = 0.0) -> Call | None:
    """The next queued call (waiting up to ``wait`` seconds for one), or None when there is none or the
    queue says stop (put back for the main loop)."""
    try:
        call = calls.get(timeout=wait) if wait > 0 else calls.get_nowait()
    except queue.Empty:
        return None
    if call is None:
        calls.put(None)
    return call


def _run_batch(sync: SyncSqlite, batch: list[Callable[[SyncSqlite], Any]]) -> list[tuple[Any, BaseException | None]]:
    """Run the calls in one transaction, each in a savepoint. If the transaction itself fails (a full disk
    at commit, a busy database), roll it all back and run them one by one, so each caller gets its own
    outcome."""
    if len(batch) == 1:
        return [_run_one(sync, batch[0])]
    conn = sync.db.conn
    try:
        conn.execute("BEGIN")
        with sync.index_later():
            outcomes = [_run_in_savepoint(sync, call) for call in batch]
        conn.execute("COMMIT")
    except Exception:  # not lost: each call runs again on its own below and its caller gets what it raises
        if conn.in_transaction:
            conn.rollback()
        return [_run_one(sync, call) for call in batch]
    return outcomes


def _run_in_savepoint(sync: SyncSqlite, call: Callable[[SyncSqlite], Any]) -> tuple[Any, BaseException | None]:
    conn = sync.db.conn
    conn.execute("SAVEPOINT call")
    mark = sync.pending_index_mark()
    try:
        result = call(sync)
    except Exception as exc:  # the caller's to handle; undo its writes, keep the others'
        if not conn.in_transaction:
            raise  # the error ended the whole transaction: _run_batch runs the calls one by one
        conn.execute("ROLLBACK TO SAVEPOINT call")
        conn.execute("RELEASE SAVEPOINT call")
        sync.forget_index_rows(mark)
        return None, exc
    conn.execute("RELEASE SAVEPOINT call")
    return result, None


def _run_one(sync: SyncSqlite, call: Callable[[SyncSqlite], Any]) -> tuple[Any, BaseException | None]:
    try:
        return call(sync), None
    except Exception as exc:  # the caller's to handle
        return None, exc


def _settle_all(outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for done, result, error in outcomes:
        _settle(done, result, error)


def _settle(done: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if done.cancelled():
        return
    if error is not None:
        done.set_exception(error)
    else:
        done.set_result(result)

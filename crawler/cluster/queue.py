"""The queue of source runs: a Procrastinate app on the store's PostgreSQL database.

One job per source run (task ``crawler.run_source``, argument ``source_id``). The queueing lock keeps at
most one run of a source waiting, the lock at most one running; a job whose worker stopped sending
heartbeats (killed, its machine gone) is put back in the queue by the scheduler (``retry_stalled``).
Delivery is at least once: a run is idempotent (a second save of the same article changes nothing).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import procrastinate
import psycopg
from procrastinate.exceptions import AlreadyEnqueued, UniqueViolation
from procrastinate.jobs import Status

__all__ = ["QUEUE", "TASK", "defer_run", "ensure_queue_schema", "make_app", "retry_stalled"]
logger = logging.getLogger(__name__)

TASK = "crawler.run_source"
QUEUE = "sources"
_SCHEMA_LOCK = 0x71756575  # "queu": the advisory lock the queue's schema is created under
HEARTBEAT_SECONDS = 2.0  # how often a worker tells the database it is alive
STALLED_SECONDS = 10.0  # a worker silent this long is dead: its running jobs are queued again


def make_app(dsn: str) -> procrastinate.App:
    return procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=dsn, min_size=1, max_size=4))


async def ensure_queue_schema(dsn: str) -> None:
    """Procrastinate's tables, created once (under an advisory lock: many processes may start at once)."""
    async with await psycopg.AsyncConnection.connect(dsn) as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", [_SCHEMA_LOCK])
        exists = await (await conn.execute("SELECT to_regclass('procrastinate_jobs')")).fetchone()
        if exists is None or exists[0] is None:
            await conn.execute(procrastinate.schema.SchemaManager.get_schema())
            logger.info("created the queue's tables (Procrastinate)")


def _lock(source_id: str) -> str:
    return f"source:{source_id}"


async def defer_run(app: procrastinate.App, source_id: str, due: float) -> bool:
    """Queue a run of the source, due at Unix time ``due`` (the worker measures its lag from it); False
    when one is already waiting (its queueing lock)."""
    try:
        await app.configure_task(TASK, queue=QUEUE, lock=_lock(source_id), queueing_lock=_lock(source_id)).defer_async(
            source_id=source_id, due=due
        )
    except AlreadyEnqueued:
        logger.debug("source %s: a run is already queued", source_id)
        return False
    return True


async def retry_stalled(app: procrastinate.App, longest_run: float) -> int:
    """Queue again the running jobs of workers that stopped sending heartbeats, and jobs running for
    longer than any run may (``longest_run`` seconds): a worker that lost the database while finishing a
    job goes on beating, but the job stays "running" and its lock would hold every later run of the
    source. How many were queued again."""
    stalled = {job.id: job.task_kwargs.get("source_id")
               for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_SECONDS)}  # fmt: skip
    rows = await app.connector.execute_query_all_async(query=_STUCK, queue=QUEUE, seconds=longest_run)
    stuck = {row["id"]: (row["args"] or {}).get("source_id") for row in rows}
    retried = 0
    for job_id, source_id in {**stuck, **stalled}.items():
        if job_id is None:
            continue
        try:
            await app.job_manager.retry_job_by_id_async(job_id, retry_at=datetime.now(UTC))
        except UniqueViolation:
            # a new run of the same source was queued meanwhile: that one takes this one's place, and this
            # one ends (failed), or its lock would keep every later run of the source waiting
            await app.job_manager.finish_job_by_id_async(job_id, status=Status.FAILED, delete_job=False)
            continue
        retried += 1
        why = "its worker died mid-run" if job_id in stalled else f"it ran for more than {longest_run:.0f} s"
        logger.warning("source %s: %s; the run is queued again", source_id, why)
    return retried


# Running jobs that started more than %(seconds)s ago (their 'started' event; one per attempt).
_STUCK = """
SELECT job.id, job.args FROM procrastinate_jobs job
WHERE job.status = 'doing' AND job.queue_name = %(queue)s
  AND (SELECT max(event.at) FROM procrastinate_events event WHERE event.job_id = job.id AND event.type = 'started')
      < now() - make_interval(secs => %(seconds)s)
"""

"""``crawler worker``: runs the source runs the scheduler queued, on any machine that reaches the
PostgreSQL database, with the same pipeline, time budget and per-source boundary as the daemon.

Each job is one run of one source (queue.TASK). SIGTERM or SIGINT stops taking jobs and lets the running
ones finish (up to the drain grace) before the process ends; a run cut short is recorded as failed and
runs again on its next turn. A worker killed outright stops sending heartbeats, and the scheduler puts
its runs back in the queue (queue.retry_stalled).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from pathlib import Path

import procrastinate
import psycopg
from procrastinate.exceptions import ConnectorException
from psycopg_pool import PoolTimeout

from crawler.assembly import assembled
from crawler.cluster.queue import HEARTBEAT_SECONDS, QUEUE, STALLED_SECONDS, TASK, ensure_queue_schema, make_app
from crawler.config import Config, SourceConfig, load_config
from crawler.errors import ConfigError, CrawlerError, StoreError
from crawler.metrics import Metrics, MetricsServer
from crawler.pipeline import Deps, record_failed_run, run_source

__all__ = ["DRAIN_SECONDS", "SourceRunner", "run_worker"]
logger = logging.getLogger(__name__)

DRAIN_SECONDS = 30.0  # after SIGTERM, how long running jobs may take to finish
RECONNECT_SECONDS = 5.0  # after losing the database, the wait before connecting again


class SourceRunner:
    """The job: one run of the named source, as the daemon runs it."""

    def __init__(self, config_path: Path, config: Config, deps: Deps, metrics: Metrics) -> None:
        self._config_path, self._config, self._deps, self._metrics = config_path, config, deps, metrics
        self.runs = 0

    def _source(self, source_id: str) -> SourceConfig | None:
        """The source's config; the config file is read again for a source this worker does not know yet
        (it was added after the worker started, and the scheduler read it first)."""
        try:
            return self._config.source(source_id)
        except KeyError:
            pass
        try:
            self._config = load_config(self._config_path, need_sources=True)
            return self._config.source(source_id)
        except (ConfigError, KeyError) as exc:
            logger.error("source %s: queued, but not in %s (%s): run skipped", source_id, self._config_path, exc)
            return None

    async def __call__(self, source_id: str, due: float | None = None) -> None:
        if due is not None:  # queued by a scheduler of this version
            self._metrics.run_started_late(max(0.0, time.time() - due))
        source = self._source(source_id)
        if source is None:
            return
        ok = False
        timeout = self._config.crawler.run_timeout
        try:
            async with asyncio.timeout(timeout.total_seconds()):
                ok = (await run_source(source, self._deps)).ok
        except TimeoutError:
            logger.error("source %s: run exceeded run_timeout %s", source_id, timeout)
            await self._record_failure(source, "run_timeout exceeded")
        except asyncio.CancelledError:
            await self._record_failure(source, "cancelled at shutdown")
            raise
        except StoreError:
            raise  # the database refused a write: the job fails and runs again when it is back
        except Exception as exc:  # the per-source boundary: log with traceback, count as a failed run
            logger.exception("source %s: unexpected error", source_id)
            await self._record_failure(source, f"unexpected error: {type(exc).__name__}: {exc}")
        finally:
            self.runs += 1
            self._metrics.run_finished(source_id, ok)

    async def _record_failure(self, source: SourceConfig, reason: str) -> None:
        try:
            await asyncio.shield(record_failed_run(source, self._deps, reason))
        except CrawlerError as exc:
            logger.error("source %s: could not record failed run: %s", source.id, exc)


async def _beat(metrics: Metrics) -> None:
    """The event loop's heartbeat, for /healthz."""
    while True:
        metrics.beat()
        await asyncio.sleep(1.0)


async def _work(app: procrastinate.App, concurrency: int) -> bool:
    """Run jobs until a signal stops the worker (True), or the database goes away (False: its running
    jobs stall and the scheduler queues them again; this worker connects again and takes new ones)."""
    try:
        async with app.open_async():
            await app.run_worker_async(
                queues=[QUEUE], concurrency=concurrency, shutdown_graceful_timeout=DRAIN_SECONDS,
                install_signal_handlers=True, update_heartbeat_interval=HEARTBEAT_SECONDS,
                stalled_worker_timeout=STALLED_SECONDS, delete_jobs="successful",
            )  # fmt: skip
    except (ConnectorException, psycopg.OperationalError, PoolTimeout) as exc:
        logger.error("worker: lost the database (%s); connecting again in %.0f s", str(exc).strip() or
                     type(exc).__name__, RECONNECT_SECONDS)  # fmt: skip
        return False
    return True


async def _stopped_within(seconds: float) -> bool:
    """Wait ``seconds``, or less when SIGTERM/SIGINT comes (True): between two connections the worker
    still stops when asked."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
    return stop.is_set()


async def run_worker(config_path: Path, config: Config, concurrency: int, metrics_port: int = 0) -> None:
    """Take runs from the queue until SIGTERM/SIGINT; ``concurrency`` sources at once."""
    if not isinstance(config.crawler.database, str):
        raise CrawlerError('crawler worker needs a PostgreSQL database (database = "postgresql://...")')
    dsn = config.crawler.database
    await ensure_queue_schema(dsn)
    app = make_app(dsn)
    metrics = Metrics()
    server = MetricsServer(metrics, metrics_port) if metrics_port else None
    try:
        async with assembled(config) as parts:
            deps = parts.deps(on_article_done=metrics.article_done, on_event=metrics.event, on_fetch=metrics.fetched)
            runner = SourceRunner(config_path, config, deps, metrics)
            app.task(name=TASK, queue=QUEUE)(runner.__call__)
            heartbeat = asyncio.create_task(_beat(metrics))
            logger.info("worker started: %d runs at once, database %s", concurrency, config.crawler.database_label)
            while not await _work(app, concurrency):
                if await _stopped_within(RECONNECT_SECONDS):
                    break
            heartbeat.cancel()
            logger.info("worker stopped after %d source runs", runner.runs)
    finally:
        if server is not None:
            server.close()

"""Schedule stage: the daemon. One APScheduler 3.x job per enabled source, signals, reload, drain.

Owns the job triggers (interval with jitter and a spread first run, or cron), the per-run timeout, the
per-source error boundary, SIGHUP reload as a diff of the config, and a shutdown that lets in-flight
runs finish (APScheduler's own shutdown() would cancel them). Does not know what a run does: that is
pipeline.run_source.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from crawler.assembly import assembled, stored_text
from crawler.config import Config, SourceConfig, crontab_weekdays, load_config
from crawler.errors import ConfigError, CrawlerError, StoreError
from crawler.events import utc_now
from crawler.metrics import Metrics, MetricsServer
from crawler.notify import Notifier
from crawler.pipeline import Deps, record_failed_run, run_source
from crawler.service import ServiceNotifier
from crawler.store import Store

if TYPE_CHECKING:
    import procrastinate

__all__ = ["Daemon", "first_run", "first_run_spread", "make_trigger"]
logger = logging.getLogger(__name__)

_FIRST_RUN_SPREAD = timedelta(seconds=30)  # first runs spread over this much (or the interval, if shorter)
_FIRST_RUNS_PER_SECOND = 20  # with more sources than this many a second fill the spread, it grows


def first_run_spread(sources: int) -> timedelta:
    """How long the first runs of this many sources are spread over: 30 s, or longer when that would start
    more than 20 runs a second (10,000 sources: 500 s; each source's own interval still caps it)."""
    return max(_FIRST_RUN_SPREAD, timedelta(seconds=sources / _FIRST_RUNS_PER_SECOND))


def make_trigger(
    source: SourceConfig, now: datetime, last_run_at: datetime | None = None, spread: timedelta = _FIRST_RUN_SPREAD
) -> BaseTrigger:
    """Interval: jitter of a tenth of the interval, first run spread out (or one interval after the last
    run before a restart). Cron: the five crontab fields, weekday names as in crontab (0 = Sunday)."""
    if source.cron:
        minute, hour, day, month, day_of_week = source.cron.split()
        return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=crontab_weekdays(day_of_week),
                           timezone=source.timezone, jitter=30)  # fmt: skip
    assert source.interval is not None
    every = source.interval
    first = now + timedelta(seconds=random.uniform(0, min(every, spread).total_seconds()))
    if last_run_at is not None:
        first = max(first, last_run_at + every)
    jitter = max(1, int(every.total_seconds() / 10)) if every.total_seconds() >= 10 else None
    return IntervalTrigger(seconds=every.total_seconds(), start_date=first, jitter=jitter, timezone=UTC)


def first_run(trigger: BaseTrigger) -> dict[str, datetime]:
    """add_job's next_run_time for an interval trigger: its start. Left to the trigger, a start that passed
    while thousands of jobs were being added (or before scheduler.start()) is pushed a whole interval
    later; given explicitly, a passed start runs at once (within the misfire grace)."""
    return {"next_run_time": trigger.start_date} if isinstance(trigger, IntervalTrigger) else {}


class Daemon:
    """``await Daemon(path).run()`` runs until SIGTERM/SIGINT (or ``stop()``), then drains and returns."""

    def __init__(self, config_path: Path, *, drain_grace: float = 30.0, config: Config | None = None) -> None:
        self._config_path = config_path
        self._config = config or load_config(config_path, need_sources=True)
        self._drain_grace = drain_grace
        self._stopping = asyncio.Event()
        self._inflight: dict[str, asyncio.Task[Any]] = {}
        self._background: set[asyncio.Task[Any]] = set()
        self._deps: Deps | None = None
        self._queue: procrastinate.App | None = None  # on PostgreSQL: runs are queued for the workers
        self._scheduler: AsyncIOScheduler | None = None
        self.runs = 0  # finished source runs, for status and tests
        self._fatal: StoreError | None = None  # why the daemon stopped itself
        self._spread = first_run_spread(len(self._enabled(self._config)))  # of first runs; see first_run_spread
        self._service = ServiceNotifier()
        self._metrics = Metrics()

    @property
    def config(self) -> Config:
        return self._config

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        settings = self._config.crawler
        metrics = self._metrics
        async with assembled(self._config) as parts, self._queued(settings.database, parts.store):
            self._deps = parts.deps(on_article_done=metrics.article_done, on_event=metrics.event,
                                    on_fetch=metrics.fetched)  # fmt: skip
            notifier = parts.notifier
            metrics.live("sink_queue_depth", lambda: notifier.queue_depth)
            metrics.live("scheduled_jobs", lambda: len(self._scheduler.get_jobs()) if self._scheduler else 0)
            metrics.live("running_sources", lambda: len(self._inflight))
            await self._serve(settings.metrics_port)
        logger.info("daemon stopped after %d source runs", self.runs)
        if self._fatal is not None:
            raise self._fatal

    @contextlib.asynccontextmanager
    async def _queued(self, database: Path | str, store: Store) -> AsyncIterator[None]:
        """On PostgreSQL this daemon is the cluster's scheduler: a due source is queued for the workers
        (crawler worker, on any machine) rather than run here, and the runs of dead workers are queued
        again, and the sinks are fed from the events stream. On SQLite, nothing changes: sources run in
        this process, which hands their events to the sinks."""
        if not isinstance(database, str):
            yield
            return
        from crawler.cluster.queue import ensure_queue_schema, make_app
        from crawler.cluster.stream import feed_sinks

        await ensure_queue_schema(database)
        queue = make_app(database)
        notifier = Notifier(self._config.sinks, self._config.crawler.user_agent, stored_text(store))
        async with queue.open_async():
            self._queue = queue
            feed = asyncio.create_task(feed_sinks(store, notifier), name="event sinks (stream)")
            try:
                yield
            finally:
                self._queue = None
                feed.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await feed
                await notifier.aclose()

    async def _serve(self, metrics_port: int) -> None:
        """Schedule the sources and run until stopped, then let running sources finish."""
        settings = self._config.crawler
        server = self._serve_metrics(metrics_port)
        scheduler = self._scheduler = AsyncIOScheduler(
            timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60}
        )
        scheduler.add_listener(self._on_scheduler_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
        try:
            for source in self._enabled(self._config):
                await self._add_job(source)
            scheduler.start()
            self._install_signals()
            logger.info("daemon started: %d sources scheduled, database %s",
                        len(scheduler.get_jobs()), settings.database_label)  # fmt: skip
            self._service.ready(self._status())
            self._spawn(lambda: self._service.watchdog(self._healthy))()
            self._spawn(self._heartbeat)()
            self._spawn(self._prune_fetch_log)()
            if self._queue is not None:
                self._spawn(self._requeue_stalled)()
            await self._stopping.wait()
            self._service.stopping()
            logger.info("stopping: waiting for %d running source(s)", len(self._inflight))
            await self._drain(scheduler)
            for task in self._background:
                task.cancel()
        finally:
            self._remove_signals()
            if server is not None:
                server.close()

    def _serve_metrics(self, port: int) -> MetricsServer | None:
        """/metrics and /healthz, unless metrics_port is 0; a port in use is logged, not fatal."""
        if port == 0:
            return None
        try:
            server = MetricsServer(self._metrics, port)
        except OSError as exc:
            logger.error("metrics: cannot listen on 127.0.0.1:%d (%s); running without /metrics", port, exc)
            return None
        logger.info("metrics on http://127.0.0.1:%d/metrics and /healthz", server.port)
        return server

    async def _heartbeat(self) -> None:
        while True:
            self._metrics.beat()
            await asyncio.sleep(1.0)

    async def _prune_fetch_log(self) -> None:
        """Once a day from start: drop fetches rows older than fetch_log_days (the log grows with every
        poll; articles, versions and events are never pruned)."""
        assert self._deps is not None
        while days := self._config.crawler.fetch_log_days:
            before = (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="milliseconds")
            removed = 0
            try:
                while chunk := await self._deps.store.prune_fetches(before):
                    removed += chunk
            except StoreError as exc:
                logger.error("fetch log: could not prune: %s (tried again tomorrow)", exc)
            if removed:
                logger.info("fetch log: removed %d rows older than %d days", removed, days)
            await asyncio.sleep(86_400)

    def _status(self) -> str:
        """One line for ``systemctl status``."""
        jobs = len(self._scheduler.get_jobs()) if self._scheduler else 0
        tasks = len(asyncio.all_tasks())  # a leak of tasks shows here first (bench/soak.py watches it)
        return f"{jobs} sources scheduled, {self.runs} runs done, {len(self._inflight)} running, {tasks} tasks"

    async def _healthy(self) -> bool:
        """For the watchdog: the loop is running this, and the store thread answers in time."""
        assert self._deps is not None and self._service.watchdog_interval is not None
        try:
            async with asyncio.timeout(self._service.watchdog_interval):
                await self._deps.store.ping()
        except TimeoutError:
            logger.error(
                "the store thread has not answered for %.0f s: no watchdog ping", self._service.watchdog_interval
            )
            return False
        return True

    # --- jobs ----------------------------------------------------------------------------------------------

    @staticmethod
    def _enabled(config: Config) -> list[SourceConfig]:
        return [source for source in config.sources if source.enabled]

    async def _add_job(self, source: SourceConfig) -> None:
        assert self._scheduler is not None and self._deps is not None
        row = await self._deps.store.source_state(source.id)
        last = datetime.fromisoformat(row.last_run_at) if row and row.last_run_at else None
        if row and (succeeded := Metrics.parse_time(row.last_success_at)) is not None:
            self._metrics.last_success(source.id, succeeded)
        trigger = make_trigger(source, datetime.now(UTC), last, self._spread)
        grace = int(source.interval.total_seconds()) if source.interval else 300
        self._scheduler.add_job(
            self._run_job, trigger, args=[source.id], id=source.id, name=source.name, replace_existing=True,
            misfire_grace_time=max(grace, 1), **first_run(trigger),
        )  # fmt: skip

    async def _run_job(self, source_id: str) -> None:
        """The per-source boundary: a run gets a time budget, and nothing it raises escapes."""
        try:
            source = self._config.source(source_id)
        except KeyError:
            return  # removed by a reload while the job was due
        if self._queue is not None:
            await self._defer(source_id)
            return
        task = asyncio.current_task()
        assert task is not None and self._deps is not None
        self._inflight[source_id] = task
        deps = self._deps
        ok = False
        try:
            async with asyncio.timeout(self._config.crawler.run_timeout.total_seconds()):
                ok = (await run_source(source, deps)).ok
        except TimeoutError:
            logger.error("source %s: run exceeded run_timeout %s", source_id, self._config.crawler.run_timeout)
            await self._record_failure(source, deps, "run_timeout exceeded")
        except asyncio.CancelledError:
            await self._record_failure(source, deps, "cancelled at shutdown")
            raise
        except StoreError as exc:
            # a full disk or a read-only file: every later write would fail too. Stop (non-zero exit, so
            # systemd restarts and reports it) rather than run on collecting nothing.
            logger.critical("the database refused a write, stopping: %s", exc)
            self._fatal = self._fatal or exc
            self.stop()
        except Exception as exc:  # the per-source boundary: log with traceback, count as a failed run
            logger.exception("source %s: unexpected error", source_id)
            await self._record_failure(source, deps, f"unexpected error: {type(exc).__name__}: {exc}")
        finally:
            self._inflight.pop(source_id, None)
            self.runs += 1
            self._metrics.run_finished(source_id, ok)  # timeouts and errors count as failed runs too
            self._service.status(self._status())

    async def _defer(self, source_id: str) -> None:
        """Queue the source's run for the workers; a queue that cannot be reached skips this turn."""
        from crawler.cluster.queue import defer_run

        assert self._queue is not None
        try:
            queued = await defer_run(self._queue, source_id, time.time())
        except Exception as exc:  # the database is away: this turn is skipped, the next one tries again
            logger.error("source %s: could not queue its run: %s", source_id, exc)
            return
        self.runs += queued
        self._service.status(self._status())

    async def _requeue_stalled(self) -> None:
        """Every few seconds: the runs of workers that stopped sending heartbeats go back in the queue."""
        from crawler.cluster.queue import STALLED_SECONDS, retry_stalled

        assert self._queue is not None
        # a run is cut at run_timeout (the worker's asyncio.timeout); then a few seconds to record it
        longest_run = self._config.crawler.run_timeout.total_seconds() + STALLED_SECONDS + 5
        while True:
            await asyncio.sleep(STALLED_SECONDS / 2)
            try:
                await retry_stalled(self._queue, longest_run)
            except Exception as exc:  # the database is away: tried again on the next round
                logger.error("queue: could not look for stalled runs: %s", exc)

    @staticmethod
    async def _record_failure(source: SourceConfig, deps: Deps, reason: str) -> None:
        try:
            await asyncio.shield(record_failed_run(source, deps, reason))
        except CrawlerError as exc:
            logger.error("source %s: could not record failed run: %s", source.id, exc)

    def _on_scheduler_event(self, event: JobExecutionEvent) -> None:
        kind = {EVENT_JOB_MISSED: "missed", EVENT_JOB_MAX_INSTANCES: "max_instances"}.get(event.code, "error")
        self._metrics.scheduler_trouble(kind)
        if event.code == EVENT_JOB_MISSED:
            logger.warning("source %s: scheduled run missed (event loop was busy)", event.job_id)
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            logger.warning("source %s: previous run still going; this run skipped", event.job_id)
        elif event.exception is not None:
            logger.error("source %s: job error: %s", event.job_id, event.exception)

    # --- signals, reload, drain ---------------------------------------------------------------------------

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop)
        loop.add_signal_handler(signal.SIGHUP, self._spawn(self.reload))

    def _remove_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(sig)

    def _spawn(self, factory: Callable[[], Coroutine[Any, Any, object]]) -> Callable[[], None]:
        def start() -> None:
            task = asyncio.ensure_future(factory())
            self._background.add(task)
            task.add_done_callback(self._background.discard)

        return start

    async def reload(self) -> dict[str, list[str]]:
        """Re-read the config; apply it as a diff. A broken config is reported and the old one kept."""
        self._service.reloading()
        try:
            return await self._reload()
        finally:
            self._service.ready(self._status())

    async def _reload(self) -> dict[str, list[str]]:
        assert self._scheduler is not None and self._deps is not None
        try:
            new = load_config(self._config_path, need_sources=True)
        except ConfigError as exc:
            logger.error("reload refused, keeping the running config:\n%s", exc)
            return {"added": [], "removed": [], "rescheduled": []}
        if new.crawler != self._config.crawler:
            logger.warning("reload: [crawler] settings changed; they take effect at the next restart")
        old_sources = {s.id: s for s in self._enabled(self._config)}
        new_sources = {s.id: s for s in self._enabled(new)}
        await self._deps.store.sync_sources(new.sources, utc_now())
        self._config = new.model_copy(update={"crawler": self._config.crawler})
        diff: dict[str, list[str]] = {"added": [], "removed": [], "rescheduled": []}
        for source_id in old_sources.keys() - new_sources.keys():
            self._scheduler.remove_job(source_id)
            diff["removed"].append(source_id)
        for source_id, source in new_sources.items():
            old = old_sources.get(source_id)
            if old is None:
                await self._add_job(source)
                diff["added"].append(source_id)
            elif (old.interval, old.cron, old.timezone) != (source.interval, source.cron, source.timezone):
                await self._add_job(source)
                diff["rescheduled"].append(source_id)
        logger.info("config reloaded: %s", {k: sorted(v) for k, v in diff.items()})
        return diff

    async def _drain(self, scheduler: AsyncIOScheduler) -> None:
        """Pause new runs, let running ones finish within the grace, cancel the rest, then shut down."""
        scheduler.pause()
        running = list(self._inflight.values())
        if running:
            done, pending = await asyncio.wait(running, timeout=self._drain_grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=5)
        scheduler.shutdown(wait=False)
        await asyncio.sleep(0)

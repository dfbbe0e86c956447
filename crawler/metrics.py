"""The daemon's status for machines: Prometheus /metrics and /healthz on 127.0.0.1 (prometheus-client).

Counters are fed by the pipeline's hooks (fetches, article outcomes, events) and the scheduler; gauges
that describe the present (lag since each source's last success, sink queue depth, jobs, running
sources) are computed when scraped. Labels are source ids, kinds, statuses and event types, never URLs,
so the number of series stays bounded. The server is a stdlib WSGI server on its own thread: it keeps
answering while the event loop is blocked, which is when /healthz matters (it reports the age of a
heartbeat the loop updates every second: 503 past 10 s).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from crawler.events import Event

__all__ = ["Metrics", "MetricsServer"]
logger = logging.getLogger(__name__)

HEARTBEAT_STALE_SECONDS = 10.0
_LAG_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900)
prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]  # no *_created series per counter


class Metrics:
    """The daemon's metrics, in a registry of their own (nothing process-global is registered)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.registry = CollectorRegistry()
        self._clock = clock
        self.heartbeat = time.monotonic()
        self._last_success: dict[str, float] = {}
        self._live: dict[str, Callable[[], float]] = {}
        self._fetches = Counter("crawler_fetches", "HTTP fetches by source, kind (feed, sitemap, listing, article, "
                                "recheck) and status ('none' when no answer came)", ["source", "kind", "status"], registry=self.registry)  # fmt: skip
        self._articles = Counter("crawler_articles", "Article pages by source and outcome (new, updated, unchanged, "
                                 "skipped, failed, removed)", ["source", "outcome"], registry=self.registry)  # fmt: skip
        self._events = Counter("crawler_events", "Events stored, by type", ["type"], registry=self.registry)
        self._runs = Counter(
            "crawler_runs",
            "Source runs by source and result (ok, failed)",
            ["source", "result"],
            registry=self.registry,
        )
        self._scheduler = Counter("crawler_scheduler_events", "Scheduler trouble: missed runs, skipped overlapping "
                                  "runs, job errors", ["kind"], registry=self.registry)  # fmt: skip
        self._lag = Histogram("crawler_run_start_lag_seconds", "Seconds from a source run being due (queued by the "
                              "scheduler) to a worker starting it", buckets=_LAG_BUCKETS, registry=self.registry)  # fmt: skip
        self._success = Gauge("crawler_source_last_success_timestamp_seconds", "Unix time of each source's last "
                              "successful run", ["source"], registry=self.registry)  # fmt: skip
        self.registry.register(_LiveCollector(self))

    # --- fed by the pipeline and the scheduler ------------------------------------------------------------

    def fetched(self, source_id: str, kind: str, status: int | None) -> None:
        self._fetches.labels(source_id, kind, str(status) if status is not None else "none").inc()

    def article_done(self, source_id: str, outcome: str) -> None:
        self._articles.labels(source_id, outcome).inc()

    def event(self, event: Event) -> None:
        self._events.labels(event.type).inc()

    def run_finished(self, source_id: str, ok: bool) -> None:
        self._runs.labels(source_id, "ok" if ok else "failed").inc()
        if ok:
            self.last_success(source_id, self._clock())

    def run_started_late(self, seconds: float) -> None:
        self._lag.observe(seconds)

    def last_success(self, source_id: str, timestamp: float) -> None:
        self._last_success[source_id] = timestamp
        self._success.labels(source_id).set(timestamp)

    def scheduler_trouble(self, kind: str) -> None:
        self._scheduler.labels(kind).inc()

    def live(self, name: str, read: Callable[[], float]) -> None:
        """A gauge read when scraped: crawler_<name> (queue depth, scheduled jobs, running sources)."""
        self._live[name] = read

    def beat(self) -> None:
        self.heartbeat = time.monotonic()

    def heartbeat_age(self) -> float:
        return time.monotonic() - self.heartbeat

    @staticmethod
    def parse_time(iso: str | None) -> float | None:
        return datetime.fromisoformat(iso).timestamp() if iso else None


class _LiveCollector(Collector):
    """Gauges computed at scrape time."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[GaugeMetricFamily]:
        lag = GaugeMetricFamily("crawler_source_lag_seconds", "Seconds since each source's last successful run",
                                labels=["source"])  # fmt: skip
        now = self._metrics._clock()
        for source_id, timestamp in sorted(self._metrics._last_success.items()):
            lag.add_metric([source_id], now - timestamp)
        yield lag
        yield GaugeMetricFamily("crawler_loop_heartbeat_age_seconds", "Seconds since the event loop last ran its "
                                "heartbeat", value=self._metrics.heartbeat_age())  # fmt: skip
        for name, read in sorted(self._metrics._live.items()):
            yield GaugeMetricFamily(f"crawler_{name}", name.replace("_", " "), value=read())


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - scrapes every few seconds: no log line each
        return


class MetricsServer:
    """/metrics and /healthz on 127.0.0.1:port from a daemon thread; ``close()`` stops it."""

    def __init__(self, metrics: Metrics, port: int) -> None:
        self._metrics = metrics
        self._prometheus = prometheus_client.make_wsgi_app(metrics.registry)
        self._server: WSGIServer = make_server("127.0.0.1", port, self._app, handler_class=_QuietHandler)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, name="metrics", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            return self._prometheus(environ, start_response)  # type: ignore[no-any-return]
        if path == "/healthz":
            age = self._metrics.heartbeat_age()
            healthy = age < HEARTBEAT_STALE_SECONDS
            body = json.dumps({"ok": healthy, "loop_heartbeat_age_s": round(age, 3)}).encode()
            start_response("200 OK" if healthy else "503 Service Unavailable", [("Content-Type", "application/json")])
            return [body]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"/metrics or /healthz\n"]

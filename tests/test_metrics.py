"""The daemon's /metrics and /healthz, scraped while it runs against the demo site."""

from __future__ import annotations

import json
import signal
import socket
import urllib.error
import urllib.request
from pathlib import Path

from conftest import count, free_port, site_source, start_daemon, wait_for, write_config
from prometheus_client.parser import text_string_to_metric_families

from crawler.demo.site import NewsSite


def scrape(port: int) -> dict[str, list[tuple[dict[str, str], float]]]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):  # the official parser: the exposition is valid
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def value(samples: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str) -> float:
    return sum(v for found, v in samples.get(name, []) if all(found.get(k) == want for k, want in labels.items()))


def test_metrics_and_healthz_describe_the_running_daemon(news_site: tuple[NewsSite, str], tmp_path: Path) -> None:
    site, base = news_site
    port = free_port()
    config = write_config(tmp_path, site_source(base), metrics_port=port)
    db = tmp_path / "crawler.db"
    arabic = sum(1 for a in site.articles() if a.language == "ar")
    daemon = start_daemon(config)
    try:
        assert wait_for(lambda: count(db, "SELECT count(*) FROM articles") == arabic)
        assert wait_for(lambda: count(db, "SELECT count(*) FROM sources WHERE last_success_at IS NOT NULL") == 1)
        samples = scrape(port)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            health = json.loads(response.read())
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/other", timeout=5)
            raise AssertionError("an unknown path answered")
        except urllib.error.HTTPError as error:
            assert error.code == 404
        assert daemon.poll() is None
    finally:
        daemon.send_signal(signal.SIGTERM)
        output, _ = daemon.communicate(timeout=30)
    assert daemon.returncode == 0, output[-2000:]
    assert value(samples, "crawler_articles_total", source="demo", outcome="new") == arabic
    assert value(samples, "crawler_events_total", type="article_new") == arabic
    assert value(samples, "crawler_fetches_total", source="demo", kind="article", status="200") == arabic
    assert value(samples, "crawler_fetches_total", source="demo", kind="feed") >= 1
    assert value(samples, "crawler_runs_total", source="demo", result="ok") >= 1
    assert 0 <= value(samples, "crawler_source_lag_seconds", source="demo") < 60
    assert value(samples, "crawler_source_last_success_timestamp_seconds", source="demo") > 1.7e9
    assert value(samples, "crawler_scheduled_jobs") == 1 and "crawler_sink_queue_depth" in samples
    assert not any(name.endswith("_created") for name in samples)
    assert health["ok"] is True and health["loop_heartbeat_age_s"] < 5


def test_a_busy_metrics_port_is_reported_and_the_daemon_runs_on(
    news_site: tuple[NewsSite, str], tmp_path: Path
) -> None:
    _, base = news_site
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        config = write_config(tmp_path, site_source(base), metrics_port=taken.getsockname()[1])
        daemon = start_daemon(config)
        try:
            assert wait_for(lambda: count(tmp_path / "crawler.db", "SELECT count(*) FROM articles") > 0)
            assert daemon.poll() is None
        finally:
            daemon.send_signal(signal.SIGTERM)
            output, _ = daemon.communicate(timeout=30)
    assert daemon.returncode == 0 and "running without /metrics" in output, output[-2000:]

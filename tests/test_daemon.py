"""The daemon as a user runs it: `crawler run` in a subprocess, signals, reload, a failing source."""

from __future__ import annotations

import json
import signal
import time
from dataclasses import replace
from pathlib import Path

from conftest import count, site_source, start_daemon, wait_for, write_config
from pytest_httpserver import HTTPServer

from crawler.demo.site import NewsSite
from crawler.store.sqlite import SyncSqlite
from crawler.store.values import FetchRecord


def test_daemon_collects_survives_a_failing_source_reloads_and_stops_cleanly(
    news_site: tuple[NewsSite, str], tmp_path: Path, httpserver: HTTPServer
) -> None:
    site, base = news_site
    httpserver.expect_request("/feed.xml").respond_with_data("boom", status=503)
    broken = site_source(base, "broken", feeds=f'["{httpserver.url_for("/feed.xml")}"]', listing_pages="[]")
    config = write_config(tmp_path, site_source(base) + broken, log_format="json", failure_threshold=2)
    db = tmp_path / "crawler.db"
    daemon = start_daemon(config)
    try:
        arabic = sum(1 for a in site.articles() if a.language == "ar")
        assert wait_for(lambda: count(db, "SELECT count(*) FROM articles") == arabic), "articles not collected"
        assert wait_for(lambda: count(db, "SELECT count(*) FROM events WHERE type = 'source_failing'") == 1)

        site.add_article()
        site.add_article()
        site.add_article()
        arabic = sum(1 for a in site.articles() if a.language == "ar")
        assert wait_for(lambda: count(db, "SELECT count(*) FROM articles") == arabic), "new article not picked up"

        # SIGHUP with an empty file (not "remove every source") or a broken config keeps the running one;
        # a good config adds a source.
        good = config.read_text()
        config.write_text("")
        daemon.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        site.add_article()
        site.add_article()
        arabic = sum(1 for a in site.articles() if a.language == "ar")
        assert wait_for(lambda: count(db, "SELECT count(*) FROM articles") == arabic), (
            "sources dropped by an empty reload"
        )
        config.write_text(good + "[[sources]]\nid = 'x'\nbogus = 1\n")
        daemon.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        extra = site_source(base, "english", feeds="[]", listing_pages=f'["{base}/section/english/"]')
        config.write_text(good + extra)
        daemon.send_signal(signal.SIGHUP)
        english = sum(1 for a in site.articles() if a.language == "en")
        assert wait_for(lambda: count(db, "SELECT count(*) FROM articles WHERE source_id = 'english'") == english)
        assert daemon.poll() is None, "the daemon died"
    finally:
        daemon.send_signal(signal.SIGTERM)
        output, _ = daemon.communicate(timeout=30)
    assert daemon.returncode == 0, output
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    messages = [line["msg"] for line in lines]
    assert any(m.startswith("reload refused") for m in messages), output[-3000:]
    assert any(m.startswith("reload refused") and "no [[sources]] table" in m for m in messages), output[-3000:]
    assert any("'added': ['english']" in m for m in messages), output[-3000:]
    assert any(line.get("event") == "fetch_failed" and line.get("source") == "broken" for line in lines)
    assert messages[-1].startswith("daemon stopped")


def test_many_sources_start_spread_out_rather_than_all_at_once() -> None:
    """10,000 sources would all run within 30 s of a start; their first runs spread to 20 a second."""
    from datetime import UTC, datetime, timedelta

    from crawler.config import SourceConfig
    from crawler.schedule import first_run_spread, make_trigger

    assert first_run_spread(12) == timedelta(seconds=30)
    assert first_run_spread(10_000) == timedelta(seconds=500)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    source = SourceConfig(id="s", name="S", feeds=["https://e.example/feed"], interval="15m")
    firsts = [make_trigger(source, now, spread=first_run_spread(10_000)).get_next_fire_time(None, now)
              for _ in range(400)]  # fmt: skip
    offsets = sorted((first - now).total_seconds() for first in firsts)
    assert offsets[0] >= 0 and offsets[-1] <= 500 + 90  # the spread, plus the interval's jitter
    assert offsets[len(offsets) // 2] > 100  # not bunched at the start


def test_a_first_run_whose_time_passed_while_jobs_were_added_runs_at_once() -> None:
    """Adding 10,000 jobs takes seconds; a first run due in that time must not wait a whole interval."""
    import asyncio
    from datetime import UTC, datetime, timedelta

    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from crawler.config import SourceConfig
    from crawler.schedule import first_run, make_trigger

    source = SourceConfig(id="s", name="S", feeds=["https://e.example/feed"], interval="1h")
    earlier = datetime.now(UTC) - timedelta(seconds=20)
    trigger = make_trigger(source, earlier, spread=timedelta(seconds=5))  # due 15-20 s ago

    async def scheduled() -> tuple[datetime | None, datetime | None]:
        scheduler = AsyncIOScheduler(timezone=UTC)
        left_to_trigger = scheduler.add_job(print, trigger, id="a", misfire_grace_time=3600)
        explicit = scheduler.add_job(print, trigger, id="b", misfire_grace_time=3600, **first_run(trigger))
        scheduler.start(paused=True)
        try:
            return left_to_trigger.next_run_time, explicit.next_run_time
        finally:
            scheduler.shutdown(wait=False)

    left_to_trigger, explicit = asyncio.run(scheduled())
    assert left_to_trigger is not None and left_to_trigger > datetime.now(UTC) + timedelta(minutes=50)  # the bug
    assert explicit is not None and explicit <= datetime.now(UTC)  # due now: runs at once


def test_the_daemon_prunes_the_fetch_log_past_fetch_log_days(news_site: tuple[NewsSite, str], tmp_path: Path) -> None:
    _, base = news_site
    config = write_config(tmp_path, site_source(base), fetch_log_days=30)
    db = tmp_path / "crawler.db"
    store = SyncSqlite(db)
    old = FetchRecord("2020-01-01T00:00:00.000+00:00", "demo", f"{base}/old/", "article", 200, "ok", None, None, None)
    for _ in range(12_000):  # more than one chunk of prune_fetches
        store.record_fetch(old)
    store.record_fetch(replace(old, ts="2999-01-01T00:00:00.000+00:00"))  # "recent": kept
    store.close()
    daemon = start_daemon(config)
    try:
        assert wait_for(lambda: count(db, "SELECT count(*) FROM fetches WHERE ts < '2021'") == 0), "old rows kept"
        assert wait_for(lambda: count(db, "SELECT count(*) FROM articles") > 0)
    finally:
        daemon.send_signal(signal.SIGTERM)
        output, _ = daemon.communicate(timeout=30)
    assert daemon.returncode == 0, output
    assert "fetch log: removed 12000 rows older than 30 days" in output
    assert count(db, "SELECT count(*) FROM fetches WHERE ts >= '2999'") == 1

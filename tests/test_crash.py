"""Crash safety: kill -9 at random moments while the daemon writes, with readers reading meanwhile."""

from __future__ import annotations

import os
import random
import resource
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import count, query, serving, site_source, start_daemon, wait_for, write_config
from test_pipeline import crawl

from crawler.demo.site import NewsSite

KILLS = 20

# Each is a count of broken rows; all must stay 0 after every kill.
INVARIANTS = {
    "duplicate canonical URL": "SELECT count(*) - count(DISTINCT canonical_url) FROM articles",
    "article without its versions": "SELECT count(*) FROM articles a WHERE a.versions !="
    " (SELECT count(*) FROM article_versions v WHERE v.article_id = a.id)",
    "article without exactly one article_new event": "SELECT count(*) FROM articles a WHERE"
    " (SELECT count(*) FROM events e WHERE e.type = 'article_new' AND e.article_id = a.id) != 1",
    "half-written article": "SELECT count(*) FROM articles WHERE body IS NULL OR length(body) < 80"
    " OR content_hash IS NULL OR title IS NULL",
    "search index out of step": "SELECT abs((SELECT count(*) FROM articles) - (SELECT count(*) FROM articles_fts))",
}


class Readers:
    """Threads reading the database as a user's sqlite3 or Datasette would, recording every error."""

    def __init__(self, db: Path, threads: int = 2) -> None:
        self._db = db
        self._stop = threading.Event()
        self.errors: list[str] = []
        self.reads = 0
        self._threads = [threading.Thread(target=self._read, daemon=True) for _ in range(threads)]

    def __enter__(self) -> Readers:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)

    def _read(self) -> None:
        while not self._stop.is_set():
            if not self._db.exists():
                time.sleep(0.05)
                continue
            try:
                conn = sqlite3.connect(f"file:{self._db}?mode=ro", uri=True)  # Datasette's way: read-only
                try:
                    conn.execute("SELECT count(*), max(id) FROM articles").fetchone()
                    conn.execute("SELECT type, count(*) FROM events GROUP BY type").fetchall()
                    conn.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH 'العراق' LIMIT 5").fetchall()
                    self.reads += 1
                finally:
                    conn.close()
            except sqlite3.OperationalError as exc:
                if "no such table" not in str(exc):  # before the daemon's first migration
                    self.errors.append(str(exc))
            time.sleep(0.01)


def test_kill_9_at_random_moments_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    rng = random.Random(20261129)
    site = NewsSite(articles=40)
    db = tmp_path / "crawler.db"
    kills_mid_crawl = 0
    with serving(site) as base, Readers(db) as readers:
        source = site_source(base, sitemaps=f'["{base}/sitemap.xml"]', article_url_pattern="'/story-'")
        config = write_config(tmp_path, source, per_host_delay="20ms")  # a crawl long enough to be cut
        for kill in range(KILLS):
            for _ in range(12):  # new articles and edits keep every restart busy writing
                site.add_article()
            site.edit_article(rng.randint(1, 40))
            fetches_before = count(db, "SELECT count(*) FROM fetches")
            daemon = start_daemon(config)
            # once it has started fetching (the interpreter alone takes about 0.5 s), at a random moment
            started = lambda before=fetches_before: count(db, "SELECT count(*) FROM fetches") > before  # noqa: E731
            assert wait_for(started, timeout=15, step=0.02)
            time.sleep(rng.uniform(0, 1.2))
            daemon.send_signal(signal.SIGKILL)
            output, _ = daemon.communicate(timeout=10)
            assert daemon.returncode == -signal.SIGKILL
            assert "locked" not in output and "Traceback" not in output, output[-2000:]  # the writer's side
            unfinished = count(db, "SELECT count(*) FROM articles") < len(site.articles())
            kills_mid_crawl += unfinished and count(db, "SELECT count(*) FROM fetches") > fetches_before
            assert query(db, "PRAGMA integrity_check") == [("ok",)], f"kill {kill}"
            broken = {name: count(db, sql) for name, sql in INVARIANTS.items()}
            assert not any(broken.values()), f"kill {kill}: {broken}"

        config = write_config(tmp_path, source)  # no delay: the last run only has to finish
        crawl(config)  # the next run completes the collection
        everything = len(site.articles())
        assert query(db, "SELECT count(*), count(DISTINCT canonical_url) FROM articles") == [(everything, everything)]
        assert {name: count(db, sql) for name, sql in INVARIANTS.items()} == dict.fromkeys(INVARIANTS, 0)
        [again] = crawl(config)
        assert again.new == 0
    assert kills_mid_crawl >= KILLS // 2, f"only {kills_mid_crawl} of {KILLS} kills landed during a crawl"
    assert readers.reads > 100 and readers.errors == [], readers.errors[:5]


def run_crawler(
    args: list[str], prefix: list[str] | None = None, file_size_limit: int | None = None
) -> subprocess.CompletedProcess[str]:
    """`crawler ARGS` in a subprocess, optionally under a command prefix or a file size limit (RLIMIT_FSIZE:
    the kernel refuses writes past it, as a full disk would)."""

    def limit() -> None:
        if file_size_limit is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) instead of killing
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    command = [*(prefix or []), sys.executable, "-m", "crawler", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, preexec_fn=limit)  # noqa: PLW1509


def assert_consistent(db: Path) -> None:
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    assert {name: count(db, sql) for name, sql in INVARIANTS.items()} == dict.fromkeys(INVARIANTS, 0)


def test_a_full_disk_stops_the_daemon_with_a_clear_error_and_loses_nothing_stored(tmp_path: Path) -> None:
    site = NewsSite(articles=150)
    db = tmp_path / "crawler.db"
    with serving(site) as base:
        config = write_config(tmp_path, site_source(base, sitemaps=f'["{base}/sitemap.xml"]',
                                                    article_url_pattern="'/story-'"))  # fmt: skip
        daemon = run_crawler(["run", "--config", str(config)], file_size_limit=2_000_000)
        assert daemon.returncode == 1, daemon.stderr[-2000:]
        last_line = daemon.stderr.strip().splitlines()[-1]
        assert last_line.startswith(f"crawler: database {db}: ") and "the disk refused a write" in last_line
        assert "refused a write, stopping" in daemon.stderr and "Traceback" not in daemon.stderr
        stored = count(db, "SELECT count(*) FROM articles")
        assert 0 < stored < len(site.articles())
        assert_consistent(db)

        crawl(config)  # space again: the collection completes, each article once
        assert query(db, "SELECT count(*), count(DISTINCT canonical_url) FROM articles") == [(150, 150)]
        assert_consistent(db)


def test_a_read_only_database_is_a_clear_error_and_a_non_zero_exit(tmp_path: Path) -> None:
    site = NewsSite(articles=6)
    db = tmp_path / "crawler.db"
    with serving(site) as base:
        config = write_config(tmp_path, site_source(base))
        crawl(config)
        site.add_article()
        site.add_article()
        stored = count(db, "SELECT count(*) FROM articles")
        if os.geteuid() == 0:  # root ignores file modes: a read-only bind mount in a private mount namespace
            if subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode != 0:
                pytest.skip("running as root without mount namespaces: no way to make a file read-only for root")
            remount = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'
            results = [run_crawler([command, "--config", str(config)], ["unshare", "-m", "sh", "-c", remount, str(tmp_path)])
                       for command in ("crawl", "run")]  # fmt: skip
        else:
            tmp_path.chmod(0o555)
            db.chmod(0o444)
            try:
                results = [run_crawler([command, "--config", str(config)]) for command in ("crawl", "run")]
            finally:
                tmp_path.chmod(0o755)
                db.chmod(0o644)
    for result in results:
        assert result.returncode == 1, result.stderr[-2000:]
        assert f"{db}: cannot open the database" in result.stderr and "read-only for this user?" in result.stderr
    assert count(db, "SELECT count(*) FROM articles") == stored
    assert_consistent(db)

"""Crash safety: kill -9 at random moments while the daemon writes, with readers reading meanwhile."""

from __future__ import annotations

import random
import signal
import sqlite3
import threading
import time
from pathlib import Path

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
            daemon.communicate(timeout=10)
            assert daemon.returncode == -signal.SIGKILL
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

"""The web misbehaving: every fault of crawler/demo/faults.py against the real pipeline and the daemon.

For each fault: the failure is recorded with a clear reason, only retryable failures are retried, size
and time caps hold, and once the site heals every article is collected exactly once.
"""

from __future__ import annotations

import asyncio
import signal
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import count, query, site_source, start_daemon, wait_for, write_config
from test_pipeline import crawl

from crawler.config import CrawlerSettings
from crawler.demo.faults import FAULTS, FaultySite, serve_faulty
from crawler.errors import TooLargeError
from crawler.fetch import Fetcher
from crawler.urls import UrlPolicy

RETRIES = 1
MAX_REDIRECTS = 5
CAP = 1_000_000
# fault → (fetches.outcome, words of fetches.error, requests the site saw for the URL, article stored)
EXPECTED: dict[str, tuple[str, str, int, bool]] = {
    "http-500": ("failed", "HTTP 500", 1 + RETRIES, False),
    "http-502": ("failed", "HTTP 502", 1 + RETRIES, False),
    "http-503": ("failed", "HTTP 503", 1 + RETRIES, False),
    "http-429": ("failed", "HTTP 429", 1 + RETRIES, False),
    "http-429-retry-after": ("failed", "HTTP 429", 1 + RETRIES, False),
    "http-403": ("failed", "HTTP 403", 1, False),
    "slow-headers": ("failed", "no complete answer within timeout", 1 + RETRIES, False),
    "trickle": ("failed", "no complete answer within timeout", 1 + RETRIES, False),
    "reset": ("failed", "reset or closed by the server", 1 + RETRIES, False),
    "truncated": ("failed", "without sending complete message body", 1 + RETRIES, False),
    "bad-gzip": ("failed", "undecodable response body", 1, False),
    "gzip-bomb": ("failed", f"body is over max_page_bytes {CAP}", 1, False),
    "redirect-loop": ("failed", "redirect loop", 2, False),  # the URL and the one it redirects to
    "redirect-chain": ("failed", f"more than {MAX_REDIRECTS} redirects", 1 + MAX_REDIRECTS, False),
    "huge-body": ("failed", f"body is over max_page_bytes {CAP}", 1, False),
    "wrong-content-type": ("ok", "", 1, True),  # HTML with a wrong label is still HTML
    "binary": ("unusable", "Content-Type image/jpeg is not HTML", 1, False),
    "invalid-utf8": ("ok", "", 1, True),
    "empty": ("unusable", "empty body", 1, False),
    "not-article": ("unusable", "no article text", 1, False),
}


@pytest.fixture
def faulty_site() -> Iterator[tuple[FaultySite, str]]:
    site = FaultySite(articles=33, slow_seconds=1.5)  # 22 Arabic ones: one per fault, two healthy
    server, thread = serve_faulty(site)
    try:
        yield site, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        site.closing.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def break_every_route(site: FaultySite) -> dict[str, str]:
    """One Arabic article per fault (the feed gets malformed-xml): path → fault."""
    arabic = [a for a in site.articles() if a.language == "ar"]
    broken = dict(zip([a.path for a in arabic], EXPECTED))
    assert len(broken) == len(EXPECTED) < len(arabic), "the site needs a healthy article too"
    for path, fault in broken.items():
        site.break_path(path, fault)
    site.break_path("/feed.xml", "malformed-xml")
    return broken


def test_every_fault_is_recorded_with_its_reason_and_only_retryable_ones_are_retried(
    faulty_site: tuple[FaultySite, str], tmp_path: Path
) -> None:
    assert set(EXPECTED) | {"malformed-xml"} == set(FAULTS), "a fault without an expectation"
    site, base = faulty_site
    broken = break_every_route(site)
    config = write_config(tmp_path, site_source(base), timeout="500ms", max_page_bytes=CAP, retries=RETRIES,
                          max_redirects=MAX_REDIRECTS)  # fmt: skip
    db = tmp_path / "crawler.db"

    [summary] = crawl(config)
    assert summary.ok and summary.error is None  # faulty pages never fail the run
    stored = {url for (url,) in query(db, "SELECT url FROM articles")}
    for path, fault in broken.items():
        outcome, reason, requests, kept = EXPECTED[fault]
        rows = query(db, "SELECT outcome, error FROM fetches WHERE url = ? AND kind = 'article'", (base + path,))
        assert [row[0] for row in rows] == [outcome], (fault, rows)
        assert reason in (rows[0][1] or ""), (fault, rows)
        assert site.requests(path) == requests, (fault, site.requests(path))
        assert (base + path in stored) == kept, fault
    # the feed was cut in half: its links up to there are used, and the problem is on record
    feed = query(db, "SELECT outcome, error FROM fetches WHERE kind = 'feed'")
    assert feed[0][0] == "ok" and feed[0][1].startswith("malformed feed, ")
    failed_events = count(db, "SELECT count(*) FROM events WHERE type = 'fetch_failed'")
    assert failed_events == sum(1 for fault in broken.values() if EXPECTED[fault][0] == "failed")
    # size caps: the 50 MB page was cut off near the cap (plus socket buffers), not read to the end
    huge = next(path for path, fault in broken.items() if fault == "huge-body")
    assert site.sent_bytes(huge) < 20_000_000
    invalid = next(path for path, fault in broken.items() if fault == "invalid-utf8")
    (body,) = query(db, "SELECT body FROM articles WHERE url = ?", (base + invalid,))[0]
    assert body.count("\ufffd") <= 4 and "وزارة" in body or "الحكومة" in body or "مجلس" in body  # still Arabic

    site.heal()
    crawl(config)
    arabic = [a for a in site.articles() if a.language == "ar"]
    assert query(db, "SELECT count(*), count(DISTINCT canonical_url) FROM articles") == [(len(arabic), len(arabic))]
    assert count(db, "SELECT count(*) FROM events WHERE type = 'article_new'") == len(arabic)
    assert count(db, "SELECT count(*) FROM events WHERE type = 'article_updated'") == 0
    [again] = crawl(config)
    assert again.new == 0 and again.failed == 0


@pytest.mark.parametrize("fault", ["huge-body", "gzip-bomb"])
def test_size_caps_keep_memory_bounded(faulty_site: tuple[FaultySite, str], fault: str) -> None:
    """A 50 MB page and 64 MB of gzipped zeros, under a 1 MB cap: refused, and never held in memory."""
    site, base = faulty_site
    article = site.articles()[0]
    site.break_path(article.path, fault)

    async def fetch() -> None:
        settings = CrawlerSettings(allow_private_addresses=True, max_page_bytes=CAP, obey_robots=False, retries=0)
        fetcher = Fetcher(settings)
        try:
            await fetcher.fetch(base + article.path, UrlPolicy(("127.0.0.1",)))
        finally:
            await fetcher.aclose()

    site.gzip_bomb()  # made before measuring: the server runs in this process
    tracemalloc.start()
    try:
        with pytest.raises(TooLargeError, match="max_page_bytes"):
            asyncio.run(fetch())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * CAP + 2_000_000, f"peak {peak / 1e6:.1f} MB for a {CAP / 1e6:.0f} MB cap"


def test_the_daemon_keeps_running_through_every_fault_and_completes_once_healed(
    faulty_site: tuple[FaultySite, str], tmp_path: Path
) -> None:
    site, base = faulty_site
    broken = break_every_route(site)
    config = write_config(tmp_path, site_source(base), timeout="500ms", max_page_bytes=CAP, retries=RETRIES,
                          max_redirects=MAX_REDIRECTS, log_format="json")  # fmt: skip
    db = tmp_path / "crawler.db"
    failing = sum(1 for fault in broken.values() if EXPECTED[fault][0] != "ok")
    arabic = sum(1 for a in site.articles() if a.language == "ar")
    daemon = start_daemon(config)
    try:
        # every faulty URL tried at least twice (two runs), and the healthy articles all stored
        assert wait_for(lambda: count(db, "SELECT count(*) FROM fetches WHERE outcome IN ('failed', 'unusable')"
                                          " AND kind = 'article'") >= 2 * failing, timeout=40)  # fmt: skip
        assert count(db, "SELECT count(*) FROM articles") == arabic - failing
        assert daemon.poll() is None, "the daemon died"
        site.heal()
        assert wait_for(lambda: count(db, "SELECT count(*) FROM articles") == arabic, timeout=40)
        assert daemon.poll() is None, "the daemon died"
    finally:
        daemon.send_signal(signal.SIGTERM)
        output, _ = daemon.communicate(timeout=30)
    assert daemon.returncode == 0, output[-3000:]
    assert query(db, "SELECT count(DISTINCT canonical_url) FROM articles") == [(arabic,)]
    assert "Traceback" not in output, output[-3000:]

"""Shared fixtures: a real demo news site on 127.0.0.1, real config files and SQLite databases in tmp_path."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from crawler.demo.site import NewsSite, serve

TESTS = Path(__file__).parent


@contextmanager
def serving(site: NewsSite) -> Iterator[str]:
    """Serve a demo site on a free port of 127.0.0.1 for the duration of the block: its base URL."""
    server, thread = serve(site, 0)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def news_site() -> Iterator[tuple[NewsSite, str]]:
    """A fresh demo site with 6 articles, served on a free port: (site, base URL)."""
    site = NewsSite(articles=6)
    with serving(site) as base:
        yield site, base


def write_config(tmp_path: Path, sources: str, **crawler: object) -> Path:
    """A real TOML config in tmp_path with a test-friendly [crawler] table plus the given sources."""
    settings = {
        "database": str(tmp_path / "crawler.db"),
        "per_host_delay": "0s",
        "retries": 1,
        "retry_backoff": "10ms",
        "timeout": "5s",
        "allow_private_addresses": True,
        "per_host_concurrency": 4,
        "metrics_port": 0,  # tests that want /metrics pick a free port
        "parse_processes": 0,  # threads: a worker pool per crawl would add its start-up to every test
        **crawler,
    }
    lines = ["[crawler]"]
    for key, value in settings.items():
        lines.append(f"{key} = {_toml(value)}")
    path = tmp_path / "crawler.toml"
    path.write_text("\n".join(lines) + "\n\n" + sources, encoding="utf-8")
    return path


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def site_source(base: str, source_id: str = "demo", **extra: str) -> str:
    """A [[sources]] table for the demo site's Arabic feed and home page."""
    fields = {
        "id": f'"{source_id}"',
        "name": '"Demo"',
        "feeds": f'["{base}/feed.xml"]',
        "listing_pages": f'["{base}/"]',
        "article_url_pattern": r"'/\d{4}/\d{2}/\d{2}/'",
        "interval": '"1s"',
        "recheck_interval": '"0s"',
        "language": '"ar"',
        "timezone": '"Asia/Baghdad"',
        **extra,
    }
    return "[[sources]]\n" + "\n".join(f"{k} = {v}" for k, v in fields.items()) + "\n\n"


def query(db_path: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Read the database the way a user would: a separate sqlite3 connection."""
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def start_daemon(config: Path) -> subprocess.Popen[str]:
    """`crawler run` as a user starts it, output (stderr too) on a pipe."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "crawler", "run", "--config", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip


def wait_for(predicate: Callable[[], bool], timeout: float = 20.0, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def count(db: Path, sql: str) -> int:
    if not db.exists():
        return 0
    try:
        return int(query(db, sql)[0][0])
    except Exception:  # the daemon may not have created the tables yet
        return 0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """A PostgreSQL server for the tests: the one CI started (``$CRAWLER_TEST_POSTGRES``), else a
    throwaway cluster started here (crawler/demo/postgres.py); each test gets a database of its own."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._made = 0

    def database(self) -> str:
        from crawler.demo.postgres import create_database

        self._made += 1
        return create_database(self.dsn, f"test_{os.getpid()}_{self._made}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """Skipped without PostgreSQL on a developer's machine; under CI=true its absence is a failure."""
    given = os.environ.get("CRAWLER_TEST_POSTGRES")
    if given:
        yield PostgresServer(given)
        return
    from crawler.demo.postgres import find_binaries, local_postgres

    if find_binaries() is None:
        reason = "PostgreSQL is not installed (apt-get install postgresql), or set CRAWLER_TEST_POSTGRES"
        if os.environ.get("CI") == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    with local_postgres() as cluster:
        yield PostgresServer(cluster.dsn)


@pytest.fixture
def postgres_database(postgres_server: PostgresServer) -> str:
    """The DSN of a new, empty database on the test PostgreSQL server."""
    return postgres_server.database()

"""The crawl on several processes sharing one PostgreSQL database: `crawler run` queues the due sources,
`crawler worker` processes run them. Real processes, a real PostgreSQL (a throwaway cluster the test run
starts), real signals; the site is a small server here that records when each request arrived."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import psycopg
import pytest
from conftest import wait_for, write_config

from crawler.cluster.turns import SharedTurns
from crawler.store import open_store

SENTENCE = "The council approved the budget after a long debate about schools, roads and the new hospital."


class RecordingSite:
    """Listing pages /list/<n> of ``per_list`` article links each; every request's arrival time kept."""

    def __init__(self, lists: int, per_list: int, article_seconds: float = 0.0) -> None:
        self.lists, self.per_list, self.article_seconds = lists, per_list, article_seconds
        self.arrivals: list[tuple[float, str]] = []
        self._lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                with site._lock:
                    site.arrivals.append((time.monotonic(), self.path))
                status, body = site.page(self.path)
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def page(self, path: str) -> tuple[int, bytes]:
        if path.startswith("/list/"):
            number = int(path.rsplit("/", 1)[1])
            links = "".join(f'<a href="/news/{number}-{i}">Story {number}-{i}</a>' for i in range(self.per_list))
            return 200, f"<html><body>{links}</body></html>".encode()
        if path.startswith("/news/"):
            time.sleep(self.article_seconds)
            name = path.rsplit("/", 1)[1]
            body = f"<p>{SENTENCE} Story {name}.</p><p>{SENTENCE}</p><p>{SENTENCE} ({name})</p>"
            return (
                200,
                f"<html><head><title>Story {name}</title></head><body><article><h1>Story {name}</h1>{body}</article></body></html>".encode(),
            )
        return 404, b"not here"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def sources(site: RecordingSite) -> str:
    return "".join(
        f'[[sources]]\nid = "list{n}"\nname = "List {n}"\nlisting_pages = ["{site.base}/list/{n}"]\n'
        f'article_url_pattern = "/news/"\ninterval = "1s"\n\n'
        for n in range(site.lists)
    )


def start(command: str, config: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "crawler", command, "--config", str(config), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip


def scalar(dsn: str, sql: str) -> int:
    try:
        with psycopg.connect(dsn) as conn:
            row = conn.execute(sql).fetchone()  # type: ignore[arg-type]
    except psycopg.Error:
        return 0  # tables not made yet
    return int(row[0]) if row else 0


def stop(*processes: subprocess.Popen[str]) -> list[str]:
    outputs = []
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            outputs.append(process.communicate(timeout=60)[0])
        except subprocess.TimeoutExpired:
            process.kill()
            outputs.append(process.communicate()[0])
    return outputs


@pytest.fixture
def site() -> Iterator[RecordingSite]:
    recording = RecordingSite(lists=2, per_list=8)
    yield recording
    recording.close()


def test_workers_share_the_crawl_each_article_once_and_one_host_at_its_delay(
    site: RecordingSite, postgres_database: str, tmp_path: Path
) -> None:
    delivered = tmp_path / "delivered.jsonl"
    script = f"import sys; open({str(delivered)!r}, 'a').write(sys.stdin.read().strip() + chr(10))"
    sink = f'[[sinks]]\ntype = "command"\ncommand = [{json.dumps(sys.executable)}, "-c", {json.dumps(script)}]\n'
    sink += 'events = ["article_new"]\n'
    config = write_config(tmp_path, sources(site) + sink, database=postgres_database, per_host_delay="0.3s")
    scheduler = start("run", config)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    workers = [start("worker", config, "--concurrency", "1", *(["--metrics-port", str(port)] if n == 0 else []))
               for n in range(2)]  # fmt: skip  # both needed at once
    lines = lambda: delivered.read_text().splitlines() if delivered.exists() else []  # noqa: E731
    try:
        assert wait_for(lambda: scalar(postgres_database, "SELECT count(*) FROM articles") == 16, timeout=90), (
            "not all stored"
        )
        assert wait_for(lambda: len(lines()) >= 16, timeout=30), f"{len(lines())} events reached the sink"
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()["ok"] is True
    finally:
        outputs = stop(*workers, scheduler)
    assert all("Traceback" not in output for output in outputs), outputs
    assert [process.returncode for process in (*workers, scheduler)] == [0, 0, 0], outputs
    assert scalar(postgres_database, "SELECT count(*) FROM events WHERE type = 'article_new'") == 16
    assert scalar(postgres_database, "SELECT count(DISTINCT canonical_url) FROM articles") == 16
    lag_count = float(re.search(r"^crawler_run_start_lag_seconds_count (\S+)$", metrics, re.M)[1])  # type: ignore[index]
    ran = [output.count("source list") for output in outputs[:2]]
    assert all(ran), f"both workers ran sources: {ran}"  # the crawl was shared
    assert lag_count > 0  # the first worker measured how late its runs started
    sent = [json.loads(line) for line in lines()]  # by the scheduler, from the stream: each event once
    assert (
        len(sent) == 16 and len({event["id"] for event in sent}) == 16 and {e["type"] for e in sent} == {"article_new"}
    )
    starts = sorted(at for at, _ in site.arrivals)
    gaps = [later - earlier for earlier, later in zip(starts, starts[1:])]
    assert min(gaps) >= 0.25, f"two requests to one host {min(gaps):.3f} s apart"  # 0.3 s, less the clock's jitter


def test_a_turn_that_starts_late_holds_back_the_next_one(postgres_database: str) -> None:
    """Turns are reserved ahead; a worker that wakes late (a loaded machine) must not start closer than the
    delay to the next worker's on-time turn: the next one is told to wait the rest."""

    async def run() -> tuple[float, float, float, float]:
        store = await open_store(postgres_database)  # creates host_turns
        await store.close()
        first, second = await SharedTurns.open(postgres_database), await SharedTurns.open(postgres_database)
        try:
            assert await first.reserve("site.example", 0.4) == 0.0
            later = await second.reserve("site.example", 0.4)  # the next turn, 0.4 s on
            await asyncio.sleep(0.2)  # the first worker wakes 0.2 s late
            first_start = await first.start("site.example", 0.4)
            await asyncio.sleep(later - 0.2)  # the second worker's turn comes on time
            held = await second.start("site.example", 0.4)
            await asyncio.sleep(held)
            return later, first_start, held, await second.start("site.example", 0.4)
        finally:
            await first.aclose()
            await second.aclose()

    later, first_start, held, then = asyncio.run(run())
    assert 0.3 < later <= 0.4 and first_start == 0.0
    assert 0.1 < held <= 0.2, held  # the rest of the delay after the late start
    assert then == 0.0


def test_a_worker_killed_mid_run_loses_nothing_and_a_stopped_one_finishes_its_runs(
    postgres_database: str, tmp_path: Path
) -> None:
    slow = RecordingSite(lists=1, per_list=10, article_seconds=0.5)
    try:
        config = write_config(tmp_path, sources(slow), database=postgres_database)
        scheduler = start("run", config)
        doomed = start("worker", config)
        try:
            assert wait_for(lambda: scalar(postgres_database, "SELECT count(*) FROM articles") >= 2, timeout=60)
            doomed.kill()  # SIGKILL mid-run: no clean-up, no heartbeat any more
            doomed.communicate()  # reaps it and closes its pipe
            survivor = start("worker", config)
            stored = lambda: scalar(postgres_database, "SELECT count(*) FROM articles")  # noqa: E731
            assert wait_for(lambda: stored() == 10, timeout=90), f"{stored()} of 10 stored"
            survivor.send_signal(signal.SIGTERM)
            output = survivor.communicate(timeout=60)[0]
            assert survivor.returncode == 0 and "worker stopped after" in output, output
        finally:
            stop(scheduler)
    finally:
        slow.close()
    assert scalar(postgres_database, "SELECT count(*) FROM events WHERE type = 'article_new'") == 10
    assert scalar(postgres_database, "SELECT count(*) FROM article_versions") == 10


def test_workers_and_the_scheduler_ride_out_a_postgresql_restart(tmp_path: Path) -> None:
    """PostgreSQL stopped as by a crash and started again: the same worker and scheduler processes go on,
    and what the site publishes afterwards is stored (their own cluster: the shared one is not restarted)."""
    from crawler.demo.postgres import find_binaries, local_postgres

    if find_binaries() is None:
        pytest.skip("PostgreSQL is not installed")  # the other tests of this file say so under CI=true
    site = RecordingSite(lists=1, per_list=4)
    try:
        with local_postgres() as postgres:
            database = postgres.database("restart")
            # a run that outlives run_timeout is one its worker lost track of (the database went away as
            # it finished): the scheduler queues it again
            config = write_config(tmp_path, sources(site), database=database, run_timeout="2s")
            scheduler, worker = start("run", config), start("worker", config)
            stored = lambda: scalar(database, "SELECT count(*) FROM articles")  # noqa: E731
            try:
                assert wait_for(lambda: stored() == 4, timeout=60), f"{stored()} of 4 stored"
                postgres.restart()
                site.per_list = 8  # published while the database was away
                recovered = wait_for(lambda: stored() == 8, timeout=90)
                alive = worker.poll() is None and scheduler.poll() is None
            finally:
                outputs = stop(worker, scheduler)
            assert recovered and alive, f"{stored()} of 8 stored after the restart: {outputs}"
            assert scalar(database, "SELECT count(*) FROM events WHERE type = 'article_new'") == 8
    finally:
        site.close()
    assert [worker.returncode, scheduler.returncode] == [0, 0], outputs

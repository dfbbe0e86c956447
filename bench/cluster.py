"""The crawl on several processes sharing one PostgreSQL (a cluster on one machine), beside the SQLite daemon.

A static site served by nginx on --hosts loopback addresses (127.0.1.1, 127.0.1.2, ...: each its own host
for politeness), one listing page per source linking to its own article pages, and a PostgreSQL started
here with fsync and synchronous commits on (as a production server has them). Phases:

  drain    --drain-runs source runs queued at once, run by 1, 2 and 4 `crawler worker` processes: runs/s,
           article pages/s, CPU per component (workers, PostgreSQL, nginx), the wait from queued to started
  paced    --paced-sources sources each due once, first runs spread as the daemon spreads them: the SQLite
           daemon beside the PostgreSQL scheduler and one worker, the same work at the same pace: CPU a run
  lag      all --sources sources configured (50,000), `crawler run` as the scheduler and 2 workers for
           --lag-minutes: the scheduler's start, its CPU with every source scheduled, the due-to-started lag
  chaos    --chaos-sources sources due every 15 s, 2 workers, new articles appearing; a worker killed
           (SIGKILL) --kills times and replaced, PostgreSQL restarted (immediate stop, as a crash) once;
           then: every article stored once, one article_new event each, nothing lost, the events stream
           read whole with every id once, no orphan rows, every source's last run a success

Loopback only; needs nginx and PostgreSQL (Debian's packages). About 20 minutes with the defaults.

    python bench/cluster.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from contextlib import ExitStack
from pathlib import Path

import httpx
import psycopg
from crawl import free_port  # bench/crawl.py

from crawler.cluster.queue import defer_run, ensure_queue_schema, make_app
from crawler.demo.postgres import LocalPostgres, local_postgres
from crawler.store import open_store
from crawler.store.values import EventQuery, StreamPosition

WORDS = ("council budget minister election reform river bridge school hospital market price oil water court "
         "report village farmers police station road harbour festival museum library station airport union "
         "strike wages trade border summit treaty drought rain harvest clinic vaccine teacher student").split()  # fmt: skip


# --- the site -------------------------------------------------------------------------------------------------


def host(source: int, hosts: int) -> str:
    return f"127.0.1.{1 + source % hosts}"


def article_html(name: str, rng: random.Random) -> str:
    paragraphs = "".join(
        "<p>" + " ".join(rng.choice(WORDS) for _ in range(rng.randint(35, 60))).capitalize() + ".</p>" for _ in range(4)
    )
    title = f"Story {name}: " + " ".join(rng.choice(WORDS) for _ in range(6))
    return (f"<html><head><title>{title}</title><meta property='article:published_time' "
            f"content='2026-12-0{1 + rng.randint(0, 5)}T08:00:00Z'></head><body><nav><a href='/'>Home</a></nav>"
            f"<article><h1>{title}</h1>{paragraphs}</article><footer>Site footer</footer></body></html>")  # fmt: skip


def write_listing(site: Path, source: int, articles: int) -> None:
    links = "".join(f'<li><a href="/a/{source}-{n}.html">Story {source}-{n}</a></li>' for n in range(articles))
    (site / "l" / f"{source}.html").write_text(f"<html><body><h1>Section {source}</h1><ul>{links}</ul></body></html>")


def add_article(site: Path, source: int, number: int, rng: random.Random) -> None:
    (site / "a" / f"{source}-{number}.html").write_text(article_html(f"{source}-{number}", rng))
    write_listing(site, source, number + 1)


def build_site(site: Path, sources: int, per_source: int) -> None:
    (site / "l").mkdir(parents=True)
    (site / "a").mkdir()
    rng = random.Random(50_000)
    for source in range(sources):
        for number in range(per_source):
            (site / "a" / f"{source}-{number}.html").write_text(article_html(f"{source}-{number}", rng))
        write_listing(site, source, per_source)


def serve(root: Path, hosts: int, port: int) -> subprocess.Popen[bytes]:
    listens = "".join(f"listen {host(h, hosts)}:{port}; " for h in range(hosts))
    conf = root / "nginx.conf"
    conf.write_text(
        f"daemon off; worker_processes 1; pid {root}/nginx.pid; error_log {root}/nginx.err;\n"
        f"events {{ worker_connections 4096; }}\n"
        f"http {{ access_log off; types {{ text/html html; }}\n"
        f"  client_body_temp_path {root}/tmp; proxy_temp_path {root}/tmp; fastcgi_temp_path {root}/tmp;\n"
        f"  uwsgi_temp_path {root}/tmp; scgi_temp_path {root}/tmp;\n"
        f"  server {{ {listens} root {root}/site; }} }}\n"
    )  # fmt: skip
    (root / "tmp").mkdir()
    process = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(root)])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://{host(0, hosts)}:{port}/l/0.html", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("nginx did not start")


def write_config(path: Path, sources: Iterable[int], database: str, hosts: int, port: int, interval: str) -> Path:
    lines = ["[crawler]", f'database = "{database}"', "allow_private_addresses = true", 'per_host_delay = "0.1s"',
             "per_host_concurrency = 2", "concurrency = 16", "metrics_port = 0", "parse_processes = 0",
             'log_format = "text"', "retries = 1", 'retry_backoff = "200ms"', ""]  # fmt: skip
    for source in sources:
        lines += ["[[sources]]", f'id = "s{source}"', f'name = "source {source}"',
                  f'listing_pages = ["http://{host(source, hosts)}:{port}/l/{source}.html"]',
                  f'interval = "{interval}"', "article_url_pattern = '/a/'", ""]  # fmt: skip
    path.write_text("\n".join(lines))
    return path


# --- processes and their CPU --------------------------------------------------------------------------------


def cpu_seconds(pids: Iterable[int]) -> float:
    """CPU time of these processes and all their descendants, living and reaped."""
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(entry.name)] = fields
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    total, todo = 0.0, list(pids)
    while todo:
        pid = todo.pop()
        if pid in stats:
            fields = stats[pid]
            total += sum(int(value) for value in fields[11:15]) / tick  # utime stime cutime cstime
            todo.extend(children.get(pid, []))
    return total


def postmaster(cluster: LocalPostgres) -> int:
    return int((cluster.root / "data" / "postmaster.pid").read_text().split()[0])


def crawler(command: str, config: Path, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "crawler", command, "--config", str(config), *extra],
                                stdout=out, stderr=subprocess.STDOUT)  # fmt: skip


def stop(processes: Iterable[subprocess.Popen[bytes]]) -> None:
    processes = list(processes)
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def scalar(dsn: str, sql: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(sql).fetchone()  # type: ignore[arg-type]
    return int(row[0] or 0) if row else 0


def wait_until(check: object, timeout: float, every: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        time.sleep(every)
    return False


def lag_quantiles(ports: Iterable[int]) -> tuple[float, float, int]:
    """p50 and p99 of crawler_run_start_lag_seconds over the workers' histograms (bucket-interpolated, as
    Prometheus's histogram_quantile), and the count."""
    buckets: dict[float, float] = {}
    for port in ports:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        for bound, value in re.findall(r'^crawler_run_start_lag_seconds_bucket\{le="([^"]+)"\} (\S+)$', text, re.M):
            buckets[float(bound)] = buckets.get(float(bound), 0.0) + float(value)
    bounds = sorted(buckets)
    total = buckets[bounds[-1]] if bounds else 0.0

    def quantile(q: float) -> float:
        rank, lower, below = q * total, 0.0, 0.0
        for bound in bounds:
            if buckets[bound] >= rank:
                if bound == float("inf"):
                    return lower
                return lower + (bound - lower) * (rank - below) / max(buckets[bound] - below, 1e-9)
            lower, below = bound, buckets[bound]
        return lower

    return (quantile(0.5), quantile(0.99), int(total)) if total else (0.0, 0.0, 0)


async def queue_runs(dsn: str, sources: Iterable[int]) -> None:
    await ensure_queue_schema(dsn)
    app = make_app(dsn)
    async with app.open_async():
        batch: list[int] = []
        for source in [*sources, None]:
            if source is not None:
                batch.append(source)
            if len(batch) == 50 or (source is None and batch):
                await asyncio.gather(*(defer_run(app, f"s{s}", time.time()) for s in batch))
                batch = []


# --- phases ---------------------------------------------------------------------------------------------------


class Bench:
    def __init__(self, args: argparse.Namespace, root: Path, postgres: LocalPostgres, nginx: int, port: int) -> None:
        self.args, self.root, self.postgres, self.nginx, self.port = args, root, postgres, nginx, port

    def config(self, name: str, sources: Iterable[int], database: str, interval: str = "1h") -> Path:
        return write_config(self.root / f"{name}.toml", sources, database, self.args.hosts, self.port, interval)

    def cpu(self, **components: Iterable[int]) -> dict[str, float]:
        return {"postgres": cpu_seconds([postmaster(self.postgres)]), "nginx": cpu_seconds([self.nginx]),
                **{name: cpu_seconds(pids) for name, pids in components.items()}}  # fmt: skip

    def drain(self, workers: int, first: int) -> dict[str, float]:
        """--drain-runs runs queued at once and run by ``workers`` worker processes."""
        dsn = self.postgres.database(f"drain{first}")
        sources = range(first, first + self.args.drain_runs)
        config = self.config(f"drain{workers}", sources, dsn)
        asyncio.run(ensure_queue_schema(dsn))
        ports = [free_port() for _ in range(workers)]
        pool = [crawler("worker", config, self.root / f"drain{workers}.log", "--concurrency", str(self.args.worker_runs),
                        "--metrics-port", str(port)) for port in ports]  # fmt: skip
        try:
            registered = "SELECT count(*) FROM procrastinate_workers"
            assert wait_until(lambda: scalar(dsn, registered) == workers, 120), "workers did not start"
            before, started = self.cpu(workers=[p.pid for p in pool]), time.monotonic()
            asyncio.run(queue_runs(dsn, sources))
            waiting = "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"
            assert wait_until(lambda: scalar(dsn, waiting) == 0, 3600, 0.25), "the queue did not drain"
            seconds, after = time.monotonic() - started, self.cpu(workers=[p.pid for p in pool])
            p50, p99, _ = lag_quantiles(ports)
        finally:
            stop(pool)
        pages = scalar(dsn, "SELECT count(*) FROM fetches WHERE kind = 'article' AND outcome = 'ok'")
        failed = scalar(dsn, "SELECT count(*) FROM procrastinate_jobs WHERE status = 'failed'")
        return {"seconds": seconds, "runs": len(sources) - failed, "pages": pages, "lag_p50": p50, "lag_p99": p99,
                **{f"cpu_{k}": (after[k] - before[k]) / seconds for k in after}}  # fmt: skip

    def paced(self, database: str, name: str, first: int) -> dict[str, float]:
        """--paced-sources sources, each due once, first runs spread as the daemon spreads them (20 a
        second): the SQLite daemon (`crawler run`) on a file, or on PostgreSQL the scheduler and one
        worker; until every source ran once. The same work at the same pace: what each costs."""
        sources = range(first, first + self.args.paced_sources)
        config = self.config(name, sources, database)
        log = self.root / f"{name}.log"
        cluster = database.startswith("postgresql")
        ports = [free_port()] if cluster else []
        daemon = crawler("run", config, log)
        pool = [crawler("worker", config, self.root / f"{name}-worker.log", "--concurrency", str(self.args.worker_runs),
                        "--metrics-port", str(port)) for port in ports]  # fmt: skip
        pids = {"scheduler" if cluster else "daemon": [daemon.pid], **({"worker": [pool[0].pid]} if pool else {})}
        query = "SELECT count(*) FROM fetches WHERE kind = 'listing'"

        def ran() -> int:
            if cluster:
                return scalar(database, query)
            try:
                with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
                    return int(conn.execute(query).fetchone()[0])
            except sqlite3.Error:
                return 0

        try:
            assert wait_until(lambda: "daemon started" in log.read_text(), 300, 0.2), "did not start"
            before, started = self.cpu(**pids), time.monotonic()
            assert wait_until(lambda: ran() >= len(sources), 1800, 0.5), f"{ran()} of {len(sources)} ran"
            seconds, after = time.monotonic() - started, self.cpu(**pids)
            p50, p99, _ = lag_quantiles(ports) if cluster else (0.0, 0.0, 0)
        finally:
            stop([*pool, daemon])
        busy = sum(after[k] - before[k] for k in after)
        figures = {"seconds": seconds, "runs": len(sources), "pages": len(sources) * self.args.per_source,
                   "ms_cpu_per_run": 1000 * busy / len(sources),
                   **{f"cpu_{k}": (after[k] - before[k]) / seconds for k in after}}  # fmt: skip
        if cluster:
            figures |= {"lag_p50": p50, "lag_p99": p99}
        return figures

    def lag(self) -> dict[str, float]:
        """Every source configured; the scheduler and 2 workers for --lag-minutes."""
        dsn = self.postgres.database("lag")
        config = self.config("lag", range(self.args.sources), dsn)
        log = self.root / "lag-scheduler.log"
        started = time.monotonic()
        scheduler = crawler("run", config, log)
        ports = [free_port() for _ in range(2)]
        pool = [crawler("worker", config, self.root / "lag-workers.log", "--concurrency", str(self.args.worker_runs),
                        "--metrics-port", str(port)) for port in ports]  # fmt: skip
        try:
            assert wait_until(lambda: "daemon started" in log.read_text(), 1800, 1.0), "the scheduler did not start"
            ready = time.monotonic() - started
            runs_before = scalar(dsn, "SELECT count(*) FROM fetches WHERE kind = 'listing'")
            pids = {"scheduler": [scheduler.pid], "workers": [p.pid for p in pool]}
            before, begun = self.cpu(**pids), time.monotonic()
            time.sleep(self.args.lag_minutes * 60)
            seconds, after = time.monotonic() - begun, self.cpu(**pids)
            runs = scalar(dsn, "SELECT count(*) FROM fetches WHERE kind = 'listing'") - runs_before
            p50, p99, measured = lag_quantiles(ports)
            waiting = scalar(dsn, "SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo'")
            rss = int(re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{scheduler.pid}/status").read_text())[1]) / 1024  # type: ignore[index]
        finally:
            stop([*pool, scheduler])
        return {"start_seconds": ready, "seconds": seconds, "runs_per_s": runs / seconds, "lag_p50": p50,
                "lag_p99": p99, "measured": measured, "queued_at_end": waiting, "scheduler_rss_mb": rss,
                **{f"cpu_{k}": (after[k] - before[k]) / seconds for k in after}}  # fmt: skip

    def chaos(self) -> list[tuple[str, bool, str]]:
        """Kill -9 workers and restart PostgreSQL during a crawl; then check what was stored."""
        args, site = self.args, self.root / "site"
        dsn = self.postgres.database("chaos")
        sources = list(range(args.chaos_sources))
        base = {s: f"http://{host(s, args.hosts)}:{self.port}/a/" for s in sources}
        expected = {f"{base[s]}{s}-{n}.html" for s in sources for n in range(args.per_source)}
        config = self.config("chaos", sources, dsn, interval="15s")
        log, workers_log = self.root / "chaos-scheduler.log", self.root / "chaos-workers.log"
        scheduler = crawler("run", config, log)
        start_worker = lambda: crawler("worker", config, workers_log, "--concurrency", str(args.worker_runs))  # noqa: E731
        pool = [start_worker() for _ in range(2)]
        rng, numbers = random.Random(7), dict.fromkeys(sources, args.per_source)
        kills = exited = 0
        try:
            assert wait_until(lambda: "daemon started" in log.read_text(), 300, 0.5), "the scheduler did not start"
            while kills < args.kills:
                time.sleep(args.kill_every)
                for source in rng.sample(sources, min(40, len(sources))):  # new articles keep appearing
                    add_article(site, source, numbers[source], rng)
                    expected.add(f"{base[source]}{source}-{numbers[source]}.html")
                    numbers[source] += 1
                victim = rng.randrange(len(pool))
                pool[victim].kill()  # SIGKILL: no clean-up, its running jobs stall
                pool[victim].wait()
                pool[victim] = start_worker()
                kills += 1
                if kills == args.kills // 2:
                    self.postgres.restart()  # immediate stop, as a crash, then start
                for index, process in enumerate(pool):  # a worker that ended by itself (the database went away)
                    if process.poll() is not None:
                        exited += 1
                        pool[index] = start_worker()
                assert scheduler.poll() is None, "the scheduler died"
            stored = "SELECT count(*) FROM articles"
            wait_until(lambda: scalar(dsn, stored) >= len(expected), 300, 1.0)
            time.sleep(30)  # every source runs again after the last new article (15 s interval, 10 s stall)
        finally:
            stop(pool)
            stop([scheduler])
        return self.chaos_checks(dsn, expected, kills, exited)

    def chaos_checks(self, dsn: str, expected: set[str], kills: int, exited: int) -> list[tuple[str, bool, str]]:
        with psycopg.connect(dsn) as conn:
            stored = {row[0] for row in conn.execute("SELECT url FROM articles").fetchall()}
        articles = scalar(dsn, "SELECT count(*) FROM articles")
        new = scalar(dsn, "SELECT count(*) FROM events WHERE type = 'article_new'")
        distinct_new = scalar(dsn, "SELECT count(DISTINCT article_id) FROM events WHERE type = 'article_new'")
        versions = scalar(dsn, "SELECT count(*) FROM article_versions")
        searchable = scalar(dsn, "SELECT count(*) FROM article_search")
        orphans = scalar(dsn, "SELECT count(*) FROM events e WHERE article_id IS NOT NULL AND NOT EXISTS "
                              "(SELECT 1 FROM articles a WHERE a.id = e.article_id)")  # fmt: skip
        failing = scalar(dsn, "SELECT count(*) FROM sources WHERE consecutive_failures > 0 OR last_success_at IS NULL")
        events = scalar(dsn, "SELECT count(*) FROM events")
        streamed = asyncio.run(read_stream(dsn))
        with psycopg.connect(dsn) as conn:
            jobs = dict(conn.execute("SELECT status::text, count(*) FROM procrastinate_jobs GROUP BY 1").fetchall())
            failed_runs = conn.execute("SELECT count(*) FROM events WHERE type = 'fetch_failed'").fetchone()
        return [
            (f"{kills} workers killed (SIGKILL), PostgreSQL restarted once", True,
             f"{exited} workers ended by themselves and were restarted; jobs left {jobs}; fetch_failed events {failed_runs[0] if failed_runs else 0}"),
            ("every article stored", not expected - stored, f"{len(expected)} expected, {len(expected - stored)} missing"),
            ("no article stored twice or unasked", articles == len(stored) == len(expected), f"{articles} rows, {len(stored - expected)} unexpected"),
            ("one article_new event per article", new == distinct_new == articles, f"{new} events for {distinct_new} articles"),
            ("one version and one search row per article", versions == searchable == articles, f"{versions} versions, {searchable} search rows"),
            ("no event pointing at a missing article", orphans == 0, f"{orphans}"),
            ("the events stream read whole: every event once", len(streamed) == len(set(streamed)) == events, f"{len(streamed)} read, {events} stored"),
            ("every source's last run a success", failing == 0, f"{failing} sources failing"),
        ]  # fmt: skip


async def read_stream(dsn: str) -> list[int]:
    store = await open_store(dsn, read_only=True)
    ids: list[int] = []
    position = StreamPosition()
    try:
        while batch := await store.events(EventQuery(limit=1000, after=position)):
            ids.extend(event.id or 0 for event in batch)
            position = StreamPosition.of(batch[-1])
    finally:
        await store.close()
    return ids


# --- report ---------------------------------------------------------------------------------------------------


def show(name: str, figures: dict[str, float]) -> None:
    cpu = "  ".join(f"{k[4:]} {100 * v:.0f}%" for k, v in figures.items() if k.startswith("cpu_"))
    rate = figures["runs"] / figures["seconds"]
    lag = f"  lag p50 {figures['lag_p50']:.2f} s p99 {figures['lag_p99']:.2f} s" if "lag_p50" in figures else ""
    lag += f"  {figures['ms_cpu_per_run']:.0f} ms CPU a run" if "ms_cpu_per_run" in figures else ""
    print(f"{name:<28} {rate:7.1f} runs/s {figures['pages'] / figures['seconds']:7.1f} pages/s   CPU: {cpu}{lag}",
          flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", type=int, default=50_000)
    parser.add_argument("--hosts", type=int, default=200, help="loopback addresses 127.0.1.x (at most 254)")
    parser.add_argument("--per-source", type=int, default=2, help="article pages a source links to")
    parser.add_argument("--drain-runs", type=int, default=3000)
    parser.add_argument("--drain-workers", default="1,2,4", help="worker processes of each drain, in turn")
    parser.add_argument("--worker-runs", type=int, default=8, help="crawler worker --concurrency")
    parser.add_argument("--paced-sources", type=int, default=1200)
    parser.add_argument("--lag-minutes", type=float, default=3.0)
    parser.add_argument("--chaos-sources", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--kill-every", type=float, default=5.0)
    parser.add_argument("--phases", default="drain,paced,lag,chaos")
    args = parser.parse_args()
    phases = set(args.phases.split(","))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stopped: PostgreSQL and nginx are stopped too
    print(f"{os.cpu_count()} cores; {args.sources} sources on {args.hosts} hosts, {args.per_source} articles each",
          flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="crawl-cluster-") as tmp, ExitStack() as stack:
        root = Path(tmp)
        root.chmod(0o755)  # nginx's workers run as an unprivileged user
        started = time.monotonic()
        build_site(root / "site", args.sources, args.per_source)
        print(f"site: {args.sources * (args.per_source + 1):,} files in {time.monotonic() - started:.0f} s", flush=True)
        port = free_port()
        nginx = serve(root, args.hosts, port)
        stack.callback(lambda: (nginx.terminate(), nginx.wait()))
        postgres = stack.enter_context(local_postgres(durable=True))
        version = scalar(postgres.dsn, "SHOW server_version_num")
        print(f"PostgreSQL {version} (fsync on, synchronous_commit on); nginx on {args.hosts} addresses", flush=True)
        bench = Bench(args, root, postgres, nginx.pid, port)
        results: dict[str, object] = {}
        if "drain" in phases:
            n = args.drain_runs
            for index, workers in enumerate(int(n) for n in args.drain_workers.split(",")):
                results[f"workers_{workers}"] = figures = bench.drain(workers, index * n)
                show(f"{workers} worker(s), PostgreSQL", figures)
        if "paced" in phases:
            first = 3 * args.drain_runs
            results["paced_sqlite"] = figures = bench.paced(str(root / "paced.db"), "paced-sqlite", first)
            show("daemon, SQLite", figures)
            first += args.paced_sources
            results["paced_postgres"] = figures = bench.paced(postgres.database("paced"), "paced-pg", first)
            show("scheduler + 1 worker, PG", figures)
        if "lag" in phases:
            results["lag"] = lag = bench.lag()
            cpu = "  ".join(f"{k[4:]} {100 * v:.1f}%" for k, v in lag.items() if k.startswith("cpu_"))
            print(f"\n{args.sources} sources scheduled in {lag['start_seconds']:.0f} s (scheduler {lag['scheduler_rss_mb']:.0f} MB); "
                  f"{lag['runs_per_s']:.1f} runs/s due over {lag['seconds']:.0f} s; lag p50 {lag['lag_p50']:.3f} s, "
                  f"p99 {lag['lag_p99']:.3f} s ({lag['measured']} runs); {lag['queued_at_end']} waiting at the end\n"
                  f"  CPU: {cpu}", flush=True)  # fmt: skip
        if "chaos" in phases:
            print()
            checks = bench.chaos()
            for name, ok, detail in checks:
                print(f"  {'PASS' if ok else 'FAIL'}  {name}: {detail}", flush=True)
            results["chaos_passed"] = all(ok for _, ok, _ in checks)
        print("\n" + json.dumps(results, default=str))
        if results.get("chaos_passed") is False:
            sys.exit(1)


if __name__ == "__main__":
    main()

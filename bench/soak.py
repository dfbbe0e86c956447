"""Soak benchmark: the daemon for a while against a large local site that keeps changing and failing.

Serves the fault-injection demo site (crawler/demo/faults.py) on 127.0.0.1 with N articles, adds an
article every second and edits one every few, and every 20 s moves a set of faults (every kind in
turn) to other pages. Runs `crawler run` on it as a subprocess (four sources: feed, listing, sitemap,
English section, each every --interval, re-checking the articles they list every --recheck) and
samples the daemon every few seconds: resident memory, open file descriptors, threads (from /proc) and
asyncio tasks (from its systemd STATUS line, read on a notify socket); and its parse workers' (which make
the article fetches) memory (PSS) and open file descriptors, summed. Prints the samples, then the
growth after warm-up: there should be none.

    python bench/soak.py --minutes 10 --articles 3000
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from compare import descendants, proportional_set_size  # bench/compare.py (this directory is on sys.path)

from crawler.demo.faults import FAULTS, FaultySite, serve_faulty

SLOW_FAULTS = {"slow-headers", "trickle"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=5.0, help="how long the daemon runs")
    parser.add_argument("--articles", type=int, default=3000, help="articles on the site at the start")
    parser.add_argument("--interval", default="10s", help="each source's polling interval")
    parser.add_argument("--recheck", default="2m", help="re-check listed articles this often (conditional GETs)")
    parser.add_argument(
        "--new-per-second", type=int, default=1, help="articles added each second (0: a site that only edits)"
    )
    parser.add_argument("--faulty-pages", type=int, default=40, help="pages broken at any time")
    parser.add_argument("--sample-every", type=float, default=5.0, help="seconds between samples")
    args = parser.parse_args()

    site = FaultySite(args.articles, slow_seconds=3.0)
    server, _ = serve_faulty(site)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    stop = threading.Event()
    changer = (site, args.faulty_pages, args.new_per_second, stop)
    threading.Thread(target=change_site, args=changer, daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        config = write_config(Path(tmp), base, args.interval, args.recheck)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        listener.bind(str(Path(tmp) / "notify"))
        listener.setblocking(False)
        env = {**os.environ, "NOTIFY_SOCKET": str(Path(tmp) / "notify")}
        with (Path(tmp) / "daemon.log").open("w") as log:
            daemon = subprocess.Popen([sys.executable, "-m", "crawler", "run", "--config", str(config)],
                                      stdout=log, stderr=subprocess.STDOUT, env=env)  # fmt: skip
            samples = []
            try:
                samples = sample(daemon.pid, Path(tmp) / "soak.db", listener, args)
            finally:
                stop.set()
                daemon.send_signal(signal.SIGTERM)
                code = daemon.wait(timeout=60)
                site.closing.set()
                server.shutdown()
        errors = [line for line in (Path(tmp) / "daemon.log").read_text().splitlines() if "Traceback" in line]
    report(samples, code, errors, len(site.articles()))


def write_config(tmp: Path, base: str, interval: str, recheck: str) -> Path:
    sources = [("feed", f'feeds = ["{base}/feed.xml"]'), ("listing", f'listing_pages = ["{base}/"]'),
               ("sitemap", f'sitemaps = ["{base}/sitemap.xml"]'),
               ("english", f'listing_pages = ["{base}/section/english/"]')]  # fmt: skip
    text = (f'[crawler]\ndatabase = "{tmp / "soak.db"}"\nallow_private_addresses = true\nper_host_delay = "0s"\n'
            'timeout = "2s"\nretries = 1\nretry_backoff = "100ms"\nconcurrency = 16\nper_host_concurrency = 8\n'
            'max_page_bytes = 2000000\nlog_format = "json"\n')  # fmt: skip
    for name, discovery in sources:
        text += (f'\n[[sources]]\nid = "{name}"\nname = "{name}"\n{discovery}\ninterval = "{interval}"\n'
                 f"article_url_pattern = '/story-'\nmax_articles_per_run = 5000\nrecheck_interval = \"{recheck}\"\n")  # fmt: skip
    path = tmp / "crawler.toml"
    path.write_text(text)
    return path


def change_site(site: FaultySite, faulty_pages: int, new_per_second: int, stop: threading.Event) -> None:
    """New articles, edits, and faults that move: what a site does over weeks, in minutes."""
    rng = random.Random(7)
    faults = [f for f in FAULTS if f not in SLOW_FAULTS] * 2 + sorted(SLOW_FAULTS)  # slow ones less often
    tick = 0
    while not stop.wait(1.0):
        tick += 1
        for _ in range(new_per_second):
            site.add_article()
        if tick % 3 == 0:
            site.edit_article(rng.randint(1, len(site.articles())))
        if tick % 20 == 1:
            site.heal()
            paths = [a.path for a in rng.sample(site.articles(), faulty_pages)]
            for path in paths:
                site.break_path(path, rng.choice(faults))
            if tick % 60 == 1:
                site.break_path("/feed.xml", "malformed-xml")


def sample(pid: int, db: Path, listener: socket.socket, args: argparse.Namespace) -> list[dict[str, float]]:
    samples: list[dict[str, float]] = []
    started = time.monotonic()
    deadline = started + args.minutes * 60
    tasks = 0.0
    while time.monotonic() < deadline:
        time.sleep(args.sample_every)
        while True:  # the latest STATUS line
            try:
                message = listener.recv(4096).decode()
            except BlockingIOError:
                break
            if found := re.search(r"(\d+) tasks", message):
                tasks = float(found[1])
        status = Path(f"/proc/{pid}/status").read_text()
        workers = descendants(pid) - {pid}  # the forkserver and the workers, which make the article fetches
        row = {
            "t": time.monotonic() - started,
            "rss_mb": int(re.search(r"VmRSS:\s+(\d+)", status)[1]) / 1024,  # type: ignore[index]
            "fds": float(len(os.listdir(f"/proc/{pid}/fd"))),
            "threads": float(re.search(r"Threads:\s+(\d+)", status)[1]),  # type: ignore[index]
            "tasks": tasks,
            "workers_mb": sum(proportional_set_size(child) or 0 for child in workers) / 2**20,
            "workers_fds": float(sum(len(os.listdir(f"/proc/{child}/fd")) for child in workers)),
            "articles": float(count(db, "SELECT count(*) FROM articles")),
            "fetches": float(count(db, "SELECT count(*) FROM fetches")),
        }
        samples.append(row)
        print("  ".join(f"{k} {v:8.1f}" for k, v in row.items()), flush=True)
    return samples


def count(db: Path, sql: str) -> int:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            return int(conn.execute(sql).fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def report(samples: list[dict[str, float]], code: int, errors: list[str], on_site: int) -> None:
    if len(samples) < 4:
        raise SystemExit("too few samples: run longer (--minutes)")
    warm = samples[len(samples) // 3 :]  # the first third is warm-up: first crawl, caches filling
    first, last = warm[0], samples[-1]
    print(f"\nsamples {len(samples)}, daemon exit code {code}, tracebacks in its log {len(errors)}")
    print(f"articles stored {last['articles']:.0f} of {on_site} on the site, fetches {last['fetches']:.0f}")
    for key in ("rss_mb", "fds", "threads", "tasks", "workers_mb", "workers_fds"):
        values = [s[key] for s in warm]
        print(f"{key:<11} after warm-up {first[key]:7.1f}  end {last[key]:7.1f}  min {min(values):7.1f}  "
              f"max {max(values):7.1f}  growth {last[key] - first[key]:+7.1f}")  # fmt: skip
    rss_growth = (last["rss_mb"] - first["rss_mb"]) / first["rss_mb"]
    workers_growth = (last["workers_mb"] - first["workers_mb"]) / max(first["workers_mb"], 1.0)
    steady = (
        rss_growth < 0.10
        and workers_growth < 0.10
        and all(last[k] <= max(s[k] for s in samples[: len(samples) // 3 + 1]) + 2 for k in ("fds", "threads", "tasks"))
        and last["workers_fds"] <= max(s["workers_fds"] for s in samples[: len(samples) // 3 + 1]) + 8
    )
    print(
        f"verdict: {'no growth after warm-up' if steady else 'GROWTH after warm-up'} "
        f"(RSS {rss_growth:+.1%}, workers' PSS {workers_growth:+.1%} since warm-up)"
    )
    if not steady or code != 0 or errors:
        raise SystemExit(1)


if __name__ == "__main__":
    main()

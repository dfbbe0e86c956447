"""Scheduler at scale: `crawler run` with thousands of sources, in real time.

Serves a small static news site with nginx (Python's server without it), configures N sources, each
polling its own feed URL (`feed.xml?s=N`, the same five articles) every hour or 90 minutes, and runs the
daemon for --minutes. Their first runs spread over N/20 seconds (500 s for 10,000) plus each trigger's
jitter (a tenth of its interval, up to 9 minutes); after that nothing is due until the first
hour ends, so the rest of the window shows the daemon idle with 10,000 jobs. Samples CPU and RSS from
/proc, then counts from the database how often each source ran (once each in a window shorter than an
hour less its jitter: none missed, none twice) and from the log the scheduler's "missed" and "still
running" warnings. Real time, no fast clock.

    python bench/scheduler.py --sources 10000 --minutes 20
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from compare import serve  # bench/compare.py: nginx, or Python's http.server
from crawl import free_port  # bench/crawl.py

from crawler.demo.site import NewsSite

INTERVALS = ("1h", "90m")  # jitter is a tenth of the interval: longer ones would still be starting at the end


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", type=int, default=10_000)
    parser.add_argument("--minutes", type=float, default=20.0, help="under 54, so each source is due once")
    parser.add_argument("--sample-every", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="crawl-scheduler-") as tmp:
        root = Path(tmp)
        root.chmod(0o755)  # nginx's workers run as an unprivileged user
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        build_site(root / "site", base)
        server, kind = serve(root, port)
        print(f"server: {kind}; {args.sources} sources, every {', '.join(INTERVALS)}; {args.minutes} minutes")
        try:
            config = write_config(root, base, args.sources)
            with (root / "daemon.log").open("w") as log:
                daemon = subprocess.Popen([sys.executable, "-m", "crawler", "run", "--config", str(config)],
                                          stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
                samples = sample(daemon.pid, args.minutes * 60, args.sample_every)
                daemon.send_signal(signal.SIGTERM)
                code = daemon.wait(timeout=120)
        finally:
            server.terminate()
            server.wait(timeout=10)
        report(samples, root, args.sources, code)


def build_site(root: Path, base: str) -> None:
    site = NewsSite(5)
    for path in ["/feed.xml", *(a.path for a in site.articles())]:
        _, _, text = site.page(path)
        target = root / (path.strip("/") or "index.html")
        if not path.endswith(".xml"):
            target = target / "index.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text.replace("http://SITE", base), encoding="utf-8")


def write_config(root: Path, base: str, sources: int) -> Path:
    rng = random.Random(10_000)
    lines = [
        "[crawler]", f'database = "{root / "scheduler.db"}"', "allow_private_addresses = true", 'per_host_delay = "0s"',
        "per_host_concurrency = 16", "metrics_port = 0", "parse_processes = 0", 'log_format = "text"', "",
    ]  # fmt: skip
    for number in range(sources):
        lines += ["[[sources]]", f'id = "s{number}"', f'name = "source {number}"', f'feeds = ["{base}/feed.xml?s={number}"]',
                  f'interval = "{rng.choice(INTERVALS)}"', "article_url_pattern = '/story-'", ""]  # fmt: skip
    path = root / "crawler.toml"
    path.write_text("\n".join(lines))
    return path


def sample(pid: int, seconds: float, every: float) -> list[tuple[float, float, float]]:
    """(seconds since start, CPU seconds so far, RSS MB) every few seconds."""
    tick, page = os.sysconf("SC_CLK_TCK"), os.sysconf("SC_PAGE_SIZE")
    started = time.monotonic()
    samples = []
    while (elapsed := time.monotonic() - started) < seconds:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        samples.append((elapsed, (int(fields[11]) + int(fields[12])) / tick, int(fields[21]) * page / 1e6))
        time.sleep(every)
    return samples


def report(samples: list[tuple[float, float, float]], root: Path, sources: int, code: int) -> None:
    log = (root / "daemon.log").read_text(errors="replace")
    started = next((line for line in log.splitlines() if "daemon started" in line), "")
    with sqlite3.connect(root / "scheduler.db") as conn:
        runs = dict(conn.execute("SELECT source_id, count(*) FROM fetches WHERE kind = 'feed' GROUP BY 1").fetchall())
        last = conn.execute("SELECT max(ts) FROM fetches WHERE kind = 'feed'").fetchone()[0]
        first = conn.execute("SELECT min(ts) FROM fetches WHERE kind = 'feed'").fetchone()[0]
    print(f"\ndaemon exit code {code}; {started.strip()[:100]}")
    print(f"first runs from {first} to {last}")
    print(f"sources that ran once {sum(1 for n in runs.values() if n == 1)}, never {sources - len(runs)}, "
          f"more than once {sum(1 for n in runs.values() if n > 1)}")  # fmt: skip
    print(
        f"scheduler warnings: missed {log.count('scheduled run missed')}, still running {log.count('previous run still going')}"
    )
    print("\n  minute   CPU % of one core   RSS MB")
    for (t0, cpu0, _), (t1, cpu1, rss) in zip(samples, samples[1:]):
        if int(t1 // 60) != int(t0 // 60) or (t1, cpu1, rss) == samples[-1]:
            print(f"  {t1 / 60:6.1f}   {100 * (cpu1 - cpu0) / (t1 - t0):8.2f}            {rss:6.0f}")
    busy_until = (sources / 20) + 540 + 60  # the spread, the largest jitter, a minute for the last runs
    idle = [(t, cpu) for t, cpu, _ in samples if t > busy_until]
    if len(idle) >= 2:
        print(f"\nidle (after {busy_until:.0f} s): {100 * (idle[-1][1] - idle[0][1]) / (idle[-1][0] - idle[0][0]):.2f} % "
              f"of one core over {idle[-1][0] - idle[0][0]:.0f} s")  # fmt: skip
    print(f"peak RSS {max(rss for _, _, rss in samples):.0f} MB")


if __name__ == "__main__":
    main()

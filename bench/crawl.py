"""First crawl-throughput benchmark: one full pass of the real pipeline over a local site.

Builds the demo site with N articles, serves it from a separate process on 127.0.0.1 (so the server's
CPU is not counted as ours), crawls it once from an empty database through a sitemap, and prints
pages per second, CPU seconds per page and peak RSS of the crawler process.

    python bench/crawl.py --articles 3000
"""

from __future__ import annotations

import argparse
import asyncio
import io
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console

from crawler.config import parse_config
from crawler.crawl_once import crawl_once


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_serving(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"demo site did not start on port {port}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "crawler.demo.site", "--articles", str(args.articles), "--port", str(port)],
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_until_serving(port)
        with tempfile.TemporaryDirectory() as tmp:
            config = parse_config({
                "crawler": {"database": str(Path(tmp) / "bench.db"), "allow_private_addresses": True,
                            "per_host_delay": 0, "concurrency": args.concurrency,
                            "per_host_concurrency": args.concurrency, "retries": 1},
                "sources": [{"id": "bench", "name": "bench", "sitemaps": [f"http://127.0.0.1:{port}/sitemap.xml"],
                             "interval": "1h", "max_articles_per_run": args.articles * 2}],
            })  # fmt: skip
            cpu_before = time.process_time()
            wall_before = time.perf_counter()
            console = Console(file=io.StringIO())
            [summary] = asyncio.run(crawl_once(config, config.sources, console=console))
            wall = time.perf_counter() - wall_before
            cpu = time.process_time() - cpu_before
    finally:
        server.terminate()
        server.wait(timeout=10)
    pages = summary.new + summary.updated + summary.unchanged
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"articles on site      {args.articles}")
    print(f"articles stored       {summary.new} (failed {summary.failed})")
    print(f"wall time             {wall:.1f} s")
    print(f"pages per second      {pages / wall:.0f}")
    print(
        f"CPU seconds per page  {cpu / max(pages, 1):.4f} s  ({cpu / max(pages, 1) * 1000:.1f} CPU s per 1,000 pages)"
    )
    print(f"peak RSS              {peak_rss_mb:.0f} MB")
    print("(CPU and RSS of this process only: the parse workers are not in them; bench/compare.py sums them)")


if __name__ == "__main__":
    main()

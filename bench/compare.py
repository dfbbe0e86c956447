"""Side-by-side crawl benchmark: our full pipeline, a minimal Scrapy spider, and httpx + trafilatura.

Builds a static site of N article pages (the demo site's Arabic and English themes, padded to 40-80 KB
with the inline scripts, styles, mega-menus and sidebars real news pages carry), serves it with nginx
when installed (else Python's http.server, and says so), and crawls it from an empty database with each
contender in its own process, alternating A B C A B C:

  A  crawler    `crawler crawl`: discovery (sitemap), fetch, extraction, normalisation, dedup, storage
                with search index and near-duplicate signatures, events
  B  scrapy     SitemapSpider, h1 + paragraph text, SQLite pipeline in batches of 100 (bench/peers)
  C  trafilatura httpx (32 at a time) + trafilatura.extract, SQLite (bench/peers)

Each run's wall time is the process's (start-up included, the same for all); CPU time and peak memory are
summed over the process and everything it starts (worker pools), sampled from /proc; memory is the
proportional set size (PSS: resident pages shared by several processes counted once in all). Prints pages/s, CPU seconds per 1,000 pages, peak RSS, the ratios to crawler, and the re-poll:
a second `crawler crawl` over the unchanged site (conditional GETs, known URLs skipped).

    python bench/compare.py --pages 3000 --rounds 2
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from crawl import free_port  # bench/crawl.py (this directory is on sys.path when run as a script)

from crawler.demo.site import NewsSite

PEERS = Path(__file__).parent / "peers"
CONTENDERS = ("crawler", "scrapy", "trafilatura")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=2, help="A B C rounds; each contender's best run is shown")
    parser.add_argument("--only", choices=CONTENDERS, action="append", help="run only these (repeatable)")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight, the same for every contender")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="crawl-compare-") as tmp:
        root = Path(tmp)
        root.chmod(0o755)  # nginx's workers run as an unprivileged user
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        started = time.perf_counter()
        size = build_site(root / "site", base, args.pages)
        print(f"site: {args.pages} pages, {size / args.pages / 1000:.0f} KB average, built in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        server, kind = serve(root, port)
        print(f"server: {kind} on {base}")
        try:
            results: dict[str, list[dict[str, float]]] = {name: [] for name in CONTENDERS}
            for round_number in range(args.rounds):
                for name in args.only or CONTENDERS:
                    outcome = run_contender(name, root / f"{name}-{round_number}", base, args.concurrency)
                    results[name].append(outcome)
                    print(f"round {round_number + 1} {name:<12} {outcome['pages']:>6.0f} pages {outcome['wall']:6.1f} s "
                          f"{outcome['pages'] / outcome['wall']:6.0f} pages/s  {outcome['cpu']:5.1f} CPU s  "
                          f"{outcome['rss_mb']:4.0f} MB  (sampler {outcome['sampler_ms']:.0f} ms CPU/s)", flush=True)  # fmt: skip
            repoll = run_repoll(root / "crawler-0", base) if "crawler" in (args.only or CONTENDERS) else None
        finally:
            server.terminate()
            server.wait(timeout=10)
    report(results, repoll, args.pages)


# --- the site --------------------------------------------------------------------------------------------


def build_site(root: Path, base: str, pages: int) -> int:
    """Write every article page and a sitemap; return the pages' total size in bytes."""
    site = NewsSite(pages)
    rng = random.Random(20261129)
    total = 0
    urls = []
    for article in site.articles():
        _, _, text = site.page(article.path)
        html = pad(text.replace("http://SITE", base), rng)
        target = root / article.path.strip("/") / "index.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")
        total += len(html.encode())
        urls.append(f"{base}{article.path}")
    locs = "".join(f"<url><loc>{url}</loc></url>" for url in urls)
    (root / "sitemap.xml").write_text(
        f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>'
    )
    return total


def pad(html: str, rng: random.Random) -> str:
    """What real news pages carry besides the article: inline scripts and styles, JSON config, a mega-menu,
    a sidebar of links. 40-80 KB in all."""
    target = rng.randint(40_000, 80_000) - len(html.encode())
    script_size = max(0, target // 2)
    words = ["function", "var", "return", "window", "document", "push", "config", "analytics", "ads", "slot"]
    script = " ".join(rng.choice(words) + str(rng.randint(0, 999)) for _ in range(script_size // 9))
    style = "".join(f".c{i}{{margin:{i % 7}px;padding:{i % 5}px;color:#{i:06x}}}" for i in range(target // 4 // 40))
    menu = "".join(f'<li><a href="/section/{i}/">قسم {i}</a></li>' for i in range(target // 4 // 40))
    head = f"<script>{script}</script><style>{style}</style>"
    chrome = f'<nav class="mega-menu"><ul>{menu}</ul></nav>'
    return html.replace("</head>", head + "</head>", 1).replace("</body>", chrome + "</body>", 1)


def serve(root: Path, port: int) -> tuple[subprocess.Popen[bytes], str]:
    nginx = shutil.which("nginx") or (Path("/usr/sbin/nginx") if Path("/usr/sbin/nginx").exists() else None)
    if nginx:
        conf = root / "nginx.conf"
        conf.write_text(
            f"daemon off; worker_processes 1; pid {root}/nginx.pid; error_log {root}/nginx.err;\n"
            f"events {{ worker_connections 1024; }}\n"
            f"http {{ access_log off; types {{ text/html html; application/xml xml; }}\n"
            f"  client_body_temp_path {root}/tmp; proxy_temp_path {root}/tmp; fastcgi_temp_path {root}/tmp;\n"
            f"  uwsgi_temp_path {root}/tmp; scgi_temp_path {root}/tmp;\n"
            f"  server {{ listen 127.0.0.1:{port}; root {root}/site; index index.html; }} }}\n"
        )  # fmt: skip
        (root / "tmp").mkdir()
        process = subprocess.Popen([str(nginx), "-c", str(conf), "-p", str(root)])
        kind = f"nginx ({subprocess.run([str(nginx), '-v'], capture_output=True, text=True).stderr.strip()})"
    else:
        process = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                                    "--directory", str(root / "site")], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)  # fmt: skip
        kind = "Python http.server (nginx is not installed: the server, not the crawlers, may be the limit)"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process, kind
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the site's server did not start")


# --- the contenders --------------------------------------------------------------------------------------


def run_contender(name: str, workdir: Path, base: str, concurrency: int) -> dict[str, float]:
    workdir.mkdir()
    database = workdir / "out.db"
    sitemap = f"{base}/sitemap.xml"
    if name == "crawler":
        config = write_crawler_config(workdir, database, sitemap, concurrency)
        command = [sys.executable, "-m", "crawler", "crawl", "--config", str(config)]
    elif name == "scrapy":
        command = [sys.executable, str(PEERS / "scrapy_spider.py"), sitemap, str(database), str(concurrency)]
    else:
        command = [sys.executable, str(PEERS / "httpx_trafilatura.py"), sitemap, str(database), str(concurrency)]
    outcome = measure(command, workdir)
    outcome["pages"] = float(count_articles(database))
    return outcome


def write_crawler_config(workdir: Path, database: Path, sitemap: str, concurrency: int = 32) -> Path:
    config = workdir / "crawler.toml"
    config.write_text(
        f'[crawler]\ndatabase = "{database}"\nallow_private_addresses = true\nper_host_delay = "0s"\n'
        f'concurrency = {concurrency}\nper_host_concurrency = {concurrency}\nretries = 1\nmetrics_port = 0\n\n'
        f'[[sources]]\nid = "bench"\nname = "bench"\nsitemaps = ["{sitemap}"]\ninterval = "1h"\n'
        "max_articles_per_run = 100000\n"
    )  # fmt: skip
    return config


def measure(command: list[str], workdir: Path) -> dict[str, float]:
    """Run command; its wall time, and the CPU time and peak memory (PSS) of it and every process it
    starts (worker pools, forkservers), sampled from /proc every 200 ms: wait4() alone would miss
    grandchildren and report the largest process's peak rather than the sum. Sampling costs CPU (the
    kernel walks every page table for PSS: 3-5 ms a sample; and a scan of /proc for new members, done
    every 5th sample), and on a 2-core machine that comes out of a contender that uses both cores; the
    sampler's own CPU per second of run is printed beside each run."""
    started = time.perf_counter()
    own_cpu = time.process_time()
    with (workdir / "output.log").open("w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "NO_COLOR": "1"})
        tree = ProcessTree(process.pid)
        for tick in itertools.count():
            tree.sample(find_new=tick % 5 == 0)
            try:
                process.wait(timeout=0.2)  # returns as the process exits: the wall time stays exact
                break
            except subprocess.TimeoutExpired:
                continue
    wall = time.perf_counter() - started
    sampler_ms = (time.process_time() - own_cpu) * 1000 / max(wall, 1e-9)
    if process.returncode != 0:
        tail = (workdir / "output.log").read_text(errors="replace")[-1500:]
        print(f"  {' '.join(command[1:3])} exited {process.returncode}:\n{tail}", file=sys.stderr)
    others = [peak for pid, peak in tree.peak_by_pid.items() if pid != process.pid]
    return {"wall": wall, "cpu": tree.cpu_seconds(), "rss_mb": tree.peak_rss / 1e6, "sampler_ms": sampler_ms,
            "root_mb": tree.peak_by_pid.get(process.pid, 0) / 1e6, "largest_child_mb": max(others, default=0) / 1e6}  # fmt: skip


class ProcessTree:
    """CPU seconds (last seen, per process) and the peak of the summed PSS of a process and its descendants."""

    def __init__(self, root: int) -> None:
        self._root = root
        self._cpu: dict[int, float] = {}
        self._members: set[int] = set()
        self.peak_rss = 0
        self.peak_by_pid: dict[int, int] = {}  # each member's own peak (bench/memory.py tells the root from the rest)
        self._tick = os.sysconf("SC_CLK_TCK")
        self._page = os.sysconf("SC_PAGE_SIZE")

    def sample(self, find_new: bool = True) -> None:
        """CPU and PSS of the known members; with find_new, first look for new descendants in /proc."""
        if find_new or not self._members:
            self._members = descendants(self._root)
        memory = 0
        for pid in list(self._members):
            try:
                raw = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                self._members.discard(pid)  # exited; its last CPU reading stays
                continue
            fields = raw[raw.rindex(")") + 2 :].split()  # after "pid (comm) "
            self._cpu[pid] = (int(fields[11]) + int(fields[12])) / self._tick  # utime + stime
            own = proportional_set_size(pid) or int(fields[21]) * self._page
            self.peak_by_pid[pid] = max(self.peak_by_pid.get(pid, 0), own)
            memory += own
        self.peak_rss = max(self.peak_rss, memory)

    def cpu_seconds(self) -> float:
        return sum(self._cpu.values())


def descendants(root: int) -> set[int]:
    """root and every process it started, however deep (a forkserver's workers are its grandchildren)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parents[int(entry)] = int(raw[raw.rindex(")") + 2 :].split()[1])
    members = {root}
    grew = True
    while grew:
        found = {pid for pid, parent in parents.items() if parent in members} - members
        grew = bool(found)
        members |= found
    return members


def proportional_set_size(pid: int) -> int | None:
    """PSS in bytes: resident memory with pages shared between processes (a forkserver's children share
    the modules it imported) counted once in all, not once per process."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def count_articles(database: Path) -> int:
    if not database.exists():
        return 0
    with sqlite3.connect(database) as conn:
        return int(conn.execute("SELECT count(*) FROM articles WHERE length(body) > 0").fetchone()[0])


def run_repoll(workdir: Path, base: str, times: int = 3) -> dict[str, float]:
    """The same crawl again over the unchanged site, on the first run's database: the median of ``times``
    runs (a 0.4 s run varies by a tenth from one to the next), and the article bodies all of them fetched."""
    config = workdir / "crawler.toml"
    before = fetched_bodies(workdir / "out.db")
    runs = [measure([sys.executable, "-m", "crawler", "crawl", "--config", str(config)], workdir) for _ in range(times)]
    outcome = sorted(runs, key=lambda run: run["wall"])[len(runs) // 2]
    outcome["bodies"] = float(fetched_bodies(workdir / "out.db") - before)
    return outcome


def fetched_bodies(database: Path) -> int:
    with sqlite3.connect(database) as conn:
        return int(conn.execute("SELECT count(*) FROM fetches WHERE kind IN ('article', 'recheck') AND status = 200")
                   .fetchone()[0])  # fmt: skip


# --- the report ------------------------------------------------------------------------------------------


def report(results: dict[str, list[dict[str, float]]], repoll: dict[str, float] | None, pages: int) -> None:
    best = {name: max(runs, key=lambda r: r["pages"] / r["wall"]) for name, runs in results.items() if runs}
    print("\n| contender | pages | pages/s | CPU s per 1,000 pages | peak memory (PSS) | pages/s vs crawler |")
    print("|---|---|---|---|---|---|")
    ours = best.get("crawler")
    for name, run in best.items():
        rate = run["pages"] / run["wall"]
        ratio = f"{(ours['pages'] / ours['wall']) / rate:.2f}x" if ours and rate and name != "crawler" else ""
        spread = statistics.pstdev([r["pages"] / r["wall"] for r in results[name]]) if len(results[name]) > 1 else 0
        print(f"| {name} | {run['pages']:.0f} of {pages} | {rate:.0f} (±{spread:.0f}) | "
              f"{run['cpu'] / max(run['pages'], 1) * 1000:.1f} | {run['rss_mb']:.0f} MB | {ratio} |")  # fmt: skip
    if ours:
        _paired_ratios(results)
    if repoll and ours:
        print(f"\nre-poll of the unchanged site (median of 3): {repoll['wall']:.2f} s ({repoll['wall'] / ours['wall']:.1%} "
              f"of the first pass), {repoll['bodies']:.0f} article bodies downloaded again")  # fmt: skip


def _paired_ratios(results: dict[str, list[dict[str, float]]]) -> None:
    """crawler's pages/s over each peer's in the same round (runs minutes apart share the machine's state,
    which drifts by 10 % and more between rounds; best-of-N per contender can pair a lucky round with an
    unlucky one), and their median."""
    for name, runs in results.items():
        if name == "crawler" or not runs:
            continue
        ratios = [(ours["pages"] / ours["wall"]) / (run["pages"] / run["wall"])
                  for ours, run in zip(results["crawler"], runs) if run["pages"]]  # fmt: skip
        if ratios:
            listed = ", ".join(f"{ratio:.2f}x" for ratio in ratios)
            print(f"crawler vs {name}, round by round: {listed}; median {statistics.median(ratios):.2f}x")


if __name__ == "__main__":
    main()

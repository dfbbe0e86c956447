"""Peak memory of a crawl with the largest pages the config allows, beside the same crawl without them.

Builds a static site: 1,000 ordinary Arabic article pages listed by a sitemap, plus, for the second run,
one article page of nearly max_page_bytes (Arabic prose, the worst case for Python's strings; more with
--huge-articles, listed first so they are all in flight at once) and one listing page of nearly
max_page_bytes holding as many links as fit (about 220,000 at 10 MB). Serves it with nginx when installed
(else Python's http.server), runs `crawler crawl` on each site with the default caps and two parse
workers, and prints the peak PSS of the whole process tree (crawler, forkserver, workers; bench/compare.py's
sampler), of the crawler's own process and of the largest worker, and the wall time, as the median of
--rounds runs.

    python bench/memory.py                      # max_page_bytes = 10 MB (the default)
    python bench/memory.py --huge-articles 40   # every page in flight at the cap
    python bench/memory.py --max-page-mb 64     # a raised cap
    python bench/memory.py --only listing --max-links 1000000   # the link cap raised too
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ as a script: compare.py beside it
from compare import measure, serve  # noqa: E402
from crawl import free_port  # noqa: E402

ARTICLES = 1000
PARAGRAPH = (
    "<p>" + "أعلنت وزارة الموارد المائية اليوم عن خطة جديدة لتأهيل السدود والقنوات في المحافظات، " * 5 + "</p>\n"
)


def article(number: int, paragraphs: int) -> str:
    return (
        f"<html lang='ar'><head><title>خبر {number}</title></head><body><article><h1>خبر رقم {number}</h1>"
        f"{PARAGRAPH * paragraphs}</article></body></html>"
    )


def build(root: Path, base: str, max_bytes: int, huge: bool, parts: set[str], huge_articles: int) -> None:
    site = root / "site"
    (site / "news").mkdir(parents=True)
    urls = []
    for number in range(ARTICLES):
        (site / "news" / f"{number}.html").write_text(article(number, 8), encoding="utf-8")
        urls.append(f"{base}/news/{number}.html")
    if huge and "article" in parts:
        fits = (max_bytes - 1000) // len(PARAGRAPH.encode())
        for number in range(huge_articles):
            (site / "news" / f"huge{number}.html").write_text(article(10_000 + number, fits), encoding="utf-8")
            urls.insert(0, f"{base}/news/huge{number}.html")  # first: all fetched at once, the worst case
    if huge:
        # each link spelled differently (a query the article pattern refuses), all pointing at the
        # articles: discovery reads max_links_per_page of them, and the crawl fetches no more than without
        link = "<a href='/news/{0}.html?from={1}'>خبر {0}</a>\n"
        count = (max_bytes - 1000) // len(link.format(199, 999999).encode())
        links = "".join(link.format(i % ARTICLES, i) for i in range(count))
        (site / "links.html").write_text(f"<html><body>{links}</body></html>", encoding="utf-8")
    entries = "".join(f"<url><loc>{url}</loc></url>" for url in urls)
    (site / "sitemap.xml").write_text(
        f"<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>{entries}</urlset>"
    )


def config(workdir: Path, base: str, max_bytes: int, huge: bool, parts: set[str], max_links: int | None) -> Path:
    listing = (
        f'listing_pages = ["{base}/links.html"]\narticle_url_pattern = "/news/(\\\\d+|huge\\\\d+)\\\\.html$"\n'
        if huge and "listing" in parts
        else ""
    )
    cap = f"max_links_per_page = {max_links}\n" if max_links else ""
    path = workdir / "crawler.toml"
    path.write_text(
        f'[crawler]\ndatabase = "{workdir / "out.db"}"\nallow_private_addresses = true\nper_host_delay = "0s"\n'
        f"max_page_bytes = {max_bytes}\nparse_processes = 2\nretries = 0\nmetrics_port = 0\n{cap}\n"
        f'[[sources]]\nid = "memory"\nname = "memory"\nsitemaps = ["{base}/sitemap.xml"]\n{listing}'
        f'interval = "1h"\nmax_articles_per_run = {ARTICLES + 10}\n'
    )  # fmt: skip
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-page-mb", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-links", type=int, help="max_links_per_page (default: the crawler's default)")
    parser.add_argument("--huge-articles", type=int, default=1, help="max-size article pages (default 1)")
    parser.add_argument("--only", choices=["article", "listing"], help="add only this max-size page")
    args = parser.parse_args()
    max_bytes = int(args.max_page_mb * 1_000_000)
    results: dict[bool, list[dict[str, float]]] = {False: [], True: []}
    parts = {args.only} if args.only else {"article", "listing"}
    with tempfile.TemporaryDirectory(prefix="crawler-memory-") as tmp:
        Path(tmp).chmod(0o755)  # nginx's workers run as an unprivileged user
        for huge in (False, True):
            root = Path(tmp) / ("huge" if huge else "plain")
            root.mkdir()
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            build(root, base, max_bytes, huge, parts, args.huge_articles)
            server, kind = serve(root, port)
            try:
                for round_ in range(args.rounds):
                    workdir = root / f"run{round_}"
                    workdir.mkdir()
                    results[huge].append(measure([sys.executable, "-m", "crawler", "crawl", "--config",
                                                  str(config(workdir, base, max_bytes, huge, parts, args.max_links))], workdir))  # fmt: skip
            finally:
                server.terminate()
                server.wait()
    print(f"server: {kind}; max_page_bytes {max_bytes / 1e6:.1f} MB; two parse workers; median of {args.rounds} runs")
    added = " + ".join(
        f"{args.huge_articles if part == 'article' else 1} max-size {part} page(s)" for part in sorted(parts)
    )
    for huge, label in ((False, f"{ARTICLES} articles"), (True, f"{ARTICLES} articles + {added}")):
        peak, wall, root, child = (statistics.median(r[key] for r in results[huge])
                                   for key in ("rss_mb", "wall", "root_mb", "largest_child_mb"))  # fmt: skip
        print(
            f"{label:<66} peak PSS {peak:5.0f} MB (crawler {root:4.0f}, largest worker {child:4.0f})  wall {wall:5.1f} s"
        )
    extra = statistics.median(r["rss_mb"] for r in results[True]) - statistics.median(
        r["rss_mb"] for r in results[False]
    )
    print(f"the largest allowed pages add {extra:.0f} MB at the peak ({extra / (max_bytes / 1e6):.1f}x max_page_bytes)")


if __name__ == "__main__":
    main()

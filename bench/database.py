"""The database at scale: N stored articles written the way a crawl writes them, then the reads users make.

Writes N articles through the store's own write path, one transaction per article as a crawl does
(SqliteStore.save_article: article row, version 1, article_new event, full-text row, MinHash bands and the
cross-source duplicate check, plus the page's fetches row; signature and search form made beforehand, as
the parse workers make them), from 20 sources over two years. The text is
the demo site's Arabic and English sentences with names and numbers from a 200,000-word vocabulary mixed
in (news is full of proper nouns), and one article in 50 is another source's copy of an earlier story.
Then it times, on the full database:

- the insert rate per tenth of the build (flat or not as the file grows);
- the duplicate check by URL: ``known_articles`` for a discovery batch of 400 links (half stored), and a
  re-fetched unchanged article going through ``save_article``;
- ``crawler search`` as it runs in-process (FTS5 query, top 20, a snippet each), with and without a
  source filter, and the CLI's wall time, Python start-up included;
- ``crawler stats`` in-process and as a command;
- bytes per article, by table and index (SQLite's dbstat).

    python bench/database.py --articles 1000000 --database /tmp/db-bench.db

A database that already holds articles is extended to N, not rebuilt: interrupt and rerun freely.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from crawler.dedupe import content_hash  # noqa: E402
from crawler.demo.content import make_article  # noqa: E402
from crawler.models import ArticleRecord  # noqa: E402
from crawler.neardup import signature  # noqa: E402
from crawler.search import ParsedQuery, index_text, query_terms, snippet  # noqa: E402
from crawler.store.sqlite import SqliteStore, SyncSqlite  # noqa: E402
from crawler.store.values import FetchRecord, SearchQuery  # noqa: E402

SOURCES = [f"source-{n:02d}" for n in range(20)]
VOCABULARY = 200_000
WRITERS = 32  # articles in flight at once, as many as a crawl's default concurrency
CHUNK = 2_000  # articles made up per call in the maker process
COPY_EVERY = 50  # one article in 50 is another source's copy of an earlier one
START = datetime(2025, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=730)  # first_seen runs over two years, ending now-ish

QUERIES = {
    "common (most articles)": ["وزارة الخارجية", "الحكومة العراقية", "The central bank"],
    "medium": ["ارتفاع إنتاج النفط", "محافظ البصرة أعلنت", "hospital waiting times"],
    "spelling variants": ["الحكومه العراقيه", "وزاره الخارجيه", "الحُكُومَةُ"],
    "rare (tens of articles)": ["name4711", "name20011 بغداد", "name31337"],
    "just under the rank limit": ["name100", "name100 بغداد"],  # ~15,000 matches at 1M: all ranked by bm25
}


def proper_noun(rng: random.Random) -> str:
    """A Zipf-like draw from the vocabulary: a few names are everywhere, most are rare."""
    return f"name{int(VOCABULARY ** rng.random())}"


def article_record(number: int, total: int) -> tuple[ArticleRecord, str]:
    """Article number ``number`` of ``total`` as the crawl would store it, and when it was first seen
    (spread evenly over SPAN by number)."""
    rng = random.Random(number)
    copy_of = rng.randrange(1, number) if number > COPY_EVERY and number % COPY_EVERY == 0 else None
    demo = make_article(copy_of or number, "2025-01-01T08:00:00+03:00")
    text_rng = random.Random(copy_of or number)
    paragraphs = [" ".join(f"{sentence.rstrip('.')} {proper_noun(text_rng)} {text_rng.randint(2, 9999)}."
                           for sentence in paragraph.split(". "))
                  for paragraph in demo.paragraphs]  # fmt: skip
    body = "\n\n".join(paragraphs)
    seen = START + SPAN * (number / total)
    source = SOURCES[(number * 7) % len(SOURCES)]
    url = f"https://{source}.example/{seen:%Y/%m/%d}/{demo.slug}-{number}/"
    fields = {"title": demo.title, "published": seen.isoformat(timespec="seconds"), "modified": None,
              "authors": [f"Reporter {rng.randint(1, 300)}"], "section": demo.section, "tags": demo.tags,
              "image": f"{url}lead.jpg", "description": paragraphs[0][:160], "body": body}  # fmt: skip
    record = ArticleRecord(
        source_id=source, url=url, canonical_url=url, language=demo.language, site_name=source, etag=f'"{number}"',
        last_modified=None, content_hash=content_hash(fields), signature=signature(body),
        search_form=(index_text(demo.title), index_text(body)),
        provenance={"title": "h1", "body": "article"}, **fields,
    )  # fmt: skip
    return record, seen.isoformat(timespec="milliseconds")


def make_records(first: int, last: int, total: int) -> list[tuple[ArticleRecord, str]]:
    return [article_record(number, total) for number in range(first, last + 1)]


async def build(path: Path, first: int, total: int, report: Callable[[int, float, float], None]) -> None:
    """Store articles first..total the way the crawl does: through the async Store, WRITERS at a time, each
    a save_article with its fetches row, in a crowd (the store thread commits what queued up together). The
    articles are made up in another process, a chunk ahead, so the figure is the store's; ``report`` gets
    the count so far, the rate since the last report and the share of that time spent waiting for them."""
    store = await SqliteStore.open(path)
    loop = asyncio.get_running_loop()
    chunks = [(start, min(start + CHUNK - 1, total)) for start in range(first, total + 1, CHUNK)]
    try:
        await store.do(add_sources)
        with ProcessPoolExecutor(1) as maker:
            upcoming = loop.run_in_executor(maker, make_records, *chunks[0], total)
            stored, since_report, waited, slice_started = first - 1, 0, 0.0, time.perf_counter()
            for index in range(len(chunks)):
                started = time.perf_counter()
                records = await upcoming
                waited += time.perf_counter() - started
                if index + 1 < len(chunks):
                    upcoming = loop.run_in_executor(maker, make_records, *chunks[index + 1], total)
                await store_all(store, records)
                stored, since_report = stored + len(records), since_report + len(records)
                if since_report >= report_every(total) or stored == total:
                    elapsed = time.perf_counter() - slice_started
                    report(stored, since_report / elapsed, waited / elapsed)
                    since_report, waited, slice_started = 0, 0.0, time.perf_counter()
    finally:
        await store.close()


async def store_all(store: SqliteStore, records: list[tuple[ArticleRecord, str]]) -> None:
    writers = asyncio.Semaphore(WRITERS)

    async def write(record: ArticleRecord, seen: str) -> None:
        async with writers:
            fetched = FetchRecord(seen, record.source_id, record.url, "article", 200, "ok", 65_000, 12.5, None)
            await store.save_article(record, seen, frozenset(), seen, fetched)

    async with asyncio.TaskGroup() as group:
        for record, seen in records:
            group.create_task(write(record, seen))


def add_sources(sync: SyncSqlite) -> None:
    with sync.db.atomic():
        sync.db.table("sources").insert_all([{"id": source, "name": source} for source in SOURCES], ignore=True)


def report_every(total: int) -> int:
    return max(total // 10, 1)


def median_ms(action: Callable[[], object], repeats: int = 9) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def command_ms(config: Path, *args: str, repeats: int = 3) -> float:
    """Median wall time of ``crawler ARGS`` as a user runs it, start-up included."""
    command = [sys.executable, "-m", "crawler", *args, "--config", str(config)]

    def run() -> None:
        finished = subprocess.run(command, capture_output=True, text=True)
        if finished.returncode:
            raise SystemExit(f"{' '.join(args)} failed ({finished.returncode}): {finished.stderr.strip()}")

    return median_ms(run, repeats)


def dedupe_checks(store: SyncSqlite, total: int) -> None:
    rng = random.Random(7)
    stored = [store.db.execute("SELECT url FROM articles WHERE id = ?", [rng.randint(1, total)]).fetchone()[0]
              for _ in range(200)]  # fmt: skip
    batch = stored + [f"https://source-01.example/2099/01/01/new-{n}/" for n in range(200)]
    print(f"known_articles, 400 links (200 stored): median {median_ms(lambda: store.known_articles(batch)):.1f} ms")
    numbers = [rng.randint(1, total) for _ in range(9)]
    records = iter([article_record(n, total) for n in numbers])
    print(f"save_article of a stored, unchanged article: median "
          f"{median_ms(lambda: store.save_article(*next(records))):.1f} ms")  # fmt: skip
    plan = store.db.execute("EXPLAIN QUERY PLAN SELECT id FROM articles WHERE canonical_url = ?", ["x"]).fetchall()
    print(f"lookup by canonical URL: {plan[0][3]}")


def search_like_the_cli(store: SyncSqlite, terms: list[str], source_id: str | None = None) -> None:
    for hit in store.search(SearchQuery(ParsedQuery.all_of(terms), source_id, limit=20)):
        snippet(hit.body, terms)


def search_checks(store: SyncSqlite, config: Path) -> None:
    print(f"{'query':<34}{'kind':<26}{'results':>8}{'median ms':>11}")
    medians = []
    for kind, queries in QUERIES.items():
        for query in queries:
            terms = query_terms(query)
            median = median_ms(lambda terms=terms: search_like_the_cli(store, terms))
            found = store.search(SearchQuery(ParsedQuery.all_of(terms), limit=20))
            medians.append(median)
            print(f"{query:<34}{kind:<26}{len(found):>8}{median:>11.1f}")
    for query in ("الحكومة العراقية", "name4711"):  # `crawler search --source`: the filter joins each match
        terms = query_terms(query)
        median = median_ms(lambda terms=terms: search_like_the_cli(store, terms, SOURCES[3]))
        medians.append(median)
        found = store.search(SearchQuery(ParsedQuery.all_of(terms), source_id=SOURCES[3], limit=20))
        print(f"{query:<34}{'one source (--source)':<26}{len(found):>8}{median:>11.1f}")
    print(f"search in-process: median {statistics.median(medians):.1f} ms, worst {max(medians):.1f} ms")
    print(f"`crawler search 'الحكومة العراقية'` wall time (Python start-up included): "
          f"{command_ms(config, 'search', 'الحكومة العراقية'):.0f} ms")  # fmt: skip


def stats_checks(store: SyncSqlite, config: Path) -> None:
    print(f"stats in-process: median {median_ms(store.stats, 5):.0f} ms")
    print(f"`crawler stats` wall time (Python start-up included): {command_ms(config, 'stats'):.0f} ms")


def size_report(store: SyncSqlite, path: Path, total: int) -> None:
    rows = store.db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC").fetchall()
    size = path.stat().st_size
    print(f"file {size / 1e9:.2f} GB, {size / total / 1000:.1f} KB per article; largest parts (KB per article):")
    for name, size_bytes in rows[:10]:
        print(f"  {name:<44}{size_bytes / total / 1000:>8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--database", type=Path, help="reuse or keep the database here (default: a temp dir)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = args.database or Path(tmp) / "database.db"
        config = Path(tmp) / "crawler.toml"
        config.write_text(f'[crawler]\ndatabase = "{path}"\n\n[[sources]]\nid = "source-00"\nname = "x"\n'
                          f'feeds = ["https://source-00.example/feed"]\ninterval = "1h"\n')  # fmt: skip
        stored = SyncSqlite(path)
        already = stored.db.execute("SELECT count(*) FROM articles").fetchone()[0]
        stored.close()
        if already < args.articles:
            print(f"storing articles {already + 1:,} to {args.articles:,}")
            asyncio.run(build(path, already + 1, args.articles, lambda n, rate, waiting: print(
                f"  {n:>9,} stored, {rate:,.0f} articles/s since the last line"
                f" ({waiting:.0%} of it waiting for made-up articles)", flush=True)))  # fmt: skip
        store = SyncSqlite(path)
        try:
            store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            total = store.db.execute("SELECT count(*) FROM articles").fetchone()[0]
            print(f"{total:,} articles")
            dedupe_checks(store, total)
            search_checks(store, config)
            stats_checks(store, config)
            size_report(store, path, total)
        finally:
            store.close()


if __name__ == "__main__":
    main()

"""Search latency over a large stored corpus: `crawler search` queries against N articles.

Builds a database of N articles (the demo site's Arabic and English text, with a rare word in one article
in a thousand) through the store's own schema and index form (crawler.search.index_text), then times
each query the way `crawler search` runs it: the ranked FTS5 query (top 20) plus a snippet per result.

    python bench/search.py --articles 100000 [--database /tmp/search-bench.db]

The demo text has a small vocabulary, so common words match most of the corpus: a worst case for
ranking, reported separately from selective queries.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from crawler.demo.content import make_article  # noqa: E402
from crawler.search import index_text, query_terms, snippet  # noqa: E402
from crawler.store import SyncStore  # noqa: E402

QUERIES = {
    "common (most articles)": ["وزارة الخارجية", "الحكومة العراقية", "The central bank"],
    "medium": ["ارتفاع إنتاج النفط", "محافظ البصرة أعلنت", "hospital waiting times"],
    "spelling variants": ["الحكومه العراقيه", "وزاره الخارجيه", "الحُكُومَةُ"],
    "rare (1 in 1,000)": ["كلمةنادرة7", "كلمةنادرة42 بغداد", "rareword13"],
}


def build(store: SyncStore, count: int, batch: int = 2000) -> float:
    """Insert count articles and their index rows; returns seconds spent."""
    started = time.perf_counter()
    store.db.table("sources").insert({"id": "bench", "name": "Bench"}, ignore=True)
    for first in range(1, count + 1, batch):
        rows, index = [], []
        for article_id in range(first, min(first + batch, count + 1)):
            article = make_article(article_id, "2024-01-25T08:00:00+03:00")
            body = "\n\n".join(article.paragraphs)
            if article_id % 1000 == 0:
                body += f"\n\nكلمةنادرة{article_id // 1000 % 100} rareword{article_id // 1000 % 100}"
            rows.append((article_id, "bench", f"https://e.com/{article_id}", f"https://e.com/{article_id}",
                         article.title, article.published, body, "x", 1, "2024-01-25T05:00:00Z"))  # fmt: skip
            index.append((article_id, index_text(article.title), index_text(body)))
        with store.db.conn:
            store.db.conn.executemany(
                "INSERT INTO articles (id, source_id, url, canonical_url, title, published, body, content_hash,"
                " versions, first_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            store.db.conn.executemany("INSERT INTO articles_fts (rowid, title, body) VALUES (?, ?, ?)", index)
    return time.perf_counter() - started


def time_query(store: SyncStore, query: str, repeats: int = 7) -> tuple[float, int]:
    """Median ms of the full search (query + snippets of the top 20), and the number of results."""
    times, found = [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        terms = query_terms(query)
        rows = store.search(terms, limit=20)
        for row in rows:
            snippet(row["body"] or "", terms)
        times.append((time.perf_counter() - started) * 1000)
        found = len(rows)
    return statistics.median(times), found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--database", type=Path, help="reuse or keep the database here (default: a temp dir)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = args.database or Path(tmp) / "search.db"
        store = SyncStore(path)
        try:
            stored = store.db.execute("SELECT count(*) FROM articles").fetchone()[0]
            if stored < args.articles:
                seconds = build(store, args.articles - stored) if stored == 0 else build(store, 0)
                print(f"built {args.articles:,} articles with their index in {seconds:.1f} s "
                      f"({path.stat().st_size / 1e6:.0f} MB)")  # fmt: skip
            print(f"{'query':<34}{'kind':<26}{'results':>8}{'median ms':>11}")
            medians = []
            for kind, queries in QUERIES.items():
                for query in queries:
                    median, found = time_query(store, query)
                    medians.append(median)
                    print(f"{query:<34}{kind:<26}{found:>8}{median:>11.1f}")
            print(f"all queries: median {statistics.median(medians):.1f} ms, worst {max(medians):.1f} ms")
        finally:
            store.close()


if __name__ == "__main__":
    main()

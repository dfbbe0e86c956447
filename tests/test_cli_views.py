"""`crawler stats`, `crawler show` and `crawler export` on a database built by a real crawl."""

from __future__ import annotations

import csv
import io
import json
import re
import tracemalloc
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from conftest import query, serving, site_source, write_config
from test_pipeline import crawl

from crawler.cli import main
from crawler.cli.common import SinceType
from crawler.demo.site import NewsSite
from crawler.export import EXPORT_FIELDS, write_jsonl
from crawler.store.sqlite import SyncSqlite
from crawler.store.values import ArticleView, ExportQuery


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config whose database holds a crawl of the demo site, one article edited once."""
    tmp = tmp_path_factory.mktemp("views")
    site = NewsSite(articles=9)
    with serving(site) as base:
        config = write_config(tmp, site_source(base))
        crawl(config)
        site.edit_article(1)
        crawl(config, recheck_all=True)
    return config


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_stats_counts_what_the_database_holds(crawled: Path) -> None:
    figures = json.loads(run("stats", "--config", str(crawled), "--json"))
    db = crawled.parent / "crawler.db"
    assert figures["articles"] == query(db, "SELECT count(*) FROM articles")[0][0] == 6
    assert figures["versions"] == 7 and figures["articles_per_source"] == {"demo": 6}
    assert sum(figures["articles_per_day"].values()) == 6
    assert figures["events_per_type"] == {"article_new": 6, "article_updated": 1}
    assert figures["file_bytes"] >= figures["database_bytes"] > 0
    assert "articles per source" in run("stats", "--config", str(crawled))


def test_show_prints_one_article_by_id_or_url(crawled: Path) -> None:
    db = crawled.parent / "crawler.db"
    ((article_id, url, title, body),) = query(
        db, "SELECT id, canonical_url, title, body FROM articles WHERE versions = 2"
    )
    by_id = json.loads(run("show", str(article_id), "--config", str(crawled), "--json"))
    assert by_id["title"] == title and by_id["body"] == body and by_id["versions"] == 2
    assert isinstance(by_id["tags"], list) and "signature" not in by_id
    text = run("show", url, "--config", str(crawled))
    assert text.startswith(title) and text.rstrip().endswith(body.rstrip()[-40:])
    missing = CliRunner().invoke(main, ["show", "999", "--config", str(crawled)])
    assert missing.exit_code == 2 and "no stored article" in missing.output


def test_exports_round_trip_in_every_format(crawled: Path, tmp_path: Path) -> None:
    pyarrow_parquet = pytest.importorskip("pyarrow.parquet")
    db = crawled.parent / "crawler.db"
    cursor_rows = query(db, f"SELECT {', '.join(EXPORT_FIELDS)} FROM articles ORDER BY id")
    expected = [dict(zip(EXPORT_FIELDS, row)) for row in cursor_rows]
    for row in expected:
        row["authors"], row["tags"] = json.loads(row["authors"]), json.loads(row["tags"])

    lines = run("export", "--config", str(crawled)).splitlines()
    assert [json.loads(line) for line in lines] == expected
    as_csv = list(csv.DictReader(io.StringIO(run("export", "--config", str(crawled), "--format", "csv"))))
    assert [row["title"] for row in as_csv] == [row["title"] for row in expected]
    assert [json.loads(row["tags"]) for row in as_csv] == [row["tags"] for row in expected]
    assert list(as_csv[0]) == list(EXPORT_FIELDS)
    parquet = tmp_path / "articles.parquet"
    run("export", "--config", str(crawled), "--format", "parquet", "--out", str(parquet))
    table = pyarrow_parquet.read_table(parquet)
    assert str(table.schema.field("published").type) == "timestamp[ms, tz=UTC]"
    times = ("published", "modified", "first_seen", "last_changed", "removed_at")
    as_times = [{k: datetime.fromisoformat(v) if k in times and v else v for k, v in row.items()} for row in expected]
    assert table.to_pylist() == as_times
    excel = tmp_path / "articles.csv"
    run("export", "--config", str(crawled), "--format", "csv", "--excel", "--out", str(excel))
    raw = excel.read_bytes()
    assert raw.startswith("\ufeff".encode()) and b"\r\n" in raw  # a spreadsheet reads it as UTF-8
    assert [row["title"] for row in csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))] == [
        r["title"] for r in expected
    ]


def test_export_filters_by_source_and_dates(crawled: Path) -> None:
    db = crawled.parent / "crawler.db"
    days = sorted({row[0][:10] for row in query(db, "SELECT COALESCE(published, first_seen) FROM articles")})
    everything = run("export", "--config", str(crawled)).splitlines()
    first_day = run("export", "--config", str(crawled), "--until", days[0]).splitlines()
    later = run("export", "--config", str(crawled), "--since", days[-1]).splitlines()
    assert 0 < len(first_day) and 0 < len(later) and len(everything) == 6
    assert all(json.loads(line)["published"][:10] <= days[0] for line in first_day)
    assert run("export", "--config", str(crawled), "--source", "nope") == ""
    parquet_to_stdout = CliRunner().invoke(main, ["export", "--config", str(crawled), "--format", "parquet"])
    assert parquet_to_stdout.exit_code == 2 and "--out FILE" in parquet_to_stdout.output


def test_export_memory_stays_flat_on_a_large_database(tmp_path: Path) -> None:
    """1,000 and then 6,000 articles with 3 KB bodies: the export's traced peak is the same for both (one
    batch in memory), and far below the 18 MB written."""
    store = SyncSqlite(tmp_path / "big.db")
    try:
        body = "نص طويل من المقال " * 170
        for source, count in (("small", 1000), ("large", 6000)):
            store.db.table("sources").insert({"id": source, "name": source})
            store.db.table("articles").insert_all(
                ({"source_id": source, "url": f"https://e.example/{source}/{i}", "title": f"t{i}", "authors": "[]",
                  "canonical_url": f"https://e.example/{source}/{i}", "tags": "[]", "body": body,
                  "content_hash": f"{source}{i}", "versions": 1, "first_seen": "2026-01-01T00:00:00+00:00"}
                 for i in range(count)),
                batch_size=500,
            )  # fmt: skip
        peaks = {}
        for source in ("small", "large"):
            out = tmp_path / f"{source}.jsonl"
            tracemalloc.start()
            try:
                with out.open("w", encoding="utf-8") as stream:
                    written = write_jsonl(batches(store, ExportQuery(source)), stream)
                peaks[source] = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            assert written == {"small": 1000, "large": 6000}[source]
    finally:
        store.close()
    large_file = (tmp_path / "large.jsonl").stat().st_size
    assert large_file > 18_000_000
    assert peaks["large"] < 1.2 * peaks["small"] and peaks["large"] < large_file / 2, peaks


def batches(store: SyncSqlite, query: ExportQuery) -> Iterator[list[ArticleView]]:
    """The export's batches as `crawler export` reads them: a batch at a time, after the last id."""
    while batch := store.export_batch(query):
        yield batch
        query = replace(query, after_id=batch[-1].id)


def test_events_shows_the_newest_by_default_and_reads_times_as_people_write_them(crawled: Path) -> None:
    config = str(crawled)
    every = [json.loads(line) for line in run("events", "--config", config, "--json", "--limit", "500").splitlines()]
    assert len(every) == 7 and [e["id"] for e in every] == sorted(e["id"] for e in every)
    newest = [
        json.loads(line)["id"] for line in run("events", "--config", config, "--json", "--limit", "2").splitlines()
    ]
    assert newest == [every[-2]["id"], every[-1]["id"]]  # the last two, the newest at the bottom
    after = [json.loads(line)["id"] for line in run("events", "--config", config, "--json", "--after",
                                                   str(every[0]["id"]), "--limit", "2").splitlines()]  # fmt: skip
    assert after == [every[1]["id"], every[2]["id"]]  # --after: from there on, oldest first
    assert len(run("events", "--config", config, "--since", "1h", "--limit", "500").splitlines()) == 7
    assert len(run("events", "--config", config, "--since", "yesterday", "--limit", "500").splitlines()) == 7
    assert run("events", "--config", config, "--since", "2999-01-01") == ""
    refused = CliRunner().invoke(main, ["events", "--config", config, "--since", "last tuesday"])
    assert refused.exit_code == 2 and "write a date (2026-12-01)" in refused.output


def test_times_are_shown_in_the_display_time_zone_and_stored_ones_stay_utc(crawled: Path, tmp_path: Path) -> None:
    config = str(crawled)
    (event,) = [json.loads(line) for line in run("events", "--config", config, "--json", "--limit", "1").splitlines()]
    stored = datetime.fromisoformat(event["ts"])
    assert stored.utcoffset() is not None and stored.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    in_kathmandu = stored.astimezone(ZoneInfo("Asia/Kathmandu")).strftime("%Y-%m-%d %H:%M:%S")  # +05:45
    line = run("events", "--config", config, "--limit", "1", "--tz", "Asia/Kathmandu")
    assert in_kathmandu in line and event["data"]["title"] in line  # the headline, then the address
    assert json.loads(run("events", "--config", config, "--json", "--limit", "1", "--tz", "Asia/Kathmandu"))[
        "ts"] == event["ts"]  # fmt: skip
    # the same through the config's display_timezone, for every command that shows a time
    local = tmp_path / "local.toml"
    local.write_text(crawled.read_text().replace("[crawler]", '[crawler]\ndisplay_timezone = "Asia/Kathmandu"'))
    assert in_kathmandu in run("events", "--config", str(local), "--limit", "1")
    ((first_seen, article_id),) = query(crawled.parent / "crawler.db", "SELECT first_seen, id FROM articles LIMIT 1")
    seen_there = datetime.fromisoformat(first_seen).astimezone(ZoneInfo("Asia/Kathmandu"))
    assert f"first_seen     {seen_there:%Y-%m-%d %H:%M:%S}" in run("show", str(article_id), "--config", str(local))
    assert f"first seen {seen_there:%Y-%m-%d %H:%M:%S}" in run("history", str(article_id), "--config", str(local))
    wrong = CliRunner().invoke(main, ["events", "--config", config, "--tz", "Mars/Olympus"])
    assert wrong.exit_code == 2 and "unknown time zone 'Mars/Olympus'" in wrong.output


def test_since_reads_dates_and_midnights_in_the_display_zone() -> None:
    now = datetime(2026, 12, 6, 22, 30, tzinfo=UTC)  # already 7 December in Baghdad (+03:00)
    baghdad = ZoneInfo("Asia/Baghdad")
    since = SinceType()
    assert since.convert("today", None, None).moment(baghdad, now) == datetime(2026, 12, 6, 21, 0, tzinfo=UTC)
    assert since.convert("today", None, None).moment(ZoneInfo("UTC"), now) == datetime(2026, 12, 6, tzinfo=UTC)
    assert since.convert("yesterday", None, None).moment(baghdad, now) == datetime(2026, 12, 5, 21, 0, tzinfo=UTC)
    assert since.convert("2026-12-01T08:30", None, None).moment(baghdad, now) == datetime(2026, 12, 1, 5, 30,
                                                                                          tzinfo=UTC)  # fmt: skip
    assert since.convert("2h", None, None).moment(baghdad, now) == datetime(2026, 12, 6, 20, 30, tzinfo=UTC)


def test_search_refuses_an_unknown_source_and_a_query_of_exclusions_only(crawled: Path) -> None:
    unknown = CliRunner().invoke(main, ["search", "العراق", "--config", str(crawled), "--source", "nope"])
    assert unknown.exit_code == 2 and "no source 'nope'" in unknown.output
    only_not = CliRunner().invoke(main, ["search", "--config", str(crawled), "--", "-العراق"])
    assert only_not.exit_code == 2 and "only exclusions" in only_not.output


def test_sources_test_says_what_became_of_every_link_and_a_first_failed_run_is_not_ok(tmp_path: Path) -> None:
    site = NewsSite(articles=6)
    with serving(site) as base:
        sources = site_source(base) + site_source(base, "typo", article_url_pattern="'/nwes/'")
        config = str(write_config(tmp_path, sources))
        before = CliRunner().invoke(main, ["sources", "test", "demo", "--config", config])
        assert before.exit_code == 0 and "demo: 4 to collect, 0 already stored" in before.output, before.output
        crawl(Path(config), ["demo"])
        after = CliRunner().invoke(main, ["sources", "test", "demo", "--config", config, "--links"])
        assert "demo: 0 to collect, 4 already stored" in after.output and "known " in after.output, after.output
        typo = CliRunner().invoke(main, ["sources", "test", "typo", "--config", config])
        assert typo.exit_code == 1 and "typo: 0 to collect" in typo.output
        assert re.search(r"[1-9]\d* not matching article_url_pattern '/nwes/'", typo.output), typo.output
    unknown = CliRunner().invoke(main, ["sources", "test", "nope", "--config", config])
    assert unknown.exit_code == 2 and "no source 'nope'" in unknown.output
    (tmp_path / "down").mkdir()
    down = write_config(tmp_path / "down", site_source("http://127.0.0.1:9", "down"))  # nothing listens there
    crawl(down)
    listed = CliRunner().invoke(main, ["sources", "--config", str(down)])
    assert "failed" in listed.output and "ok " not in listed.output, listed.output  # one failed run: not ok

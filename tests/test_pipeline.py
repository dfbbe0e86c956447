"""End to end: a real demo site on 127.0.0.1, the real pipeline, a real SQLite file."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import query, site_source, write_config
from pytest_httpserver import HTTPServer
from rich.console import Console
from werkzeug import Request, Response

from crawler.cli import main
from crawler.config import load_config
from crawler.crawl_once import crawl_once
from crawler.demo.site import NewsSite


def crawl(config_path: Path, source_ids: list[str] | None = None, recheck_all: bool = False) -> list:
    config = load_config(config_path)
    sources = [s for s in config.sources if source_ids is None or s.id in source_ids]
    console = Console(file=io.StringIO(), force_terminal=False)
    return asyncio.run(crawl_once(config, sources, recheck_all=recheck_all, console=console))


def test_first_crawl_stores_every_article_once_with_its_fields(news_site: tuple[NewsSite, str], tmp_path: Path) -> None:
    site, base = news_site
    config = write_config(tmp_path, site_source(base))
    [summary] = crawl(config)

    arabic = [a for a in site.articles() if a.language == "ar"]
    assert summary.new == len(arabic) and summary.failed == 0
    db = tmp_path / "crawler.db"
    rows = query(db, "SELECT canonical_url, title, published, published_text, section, language, tags, body "
                     "FROM articles ORDER BY id")  # fmt: skip
    assert len(rows) == len(arabic)
    by_url = {row[0]: row for row in rows}
    for article in arabic:
        url, title, published, published_text, section, language, tags, body = by_url[f"{base}{article.path}"]
        assert title == article.title
        # stored as the UTC instant, beside the string the page wrote (here its meta tag, with +03:00)
        assert datetime.fromisoformat(published) == datetime.fromisoformat(article.published)
        assert published.endswith("+00:00") and published_text == article.published
        assert section == article.section
        assert language == "ar"
        # Persian letters in the site's tags come out as Arabic letters
        assert json.loads(tags) == [t.replace("ی", "ي").replace("ک", "ك") for t in article.tags]
        assert body == "\n\n".join(article.paragraphs)  # no read-also box, tags, related list or comments
    assert query(db, "SELECT count(*) FROM events WHERE type = 'article_new'") == [(len(arabic),)]
    assert query(db, "SELECT count(*) FROM article_versions") == [(len(arabic),)]


def test_second_crawl_adds_nothing_and_gets_304s(news_site: tuple[NewsSite, str], tmp_path: Path) -> None:
    _, base = news_site
    config = write_config(tmp_path, site_source(base))
    crawl(config)
    db = tmp_path / "crawler.db"
    articles_before = query(db, "SELECT count(*) FROM articles")
    events_before = query(db, "SELECT count(*) FROM events")
    fetches_before = query(db, "SELECT max(id) FROM fetches")[0][0]

    [summary] = crawl(config)

    assert summary.new == 0 and summary.updated == 0 and summary.failed == 0
    assert query(db, "SELECT count(*) FROM articles") == articles_before
    assert query(db, "SELECT count(*) FROM events") == events_before
    second = query(db, "SELECT kind, status FROM fetches WHERE id > ?", (fetches_before,))
    assert second, "the second crawl fetched nothing at all"
    assert {status for _, status in second} == {304}  # feed, listing page and every re-check: not modified
    assert summary.unchanged == articles_before[0][0]


def test_edited_article_gives_one_update_event_and_a_second_version(
    news_site: tuple[NewsSite, str], tmp_path: Path
) -> None:
    site, base = news_site
    config = write_config(tmp_path, site_source(base))
    crawl(config)
    edited = next(a for a in site.articles() if a.language == "ar")
    site.edit_article(edited.id)

    [summary] = crawl(config)

    db = tmp_path / "crawler.db"
    assert summary.updated == 1
    updates = query(db, "SELECT article_id, data FROM events WHERE type = 'article_updated'")
    assert len(updates) == 1
    data = json.loads(updates[0][1])
    assert data["changed"] == ["body", "modified"] and data["version"] == 2
    versions = query(
        db, "SELECT version, body FROM article_versions WHERE article_id = ? ORDER BY version", (updates[0][0],)
    )
    assert [v for v, _ in versions] == [1, 2]
    assert versions[1][1].endswith(edited.paragraphs[-1]) and not versions[0][1].endswith(edited.paragraphs[-1])
    # the event carries a paragraph-level diff, and `crawler history` shows it
    assert data["diff"] == {"added": [edited.paragraphs[-1]], "removed": [], "changed": []}
    shown = CliRunner().invoke(main, ["history", str(updates[0][0]), "--config", str(config)])
    assert shown.exit_code == 0, shown.output
    assert "version 2" in shown.output and f"+ {edited.paragraphs[-1]}" in shown.output
    unknown = CliRunner().invoke(main, ["history", "https://nowhere.example/x", "--config", str(config)])
    assert unknown.exit_code == 2 and "no stored article" in unknown.output


def test_failing_source_records_failures_and_others_are_still_collected(
    news_site: tuple[NewsSite, str], tmp_path: Path, httpserver: HTTPServer
) -> None:
    _, base = news_site
    httpserver.expect_request("/feed.xml").respond_with_data("down", status=500)
    broken = httpserver.url_for("/feed.xml")
    sources = site_source(base) + site_source(base, "broken", feeds=f'["{broken}"]', listing_pages="[]")
    config = write_config(tmp_path, sources, failure_threshold=2)

    for _ in range(2):
        summaries = {s.source_id: s for s in crawl(config)}

    assert summaries["demo"].ok and not summaries["broken"].ok
    db = tmp_path / "crawler.db"
    assert query(db, "SELECT count(*) FROM articles WHERE source_id = 'demo'")[0][0] > 0
    failed = query(db, "SELECT data FROM events WHERE type = 'fetch_failed' AND source_id = 'broken'")
    assert len(failed) == 2 and json.loads(failed[0][0])["reason"] == "HTTP 500"
    feed_requests = [request for request, _ in httpserver.log if request.path != "/robots.txt"]
    assert len(feed_requests) == 4  # 2 runs x (1 try + 1 retry): 5xx is retried
    assert query(db, "SELECT type FROM events WHERE source_id = 'broken' AND type LIKE 'source_%'") == [
        ("source_failing",)
    ]
    assert query(db, "SELECT state FROM sources WHERE id = 'broken'") == [("failing",)]

    httpserver.clear()
    httpserver.expect_request("/feed.xml").respond_with_data(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>',
        content_type="application/rss+xml",
    )
    crawl(config, ["broken"])
    assert query(db, "SELECT type FROM events WHERE source_id = 'broken' AND type LIKE 'source_%' ORDER BY id") == [
        ("source_failing",),
        ("source_recovered",),
    ]


def test_sitemap_index_and_news_sitemap_are_followed(news_site: tuple[NewsSite, str], tmp_path: Path) -> None:
    site, base = news_site
    source = site_source(base, feeds="[]", listing_pages="[]", sitemaps=f'["{base}/sitemap.xml"]')
    config = write_config(tmp_path, source)
    [summary] = crawl(config)
    assert summary.new == len(site.articles())  # both language sitemaps, through the index


def test_a_source_that_names_only_the_sites_robots_txt_finds_its_sitemaps(
    news_site: tuple[NewsSite, str], tmp_path: Path
) -> None:
    site, base = news_site
    source = site_source(base, feeds="[]", listing_pages="[]", sitemaps=f'["{base}/robots.txt"]')
    [summary] = crawl(write_config(tmp_path, source))
    assert summary.ok and summary.new == len(site.articles())  # robots.txt -> its Sitemap: -> index -> sitemaps


def test_an_index_with_more_children_than_a_run_reads_is_read_whole_over_later_runs(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    children = 60  # a run reads 50 child sitemaps
    base = httpserver.url_for("").rstrip("/")
    entries = "".join(f"<sitemap><loc>{base}/s{n}.xml</loc></sitemap>" for n in range(children))
    index = f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</sitemapindex>'
    httpserver.expect_request("/index.xml").respond_with_data(index, content_type="application/xml")
    for n in range(children):
        urlset = (f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                  f"<url><loc>{base}/2024/01/01/story-{n}/</loc></url></urlset>")  # fmt: skip
        httpserver.expect_request(f"/s{n}.xml").respond_with_data(urlset, content_type="application/xml")
        body = "".join(f"<p>Story {n}: the council met again about the budget and the new bridge, part {p}.</p>"
                       for p in range(4))  # fmt: skip
        page = f"<html><head><title>Story {n}</title></head><body><article><h1>Story {n}</h1>{body}</article></body></html>"
        httpserver.expect_request(f"/2024/01/01/story-{n}/").respond_with_data(page, content_type="text/html")
    source = site_source(base, feeds="[]", listing_pages="[]", sitemaps=f'["{base}/index.xml"]', language='"en"')
    config = write_config(tmp_path, source)
    [first] = crawl(config)
    assert first.new == 50 and first.skipped.get("child_sitemaps_later") == 10, first
    [second] = crawl(config)
    assert second.new == 10, second  # the ten left out, read first now, then the index's head again
    assert query(tmp_path / "crawler.db", "SELECT count(*) FROM articles")[0][0] == children


def test_a_run_that_takes_no_link_says_which_filter_turned_them_away(
    news_site: tuple[NewsSite, str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _, base = news_site
    wrong = site_source(base, "typo", article_url_pattern="'/nwes/'", allowed_domains='["127.0.0.1", "other.example"]')
    config = write_config(tmp_path, wrong)
    for run in range(2):  # the site answers the second run's conditional GETs with 304: the warning repeats anyway
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="crawler.pipeline"):
            [summary] = crawl(config)
        assert summary.ok and summary.new == 0
        [warning] = [r.getMessage() for r in caplog.records if "no article link taken" in r.getMessage()]
        assert "not matching article_url_pattern '/nwes/'" in warning, (run, warning)
        assert summary.warning and summary.warning in warning
    listed = CliRunner().invoke(main, ["sources", "--config", str(config)])
    assert listed.exit_code == 0, listed.output
    assert "no links" in listed.output and "not matching article_url_pattern '/nwes/'" in listed.output, listed.output
    [as_json] = [
        json.loads(line)
        for line in CliRunner().invoke(main, ["sources", "--json", "--config", str(config)]).output.splitlines()
    ]
    assert "article_url_pattern" in as_json["last_warning"]
    # once the pattern is mended, a run takes the links and the warning is gone
    config.write_text(config.read_text().replace("'/nwes/'", r"'/\d{4}/\d{2}/\d{2}/'"))
    [mended] = crawl(config)
    assert mended.new > 0 and mended.warning is None, mended
    listed = CliRunner().invoke(main, ["sources", "--config", str(config)])
    assert "no links" not in listed.output and "article_url_pattern" not in listed.output, listed.output
    caplog.clear()
    elsewhere = site_source(base, "elsewhere", allowed_domains='["other.example"]')
    with caplog.at_level(logging.WARNING, logger="crawler.pipeline"):
        (tmp_path / "second").mkdir()
        crawl(write_config(tmp_path / "second", elsewhere))
    [warning] = [r.getMessage() for r in caplog.records if "no article link taken" in r.getMessage()]
    assert "outside allowed_domains ['other.example']" in warning, warning


def test_a_hung_server_cannot_hold_a_source_past_run_timeout(tmp_path: Path, httpserver: HTTPServer) -> None:
    def hang(request: Request) -> Response:
        time.sleep(2)
        return Response("late")

    httpserver.expect_request("/feed.xml").respond_with_handler(hang)
    source = site_source("http://unused.invalid", "slow", feeds=f'["{httpserver.url_for("/feed.xml")}"]',
                         listing_pages="[]")  # fmt: skip
    config = write_config(tmp_path, source, run_timeout="500ms", timeout="10s")
    started = time.monotonic()
    [summary] = crawl(config)
    assert time.monotonic() - started < 2
    assert summary.error == "run_timeout exceeded"
    assert query(tmp_path / "crawler.db", "SELECT last_error FROM sources WHERE id = 'slow'") == [
        ("run_timeout exceeded",)
    ]


def test_crawl_command_prints_a_summary_hosts_their_state_and_extract_the_article(
    news_site: tuple[NewsSite, str], tmp_path: Path
) -> None:
    _, base = news_site
    config = write_config(tmp_path, site_source(base))
    result = CliRunner().invoke(main, ["crawl", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "crawl summary" in result.output and "demo" in result.output
    hosts = CliRunner().invoke(main, ["hosts", "--config", str(config), "--json"])
    (host,) = [json.loads(line) for line in hosts.output.splitlines()]
    assert host["host"] == base.removeprefix("http://") and host["last_status"] == 200
    fetches = query(tmp_path / "crawler.db", "SELECT count(*) FROM fetches")[0][0]
    assert host["requests"] == fetches + 1  # and robots.txt
    assert host["failures"] == 0 and host["blocked_until"] is None and host["robots"] in ("ok", "missing")
    shown = CliRunner().invoke(main, ["hosts", "--config", str(config)])
    assert shown.exit_code == 0 and "s between requests" in shown.output

    seed = Path(__file__).parent / "golden" / "seed" / "article.html"
    result = CliRunner().invoke(main, ["extract", str(seed)])
    fields = json.loads(result.output)
    assert list(fields) == ["url", "canonical_url", "title", "published", "modified", "authors", "section", "tags",
                            "language", "image", "site_name", "description", "body", "provenance",
                            "empty_body_reason", "published_text", "modified_text"]  # fmt: skip
    assert fields["published"] == "2024-01-25T14:32:00+03:00"
    assert fields["provenance"]["published"].startswith(("json-ld:", "meta:"))


def test_a_removed_article_gives_one_removed_event_and_a_restored_one_when_it_returns(
    news_site: tuple[NewsSite, str], tmp_path: Path
) -> None:
    """Stored articles are re-checked by age even when no listing links to them any more; "0s" makes
    every article due at the next run."""
    site, base = news_site
    config = write_config(tmp_path, site_source(base, recheck_after='["0s", "1h"]'))
    crawl(config)
    db = tmp_path / "crawler.db"
    gone = next(a for a in site.articles() if a.language == "ar")
    site.remove_article(gone.id)

    [summary] = crawl(config)
    assert summary.skipped.get("removed") == 1 and summary.failed == 0
    removed = query(db, "SELECT data FROM events WHERE type = 'article_removed'")
    assert len(removed) == 1 and json.loads(removed[0][0])["reason"] == "HTTP 404"

    crawl(config, recheck_all=True)  # still gone: no second event
    assert len(query(db, "SELECT id FROM events WHERE type = 'article_removed'")) == 1
    assert query(db, "SELECT count(*) FROM article_versions a JOIN articles b ON a.article_id = b.id "
                     "WHERE b.removed_at IS NOT NULL") == [(1,)]  # fmt: skip  # the versions are kept

    site.restore_article(gone.id)
    crawl(config, recheck_all=True)
    assert len(query(db, "SELECT id FROM events WHERE type = 'article_restored'")) == 1
    assert query(db, "SELECT count(*) FROM articles WHERE removed_at IS NOT NULL") == [(0,)]


def test_articles_are_scheduled_by_age_and_not_rechecked_before_they_are_due(
    news_site: tuple[NewsSite, str], tmp_path: Path
) -> None:
    site, base = news_site
    config = write_config(tmp_path, site_source(base, recheck_interval='"1h"'))  # default recheck_after: 15m first
    crawl(config)
    db = tmp_path / "crawler.db"
    rows = query(db, "SELECT first_seen, next_check FROM articles")
    assert rows and all(
        abs((datetime.fromisoformat(n) - datetime.fromisoformat(f)).total_seconds() - 900) < 1 for f, n in rows
    )
    site.remove_article(next(a for a in site.articles() if a.language == "ar").id)
    [summary] = crawl(config)  # nothing is due yet: the removal is not noticed before the 15-minute check
    assert summary.skipped.get("removed") is None


def test_a_broken_template_degrades_the_source_once_and_fixing_it_recovers(
    news_site: tuple[NewsSite, str], tmp_path: Path
) -> None:
    site, base = news_site
    config = write_config(tmp_path, site_source(base))
    db = tmp_path / "crawler.db"
    crawl(config)  # healthy: every article page has a body and a title
    stored_bodies = query(db, "SELECT id, body FROM articles ORDER BY id")

    site.empty_template = True
    for _ in range(4):
        site.add_article()
    crawl(config)
    crawl(config)  # still broken: no second event
    degraded = query(db, "SELECT data FROM events WHERE type = 'source_degraded'")
    assert len(degraded) == 1 and "article pages gave a body and a title" in json.loads(degraded[0][0])["reason"]
    assert query(db, "SELECT id, body FROM articles ORDER BY id")[: len(stored_bodies)] == stored_bodies  # not erased
    listed = CliRunner().invoke(main, ["sources", "--config", str(config)])
    assert listed.exit_code == 0 and "degraded" in listed.output and "gave a body" in listed.output

    site.empty_template = False
    crawl(config)
    recovered = query(db, "SELECT data FROM events WHERE type = 'source_recovered'")
    assert len(recovered) == 1 and json.loads(recovered[0][0])["from"] == "degraded"


def test_the_same_story_on_a_second_source_is_linked_to_the_first(
    news_site: tuple[NewsSite, str], tmp_path: Path
) -> None:
    """Two sites publishing the same agency copy (two demo sites with the same articles); the second
    source's copies are linked as one story with the first's, and each gets one article_duplicate event."""
    from conftest import serving

    _, base = news_site
    mirror = NewsSite(articles=6)
    with serving(mirror) as mirror_base:
        config = write_config(tmp_path, site_source(base, "first"))
        crawl(config)
        config = write_config(tmp_path, site_source(base, "first") + site_source(mirror_base, "second"))
        crawl(config, ["second"])
    db = tmp_path / "crawler.db"
    duplicates = [json.loads(d) for (d,) in query(db, "SELECT data FROM events WHERE type = 'article_duplicate'")]
    seconds = query(db, "SELECT id, story_id FROM articles WHERE source_id = 'second'")
    assert len(duplicates) == len(seconds) > 0
    firsts = dict(query(db, "SELECT canonical_url, id FROM articles WHERE source_id = 'first'"))
    assert {d["duplicate_of"] for d in duplicates} == set(firsts.values())
    assert all(story_id in firsts.values() for _, story_id in seconds) and all(
        d["similarity"] >= 0.8 for d in duplicates
    )
    assert query(db, "SELECT count(*) FROM events WHERE type = 'article_duplicate' AND source_id = 'first'") == [(0,)]


def test_a_page_whose_only_change_is_a_view_counter_makes_no_version(
    news_site: tuple[NewsSite, str], tmp_path: Path
) -> None:
    site, base = news_site
    site.volatile = True  # every fetch shows new "منذ N ساعات · N مشاهدة"
    config = write_config(tmp_path, site_source(base))
    crawl(config)
    [summary] = crawl(config)  # every known article is re-fetched (recheck_interval 0s) and answers 200
    db = tmp_path / "crawler.db"
    assert summary.updated == 0 and summary.unchanged > 0
    assert query(db, "SELECT count(*) FROM articles WHERE body NOT LIKE '%مشاهدة'") == [(0,)]  # the counter is in
    assert query(db, "SELECT count(*) FROM events WHERE type = 'article_updated'") == [(0,)]
    assert query(db, "SELECT max(versions) FROM articles") == [(1,)]


def test_an_unchanged_sitemap_index_still_leads_to_its_changed_children(
    news_site: tuple[NewsSite, str], tmp_path: Path
) -> None:
    """The index answers 304 (same ETag) while a child sitemap gained an article: the child is still read."""
    site, base = news_site
    source = site_source(base, feeds="[]", listing_pages="[]", sitemaps=f'["{base}/sitemap.xml"]',
                         article_url_pattern="'/story-'")  # fmt: skip
    config = write_config(tmp_path, source)
    crawl(config)
    added = site.add_article()
    [summary] = crawl(config)
    db = tmp_path / "crawler.db"
    statuses = dict(query(db, "SELECT url, status FROM fetches WHERE kind = 'sitemap' ORDER BY id DESC LIMIT 3"))
    assert statuses[f"{base}/sitemap.xml"] == 304
    assert summary.new == 1 and query(db, "SELECT count(*) FROM articles WHERE url = ?", (base + added.path,)) == [(1,)]


def test_worker_processes_store_exactly_what_threads_store(news_site: tuple[NewsSite, str], tmp_path: Path) -> None:
    """parse_processes = 2 (the pool of crawler/workers.py) against 0 (threads): the same rows."""
    _, base = news_site
    rows = {}
    for processes in (0, 2):
        folder = tmp_path / f"p{processes}"
        folder.mkdir()
        config = write_config(folder, site_source(base), parse_processes=processes)
        [summary] = crawl(config)
        assert summary.new > 0 and summary.failed == 0
        rows[processes] = query(folder / "crawler.db", "SELECT canonical_url, a.title, published, tags, a.body, provenance,"
                                " content_hash, s.signature, f.title, f.body FROM articles a"
                                " JOIN near_dup_signatures s ON s.article_id = a.id JOIN articles_fts f ON f.rowid = a.id"
                                " ORDER BY canonical_url")  # fmt: skip
    assert rows[2] == rows[0]

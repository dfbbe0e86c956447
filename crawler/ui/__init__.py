"""`crawler ui`: the collected database in Datasette, read-only, on 127.0.0.1.

Datasette does the browsing, faceting, full-text search and JSON/CSV views; this package gives it the
metadata (what every table and column means, facets, canned queries), a stylesheet that lets Arabic
run right to left, a plugin with the crawler's search rules (plugins/crawler_search.py) and one for
reading (plugins/crawler_reading.py: the article page with its versions' differences, linked titles, tag
chips, marked search snippets, times in the display time zone). Datasette
escapes every value it shows, and bodies are stored as plain text, so no page HTML is ever rendered.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["datasette_command", "metadata"]

HERE = Path(__file__).parent

_ARTICLE_COLUMNS = {
    "id": "the article's id (also the rowid of its search row)",
    "source_id": "the source that found it first",
    "url": "the URL it was first fetched from (canonical form)",
    "canonical_url": "its identity: the page's rel=canonical when on an allowed domain, else the URL",
    "title": "headline",
    "published": "publication date, UTC",
    "modified": "last-updated date the page gives, UTC",
    "authors": "JSON list of author names",
    "section": "the site's section or category",
    "tags": "JSON list of keywords, Persian letters folded to Arabic ones",
    "language": "ISO 639-1 code of the text",
    "image": "the lead image's URL",
    "site_name": "the site's name as the page gives it",
    "description": "the page's summary",
    "body": "the article text: paragraphs separated by a blank line, without related-story blocks",
    "content_hash": "hash of the comparable text: a change makes a new version",
    "versions": "how many versions were stored",
    "first_seen": "when it was first stored, UTC",
    "last_seen": "when it was last fetched or found unchanged, UTC",
    "last_checked": "when it was last re-checked, UTC",
    "last_changed": "when its last new version was stored, UTC",
    "etag": "the page's ETag, sent back on re-checks",
    "last_modified": "the page's Last-Modified, sent back on re-checks",
    "provenance": "JSON: which part of the page each field came from",
    "published_text": "the publication date as the page wrote it",
    "modified_text": "the last-updated date as the page wrote it",
    "next_check": "when it is re-checked next (recheck_after); null after the last age",
    "removed_at": "set while the article is gone (404, 410, or sent to the home page)",
    "signature": "unused since the signatures moved to near_dup_signatures (always null)",
    "story_id": "the first copy's id when another source published the same story",
}

_TABLES: dict[str, dict[str, Any]] = {
    "articles": {
        # No fts_table: Datasette's own search box would send the words as typed, but the index holds them in
        # match-key form (ة→ه, أ→ا, …), so it would miss most Arabic spellings. The search query applies the
        # crawler's rules instead.
        "description_html": "Every article, its latest version, opened with a reader's columns (times in the display"
        ' time zone; <a href="articles?_sort=id">every column</a>). To read: <a href="reading">'
        'articles to read</a> (titles open the article and its versions); <a href="search">search articles</a> '
        "finds words in any spelling (hamza, taa marbuta, alef maqsura, harakat, clitics, plurals).",
        "columns": _ARTICLE_COLUMNS,
        "facets": ["source_id", "language", "section", {"date": "first_seen"}],
        "sort_desc": "id",
        "label_column": "title",
    },
    "article_versions": {
        "description": "Every stored version of every article, oldest first.",
        "columns": {
            "id": "the version row's id",
            "article_id": "the article (articles.id)",
            "version": "1, 2, … per article",
            "fetched_at": "when this version was fetched, UTC",
            "content_hash": "hash of its comparable text",
            "changed": "JSON list of the fields changed since the previous version",
            "title": "headline then",
            "published": "publication date then, UTC",
            "modified": "last-updated date then, UTC",
            "authors": "JSON list of authors then",
            "section": "section then",
            "tags": "JSON list of tags then",
            "image": "lead image then",
            "description": "summary then",
            "body": "the text then",
        },  # fmt: skip
        "facets": ["changed", {"date": "fetched_at"}],
        "sort_desc": "id",
    },
    "events": {
        "description": "What changed, one row per event: new, updated, removed and restored articles, duplicate "
        "stories, failed fetches, failing, degraded, stale and recovered sources.",
        "columns": {
            "id": "increasing event id",
            "ts": "when, UTC",
            "type": "the event type (see the README)",
            "source_id": "the source",
            "article_id": "the article, for article events",
            "data": "JSON: the event's details (url, title, diff, reason, …)",
        },  # fmt: skip
        "facets": ["type", "source_id", {"date": "ts"}],
        "sort_desc": "id",
    },
    "sources": {
        "description": "The configured sources and how they are doing.",
        "columns": {
            "id": "the source's id in the config",
            "name": "its name",
            "enabled": "1 when polled",
            "state": "ok or failing",
            "consecutive_failures": "failed runs in a row",
            "failure_score": "failed runs in a row, timeouts weighing 0.5",
            "last_run_at": "last run's end, UTC",
            "last_success_at": "last successful run's end, UTC",
            "last_error": "why the last failed run failed",
            "created_at": "when first configured, UTC",
            "baselines": "JSON: usual shares of pages with content and with a date, usual body length",
            "health": "null, degraded or stale",
            "health_reason": "why it is degraded or stale",
            "last_warning": "the last working run found links but took none: which filter refused them",
        },  # fmt: skip
        "facets": ["state", "health"],
    },
    "fetches": {
        "description": "Every HTTP fetch: discovery pages, articles and re-checks.",
        "columns": {
            "id": "the fetch's id",
            "ts": "when, UTC",
            "source_id": "the source",
            "url": "the URL asked for",
            "kind": "feed, sitemap, listing, article or recheck",
            "status": "HTTP status, null when none came",
            "outcome": "ok, not_modified, failed, unusable or gone",
            "bytes": "body size",
            "ms": "time taken",
            "error": "why it failed or is unusable (on an ok feed: what was wrong with it)",
        },  # fmt: skip
        "facets": ["source_id", "kind", "outcome", "status", {"date": "ts"}],
        "sort_desc": "id",
    },
    "hosts": {
        "description": "Politeness state per host, saved after every source run (`crawler hosts`).",
        "columns": {
            "host": "name:port",
            "delay_s": "minimum seconds between requests (per_host_delay or Crawl-delay)",
            "backoff_s": "extra seconds while the host answers 429/503",
            "blocked_until": "no request before this (Retry-After), UTC",
            "last_status": "last HTTP status",
            "last_error": "last failure",
            "last_at": "last request, UTC",
            "requests": "requests since the daemon started",
            "failures": "failures since the daemon started",
            "robots": "robots.txt: ok, missing or unreachable",
            "updated_at": "when saved, UTC",
        },  # fmt: skip
    },
    "stream_cursors": {
        "description": "How far a reader of the events stream has read (the sinks, on a PostgreSQL database).",
        "columns": {"name": "the reader", "event_id": "the last event it has read"},
    },
    "discovery_pages": {
        "description": "Feeds, sitemaps and listing pages with the links they gave last time (reused on a 304).",
        "columns": {
            "url": "the page",
            "source_id": "the source",
            "kind": "feed, sitemap or listing",
            "etag": "its ETag",
            "last_modified": "its Last-Modified",
            "links": "JSON: the article links found",
            "children": "JSON: a sitemap index's sitemaps",
            "last_fetched": "when, UTC",
            "last_status": "HTTP status",
        },  # fmt: skip
    },
    "template_blocks": {
        "description": "Text blocks learned as a source's site template (left out of bodies).",
        "columns": {
            "source_id": "the source",
            "key": "hash of the block's comparable text",
            "text": "one example",
            "articles": "in how many sampled articles it appeared",
            "sampled": "articles sampled",
            "learned_at": "when, UTC",
        },  # fmt: skip
    },
    "near_dup_bands": {"hidden": True, "description": "LSH bands of the MinHash signatures."},
    "near_dup_signatures": {"hidden": True, "description": "MinHash signature of each article's body."},
    "articles_fts": {"hidden": True, "description": "Full-text index of titles and bodies in match-key form."},
    "_sqlite_migrations": {"hidden": True, "description": "Schema migrations applied."},
}

_QUERIES: dict[str, dict[str, str]] = {
    "reading": {
        "title": "Articles to read",
        "description": "The newest 500 articles: each title opens the article with its versions and what changed "
        "between them. Times in the display time zone.",
        "sql": "select id, title, source_id as source, crawler_local(coalesce(published, first_seen)) as published, "
        "section, tags from articles where removed_at is null "
        "order by coalesce(published, first_seen) desc, id desc limit 500",
    },
    "search": {
        "title": "Search articles",
        "description": "Every word must match, in any spelling (hamza, alef maqsura, taa marbuta, harakat, "
        'Persian letters, clitics such as و/ب/ل/ال, plurals do not matter); "a phrase", a OR b, -word, word*. '
        "Tags and authors count as title. Best matches first; each title opens the article.",
        "sql": "select a.id, a.title, a.source_id as source, crawler_local(a.published) as published, "
        "crawler_snippet(a.body, :q) as matched, a.tags "
        "from articles_fts f join articles a on a.id = f.rowid where articles_fts match crawler_match(:q) "
        "order by bm25(articles_fts, 3.0, 1.0) limit 100",
    },
    "latest_per_source": {
        "title": "Latest articles per source",
        "description": "The ten newest articles of each source.",
        "sql": "select source_id, id, title, published, first_seen, canonical_url from ("
        "select *, row_number() over (partition by source_id order by id desc) as n from articles) "
        "where n <= 10 order by source_id, id desc",
    },
    "todays_events": {
        "title": "Today's events",
        "description": "Everything that happened since midnight UTC, newest first.",
        "sql": "select id, ts, type, source_id, article_id, json_extract(data, '$.url') as url, "
        "coalesce(json_extract(data, '$.title'), json_extract(data, '$.reason')) as detail "
        "from events where ts >= date('now') order by id desc",
    },
    "updated_articles": {
        "title": "Updated articles and their versions",
        "description": "Articles with more than one version: each version, what changed, and when.",
        "sql": "select a.id, a.title, v.version, v.fetched_at, v.changed, a.canonical_url from articles a "
        "join article_versions v on v.article_id = a.id where a.versions > 1 "
        "order by a.last_changed desc, a.id, v.version limit 500",
    },
    "failing_sources": {
        "title": "Failing and degraded sources",
        "description": "Sources that fail, extract poorly, went quiet or take no link, with why.",
        "sql": "select id, name, state, health, coalesce(last_error, health_reason, last_warning) as why, "
        "consecutive_failures, last_success_at from sources "
        "where state != 'ok' or health is not null or last_warning is not null order by id",
    },
    "duplicate_stories": {
        "title": "Duplicate stories",
        "description": "The same story published by several sources (near-duplicate bodies).",
        "sql": "select story_id, count(*) as copies, group_concat(source_id, ', ') as sources, "
        "min(title) as title from articles where story_id is not null group by story_id "
        "order by story_id desc limit 200",
    },
}


def metadata(database_name: str, timezone: str = "UTC") -> dict[str, Any]:
    """Datasette metadata for the database; its name is the file's stem (/crawler/articles). ``timezone``:
    the zone the reading pages show times in (plugins/crawler_reading.py)."""
    return {
        "title": "crawler",
        "description": "What the news monitor collected. Read-only.",
        "extra_css_urls": ["/crawler-static/crawler.css"],
        "plugins": {"crawler_reading": {"timezone": timezone}},
        "databases": {database_name: {"tables": _TABLES, "queries": _QUERIES}},
    }


def stylesheet() -> str:
    """static/crawler.css plus a label for every column on row pages (Datasette's cells carry no name)."""
    columns = sorted({name for table in _TABLES.values() for name in table.get("columns", {})})
    labels = "\n".join(f'body.row .rows-and-columns td.col-{name}::before {{ content: "{name}"; }}' for name in columns)
    return (HERE / "static" / "crawler.css").read_text(encoding="utf-8") + "\n" + labels + "\n"


def datasette_command(database: Path, port: int, workdir: Path, timezone: str = "UTC") -> list[str]:
    """The Datasette command line for the database; its metadata and stylesheet are written to workdir."""
    text = json.dumps(metadata(database.stem, timezone), ensure_ascii=False)
    (workdir / "metadata.json").write_text(text, encoding="utf-8")
    (workdir / "static").mkdir(exist_ok=True)
    (workdir / "static" / "crawler.css").write_text(stylesheet(), encoding="utf-8")
    # A reader who may not create the WAL's shared-memory file beside a database nobody is writing (the
    # daemon stopped; a backup) opens it as immutable; otherwise Datasette opens it read-only as it changes.
    shm = database.with_name(database.name + "-shm")
    immutable = not shm.exists() and not os.access(database.parent, os.W_OK)
    return [
        sys.executable, "-m", "datasette", "serve", *(["-i"] if immutable else []), f"{database}",
        "--host", "127.0.0.1", "--port", str(port),
        "--metadata", str(workdir / "metadata.json"), "--plugins-dir", str(HERE / "plugins"),
        "--static", f"crawler-static:{workdir / 'static'}", "--setting", "sql_time_limit_ms", "3000",
    ]  # fmt: skip

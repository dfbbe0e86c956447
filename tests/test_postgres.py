"""The whole pipeline on PostgreSQL: crawls of the demo site into a real PostgreSQL database (a throwaway
cluster the tests start, or CI's), then every read command against it; the same figures as on SQLite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import serving, site_source, write_config
from test_pipeline import crawl

from crawler.cli import main
from crawler.demo.site import NewsSite


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory, postgres_server: object) -> Path:
    """A config on a PostgreSQL database holding a crawl of the demo site, one article edited once,
    parsed by two worker processes."""
    tmp = tmp_path_factory.mktemp("postgres")
    database = postgres_server.database()  # type: ignore[attr-defined]
    site = NewsSite(articles=9)
    with serving(site) as base:
        config = write_config(tmp, site_source(base), database=database, parse_processes=2)
        [first] = crawl(config)
        assert first.ok and first.new == 6, first
        site.edit_article(1)
        [second] = crawl(config, recheck_all=True)
        assert second.updated == 1 and second.new == 0, second
    return config


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_a_crawl_into_postgresql_stores_what_a_crawl_into_sqlite_stores(crawled: Path, tmp_path: Path) -> None:
    figures = json.loads(run("stats", "--config", str(crawled), "--json"))
    assert figures["articles"] == 6 and figures["versions"] == 7 and figures["articles_per_source"] == {"demo": 6}
    assert figures["events_per_type"] == {"article_new": 6, "article_updated": 1}
    assert figures["database_bytes"] > 0
    site = NewsSite(articles=9)
    with serving(site) as base:
        sqlite_config = write_config(tmp_path, site_source(base))
        crawl(sqlite_config)
        site.edit_article(1)
        crawl(sqlite_config, recheck_all=True)
    on_sqlite = json.loads(run("stats", "--config", str(sqlite_config), "--json"))
    for key in ("articles", "versions", "articles_per_source", "events_per_type"):
        assert figures[key] == on_sqlite[key], key

    def titles(config: Path) -> list[str]:
        return sorted(json.loads(line)["title"] for line in run("export", "--config", str(config)).splitlines())

    assert titles(crawled) == titles(sqlite_config)


def test_every_read_command_works_on_postgresql(crawled: Path) -> None:
    config = str(crawled)
    [updated] = [
        json.loads(line)
        for line in run("events", "--config", config, "--json", "--type", "article_updated").splitlines()
    ]
    article = str(updated["article_id"])
    shown = json.loads(run("show", article, "--config", config, "--json"))
    assert shown["versions"] == 2 and shown["language"] == "ar"
    history = run("history", article, "--config", config)
    assert "version 2" in history and "first version" in history
    word = shown["title"].split()[0]
    hits = [json.loads(line) for line in run("search", word, "--config", config, "--json").splitlines()]
    assert shown["canonical_url"] in {hit["url"] for hit in hits}
    assert "demo" in run("sources", "--config", config)
    assert "127.0.0.1" in run("hosts", "--config", config)
    assert run("templates", "--config", config)

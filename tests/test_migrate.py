"""`crawler migrate-db`: a crawled SQLite database moved into PostgreSQL and checked, the crawl going on
there (new ids after the copied ones), a second copy into the same database refused, and PostgreSQL
copied back into an SQLite snapshot that reads the same. `crawler ui` on PostgreSQL serves such a snapshot."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from conftest import serving, site_source, wait_for, write_config
from test_pipeline import crawl

from crawler.cli import main
from crawler.demo.site import NewsSite

FIGURES = ("articles", "versions", "articles_per_source", "events_per_type")


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def stats(config: Path) -> dict[str, object]:
    code, output = invoke("stats", "--config", str(config), "--json")
    assert code == 0, output
    figures = json.loads(output)
    return {key: figures[key] for key in FIGURES}


def found(config: Path, words: str) -> set[str]:
    code, output = invoke("search", words, "--config", str(config), "--json")
    assert code == 0, output
    return {json.loads(line)["url"] for line in output.splitlines()}


def test_sqlite_moves_to_postgresql_goes_on_there_and_copies_back(postgres_database: str, tmp_path: Path) -> None:
    for name in ("sqlite", "postgres", "snapshot"):
        (tmp_path / name).mkdir()
    site = NewsSite(articles=9)
    with serving(site) as base:
        on_sqlite = write_config(tmp_path / "sqlite", site_source(base))
        crawl(on_sqlite)
        site.edit_article(1)
        crawl(on_sqlite, recheck_all=True)
        word = json.loads(invoke("export", "--config", str(on_sqlite))[1].splitlines()[0])["title"].split()[0]

        code, output = invoke("migrate-db", "--config", str(on_sqlite), "--to", postgres_database)
        assert code == 0, output
        assert "articles" in output and "6 ->          6  ok" in output and ":***@" not in output
        on_postgres = write_config(tmp_path / "postgres", site_source(base), database=postgres_database)
        assert stats(on_postgres) == stats(on_sqlite)
        assert found(on_postgres, word) == found(on_sqlite, word) != set()  # the search index, rebuilt

        site.edit_article(2)  # the crawl goes on in PostgreSQL: new rows take ids after the copied ones
        [summary] = crawl(on_postgres, recheck_all=True)
        assert summary.ok and summary.updated == 1, summary
        moved_on = stats(on_postgres)
        assert moved_on["versions"] == 8 and moved_on["events_per_type"] == {"article_new": 6, "article_updated": 2}

    code, output = invoke("migrate-db", "--config", str(on_sqlite), "--to", postgres_database)
    assert code == 1 and "not empty" in output  # never into a database that holds a crawl
    assert stats(on_postgres) == moved_on

    snapshot = tmp_path / "snapshot.db"
    code, output = invoke("migrate-db", "--config", str(on_postgres), "--to", f"sqlite:///{snapshot}")
    assert code == 0, output
    on_snapshot = write_config(tmp_path / "snapshot", "", database=str(snapshot))
    assert stats(on_snapshot) == moved_on
    assert found(on_snapshot, word) == found(on_postgres, word)


def test_a_database_is_never_copied_onto_itself(tmp_path: Path) -> None:
    config = write_config(tmp_path, "")
    code, output = invoke("migrate-db", "--config", str(config), "--to", f"sqlite:///{tmp_path / 'crawler.db'}")
    assert code == 1 and "already uses" in output


def test_crawler_ui_on_postgresql_serves_a_snapshot(postgres_database: str, tmp_path: Path) -> None:
    pytest.importorskip("datasette", reason="the ui extra is not installed: pip install 'crawler[ui]'")
    site = NewsSite(articles=4)
    with serving(site) as base:
        config = write_config(tmp_path, site_source(base), database=postgres_database)
        crawl(config)
    stored = stats(config)["articles"]
    assert stored
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ui = subprocess.Popen([sys.executable, "-m", "crawler", "ui", "--config", str(config), "--port", str(port)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}/snapshot/articles.json?_shape=array&_col=title"

    def answers() -> bool:
        try:
            return httpx.get(url, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        assert wait_for(answers, timeout=60), "the snapshot was not served"
        assert len(httpx.get(url, timeout=5).json()) == stored
    finally:
        ui.terminate()
        output = ui.communicate(timeout=30)[0]
    assert f"snapshot of {stored} articles" in output, output

"""`crawler ui`: Datasette on a database built by a real crawl of the demo site, asked over HTTP and
looked at by headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import free_port, serving, site_source, write_config
from test_pipeline import crawl

from crawler.demo.site import NewsSite
from crawler.models import ArticleRecord
from crawler.store.sqlite import SyncSqlite
from crawler.ui import datasette_command, metadata

pytest.importorskip("datasette", reason="the ui extra is not installed: pip install 'crawler[ui]'")
HOSTILE_BODY = "<script>document.title='pwned'</script> <img src=x onerror=alert(1)> " + "نص المقال " * 20
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """(base URL, database): a crawl of the demo site plus one article whose body is HTML-looking text."""
    tmp = tmp_path_factory.mktemp("ui")
    site = NewsSite(articles=12)
    with serving(site) as base:
        config = write_config(tmp, site_source(base))
        crawl(config)
        site.edit_article(1)
        crawl(config, recheck_all=True)
    database = tmp / "crawler.db"
    store = SyncSqlite(database)
    try:
        hostile = ArticleRecord(
            source_id="demo", url="https://e.example/x", canonical_url="https://e.example/x", title="hostile",
            published=None, modified=None, authors=[], section=None, tags=[], language="ar", image=None,
            site_name=None, description=None, body=HOSTILE_BODY, content_hash="h", etag=None, last_modified=None,
        )  # fmt: skip
        store.save_article(replace(hostile), "2026-01-01T00:00:00+00:00")
    finally:
        store.close()
    port = free_port()
    with subprocess.Popen(datasette_command(database, port, tmp), stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True) as server:  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and server.poll() is None:
            try:
                urllib.request.urlopen(f"{url}/-/versions.json", timeout=2).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            server.kill()
            pytest.fail(f"datasette did not start: {server.communicate()[1][-2000:]}")
        try:
            yield url, database
        finally:
            server.terminate()
            server.wait(timeout=10)


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def get_json(url: str) -> object:
    status, text = get(url)
    assert status == 200, text[:500]
    return json.loads(text)


def test_pages_facets_and_canned_queries_answer(ui: tuple[str, Path]) -> None:
    base, _ = ui
    status, page = get(f"{base}/crawler/articles")  # redirected to a reader's columns, newest first
    assert status == 200 and "opened with a reader" in page and "crawler.css" in page
    assert 'class="col-title' in page and 'class="col-tags' in page and 'class="col-content_hash' not in page
    status, every = get(f"{base}/crawler/articles?_sort=id")  # a query string shows the table as asked
    assert status == 200 and 'class="col-content_hash' in every and 'class="col-body' in every
    assert '<a href="search">search articles</a>' in page and '<a href="reading">articles to read</a>' in page
    facets = get_json(f"{base}/crawler/articles.json?_facet_size=5")
    assert {"source_id", "language", "section"} <= set(facets["facet_results"])  # type: ignore[index]
    events = get_json(f"{base}/crawler/events.json")
    assert "type" in events["facet_results"]  # type: ignore[index]
    for query in metadata("crawler")["databases"]["crawler"]["queries"]:
        answer = get_json(f"{base}/crawler/{query}.json?q=x&_shape=objects")
        assert isinstance(answer["rows"], list), query  # type: ignore[index]
    updated = get_json(f"{base}/crawler/updated_articles.json?_shape=array")
    assert [row["version"] for row in updated] == [1, 2]  # type: ignore[index]


def test_search_finds_an_arabic_article_in_another_spelling(ui: tuple[str, Path]) -> None:
    base, database = ui
    with sqlite3.connect(database) as conn:
        (title,) = conn.execute("SELECT title FROM articles WHERE title LIKE '%الخارجية%' LIMIT 1").fetchone()
    # taa marbuta written as haa, and a clitic: the spellings people type
    query = urllib.parse.quote("وبالخارجيه")
    rows = get_json(f"{base}/crawler/search.json?q={query}&_shape=array")
    assert title in [row["title"] for row in rows]  # type: ignore[index]
    syntax = urllib.parse.quote('" OR NEAR(')  # FTS syntax in the query is only words
    assert get_json(f"{base}/crawler/search.json?q={syntax}&_shape=array") == []


def test_article_text_that_looks_like_html_is_shown_as_text(ui: tuple[str, Path]) -> None:
    base, database = ui
    with sqlite3.connect(database) as conn:
        (article_id,) = conn.execute("SELECT id FROM articles WHERE title = 'hostile'").fetchone()
    status, page = get(f"{base}/crawler/articles/{article_id}")
    assert status == 200 and "&lt;script&gt;document.title" in page
    assert "<script>document.title" not in page and "<img src=x" not in page


def test_metadata_describes_every_table_and_column(ui: tuple[str, Path]) -> None:
    _, database = ui
    tables = metadata("crawler")["databases"]["crawler"]["tables"]
    with sqlite3.connect(database) as conn:
        names = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for name in names:
            if name.startswith("articles_fts_") or name == "sqlite_sequence":
                continue  # FTS5's shadow tables, SQLite's own
            assert name in tables, f"table {name} has no metadata"
            if tables[name].get("hidden"):
                continue
            columns = {row[1] for row in conn.execute(f"PRAGMA table_info([{name}])")}
            assert columns == set(tables[name]["columns"]), name
            assert all(tables[name]["columns"].values()) and (
                tables[name].get("description") or tables[name]["description_html"]
            )


def test_reading_links_titles_to_an_article_page_with_its_changes_marked(ui: tuple[str, Path]) -> None:
    base, database = ui
    with sqlite3.connect(database) as conn:
        (edited, title) = conn.execute("SELECT id, title FROM articles WHERE versions = 2").fetchone()
        (word,) = conn.execute("SELECT tags FROM articles WHERE tags != '[]' LIMIT 1").fetchone()
        (hostile,) = conn.execute("SELECT id FROM articles WHERE title = 'hostile'").fetchone()
    status, reading = get(f"{base}/crawler/reading")
    assert status == 200 and f'<a href="/-/crawler/article/{edited}" dir="auto">{title}</a>' in reading
    assert f'<span class="chip" dir="auto">{json.loads(word)[0]}</span>' in reading  # tags as chips
    assert re.search(r"<td[^>]*>\s*\d{4}-\d\d-\d\d \d\d:\d\d\s*</td>", reading)  # local time, to the minute
    status, page = get(f"{base}/-/crawler/article/{edited}")
    assert status == 200 and "2 version(s)" in page and "version 2" in page and title in page
    assert "<ins>" in page or "<del>" in page  # the edit, word by word
    assert '<p dir="auto">' in page  # each paragraph by its own direction
    status, page = get(f"{base}/-/crawler/article/{hostile}")
    assert status == 200 and "&lt;script&gt;document.title" in page and "<script>document" not in page
    assert get(f"{base}/-/crawler/article/999999")[0] == 404
    query = urllib.parse.quote("وبالخارجيه")
    status, found = get(f"{base}/crawler/search?q={query}")
    assert status == 200 and "<mark>" in found and 'href="/-/crawler/article/' in found  # where the words matched


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_a_browser_shows_arabic_right_to_left(ui: tuple[str, Path], tmp_path: Path) -> None:
    """Headless Chromium screenshots of the articles table, of the Arabic titles alone and of one Arabic
    article: in the last two, Arabic lines end at the right edge and start wherever their length takes
    them (left to right is the reverse)."""
    base, database = ui
    with sqlite3.connect(database) as conn:
        (article_id,) = conn.execute("SELECT id FROM articles WHERE language = 'ar' AND title != 'hostile'").fetchone()
    titles = urllib.parse.quote("select title from articles where language = 'ar' and title != 'hostile'")
    table = screenshot(f"{base}/crawler?sql={titles}&_hide_sql=1", tmp_path / "articles.png", tmp_path)
    article = screenshot(f"{base}/crawler/articles/{article_id}", tmp_path / "article.png", tmp_path)
    reading = screenshot(f"{base}/-/crawler/article/{article_id}", tmp_path / "reading.png", tmp_path)
    # the articles table as a user first meets it (descriptions, facets, then the rows): it renders
    page = screenshot(f"{base}/crawler/articles?_col=title&_col=section", tmp_path / "table.png", tmp_path)
    assert len(text_lines(page, x_from=0.0)) >= 20
    for name, lines in (("articles table", text_lines(table, x_from=0.0)), ("article page", text_lines(article, 0.2)),
                        ("reading page", text_lines(reading, 0.0))):  # fmt: skip
        right_edge, left_edge = max(right for _, right in lines), min(left for left, _ in lines)
        # short lines that end at the right edge and start inside the column: right to left. Rendered left
        # to right, every short line would start at the left edge instead.
        rtl = [(left, right) for left, right in lines if right >= right_edge - 4 and left > left_edge + 20]
        assert len(rtl) >= 4, f"{name}: {lines}"
    assert len(text_lines(table, x_from=0.0)) >= 8  # every title is a line of text
    with sqlite3.connect(database) as conn:
        (edited,) = conn.execute("SELECT id FROM articles WHERE versions = 2").fetchone()
    changes = screenshot(f"{base}/-/crawler/article/{edited}", tmp_path / "changes.png", tmp_path)
    from PIL import Image

    colours = Image.open(changes).convert("RGB").getcolors(maxcolors=1_000_000) or []
    marked = {rgb: n for n, rgb in colours if rgb in ((223, 245, 225), (253, 226, 226))}  # <ins> and <del>
    assert sum(marked.values()) > 500, marked  # the edit is shown highlighted, not only in the markup


def screenshot(url: str, path: Path, tmp_path: Path) -> Path:
    assert CHROMIUM is not None
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
         "--window-size=1100,1400", "--hide-scrollbars", f"--screenshot={path}", url],
        capture_output=True, timeout=90, check=True,
    )  # fmt: skip
    assert path.stat().st_size > 10_000
    return path


def text_lines(png: Path, x_from: float) -> list[tuple[int, int]]:
    """(leftmost, rightmost) dark pixel of each line of Arabic text right of x_from (a share of the width)."""
    from PIL import Image

    image = Image.open(png).convert("L")
    width, height = image.size
    pixels = image.load()
    assert pixels is not None
    lines: list[tuple[int, int]] = []
    band: list[tuple[int, int]] = []
    for y in range(250, height):
        dark = [x for x in range(int(x_from * width), width - 20) if pixels[x, y] < 90]
        if dark:
            band.append((dark[0], dark[-1]))
        elif band:
            if len(band) >= 8:  # a line of text, not a rule or a stray pixel
                lines.append((min(b[0] for b in band), max(b[1] for b in band)))
            band = []
    # words, not a lone number; nor a full-width bar (the footer)
    return [line for line in lines if 60 < line[1] - line[0] < 0.9 * width]

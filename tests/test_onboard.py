"""`crawler sources add` (a source proposed for a real site on 127.0.0.1, appended only on confirmation,
then crawled as proposed) and OPML import/export; the pure inference under them."""

from __future__ import annotations

import threading
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import query, serving, write_config

from crawler.cli import main
from crawler.config import Config, load_config, parse_config
from crawler.demo.site import NewsSite
from crawler.errors import ConfigError
from crawler.onboard.draft import SourceDraft, append_sources, source_block
from crawler.onboard.infer import advertised_feeds, article_pattern, section_pages, site_name, source_id
from crawler.onboard.opml import drafts_from_opml, read_opml, write_opml

_BODY = "<p>" + "The council met on Tuesday to discuss the budget for the coming year in detail. " * 8 + "</p>"


def _article(title: str) -> str:
    return (f"<html lang='en'><head><title>{title} | Harbour Times</title>"
            f"<meta property='article:published_time' content='2026-11-30T08:00:00Z'></head><body>"
            f"<nav><a href='/'>Home</a> <a href='/city/'>City</a> <a href='/sport/'>Sport</a></nav>"
            f"<article><h1>{title}</h1>{_BODY}</article></body></html>")  # fmt: skip


def _home(extra_head: str = "") -> str:
    links = "".join(f"<li><a href='/news/{n}-council-meets-to-discuss-budget'>Story {n}</a></li>" for n in
                    range(40001, 40007))  # fmt: skip
    return (f"<html lang='en'><head><title>Harbour Times - News</title>{extra_head}</head><body>"
            "<nav><a href='/'>Home</a> <a href='/city/'>City</a> <a href='/sport/'>Sport</a> "
            f"<a href='/about'>About</a></nav><ul>{links}</ul></body></html>")  # fmt: skip


def _site_without_feeds() -> dict[str, tuple[str, str]]:
    """A site written the way many small news sites are: no feed, no sitemap, articles linked from the home
    page with an id in the address; robots.txt says nothing of sitemaps."""
    pages = {"/": ("text/html", _home()), "/robots.txt": ("text/plain", "User-agent: *\nDisallow: /admin/\n")}
    for n in range(40001, 40007):
        pages[f"/news/{n}-council-meets-to-discuss-budget"] = ("text/html", _article(f"Story {n}"))
    return pages


@contextmanager
def serving_pages(pages: dict[str, tuple[str, str]]) -> Iterator[str]:
    """Serve fixed pages (path → content type, text) on a free port of 127.0.0.1; others are 404."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            content_type, text = pages.get(self.path, ("text/plain", ""))
            body = text.encode("utf-8")
            self.send_response(200 if self.path in pages else 404)
            self.send_header("Content-Type", f"{content_type}; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _sources_of(config: Path) -> dict[str, object]:
    return {source.id: source for source in load_config(config).sources}


def test_add_proposes_the_feed_and_news_sitemap_and_the_source_it_writes_collects(tmp_path: Path) -> None:
    config = write_config(tmp_path, "")
    before = config.read_text()
    with serving(NewsSite(articles=6)) as base:
        result = CliRunner().invoke(main, ["sources", "add", f"{base}/", "--config", str(config), "--yes"])
        assert result.exit_code == 0, result.output
        assert "a feed of 4 links" in result.output and "robots.txt naming 1 sitemap(s)" in result.output
        assert "What it would collect (3 of the newest articles)" in result.output
        assert config.read_text().startswith(before)  # appended, nothing of the user's file rewritten
        (source,) = load_config(config).sources
        assert source.feeds == [f"{base}/feed.xml"] and source.allowed_domains == ["127.0.0.1"]
        assert source.language == "ar" and source.name == "وكالة الأنباء التجريبية"
        assert "# listing_pages = " in config.read_text()  # sections suggested, commented
        crawled = CliRunner().invoke(main, ["crawl", "--config", str(config)])
        assert crawled.exit_code == 0, crawled.output
    assert query(tmp_path / "crawler.db", "SELECT count(*) FROM articles")[0][0] == 4


def test_add_on_a_site_without_feeds_takes_the_page_with_the_shape_of_its_article_links(tmp_path: Path) -> None:
    config = write_config(tmp_path, "")
    with serving_pages(_site_without_feeds()) as base:
        result = CliRunner().invoke(main, ["sources", "add", f"{base}/", "--config", str(config), "--yes"])
        assert result.exit_code == 0, result.output
        (source,) = load_config(config).sources
        assert source.feeds == [] and source.sitemaps == [] and source.listing_pages == [f"{base}/"]
        assert source.article_url_pattern == r"(?<!/)/[^/#]*\d{5,}" and source.name == "Harbour Times"
        written = config.read_text()
        assert "6 of 6 match, 0 of the page's 4 other links do" in written
        assert f'# listing_pages = ["{base}/", "{base}/city/", "{base}/sport/", "{base}/about"]' in written
        assert "Story 40001" in result.output and "chars" in result.output
        crawled = CliRunner().invoke(main, ["crawl", "--config", str(config)])
        assert crawled.exit_code == 0, crawled.output
    assert query(tmp_path / "crawler.db", "SELECT count(*) FROM articles")[0][0] == 6


def test_add_reads_the_feeds_a_page_advertises_and_leaves_out_comment_feeds(tmp_path: Path) -> None:
    pages = _site_without_feeds()
    head = ("<link rel='alternate' type='application/rss+xml' title='Comments' href='/comments/feed'>"
            "<link rel='alternate' type='application/rss+xml' title='All news' href='/all.rss'>")  # fmt: skip
    pages["/"] = ("text/html", _home(head))
    items = "".join(f"<item><link>http://HOST/news/{n}-council-meets-to-discuss-budget</link></item>"
                    for n in range(40001, 40007))  # fmt: skip
    with serving_pages(pages) as base:
        pages["/all.rss"] = ("application/rss+xml", f"<rss version='2.0'><channel>{items}</channel></rss>".replace(
            "http://HOST", base))  # fmt: skip
        config = write_config(tmp_path, "")
        result = CliRunner().invoke(main, ["sources", "add", f"{base}/", "--config", str(config)], input="y\n")
        assert result.exit_code == 0, result.output
        assert "/comments/feed" not in result.output and "/feed/" not in result.output  # advertised: no guessing
    (source,) = load_config(config).sources
    assert source.feeds == [f"{base}/all.rss"] and source.listing_pages == []


def test_add_finds_a_news_sitemap_robots_txt_does_not_name(tmp_path: Path) -> None:
    pages = _site_without_feeds()  # robots.txt names no sitemap; the news sitemap sits at a usual path
    urls = "".join(f"<url><loc>http://HOST/news/{n}-council-meets-to-discuss-budget</loc></url>"
                   for n in range(40001, 40007))  # fmt: skip
    with serving_pages(pages) as base:
        pages["/sitemap_news.xml"] = ("application/xml", "\n<?xml version='1.0' encoding='UTF-8'?><urlset"
                                      f" xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>{urls}</urlset>".replace(
                                          "http://HOST", base))  # fmt: skip
        config = write_config(tmp_path, "")
        result = CliRunner().invoke(main, ["sources", "add", f"{base}/", "--config", str(config), "--yes"])
        assert result.exit_code == 0, result.output
        assert "a sitemap of 6 links" in result.output, result.output
    (source,) = load_config(config).sources
    assert source.sitemaps == [f"{base}/sitemap_news.xml"], source


def test_add_writes_nothing_unless_confirmed_and_picks_a_free_id(tmp_path: Path) -> None:
    with serving(NewsSite(articles=3)) as base:
        config = write_config(tmp_path, f'[[sources]]\nid = "127-0-0-1"\nname = "x"\nfeeds = ["{base}/feed.xml"]\n'
                                        'interval = "1h"\n')  # fmt: skip
        before = config.read_text()
        refused = CliRunner().invoke(main, ["sources", "add", base, "--config", str(config)], input="n\n")
        assert refused.exit_code == 0 and "nothing written" in refused.output
        assert config.read_text() == before
        taken = CliRunner().invoke(main, ["sources", "add", base, "--config", str(config), "--yes", "--samples", "0"])
        assert taken.exit_code == 0, taken.output
    assert list(_sources_of(config)) == ["127-0-0-1", "127-0-0-1-2"]


def test_add_says_why_when_the_site_cannot_be_read(tmp_path: Path) -> None:
    config = write_config(tmp_path, "")
    pages = {"/robots.txt": ("text/plain", "User-agent: *\nDisallow: /\n"), "/": ("text/html", _home())}
    with serving_pages(pages) as base:
        blocked = CliRunner().invoke(main, ["sources", "add", f"{base}/", "--config", str(config), "--yes"])
    assert blocked.exit_code == 1 and "robots.txt" in blocked.output, blocked.output
    refused = CliRunner().invoke(main, ["sources", "add", "ftp://example.org/", "--config", str(config)])
    assert refused.exit_code == 2 and "not an http(s) URL" in refused.output
    assert "[[sources]]" not in config.read_text()


def test_a_table_that_would_break_the_config_is_not_appended(tmp_path: Path) -> None:
    config = write_config(tmp_path, '[[sources]]\nid = "a"\nname = "A"\nfeeds = ["https://a.example/f"]\n'
                                    'interval = "1h"\n')  # fmt: skip
    before = config.read_bytes()
    clash = source_block(SourceDraft("a", "A again", feeds=("https://b.example/f",)))
    with pytest.raises(ConfigError, match="used twice") as caught:
        append_sources(config, [clash])
    assert str(config) in str(caught.value.problems) and config.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no file left beside it
    fresh = tmp_path / "new" / "crawler.toml"  # no config yet: created with the first source
    append_sources(fresh, [source_block(SourceDraft("b", "B", feeds=("https://b.example/f",)))])
    assert [s.id for s in load_config(fresh).sources] == ["b"]


def test_a_draft_with_awkward_text_is_valid_toml() -> None:
    draft = SourceDraft("x", 'Al "Quote" \\ News\n', feeds=("https://x.example/f",), article_url_pattern=r"/\d+'/",
                        notes=("a long note " * 20,))  # fmt: skip
    text = source_block(draft)
    assert all(len(line) <= 102 for line in text.splitlines() if line.startswith("#"))
    (table,) = tomllib.loads(text)["sources"]
    assert table["name"] == 'Al "Quote" \\ News\n' and table["article_url_pattern"] == r"/\d+'/"


def test_opml_import_adds_each_new_feed_and_export_gives_them_back(tmp_path: Path) -> None:
    config = write_config(tmp_path, '[[sources]]\nid = "kept"\nname = "Kept"\nfeeds = ["https://kept.example/rss"]\n'
                                    'interval = "1h"\n')  # fmt: skip
    opml = tmp_path / "reader.opml"
    opml.write_text(
        """<?xml version="1.0"?><opml version="1.0"><head><title>My feeds</title></head><body>
      <outline text="Iraq"><outline text="السومرية" type="rss" xmlUrl="https://www.alsumaria.tv/rss/ar"
        htmlUrl="https://www.alsumaria.tv/"/>
        <outline text="Kept again" xmlUrl="https://kept.example/rss"/></outline>
      <outline text="Blog &amp; Co" xmlUrl="https://blog.example.org/feed/"/>
      <outline text="mail" xmlUrl="mailto:x@example.org"/></body></opml>""",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["sources", "import", str(opml), "--config", str(config), "--yes"])
    assert result.exit_code == 0, result.output
    assert "already a feed of a source" in result.output and "not an http(s) feed address" in result.output
    sources = _sources_of(config)
    assert list(sources) == ["kept", "alsumaria", "example"]
    assert "folder 'Iraq'" in config.read_text()
    exported = CliRunner().invoke(main, ["sources", "export", "--opml", "--config", str(config)])
    feeds = read_opml(exported.output.encode(), "export")
    assert [(f.title, f.feed_url) for f in feeds] == [("Kept", "https://kept.example/rss"),
        ("السومرية", "https://www.alsumaria.tv/rss/ar"), ("Blog & Co", "https://blog.example.org/feed/")]  # fmt: skip
    again = CliRunner().invoke(main, ["sources", "import", str(opml), "--config", str(config), "--yes"])
    assert "no new feed to add" in again.output


def test_a_file_that_is_not_opml_is_named_in_one_line(tmp_path: Path) -> None:
    config = write_config(tmp_path, "")
    for name, text in (("a.opml", "<html><body>hi</body></html>"), ("b.opml", "not xml <"),
                       ("c.opml", "<opml><body><outline text='folder'/></body></opml>")):  # fmt: skip
        (tmp_path / name).write_text(text)
        result = CliRunner().invoke(main, ["sources", "import", str(tmp_path / name), "--config", str(config)])
        assert result.exit_code == 1 and name in result.output and "Traceback" not in result.output, result.output


def test_article_pattern_prefers_the_shape_that_leaves_out_section_pages() -> None:
    dated = [f"https://n.example/2026/11/{d:02d}/story-of-the-day-{d}" for d in range(1, 21)]
    sections = ["https://n.example/politics/", "https://n.example/2026/", "https://n.example/tag/a-b-c-d/"]
    choice = article_pattern(dated, sections)
    assert choice is not None and choice.pattern == r"/\d{4}/\d{1,2}/\d{1,2}/" and choice.false_matches == 0
    ids = [f"https://n.example/a/{n}" for n in range(100000, 100020)]
    assert article_pattern(ids, sections).pattern == r"(?<!/)/[^/#]*\d{5,}"  # type: ignore[union-attr]
    varied = ["https://n.example/a", "https://n.example/b/c", "https://n.example/d-e"]
    assert article_pattern(varied, sections) is None
    # a pattern that would miss more than a tenth of the articles is not proposed
    assert article_pattern(ids[:8] + ["https://n.example/x", "https://n.example/y"], []) is None


def test_feeds_sections_names_and_ids_come_from_the_page() -> None:
    html = ("<html><head><title>Al Sumaria | Home</title>"
            "<link rel='alternate' type='application/atom+xml' href='/atom'>"
            "<link rel='alternate' type='application/rss+xml' href='/comments/feed/'>"
            "<link rel='alternate' hreflang='en' href='/en/'></head><body><nav><a href='/politics/'>P</a>"
            "<a href='/2026/11/30/a-long-story-slug-here'>S</a><a href='https://other.example/x/'>O</a>"
            "<a href='/economy/oil/'>E</a><a href='/'>H</a></nav></body></html>")  # fmt: skip
    base = "https://www.alsumaria.tv/"
    assert advertised_feeds(html, base) == ["https://www.alsumaria.tv/atom"]
    assert section_pages(html, base) == ["https://www.alsumaria.tv/politics/", "https://www.alsumaria.tv/economy/oil/"]
    assert site_name(html, "x") == "Al Sumaria"
    assert source_id("www.alsumaria.tv", []) == "alsumaria"
    assert source_id("news.bbc.co.uk", ["bbc"]) == "bbc-2"
    assert source_id("127.0.0.1", []) == "127-0-0-1"


def test_export_writes_a_feed_reader_file_and_import_skips_feeds_already_there() -> None:
    config = load_config_text('[[sources]]\nid = "s"\nname = "S & Co"\nfeeds = ["https://s.example/rss"]\n'
                              'listing_pages = ["https://s.example/"]\ninterval = "1h"\n')  # fmt: skip
    text = write_opml(config.sources)
    (feed,) = read_opml(text.encode(), "x")
    assert feed.title == "S & Co" and feed.site_url == "https://s.example/"
    drafts, skipped = drafts_from_opml([feed], ["s"], ["https://S.example/rss"])
    assert drafts == [] and skipped == ["https://s.example/rss: already a feed of a source"]


def load_config_text(text: str) -> Config:
    return parse_config(tomllib.loads(text))

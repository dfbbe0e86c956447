"""Hostile links and identities: one bad link never fails a run, and a page cannot take over another article.

A real HTTP server on 127.0.0.1 serves feeds, sitemaps and listing pages full of malformed links beside
good ones, and article pages that declare other articles' URLs (or the home page) as their canonical.
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from conftest import query, write_config
from hypothesis import given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer
from rich.console import Console

from crawler.config import load_config
from crawler.crawl_once import crawl_once
from crawler.discover import discover_links
from crawler.models import Page, Validators
from crawler.urls import BadUrl, UrlPolicy, canonicalize, resolve_link

BAD_LINKS = [
    "http://127.0.0.1:99999/x",  # port out of range
    "http://[::1]:8080/x",  # an IPv6 literal (not an allowed domain)
    "http://[broken/x",  # unparseable authority
    "http://127.0.0.1/" + "a" * 200_000,  # 200 KB
    "http://user:secret@127.0.0.1/news/stolen",  # userinfo
    "ftp://127.0.0.1/news/file",  # not http
]
SENTENCE = "The council approved the budget after a long debate, officials said on Tuesday evening."


def article(title: str, canonical: str | None = None, body: str = SENTENCE) -> str:
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    return (
        f"<html><head><title>{title}</title>{link}</head><body><article><h1>{title}</h1>"
        f"<p>{body} {body}</p><p>{body}</p></article></body></html>"
    )


def crawl(config_path: Path) -> list:
    config = load_config(config_path)
    console = Console(file=io.StringIO(), force_terminal=False)
    return asyncio.run(crawl_once(config, list(config.sources), console=console))


def source(source_id: str, base: str, kind: str, path: str, pattern: str | None = "/news/") -> str:
    rule = f'article_url_pattern = "{pattern}"\n' if pattern else ""
    return (
        f'[[sources]]\nid = "{source_id}"\nname = "{source_id}"\n{kind} = ["{base}{path}"]\n{rule}interval = "1h"\n\n'
    )


def serve_articles(httpserver: HTTPServer, count: int = 2) -> list[str]:
    urls = []
    for number in range(count):
        path = f"/news/story-{number}"
        httpserver.expect_request(path).respond_with_data(
            article(f"Story {number}", body=f"{SENTENCE} Story {number}."), content_type="text/html"
        )
        urls.append(httpserver.url_for(path))
    return urls


def test_bad_links_in_a_feed_a_sitemap_and_a_listing_page_are_skipped_and_counted(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    good = serve_articles(httpserver)
    links = BAD_LINKS + good
    items = "".join(f"<item><title>t</title><link>{link.replace('&', '&amp;')}</link></item>" for link in links)
    httpserver.expect_request("/feed.xml").respond_with_data(
        f"<?xml version='1.0'?><rss version='2.0'><channel><title>f</title>{items}</channel></rss>",
        content_type="application/rss+xml",
    )
    locs = "".join(f"<url><loc>{link}</loc></url>" for link in links)
    httpserver.expect_request("/sitemap.xml").respond_with_data(
        f"<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>{locs}</urlset>",
        content_type="application/xml",
    )
    anchors = "".join(f"<a href='{link}'>story</a>" for link in links)
    httpserver.expect_request("/").respond_with_data(f"<html><body>{anchors}</body></html>", content_type="text/html")
    base = httpserver.url_for("")[:-1]
    sources = (
        source("feed", base, "feeds", "/feed.xml") + source("map", base, "sitemaps", "/sitemap.xml")
        + source("list", base, "listing_pages", "/")
    )  # fmt: skip
    summaries = crawl(write_config(tmp_path, sources))
    for summary in summaries:
        assert summary.error is None and summary.discovery_failed == 0, summary
        expected = 4 if summary.source_id == "list" else 5  # a listing page's ftp:, mailto:, tel: links are not pages
        assert summary.skipped.get("bad_link") == expected, summary  # the IPv6 host is a URL, only not an allowed one
    stored = query(tmp_path / "crawler.db", "SELECT url FROM articles ORDER BY url")
    assert [row[0] for row in stored] == sorted(good)  # every good link, once, whichever source found it first


def test_a_page_cannot_take_over_another_article_by_declaring_its_url(httpserver: HTTPServer, tmp_path: Path) -> None:
    victim = httpserver.url_for("/news/victim")
    httpserver.expect_request("/news/victim").respond_with_data(
        article("The real story", body=f"{SENTENCE} The real story goes on here."), content_type="text/html"
    )
    listing = "<html><body><a href='/news/victim'>victim</a></body></html>"
    httpserver.expect_request("/").respond_with_data(listing, content_type="text/html")
    base = httpserver.url_for("")[:-1]
    config = write_config(tmp_path, source("first", base, "listing_pages", "/"))
    crawl(config)

    # Later pages of the same source and of another one, each declaring the victim as its canonical URL.
    for path, title in (("/news/thief", "Spam title"), ("/news/other-thief", "Other spam")):
        body = f"Buy cheap things now, {title.lower()} says, in a body that is nothing like the story at all."
        httpserver.expect_request(path).respond_with_data(article(title, victim, body), content_type="text/html")
    httpserver.expect_request("/more").respond_with_data(
        "<html><body><a href='/news/thief'>a</a><a href='/news/other-thief'>b</a></body></html>",
        content_type="text/html",
    )
    sources = source("first", base, "listing_pages", "/more") + source("second", base, "listing_pages", "/more")
    config.write_text(config.read_text().split("[[sources]]")[0] + sources, encoding="utf-8")
    crawl(config)

    db = tmp_path / "crawler.db"
    assert query(db, "SELECT title, source_id, versions FROM articles WHERE url = ?", (victim,)) == [
        ("The real story", "first", 1)
    ]
    assert query(db, "SELECT count(*) FROM events WHERE type = 'article_updated'") == [(0,)]
    thieves = query(db, "SELECT url, canonical_url FROM articles WHERE title LIKE '%pam%' ORDER BY url")
    assert [(url, canonical) for url, canonical in thieves] == [
        (httpserver.url_for("/news/other-thief"), httpserver.url_for("/news/other-thief")),
        (httpserver.url_for("/news/thief"), httpserver.url_for("/news/thief")),
    ]  # each kept under its own URL


def test_pages_declaring_the_home_page_as_canonical_do_not_collapse_into_one(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    home = httpserver.url_for("/")
    for number in range(3):
        httpserver.expect_request(f"/news/{number}").respond_with_data(
            article(f"Story {number}", home, f"{SENTENCE} Number {number} of three."), content_type="text/html"
        )
    anchors = "".join(f"<a href='/news/{n}'>s</a>" for n in range(3))
    httpserver.expect_request("/list").respond_with_data(
        f"<html><body>{anchors}</body></html>", content_type="text/html"
    )
    base = httpserver.url_for("")[:-1]
    crawl(write_config(tmp_path, source("site", base, "listing_pages", "/list", pattern=None)))
    rows = query(tmp_path / "crawler.db", "SELECT url, canonical_url FROM articles ORDER BY url")
    assert len(rows) == 3 and all(url == canonical for url, canonical in rows)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300))
def test_canonicalize_gives_a_url_or_a_reason_for_any_string(text: str) -> None:
    try:
        result = canonicalize(text)
    except BadUrl as exc:
        assert str(exc)
    else:
        assert result.startswith(("http://", "https://")) and canonicalize(result) == result


PIECES = st.sampled_from(
    list("abc/:?#[]@!$&'()*+,;=%.-_~ 0123456789") + ["%zz", "::", "[::1]", "ü", "xn--", "\x00", "99999"]
)
URL_LIKE = st.lists(PIECES, max_size=40).map(lambda pieces: "http://" + "".join(pieces))


@settings(max_examples=300, deadline=None)
@given(st.lists(URL_LIKE | st.text(max_size=60), max_size=12))
def test_link_discovery_never_raises_whatever_the_hrefs(hrefs: list[str]) -> None:
    anchors = "".join(f'<a href="{href.replace(chr(34), "")}">x</a>' for href in hrefs)
    body = f"<html><body>{anchors}<a href='/news/ok'>ok</a></body></html>".encode("utf-8", "surrogatepass")
    page = Page("http://news.example/", "http://news.example/", 200, body, "text/html", Validators(), 1.0)
    found = discover_links(page, "listing", UrlPolicy(("news.example",)))
    assert "http://news.example/news/ok" in [link.url for link in found.links]
    for href in hrefs:
        resolved = resolve_link(href, "http://news.example/")
        assert resolved is None or resolved.startswith(("http://", "https://"))


def test_sitemap_indexes_that_list_themselves_or_each_other_are_read_once_a_run(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    good = serve_articles(httpserver)
    ns = "xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'"

    def index(*children: str) -> str:
        entries = "".join(f"<sitemap><loc>{httpserver.url_for(child)}</loc></sitemap>" for child in children)
        return f"<?xml version='1.0'?><sitemapindex {ns}>{entries}</sitemapindex>"

    httpserver.expect_request("/self.xml").respond_with_data(
        index("/self.xml", "/a.xml"), content_type="application/xml"
    )
    httpserver.expect_request("/a.xml").respond_with_data(index("/b.xml"), content_type="application/xml")
    httpserver.expect_request("/b.xml").respond_with_data(index("/a.xml", "/urls.xml"), content_type="application/xml")
    locs = "".join(f"<url><loc>{url}</loc></url>" for url in good)
    httpserver.expect_request("/urls.xml").respond_with_data(
        f"<?xml version='1.0'?><urlset {ns}>{locs}</urlset>", content_type="application/xml"
    )
    base = httpserver.url_for("")[:-1]
    [summary] = crawl(write_config(tmp_path, source("maps", base, "sitemaps", "/self.xml")))
    assert summary.new == 2 and summary.discovery_failed == 0
    reads = [request.path for request, _ in httpserver.log if request.path.endswith(".xml")]
    assert sorted(reads) == ["/a.xml", "/b.xml", "/self.xml", "/urls.xml"]  # each once


def test_links_past_max_links_per_page_are_not_read_but_counted(
    httpserver: HTTPServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    good = serve_articles(httpserver, 3)
    missing = [httpserver.url_for(f"/news/never-{number}") for number in range(30)]  # would 500 if asked for
    anchors = "".join(f"<a href='{url}'>story</a>" for url in good + missing)
    httpserver.expect_request("/list").respond_with_data(
        f"<html><body>{anchors}</body></html>", content_type="text/html"
    )
    locs = "".join(f"<url><loc>{url}</loc></url>" for url in good + missing)
    httpserver.expect_request("/sitemap.xml").respond_with_data(
        f"<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>{locs}</urlset>",
        content_type="application/xml",
    )
    base = httpserver.url_for("")[:-1]
    sources = source("listing", base, "listing_pages", "/list") + source("maps", base, "sitemaps", "/sitemap.xml")
    summaries = crawl(write_config(tmp_path, sources, max_links_per_page=3))
    for summary in summaries:
        assert summary.ok and summary.failed == 0
        assert summary.skipped.get("over_max_links_per_page") == 30
    assert sum(summary.new for summary in summaries) == 3  # the second source finds them stored
    assert not [request for request, _ in httpserver.log if "/never-" in request.path]
    assert query(tmp_path / "crawler.db", "SELECT count(*) FROM articles") == [(3,)]
    warnings = sorted(r.getMessage() for r in caplog.records if "max_links_per_page" in r.getMessage())
    assert len(warnings) == 2 and warnings[0].startswith("listing: ")
    assert "/list has 30 links over max_links_per_page (3), not read" in warnings[0]


def test_a_huge_sitemap_is_read_as_a_stream_and_a_broken_one_keeps_its_first_entries() -> None:
    ns = "xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'"
    locs = "".join(f"<url><loc>https://news.example/news/{number}</loc></url>" for number in range(60_000))
    big = Page("https://news.example/s.xml", "https://news.example/s.xml", 200,
               f"<?xml version='1.0'?><urlset {ns}>{locs}</urlset>".encode(), "application/xml", Validators(), 1.0)  # fmt: skip
    found = discover_links(big, "sitemap", UrlPolicy(("news.example",)))
    assert len(found.links) == 50_000 and found.over_cap == 10_000 and found.problem is None
    assert found.links[-1].url == "https://news.example/news/49999"
    cut = Page(big.url, big.final_url, 200, big.body[:5_000], "application/xml", Validators(), 1.0)
    broken = discover_links(cut, "sitemap", UrlPolicy(("news.example",)))
    assert 50 < len(broken.links) < 100 and broken.problem is not None
    assert broken.problem.startswith(f"malformed sitemap, {len(broken.links)} entries recovered:")

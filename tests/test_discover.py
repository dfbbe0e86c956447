"""Discovery: a fixture page in, an exact list of links out."""

from __future__ import annotations

import dataclasses
import gzip
import re

import pytest

from crawler.discover import discover_links
from crawler.errors import DiscoveryError
from crawler.models import Link, Page, Validators
from crawler.urls import UrlPolicy

POLICY = UrlPolicy(("news.example",), re.compile(r"/\d{4}/"))


def page(body: str, url: str = "https://news.example/", content_type: str = "text/html") -> Page:
    return Page(url, url, 200, body.encode(), content_type, Validators(), 1.0)


def test_listing_page_links_are_resolved_filtered_and_canonical() -> None:
    html = """<html><body>
      <a href="/2024/01/a/?utm_source=fb#top">A</a>
      <a href="https://news.example/2024/01/a/">A again</a>
      <a href="//cdn.news.example/2024/img/">subdomain</a>
      <a href="https://other.example/2024/x/">off site</a>
      <a href="/about/">not an article</a>
      <a href="mailto:desk@news.example">mail</a>
      <a href="javascript:void(0)">js</a>
    </body></html>"""
    links = discover_links(page(html), "listing", POLICY).links
    assert [link.url for link in links] == ["https://news.example/2024/01/a/", "https://cdn.news.example/2024/img/"]


def test_rss_feed_entries_with_dates() -> None:
    rss = """<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
      <item><title>x</title><link>https://news.example/2024/01/x/</link><pubDate>Thu, 25 Jan 2024 11:32:00 GMT</pubDate></item>
      </channel></rss>"""
    links = discover_links(page(rss, "https://news.example/feed/", "application/rss+xml"), "feed", POLICY).links
    assert links == [
        Link("https://news.example/2024/01/x/", "https://news.example/feed/", "feed", "2024-01-25T11:32:00+00:00")
    ]


def test_an_atom_entry_gives_its_own_article_link_not_a_variant_or_a_redirect() -> None:
    atom = """<feed xmlns="http://www.w3.org/2005/Atom" xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0">
      <title>t</title>
      <entry><title>a</title><id>tag:n,2024:1</id><link rel="replies" href="https://news.example/2024/a#c"/>
        <link rel="alternate" type="text/html" href="https://news.example/2024/a"/>
        <link rel="alternate" type="text/html" href="https://news.example/2024/a?variant=amp&amp;v=2"/></entry>
      <entry><title>b</title><link href="https://feeds.example/~r/news/b"/>
        <feedburner:origLink>https://news.example/2024/b</feedburner:origLink></entry>
      <entry><title>c</title><link rel="alternate" href="https://news.example/2024/c?id=7"/></entry>
      <entry><title>d</title><id>https://news.example/2024/d</id></entry></feed>"""
    links = discover_links(page(atom, "https://news.example/atom", "application/atom+xml"), "feed", POLICY).links
    assert [link.url for link in links] == ["https://news.example/2024/a", "https://news.example/2024/b",
                                            "https://news.example/2024/c?id=7", "https://news.example/2024/d"]  # fmt: skip


def test_sitemap_index_gives_child_sitemaps() -> None:
    xml = """<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <sitemap><loc>https://news.example/s1.xml</loc></sitemap><sitemap><loc>https://evil.example/s.xml</loc></sitemap>
      </sitemapindex>"""
    found = discover_links(page(xml, "https://news.example/sitemap.xml"), "sitemap", POLICY)
    assert found.links == [] and found.child_sitemaps == ["https://news.example/s1.xml"]


def test_malformed_feed_is_a_discovery_error() -> None:
    with pytest.raises(DiscoveryError, match="not a usable feed"):
        discover_links(page("<html>not a feed", "https://news.example/feed/"), "feed", POLICY)


def test_xml_entity_expansion_is_refused() -> None:
    bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><urlset><url><loc>&a;</loc></url></urlset>'
    with pytest.raises(DiscoveryError):
        discover_links(page(bomb, "https://news.example/sitemap.xml"), "sitemap", POLICY)


def test_a_text_sitemap_gives_one_link_a_line_gzipped_or_not() -> None:
    text = "\ufeffhttps://news.example/2024/01/a/\n\nhttps://news.example/2024/01/b/\r\nnot a url\nhttps://news.example/about/\n"
    plain = discover_links(page(text, "https://news.example/sitemap.txt", "text/plain"), "sitemap", POLICY)
    assert [link.url for link in plain.links] == ["https://news.example/2024/01/a/", "https://news.example/2024/01/b/"]
    packed = Page("https://news.example/s.txt.gz", "https://news.example/s.txt.gz", 200, gzip.compress(text.encode()),
                  "application/gzip", Validators(), 1.0)  # fmt: skip
    assert discover_links(packed, "sitemap", POLICY).links == [
        Link(link.url, "https://news.example/s.txt.gz", "sitemap", None) for link in plain.links
    ]
    capped = discover_links(page(text, "https://news.example/sitemap.txt", "text/plain"), "sitemap", POLICY, 1)
    assert len(capped.links) == 1 and capped.over_cap == 2


def test_an_xml_sitemap_after_a_byte_order_mark_and_blank_lines_is_read() -> None:
    xml = ('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
           "<url><loc>https://news.example/2024/01/a/</loc></url></urlset>")  # fmt: skip
    for lead in ("\ufeff", "\n\n  ", "\ufeff\r\n"):  # a template's blank lines before <?xml, which XML forbids
        found = discover_links(
            page(lead + xml, "https://news.example/sitemap.xml", "application/xml"), "sitemap", POLICY
        )
        assert [link.url for link in found.links] == ["https://news.example/2024/01/a/"], repr(lead)


def test_a_robots_txt_given_as_a_sitemap_names_the_sites_sitemaps() -> None:
    robots = (
        "User-agent: *\nDisallow: /private/\n# our sitemaps\nSitemap: https://news.example/news-sitemap.xml\n"
        "sitemap:https://news.example/sitemap-index.xml.gz\nSitemap: https://evil.example/s.xml\n"
    )
    found = discover_links(page(robots, "https://news.example/robots.txt", "text/plain"), "sitemap", POLICY)
    assert found.links == []  # robots rules are not links
    assert found.child_sitemaps == [
        "https://news.example/news-sitemap.xml",
        "https://news.example/sitemap-index.xml.gz",
    ]


def test_a_feed_where_a_sitemap_was_expected_is_read_as_a_feed() -> None:
    atom = """<?xml version="1.0" encoding="utf-8"?><!-- generator -->
      <feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
      <entry><title>x</title><link href="https://news.example/2024/01/x/"/><updated>2024-01-25T11:32:00Z</updated></entry>
      </feed>"""
    found = discover_links(page(atom, "https://news.example/sitemap.xml", "application/xml"), "sitemap", POLICY)
    assert found.links == [
        Link(
            "https://news.example/2024/01/x/",
            "https://news.example/sitemap.xml",
            "sitemap",
            "2024-01-25T11:32:00+00:00",
        )
    ]


def test_a_page_that_is_neither_xml_nor_a_url_list_is_not_a_sitemap() -> None:
    with pytest.raises(DiscoveryError, match="neither XML nor a list of URLs"):
        discover_links(page("hello\nworld\n", "https://news.example/sitemap.txt", "text/plain"), "sitemap", POLICY)


def test_a_gzipped_sitemap_cut_short_keeps_the_entries_before_the_break() -> None:
    urls = "".join(f"<url><loc>https://news.example/2024/01/{n}/</loc></url>" for n in range(400))
    xml = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    packed = gzip.compress(xml.encode())
    cut = Page("https://news.example/s.xml.gz", "https://news.example/s.xml.gz", 200, packed[: len(packed) // 2],
               "application/gzip", Validators(), 1.0)  # fmt: skip
    found = discover_links(cut, "sitemap", POLICY)
    assert 50 < len(found.links) < 400 and found.problem and "recovered" in found.problem
    assert [link.url for link in found.links] == [f"https://news.example/2024/01/{n}/" for n in range(len(found.links))]
    with pytest.raises(DiscoveryError, match="broken gzip"):
        discover_links(dataclasses.replace(cut, body=b"\x1f\x8b" + b"\x00" * 40), "sitemap", POLICY)

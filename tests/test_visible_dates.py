"""Dates printed on a page without structured data: the article's own, never a teaser's, a comment's or the
site header's "today" clock."""

from __future__ import annotations

import pytest
from selectolax.lexbor import LexborHTMLParser

from crawler.extract import extract
from crawler.extract.container import title_heading

STORY = "<p>" + "The council approved the budget after a long debate, officials said on the day. " * 4 + "</p>"


def page(header: str, article: str, lang: str = "en") -> str:
    return f"<html lang='{lang}'><head><title>Budget approved</title></head><body>{header}{article}</body></html>"


@pytest.mark.parametrize(
    ("printed", "lang", "published"),
    [
        ("Datum: 22.12.2012", "de", "2012-12-22"),  # a European numeric date after a label
        ("Veröffentlicht 3.4.2021 | Von Anna Weber", "de", "2021-04-03"),
        ("By Jane Doe | Nov 21, 2018", "en", "2018-11-21"),
        ("Posted 10/12/2023 by staff", "en-US", "2023-10-12"),  # month first on an American page
        ("Publié le 10/12/2023", "fr", "2023-12-10"),  # day first elsewhere
        ("Posted 13/11/2025", "en-US", "2025-11-13"),  # no 13th month: day first after all
        ("نشر في 24 نيسان / أبريل 2020", "ar", "2020-04-24"),
    ],
)
def test_a_date_printed_beside_the_headline_is_the_publication_date(printed: str, lang: str, published: str) -> None:
    html = page("", f"<div class='story'><h1>Budget approved</h1><div class='meta'>{printed}</div>{STORY}</div>", lang)
    article = extract(html)
    assert article.published is not None and article.published[:10] == published
    assert article.provenance["published"] == "visible"


def test_teaser_dates_comment_dates_and_the_header_clock_never_win() -> None:
    header = "<div class='top-bar'><span class='date-today'>Saturday 9 February 2019</span></div>"
    teasers = (
        "<div class='latest'><h3>Latest</h3><div class='item'><a href='/a'>Another story entirely, with a long headline</a>"
        "<span class='post-date'>7 February 2019</span></div></div>"
    )
    story = (
        f"<div class='story'><h1>Budget approved</h1><span class='byline'>By Jane Doe</span>"
        f"<div class='submitted'><span class='node-date'>8 February 2019</span></div>{STORY}"
        "<div class='comments'><div class='comment'><span class='comment-date'>10 February 2019</span>"
        "<p>A reader's comment, long enough to read as prose, with commas, and a full stop.</p></div></div></div>"
    )
    article = extract(page(header, teasers + story))
    assert article.published is not None and article.published.startswith("2019-02-08")


def test_an_updated_date_alone_stands_for_the_publication_date_and_says_so() -> None:
    html = page(
        "", f"<div class='story'><h1>Budget approved</h1><p class='meta'>Last updated: Dec 12, 2025</p>{STORY}</div>"
    )
    article = extract(html)
    assert article.published is not None and article.published.startswith("2025-12-12")
    assert article.provenance["published"] == "visible:updated"


def test_a_date_in_a_frameworks_script_data_is_read_when_nothing_is_printed() -> None:
    script = '<script>window.__STATE__ = {"article": {"datePublished": "2024-03-17T08:00:00Z"}};</script>'
    article = extract(page(script, f"<div class='story'><h1>Budget approved</h1>{STORY}</div>"))
    assert article.published == "2024-03-17T08:00:00+00:00" and article.provenance["published"] == "script"


def test_an_abbr_title_gives_the_machine_readable_date_of_a_printed_one() -> None:
    html = page("", f"<div class='hentry'><h1>Budget approved</h1><abbr class='published' title='2012-07-24T09:00:00+01:00'>"
                    f"July 24</abbr>{STORY}</div>")  # fmt: skip
    assert extract(html).published == "2012-07-24T09:00:00+01:00"


def test_the_publication_date_of_a_yoast_webpage_node_is_read() -> None:
    graph = (
        '{"@context": "https://schema.org", "@graph": [{"@type": "WebPage", "@id": "#webpage", '
        '"datePublished": "2023-05-17T08:30:00+00:00", "dateModified": "2023-05-18T10:00:00+00:00"}, '
        '{"@type": "Article", "headline": "Budget approved", "isPartOf": {"@id": "#webpage"}}]}'
    )
    html = f'<html><head><script type="application/ld+json">{graph}</script></head><body><h1>Budget approved</h1>{STORY}</body></html>'
    article = extract(html)
    assert article.published == "2023-05-17T08:30:00+00:00" and article.modified == "2023-05-18T10:00:00+00:00"


def test_article_published_time_spelled_with_colons_is_read() -> None:
    head = '<meta property="article:published:time" content="2022-10-08T09:00:00+02:00">'
    article = extract(f"<html><head>{head}</head><body><h1>Budget approved</h1>{STORY}</body></html>")
    assert (
        article.published == "2022-10-08T09:00:00+02:00"
        and article.provenance["published"] == "meta:article:published:time"
    )


def test_microdata_on_an_abbr_gives_its_title() -> None:
    html = (f"<html><body><div itemscope><h1>Budget approved</h1><abbr itemprop='datePublished' "
            f"title='2011-05-03T10:00:00Z'>May 3</abbr>{STORY}</div></body></html>")  # fmt: skip
    assert extract(html).published == "2011-05-03T10:00:00+00:00"


def test_a_date_under_a_published_label_in_a_sidebar_meta_box_is_the_articles() -> None:
    """Themes print the article's date in a meta box beside it ("<h4>Published</h4><div class=date>");
    a sidebar list of other stories' dates stays out."""
    meta = "<aside class='post-sidebar'><div class='meta'><h4>Published</h4><div class='post-date'>July 8, 2025</div></div></aside>"
    others = "<aside class='sidebar'><ul><li><a href='/b'>Another story</a> <span class='date'>July 1, 2025</span></li></ul></aside>"
    html = page("", f"<div class='post'>{others}<h1>Budget approved</h1>{meta}{STORY}</div>")
    assert extract(html).published == "2025-07-08T00:00:00+00:00"


def test_the_headline_not_the_sites_logo_h1_anchors_the_search_for_its_date() -> None:
    """The site's logo is the page's first h1; the date sits in the layout of the headline's own block,
    whose class names a sidebar mode ("story-sidebar-mode")."""
    menu = "".join(f"<a href='/s{n}'>Section {n}</a> " for n in range(80))  # the logo's text is far from the date
    logo = f"<div class='brand'><h1>The Harbour Times</h1></div><div class='menu'>{menu}</div>"
    story = ("<div class='story-page story-sidebar-mode'><div class='story-wrap'><h1 class='headline'>Budget approved"
             f"</h1><div class='story-date'><span>May 31, 2024</span></div>{STORY}</div></div>")  # fmt: skip
    assert extract(page(logo, story)).published == "2024-05-31T00:00:00+00:00"


@pytest.mark.parametrize("name", ["publishedAt", "published_at", "publishDate"])
def test_a_headless_cms_publication_date_in_script_data_is_read(name: str) -> None:
    data = f'<script>window.__STATE__ = {{"post": {{"title": "Budget approved", "{name}": "2025-03-04T09:30:00Z"}}}}</script>'
    assert extract(page("", f"<h1>Budget approved</h1>{STORY}{data}")).published == "2025-03-04T09:30:00+00:00"


@pytest.mark.parametrize(("name", "content"), [("published-date", "2021-02-16"), ("published", "February 16, 2021")])
def test_a_published_date_meta_tag_is_read(name: str, content: str) -> None:
    html = page("", f"<h1>Budget approved</h1>{STORY}").replace(
        "</title>", f"</title><meta name='{name}' content='{content}'>"
    )
    assert extract(html).published == "2021-02-16T00:00:00+00:00"


def test_the_headline_is_found_without_the_titles_section_and_past_the_pages_code() -> None:
    """og:title says "Budget approved | District" and the page prints the headline as an h4; the date printed
    above it is far from it in the page's text only because of a <style> and a <script> between them."""
    code = "<style>" + ".share-button { color: #000; padding: 5px; } " * 20 + "</style>"
    code += "<script>" + "var counters = [1, 2, 3, 4, 5]; " * 20 + "</script>"
    html = (
        "<html><head><title>Budget approved | District</title>"
        "<meta property='og:title' content='Budget approved | District'></head><body>"
        "<ul class='breadcrumb'><li><a href='/'>Home</a></li><li><a href='/district'>District</a></li></ul>"
        "<div class='byline'>BSS 20 Dec 2025, 11:59</div>"
        f"{code}<div class='headline'><h4>Budget approved</h4></div>{code}{STORY}</body></html>"
    )
    article = extract(html, "https://news.example.com/district/343604")
    assert article.title == "Budget approved" and (article.published or "")[:10] == "2025-12-20"


def test_the_headline_repeated_as_a_comments_subject_is_not_the_articles_headline() -> None:
    """Only a comment's subject line prints the exact title (the article's h1 carries a kicker): it is not taken
    for the article's headline. A post block that Blogger names a "widget" still is, when nothing else prints it."""
    comments = LexborHTMLParser(
        "<html><body><h1><span>Budget</span> Budget approved</h1><div id='comments'><h2>Budget approved</h2></div>"
        "</body></html>"
    )
    assert title_heading(comments, "Budget approved") is None
    blogger = LexborHTMLParser(
        "<html><body><div class='widget Blog' id='Blog1'><h3 class='post-title'>Budget approved</h3></div>"
        "<div class='sidebar'><h3>Budget approved</h3></div></body></html>"
    )
    heading = title_heading(blogger, "Budget approved")
    assert heading is not None and heading.attrs.get("class") == "post-title"


@pytest.mark.parametrize(
    ("address", "published"),
    [
        ("https://blog.example.com/2025/12/18/the-comfort-watch", "2025-12-18"),
        ("https://blog.example.com/articles/2025-12-15+Rust+GCC+backend:+Why+and+how", "2025-12-15"),
        ("https://news.example.com/archive/20251215/story.html", "2025-12-15"),
        ("https://shop.example.com/items/2025-120-7/desk", None),  # a product code, not a date
    ],
)
def test_a_date_written_in_the_address_is_the_last_resort(address: str, published: str | None) -> None:
    article = extract(page("", f"<h1>Budget approved</h1>{STORY}"), address)
    assert (article.published or "")[:10] == (published or "")

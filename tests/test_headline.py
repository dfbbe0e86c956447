"""The headline from the parts of <title>, when the page prints it as a heading (crawler/extract/headline.py)."""

from __future__ import annotations

import pytest
from selectolax.lexbor import LexborHTMLParser

from crawler.extract import extract
from crawler.extract.headline import segment_headline, title_segments


def page(title: str, body: str) -> LexborHTMLParser:
    return LexborHTMLParser(f"<html><head><title>{title}</title></head><body>{body}</body></html>")


def test_title_parts_split_on_the_separators_sites_use() -> None:
    assert title_segments("Harbour Notes: Quiet mornings at the pier") == [
        "Harbour Notes",
        "Quiet mornings at the pier",
    ]
    assert title_segments("dy/dan  » Blog Archive   » 1,400 Rectangles") == [
        "dy/dan",
        "Blog Archive",
        "1,400 Rectangles",
    ]
    assert title_segments("Storm closes the port - City - The Harbour Times") == [
        "Storm closes the port", "City", "The Harbour Times",
    ]  # fmt: skip
    assert title_segments("A headline with no site") == ["A headline with no site"]


def test_a_blogs_masthead_h1_gives_way_to_the_posts_heading() -> None:
    tree = page("Harbour Notes: Quiet mornings at the pier",
                "<h1><a href='/'>Harbour Notes</a></h1><h3><a href='/2025/03/pier.html'>Quiet mornings at the pier</a></h3>")  # fmt: skip
    assert segment_headline(tree, "Harbour Notes: Quiet mornings at the pier", None) == "Quiet mornings at the pier"
    article = extract(tree.html or "", "https://notes.example/2025/03/pier.html")
    assert article.title == "Quiet mornings at the pier"


@pytest.mark.parametrize(
    ("title", "body", "site_name", "url"),
    [
        # the only printed part is a section heading linking to its section: the headline is not printed
        (
            "Warnock in winning Lane return - Premier League",
            "<h3><a href='/football/premier-league/'>Premier League</a></h3>",
            None,
            None,
        ),
        # the printed part is the site's name (og:site_name, or the host's own name)
        ("Storm closes the port | The Harbour Times", "<h2>The Harbour Times</h2>", "The Harbour Times", None),
        ("Storm closes the port | Harbourtimes", "<h2>Harbourtimes</h2>", None, "https://www.harbourtimes.example/a"),
        # one part only: nothing to tell apart
        ("Storm closes the port", "<h2>Storm closes the port</h2>", None, None),
    ],
)
def test_no_headline_when_the_printed_part_is_not_the_headline(
    title: str, body: str, site_name: str | None, url: str | None
) -> None:
    assert segment_headline(page(title, body), title, site_name, url) is None


STORY = "<p>" + "The second part of the series builds the pipeline that renders each frame. " * 4 + "</p>"


@pytest.mark.parametrize(
    ("title", "body", "url", "expected"),
    [
        # The only h1 is the site's name linking home, and the post's headline is not printed as one of the
        # <title>'s parts (it has a separator of its own): the <title> without the site's name is the title.
        ("Building a UI Pipeline - Part 1 | Playful Tones",
         "<header><h1><a href='/'>Playful Tones</a></h1></header><div class='post-title'>Building a UI Pipeline - "
         "Part 1</div>", "https://playfultones.com/blog/ui-pipeline", "Building a UI Pipeline - Part 1"),
        # An h1 that shares a word with the host ("gardening") is still the post's headline.
        ("Gardening in a Warming World | Cornell Garden-Based Learning", "<h1>Gardening in a Warming World</h1>",
         "https://gardening.example.edu/warming", "Gardening in a Warming World"),
        # "| DianaHR" on getdianahr.com names the site: the host holds the name rather than the other way round.
        ("Top 5 HR Management Software in 2026 | DianaHR", "", "https://www.getdianahr.com/blog/best-hr",
         "Top 5 HR Management Software in 2026"),
    ],
)  # fmt: skip
def test_the_sites_name_is_told_from_the_headline(title: str, body: str, url: str, expected: str) -> None:
    html = f"<html><head><title>{title}</title></head><body>{body}<div class='post'>{STORY}</div></body></html>"
    assert extract(html, url).title == expected

"""Authors as people: several names in one string, roles, "By", addresses, and the publication itself."""

from __future__ import annotations

import json

import pytest

from crawler.extract import extract
from crawler.extract.authors import clean_names


@pytest.mark.parametrize(
    ("values", "names"),
    [
        (["Jane Doe and John Roe"], ["Jane Doe", "John Roe"]),
        (["Anna Martel und Lea Wagner"], ["Anna Martel", "Lea Wagner"]),
        (["محمد علي و أحمد حسن"], ["محمد علي", "أحمد حسن"]),
        (["Mamokete Modiba, Claire Benit-Gbaffou, Sarah Charlton and Tanya Zack"],
         ["Mamokete Modiba", "Claire Benit-Gbaffou", "Sarah Charlton", "Tanya Zack"]),
        (["By Madeleine Howell"], ["Madeleine Howell"]),
        (["Elena Oberholzer (obe)", "Oliver Maksan (oma)"], ["Elena Oberholzer", "Oliver Maksan"]),
        (["Brazil, Rachel"], ["Rachel Brazil"]),  # a library-style dc.creator
        (["d.kuckelkorn@boersen-zeitung.de"], []),
        (["105092"], []),
        (["Lesotho Times"], []),  # the publication (og:site_name), not a person
        (["STERN.de"], []),
        (["n-tv NACHRICHTEN"], []),  # the site's own name on n-tv.de
    ],
)  # fmt: skip
def test_names_are_people(values: list[str], names: list[str]) -> None:
    assert clean_names(values, "Lesotho Times", "www.n-tv.de") == names


def ld_page(author: object, byline: str = "") -> str:
    data = json.dumps({"@type": "NewsArticle", "headline": "Budget approved", "author": author})
    text = "<p>" + "The council approved the budget after a long debate, officials said. " * 4 + "</p>"
    return (
        f'<html><head><meta property="og:site_name" content="Valley News"><script type="application/ld+json">{data}'
        f"</script></head><body><article><h1>Budget approved</h1>{byline}{text}</article></body></html>"
    )


def test_a_byline_names_the_people_when_the_structured_author_is_the_publication() -> None:
    article = extract(
        ld_page({"@type": "Organization", "name": "Valley News"}, '<p class="byline">By Jane Doe and John Roe</p>')
    )
    assert article.authors == ["Jane Doe", "John Roe"] and article.provenance["authors"] == "visible:byline"


def test_the_publication_stays_the_author_when_nobody_else_is_named() -> None:
    article = extract(ld_page({"@type": "Organization", "name": "Valley News"}))
    assert article.authors == ["Valley News"] and article.provenance["authors"] == "json-ld:author (the publication)"

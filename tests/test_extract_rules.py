"""Per-source selector overrides and learned site templates, end to end: config file, demo site on
127.0.0.1, the real pipeline and a real SQLite file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import query, serving, site_source, write_config
from test_pipeline import crawl

from crawler.cli import main
from crawler.config import parse_config
from crawler.demo.site import NewsSite
from crawler.errors import ConfigError
from crawler.extract import SelectorRules, extract
from crawler.extract.templates import block_key, learn_template
from crawler.models import ArticleRecord
from crawler.store.sqlite import SyncSqlite

PROMO = "تابعوا آخر الأخبار على قناة الوكالة في تلغرام وواتساب."
PAGE = """<html><head><title>Site | Wrong title</title>
<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2020-01-01T00:00:00Z"}</script>
</head><body><div class="layout"><h1 class="headline">The real headline</h1>
<p class="byline">By <span class="who">Rana Ali</span> and <span class="who">Omar Said</span></p>
<span class="stamp" data-x="1">15 آذار 2024</span>
<div class="story"><p>First paragraph of the story, long enough to be prose, with commas, and more.</p>
<div class="box-x"><p>An inline note that the generic extractor cannot tell from text, sadly.</p></div>
<p>Second paragraph of the story, also long enough to be prose, with commas, and more.</p></div>
<ul class="labels"><li>economy</li><li>oil</li></ul></div></body></html>"""


@pytest.fixture
def promo_site() -> Iterator[tuple[NewsSite, str]]:
    """The demo site whose Arabic articles all end with the same promotional line."""
    site = NewsSite(articles=8, promo=PROMO)
    with serving(site) as base:
        yield site, base


def test_selectors_win_over_the_generic_extractor_and_say_so() -> None:
    rules = SelectorRules(
        body="div.story", title="h1.headline", date="span.stamp", author="span.who", tags="ul.labels li",
        drop=(".box-x",),
    )  # fmt: skip
    article = extract(PAGE, "https://example.com/a", rules=rules)
    assert article.title == "The real headline"
    assert article.published == "2024-03-15T00:00:00+00:00"
    assert article.authors == ["Rana Ali", "Omar Said"]
    assert article.tags == ["economy", "oil"]
    assert "inline note" not in article.body and article.body.startswith("First paragraph")
    assert article.provenance["published"] == "override:span.stamp"
    assert article.provenance["body"] == "override:div.story"

    generic = extract(PAGE, "https://example.com/a")
    assert generic.published == "2020-01-01T00:00:00+00:00" and generic.provenance["published"].startswith("json-ld")
    assert "inline note" in generic.body


def test_a_selector_that_matches_nothing_falls_back_to_the_generic_path() -> None:
    article = extract(PAGE, rules=SelectorRules(body="div.gone", title="h1.gone", date="time.gone"))
    assert article.provenance["body"].startswith("markup:")
    assert article.provenance["published"] == "json-ld:datePublished"
    assert "First paragraph" in article.body


def test_bad_selectors_are_config_errors_naming_source_and_key() -> None:
    raw = {"sources": [{"id": "s", "name": "S", "feeds": ["https://e.com/f"], "interval": "1h",
                        "extract": {"body": "div[", "drop": ["p", "a:nope"], "colour": "red"}}]}  # fmt: skip
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, "crawler.toml")
    problems = "\n".join(caught.value.problems)
    assert "crawler.toml: sources[0] (id='s'): extract.body: invalid CSS selector 'div['" in problems
    assert "extract.drop: invalid CSS selector 'a:nope'" in problems
    assert "extract.colour: unknown key; allowed keys are: body, title, date, modified, author, tags, drop" in problems


def test_extract_command_with_a_source_fetches_within_its_domains_and_shows_the_effect(
    news_site: tuple[NewsSite, str], tmp_path: Path
) -> None:
    site, base = news_site
    sources = site_source(base) + '[sources.extract]\ntitle = "nav#breadcrumb a"\ndrop = [".entry-content p"]\n\n'
    config = write_config(tmp_path, sources)
    article = next(a for a in site.articles() if a.language == "ar")
    result = CliRunner().invoke(main, ["extract", f"{base}{article.path}", "--source", "demo", "--config", str(config)])
    assert result.exit_code == 0, result.output
    output = json.loads(result.output)
    assert output["title"] == "الرئيسية" and output["provenance"]["title"] == "override:nav#breadcrumb a"
    assert output["generic"]["title"] == article.title
    assert output["generic"]["body_chars"] > len(output["body"])

    elsewhere = CliRunner().invoke(
        main, ["extract", "http://localhost:1/x", "--source", "demo", "--config", str(config)]
    )  # not one of the source's allowed domains
    assert elsewhere.exit_code == 1 and "allowed" in elsewhere.output


def test_site_template_is_learned_after_a_run_and_removed_from_later_articles(
    promo_site: tuple[NewsSite, str], tmp_path: Path
) -> None:
    site, base = promo_site
    config = write_config(tmp_path, site_source(base))
    db = tmp_path / "crawler.db"
    crawl(config)
    first_bodies = [body for (body,) in query(db, "SELECT body FROM articles")]
    assert all(body.endswith(PROMO) for body in first_bodies)  # nothing learned yet during the first run
    learned = query(db, "SELECT text, articles, sampled FROM template_blocks WHERE source_id = 'demo'")
    assert learned == [(PROMO, len(first_bodies), len(first_bodies))]

    listed = CliRunner().invoke(main, ["templates", "--config", str(config)])
    assert listed.exit_code == 0 and PROMO[:40] in listed.output

    fresh = site.add_article()
    while fresh.language != "ar":  # the source follows the Arabic feed
        fresh = site.add_article()
    crawl(config)
    ((body, provenance),) = query(db, "SELECT body, provenance FROM articles WHERE url LIKE ?", (f"%{fresh.path}",))
    assert PROMO not in body and body == "\n\n".join(fresh.paragraphs)
    assert json.loads(provenance)["body"].endswith("site template")
    assert query(db, "SELECT count(*) FROM events WHERE type = 'article_updated'") == [(0,)]

    reset = CliRunner().invoke(main, ["templates", "demo", "--reset", "--config", str(config)])
    assert reset.exit_code == 0 and "1 template block(s) forgotten" in reset.output


def _record(body: str) -> ArticleRecord:
    return ArticleRecord(
        source_id="s", url="https://e.com/a", canonical_url="https://e.com/a", title="T", published=None,
        modified=None, authors=[], section=None, tags=[], language="ar", image=None, site_name=None,
        description=None, body=body, content_hash=block_key(body), etag=None, last_modified=None,
    )  # fmt: skip


def test_a_body_that_only_lost_template_blocks_is_refreshed_without_a_new_version(tmp_path: Path) -> None:
    store = SyncSqlite(tmp_path / "store.db")
    try:
        store.db.table("sources").insert({"id": "s", "name": "S"})
        with_promo = "Paragraph one of the story.\n\n" + PROMO
        assert store.save_article(_record(with_promo), "2026-01-01T00:00:00Z").kind == "new"
        template = frozenset({block_key(PROMO)})
        outcome = store.save_article(_record("Paragraph one of the story."), "2026-01-02T00:00:00Z", template)
        assert outcome.kind == "unchanged" and outcome.events == ()
        assert store.db.execute("SELECT body, versions FROM articles").fetchone() == ("Paragraph one of the story.", 1)
        edited = store.save_article(_record("Paragraph one, edited."), "2026-01-03T00:00:00Z", template)
        assert edited.kind == "updated"
    finally:
        store.close()


def test_learning_needs_enough_articles_and_keeps_recurring_blocks_only() -> None:
    bodies = [f"Story {i} text, unique.\n\nFollow us on Telegram.\n\nCopyright 2025" for i in range(10)]
    learned = {block.text for block in learn_template(bodies)}
    assert learned == {"Follow us on Telegram.", "Copyright 2025"}
    assert learn_template(bodies[:4]) == []  # four articles are not enough to call anything a template


def test_a_date_stored_with_its_page_offset_equals_the_same_instant_in_utc(tmp_path: Path) -> None:
    """Databases from before dates were stored as UTC see no change when the article is fetched again."""
    from dataclasses import replace

    from crawler.dedupe import content_hash

    def hashed(record: ArticleRecord) -> ArticleRecord:
        fields = {"title": record.title, "body": record.body, "published": record.published}
        return replace(record, content_hash=content_hash(fields))

    store = SyncSqlite(tmp_path / "store.db")
    try:
        store.db.table("sources").insert({"id": "s", "name": "S"})
        old = hashed(replace(_record("Body of the story."), published="2024-01-25T14:32:00+03:00"))
        store.save_article(old, "2026-01-01T00:00:00Z")
        new = hashed(replace(old, published="2024-01-25T11:32:00+00:00", published_text="يناير 25, 2024 2:32 م"))
        assert new.content_hash == old.content_hash
        assert store.save_article(new, "2026-01-02T00:00:00Z").kind == "unchanged"
    finally:
        store.close()


def test_volatile_and_punctuation_only_changes_are_not_edits() -> None:
    from crawler.dedupe import changed_fields

    old = {"title": "القوات الأميركية تنسحب", "body": "نص الخبر الأول.\n\nنشر منذ 3 ساعات · 1,204 مشاهدة"}
    new = {"title": "القوات الأميركية تنسحب!", "body": "نص الخبر الأول\n\nنشر منذ 5 ساعات · 1,390 مشاهدة"}
    assert changed_fields(old, new) == []
    edited = {**new, "body": "نص الخبر الأول، مع تفاصيل جديدة.\n\nنشر منذ 5 ساعات"}
    assert changed_fields(old, edited) == ["body"]


def test_paragraph_diff_names_added_removed_and_changed_paragraphs() -> None:
    from crawler.dedupe import paragraph_diff

    old = "First paragraph.\n\nSecond paragraph, as first written.\n\nThird paragraph."
    new = "First paragraph.\n\nSecond paragraph, as corrected later.\n\nA new closing paragraph."
    diff = paragraph_diff(old, new)
    assert diff["changed"] == [
        ["Second paragraph, as first written.", "Second paragraph, as corrected later."],
        ["Third paragraph.", "A new closing paragraph."],
    ]
    assert paragraph_diff(old, old + "\n\nAdded.") == {"added": ["Added."], "removed": [], "changed": []}
    assert paragraph_diff(old, "First paragraph.") == {
        "added": [],
        "removed": ["Second paragraph, as first written.", "Third paragraph."],
        "changed": [],
    }


def test_near_duplicate_signatures_tell_an_agency_copy_from_another_story() -> None:
    from crawler.demo.content import make_article
    from crawler.neardup import DUPLICATE_SIMILARITY, band_keys, signature, similarity

    story = "\n\n".join(make_article(7, "2024-01-25T08:00:00+03:00", "ar").paragraphs)
    copy = "المصدر: وكالة الأنباء\n\n" + story.replace("،", ",") + "\n\nتابعونا على تلغرام"
    other = "\n\n".join(make_article(8, "2024-01-25T08:00:00+03:00", "ar").paragraphs)
    a, b, c = signature(story), signature(copy), signature(other)
    assert a is not None and b is not None and c is not None
    assert similarity(a, b) >= DUPLICATE_SIMILARITY > similarity(a, c)
    assert set(band_keys(a)) & set(band_keys(b))  # the copy is found by the band index
    assert signature("A short brief of a few words only.") is None


def test_a_run_that_only_timed_out_weighs_half() -> None:
    from crawler.models import RunSummary

    assert RunSummary("s", error="run_timeout exceeded").failure_weight == 0.5
    assert RunSummary("s", discovery_failed=2, discovery_timeouts=2).failure_weight == 0.5
    assert RunSummary("s", discovery_failed=2, discovery_timeouts=1).failure_weight == 1.0


def test_signatures_are_bit_for_bit_those_stored_by_datasketch() -> None:
    """crawler/neardup.py writes datasketch 2's affine32 MinHash out with numpy; stored signatures made by
    datasketch (MinHash(num_perm=64), seed 1) must still compare. The value below is datasketch's."""
    from crawler.neardup import signature

    text = " ".join(f"كلمة{i % 37} word{i % 23}" for i in range(120))
    sig = signature(text)
    assert sig is not None and sig.hex() == (
        "acd00c00539b5d019ceaaa012bca180116f54e00cf6a010092486100d812dc01ef07cc005fa757017d3c260155a9ab00b92059001d"
        "3f4d029ed49b008da0350153f72800ea165700c2cb4100607407002e490f00a9c58c01a26b6b018cbb4f00bc5c110225598f013ba1"
        "a70013d2bb01939617007647270038232c01a4688b00b2d40f013dba480281e1510030c0d10074df7d0090be55008e914d00a96466"
        "002c2b9c01539a31002696150062b48c0361e1360303d10403a65e3600687b4400835e2700bdec210203c20101aefb3a01d17b9f01"
        "183dcf01a0037901d4007a00900946001b0819005d7f02004530dc0058553c028d1511005ee00304e5481d01"
    )

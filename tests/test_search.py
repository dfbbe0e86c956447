"""Full-text search: spelling variants of Arabic find each other, filters and ranking, the index follows
updates, and the CLI prints snippets. Real SQLite files; articles stored through the store itself."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import write_config

from crawler.cli import main
from crawler.dedupe import content_hash
from crawler.models import ArticleRecord
from crawler.search import index_text, parse_query, query_terms, snippet
from crawler.store.sqlite import SyncSqlite
from crawler.store.values import SearchQuery

ARTICLES = {
    "persian-letters": (
        "تقرير عن القوات الأمیرکیة",
        "قالت مصادر إن القوات الأمیرکیة ستبقى في القواعد حتى نهاية العام.",
    ),
    "vocalised": ("خبر مشكول", "أَعْلَنَتِ القُوَّاتُ الأَمِيرْكِيَّةُ انسحابَ وحداتٍ من القاعدة."),
    "plain": ("القوات الأميركية تنسحب", "أعلنت القوات الأميركية انسحاب وحدات من قاعدة في غرب العراق."),
    "ta-marbuta-as-ha": ("خبر آخر", "ذكرت وسائل اعلام ان القوات الاميركيه وصلت الى المطار."),
    "clitic": ("اتفاق في بغداد", "وقع الطرفان اتفاقاً بشأن الأمن والعراق وجيرانه، وقال وزير إن للعراق حقوقاً."),
    "unrelated": ("Budget approved", "The city council approved the annual budget after weeks of debate."),
}


def _record(slug: str, source: str = "ar", published: str = "2024-03-01T10:00:00+03:00") -> ArticleRecord:
    title, body = ARTICLES[slug]
    values = {"title": title, "body": body, "published": published}
    return ArticleRecord(
        source_id=source, url=f"https://e.com/{slug}", canonical_url=f"https://e.com/{slug}", title=title,
        published=published, modified=None, authors=[], section=None, tags=[], language="ar", image=None,
        site_name=None, description=None, body=body, content_hash=content_hash(values), etag=None, last_modified=None,
    )  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> SyncSqlite:
    store = SyncSqlite(tmp_path / "crawler.db")
    store.db.table("sources").insert_all([{"id": "ar", "name": "AR"}, {"id": "other", "name": "Other"}])
    for slug in ARTICLES:
        store.save_article(_record(slug, "other" if slug == "ta-marbuta-as-ha" else "ar"), "2024-03-01T07:00:00Z")
    return store


def _found(store: SyncSqlite, query: str, **filters: str) -> set[str]:
    return {hit.canonical_url.rsplit("/", 1)[1] for hit in store.search(SearchQuery(parse_query(query), **filters))}


def test_every_spelling_of_a_query_finds_every_spelling_in_the_articles(store: SyncSqlite) -> None:
    expected = {"persian-letters", "vocalised", "plain", "ta-marbuta-as-ha"}
    for query in ("القوات الأميركية", "القوات الأمیرکیة", "القُوَّاتُ الأَمِيرْكِيَّةُ", "القوات الاميركيه", "القـــوات"):
        assert _found(store, query) >= expected, query
    assert _found(store, "القوات الأميركية") == expected
    store.close()


def test_clitic_forms_find_the_bare_word_and_back(store: SyncSqlite) -> None:
    assert _found(store, "العراق") == {"plain", "clitic"}
    assert _found(store, "والعراق") == {"plain", "clitic"}
    store.close()


def test_filters_and_ranking(store: SyncSqlite) -> None:
    assert _found(store, "القوات الأميركية", source_id="other") == {"ta-marbuta-as-ha"}
    assert _found(store, "القوات", since="2024-03-02") == set()
    ranked = store.search(SearchQuery(parse_query("القوات الأميركية")))
    assert ranked[0].canonical_url.endswith("/plain")  # the words are in its title too
    store.close()


def test_the_index_follows_an_updated_article(store: SyncSqlite) -> None:
    edited = replace(_record("unrelated"), body="The council rejected the budget.", content_hash="edited")
    assert store.save_article(edited, "2024-03-02T07:00:00Z").kind == "updated"
    assert _found(store, "rejected") == {"unrelated"}
    assert _found(store, "weeks of debate") == set()
    store.close()


def test_query_text_is_never_fts_syntax(store: SyncSqlite) -> None:
    for hostile in ('" OR 1', "NEAR(a b)", "title:x", "a AND NOT b", "*", "القوات)"):
        store.search(SearchQuery(parse_query(hostile)))  # must not raise
    store.close()


def test_index_text_and_snippets() -> None:
    assert index_text("والعراق") == "والعراق العراق"
    text = "مقدمة طويلة " * 20 + "أعلنت القُوَّاتُ الأَمِيرْكِيَّةُ شيئاً. " + "خاتمة " * 30
    shown = snippet(text, query_terms("القوات الأميركية"))
    assert "[القُوَّاتُ] [الأَمِيرْكِيَّةُ]" in shown and shown.startswith("… ") and shown.endswith(" …")


def test_search_command_prints_ranked_results_with_snippets(store: SyncSqlite, tmp_path: Path) -> None:
    store.close()
    config = write_config(
        tmp_path, '[[sources]]\nid = "ar"\nname = "AR"\nfeeds = ["https://e.com/f"]\ninterval = "1h"\n'
    )
    result = CliRunner().invoke(main, ["search", "القوات الأميركية", "--config", str(config), "--json", "--limit", "2"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert len(rows) == 2 and rows[0]["url"].endswith("/plain") and "[" in rows[0]["snippet"]
    text = CliRunner().invoke(main, ["search", "ميزانية غير موجودة", "--config", str(config)])
    assert text.exit_code == 0 and "no matches" in text.output
    empty = CliRunner().invoke(main, ["search", "!!!", "--config", str(config)])
    assert empty.exit_code == 2 and "no words" in empty.output


def test_a_query_matching_more_than_the_rank_limit_lists_the_newest_title_matches_first(store: SyncSqlite) -> None:
    """Ids grow with time. Four articles match; with a rank limit of 2 they come unranked: the one with the
    word in its title first, then the others newest first, as far as the limit."""
    everything = store.search(SearchQuery(parse_query("القوات")))
    assert len(everything) == 4 and all(row.score is not None for row in everything)
    newest = store.search(SearchQuery(parse_query("القوات"), limit=3), rank_limit=2)
    in_title = [row.id for row in everything if "القوات" in row.title]
    others = sorted((row.id for row in everything if row.id not in in_title), reverse=True)
    assert [row.id for row in newest] == (in_title + others)[:3] and all(row.score is None for row in newest)
    assert _found(store, "القوات", source_id="other") == {"ta-marbuta-as-ha"}
    store.close()


def test_filters_apply_to_queries_over_the_rank_limit_too(store: SyncSqlite) -> None:
    assert {row.canonical_url for row in store.search(SearchQuery(parse_query("القوات"), source_id="other"), rank_limit=1)} == {
        "https://e.com/ta-marbuta-as-ha"}  # fmt: skip
    assert store.search(SearchQuery(parse_query("القوات"), since="2024-03-02"), rank_limit=1) == []
    store.close()


def test_a_sinks_query_matches_text_as_search_would() -> None:
    from crawler.search import matches

    query = parse_query('"وزارة النفط" OR البصرة -رياضة')
    assert matches(query, "أعلنت وزارةُ النفط اليوم عن زيادة الإنتاج")  # harakat do not matter
    assert matches(query, "أمطار غزيرة في البصرة")
    assert not matches(query, "وزارة الخارجية تتحدث عن النفط")  # the phrase's words, but not side by side
    assert not matches(query, "رياضة: فريق البصرة يفوز")  # excluded
    assert matches(parse_query("بصر*"), "في البصره") is False and matches(parse_query("البص*"), "في البصره")

"""The reading pages' HTML (crawler.ui.reading): word-level differences, chips, marked snippets, escaping."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from crawler.ui.reading import PageArticle, PageVersion, article_page, changed_paragraphs, chips, marked, word_diff


def test_a_word_diff_marks_words_where_they_changed_and_keeps_paragraphs() -> None:
    assert word_diff("قال الوزير إن النفط\n\nارتفع", "قال الوزير أمس إن النفط\n\nانخفض") == (
        '<p dir="auto">قال الوزير <ins>أمس</ins> إن النفط</p>\n<p dir="auto"><del>ارتفع</del> <ins>انخفض</ins></p>'
    )
    assert word_diff("a", "a <script>x</script>") == '<p dir="auto">a <ins>&lt;script&gt;x&lt;/script&gt;</ins></p>'


def test_only_changed_paragraphs_are_shown_with_an_ellipsis_for_the_rest() -> None:
    old = "one\n\ntwo\n\nthree\n\nfour"
    assert changed_paragraphs(old, old.replace("three", "3")) == (
        '<p class="same">…</p>\n<p dir="auto"><del>three</del> <ins>3</ins></p>\n<p class="same">…</p>'
    )
    assert changed_paragraphs(old, old) == ""


def test_chips_and_marks_escape_what_they_show() -> None:
    assert (
        chips('["نفط", "<b>"]')
        == '<span class="chip" dir="auto">نفط</span> <span class="chip" dir="auto">&lt;b&gt;</span>'
    )
    assert chips("not json") == "not json" and chips(None) == ""
    assert marked("the [budget] <i>") == "the <mark>budget</mark> &lt;i&gt;"


def test_the_article_page_shows_times_in_the_display_zone_and_what_changed_first() -> None:
    versions = [PageVersion(1, "2026-12-06T09:00:00+00:00", [], "Old", "a\n\nb"),
                PageVersion(2, "2026-12-06T10:00:00+00:00", ["title", "body"], "New", "a\n\nb c")]  # fmt: skip
    article = PageArticle(7, "s", "https://e.example/a?x=1&y=2", "New <em>", "2026-12-06T08:30:00+00:00", None,
                          ["t"], ["A"], "2026-12-06T09:00:00+00:00", versions)  # fmt: skip
    page = article_page(article, ZoneInfo("Asia/Baghdad"), "crawler")
    assert "2026-12-06 11:30" in page and "version 2 · 2026-12-06 13:00:00 · changed: title, body" in page
    assert "New &lt;em&gt;" in page and 'href="https://e.example/a?x=1&amp;y=2"' in page
    assert page.index("<del>Old</del>") < page.index('<div class="body">')  # the change before the text
    assert '<p dir="auto">b <ins>c</ins></p>' in page

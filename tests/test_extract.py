"""Golden extraction: tests/golden/<case>/article.html beside article.expected.json.

Every page under tests/golden/ was written by the project (the seed, and small pages in the styles of
common Arabic and Persian news themes). ``timezone`` is the source's zone for dates the page prints
without one; ``known_wrong`` names fields the extractor still gets wrong, each with its reason: the
rest of the page is checked as usual, and a known-wrong field that comes out right fails the test so
that the note is removed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser

from crawler.extract import extract
from crawler.extract.prose import text_runs

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.parent for p in GOLDEN.glob("*/article.expected.json"))
EXACT_FIELDS = (
    "title", "published", "modified", "section", "language", "canonical_url", "image", "site_name", "authors",
)  # fmt: skip


def story_paragraphs(count: int) -> list[str]:
    """Numbered paragraphs of a made-up story, as <p> elements."""
    return [
        f"<p>Paragraph {n} of the story: the council met on Tuesday about the harbour budget.</p>" for n in range(count)
    ]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_page_extracts_as_expected(case: Path) -> None:
    expected = json.loads((case / "article.expected.json").read_text(encoding="utf-8"))
    article = extract((case / "article.html").read_bytes(), expected["url"], expected.get("timezone", "UTC"))
    known_wrong: dict[str, str] = expected.get("known_wrong", {})

    for field in EXACT_FIELDS:
        if field in expected and field not in known_wrong:
            assert getattr(article, field) == expected[field], field
    assert article.tags == expected["tags_normalized"]
    position = 0
    for paragraph in expected["body_paragraphs"]:
        found = article.body.find(paragraph, position)
        assert found >= 0, f"missing or out of order: {paragraph[:60]}"
        position = found + len(paragraph)
    for snippet in expected["must_not_contain"]:
        assert snippet not in article.body, f"boilerplate leaked into the body: {snippet[:60]}"
    still_wrong = {field: reason for field, reason in known_wrong.items() if getattr(article, field) != expected[field]}
    assert still_wrong.keys() == known_wrong.keys(), (
        f"now right, drop from known_wrong: {known_wrong.keys() - still_wrong.keys()}"
    )
    if still_wrong:
        pytest.xfail("; ".join(f"{field}: {reason}" for field, reason in still_wrong.items()))


def test_body_paragraphs_are_separated_by_blank_lines_and_list_items_by_newlines() -> None:
    article = extract(
        "<html><body><article><h1>T</h1><p>First paragraph, long enough to be text, with commas, yes.</p>"
        "<h2>A heading</h2><ul><li>one item</li><li>two item</li></ul>"
        "<p>Second paragraph, also long enough to count as article text, with commas.</p></article></body></html>"
    )
    assert article.body.split("\n\n") == [
        "First paragraph, long enough to be text, with commas, yes.",
        "A heading",
        "one item\ntwo item",
        "Second paragraph, also long enough to count as article text, with commas.",
    ]


@pytest.mark.parametrize("html", ["", "<html>", "\x00\x01binary", "<div>" * 5000 + "deep" + "</div>" * 5000])
def test_extract_returns_something_on_broken_input(html: str) -> None:
    article = extract(html)
    assert isinstance(article.body, str)


def test_header_today_date_and_teaser_dates_never_win() -> None:
    html = (
        '<html lang="ar"><body><header><span class="today-date">السبت, 29 نوفمبر 2025</span></header>'
        '<article><h1>عنوان</h1><div class="post-meta"><span class="date">25 كانون الثاني 2024</span></div>'
        "<p>نص المقال الأول، وهو طويل بما يكفي ليكون نصاً حقيقياً في الصفحة.</p>"
        '<div class="related"><ul><li><span class="date">21 أبريل 2025</span></li></ul></div></article></body></html>'
    )
    article = extract(html, timezone="Asia/Baghdad")
    assert article.published == "2024-01-25T00:00:00+03:00"


SENTENCE = "A sentence of the article's own text, long enough to read as prose, with commas, and a full stop."


def test_body_split_over_sibling_blocks_is_found_whole_without_what_sits_between() -> None:
    """Two halves of a story (a few paragraphs each, as on real pages) around a newsletter box."""
    more = f"<p>{SENTENCE}</p>" * 3
    html = (
        "<html><body><nav><a href='/'>Home</a><a href='/w'>World</a></nav><main><h1>Split story</h1>"
        f"<section class='story-body'><p>Part one. {SENTENCE}</p>{more}</section>"
        "<div class='newsletter-signup'><p>Get our newsletter every morning, free of charge.</p></div>"
        f"<section class='story-body'><p>Part two. {SENTENCE}</p>{more}<blockquote>A quoted witness said so.</blockquote>"
        "<table><tr><th>Year</th><th>Rate</th></tr><tr><td>2024</td><td>3.1</td></tr></table></section>"
        "<div class='related-stories'><h2>Related</h2><ul><li><a href='/x'>Another story entirely</a></li></ul></div>"
        "</main><footer><p>All rights reserved by the publisher, 2025.</p></footer></body></html>"
    )
    body = extract(html).body
    assert body.startswith("Part one.") and "Part two." in body
    assert "A quoted witness said so." in body and "Year | Rate\n2024 | 3.1" in body
    assert "newsletter" not in body and "Another story" not in body and "rights reserved" not in body


def test_amp_page_keeps_the_article_and_drops_amp_chrome() -> None:
    html = (
        "<html amp lang='en'><body><amp-sidebar id='menu'><ul><li><a href='/'>Home</a></li></ul></amp-sidebar>"
        "<article><h1>AMP story</h1><amp-img src='a.jpg' width='1' height='1'></amp-img>"
        f"<p>{SENTENCE}</p><amp-ad type='x'><div>Advertisement placeholder text for a sponsor.</div></amp-ad>"
        f"<p>{SENTENCE} Second.</p><amp-social-share type='twitter'>Share on Twitter</amp-social-share></article>"
        "</body></html>"
    )
    body = extract(html).body
    assert body == f"{SENTENCE}\n\n{SENTENCE} Second."


def test_json_ld_article_body_replaces_a_poor_guess_from_the_markup() -> None:
    html = (
        '<html><head><script type="application/ld+json">{"@type": "NewsArticle", "headline": "H", '
        f'"articleBody": "{SENTENCE * 4}"}}</script></head>'
        "<body><div id='app'><p>Loading the story, please wait a moment.</p></div></body></html>"
    )
    article = extract(html)
    assert article.body.startswith("A sentence of the article") and article.provenance["body"] == "json-ld:articleBody"


ARABIC_TEXT = "أعلنت وزارة الخارجية خطة جديدة لتحسين الخدمات في المحافظات، وفقاً لبيان رسمي صدر اليوم. " * 4
ENGLISH_TEXT = "The city council approved the annual budget after weeks of debate, according to a statement. " * 4


@pytest.mark.parametrize(
    ("lang_attribute", "text", "language", "detected"),
    [
        (' lang="ar"', ARABIC_TEXT, "ar", False),  # a declaration that fits the text is trusted
        (' lang="en-US"', ARABIC_TEXT, "ar", True),  # a theme's site-wide English on an Arabic article
        (' lang="ar"', ENGLISH_TEXT, "en", True),  # an English story on an Arabic site
        ("", ENGLISH_TEXT, "en", True),  # nothing declared
    ],
)
def test_language_comes_from_the_text_when_the_declaration_is_missing_or_wrong(
    lang_attribute: str, text: str, language: str, detected: bool
) -> None:
    article = extract(f"<html{lang_attribute}><body><article><p>{text}</p></article></body></html>")
    assert article.language == language
    assert (article.provenance.get("language") == "detected") is detected


@pytest.mark.parametrize(
    ("byline", "authors"),
    [
        ('<p class="byline">By <a href="/author/jane">Jane Doe</a> | January 5, 2025</p>', ["Jane Doe"]),
        ('<div class="post-author">Written by Omar Said</div>', ["Omar Said"]),
        ('<span class="author-name">بقلم: رنا علي</span>', ["رنا علي"]),
        ('<div class="comment-author">Jiobal says</div>', []),  # a commenter is not the author
        ('<label class="author">Name *</label>', []),  # a comment form's label
    ],
)
def test_a_visible_byline_names_the_author_when_nothing_machine_readable_does(byline: str, authors: list[str]) -> None:
    html = f"<html><body><article><h1>Title</h1>{byline}<p>{ENGLISH_TEXT}</p></article></body></html>"
    article = extract(html)
    assert article.authors == authors
    if authors:
        assert article.provenance["authors"] == "visible:byline"


def test_when_the_best_container_renders_nothing_the_next_is_taken() -> None:
    """Teaser cards, each a block wrapped in a link, outweigh a short story beside a long menu; rendering
    drops the cards (a link wrapping blocks is a teaser), so the best candidate renders nothing and the
    body must come from the next one."""
    blurb = "The harbour board met again on Monday to argue over the budget for dredging the channel, " * 5
    cards = "".join(f"<a href='/story/{n}'><div>{blurb}Story {n}.</div></a>" for n in range(6))
    menu = "".join(f"<a href='/section/{n}'>Section number {n}</a> " for n in range(20))
    story = ("<p>The ferry to the islands will run twice a day from June, the council said on Tuesday.</p>"
             "<p>Tickets go on sale next week, and residents of the islands travel at half price.</p>")  # fmt: skip
    html = (f"<html><body><div class='menu'>{menu}</div><div class='story'><h1>Ferry timetable</h1>{story}</div>"
            f"<div class='cards'>{cards}</div></body></html>")  # fmt: skip
    article = extract(html)
    assert article.body.endswith("residents of the islands travel at half price."), article.body
    assert "The ferry to the islands will run twice a day" in article.body and "harbour board" not in article.body


def test_a_paragraph_inside_a_teaser_link_is_not_prose() -> None:
    """Teaser cards written <a><p>headline</p></a> are links, however much their text reads like prose;
    a story the parser carried inside an unclosed <a> is still prose."""
    sentence = "Another story about the harbour and its long and costly dredging works, told again."
    card = LexborHTMLParser(f"<html><body><a href='/other/1'><p>{sentence}</p></a></body></html>")
    [run] = [run for run in text_runs(card.body) if run.owner.tag == "p"]
    assert run.prose_chars() == 0
    story = " ".join([sentence] * 6)
    unclosed = LexborHTMLParser(f"<html><body><a href='/home'>Home<p>{story}</p><p>{story}</p></body></html>")
    runs = [run for run in text_runs(unclosed.body) if run.owner.tag == "p"]
    assert len(runs) == 2 and all(run.prose_chars() > 400 for run in runs)


def test_a_story_split_into_page_builder_modules_is_joined_and_the_teaser_modules_between_are_not() -> None:
    """Each section of the story sits in a module of its own (box < boxCon < mod < modCon < con), with
    teaser modules between them: the parts join when their wrappers are the container's, class for class."""
    section = ("<div class='con'><div class='modCon'><div class='mod modA'><div class='boxCon'><div class='box'>"
               "<p>{text}</p></div></div></div></div></div>")  # fmt: skip
    teaser = ("<div class='con teaserBox'><div class='modCon'><div class='mod modA'><div class='boxCon'>"
              "<div class='box boxSmall'><h3><a href='/other'>Another story</a></h3><p>{text}</p></div></div></div></div></div>")  # fmt: skip
    first = "The council voted on Tuesday to rebuild the old harbour wall before the winter storms arrive. " * 6
    second = "Work will start in March, and the road along the quay will close for three months while it lasts. " * 3
    aside = "A teaser for another story about the harbour, with a blurb long enough to read like prose here."
    html = ("<html><body><div class='section sectionA'>" + section.format(text=first) + teaser.format(text=aside) * 2
            + section.format(text=second) + "</div></body></html>")  # fmt: skip
    article = extract(html)
    assert article.body.startswith("The council voted on Tuesday") and article.body.endswith("while it lasts.")
    assert "teaser for another story" not in article.body


def test_page_builder_modules_numbered_one_by_one_still_join() -> None:
    """Page builders number every module ("pb_text_1", "pb_text_2"): the numbers do not make two parts of one
    story different kinds of block, and the quote module between them stays out."""
    module = ("<div class='pb_row pb_row_{n}'><div class='pb_column pb_column_{n}'><div class='pb_module pb_text "
              "pb_text_{n} pb_align_left'><div class='pb_text_inner'>{text}</div></div></div></div>")  # fmt: skip
    first = "<p>The council voted on Tuesday to rebuild the old harbour wall before the winter storms.</p>" * 6
    second = "<p>Work will start in March, and the road along the quay will close while it lasts.</p>" * 3
    teaser = ("<div class='pb_row pb_row_2'><div class='pb_column pb_column_2'><div class='pb_module pb_blurb "
              "pb_blurb_0'><h3><a href='/other'>Another story</a></h3><p>A teaser for another story about the "
              "harbour, with a blurb long enough to read like prose.</p></div></div></div>")  # fmt: skip
    html = (f"<html><body><div class='pb_section'>{module.format(n=1, text=first)}{teaser}"
            f"{module.format(n=3, text=second)}</div></body></html>")  # fmt: skip
    article = extract(html)
    assert article.body.startswith("The council voted") and article.body.endswith("while it lasts."), article.body
    assert "teaser for another story" not in article.body


def test_a_short_post_named_as_the_entry_beats_a_longer_unnamed_block_beside_it() -> None:
    """A micro-post (two lines under a photo) in a block named as the post, beside a plain block of somewhat
    longer text: the name is worth a fixed mass of prose, not only a share of a small one."""
    post = "<p>We love this inspiration board and are excited to celebrate with a chic couple this weekend.</p>"
    other = ("<p>Our shop sells paper goods, invitations and custom stationery for weddings, showers and every "
             "other party, and we ship anywhere in the country within a week.</p>")  # fmt: skip
    menu = "".join(
        f"<a href='/{name}'>{name}</a> "
        for name in ("Home", "Weddings", "Parties", "Showers", "Invitations", "Shop", "Contact", "About")
    )
    html = (f"<html><body><div class='top'>{menu}</div>"
            f"<div class='wrap'><div class='entry-body'><img src='/a.jpg'>{post}</div></div>"
            f"<div class='about'>{other}</div></body></html>")  # fmt: skip
    body = extract(html).body
    assert body.startswith("We love this inspiration board") and "paper goods" not in body, body


@pytest.mark.parametrize(
    ("ad_label", "related_label"),
    [("Anzeige", "Lesen Sie auch"), ("Publicité", "À lire aussi"), ("Reklama", "Czytaj więcej"),
     ("Story continues below advertisement", "Read more"), ("Werbung", "Mehr zum Thema Hitzeschäden"),
     ("Advertisement", "More from the Harbour Desk"), ("Anzeige", "Häufig gelesen")],
)  # fmt: skip
def test_ad_labels_and_other_story_boxes_are_left_out_in_the_sites_language(ad_label: str, related_label: str) -> None:
    """An ad slot's label between paragraphs and a box announcing other stories, in the languages news sites
    are written in, are not the article's text."""
    story = "".join(story_paragraphs(6))
    other = ("<div class='box'><span>{label}</span><a href='/other'>Another story about the harbour</a>"
             "<p>A teaser for another story, with a blurb long enough to read like the prose of an article.</p></div>")  # fmt: skip
    html = (f"<html><body><article>{story[:400]}<div class='slot'>{ad_label}</div>{other.format(label=related_label)}"
            f"{story[400:]}</article></body></html>")  # fmt: skip
    body = extract(html).body
    assert body.startswith("Paragraph 0") and body.endswith("harbour budget."), body
    assert ad_label not in body and "teaser for another story" not in body, body


def test_a_notice_about_the_readers_browser_is_neither_the_article_nor_part_of_it() -> None:
    """ "Best viewed in an up-to-date browser", "please enable JavaScript": a notice to the reader, however
    long and well punctuated, never outweighs a short talk page and never shows in a body."""
    notice = ("<div id='obit'><p><strong>This page is best viewed in an up-to-date web browser with style sheets "
              "enabled. While you will be able to view the content of this page in your current browser, you will "
              "not be able to get the full visual experience.</strong></p></div>")  # fmt: skip
    talk = ("<div class='talk'><blockquote>If you ask anyone what morality is based on, two factors always come "
            "out: reciprocity and empathy.</blockquote><p>Frans de Waal shares videos of behavioural tests on "
            "primates, which show how many moral traits all of us share.</p>"
            "<p>Please enable JavaScript in your browser to complete this form.</p></div>")  # fmt: skip
    menu = "".join(f"<a href='/{n}'>Section {n}</a> " for n in range(12))
    body = extract(f"<html><body><div class='nav'>{menu}</div>{talk}{notice}</body></html>").body
    assert "Frans de Waal shares videos" in body and "reciprocity" in body, body
    assert "best viewed" not in body and "enable JavaScript" not in body, body


def test_a_paywall_block_is_left_out_but_an_article_named_for_its_paywall_is_kept() -> None:
    """ "o-paywall" is the barrier (an upsell, or text the reader is not shown); "paywall-article" is the
    article that sits behind one."""
    free = "".join(story_paragraphs(5))
    wall = ("<div class='o-paywall'><p>Subscribe now to read the rest of this story and every other one, "
            "from one euro for the first month, cancel at any time you like.</p></div>")  # fmt: skip
    html = f"<html><body><div class='paywall-article'>{free}{wall}</div></body></html>"
    body = extract(html).body
    assert body.startswith("Paragraph 0") and body.endswith("harbour budget."), body


def test_paragraphs_written_straight_into_a_list_without_items_are_kept() -> None:
    """Broken markup: a <ul> holding <p>s and no <li>; browsers show the paragraphs, so does the body."""
    lead = "<p>The words that competed for the title this year were announced by the dictionary on Monday.</p>" * 3
    words = "".join(f"<p><strong>{n}. Word:</strong> a definition long enough to read as a sentence.</p>"
                    for n in range(1, 5))  # fmt: skip
    body = extract(f"<html><body><article>{lead}<ul>{words}</ul></article></body></html>").body
    assert "1. Word: a definition" in body and "4. Word: a definition" in body, body


def test_the_pages_furniture_printed_as_words_is_not_body_text() -> None:
    """A table of contents, "Continue reading the main story", a media label, a likes widget's lines."""
    story = story_paragraphs(6)
    furniture = [
        "<div class='toc'><p>Table of contents</p><ol><li><a href='#a'>The vote</a></li><li><a href='#b'>The cost</a></li></ol></div>",
        "<div>Continue reading the main story</div>",
        "<div class='media'><span>Video</span><div class='player'></div></div>",
        "<div class='likes'><h3>Like this:</h3><p>Be the first to like this.</p></div>",
        "<div><p>Font:</p><p>E-mail this to a friend</p><p>Printable version</p></div>",
    ]  # fmt: skip
    mixed = "".join(part for pair in zip(story, [*furniture, ""], strict=True) for part in pair)
    body = extract(f"<html><body><article>{mixed}</article></body></html>").body
    assert body.count("Paragraph") == 6, body
    for words in ("Table of contents", "Continue reading", "Video", "Like this", "first to like", "Font", "Printable"):
        assert words not in body, body


def test_a_photo_gallery_inside_the_story_leaves_its_captions_out() -> None:
    """A gallery of photos set between two paragraphs: its captions are the photos' words, not the story's."""
    story = "".join(story_paragraphs(8))
    slides = "".join(f"<div class='slide'><img src='/{n}.jpg'><p>Supporters of the harbour plan gather on the "
                     f"quay on day {n} of the campaign, holding signs.</p></div>" for n in range(8))  # fmt: skip
    body = extract(
        f"<html><body><article>{story}<div class='story-gallery'>{slides}</div>{story}</article></body></html>"
    ).body
    assert body.count("Paragraph 7") == 2 and "Supporters of the harbour plan" not in body, body


def test_the_sites_small_print_and_the_posts_filing_line_are_not_body_text() -> None:
    """A copyright notice and "Posted in … | No Comments" close many stories; a paragraph that merely opens
    with the word "Copyright" is the story's."""
    story = "".join(story_paragraphs(4)) + "<p>Copyright law changed in 2019, the minister told the council.</p>"
    tail = ("<p>© 2012 The Associated Press. All rights reserved. This material may not be published.</p>"
            "<p>Posted in Current Events | No Comments »</p><p>Categories: Harbour, Council</p>")  # fmt: skip
    body = extract(f"<html><body><article>{story}{tail}</article></body></html>").body
    assert body.startswith("Paragraph 0") and body.endswith("told the council."), body


def test_wordpress_classic_comment_lists_never_become_the_body() -> None:
    """A short post under a long thread: <ol class=commentlist> and <li id=comment-N> are comments, so
    their prose never outweighs the post's."""
    reply = "I tried this with my own class last year and the rectangles came out almost exactly as you say. " * 3
    thread = "".join(f"<li id='comment-{5500 + n}' class='alt'><div class='commenttext'><p>{reply}</p></div></li>"
                     for n in range(6))  # fmt: skip
    post = ("<p>Some math teachers were sharing dinner after the conference when one said something implausible.</p>"
            "<p>Ask a class to draw a rectangle, and together they will draw the golden one.</p>")  # fmt: skip
    html = (f"<html><body><div id='post-15500'><h2>1,400 Rectangles</h2><div class='entry'>{post}</div>"
            f"<h3>53 Responses</h3><ol class='commentlist'>{thread}</ol></div></body></html>")  # fmt: skip
    article = extract(html)
    assert article.body.startswith("Some math teachers") and "my own class" not in article.body, article.body


def test_a_page_laid_out_in_nested_tables_gives_its_story_once_without_the_menu_cell() -> None:
    """Older CMSs lay the whole page out in nested tables: each cell is rendered once, as a container
    (a nested table's rows belong to it, not again to the outer table), and a cell of links is left out."""
    story = "".join(story_paragraphs(4))
    menu = "".join(f"<a href='/s{n}'>Section {n}</a><br>" for n in range(12))
    part = "<tr><td><table><tr><td>{}</td></tr></table></td></tr>"
    lead = "<p>The harbour board and the council disagree about who pays for the new breakwater, again.</p>"
    html = (f"<html><body><table><tr><td>{menu}</td><td><h1>Harbour budget</h1>{lead}<table>"
            f"{part.format(story)}{part.format(story.replace('Paragraph', 'Part two'))}</table></td></tr></table>"
            "</body></html>")  # fmt: skip
    body = extract(html).body
    assert body.count("Paragraph 0 of the story") == 1 and body.count("Part two 3 of the story") == 1, body
    assert "Section 3" not in body


def test_a_data_table_in_a_story_keeps_one_line_per_row() -> None:
    story = "<p>" + "The results of the vote were announced on Tuesday evening by the council clerk. " * 3 + "</p>"
    table = "<table><tr><th>Party</th><th>Seats</th></tr><tr><td>Harbour</td><td>12</td></tr></table>"
    body = extract(f"<html><body><article><h1>Vote</h1>{story}{table}{story}</article></body></html>").body
    assert "Party | Seats\nHarbour | 12" in body


@pytest.mark.parametrize("name", ["class='credit'", "id='footer'", "class='site-footer'"])
def test_the_sites_small_print_is_not_a_short_posts_body(name: str) -> None:
    """An image post with one line of text, and a longer licence or copyright note in the page's footer
    block (a <div>, not a <footer>): the note is the site's small print, not the post."""
    post = "<div class='storycontent'><p>You know me, I love pixels and I love superheroes. Created by Sayon.</p></div>"
    note = ("<p>All photos are licensed under a Creative Commons licence: you may share and remix them, as long "
            "as you do it in a non-commercial way and link back to this site. (c) 2012 The Curious Brain.</p>")  # fmt: skip
    html = f"<html><body><div id='rap'><h2>Pixel superheroes</h2>{post}</div><div {name}>{note}</div></body></html>"
    body = extract(html).body
    assert body.startswith("You know me, I love pixels") and "Creative Commons" not in body, body


def test_a_table_set_as_a_figure_is_content_and_an_image_figure_is_not() -> None:
    """WordPress sets tables in <figure class=wp-block-table>; a photo's figure and caption stay out."""
    story = "<p>" + "Median home prices rose again last year, the analysis of the sales data found. " * 3 + "</p>"
    table = ("<figure class='wp-block-table'><table><tr><th>Year</th><th>Change</th></tr>"
             "<tr><td>2013</td><td>+13.1%</td></tr></table></figure>")  # fmt: skip
    photo = "<figure><img src='/a.jpg'><figcaption>A house for sale in the suburbs.</figcaption></figure>"
    body = extract(f"<html><body><article><h1>Prices</h1>{story}{table}{photo}{story}</article></body></html>").body
    assert "Year | Change\n2013 | +13.1%" in body and "house for sale" not in body, body

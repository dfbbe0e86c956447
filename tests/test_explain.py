"""`crawler extract --explain`: the candidates for the body, their scores, the winner and a selector for each."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from crawler.cli import main
from crawler.extract.explain import explain

SENTENCE = "A sentence of the article's own text, long enough to read as prose, with commas, and a full stop."
PAGE = (
    "<html><head><title>Split story</title><meta name='description' content='The standfirst of the split story, "
    "printed above its body by the theme.'></head><body><div class='head'><h1>Split story</h1>"
    "<p class='standfirst'>The standfirst of the split story, printed above its body by the theme.</p></div>"
    f"<section class='story-body'><p>Part one. {SENTENCE}</p>{f'<p>{SENTENCE}</p>' * 3}</section>"
    "<div class='ad-slot'>Advertisement</div>"
    f"<section class='story-body'><p>Part two. {SENTENCE}</p>{f'<p>{SENTENCE}</p>' * 2}</section>"
    "<div class='more'><h2>More stories</h2>"
    + "".join(f"<div class='card'><h3><a href='/s{i}'>Another story with a headline of its own {i}</a></h3>"
              f"<p>{SENTENCE}</p></div>" for i in range(3))
    + "</div></body></html>"
)  # fmt: skip


def test_explanation_ranks_the_candidates_and_names_the_winner_the_parts_and_the_standfirst() -> None:
    explanation = explain(PAGE, "https://news.example/split")
    chosen = [view for view in explanation.candidates if view.chosen]
    assert len(chosen) == 1 and chosen[0].selector == "section.story-body" and chosen[0].matches == 2
    assert explanation.candidates[0].chosen and explanation.candidates[0].score >= max(
        v.score for v in explanation.candidates
    )
    assert explanation.parts == ("section.story-body",)  # the second half, joined to the first
    assert explanation.standfirst is not None and explanation.standfirst.startswith("The standfirst")
    assert explanation.article.body.startswith("The standfirst") and "Part two." in explanation.article.body
    card_like = [view for view in explanation.candidates if view.teasers]
    assert all(view.score < chosen[0].score for view in card_like)


def test_extract_explain_prints_the_table_and_how_to_pin_the_body(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(PAGE, encoding="utf-8")
    result = CliRunner().invoke(main, ["extract", "--explain", str(page)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    winner = next(line for line in lines if line.startswith("*"))
    assert winner.rstrip().endswith("section.story-body  (2 on the page)")
    assert any("[sources.extract] body" in line for line in lines)
    assert any(line.startswith("  title: 'Split story'") for line in lines)

"""Why the extractor took the body it took, for ``crawler extract --explain``.

The same steps as extract_article, with the body's decision kept: every candidate element ranked with
what its score is made of (prose, other text, teasers, hints, closeness to the headline), the one chosen,
the parts of a split story joined to it and the standfirst above it. Each candidate comes with a CSS
selector that matches it on this page, so a user who sees a bad body can pin the right element with a
source's ``[sources.extract] body = "..."`` override.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from crawler.extract import extract_article
from crawler.extract.body import decide_body
from crawler.extract.boilerplate import strip_page_chrome
from crawler.extract.metadata import read_metadata
from crawler.extract.overrides import SelectorRules, apply_drops
from crawler.extract.page import parse_page
from crawler.models import ExtractedArticle

__all__ = ["CandidateView", "Explanation", "explain", "explanation_lines"]

_IDENT = re.compile(r"-?[A-Za-z_][\w-]*")


@dataclass(frozen=True, slots=True)
class CandidateView:
    selector: str  # matches this element on the page (with ``matches`` elements in all)
    matches: int
    prose: int
    chars: int
    teasers: int
    hint: float
    near_title: bool
    score: float
    chosen: bool


@dataclass(frozen=True, slots=True)
class Explanation:
    article: ExtractedArticle
    candidates: tuple[CandidateView, ...]
    container: str | None  # the element rendered (a candidate, or the block around a list or quote)
    parts: tuple[str, ...]  # the other parts of a split story rendered with it
    standfirst: str | None
    by_headline: bool = False  # the headline's block was taken over the best-scored candidate
    fallback: int = 0  # the candidate rendered (by rank) when those before it rendered nothing


def explain(
    html: str,
    url: str | None,
    timezone: str = "UTC",
    language_hint: str | None = None,
    *,
    rules: SelectorRules | None = None,
) -> Explanation:
    rules = rules or SelectorRules()
    article = extract_article(html, url, timezone, language_hint, rules=rules)
    tree = parse_page(html)
    apply_drops(tree, rules)
    meta = read_metadata(tree, timezone, url)
    strip_page_chrome(tree)
    _, decision = decide_body(tree, meta.title, meta.description)
    chosen = decision.candidates[0].node.mem_id if decision.candidates else None
    views = tuple(
        CandidateView(*_selector(tree, c.node), c.prose, c.chars, c.teasers, c.hint, c.near_title, round(c.score), c.node.mem_id == chosen)
        for c in decision.candidates
    )  # fmt: skip
    container = _selector(tree, decision.container)[0] if decision.container is not None else None
    chosen_key = decision.container.mem_id if decision.container is not None else None
    parts = tuple(_selector(tree, part)[0] for part in decision.parts if part.mem_id != chosen_key)
    return Explanation(article, views, container, parts, decision.standfirst, decision.by_headline, decision.fallback)


def explanation_lines(explanation: Explanation) -> list[str]:
    """The explanation as text for a terminal."""
    article = explanation.article
    lines = [f"body: {article.provenance.get('body', 'none')} ({len(article.body)} characters)"]
    if article.empty_body_reason:
        lines.append(f"empty because: {article.empty_body_reason}")
    lines.append("")
    lines.append(
        "candidates, best first (score = (prose - 1.5 x other text - 300 x teasers) x hint + 1000 x (hint - 1) when"
        " hint > 1, x 1.3 near the headline; a negative score is divided by the factors):"
    )
    lines.append(f"  {'score':>8} {'prose':>7} {'text':>7} {'teasers':>7} {'hint':>5} {'near':>4}  selector")
    for view in explanation.candidates:
        mark = "*" if view.chosen else " "
        near = "yes" if view.near_title else ""
        matches = f"  ({view.matches} on the page)" if view.matches > 1 else ""
        lines.append(
            f"{mark} {view.score:>8} {view.prose:>7} {view.chars:>7} {view.teasers:>7} {view.hint:>5.2f} {near:>4}  {view.selector}{matches}"
        )
    chosen = next((view.selector for view in explanation.candidates if view.chosen), None)
    if explanation.fallback:
        tried = "best" if explanation.fallback == 1 else f"{explanation.fallback} best"
        lines.append(f"the {tried} rendered nothing (only boilerplate): the next was taken: {explanation.container}")
    elif explanation.by_headline:
        lines.append(f"the block under the headline (an h2/h3) was taken over the best, which lies elsewhere: "
                     f"{explanation.container}")  # fmt: skip
    elif explanation.container and explanation.container != chosen:
        lines.append(f"the best is only a list, quote or table: the block around it was taken: {explanation.container}")
    if explanation.parts:
        lines.append(f"parts of a split story rendered with it: {', '.join(explanation.parts)}")
    if explanation.standfirst:
        lines.append(f"standfirst above it (the page's description): {explanation.standfirst[:120]}")
    lines.append("")
    lines.append('To pin the body, give the source a selector: [sources.extract] body = "<selector>" (see the README).')
    lines.append("")
    lines.append("fields and where each came from:")
    for name in ("title", "published", "modified", "authors", "section", "tags", "language"):
        lines.append(f"  {name}: {getattr(article, name)!r}  [{article.provenance.get(name, '-')}]")
    return lines


def _selector(tree: LexborHTMLParser, node: LexborNode) -> tuple[str, int]:
    """A CSS selector for node: its id, else its tag and classes, under its parent's when that is not unique."""
    own = _own_selector(node)
    selector, matches = own, _count(tree, own)
    parent = node.parent
    if matches > 1 and parent is not None and parent.tag not in ("html", None):
        scoped = f"{_own_selector(parent)} > {own}"
        scoped_matches = _count(tree, scoped)
        if 0 < scoped_matches < matches:
            selector, matches = scoped, scoped_matches
    return selector, matches


def _own_selector(node: LexborNode) -> str:
    ident = node.attrs.get("id") or ""
    if ident and _IDENT.fullmatch(ident):
        return f"{node.tag}#{ident}"
    classes = [name for name in (node.attrs.get("class") or "").split() if _IDENT.fullmatch(name)]
    return (node.tag or "*") + "".join(f".{name}" for name in classes)


def _count(tree: LexborHTMLParser, selector: str) -> int:
    try:
        return len(tree.css(selector))
    except SelectolaxError:
        return 0

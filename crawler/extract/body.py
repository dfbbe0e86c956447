"""Main-content extraction: find the element that holds the article text, then render it as plain text.

prose.py measures the prose every element holds, container.py chooses the article's element (and the
parts and standfirst that belong with it), render.py writes it out as text.
"""

from __future__ import annotations

from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser, LexborNode

from crawler.extract.container import (
    TITLE_REACH,
    Candidate,
    above_keys,
    choose_container,
    describe,
    headline_block,
    rank_candidates,
    same_kind_parts,
    standfirst,
    title_heading,
)
from crawler.extract.prose import MIN_PROSE_CHARS, Ancestry, ClassFlags, Mass, Run, char_count, prose_mass, text_runs
from crawler.extract.render import Block, RenderContext, holders_of_breaks, join_blocks, render

__all__ = ["BodyDecision", "BodyResult", "decide_body", "extract_body", "override_body"]

_FALLBACKS = 3  # candidates tried after the best when it renders nothing


@dataclass(slots=True)
class BodyResult:
    text: str
    container: str | None = None  # a short CSS-like description of the chosen element, for diagnostics
    reason: str | None = None  # why the body is empty, when it is


@dataclass(frozen=True, slots=True)
class BodyDecision:
    """How the body was found: the candidates ranked, the element chosen (and the parts of a split story
    beside it), the standfirst above it. For ``crawler extract --explain``."""

    candidates: tuple[Candidate, ...] = ()
    container: LexborNode | None = None
    parts: tuple[LexborNode, ...] = ()
    standfirst: str | None = None
    by_headline: bool = False  # the headline's block was taken over the best-scored candidate
    fallback: int = 0  # the candidate rendered (by rank) when those before it rendered nothing


def extract_body(tree: LexborHTMLParser, title: str | None, description: str | None = None) -> BodyResult:
    """Plain-text body of the article on a page whose chrome has already been stripped; ``description``
    (the page's own summary) finds a standfirst printed above the body's container."""
    return decide_body(tree, title, description)[0]


def decide_body(tree: LexborHTMLParser, title: str | None, description: str | None) -> tuple[BodyResult, BodyDecision]:
    """extract_body, and how it decided."""
    if tree.body is None:
        return BodyResult("", reason="the page has no <body>"), BodyDecision()
    flags = ClassFlags()
    headline = title_heading(tree, title)
    above_title = above_keys(headline)
    runs = text_runs(tree.body)
    mass = prose_mass(runs, flags, frozenset(above_title))
    if mass.total == 0 and char_count(tree.body) < MIN_PROSE_CHARS:
        return BodyResult("", reason="no paragraph of prose on the page"), BodyDecision()
    ranked = rank_candidates(mass, frozenset(above_title[:TITLE_REACH])) if mass.total else []
    # Text straight inside <body> (plain pages, bare fragments) has no unit to score: take the body.
    container = choose_container(ranked, mass) if ranked else tree.body
    # A headline printed as an h2/h3 (a blog's h1 is its masthead) marks the article's block, which a
    # sidebar of longer text can outscore; an h1's block is often a hero band with only the standfirst.
    under_headline = None
    if ranked and headline is not None and headline.tag != "h1":
        under_headline = headline_block(above_title, container, mass)
        container = under_headline or container
    text, parts, lead = _rendered(container, ranked, runs, mass, flags, title, description)
    fallback = 0
    # No second choice was the failure: the best container can hold only what rendering drops
    # (boilerplate, a list of links), while the next held the article. Try the next few.
    while not text and ranked and fallback < min(_FALLBACKS, len(ranked) - 1):
        fallback += 1
        container = choose_container(ranked[fallback:], mass)
        text, parts, lead = _rendered(container, ranked, runs, mass, flags, title, description)
    described = describe(container) + (f" + {len(parts) - 1} like it" if len(parts) > 1 else "")
    result = BodyResult(text, described, None if text else "the chosen container held only boilerplate")
    decision = BodyDecision(tuple(ranked), container, tuple(parts), lead, under_headline is not None, fallback)
    return result, decision


def _rendered(
    container: LexborNode, ranked: list[Candidate], runs: list[Run], mass: Mass, flags: ClassFlags,
    title: str | None, description: str | None,
) -> tuple[str, list[LexborNode], str | None]:  # fmt: skip
    """The container's text (with the other parts of a split story and the standfirst above it)."""
    parts = same_kind_parts(container, mass) if ranked else [container]
    lead = standfirst(runs, parts, description) if ranked else None
    blocks = [Block(lead, True)] if lead else []
    part_prose = sum(mass.prose.get(part.mem_id, 0) for part in parts)
    ctx = RenderContext(title, mass, part_prose, flags, frozenset().union(*map(holders_of_breaks, parts)))
    for part in parts:
        render(part, blocks, ctx, depth=0)
    return join_blocks(blocks, title), parts, lead


def override_body(tree: LexborHTMLParser, selector: str, title: str | None) -> BodyResult | None:
    """The body from a source's own selector: every match, in order, rendered like a chosen container."""
    nodes = tree.css(selector)
    if not nodes:
        return None
    blocks: list[Block] = []
    breaks = frozenset().union(*(holders_of_breaks(node) for node in nodes))
    ctx = RenderContext(title, Mass(Ancestry()), 0, ClassFlags(), breaks)
    for node in nodes:
        render(node, blocks, ctx, depth=0)
    return BodyResult(join_blocks(blocks, title), selector)

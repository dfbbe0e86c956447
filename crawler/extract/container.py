"""Choosing the article's element from the prose counts (prose.py), and what belongs with it.

The container is the element that maximises prose inside minus a share of everything else inside
(menus, link lists, short labels, teasers), nudged by class/id hints and by closeness to the headline.
This finds bodies split over many sibling blocks or nested deep in page-builder markup, where
readability's parent/grandparent scoring picks one fragment. A list, quote or table never stands for the
whole article; the other parts of a story cut into same-class sections join it; a standfirst printed
above it (the page's own description) opens it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser, LexborNode

from crawler.extract.boilerplate import COMMENTS, boilerplate_strength
from crawler.extract.prose import Mass, Run, char_count, is_inside

__all__ = [
    "TITLE_REACH", "Candidate", "above_keys", "choose_container", "describe", "headline_block", "rank_candidates",
    "same_kind_parts",
    "standfirst", "title_heading",
]  # fmt: skip

_POSITIVE_HINT = re.compile(
    r"article|body|content|entry|main|post|story|text|news-?details|detail|matn|متن|نص|prose|rich-?text", re.I
)
_NEGATIVE_HINT = re.compile(
    r"comment|footer|header|menu|nav|sidebar|widget|related|share|social|promo|banner|sponsor|teaser|"
    r"breadcrumb|popular|most-|newsletter|subscribe|cookie|modal|popup",
    re.I,
)
_JUNK_WEIGHT = 1.5  # what one character of non-prose text inside a container costs
# Headlines that link elsewhere: each one stands for a teaser (its blurb reads like prose) in a container.
_LINKED_HEADLINES = "h2 a[href], h3 a[href], h4 a[href], a[href] h2, a[href] h3, a[href] h4"
_TEASER_COST = 300
# A favouring hint is also worth a fixed mass of prose (x 1.1 adds 100 characters): on a short post a
# share is a few characters, and a sidebar of longer text would outweigh a block named as the article.
_HINT_MASS = 1000
_NEAR_TITLE_FACTOR = 1.3  # a container at or just below the headline's close ancestors
TITLE_REACH = 4  # how many elements above the headline count as close
_PART_TAGS = {"ul", "ol", "dl", "li", "blockquote", "table", "tbody", "tr"}
_CHROME_TAGS = {"header", "nav", "aside", "footer"}
_BESIDE_HEADLINE = 2  # a container under the headline's parent or grandparent belongs with it
_HEADLINE_BLOCK_PROSE = 100  # prose a block under the headline needs to be taken as the article
_HEADLINE_BLOCK_SHARE = 0.3  # of its text
_MAX_SPLIT_REACH = 6  # how far above the container the parts of a split story sit in wrappers like its own
_NUMBERS = re.compile(r"\d+")
_MIN_STANDFIRST_CHARS = 50  # the summary's words compared with a paragraph above the body


@dataclass(frozen=True, slots=True)
class Candidate:
    """One element considered for the article, with what its score is made of."""

    node: LexborNode
    prose: int  # characters of prose inside
    chars: int  # characters of text inside, prose or not
    teasers: int  # linked headlines inside
    hint: float  # the class/id and tag nudge
    near_title: bool  # at or just below the headline's close ancestors
    score: float


def rank_candidates(mass: Mass, near_title: frozenset[int] = frozenset()) -> list[Candidate]:
    """The elements worth considering, best first: prose minus a share of the other text and the teasers
    inside, nudged by hints and by closeness to the headline."""
    ranked = []
    for key in _deepest_per_mass(mass):
        node = mass.ancestry.nodes[key]
        prose, chars, teasers, hint = (
            mass.prose[key],
            char_count(node),
            len(node.css(_LINKED_HEADLINES)),
            _hint_factor(node),
        )
        close = key in near_title or mass.ancestry.parent.get(key) in near_title
        score = _nudged(prose - _JUNK_WEIGHT * max(chars - prose, 0) - _TEASER_COST * teasers, hint)
        score += max(hint - 1.0, 0.0) * _HINT_MASS
        ranked.append(
            Candidate(node, prose, chars, teasers, hint, close, _nudged(score, _NEAR_TITLE_FACTOR if close else 1.0))
        )
    return sorted(ranked, key=lambda candidate: -candidate.score)


def _nudged(score: float, factor: float) -> float:
    """A favouring factor raises a score whatever its sign: a negative score is divided by it (multiplied,
    it would push a promising container further down)."""
    return score * factor if score >= 0 else score / factor


def choose_container(ranked: list[Candidate], mass: Mass) -> LexborNode:
    """The best candidate, widened to the block around it when it is only a list, quote or table."""
    return _whole_of_a_part(ranked[0].node, mass)  # the body's own entry always passes the 25 % bar


def headline_block(above_title: list[int], winner: LexborNode, mass: Mass) -> LexborNode | None:
    """The block under the article's own headline, when the best-scored container lies elsewhere on the
    page: a short post beside a sidebar of longer text (a blog's book list, an "about me", a blogroll of
    excerpts) scores below it, but the headline says where the article is. None when the winner holds
    the headline, sits beside it, or lies inside the headline's block anyway."""
    if not above_title or winner.mem_id in above_title or is_inside(winner, set(above_title[:_BESIDE_HEADLINE])):
        return None
    for key in above_title[:TITLE_REACH]:
        prose = mass.prose.get(key, 0)
        if prose < _HEADLINE_BLOCK_PROSE:
            continue
        node = mass.ancestry.nodes[key]
        if is_inside(winner, {key}) or prose < _HEADLINE_BLOCK_SHARE * char_count(node) or _in_chrome(node):
            return None  # the winner is within it; it is mostly other text; a sticky header's copy of the title
        return node
    return None


def _in_chrome(node: LexborNode) -> bool:
    """Inside the page's header, navigation, sidebar or footer, by tag or by name."""
    current: LexborNode | None = node
    while current is not None and current.tag not in ("body", "html"):
        if current.tag in _CHROME_TAGS or _NEGATIVE_HINT.search(_names(current)):
            return True
        current = current.parent
    return False


def _whole_of_a_part(node: LexborNode, mass: Mass) -> LexborNode:
    """A list, a quote or a table is part of an article: when the block around it holds more prose, the
    article is that block (a long quote or bullet list must not stand for the whole story)."""
    while node.tag in _PART_TAGS and node.parent is not None and node.parent.tag not in ("body", "html"):
        if mass.prose.get(node.parent.mem_id, 0) <= mass.prose.get(node.mem_id, 0):
            break
        node = node.parent
    return node


def _deepest_per_mass(mass: Mass) -> list[int]:
    """Candidates worth scoring: of elements holding the same prose (a chain of wrappers), only the
    innermost, which has the least other text; and none holding under a quarter of the page's prose."""
    deepest: dict[int, int] = {}
    for key, prose in mass.prose.items():
        if prose < 0.25 * mass.total:
            continue
        current = deepest.get(prose)
        if current is None or mass.ancestry.depth[key] > mass.ancestry.depth[current]:
            deepest[prose] = key
    return list(deepest.values())


def _hint_factor(node: LexborNode) -> float:
    """Class/id and tag hints: a small nudge between containers of similar mass."""
    if node.tag in ("body", "html"):
        return 1.0  # the page's own classes ("Page-body") say nothing about a block
    hint = _names(node)
    factor = 1.0
    if _POSITIVE_HINT.search(hint):
        factor *= 1.1
    if _NEGATIVE_HINT.search(hint):
        factor *= 0.8
    if node.tag in ("article", "main"):
        factor *= 1.1
    return factor


def _names(node: LexborNode) -> str:
    """The element's class and id, as the hints read them."""
    return f"{node.attrs.get('class') or ''} {node.attrs.get('id') or ''}"


def title_heading(tree: LexborHTMLParser, title: str | None) -> LexborNode | None:
    """The h1-h4 that prints the article's headline (its exact words: an h4 is a headline only so)."""
    if not title or tree.body is None:
        return None
    wanted = " ".join(title.split()).casefold()
    printing = [
        heading for heading in tree.body.css("h1, h2, h3, h4")
        if " ".join(heading.text(deep=True, separator=" ").split()).casefold() == wanted
    ]  # fmt: skip
    strengths = [_enclosing_strength(heading) for heading in printing]
    chosen = next((h for h, strength in zip(printing, strengths) if strength < 2), None)
    return chosen or next((h for h, strength in zip(printing, strengths) if strength < COMMENTS), None)


def _enclosing_strength(heading: LexborNode) -> int:
    """How surely the blocks around a heading are not the article's (boilerplate_strength, the strongest):
    the headline repeated in the comments (a reply's subject) is never the article's; in a related-stories
    box or a sidebar only when no other heading prints it (Blogger names every block, the post's too, a
    "widget")."""
    strongest, current = 0, heading.parent
    while current is not None and current.tag not in ("body", "html") and strongest < COMMENTS:
        strongest = max(strongest, boilerplate_strength(current))
        current = current.parent
    return strongest


def above_keys(node: LexborNode | None) -> list[int]:
    """The keys of node's ancestors below <body>, nearest first."""
    keys = []
    current = node.parent if node is not None else None
    while current is not None and current.tag not in ("body", "html"):
        keys.append(current.mem_id)
        current = current.parent
    return keys


def same_kind_parts(container: LexborNode, mass: Mass) -> list[LexborNode]:
    """The container and the blocks of the same kind (tag and classes) near it that hold prose too, in
    document order: a story cut into several sections between ad slots or written as sibling blocks,
    sometimes each in a wrapper of its own. Further up (a page builder wraps each section in its own
    module), a block joins only when its wrappers are those of the container, class for class."""
    classes = (container.attrs.get("class") or "").split()
    if not classes or container.tag in ("body", "html", "td", "th", "li"):
        return [container]  # without a class, blocks are alike by accident (table cells, plain divs)
    kind = container.attrs.get("class")
    wrappers = _wrappers(container, _MAX_SPLIT_REACH)
    if not wrappers:
        return [container]
    # Near: the grandparent (the parent when that is <body>), any block of the kind; further up, only
    # blocks whose wrappers are the container's.
    near = wrappers[1] if len(wrappers) > 1 and wrappers[1].tag not in ("body", "html") else wrappers[0]
    scopes = [(near, 0)] + [(wrappers[n], n) for n in range(2, len(wrappers))]
    for scope, depth in scopes:
        if depth and scope.tag in ("body", "html"):
            break
        signature = _signature(container, depth)
        parts: list[LexborNode] = []
        for node in scope.css(container.tag or "div"):  # class names are not always valid in a selector
            same = node.mem_id == container.mem_id or (
                node.attrs.get("class") == kind
                and mass.prose.get(node.mem_id, 0) > 0
                and (not depth or _signature(node, depth) == signature)
            )
            if same and not any(is_inside(node, {part.mem_id}) for part in parts):
                parts.append(node)
        if len(parts) > 1:
            return parts
    return [container]


def _wrappers(node: LexborNode, count: int) -> list[LexborNode]:
    """The node's ancestors, nearest first, at most ``count``."""
    found: list[LexborNode] = []
    current = node.parent
    while current is not None and current.is_element_node and len(found) < count:
        found.append(current)
        current = current.parent
    return found


def _signature(node: LexborNode, depth: int) -> tuple[tuple[str, str], ...]:
    """The tags and classes of the node's first ``depth`` wrappers, numbers aside: page builders number
    each module ("et_pb_text_1", "et_pb_text_2", "panel-560-7-0-0") of one kind."""
    return tuple(
        (wrapper.tag or "", _NUMBERS.sub("#", wrapper.attrs.get("class") or "")) for wrapper in _wrappers(node, depth)
    )


def standfirst(runs: list[Run], parts: list[LexborNode], description: str | None) -> str | None:
    """The article's standfirst when it is printed above the body's container: a prose run before the
    container whose text is the page's own summary (og:description / description), as many CMSs print it."""
    wanted = _summary_key(description or "")
    if len(wanted) < _MIN_STANDFIRST_CHARS:
        return None
    inside = {part.mem_id for part in parts}
    for run in runs:
        if is_inside(run.owner, inside):
            return None  # the container's own text has begun: no standfirst above it
        if run.mixed or run.prose_chars() == 0:
            continue
        text = " ".join(run.owner.text(deep=True, separator=" ").split())
        found = _summary_key(text)
        if found.startswith(wanted) or wanted.startswith(found[:_MIN_STANDFIRST_CHARS]):
            return text
    return None


def _summary_key(text: str) -> str:
    """A summary's first words, as compared with the page's text (case and spacing aside, no ellipsis)."""
    return " ".join(text.replace("…", " ").replace("...", " ").split()).casefold()[:_MIN_STANDFIRST_CHARS]


def describe(node: LexborNode) -> str:
    classes = (node.attrs.get("class") or "").split()
    ident = node.attrs.get("id")
    return (node.tag or "") + (f"#{ident}" if ident else "") + "".join(f".{c}" for c in classes[:3])

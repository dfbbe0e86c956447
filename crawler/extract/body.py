"""Main-content extraction: find the element that holds the article text, then render it as plain text.

Choosing the container ("prose mass"): every text block that reads like prose (long enough, few links)
adds its character count to each of its ancestors. The container is the ancestor that maximises
prose inside minus a share of everything else inside (menus, link lists, short labels), nudged by
class/id hints. This finds bodies split over many sibling blocks or nested deep in page-builder markup,
where readability's parent/grandparent scoring picks one fragment.

Rendering keeps headings, paragraphs, lists, quotes and tables in document order, drops boilerplate
blocks (boilerplate.py) unless they hold most of the article, and puts one blank line between blocks
and one line per list item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

from selectolax.lexbor import LexborHTMLParser, LexborNode

from crawler.extract.boilerplate import (
    COMMENTS,
    boilerplate_strength,
    is_boilerplate_block,
    is_label_heading,
    is_label_paragraph,
    names_a_small_widget,
)

__all__ = ["BodyResult", "extract_body", "override_body"]

# Elements that own the text written inside them (directly or through inline elements); text in others
# (a, span, b, font...) belongs to the nearest of these above it.
_RUN_OWNERS = {
    "p", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "li", "td", "th", "dd", "dt", "blockquote", "div", "section",
    "article", "main", "body", "center", "form", "header", "table", "tr", "tbody", "ul", "ol", "dl", "address",
    "figure", "details", "summary", "html",
}  # fmt: skip
# Owners whose text is never prose: the h1 is the title; text loose in a table or list structure is debris.
_NOT_PROSE_OWNERS = {"h1", "table", "tr", "tbody", "ul", "ol", "dl", "html"}
# Owners whose loose text counts for themselves (the story is written straight into them); the prose of
# the others (paragraphs, items, cells, headings) counts for the element holding them.
_LOOSE_TEXT_HOLDERS = {"div", "section", "article", "main", "body", "center", "form", "td"}
_BLOCK_TAGS = {
    "p", "div", "article", "section", "main", "ul", "ol", "dl", "table", "blockquote", "pre", "h1", "h2", "h3",
    "h4", "h5", "h6", "header", "footer", "nav", "aside", "figure", "hr", "form", "address", "center", "li", "tr",
    "tbody", "thead", "details", "summary",
}  # fmt: skip
# Inline elements that hold only text in practice; others (a, span, font...) may wrap whole blocks.
_FORMATTING_TAGS = {"strong", "em", "b", "i", "u", "small", "sup", "sub", "code", "mark", "abbr", "time", "img", "wbr"}
_LEAF_BLOCKS = {"p", "pre", "address", "h1", "h2", "h3", "h4", "h5", "h6"}
_LINK_BLOCK_TAGS = {"div", "section", "aside", "span", "figure"}
_ANY_BLOCK = ", ".join(sorted(_BLOCK_TAGS))
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_POSITIVE_HINT = re.compile(
    r"article|body|content|entry|main|post|story|text|news-?details|detail|matn|متن|نص|prose|rich-?text", re.I
)
_NEGATIVE_HINT = re.compile(
    r"comment|footer|header|menu|nav|sidebar|widget|related|share|social|promo|banner|sponsor|teaser|"
    r"breadcrumb|popular|most-|newsletter|subscribe|cookie|modal|popup",
    re.I,
)
# A line that is only a date and a time ("2 تير 1399 - 12:09:08 ب.ظ", "Jan 5, 2025 10:32 AM"): page metadata.
_TIMESTAMP_LINE = re.compile(r"^(?=.{0,60}$)(?=.*\d{4})(?=.*\d{1,2}:\d{2}).*$")
_BLANK_LINE = re.compile(r"\n\s*\n")
_SENTENCE_END = re.compile(r"[.!?؟。…:;؛,،]")
_MIN_PROSE_CHARS = 25
_MIN_LOOSE_CHARS = 400  # text alone in a <div> counts as prose from this length whatever is beside it
_HEADLINE_CHARS = 15
_JUNK_WEIGHT = 1.5
# Headlines that link elsewhere: each one stands for a teaser (its blurb reads like prose) in a container.
_LINKED_HEADLINES = "h2 a[href], h3 a[href], h4 a[href], a[href] h2, a[href] h3, a[href] h4"
_TEASER_COST = 300
_MIN_STANDFIRST_CHARS = 50
_INLINE_NAME_CHARS = 300
_PART_TAGS = {"ul", "ol", "dl", "li", "blockquote", "table", "tbody", "tr"}
_SPLIT_REACH = 2  # how far above the container the other parts of a split story are looked for  # the summary's words compared with a paragraph above the body
_WIDGET_PROSE = 1000  # a share bar or a tag list with this much prose inside is a wrapper named after one
_TEASER_ITEM_CHARS = 400  # a linked headline in a block this small is a teaser
_NEAR_TITLE_FACTOR = 1.3  # a container at or just below the headline's close ancestors
_TITLE_REACH = 4  # how many elements above the headline count as close  # how much one character of non-prose text inside a container costs
_MAX_DEPTH = 120


@dataclass(slots=True)
class BodyResult:
    text: str
    container: str | None = None  # a short CSS-like description of the chosen element, for diagnostics
    reason: str | None = None  # why the body is empty, when it is


class _Block(NamedTuple):
    text: str
    paragraph: bool  # written as a <p> (or a table) by the author, not loose text, a heading or a list


@dataclass(slots=True)
class _ClassFlags:
    """boilerplate_strength per element of one page (0 none, 1 weak, 2 strong, 3 comments), computed once."""

    known: dict[int, int] = field(default_factory=dict)

    def get(self, node: LexborNode) -> int:
        strength = self.known.get(node.mem_id)
        if strength is None:
            strength = self.known[node.mem_id] = boilerplate_strength(node)
        return strength


@dataclass(slots=True)
class _Ancestry:
    """The elements above prose units, each once, by mem_id: parent, depth, and whether it or an
    ancestor has a boilerplate class. A parent map, not per-element lists, so that a 20,000-deep page
    costs linear, not quadratic, time."""

    parent: dict[int, int | None] = field(default_factory=dict)
    depth: dict[int, int] = field(default_factory=dict)
    strength: dict[int, int] = field(default_factory=dict)  # strongest boilerplate class on the chain
    flagged: dict[int, tuple[int, ...]] = field(default_factory=dict)  # the flagged elements on the chain
    nodes: dict[int, LexborNode] = field(default_factory=dict)

    def register(self, node: LexborNode, flags: _ClassFlags) -> int:
        """Record node and its ancestors below <html>; returns node's key."""
        path: list[LexborNode] = []
        current: LexborNode | None = node
        while current is not None and current.tag != "html" and current.mem_id not in self.parent:
            path.append(current)
            current = current.parent
        above = current.mem_id if current is not None and current.mem_id in self.parent else None
        depth = self.depth[above] if above is not None else 0
        strength = self.strength[above] if above is not None else 0
        flagged = self.flagged[above] if above is not None else ()
        for element in reversed(path):
            key = element.mem_id
            depth += 1
            own = flags.get(element)
            strength = max(strength, own)
            flagged = (*flagged, key) if own else flagged
            self.parent[key], self.depth[key], self.nodes[key] = above, depth, element
            self.strength[key], self.flagged[key] = strength, flagged
            above = key
        return node.mem_id


@dataclass(slots=True)
class _Mass:
    """Prose characters under each element (by mem_id)."""

    ancestry: _Ancestry
    prose: dict[int, int] = field(default_factory=dict)
    total: int = 0
    _direct: dict[int, int] = field(default_factory=dict)

    def add(self, key: int, chars: int) -> None:
        """Count a unit's prose in the element ``key`` (the unit's parent); ``finish`` passes it upwards."""
        self.total += chars
        self._direct[key] = self._direct.get(key, 0) + chars

    def finish(self) -> _Mass:
        """Every element's prose: its own units' and its descendants'. Units share parents, so summing per
        parent first walks each chain once per parent instead of once per unit."""
        prose, parent = self.prose, self.ancestry.parent
        for start, chars in self._direct.items():
            key: int | None = start
            while key is not None:
                prose[key] = prose.get(key, 0) + chars
                key = parent[key]
        return self


def extract_body(tree: LexborHTMLParser, title: str | None, description: str | None = None) -> BodyResult:
    """Plain-text body of the article on a page whose chrome has already been stripped; ``description``
    (the page's own summary) finds a standfirst printed above the body's container."""
    if tree.body is None:
        return BodyResult("", reason="the page has no <body>")
    flags = _ClassFlags()
    above_title = _above(_title_heading(tree, title))
    runs = _text_runs(tree.body)
    mass = _prose_mass(runs, flags, frozenset(above_title))
    if mass.total == 0 and _char_count(tree.body) < _MIN_PROSE_CHARS:
        return BodyResult("", reason="no paragraph of prose on the page")
    # Text straight inside <body> (plain pages, bare fragments) has no unit to score: take the body.
    container = _choose_container(mass, frozenset(above_title[:_TITLE_REACH])) if mass.total else tree.body
    parts = _same_kind_siblings(container, mass) if mass.total else [container]
    standfirst = _standfirst(runs, parts, description) if mass.total else None
    blocks = [_Block(standfirst, True)] if standfirst else []
    part_prose = sum(mass.prose.get(part.mem_id, 0) for part in parts)
    ctx = _Context(title, mass, part_prose, flags, frozenset().union(*map(_holders_of_breaks, parts)))
    for part in parts:
        _render(part, blocks, ctx, depth=0)
    text = _join(blocks, title)
    described = _describe(container) + (f" + {len(parts) - 1} like it" if len(parts) > 1 else "")
    return BodyResult(text, described, None if text else "the chosen container held only boilerplate")


def _standfirst(runs: list[_Run], parts: list[LexborNode], description: str | None) -> str | None:
    """The article's standfirst when it is printed above the body's container: a prose run before the
    container whose text is the page's own summary (og:description / description), as many CMSs print it."""
    wanted = _summary_key(description or "")
    if len(wanted) < _MIN_STANDFIRST_CHARS:
        return None
    inside = {part.mem_id for part in parts}
    for run in runs:
        if _is_inside(run.owner, inside):
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


def _is_inside(node: LexborNode, keys: set[int]) -> bool:
    current: LexborNode | None = node
    while current is not None:
        if current.mem_id in keys:
            return True
        current = current.parent
    return False


def _same_kind_siblings(container: LexborNode, mass: _Mass) -> list[LexborNode]:
    """The container and the blocks of the same kind (tag and classes) near it that hold prose too, in
    document order: a story cut into several sections between ad slots or written as sibling blocks,
    sometimes each in a wrapper of its own."""
    classes = (container.attrs.get("class") or "").split()
    if not classes or container.tag in ("body", "html", "td", "th", "li"):
        return [container]  # without a class, blocks are alike by accident (table cells, plain divs)
    scope = container
    for _ in range(_SPLIT_REACH):
        if scope.parent is None or scope.parent.tag in ("body", "html"):
            break
        scope = scope.parent
    kind = container.attrs.get("class")
    parts: list[LexborNode] = []
    for node in scope.css(container.tag or "div"):  # class names are not always valid in a selector
        same = node.mem_id == container.mem_id or (node.attrs.get("class") == kind and mass.prose.get(node.mem_id, 0) > 0)
        if same and not any(_is_inside(node, {part.mem_id}) for part in parts):
            parts.append(node)
    return parts


def _join(blocks: list[_Block], title: str | None) -> str:
    """The body text: edges trimmed, and no block that merely repeats the title (in whatever tag)."""
    title_words = " ".join(title.split()).casefold() if title else None
    kept = [
        block.text for block in _trim_edges(blocks)
        if block.text.casefold() != title_words and not _TIMESTAMP_LINE.search(block.text)
    ]  # fmt: skip
    return "\n\n".join(kept)


def override_body(tree: LexborHTMLParser, selector: str, title: str | None) -> BodyResult | None:
    """The body from a source's own selector: every match, in order, rendered like a chosen container."""
    nodes = tree.css(selector)
    if not nodes:
        return None
    blocks: list[_Block] = []
    breaks = frozenset().union(*(_holders_of_breaks(node) for node in nodes))
    ctx = _Context(title, _Mass(_Ancestry()), 0, _ClassFlags(), breaks)
    for node in nodes:
        _render(node, blocks, ctx, depth=0)
    return BodyResult(_join(blocks, title), selector)


# --- choosing the container -----------------------------------------------------------------------------


def _char_count(node: LexborNode) -> int:
    """Characters of text, not counting the markup's indentation (each text node is stripped)."""
    return len(node.text(deep=True, separator="", strip=True))


def _prose_mass(runs: list[_Run], flags: _ClassFlags, above_title: frozenset[int] = frozenset()) -> _Mass:
    """Prose mass of every ancestor of a prose unit. Units inside boilerplate blocks (related stories,
    sidebars, promotions) do not count unless the class names lie: a flagged block that holds most of
    the page's prose or the article's headline is the article ("share_wrapper" around a whole story, a
    theme's "sidebar-main" content column); and when the page has too little prose outside flagged
    blocks, all of it counts. Comments never count."""
    ancestry = _Ancestry()
    everything = _Mass(ancestry)
    units: list[tuple[int, int, int]] = []  # (holder key, prose characters, the unit's own class strength)
    for run in runs:
        chars = run.prose_chars()
        holder = run.owner if run.owner.tag in _LOOSE_TEXT_HOLDERS else run.owner.parent
        if chars == 0 or holder is None or holder.tag == "html":
            continue
        key = ancestry.register(holder, flags)
        own = flags.get(run.owner) if holder is not run.owner else 0
        if max(own, ancestry.strength[key]) == COMMENTS:
            continue  # comments are never the article, even when they hold most of the page's prose
        everything.add(key, chars)
        units.append((key, chars, own))
    everything.finish()
    trusted = {
        key for key, prose in everything.prose.items()
        if flags.known.get(key) == 1 and prose > 0.5 * everything.total
        or prose >= _WIDGET_PROSE and flags.known.get(key) and names_a_small_widget(ancestry.nodes[key])
    }  # fmt: skip
    clean = _Mass(ancestry)
    for key, chars, own in units:
        if own == 0 and trusted.issuperset(ancestry.flagged[key]):
            clean.add(key, chars)
    return clean.finish() if clean.total >= 0.15 * everything.total else everything


def _body_or_root(tree: LexborHTMLParser) -> LexborNode:
    root = tree.body or tree.root
    assert root is not None  # extract_body returns early for a page without a body
    return root


@dataclass(slots=True)
class _Run:
    """The text a block element holds itself: its text nodes and those of its inline elements (links,
    spans, <b>...), not those of block elements inside it. A paragraph's run is the paragraph; a <div>
    that holds its story as loose text between <br>s or empty <p></p>s (older CMSs) has a run too."""

    owner: LexborNode
    chars: int = 0
    link_chars: int = 0
    pieces: list[str] = field(default_factory=list)
    line_breaks: bool = False  # a <br> among its text
    mixed: bool = False  # written beside block elements of its owner (a hand-written page's loose text)

    def prose_chars(self) -> int:
        """Characters of prose: 0 for short labels and link lists, and for a teaser's or a menu entry's
        blurb: a short text alone in a <div> beside a linked headline. (Many sites write each paragraph
        as a <div>; older ones break a <div>'s text into lines.)"""
        if self.chars < _MIN_PROSE_CHARS or self.link_chars > 0.5 * self.chars:
            return 0
        if (
            self.chars < _MIN_LOOSE_CHARS and not (self.line_breaks or self.mixed)
            and self.owner.tag in _LOOSE_TEXT_HOLDERS and _beside_a_headline(self.owner, self.chars)
        ):  # fmt: skip
            return 0
        if self.chars < 80 and not _SENTENCE_END.search("".join(self.pieces)):
            return 0  # a short line without punctuation: a label, a caption, a menu entry
        return self.chars - self.link_chars


def _beside_a_headline(owner: LexborNode, chars: int) -> bool:
    """True when owner is a blurb in a small item beside a linked headline (a teaser card, a menu entry):
    an element beside it is mostly a link long enough to be a headline, and the item holds little else."""
    parent = owner.parent
    if parent is None or _char_count(parent) > chars + _TEASER_ITEM_CHARS:
        return False
    for sibling in _element_children(parent):
        if sibling.mem_id == owner.mem_id:
            continue
        links = [sibling] if sibling.tag == "a" else sibling.css("a")
        linked = sum(len(link.text(deep=True).strip()) for link in links)
        if linked >= _HEADLINE_CHARS and linked > 0.5 * len(sibling.text(deep=True).strip()):
            return True  # a sibling that is mostly link text; a paragraph's inline link is not a headline
    return False


def _text_runs(root: LexborNode) -> list[_Run]:
    """Every block's own run of text, in document order of first text, from one pass over the tree."""
    runs: dict[int, _Run] = {}
    owners: dict[int, tuple[_Run | None, bool]] = {}  # an inline element's mem_id → (its block's run, inside a link)
    for node in root.traverse(include_text=True):
        if not node.is_text_node:
            tag = node.tag
            if (tag == "br" or tag in _RUN_OWNERS) and node.parent is not None:
                run = _known_owner(node.parent, owners, runs)[0]
                if run is not None and tag == "br":
                    run.line_breaks = True
                elif run is not None:
                    run.mixed = True
            continue
        text = node.text_content
        if not text or text.isspace():
            continue
        parent = node.parent
        if parent is None:
            continue
        run, in_link = _known_owner(parent, owners, runs)
        if run is None:
            continue
        stripped = text.strip()
        run.chars += len(stripped)
        if in_link:
            run.link_chars += len(stripped)
        if run.chars < 200:
            run.pieces.append(stripped)
    return list(runs.values())


def _known_owner(
    element: LexborNode, owners: dict[int, tuple[_Run | None, bool]], runs: dict[int, _Run]
) -> tuple[_Run | None, bool]:
    known = owners.get(element.mem_id)
    if known is None:
        known = owners[element.mem_id] = _owner_of(element, runs)
    return known


def _owner_of(element: LexborNode, runs: dict[int, _Run]) -> tuple[_Run | None, bool]:
    """The run of the nearest block element at or above element, and whether a link lies between (None
    for text that is never prose: the h1 is the title, scripts and the like are stripped already)."""
    in_link = False
    current: LexborNode | None = element
    while current is not None and current.tag not in _RUN_OWNERS:
        in_link = in_link or current.tag == "a"
        current = current.parent
    if current is None or current.tag in _NOT_PROSE_OWNERS:
        return None, in_link
    run = runs.get(current.mem_id)
    if run is None:
        run = runs[current.mem_id] = _Run(current)
    return run, in_link


def _choose_container(mass: _Mass, near_title: frozenset[int] = frozenset()) -> LexborNode:
    best: LexborNode | None = None
    best_score = float("-inf")
    for key in _deepest_per_mass(mass):
        prose = mass.prose[key]
        node = mass.ancestry.nodes[key]
        total = _char_count(node)
        teasers = len(node.css(_LINKED_HEADLINES))
        score = (prose - _JUNK_WEIGHT * max(total - prose, 0) - _TEASER_COST * teasers) * _hint_factor(node)
        if key in near_title or mass.ancestry.parent.get(key) in near_title:
            score *= _NEAR_TITLE_FACTOR
        if score > best_score:
            best, best_score = node, score
    assert best is not None  # the body's own entry always passes the 25 % bar
    return _whole_of_a_part(best, mass)


def _whole_of_a_part(node: LexborNode, mass: _Mass) -> LexborNode:
    """A list, a quote or a table is part of an article: when the block around it holds more prose, the
    article is that block (a long quote or bullet list must not stand for the whole story)."""
    while node.tag in _PART_TAGS and node.parent is not None and node.parent.tag not in ("body", "html"):
        if mass.prose.get(node.parent.mem_id, 0) <= mass.prose.get(node.mem_id, 0):
            break
        node = node.parent
    return node


def _title_heading(tree: LexborHTMLParser, title: str | None) -> LexborNode | None:
    """The h1-h3 that prints the article's headline."""
    if not title or tree.body is None:
        return None
    wanted = " ".join(title.split()).casefold()
    for heading in tree.body.css("h1, h2, h3"):
        if " ".join(heading.text(deep=True, separator=" ").split()).casefold() == wanted:
            return heading
    return None


def _above(node: LexborNode | None) -> list[int]:
    """The keys of node's ancestors below <body>, nearest first."""
    keys = []
    current = node.parent if node is not None else None
    while current is not None and current.tag not in ("body", "html"):
        keys.append(current.mem_id)
        current = current.parent
    return keys


def _deepest_per_mass(mass: _Mass) -> list[int]:
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
    hint = f"{node.attrs.get('class') or ''} {node.attrs.get('id') or ''}"
    factor = 1.0
    if _POSITIVE_HINT.search(hint):
        factor *= 1.1
    if _NEGATIVE_HINT.search(hint):
        factor *= 0.8
    if node.tag in ("article", "main"):
        factor *= 1.1
    return factor


def _describe(node: LexborNode) -> str:
    classes = (node.attrs.get("class") or "").split()
    ident = node.attrs.get("id")
    return (node.tag or "") + (f"#{ident}" if ident else "") + "".join(f".{c}" for c in classes[:3])


def _trim_edges(blocks: list[_Block]) -> list[_Block]:
    """Short lines before the first paragraph are the article's header (category, date, reading time);
    short lines after the last one its footer ("share", a call to action), unless written as a <p>
    (a closing "Source: ..." line)."""
    prose = [i for i, block in enumerate(blocks) if _is_prose_block(block.text)]
    if not prose:
        return blocks
    end = prose[-1] + 1
    while end < len(blocks) and blocks[end].paragraph:
        end += 1
    return blocks[prose[0] : end]


def _is_prose_block(block: str) -> bool:
    return len(block) >= 100 or (len(block) >= _MIN_PROSE_CHARS and block[-1] in ".!?؟…\"”»:")


# --- rendering ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Context:
    title: str | None
    mass: _Mass
    container_prose: int
    flags: _ClassFlags
    with_breaks: frozenset[int]  # elements of the container that hold a <br> somewhere inside

    def holds_most_of_article(self, node: LexborNode) -> bool:
        """A 'boilerplate' class on a block that holds most of the article's prose is a false alarm."""
        return self.mass.prose.get(node.mem_id, 0) > 0.5 * self.container_prose > 0


def _holders_of_breaks(container: LexborNode) -> frozenset[int]:
    """Every element inside container that has a <br> below it (one query instead of one per block)."""
    holders: set[int] = set()
    for line_break in container.css("br"):
        node = line_break.parent
        while node is not None and node.mem_id not in holders:
            holders.add(node.mem_id)
            if node.mem_id == container.mem_id:
                break
            node = node.parent
    return frozenset(holders)


def _render(node: LexborNode, blocks: list[_Block], ctx: _Context, depth: int) -> None:
    """Append the text blocks of node, in document order, to blocks."""
    tag = node.tag
    if depth > 0 and tag not in _LEAF_BLOCKS:  # paragraphs and headings cannot open with a label or be a teaser box
        if (ctx.flags.get(node) or is_boilerplate_block(node)) and not ctx.holds_most_of_article(node):
            return
        if tag in _LINK_BLOCK_TAGS and _is_link_block(node):
            return  # a teaser injected between paragraphs: a short block that is all link
        if tag == "a":
            return  # a link wrapping blocks is a teaser card (inline links are rendered with their paragraph)
    elif depth > 0 and ctx.flags.get(node) and not ctx.holds_most_of_article(node):
        return
    if depth > _MAX_DEPTH or tag in ("p", "pre", "address"):
        _add_paragraph(node, blocks, ctx)
    elif tag in _HEADINGS:
        text = _inline_text(node, ctx)
        if text and not (ctx.title and tag in ("h1", "h2") and _same_text(text, ctx.title)) and not _is_linked_headline(node, text):
            blocks.append(_Block(text, False))
    elif tag in ("ul", "ol", "dl"):
        _add_list(node, blocks, ctx)
    elif tag == "table":
        _add_table(node, blocks, ctx)
    elif tag == "blockquote" and not any(child.tag in _BLOCK_TAGS for child in _element_children(node)):
        _add_paragraph(node, blocks, ctx)
    else:
        _render_mixed(node, blocks, ctx, depth)


def _render_mixed(node: LexborNode, blocks: list[_Block], ctx: _Context, depth: int) -> None:
    """A container: block children render themselves; loose inline text between them is a paragraph."""
    run: list[str] = []
    child = node.child
    while child is not None:
        if child.is_text_node:
            run.append(child.text_content or "")
        elif child.is_element_node and child.tag == "br":
            run.append("\n")
        elif child.is_element_node and is_label_heading(child):
            _flush(run, blocks)
            child = _next_element(child)  # "Related posts" and the block of teasers that follows it
            if child is None:
                break
        elif child.is_element_node and child.tag in _BLOCK_TAGS:
            _flush(run, blocks)
            _render(child, blocks, ctx, depth + 1)
        elif child.is_element_node and (not ctx.flags.get(child) or _too_long_for_its_name(child, ctx)):
            if child.tag not in _FORMATTING_TAGS and child.css_first(_ANY_BLOCK) is not None:
                _flush(run, blocks)
                _render(child, blocks, ctx, depth + 1)
            else:
                run.append(child.text(deep=True))
        child = child.next
    _flush(run, blocks)


def _too_long_for_its_name(inline: LexborNode, ctx: _Context) -> bool:
    """An inline element named like boilerplate (a byline, a share link) whose text is paragraphs long is a
    tag left open around the story by broken markup; or it holds most of the article."""
    return ctx.holds_most_of_article(inline) or _char_count(inline) > _INLINE_NAME_CHARS


def _flush(run: list[str], blocks: list[_Block]) -> None:
    text = "".join(run)
    run.clear()
    if not text or text.isspace():
        return  # most runs are the indentation between two block elements
    for piece in _BLANK_LINE.split(text) if "\n" in text else (text,):
        piece = " ".join(piece.split())
        if piece and not is_label_paragraph(piece, 0):
            blocks.append(_Block(piece, False))


def _add_paragraph(node: LexborNode, blocks: list[_Block], ctx: _Context) -> None:
    text = _inline_text(node, ctx)
    if not text:
        return
    # Link text matters only for short paragraphs (a "read also: <link>" teaser, a line of links).
    links = sum(len(a.text(deep=True).strip()) for a in node.css("a")) if len(text) < 200 else 0
    if is_label_paragraph(text, links) or (links > 0.8 * len(text) and len(text) < 200):
        return
    blocks.append(_Block(text, node.tag == "p"))


def _add_list(node: LexborNode, blocks: list[_Block], ctx: _Context) -> None:
    """A list is one block, one line per item; a list of links (other stories) is dropped."""
    if _link_density(node) > 0.6:
        return
    items = [_inline_text(item, ctx) for item in node.css("li, dt, dd")]
    lines = [item for item in items if item]
    if lines:
        blocks.append(_Block("\n".join(lines), False))


def _add_table(node: LexborNode, blocks: list[_Block], ctx: _Context) -> None:
    rows = []
    for row in node.css("tr"):
        cells = [_inline_text(cell, ctx) for cell in row.css("td, th")]
        cells = [cell for cell in cells if cell]
        if cells:
            rows.append(" | ".join(cells))
    if rows and _link_density(node) < 0.6:
        blocks.append(_Block("\n".join(rows), True))  # kept at the end like a paragraph: tables are content


def _is_linked_headline(heading: LexborNode, text: str) -> bool:
    """A heading that is all link to elsewhere, in a small block of its own: another story's teaser. (An
    article's own section headings stand among its paragraphs, and may link to themselves.)"""
    links = [link for link in heading.css("a[href]") if not (link.attrs.get("href") or "").startswith("#")]
    if not links or sum(len(link.text(deep=True).strip()) for link in links) < 0.9 * len(text):
        return False
    item = heading.parent
    return item is not None and len(item.text(deep=True, separator=" ").strip()) < _TEASER_ITEM_CHARS


def _is_link_block(node: LexborNode) -> bool:
    if node.css_first("a") is None:
        return False
    text_length = len(node.text(deep=True, separator=" ").strip())
    return 0 < text_length < 200 and _link_density(node) > 0.8


def _link_density(node: LexborNode) -> float:
    text_length = len(node.text(deep=True, separator=" ").strip()) or 1
    link_length = sum(len(link.text(deep=True).strip()) for link in node.css("a"))
    return min(link_length / text_length, 1.0)


def _inline_text(node: LexborNode, ctx: _Context) -> str:
    """The text of an inline run on one line; a <br> separates words ("2015 and<br>2018")."""
    if node.mem_id not in ctx.with_breaks:
        return " ".join(node.text(deep=True, separator="").split())
    parts = [
        (child.text_content or "") if child.is_text_node else " "
        for child in node.traverse(include_text=True)
        if child.is_text_node or child.tag == "br"
    ]
    return " ".join("".join(parts).split())


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


def _next_element(node: LexborNode) -> LexborNode | None:
    sibling = node.next
    while sibling is not None and not sibling.is_element_node:
        sibling = sibling.next
    return sibling


def _element_children(node: LexborNode) -> list[LexborNode]:
    children = []
    child = node.child
    while child is not None:
        if child.is_element_node:
            children.append(child)
        child = child.next
    return children

"""Prose on a page: every block's own run of text, and how much prose each element holds.

A run is the text a block element holds itself (its text nodes and those of its inline elements). A
run that reads like prose (long enough, few links, punctuated) adds its characters to the element that
holds it and to every ancestor; runs inside boilerplate-named blocks (boilerplate.py) count only when
the names lie. container.py chooses the article's element from these counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from selectolax.lexbor import LexborNode

from crawler.extract.boilerplate import COMMENTS, boilerplate_strength, is_reader_notice, names_a_small_widget

__all__ = [
    "MIN_PROSE_CHARS", "TEASER_ITEM_CHARS", "Ancestry", "ClassFlags", "Mass", "Run", "char_count", "element_children", "is_inside",
    "prose_mass", "text_runs",
]  # fmt: skip

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
_SENTENCE_END = re.compile(r"[.!?؟。…:;؛,،]")
MIN_PROSE_CHARS = 25
_MIN_LOOSE_CHARS = 400  # text alone in a <div> counts as prose from this length whatever is beside it
_HEADLINE_CHARS = 15  # link text that long, most of an element's text, reads as a headline
TEASER_ITEM_CHARS = 400  # an item this small around a linked headline is a teaser
_LYING_NAMES = 3  # how many flagged blocks may be trusted, one by one, before all prose counts
_WIDGET_PROSE = 1000  # a share bar or a tag list with this much prose inside is a wrapper named after one


@dataclass(slots=True)
class ClassFlags:
    """boilerplate_strength per element of one page (0 none, 1 weak, 2 strong, 3 comments), computed once."""

    known: dict[int, int] = field(default_factory=dict)

    def get(self, node: LexborNode) -> int:
        strength = self.known.get(node.mem_id)
        if strength is None:
            strength = self.known[node.mem_id] = boilerplate_strength(node)
        return strength


@dataclass(slots=True)
class Ancestry:
    """The elements above prose units, each once, by mem_id: parent, depth, and whether it or an
    ancestor has a boilerplate class. A parent map, not per-element lists, so that a 20,000-deep page
    costs linear, not quadratic, time."""

    parent: dict[int, int | None] = field(default_factory=dict)
    depth: dict[int, int] = field(default_factory=dict)
    strength: dict[int, int] = field(default_factory=dict)  # strongest boilerplate class on the chain
    flagged: dict[int, tuple[int, ...]] = field(default_factory=dict)  # the flagged elements on the chain
    nodes: dict[int, LexborNode] = field(default_factory=dict)

    def register(self, node: LexborNode, flags: ClassFlags) -> int:
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
class Mass:
    """Prose characters under each element (by mem_id)."""

    ancestry: Ancestry
    prose: dict[int, int] = field(default_factory=dict)
    total: int = 0
    _direct: dict[int, int] = field(default_factory=dict)

    def add(self, key: int, chars: int) -> None:
        """Count a unit's prose in the element ``key`` (the unit's parent); ``finish`` passes it upwards."""
        self.total += chars
        self._direct[key] = self._direct.get(key, 0) + chars

    def finish(self) -> Mass:
        """Every element's prose: its own units' and its descendants'. Units share parents, so summing per
        parent first walks each chain once per parent instead of once per unit."""
        prose, parent = self.prose, self.ancestry.parent
        for start, chars in self._direct.items():
            key: int | None = start
            while key is not None:
                prose[key] = prose.get(key, 0) + chars
                key = parent[key]
        return self


def prose_mass(runs: list[Run], flags: ClassFlags, above_title: frozenset[int] = frozenset()) -> Mass:
    """Prose mass of every ancestor of a prose unit. Units inside boilerplate blocks (related stories,
    sidebars, promotions) do not count unless the class names lie: a flagged block that holds most of
    the page's prose or the article's headline is the article ("share_wrapper" around a whole story, a
    theme's "sidebar-main" content column); when the page has too little prose outside flagged blocks,
    the flagged block holding the most is trusted (a few times over), then all of it counts. Comments
    never count."""
    ancestry = Ancestry()
    everything = Mass(ancestry)
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
    for _ in range(_LYING_NAMES):
        clean = Mass(ancestry)
        for key, chars, own in units:
            if own == 0 and trusted.issuperset(ancestry.flagged[key]):
                clean.add(key, chars)
        if clean.total >= 0.15 * everything.total:
            return clean.finish()
        # Too little prose outside flagged blocks: the name on the flagged block holding the most prose
        # lies (Blogger calls every block, the post's too, a "widget"); trust it and look again.
        flagged = [key for key in everything.prose if flags.known.get(key) in (1, 2) and key not in trusted]
        if not flagged:
            break
        trusted.add(max(flagged, key=lambda key: (everything.prose[key], ancestry.depth[key])))
    return everything


@dataclass(slots=True)
class Run:
    """The text a block element holds itself: its text nodes and those of its inline elements (links,
    spans, <b>...), not those of block elements inside it. A paragraph's run is the paragraph; a <div>
    that holds its story as loose text between <br>s or empty <p></p>s (older CMSs) has a run too."""

    owner: LexborNode
    chars: int = 0
    link_chars: int = 0
    in_link: bool = False  # the block itself sits inside a link (a teaser card written <a><p>...</p></a>)
    pieces: list[str] = field(default_factory=list)

    @property
    def mixed(self) -> bool:
        """Written beside block elements of its owner (a hand-written page's loose text)."""
        return any(child.tag in _RUN_OWNERS for child in element_children(self.owner))

    @property
    def line_breaks(self) -> bool:
        """A <br> among its own text (not in a block inside the owner)."""
        return any(_nearest_owner(line_break) == self.owner.mem_id for line_break in self.owner.css("br"))

    def prose_chars(self) -> int:
        """Characters of prose: 0 for short labels and link lists, and for a teaser's or a menu entry's
        blurb: a short text alone in a <div> beside a linked headline. (Many sites write each paragraph
        as a <div>; older ones break a <div>'s text into lines.)"""
        if self.chars < MIN_PROSE_CHARS or self.link_chars > 0.5 * self.chars:
            return 0
        if (
            self.chars < _MIN_LOOSE_CHARS and self.owner.tag in _LOOSE_TEXT_HOLDERS
            and not (self.mixed or self.line_breaks) and _beside_a_headline(self.owner, self.chars)
        ):  # fmt: skip
            return 0
        if self.chars < 80 and not _SENTENCE_END.search("".join(self.pieces)):
            return 0  # a short line without punctuation: a label, a caption, a menu entry
        if is_reader_notice(" ".join(self.pieces)):
            return 0  # "please enable JavaScript": addressed to the reader's browser, not prose of the page
        return self.chars - self.link_chars


def _beside_a_headline(owner: LexborNode, chars: int) -> bool:
    """True when owner is a blurb in a small item beside a linked headline (a teaser card, a menu entry):
    an element beside it is mostly a link long enough to be a headline, and the item holds little else."""
    parent = owner.parent
    if parent is None or char_count(parent) > chars + TEASER_ITEM_CHARS:
        return False
    for sibling in element_children(parent):
        if sibling.mem_id == owner.mem_id:
            continue
        links = [sibling] if sibling.tag == "a" else sibling.css("a")
        linked = sum(len(link.text(deep=True).strip()) for link in links)
        if linked >= _HEADLINE_CHARS and linked > 0.5 * len(sibling.text(deep=True).strip()):
            return True  # a sibling that is mostly link text; a paragraph's inline link is not a headline
    return False


def text_runs(root: LexborNode) -> list[Run]:
    """Every block's own run of text, in document order of first text, from one pass over the tree."""
    runs: dict[int, Run] = {}
    owners: dict[int, tuple[Run | None, bool]] = {}  # an inline element's mem_id → (its block's run, inside a link)
    for node in root.traverse(include_text=True):
        if not node.is_text_node:
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
        if in_link or run.in_link:
            run.link_chars += len(stripped)
        if run.chars < 200:
            run.pieces.append(stripped)
    return list(runs.values())


def _known_owner(
    element: LexborNode, owners: dict[int, tuple[Run | None, bool]], runs: dict[int, Run]
) -> tuple[Run | None, bool]:
    known = owners.get(element.mem_id)
    if known is None:
        known = owners[element.mem_id] = _owner_of(element, runs)
    return known


def _owner_of(element: LexborNode, runs: dict[int, Run]) -> tuple[Run | None, bool]:
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
        run = runs[current.mem_id] = Run(current, in_link=_inside_a_link(current))
    return run, in_link


def _inside_a_link(node: LexborNode) -> bool:
    """Inside a link no bigger than a teaser card: an unclosed <a> that the parser carried over a whole
    story is not one."""
    current = node.parent
    while current is not None and current.tag not in ("body", "html"):
        if current.tag == "a":
            return char_count(current) <= TEASER_ITEM_CHARS
        current = current.parent
    return False


def _nearest_owner(element: LexborNode) -> int | None:
    """The mem_id of the nearest run owner above element."""
    current = element.parent
    while current is not None and current.tag not in _RUN_OWNERS:
        current = current.parent
    return current.mem_id if current is not None else None


def char_count(node: LexborNode) -> int:
    """Characters of text, not counting the markup's indentation (each text node is stripped)."""
    return len(node.text(deep=True, separator="", strip=True))


def element_children(node: LexborNode) -> list[LexborNode]:
    children = []
    child = node.child
    while child is not None:
        if child.is_element_node:
            children.append(child)
        child = child.next
    return children


def is_inside(node: LexborNode, keys: set[int]) -> bool:
    current: LexborNode | None = node
    while current is not None:
        if current.mem_id in keys:
            return True
        current = current.parent
    return False

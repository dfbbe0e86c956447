"""Main-content extraction: find the element that holds the article text, then render it as plain text.

Scoring follows readability's idea on selectolax: every paragraph gives points to its parent and half
to its grandparent (more for longer text and more commas), containers are discounted by their link
density, and class/id hints move the score. The winner's siblings that score well join it, for bodies
split over several blocks. Rendering keeps headings, paragraphs, lists and quotes, one blank line
between blocks and one line per list item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser, LexborNode

from crawler.extract.boilerplate import has_boilerplate_class, is_boilerplate_block, is_label_paragraph

__all__ = ["extract_body"]

_PARAGRAPH_TAGS = ("p", "pre", "blockquote", "td")
_CONTAINER_TAGS = {"div", "article", "section", "main", "td", "body", "span", "font", "center"}
_BLOCK_TAGS = {
    "p", "div", "article", "section", "main", "ul", "ol", "dl", "table", "blockquote", "pre", "h1", "h2", "h3",
    "h4", "h5", "h6", "header", "footer", "nav", "aside", "figure", "hr", "form", "address", "center", "li", "tr",
    "tbody", "thead",
}  # fmt: skip
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_POSITIVE_HINT = re.compile(
    r"article|body|content|entry|main|post|story|text|news-?details|detail|matn|متن|نص", re.IGNORECASE
)
_NEGATIVE_HINT = re.compile(
    r"comment|footer|header|menu|nav|sidebar|widget|related|share|social|promo|banner|ad-|sponsor|teaser|"
    r"breadcrumb|tags|meta|author|popular|most",
    re.IGNORECASE,
)
_COMMAS = re.compile(r"[,،;؛]")
_MAX_DEPTH = 120


@dataclass(slots=True)
class _Candidate:
    node: LexborNode
    score: float = 0.0


def extract_body(tree: LexborHTMLParser, title: str | None) -> str:
    """Plain-text body of the article on a page whose chrome has already been stripped."""
    best = _best_candidate(tree)
    if best is None:
        return ""
    blocks: list[str] = []
    for node in _with_good_siblings(best):
        _render(node, blocks, title, depth=0)
    return "\n\n".join(blocks)


# --- choosing the container -----------------------------------------------------------------------------


def _best_candidate(tree: LexborHTMLParser) -> _Candidate | None:
    candidates: dict[int, _Candidate] = {}
    for paragraph in tree.css(", ".join(_PARAGRAPH_TAGS)):
        text = paragraph.text(deep=True, separator=" ").strip()
        if len(text) < 25:
            continue
        points = 1 + len(_COMMAS.findall(text)) + min(len(text) // 100, 3)
        parent = paragraph.parent
        for share, ancestor in ((1.0, parent), (0.5, parent.parent if parent else None)):
            if ancestor is None or ancestor.tag not in _CONTAINER_TAGS:
                continue
            candidate = candidates.get(ancestor.mem_id)
            if candidate is None:
                candidate = candidates[ancestor.mem_id] = _Candidate(ancestor, _class_weight(ancestor))
            candidate.score += points * share
    if not candidates:
        body = tree.body
        return _Candidate(body, 0.0) if body is not None and body.text(deep=True).strip() else None
    for candidate in candidates.values():
        candidate.score *= 1 - _link_density(candidate.node)
    return max(candidates.values(), key=lambda c: c.score)


def _class_weight(node: LexborNode) -> float:
    hint = f"{node.attributes.get('class') or ''} {node.attributes.get('id') or ''}"
    weight = 0.0
    if _POSITIVE_HINT.search(hint):
        weight += 25
    if _NEGATIVE_HINT.search(hint):
        weight -= 25
    if node.tag in ("article", "main"):
        weight += 10
    return weight


def _link_density(node: LexborNode) -> float:
    text_length = len(node.text(deep=True, separator=" ").strip()) or 1
    link_length = sum(len(link.text(deep=True).strip()) for link in node.css("a"))
    return min(link_length / text_length, 1.0)


def _with_good_siblings(best: _Candidate) -> list[LexborNode]:
    """The winner plus siblings that look like more of the same article (text-rich, few links)."""
    parent = best.node.parent
    if parent is None or best.node.tag in ("body", "article", "main"):
        return [best.node]
    nodes = []
    sibling = parent.child
    while sibling is not None:
        if sibling.mem_id == best.node.mem_id:
            nodes.append(sibling)
        elif sibling.is_element_node and sibling.tag in ("p", "div", "section") and not has_boilerplate_class(sibling):
            text = sibling.text(deep=True, separator=" ").strip()
            if len(text) > 80 and _link_density(sibling) < 0.25 and _COMMAS.search(text) or (
                sibling.tag == "p" and len(text) > 120
            ):
                nodes.append(sibling)
        sibling = sibling.next
    return nodes


# --- rendering ------------------------------------------------------------------------------------------


def _render(node: LexborNode, blocks: list[str], title: str | None, depth: int) -> None:
    """Append the text blocks of node, in document order, to blocks."""
    tag = node.tag
    if depth > 0 and is_boilerplate_block(node):
        return
    if depth > _MAX_DEPTH or tag in ("p", "pre", "address"):
        _add_paragraph(node, blocks)
    elif tag in _HEADINGS:
        text = _inline_text(node)
        if text and not (title and tag in ("h1", "h2") and _same_text(text, title)):
            blocks.append(text)
    elif tag in ("ul", "ol", "dl"):
        _add_list(node, blocks)
    elif tag == "table":
        _add_table(node, blocks)
    elif tag == "blockquote" and not any(child.tag in _BLOCK_TAGS for child in _element_children(node)):
        _add_paragraph(node, blocks)
    else:
        _render_mixed(node, blocks, title, depth)


def _render_mixed(node: LexborNode, blocks: list[str], title: str | None, depth: int) -> None:
    """A container: block children render themselves; loose inline text between them is a paragraph."""
    run: list[str] = []
    child = node.child
    while child is not None:
        if child.is_text_node:
            run.append(child.text_content or "")
        elif child.is_element_node and child.tag == "br":
            run.append("\n")
        elif child.is_element_node and child.tag in _BLOCK_TAGS:
            _flush(run, blocks)
            _render(child, blocks, title, depth + 1)
        elif child.is_element_node and not has_boilerplate_class(child):
            if any(grandchild.tag in _BLOCK_TAGS for grandchild in child.css("*")):
                _flush(run, blocks)
                _render(child, blocks, title, depth + 1)
            else:
                run.append(child.text(deep=True))
        child = child.next
    _flush(run, blocks)


def _flush(run: list[str], blocks: list[str]) -> None:
    text = "".join(run)
    run.clear()
    for piece in re.split(r"\n\s*\n", text):
        piece = " ".join(piece.split())
        if piece and not is_label_paragraph(piece, 0):
            blocks.append(piece)


def _add_paragraph(node: LexborNode, blocks: list[str]) -> None:
    text = _inline_text(node)
    if not text:
        return
    links = sum(len(a.text(deep=True).strip()) for a in node.css("a"))
    if is_label_paragraph(text, links) or (links > 0.8 * len(text) and len(text) < 200):
        return
    blocks.append(text)


def _add_list(node: LexborNode, blocks: list[str]) -> None:
    """A list is one block, one line per item; a list of links (other stories) is dropped."""
    if _link_density(node) > 0.6:
        return
    items = [_inline_text(item) for item in node.css("li, dt, dd")]
    lines = [item for item in items if item]
    if lines:
        blocks.append("\n".join(lines))


def _add_table(node: LexborNode, blocks: list[str]) -> None:
    rows = []
    for row in node.css("tr"):
        cells = [_inline_text(cell) for cell in row.css("td, th")]
        cells = [cell for cell in cells if cell]
        if cells:
            rows.append(" | ".join(cells))
    if rows and _link_density(node) < 0.6:
        blocks.append("\n".join(rows))


def _inline_text(node: LexborNode) -> str:
    return " ".join(node.text(deep=True, separator="").split())


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


def _element_children(node: LexborNode) -> list[LexborNode]:
    children = []
    child = node.child
    while child is not None:
        if child.is_element_node:
            children.append(child)
        child = child.next
    return children

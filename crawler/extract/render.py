"""Rendering the chosen element as plain text.

Headings, paragraphs, lists, quotes and tables are kept in document order; boilerplate blocks
(boilerplate.py), teaser cards and linked headlines are dropped unless they hold most of the article;
one blank line separates blocks and one line separates list items.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from selectolax.lexbor import LexborNode

from crawler.extract.boilerplate import is_boilerplate_block, is_label_heading, is_label_paragraph, is_reader_notice
from crawler.extract.prose import MIN_PROSE_CHARS, TEASER_ITEM_CHARS, ClassFlags, Mass, char_count, element_children

__all__ = ["Block", "RenderContext", "holders_of_breaks", "join_blocks", "render"]

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
# A line that is only a date and a time ("2 تير 1399 - 12:09:08 ب.ظ", "Jan 5, 2025 10:32 AM"): page metadata.
_TIMESTAMP_LINE = re.compile(r"^(?=.{0,60}$)(?=.*\d{4})(?=.*\d{1,2}:\d{2}).*$")
# The site's small print and a post's filing line: "© 2012 The Associated Press. All rights reserved.",
# "Posted in Current Events | No Comments »", "Categories: Ideas".
_SMALL_PRINT = re.compile(
    r"^(?=.{0,200}$)(?:(?:©|\(c\)|copyright\s+(?:©|\(c\)|\d{4}|by\b)).*|.*\b(?:all rights reserved|جميع الحقوق محفوظة)"
    r"\b.*|posted in [^.!?|]{1,60}\|.*|(?:filed under|categories|tags|tagged):\s.*)$",
    re.IGNORECASE,
)
_BLANK_LINE = re.compile(r"\n\s*\n")
_INLINE_NAME_CHARS = 300  # an inline element named like boilerplate but this long is a tag left open
_MAX_DEPTH = 120
_LAYOUT_CELL_CONTENT = "table, p, div, ul, ol, blockquote, h1, h2, h3, h4, h5, h6"


class Block(NamedTuple):
    text: str
    paragraph: bool  # written as a <p> (or a table) by the author, not loose text, a heading or a list


@dataclass(frozen=True, slots=True)
class RenderContext:
    title: str | None
    mass: Mass
    container_prose: int
    flags: ClassFlags
    with_breaks: frozenset[int]  # elements of the container that hold a <br> somewhere inside

    def holds_most_of_article(self, node: LexborNode) -> bool:
        """A 'boilerplate' class on a block that holds most of the article's prose is a false alarm."""
        return self.mass.prose.get(node.mem_id, 0) > 0.5 * self.container_prose > 0


def holders_of_breaks(container: LexborNode) -> frozenset[int]:
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


def join_blocks(blocks: list[Block], title: str | None) -> str:
    """The body text: edges trimmed, and no block that merely repeats the title (in whatever tag)."""
    title_words = " ".join(title.split()).casefold() if title else None
    kept = [
        block.text for block in _trim_edges(blocks)
        if block.text.casefold() != title_words and not _TIMESTAMP_LINE.search(block.text)
        and not _SMALL_PRINT.match(block.text)
    ]  # fmt: skip
    return "\n\n".join(kept)


def _trim_edges(blocks: list[Block]) -> list[Block]:
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
    return len(block) >= 100 or (len(block) >= MIN_PROSE_CHARS and block[-1] in '.!?؟…"”»:')


def render(node: LexborNode, blocks: list[Block], ctx: RenderContext, depth: int) -> None:
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
        if (
            text
            and not (ctx.title and tag in ("h1", "h2") and _same_text(text, ctx.title))
            and not _is_linked_headline(node, text)
        ):
            blocks.append(Block(text, False))
    elif tag in ("ul", "ol", "dl"):
        _add_list(node, blocks, ctx, depth)
    elif tag == "table":
        _add_table(node, blocks, ctx, depth)
    elif tag == "blockquote" and not any(child.tag in _BLOCK_TAGS for child in element_children(node)):
        _add_paragraph(node, blocks, ctx)
    else:
        _render_mixed(node, blocks, ctx, depth)


def _render_mixed(node: LexborNode, blocks: list[Block], ctx: RenderContext, depth: int) -> None:
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
            render(child, blocks, ctx, depth + 1)
        elif child.is_element_node and (not ctx.flags.get(child) or _too_long_for_its_name(child, ctx)):
            if child.tag not in _FORMATTING_TAGS and child.css_first(_ANY_BLOCK) is not None:
                _flush(run, blocks)
                render(child, blocks, ctx, depth + 1)
            else:
                run.append(child.text(deep=True))
        child = child.next
    _flush(run, blocks)


def _too_long_for_its_name(inline: LexborNode, ctx: RenderContext) -> bool:
    """An inline element named like boilerplate (a byline, a share link) whose text is paragraphs long is a
    tag left open around the story by broken markup; or it holds most of the article."""
    return ctx.holds_most_of_article(inline) or char_count(inline) > _INLINE_NAME_CHARS


def _flush(run: list[str], blocks: list[Block]) -> None:
    text = "".join(run)
    run.clear()
    if not text or text.isspace():
        return  # most runs are the indentation between two block elements
    for piece in _BLANK_LINE.split(text) if "\n" in text else (text,):
        piece = " ".join(piece.split())
        if piece and not is_label_paragraph(piece, 0):
            blocks.append(Block(piece, False))


def _add_paragraph(node: LexborNode, blocks: list[Block], ctx: RenderContext) -> None:
    text = _inline_text(node, ctx)
    if not text:
        return
    # Link text matters only for short paragraphs (a "read also: <link>" teaser, a line of links).
    links = sum(len(a.text(deep=True).strip()) for a in node.css("a")) if len(text) < 200 else 0
    if is_label_paragraph(text, links) or (links > 0.8 * len(text) and len(text) < 200) or is_reader_notice(text):
        return
    blocks.append(Block(text, node.tag == "p"))


def _add_list(node: LexborNode, blocks: list[Block], ctx: RenderContext, depth: int) -> None:
    """A list is one block, one line per item; a list of links (other stories) is dropped. A "list" without
    items (paragraphs written straight into a <ul>, broken markup) is read as the blocks it holds."""
    if _link_density(node) > 0.6:
        return
    if node.css_first("li, dt, dd") is None:
        _render_mixed(node, blocks, ctx, depth)
        return
    items = [_inline_text(item, ctx) for item in node.css("li, dt, dd")]
    lines = [item for item in items if item]
    if lines:
        blocks.append(Block("\n".join(lines), False))


def _add_table(node: LexborNode, blocks: list[Block], ctx: RenderContext, depth: int) -> None:
    """A data table: one line per row, cells joined by " | ". A layout table (cells that hold paragraphs,
    blocks or other tables: older CMSs lay whole pages out so): each cell rendered as a container, in
    order, its link lists left out. Only the table's own rows and cells: a nested table's are its own."""
    grid = [_cells(row) for row in _rows(node)]
    if any(cell.css_first(_LAYOUT_CELL_CONTENT) is not None for cells in grid for cell in cells):
        for cell in (cell for cells in grid for cell in cells):
            if _link_density(cell) <= 0.6:
                render(cell, blocks, ctx, depth + 1)
        return
    rows = []
    for cells in grid:
        texts = [text for text in (_inline_text(cell, ctx) for cell in cells) if text]
        if texts:
            rows.append(" | ".join(texts))
    if rows and _link_density(node) < 0.6:
        blocks.append(Block("\n".join(rows), True))  # kept at the end like a paragraph: tables are content


def _rows(table: LexborNode) -> list[LexborNode]:
    rows = []
    for child in element_children(table):
        if child.tag == "tr":
            rows.append(child)
        elif child.tag in ("thead", "tbody", "tfoot"):
            rows.extend(row for row in element_children(child) if row.tag == "tr")
    return rows


def _cells(row: LexborNode) -> list[LexborNode]:
    return [cell for cell in element_children(row) if cell.tag in ("td", "th")]


def _is_linked_headline(heading: LexborNode, text: str) -> bool:
    """A heading that is all link to elsewhere, in a small block of its own: another story's teaser. (An
    article's own section headings stand among its paragraphs, and may link to themselves.)"""
    links = [link for link in heading.css("a[href]") if not (link.attrs.get("href") or "").startswith("#")]
    if not links or sum(len(link.text(deep=True).strip()) for link in links) < 0.9 * len(text):
        return False
    item = heading.parent
    return item is not None and len(item.text(deep=True, separator=" ").strip()) < TEASER_ITEM_CHARS


def _is_link_block(node: LexborNode) -> bool:
    if node.css_first("a") is None:
        return False
    text_length = len(node.text(deep=True, separator=" ").strip())
    return 0 < text_length < 200 and _link_density(node) > 0.8


def _link_density(node: LexborNode) -> float:
    text_length = len(node.text(deep=True, separator=" ").strip()) or 1
    link_length = sum(len(link.text(deep=True).strip()) for link in node.css("a"))
    return min(link_length / text_length, 1.0)


def _inline_text(node: LexborNode, ctx: RenderContext) -> str:
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

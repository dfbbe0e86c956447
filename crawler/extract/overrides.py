"""Per-source selector overrides: CSS selectors from a source's config, tried before the generic path.

A selector that matches nothing (the site changed its markup) falls back to the generic extractor, so an
override can only help; which one won is recorded in the article's provenance as ``override:<selector>``.
"""

from __future__ import annotations

from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from crawler.dates import parse_date

__all__ = ["SelectorRules", "apply_drops", "override_date", "override_list", "override_text", "selector_error"]

_PROBE = LexborHTMLParser("<html><body><p>probe</p></body></html>")


@dataclass(frozen=True, slots=True)
class SelectorRules:
    """The selectors of one source; every field is optional."""

    body: str | None = None
    title: str | None = None
    date: str | None = None
    modified: str | None = None
    author: str | None = None
    tags: str | None = None
    drop: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return any((self.body, self.title, self.date, self.modified, self.author, self.tags, self.drop))


def selector_error(selector: str) -> str | None:
    """Why a CSS selector is unusable, or None (used by config validation, so errors name the field)."""
    try:
        _PROBE.css(selector)
    except SelectolaxError as exc:
        return f"invalid CSS selector {selector!r}: {exc}"
    return None


def apply_drops(tree: LexborHTMLParser, rules: SelectorRules) -> None:
    """Remove what the source says is never content, before anything else reads the page (last match
    first, so no element is touched after an ancestor of it was removed)."""
    if rules.drop:
        for node in reversed(tree.css(", ".join(rules.drop))):
            node.decompose()


def override_text(tree: LexborHTMLParser, selector: str | None) -> str | None:
    """Text of the first element the selector matches (its content attribute for <meta>)."""
    node = tree.css_first(selector) if selector else None
    if node is None:
        return None
    text = node.attrs.get("content") or node.text(deep=True, separator=" ")
    return " ".join(text.split()) or None


def override_list(tree: LexborHTMLParser, selector: str | None) -> list[str]:
    """Texts of every element the selector matches, in document order, without duplicates."""
    if not selector:
        return []
    texts = (" ".join(_value(node).split()) for node in tree.css(selector))
    return list(dict.fromkeys(text for text in texts if text))


def override_date(tree: LexborHTMLParser, selector: str | None, timezone: str) -> tuple[str, str] | None:
    """(ISO date, the string as written) of the first matched element that holds a parseable date
    (datetime/content attribute, else text)."""
    if not selector:
        return None
    for node in tree.css(selector):
        text = " ".join(_value(node).split())
        parsed = parse_date(text, timezone)
        if parsed is not None:
            return parsed.isoformat(), text
    return None


def _value(node: LexborNode) -> str:
    return node.attrs.get("datetime") or node.attrs.get("content") or node.text(deep=True, separator=" ")

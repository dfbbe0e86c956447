"""The reading side of ``crawler ui``: an article page with its version history (word-level differences,
right-to-left aware), tags as chips, search snippets with the matched words marked. Pure functions from
typed values to HTML; every piece of stored text is escaped (a body is text, never markup)."""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from html import escape
from zoneinfo import ZoneInfo

from crawler.display import shown

__all__ = ["PageArticle", "PageVersion", "article_page", "changed_paragraphs", "chips", "marked", "word_diff"]

_PARAGRAPH = "\n\n"
_TOKEN = re.compile(r"\n\s*\n|\S+")  # a paragraph break, or a word with its punctuation
_SKIPPED = '<p class="same">…</p>'
_PARAGRAPHS = re.compile(r"\n\s*\n")
_MARK = re.compile(r"\[([^\[\]]+)\]")


@dataclass(frozen=True, slots=True)
class PageVersion:
    version: int
    fetched_at: str
    changed: list[str]
    title: str | None
    body: str


@dataclass(frozen=True, slots=True)
class PageArticle:
    id: int
    source_id: str
    canonical_url: str
    title: str | None
    published: str | None
    section: str | None
    tags: list[str]
    authors: list[str]
    first_seen: str
    versions: list[PageVersion]  # oldest first


def chips(tags_json: str | None) -> str:
    """A JSON list of tags as chips (each its own direction); nothing for no tags or not a list."""
    try:
        tags = json.loads(tags_json or "[]")
    except ValueError:
        return escape(tags_json or "")
    if not isinstance(tags, list):
        return escape(str(tags))
    return " ".join(f'<span class="chip" dir="auto">{escape(str(tag))}</span>' for tag in tags)


def marked(snippet: str) -> str:
    """A search snippet ("… the [budget] was …") with its [matched] words in <mark>."""
    return _MARK.sub(lambda m: f"<mark>{m.group(1)}</mark>", escape(snippet, quote=False))


def word_diff(old: str, new: str) -> str:
    """The new text in paragraphs (each right to left or left to right by its own first letter) with the
    words added in <ins> and the words taken out in <del>, where they were."""
    return "\n".join(map(_paragraph, _diff_paragraphs(old, new)))


def changed_paragraphs(old: str, new: str) -> str:
    """word_diff with only the paragraphs that changed, an ellipsis where others were left out."""
    paragraphs = _diff_paragraphs(old, new)
    changed = [i for i, text in enumerate(paragraphs) if "<ins>" in text or "<del>" in text]
    out: list[str] = []
    for n, index in enumerate(changed):
        if index > (changed[n - 1] + 1 if n else 0):
            out.append(_SKIPPED)
        out.append(_paragraph(paragraphs[index]))
    if changed and changed[-1] < len(paragraphs) - 1:
        out.append(_SKIPPED)
    return "\n".join(out)


def _paragraph(html: str) -> str:
    return f'<p dir="auto">{html}</p>'


def _diff_paragraphs(old: str, new: str) -> list[str]:
    """The marked-up words of the difference, paragraph by paragraph (as HTML, without the <p>)."""
    before, after = _TOKEN.findall(old), _TOKEN.findall(new)
    parts: list[str] = []
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            parts.extend(_words(after[j1:j2], None))
            continue
        if op in ("delete", "replace"):
            parts.extend(_words(before[i1:i2], "del"))
        if op in ("insert", "replace"):
            parts.extend(_words(after[j1:j2], "ins"))
    paragraphs: list[list[str]] = [[]]
    for part in parts:
        if part == _PARAGRAPH:
            paragraphs.append([])
        else:
            paragraphs[-1].append(part)
    return [" ".join(words) for words in paragraphs if words]


def _words(tokens: list[str], tag: str | None) -> list[str]:
    """Escaped words, a run of them wrapped in one tag, paragraph breaks kept outside it."""
    out: list[str] = []
    run: list[str] = []

    def close() -> None:
        if run:
            text = " ".join(escape(word, quote=False) for word in run)
            out.append(f"<{tag}>{text}</{tag}>" if tag else text)
            run.clear()

    for token in tokens:
        if token.strip():
            run.append(token)
        else:
            close()
            out.append(_PARAGRAPH)
    close()
    return out


def article_page(article: PageArticle, zone: ZoneInfo, database: str) -> str:
    """The whole page: the article as it is now, then each version with what changed since the one before."""
    title = escape(article.title or "(no title)")
    facts = [
        ("source", escape(article.source_id)),
        ("published", escape(shown(article.published, zone, missing="unknown"))),
        ("first seen", escape(shown(article.first_seen, zone))),
        ("section", escape(article.section or "")),
        ("authors", escape(", ".join(article.authors))),
        ("tags", chips(json.dumps(article.tags))),
        ("address", f'<a href="{escape(article.canonical_url)}" rel="noreferrer">{escape(article.canonical_url)}</a>'),
    ]
    rows = "".join(f'<dt>{name}</dt><dd dir="auto">{value}</dd>' for name, value in facts if value)
    latest = article.versions[-1] if article.versions else None
    body = "\n".join(_paragraph(escape(text, quote=False)) for text in _PARAGRAPHS.split(latest.body)) if latest else ""
    history = "".join(_version(previous, version, zone) for previous, version in
                      zip([None, *article.versions], article.versions))  # fmt: skip
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title>'
        '<link rel="stylesheet" href="/-/static/app.css"><link rel="stylesheet" href="/crawler-static/crawler.css">'
        f'</head><body class="crawler-article"><nav><a href="/{escape(database)}/reading">articles</a> · '
        f'<a href="/{escape(database)}/search">search</a> · '
        f'<a href="/{escape(database)}/articles/{article.id}">all fields</a></nav>'
        f'<article><h1 dir="auto">{title}</h1><dl class="facts">{rows}</dl>'
        # what changed comes before the text: watching for changes is why the page is read
        f'<section class="history"><h2>{len(article.versions)} version(s)</h2>{history}</section>'
        f'<div class="body">{body}</div></article></body></html>'
    )


def _version(previous: PageVersion | None, version: PageVersion, zone: ZoneInfo) -> str:
    when = escape(shown(version.fetched_at, zone, seconds=True))
    if previous is None:
        return f'<div class="version"><h3>version {version.version} · {when} · first version</h3></div>'
    changed = escape(", ".join(version.changed) or "nothing compared")
    parts = [f"<h3>version {version.version} · {when} · changed: {changed}</h3>"]
    if (previous.title or "") != (version.title or ""):
        parts.append(f'<div class="title-diff">{word_diff(previous.title or "", version.title or "")}</div>')
    if previous.body != version.body:
        parts.append(f'<div class="body-diff">{changed_paragraphs(previous.body, version.body)}</div>')
    return f'<div class="version">{"".join(parts)}</div>'

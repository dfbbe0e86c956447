"""A proposed ``[[sources]]`` table as a value, written out as commented TOML and appended to a config
file only when the whole file still validates (nothing of the user's file is rewritten or lost)."""

from __future__ import annotations

import json
import os
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

from crawler.config import load_config
from crawler.errors import ConfigError

__all__ = ["SourceDraft", "Suggestion", "append_sources", "source_block", "toml_value"]


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A key written commented out, with why: a choice the user may turn on."""

    key: str
    value: str | list[str]
    why: str


@dataclass(frozen=True, slots=True)
class SourceDraft:
    id: str
    name: str
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    listing_pages: tuple[str, ...] = ()
    allowed_domains: tuple[str, ...] = ()
    article_url_pattern: str | None = None
    language: str | None = None
    interval: str = "15m"
    notes: tuple[str, ...] = ()  # comment lines above the table: where it came from, what was seen
    suggestions: tuple[Suggestion, ...] = ()


def toml_value(value: str | list[str]) -> str:
    """A TOML string or array of strings. A JSON string is a valid TOML basic string (same escapes); a
    regular expression reads better as a literal string, which has no escapes, when it can be one."""
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if "\\" in value and "'" not in value and "\n" not in value:
        return f"'{value}'"
    return json.dumps(value, ensure_ascii=False)


def source_block(draft: SourceDraft) -> str:
    """The draft as a ``[[sources]]`` table: notes as comments above it, suggestions commented out."""
    lines = [f"# {line}" for note in draft.notes for line in textwrap.wrap(note, 100) or [""]]
    lines.append("[[sources]]")
    fields: list[tuple[str, str | list[str] | None]] = [
        ("id", draft.id),
        ("name", draft.name),
        ("feeds", list(draft.feeds) or None),
        ("sitemaps", list(draft.sitemaps) or None),
        ("listing_pages", list(draft.listing_pages) or None),
        ("allowed_domains", list(draft.allowed_domains) or None),
        ("article_url_pattern", draft.article_url_pattern),
        ("language", draft.language),
        ("interval", draft.interval),
    ]
    lines += [f"{key} = {toml_value(value)}" for key, value in fields if value is not None]
    for suggestion in draft.suggestions:
        lines.append(f"# {suggestion.why}")
        lines.append(f"# {suggestion.key} = {toml_value(suggestion.value)}")
    return "\n".join(lines) + "\n"


def append_sources(path: Path, blocks: list[str]) -> None:
    """Append the tables to the config file (created when missing), but only if the whole file then still
    loads: the new text is checked in a file beside it and moved into place in one step, so the config is
    never half-written and a bad table never lands (ConfigError names what is wrong)."""
    try:
        original = path.read_text(encoding="utf-8")
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        original, mode = "", 0o644
    separator = "" if not original or original.endswith("\n\n") else ("\n" if original.endswith("\n") else "\n\n")
    text = original + separator + "\n".join(blocks)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".new")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.chmod(temporary, mode)
        try:
            load_config(Path(temporary), need_sources=True)
        except ConfigError as exc:  # named as the user's file: the file beside it is gone when they read this
            raise ConfigError([problem.replace(temporary, str(path)) for problem in exc.problems]) from None
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)

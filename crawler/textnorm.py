"""Text normalisation in two levels, shared by extraction (display form) and dedupe (matching key).

display_text: what we store and show. NFC, Arabic presentation forms → letters (not all of NFKC, which
  would rewrite "…", "m²" and full-width digits), Persian ی/ک → Arabic ي/ك on
  Arabic-language text only, tatweel and bidi/zero-width controls removed, whitespace tidied.
match_key: what we compare. The display form plus harakat stripped, alef forms folded, ى→ي, ة→ه,
  digits to ASCII and case folded, so spelling-only edits never count as changes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

__all__ = ["ascii_digits", "clean_whitespace", "display_text", "match_key", "match_keys_by_piece"]

# Arabic presentation forms (and the odd ligature sites type with them): the letters they stand for.
_PRESENTATION_FORMS = re.compile("[\ufb50-\ufdff\ufe70-\ufefe]+")
# Tatweel, soft hyphen, BOM, zero-width space/joiner and bidi controls (ZWNJ stays: Persian spelling needs it).
_CONTROLS = re.compile("[\u0640\u061c\u00ad\ufeff\u200b\u200d\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_PERSIAN_TO_ARABIC = {"ی": "ي", "ک": "ك", "ە": "ه", "ہ": "ه", "ھ": "ه"}
_HARAKAT = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_DIGITS = {**{chr(0x0660 + d): str(d) for d in range(10)}, **{chr(0x06F0 + d): str(d) for d in range(10)}}
_KEY_FOLD = {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "\u200c": " ", **_DIGITS}
_SPACE_CHARS = r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]"
# Runs that are not already a single plain space (matching every word gap would make this the slowest step).
_SPACES = re.compile(rf"[\t\u00a0\u2000-\u200a\u202f\u205f\u3000]{_SPACE_CHARS}*| {_SPACE_CHARS}+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_PIECE = 200_000  # characters of a long text made into keys at a time (a long feature's text is one piece)
# Anything display_text's line tidying would change: a double space, a space at a line's end, a run of
# blank lines, or whitespace that is neither a plain space nor a newline (no-break, thin, ideographic).
_UNTIDY = ("  ", " \n", "\n ", "\n\n\n", "\t", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f", "\x85",
           "\u1680", "\u2028", "\u2029", "\u00a0", "\u2000", "\u2001", "\u2002", "\u2003", "\u2004", "\u2005",
           "\u2006", "\u2007", "\u2008", "\u2009", "\u200a", "\u202f", "\u205f", "\u3000")  # fmt: skip


class _Fold:
    """A character-for-string mapping, applied as str.translate would. translate looks every character up
    in a dict (60 us for a 1,600-character body); the characters to fold are few and a text holds a handful
    of them, so those are found with one regex scan and replaced (10 us). No replacement is itself folded."""

    def __init__(self, mapping: dict[str, str]) -> None:
        assert not set("".join(mapping.values())) & set(mapping), "a replacement would be folded again"
        self._mapping = mapping
        self._pattern = re.compile("[" + re.escape("".join(mapping)) + "]")

    def __call__(self, text: str) -> str:
        for char in set(self._pattern.findall(text)):
            text = text.replace(char, self._mapping[char])
        return text


_TO_ASCII_DIGITS = _Fold(_DIGITS)
_TO_ARABIC_LETTERS = _Fold(_PERSIAN_TO_ARABIC)
_FOLD_FOR_KEY = _Fold(_KEY_FOLD)


def clean_whitespace(text: str) -> str:
    """Collapse runs of spaces on each line and strip the ends."""
    return _SPACES.sub(" ", text).strip()


def ascii_digits(text: str) -> str:
    """Arabic-Indic and Persian digits as ASCII digits."""
    return _TO_ASCII_DIGITS(text)


def display_text(text: str, language: str | None = None) -> str:
    """The stored, displayed form of a piece of text (see module docstring)."""
    # str.split/join and regexes that rarely match: bodies are long and this runs on every page.
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    if _PRESENTATION_FORMS.search(text):  # only these are folded: NFKC would also rewrite "…", "²", "１３"
        text = _PRESENTATION_FORMS.sub(lambda found: unicodedata.normalize("NFKC", found[0]), text)
    text = _CONTROLS.sub("", text)
    if language is not None and language.lower().startswith("ar"):
        text = _TO_ARABIC_LETTERS(text)
    if any(marker in text for marker in _UNTIDY):  # most bodies are tidy already; scans beat re-joining
        text = "\n".join(" ".join(line.split()) for line in text.split("\n"))
        text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


def match_key(text: str) -> str:
    """The comparison form: equal keys mean the same words, whatever the spelling variant (full-width and
    compatibility forms too: NFKC)."""
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    text = _FOLD_FOR_KEY(display_text(text, "ar"))
    text = _HARAKAT.sub("", text).casefold()
    return " ".join(text.split())


def match_keys_by_piece(text: str) -> Iterator[str]:
    """match_key of the text a block of lines at a time: joined by single spaces, the non-empty keys are
    match_key(text). Every word-by-word form made from the key (comparable words, search index text)
    can be made piece by piece too, so a body of megabytes never becomes a million word objects at once
    (80 MB for a 10 MB page, each step)."""
    start = 0
    while start < len(text):
        end = start + _PIECE
        if end < len(text):
            cut = text.rfind("\n", start, end) + 1 or text.rfind(" ", start, end) + 1
            end = cut if cut > start else end  # a piece without a line break or space is cut anywhere
        key = match_key(text[start:end])
        if key:
            yield key
        start = end

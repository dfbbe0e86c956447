"""Full-text search terms: what goes into the FTS5 index, what a query becomes, and result snippets.

SQLite's FTS5 tokenizers do not fold Arabic: `unicode61`'s remove_diacritics acts on Latin only, and by
default it splits a vocalised word at its harakat. So the index holds text already in match-key form
(textnorm.match_key: harakat stripped, alef forms, ى/ي, ة/ه, Persian ی/ک folded, digits ASCII) and every
query goes through the same function; the tokenizer keeps combining marks inside tokens as a safety net.
Arabic clitics: a word written with a prefixed conjunction or preposition and the article ("والعراق",
"بالعراق", "للعراق") is indexed twice, as written and as "العراق", so a query for either finds both.
Pure functions; the store runs the SQL.
"""

from __future__ import annotations

import re

from crawler.textnorm import match_key, match_keys_by_piece

__all__ = ["FTS_TOKENIZER", "index_text", "index_text_of_key", "match_expression", "query_terms", "snippet"]

FTS_TOKENIZER = "unicode61 categories 'L* N* Co Mn'"  # Mn: a mark never splits a word into letters
_WORD = re.compile(r"\w+")
_MARKS = "\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed"  # harakat: part of a word, not punctuation
_WORD_CORE = re.compile(rf"\w(?:.*[\w{_MARKS}])?")  # from the first word character to the last letter or mark
# و/ف (and, so) and ب/ل/ك (with, for, like) before the article; "لل" is ل + ال with the alef dropped.
_CLITIC_LETTERS = frozenset("وفبكل")
_CLITIC_WORD = re.compile(r"(?<!\w)[وفبكل]\w*")  # only these letters can start a clitic form
_NON_WORD = re.compile(r"\W+")
_CLITIC_ARTICLE = re.compile(r"^(?:[وف]?[بكل]|[وف])ال(?=\w{2})|^[وف]?لل(?=\w{2})")


def _stem(token: str) -> str:
    """The article form of a token with clitics ("والعراق" → "العراق"), else the token."""
    return _CLITIC_ARTICLE.sub("ال", token, count=1)


def index_text(text: str | None) -> str:
    """The form of a title or body stored in the index (words in match-key form, clitic variants added)."""
    return " ".join(filter(None, map(index_text_of_key, match_keys_by_piece(text)))) if text else ""


def index_text_of_key(key: str) -> str:
    """index_text for text already in match-key form: its words one space apart, each with a clitic form
    followed by its stem; made by substitution, not through a list of every word (a page of megabytes
    would hold millions of word objects at once)."""
    return _CLITIC_WORD.sub(_with_stem, _NON_WORD.sub(" ", key).strip())


def _with_stem(match: re.Match[str]) -> str:
    token = match.group(0)
    stem = _stem(token)
    return token if stem == token else f"{token} {stem}"


def query_terms(query: str) -> list[str]:
    """The query's words as index terms (a clitic form searches for its article form, which every
    spelling of the word carries in the index)."""
    return list(dict.fromkeys(_stem(token) for token in _WORD.findall(match_key(query))))


def match_expression(terms: list[str]) -> str:
    """An FTS5 MATCH expression requiring every term; each is quoted, so no query text is FTS syntax."""
    return " ".join(f'"{term}"' for term in terms)


def snippet(text: str, terms: list[str], width: int = 24) -> str:
    """About ``width`` words of the display text where the most query words meet, matches in [brackets]."""
    words = text.split()
    keys = match_key(text).split()  # one pass over the whole text; per-word keys only if the counts differ
    if len(keys) != len(words):
        keys = [match_key(word) for word in words]
    wanted = set(terms)
    hits = [(index, key) for index, key in ((i, _word_key(k)) for i, k in enumerate(keys)) if key in wanted]
    if not hits:
        return " ".join(words[:width]) + (" …" if len(words) > width else "")
    # the hit whose window holds the most different query words
    best = max(hits, key=lambda hit: len({key for index, key in hits if hit[0] <= index < hit[0] + width // 2}))
    start = max(0, best[0] - width // 3)
    end = min(len(words), start + width)
    window = [_mark(words[i]) if _word_key(keys[i]) in wanted else words[i] for i in range(start, end)]
    return ("… " if start else "") + " ".join(window) + (" …" if end < len(words) else "")


def _mark(word: str) -> str:
    """[word] with the punctuation around it left outside: "budget," → "[budget],"."""
    return _WORD_CORE.sub(lambda m: f"[{m.group(0)}]", word, count=1)


def _word_key(key: str) -> str:
    """A word's index term: punctuation dropped, clitics resolved (only words that can carry them)."""
    token = "".join(_WORD.findall(key))
    return _stem(token) if token[:1] in _CLITIC_LETTERS else token

"""Full-text search terms: what goes into the FTS5 index, what a query becomes, and result snippets.

SQLite's FTS5 tokenizers do not fold Arabic: `unicode61`'s remove_diacritics acts on Latin only, and by
default it splits a vocalised word at its harakat. So the index holds text already in match-key form
(textnorm.match_key: harakat stripped, alef forms, ى/ي, ة/ه, Persian ی/ک folded, digits ASCII) and every
query goes through the same function; the tokenizer keeps combining marks inside tokens as a safety net.
Arabic clitics: a word written with a prefixed conjunction or preposition and the article ("والعراق",
"بالعراق", "للعراق") is indexed twice, as written and as "العراق", so a query for either finds both.
Latin plurals are indexed in the singular, by Harman's "S" stemmer ("prices" → "price", "companies" →
"company"), and a query's words and phrases are folded the same way, so either form finds both (a fold,
not an added term: a phrase's words keep their places). A query also asks for the form as written, which
index rows made before the fold hold. An article's tags and authors are indexed with its title.
Pure functions; the store runs the SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from crawler.textnorm import match_key, match_keys_by_piece

__all__ = ["FTS_TOKENIZER", "ParsedQuery", "Term", "index_text", "index_text_of_key", "match_expression", "matches",
           "parse_query", "query_terms", "search_title", "snippet", "tsquery_text"]  # fmt: skip

FTS_TOKENIZER = "unicode61 categories 'L* N* Co Mn'"  # Mn: a mark never splits a word into letters
_WORD = re.compile(r"\w+")
_TOKEN = re.compile(r'-?"[^"]*"?|\S+')  # a quoted phrase (closed or not), or a run of non-spaces
_MARKS = "\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed"  # harakat: part of a word, not punctuation
_WORD_CORE = re.compile(rf"\w(?:.*[\w{_MARKS}])?")  # from the first word character to the last letter or mark
# و/ف (and, so) and ب/ل/ك (with, for, like) before the article; "لل" is ل + ال with the alef dropped.
_CLITIC_LETTERS = frozenset("وفبكل")
_CLITIC_WORD = re.compile(r"(?<!\w)[وفبكل]\w*")  # only these letters can start a clitic form
_NON_WORD = re.compile(r"\W+")
_SAME_IN_PLURAL = frozenset({"news", "series", "species"})  # "news" is not "new"s
_PLURAL_WORD = re.compile(r"(?<!\w)[a-z]{3,}s(?!\w)")  # a Latin word of four letters or more ending in s
_CLITIC_ARTICLE = re.compile(r"^(?:[وف]?[بكل]|[وف])ال(?=\w{2})|^[وف]?لل(?=\w{2})")


def _stem(token: str) -> str:
    """The article form of a token with clitics ("والعراق" → "العراق"), else the token."""
    return _CLITIC_ARTICLE.sub("ال", token, count=1)


def _singular(token: str) -> str:
    """Harman's "S" stemmer (1991), for Latin words of four letters or more: -ies → -y (not -eies, -aies),
    -es → -e (not -aes, -ees, -oes), -s → "" (not -us, -ss); anything else as it is."""
    if len(token) < 4 or not token.isascii() or not token.endswith("s") or token in _SAME_IN_PLURAL:
        return token
    if token.endswith("ies") and not token.endswith(("eies", "aies")):
        return token[:-3] + "y"
    if token.endswith("es") and not token.endswith(("aes", "ees", "oes")):
        return token[:-1]
    if token.endswith(("us", "ss")):
        return token
    return token[:-1]


def search_title(title: str | None, tags: list[str], authors: list[str]) -> str:
    """The title column of the index: the title's words, then the tags' and the authors'."""
    return index_text("\n".join(filter(None, [title, *tags, *authors])))


def index_text(text: str | None) -> str:
    """The form of a title or body stored in the index (words in match-key form, clitic variants added)."""
    return " ".join(filter(None, map(index_text_of_key, match_keys_by_piece(text)))) if text else ""


def index_text_of_key(key: str) -> str:
    """index_text for text already in match-key form: its words one space apart, each with a clitic form
    followed by its stem; made by substitution, not through a list of every word (a page of megabytes
    would hold millions of word objects at once)."""
    words = _NON_WORD.sub(" ", key).strip()
    return _PLURAL_WORD.sub(_with_singular, _CLITIC_WORD.sub(_with_stem, words))


def _with_stem(match: re.Match[str]) -> str:
    token = match.group(0)
    stem = _stem(token)
    return token if stem == token else f"{token} {stem}"


def _with_singular(match: re.Match[str]) -> str:
    return _singular(match.group(0))


def query_terms(query: str) -> list[str]:
    """The query's words as index terms (a clitic form searches for its article form, which every
    spelling of the word carries in the index)."""
    return list(dict.fromkeys(_stem(token) for token in _WORD.findall(match_key(query))))


@dataclass(frozen=True, slots=True)
class Term:
    key: str  # an index term (match-key form)
    prefix: bool = False  # word*: any term that starts with it
    then: tuple[str, ...] = ()  # "a phrase": the terms that must follow ``key`` right after it, in order

    @property
    def keys(self) -> tuple[str, ...]:
        return (self.key, *self.then)


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    """What a search asks for: every group must match, a group when any of its terms does (OR), and no
    excluded term may."""

    groups: tuple[tuple[Term, ...], ...]
    excluded: tuple[Term, ...] = ()

    @property
    def words(self) -> list[str]:
        """The terms to find (for snippets and for telling an empty query)."""
        return list(dict.fromkeys(key for group in self.groups for term in group for key in term.keys))

    @classmethod
    def all_of(cls, words: list[str]) -> ParsedQuery:
        return cls(tuple((Term(word),) for word in words))


def parse_query(query: str) -> ParsedQuery:
    """The search syntax: words (every one must match), ``"a phrase"`` (its words in that order, next to
    each other), ``a OR b``, ``-word`` or ``-"a phrase"`` (excluded), ``word*`` (prefix). Other punctuation
    is not syntax: it separates words."""
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    join_next = False
    for token in _TOKEN.findall(query):
        if token == "OR":
            join_next = bool(groups)
            continue
        negative = token.startswith("-") and len(token) > 1
        words = _terms(token[1:] if negative else token)
        if negative:
            excluded.extend(term for forms in words for term in forms)
        elif words and join_next:
            groups[-1].extend(term for forms in words for term in forms)
        elif words:
            groups.extend(list(forms) for forms in words)
        join_next = False
    return ParsedQuery(tuple(tuple(dict.fromkeys(group)) for group in groups), tuple(dict.fromkeys(excluded)))


def _terms(token: str) -> list[tuple[Term, ...]]:
    """A token's words, each as the index terms any of which it matches (a plural: its singular, as the
    index holds it, or as written, as rows indexed before the fold hold it); a quoted phrase is one term; a trailing * makes its
    last word a prefix (not stemmed: a prefix of the form the index holds). A clitic form's stem is what
    the index holds last for the word, so a phrase's stems stand next to each other as its words do."""
    if token.startswith('"'):
        words = [_stem(word) for word in _WORD.findall(match_key(token.strip('"')))]
        if not words:
            return []
        folded = [_singular(word) for word in words]
        phrases = dict.fromkeys([Term(folded[0], then=tuple(folded[1:])), Term(words[0], then=tuple(words[1:]))])
        return [tuple(phrases)]
    prefix = token.endswith("*")
    words = _WORD.findall(match_key(token.rstrip("*")))
    if not words:
        return []
    last = [(Term(words[-1], prefix=True),)] if prefix else [_forms(words[-1])]
    return [*(_forms(word) for word in words[:-1]), *last]


def _forms(word: str) -> tuple[Term, ...]:
    stem = _stem(word)
    singular = _singular(stem)
    return (Term(stem),) if singular == stem else (Term(singular), Term(stem))


def match_expression(query: ParsedQuery, column: str | None = None) -> str:
    """An FTS5 MATCH expression (every term quoted: no query text is FTS syntax); ``column``: the groups
    in that column only (exclusions anywhere)."""
    required = " AND ".join(_fts_group(group) for group in query.groups)  # FTS5 has no implicit AND after ")"
    if column:
        required = f"{column} : ({required})"
    return required + "".join(f" NOT {_fts_term(term)}" for term in query.excluded)


def _fts_group(group: tuple[Term, ...]) -> str:
    return _fts_term(group[0]) if len(group) == 1 else "(" + " OR ".join(map(_fts_term, group)) + ")"


def _fts_term(term: Term) -> str:
    return f'"{" ".join(term.keys)}"' + ("*" if term.prefix else "")


def matches(query: ParsedQuery, text: str) -> bool:
    """Whether a text satisfies the query, by the index's own terms (a sink's filter: no database)."""
    tokens = index_text(text).split()
    words = set(tokens)

    def found(term: Term) -> bool:
        if term.prefix:
            return any(word.startswith(term.key) for word in words)
        if not term.then:
            return term.key in words
        size = len(term.keys)
        return any(tuple(tokens[i : i + size]) == term.keys for i, token in enumerate(tokens) if token == term.key)

    return all(any(map(found, group)) for group in query.groups) and not any(map(found, query.excluded))


def tsquery_text(query: ParsedQuery) -> str:
    """The same query for PostgreSQL's to_tsquery('simple', ...): terms are \\w+ words, never syntax."""
    groups = [f"({' | '.join(map(_ts_term, group))})" for group in query.groups]
    return " & ".join(groups + [f"!{_ts_term(term)}" for term in query.excluded])


def _ts_term(term: Term) -> str:
    if term.then:
        return "(" + " <-> ".join(term.keys) + ")"
    return term.key + (":*" if term.prefix else "")


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
    return _stem(token) if token[:1] in _CLITIC_LETTERS else _singular(token)

"""Datasette plugin (loaded with --plugins-dir): the crawler's search rules as SQL functions.

``crawler_match(query)`` turns what a person types into the FTS5 expression `crawler search` uses
(match-key form: hamza, alef maqsura, taa marbuta, harakat, tatweel, Persian letters and clitics do
not matter; every word quoted, so no query text is FTS syntax). The canned query ``search`` uses it.
"""

from __future__ import annotations

import sqlite3

from datasette import hookimpl

from crawler.search import match_expression, parse_query


def crawler_match(query: str | None) -> str:
    parsed = parse_query(query or "")
    return match_expression(parsed) if parsed.groups else '""'


@hookimpl  # type: ignore[untyped-decorator]  # pluggy's marker is untyped
def prepare_connection(conn: sqlite3.Connection) -> None:
    conn.create_function("crawler_match", 1, crawler_match, deterministic=True)

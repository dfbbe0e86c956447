"""Datasette plugin (loaded with --plugins-dir): reading, not SQL. An article page at
``/-/crawler/article/ID`` (crawler.ui.reading: its versions with word-level differences); titles that link
to it, tags as chips and search snippets with the matched words marked, in the articles table and the
canned queries; ``crawler_local(ts)`` and ``crawler_snippet(body, query)`` for those queries. The display
time zone comes from the metadata's ``plugins.crawler_reading.timezone`` (crawler ui sets it)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any
from zoneinfo import ZoneInfo

from datasette import Response, hookimpl
from markupsafe import Markup

from crawler.display import shown
from crawler.search import parse_query, snippet
from crawler.ui.reading import PageArticle, PageVersion, article_page, chips, marked

_LINKED = ("articles", None)  # the table, and the canned queries (no table)
_READER_COLUMNS = "&".join(
    [*(f"_col={column}" for column in ("title", "source_id", "published", "section", "tags")), "_sort_desc=first_seen"]
)


def _zone(datasette: Any) -> ZoneInfo:
    config = datasette.plugin_config("crawler_reading") or {}
    return ZoneInfo(config.get("timezone") or "UTC")


@hookimpl  # type: ignore[untyped-decorator]  # pluggy's marker is untyped
def prepare_connection(conn: sqlite3.Connection, datasette: Any) -> None:
    zone = _zone(datasette)
    conn.create_function("crawler_local", 1, lambda ts: shown(ts, zone), deterministic=True)
    conn.create_function("crawler_snippet", 2, lambda body, query: snippet(body or "", parse_query(query or "").words))


@hookimpl  # type: ignore[untyped-decorator]
def render_cell(row: Any, value: Any, column: str, table: str | None, database: str, datasette: Any) -> Markup | None:
    if table not in _LINKED:
        return None
    if column == "title" and value and "id" in row.keys():
        return Markup(f'<a href="/-/crawler/article/{int(row["id"])}" dir="auto">{Markup.escape(value)}</a>')
    if column in ("published", "first_seen") and table == "articles" and isinstance(value, str):
        return Markup(f'<span title="{Markup.escape(value)}">{Markup.escape(shown(value, _zone(datasette)))}</span>')
    if column == "tags" and isinstance(value, str):
        return Markup(chips(value))
    if column == "matched" and isinstance(value, str):
        return Markup(marked(value))
    return None


@hookimpl  # type: ignore[untyped-decorator]
def asgi_wrapper(datasette: Any) -> Any:
    """The articles table opens with a reader's columns (title, source, published, section, tags), newest
    first; any query string (``?_sort=id``, a filter, a facet) shows it as asked, every column included."""

    def wrap(app: Any) -> Any:
        async def reader_columns_first(scope: dict[str, Any], receive: Any, send: Any) -> None:
            path = scope.get("path", "") if scope.get("type") == "http" else ""
            parts = path.strip("/").split("/")
            if (scope.get("method") == "GET" and not scope.get("query_string") and len(parts) == 2
                    and parts[1] == "articles" and parts[0] in datasette.databases):  # fmt: skip
                location = f"/{parts[0]}/articles?{_READER_COLUMNS}".encode()
                await send({"type": "http.response.start", "status": 302, "headers": [(b"location", location)]})
                await send({"type": "http.response.body", "body": b""})
                return
            await app(scope, receive, send)

        return reader_columns_first

    return wrap


@hookimpl  # type: ignore[untyped-decorator]
def register_routes() -> list[tuple[str, Any]]:
    return [(r"^/-/crawler/article/(?P<article_id>\d+)$", _article)]


async def _article(request: Any, datasette: Any) -> Response:
    database = datasette.get_database()
    article_id = int(request.url_vars["article_id"])
    found = await database.execute(
        "SELECT id, source_id, canonical_url, title, published, section, tags, authors, first_seen FROM articles"
        " WHERE id = ?", [article_id],
    )  # fmt: skip
    row = found.first()
    if row is None:
        return Response.html(f"<p>No article {article_id}.</p>", status=404)
    versions = await database.execute(
        "SELECT version, fetched_at, changed, title, body FROM article_versions WHERE article_id = ? ORDER BY version",
        [article_id],
    )
    article = PageArticle(
        id=row["id"], source_id=row["source_id"], canonical_url=row["canonical_url"], title=row["title"],
        published=row["published"], section=row["section"], tags=json.loads(row["tags"] or "[]"),
        authors=json.loads(row["authors"] or "[]"), first_seen=row["first_seen"],
        versions=[PageVersion(v["version"], v["fetched_at"], json.loads(v["changed"] or "[]"), v["title"],
                              v["body"] or "") for v in versions.rows],
    )  # fmt: skip
    return Response.html(article_page(article, _zone(datasette), database.name))

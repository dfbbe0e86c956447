"""The SQLite backend's synchronous operations, one class made of its domain parts."""

from __future__ import annotations

from crawler.store.sqlite.articles import ArticlesMixin
from crawler.store.sqlite.sources import SourcesMixin
from crawler.store.sqlite.views import ViewsMixin

__all__ = ["SyncSqlite"]


class SyncSqlite(ArticlesMixin, SourcesMixin, ViewsMixin):
    """Every database operation, synchronous; only ever called on the store thread (or, reading, by a
    tool that owns the connection)."""

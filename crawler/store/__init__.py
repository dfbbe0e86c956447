"""Store stage: the database behind one interface (``Store``, protocol.py), typed values across it
(values.py), and ``open_store``, which picks the backend from the configured ``database``.

Backends: SQLite (store/sqlite/, the embedded default: a path or ``sqlite:///path``) and PostgreSQL
(store/postgres/: ``postgresql://...``, the ``cluster`` extra). The backend is imported when a store is
opened, so the decisions (crawler.decide) and the values import no database.
"""

from __future__ import annotations

from pathlib import Path

from crawler.config import database_location
from crawler.errors import StoreError
from crawler.store.protocol import Store

__all__ = ["Store", "open_store"]


async def open_store(database: Path | str, *, read_only: bool = False, live: bool = False) -> Store:
    """The store the configured ``database`` names, open: created and migrated unless ``read_only`` (an
    existing database, never written; ``live`` keeps watching a writer's changes)."""
    try:
        location = database_location(database)
    except ValueError as exc:
        raise StoreError(f"database {database}: {exc}") from None
    if isinstance(location, str):
        try:
            from crawler.store.postgres import PostgresStore
        except ImportError as exc:
            raise StoreError(
                f"a PostgreSQL database needs the cluster extra: pip install 'crawler[cluster]' ({exc})"
            ) from None
        return await PostgresStore.open(location, read_only=read_only)
    from crawler.store.sqlite import SqliteStore

    return await SqliteStore.open(location, read_only=read_only, live=live)

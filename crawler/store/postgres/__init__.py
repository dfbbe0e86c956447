"""The PostgreSQL backend (many machines on one database): psycopg 3 with an async connection pool, the
SQLite backend's tables and guarantees, the same decisions (crawler.decide).

``database = "postgresql://user@host/db"``: the password comes from the environment (PGPASSWORD, or a
~/.pgpass file) rather than the config, and never appears in a message (``config.redacted_database``). Needs the
``cluster`` extra (``pip install 'crawler[cluster]'``).
"""

from __future__ import annotations

from psycopg import AsyncConnection, errors
from psycopg.conninfo import make_conninfo
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from crawler.config import redacted_database
from crawler.errors import StoreError
from crawler.store.postgres.articles import ArticlesMixin
from crawler.store.postgres.schema import apply_migrations, pending_migrations
from crawler.store.postgres.sources import SourcesMixin
from crawler.store.postgres.views import ViewsMixin

__all__ = ["PostgresStore"]


class PostgresStore(ArticlesMixin, SourcesMixin, ViewsMixin):
    """The Store protocol over PostgreSQL; every call is one transaction on a pooled connection."""

    @classmethod
    async def open(cls, dsn: str, *, read_only: bool = False, pool_size: int = 8) -> PostgresStore:
        """Connect (and migrate, unless ``read_only``); StoreError naming the database (without its
        password) when it cannot be reached or is from an older version and read-only."""
        label = redacted_database(dsn)
        options = {"application_name": "crawler"}
        if read_only:  # the server refuses every write of these connections, not only our own code
            options["options"] = "-c default_transaction_read_only=on"
        conninfo = make_conninfo(dsn, **options)
        pool = AsyncConnectionPool(conninfo, min_size=1, max_size=pool_size, open=False, timeout=30)
        try:
            # one plain connection first: a refused or misnamed server is one clear error at once, where
            # the pool would retry it for its whole timeout
            probe = await AsyncConnection.connect(make_conninfo(conninfo, connect_timeout=10))
            await probe.close()
            await pool.open(wait=True, timeout=30)
            async with pool.connection() as conn:
                if read_only:
                    pending = await pending_migrations(conn)
                    if pending:
                        raise StoreError(f"{label}: the database needs migrating (start the daemon or run "
                                         f"`crawler crawl` once): {', '.join(pending)}")  # fmt: skip
                else:
                    await apply_migrations(conn)
        except (errors.Error, PoolTimeout, OSError) as exc:
            await pool.close()
            raise StoreError(f"cannot open database {label}: {exc}") from None
        except StoreError:
            await pool.close()
            raise
        return cls(pool, label, read_only)

    async def close(self) -> None:
        await self._pool.close()

    async def ping(self) -> None:
        async with self._transaction(writes=False) as conn:
            await conn.execute("SELECT 1")

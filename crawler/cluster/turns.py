"""Per-host politeness shared by every worker through PostgreSQL: each request to a host takes the host's
next turn in one UPDATE, so requests from any number of processes and machines start at least the host's
delay apart (by the database's clock), and a Retry-After pause one worker hears holds them all.

``reserve`` answers how long to wait before starting; the fetcher sleeps that long, then ``start`` confirms
the start (or says how much longer to wait, when another worker's turn started late). The host's delay
itself (per_host_delay, raised to its robots.txt Crawl-delay, plus the back-off while it answers 429/503)
is decided by the fetcher that asks, so a host slowed by one worker is slowed for everyone's next turn.
"""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool

__all__ = ["SharedTurns"]

_RESERVE = """
INSERT INTO host_turns AS t (host, next_start) VALUES (%(host)s, clock_timestamp() + make_interval(secs => %(gap)s))
ON CONFLICT (host) DO UPDATE SET next_start =
    greatest(t.next_start, clock_timestamp(), coalesce(t.blocked_until, '-infinity')) + make_interval(secs => %(gap)s)
RETURNING extract(epoch FROM next_start - make_interval(secs => %(gap)s) - clock_timestamp())
"""
# The turn's start, confirmed when it happens: a worker that woke late (a busy event loop, a loaded
# machine) would otherwise start closer than the delay to the next worker's on-time turn. The start is
# taken only at least ``gap`` after the last one; later turns are pushed behind a late one.
_START = """
UPDATE host_turns AS t SET last_start = clock_timestamp(),
    next_start = greatest(t.next_start, clock_timestamp() + make_interval(secs => %(gap)s))
WHERE host = %(host)s
    AND (last_start IS NULL OR last_start <= clock_timestamp() - make_interval(secs => %(gap)s))
RETURNING 0.0
"""
_UNTIL_FREE = """
SELECT extract(epoch FROM last_start + make_interval(secs => %(gap)s) - clock_timestamp()) FROM host_turns
WHERE host = %(host)s
"""
_PAUSE = """
INSERT INTO host_turns AS t (host, next_start, blocked_until)
VALUES (%(host)s, clock_timestamp(), clock_timestamp() + make_interval(secs => %(seconds)s))
ON CONFLICT (host) DO UPDATE SET blocked_until =
    greatest(coalesce(t.blocked_until, '-infinity'), clock_timestamp() + make_interval(secs => %(seconds)s))
"""


class SharedTurns:
    """Per-host turns in the ``host_turns`` table (created by the PostgreSQL store's migrations)."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    @classmethod
    async def open(cls, dsn: str) -> SharedTurns:
        pool = AsyncConnectionPool(dsn, min_size=1, max_size=4, open=False, kwargs={"autocommit": True})
        await pool.open(wait=True, timeout=30)
        return cls(pool)

    async def reserve(self, host: str, gap: float) -> float:
        """Take the host's next turn, ``gap`` seconds after the one before (and after any pause); the
        seconds to wait before it starts (0 or more)."""
        async with self._pool.connection() as conn:
            row = await (await conn.execute(_RESERVE, {"host": host, "gap": gap})).fetchone()
        return max(0.0, float(row[0])) if row else 0.0

    async def start(self, host: str, gap: float) -> float:
        """Start a request to the host now if the last start was at least ``gap`` seconds ago (0.0: started);
        else the seconds until it may, to wait and ask again."""
        async with self._pool.connection() as conn:
            if await (await conn.execute(_START, {"host": host, "gap": gap})).fetchone():
                return 0.0
            row = await (await conn.execute(_UNTIL_FREE, {"host": host, "gap": gap})).fetchone()
        return max(0.001, float(row[0])) if row and row[0] is not None else 0.0

    async def pause(self, host: str, seconds: float) -> None:
        """No turn of the host starts within ``seconds`` from now (a Retry-After)."""
        async with self._pool.connection() as conn:
            await conn.execute(_PAUSE, {"host": host, "seconds": seconds})

    async def aclose(self) -> None:
        await self._pool.close()

"""The connection pool's pass (crawler/pool.py) on pools in every state that matters: connections closed,
expired, idle or busy, to one origin or another, some already handed to a request, a full pool, more
requests than connections. It drops and closes what upstream httpcore's pass drops and closes, and hands
each idle connection to one request only. The connections are stand-ins with fixed states (httpcore's
interface, not our code); the pools, requests and the connections they create are httpcore's own. Then a
real keep-alive server: many requests through a small pool all succeed, two passes a request."""

from __future__ import annotations

import asyncio
import random
import ssl
from collections.abc import Iterator
from dataclasses import dataclass

import httpcore
import httpx
from httpcore._async.connection_pool import AsyncPoolRequest

from crawler.addresses import guarded_transport
from crawler.demo.site import NewsSite
from crawler.pool import LinearPool

# One TLS context for every pool made here: a pool builds its own otherwise (loading the CA bundle, ~9 ms),
# and thousands of pools spent most of this file's time on contexts no connection uses.
TLS = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ORIGINS = ["http://a.example", "http://b.example", "https://a.example"]
STATES = ["closed", "expired", "idle", "idle", "busy", "busy"]


@dataclass(eq=False)
class _Connection(httpcore.AsyncConnectionInterface):
    """A pooled HTTP/1.1 connection frozen in one state ("expired": idle past its keep-alive)."""

    origin: httpcore.Origin
    state: str

    def can_handle_request(self, origin: httpcore.Origin) -> bool:
        return origin == self.origin

    def is_available(self) -> bool:
        return self.state in ("idle", "expired")

    def has_expired(self) -> bool:
        return self.state == "expired"

    def is_idle(self) -> bool:
        return self.state in ("idle", "expired")

    def is_closed(self) -> bool:
        return self.state == "closed"


@dataclass
class _Pool:
    connections: list[_Connection]
    holders: list[tuple[str, int]]  # requests already handed a connection: (url, index of the connection)
    queued: list[str]  # urls of requests waiting for one
    max_connections: int
    keepalive: int


def _origin(url: str) -> httpcore.Origin:
    return httpcore.URL(url + "/").origin


def _request(url: str, connection: _Connection | None = None) -> AsyncPoolRequest:
    request = AsyncPoolRequest(httpcore.Request("GET", url + "/"))
    if connection is not None:
        request.assign_to_connection(connection)
    return request


def _random_pools(count: int, holders: bool) -> Iterator[_Pool]:
    rng = random.Random(20261129)
    for _ in range(count):
        connections = [_Connection(_origin(rng.choice(ORIGINS)), rng.choice(STATES)) for _ in range(rng.randint(0, 12))]
        usable = [i for i, c in enumerate(connections) if c.state != "closed"]
        held = rng.sample(usable, rng.randint(0, len(usable))) if holders and usable else []
        max_connections = rng.randint(1, 14)
        yield _Pool(connections, [(str(connections[i].origin), i) for i in held],
                    [rng.choice(ORIGINS) for _ in range(rng.randint(0, 10))], max_connections,
                    rng.randint(0, max_connections))  # fmt: skip


def _run_pass(
    pool: httpcore.AsyncConnectionPool, state: _Pool
) -> tuple[list[object], list[object], list[AsyncPoolRequest]]:
    """(closed, kept) connections by index (new ones as their origin), and the queued requests."""
    pool._connections = list(state.connections)
    queued = [_request(url) for url in state.queued]
    pool._requests = [_request(url, state.connections[i]) for url, i in state.holders] + queued
    closing = pool._assign_requests_to_connections()

    def name(connection: object) -> object:
        return state.connections.index(connection) if isinstance(connection, _Connection) else "new"

    return [name(c) for c in closing], [name(c) for c in pool._connections], queued


def _in_a_loop(check: object) -> None:
    """httpcore makes its connections' locks inside an event loop."""

    async def run() -> None:
        check()  # type: ignore[operator]

    asyncio.run(run())


def test_with_nothing_queued_the_pass_drops_and_closes_as_upstream() -> None:
    def check() -> None:
        for state in _random_pools(2000, holders=False):
            state.queued = []
            upstream = httpcore.AsyncConnectionPool(ssl_context=TLS, max_connections=state.max_connections,
                                                    max_keepalive_connections=state.keepalive)  # fmt: skip
            linear = LinearPool(ssl_context=TLS, max_connections=state.max_connections,
                                max_keepalive_connections=state.keepalive)  # fmt: skip
            assert _run_pass(linear, state)[:2] == _run_pass(upstream, state)[:2], state

    _in_a_loop(check)


def test_each_idle_connection_goes_to_one_request_and_a_request_waits_only_for_a_full_pool() -> None:
    def check() -> None:
        for state in _random_pools(3000, holders=True):
            pool = LinearPool(ssl_context=TLS, max_connections=state.max_connections,
                              max_keepalive_connections=state.keepalive)  # fmt: skip
            closing, kept, queued = _run_pass(pool, state)
            held = {i for _, i in state.holders}
            assert not held & {i for i in closing if state.connections[i].state != "expired"}, state  # kept for them
            assert len(kept) <= max(state.max_connections, len(state.connections)), state
            holders = [id(state.connections[i]) for _, i in state.holders]
            given = [id(request.connection) for request in queued if request.connection is not None]
            assert len(set(holders + given)) == len(holders) + len(given), state  # one request per connection
            assert not {id(state.connections[i]) for i in closing if i != "new"} & set(given), state  # none closed
            for request in queued:
                connection = request.connection
                if isinstance(connection, _Connection):  # an existing one: free, alive, to its origin
                    assert connection.state == "idle" and connection.can_handle_request(request.request.url.origin)
                elif connection is None:  # waiting: the pool is full and has no free idle connection
                    free_idle = [c for c in pool._connections if isinstance(c, _Connection) and c.is_idle()
                                 and id(c) not in holders + given]  # fmt: skip
                    assert len(pool._connections) >= state.max_connections and not free_idle, state

    _in_a_loop(check)


def test_a_full_pool_replaces_a_free_idle_connection_to_another_origin() -> None:
    idle_b = _Connection(_origin("http://b.example"), "idle")
    held_b = _Connection(_origin("http://b.example"), "idle")
    busy_a = _Connection(_origin("http://a.example"), "busy")
    state = _Pool([held_b, idle_b, busy_a], [("http://b.example", 0)], ["http://a.example"], 3, 3)
    result: list[object] = []
    _in_a_loop(
        lambda: result.extend(
            _run_pass(LinearPool(ssl_context=TLS, max_connections=3, max_keepalive_connections=3), state)
        )
    )
    closing, kept, (request,) = result
    assert closing == [1]  # the free idle connection to b makes room; the one handed to a request stays
    assert kept == [0, 2, "new"] and request.connection is not None  # type: ignore[attr-defined]


class _CountingPool(LinearPool):
    passes = 0

    def _assign_requests_to_connections(self) -> list[httpcore.AsyncConnectionInterface]:
        self.passes += 1
        return super()._assign_requests_to_connections()


def test_many_requests_through_a_small_keep_alive_pool_all_succeed_in_two_passes_each(
    news_site: tuple[NewsSite, str],
) -> None:
    """60 requests at once on 3 keep-alive connections to the demo site (HTTP/1.1). Upstream's pass hands
    each freed connection to every waiting request; all but one then fail to start and pass again."""
    _, base = news_site

    async def fetch_all() -> tuple[list[int], int, int]:
        transport = guarded_transport(httpx.Limits(max_connections=3, max_keepalive_connections=3), True)
        pool = _CountingPool(
            max_connections=3, max_keepalive_connections=3, network_backend=transport._pool._network_backend
        )
        transport._pool = pool
        async with httpx.AsyncClient(transport=transport) as client:
            responses = await asyncio.gather(*(client.get(f"{base}/") for _ in range(60)))
            most = len(pool.connections)
        return [response.status_code for response in responses], pool.passes, most

    statuses, passes, connections = asyncio.run(fetch_all())
    assert statuses == [200] * 60
    assert passes == 2 * 60  # one as each request comes, one as it ends: none started on a taken connection
    assert connections <= 3

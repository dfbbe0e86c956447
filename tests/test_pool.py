"""The linear connection-pool pass (crawler/pool.py) makes upstream httpcore's decisions: both passes run on
pools in the same states (connections closed, expired, idle, busy, to one origin or another, a full pool,
more requests than connections) and must drop, close, create and assign alike. The connections are
stand-ins with fixed states (httpcore's interface, not our code); the pools, requests and the connections
they create are httpcore's own. Then a real server: many requests through a small pool all succeed."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

import httpcore
import httpx
from httpcore._async.connection_pool import AsyncPoolRequest
from pytest_httpserver import HTTPServer

from crawler.addresses import guarded_transport
from crawler.pool import LinearPool

ORIGINS = ["http://a.example", "http://b.example", "https://a.example"]


@dataclass(eq=False)
class _Connection(httpcore.AsyncConnectionInterface):
    """A pooled connection frozen in one state."""

    origin: httpcore.Origin
    state: str  # "closed", "expired", "idle", "busy"

    def can_handle_request(self, origin: httpcore.Origin) -> bool:
        return origin == self.origin

    def is_available(self) -> bool:
        return self.state == "idle"

    def has_expired(self) -> bool:
        return self.state == "expired"

    def is_idle(self) -> bool:
        return self.state == "idle"

    def is_closed(self) -> bool:
        return self.state == "closed"


def _origin(url: str) -> httpcore.Origin:
    return httpcore.URL(url + "/").origin


def _run_pass(pool: httpcore.AsyncConnectionPool, connections: list[_Connection], urls: list[str]) -> object:
    """What one pass decides, in terms both pools can be compared on."""
    pool._connections = list(connections)
    requests = [AsyncPoolRequest(httpcore.Request("GET", url + "/")) for url in urls]
    pool._requests = list(requests)
    closing = pool._assign_requests_to_connections()

    def name(connection: object) -> object:
        if isinstance(connection, _Connection):
            return connections.index(connection)
        assert isinstance(connection, httpcore.AsyncHTTPConnection)
        return ("new", str(connection._origin))

    return (
        [name(connection) for connection in closing],
        [name(connection) for connection in pool._connections],
        [None if request.connection is None else name(request.connection) for request in requests],
    )


def _random_state(rng: random.Random) -> tuple[list[_Connection], list[str], int, int]:
    connections = [
        _Connection(_origin(rng.choice(ORIGINS)), rng.choice(["closed", "expired", "idle", "idle", "busy", "busy"]))
        for _ in range(rng.randint(0, 12))
    ]
    urls = [rng.choice(ORIGINS) for _ in range(rng.randint(0, 10))]
    max_connections = rng.randint(1, 14)
    return connections, urls, max_connections, rng.randint(0, max_connections)


def test_linear_pass_decides_as_upstream_on_random_pools() -> None:
    async def compare() -> None:  # connections are created inside an event loop
        rng = random.Random(20261129)
        for _ in range(3000):
            connections, urls, max_connections, keepalive = _random_state(rng)
            upstream = httpcore.AsyncConnectionPool(max_connections=max_connections, max_keepalive_connections=keepalive)
            linear = LinearPool(max_connections=max_connections, max_keepalive_connections=keepalive)
            assert _run_pass(linear, connections, urls) == _run_pass(upstream, connections, urls), (
                [(str(c.origin), c.state) for c in connections], urls, max_connections, keepalive,
            )  # fmt: skip

    asyncio.run(compare())


def test_full_pool_replaces_an_idle_connection_to_another_origin() -> None:
    idle_b = _Connection(_origin("http://b.example"), "idle")
    busy_a = _Connection(_origin("http://a.example"), "busy")

    async def one_pass() -> object:
        return _run_pass(LinearPool(max_connections=2, max_keepalive_connections=2), [idle_b, busy_a], ["http://a.example"])

    closing, kept, assigned = asyncio.run(one_pass())  # type: ignore[misc]
    assert closing == [0]  # the idle connection to b makes room
    assert kept == [1, ("new", "http://a.example:80")]
    assert assigned == [("new", "http://a.example:80")]


def test_many_requests_through_a_small_pool_all_succeed(httpserver: HTTPServer) -> None:
    for number in range(60):
        httpserver.expect_request(f"/page/{number}").respond_with_data(f"page {number}")

    async def fetch_all() -> list[str]:
        limits = httpx.Limits(max_connections=3, max_keepalive_connections=2)
        transport = guarded_transport(limits, allow_private_addresses=True)
        async with httpx.AsyncClient(transport=transport) as client:
            responses = await asyncio.gather(*(client.get(httpserver.url_for(f"/page/{n}")) for n in range(60)))
            assert len(transport._pool.connections) <= 3
        return [response.text for response in responses]

    assert asyncio.run(fetch_all()) == [f"page {number}" for number in range(60)]

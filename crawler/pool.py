"""httpcore's connection pool, its bookkeeping pass made linear and one request per idle connection.

Before and after every request httpcore 1.0's pool runs ``_assign_requests_to_connections``: it drops
closed, expired and surplus keep-alive connections, then hands each queued request a connection. Upstream
(encode/httpcore#1035, still open) that pass has two costs we measured on a crawl's fetches (16 requests
in flight on 16-32 connections to one site, in a parse worker):

- it is quadratic: counting keep-alive connections re-lists all of them for each idle one, and every
  queued request re-scans the pool twice (a quarter of an exchange's CPU time at 32 connections);
- it hands one idle connection to every request queued at that moment, and to those queued by later
  passes until the first of them starts on it (httpcore's locks yield to the event loop before the
  connection changes state): all but one then fail with ConnectionNotAvailable, queue again and run
  another pass. 3,000 exchanges made 7,300 such failed starts and 13,300 passes.

Here each list is built once per pass, and an idle connection already handed to a request (assigned, not
yet started on) is not handed to another, nor closed as a surplus keep-alive connection; a request that
finds none free gets a new connection while the pool has room, as upstream. Connections serve one
request at a time: HTTP/1.1 only (the transport is made without http2). httpcore is pinned to 1.0.x in
pyproject.toml (the method is private); tests/test_pool.py checks the pass against upstream's.

The pool also makes its SSL context when the first HTTPS connection opens, not when it is built: loading
the CA certificates takes 15 ms of every process's start, which a run over plain-HTTP sites never needs.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

import httpcore
from httpcore._async.connection_pool import AsyncPoolRequest
from httpcore._async.interfaces import AsyncConnectionInterface

__all__ = ["LinearPool"]


class LinearPool(httpcore.AsyncConnectionPool):
    def __init__(
        self, *args: Any, tls_context: Callable[[], ssl.SSLContext] = ssl.create_default_context, **kwargs: Any
    ) -> None:
        """``tls_context`` makes the SSL context for HTTPS connections as the first one opens, unless
        ``ssl_context`` gives one."""
        super().__init__(*args, **kwargs)
        self._make_tls_context = tls_context

    def create_connection(self, origin: httpcore.Origin) -> AsyncConnectionInterface:
        if origin.scheme == b"https" and self._ssl_context is None:
            self._ssl_context = self._make_tls_context()
        return super().create_connection(origin)

    def _assign_requests_to_connections(self) -> list[AsyncConnectionInterface]:
        taken = {id(request.connection) for request in self._requests if request.connection is not None}
        closing = self._drop_unusable(taken)
        queued = [request for request in self._requests if request.is_queued()]
        if queued:
            closing += self._assign(queued, taken)
        return closing

    def _drop_unusable(self, taken: set[int]) -> list[AsyncConnectionInterface]:
        """Closed connections go; expired ones, and idle ones while the pool is over
        max_keepalive_connections, are closed. (Upstream compares the whole pool's size, not the idle
        count, with the keep-alive limit; kept.) Only an idle connection can have expired."""
        closing: list[AsyncConnectionInterface] = []
        kept: list[AsyncConnectionInterface] = []
        pooled = len(self._connections)  # upstream's len(self._connections) as it shrinks
        for connection in self._connections:
            if connection.is_closed():
                pooled -= 1
            elif connection.is_idle() and (
                connection.has_expired() or (pooled > self._max_keepalive_connections and id(connection) not in taken)
            ):
                pooled -= 1
                closing.append(connection)
            else:
                kept.append(connection)
        self._connections[:] = kept
        return closing

    def _assign(self, queued: list[AsyncPoolRequest], taken: set[int]) -> list[AsyncConnectionInterface]:
        """Each queued request gets a free available connection to its origin, else a new one while the
        pool has room, else a new one in place of a free idle connection (to another origin)."""
        closing: list[AsyncConnectionInterface] = []
        free: dict[tuple[bytes, bytes, int], list[AsyncConnectionInterface]] = {}  # by origin (unhashable)
        idle: list[AsyncConnectionInterface] | None = None
        for pool_request in queued:
            origin = pool_request.request.url.origin
            key = (origin.scheme, origin.host, origin.port)
            if key not in free:
                free[key] = [c for c in self._connections if c.can_handle_request(origin) and c.is_available()]
            candidates = free[key]
            while candidates and id(candidates[0]) in taken:
                candidates.pop(0)
            if candidates:
                connection = candidates.pop(0)
            else:
                if len(self._connections) >= self._max_connections:
                    if idle is None:
                        idle = [c for c in self._connections if c.is_idle()]
                    while idle and id(idle[0]) in taken:
                        idle.pop(0)
                    if not idle:
                        continue  # waits for a connection to come free
                    replaced = idle.pop(0)
                    taken.add(id(replaced))  # closing: no longer free for any origin
                    self._connections.remove(replaced)
                    closing.append(replaced)
                connection = self.create_connection(origin)
                self._connections.append(connection)
            taken.add(id(connection))
            pool_request.assign_to_connection(connection)
        return closing

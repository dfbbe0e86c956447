"""httpcore's connection pool with its bookkeeping pass made linear.

Before and after every request httpcore 1.0's pool runs ``_assign_requests_to_connections``: it drops
closed, expired and surplus keep-alive connections, then hands each queued request a connection. As
written upstream the pass is quadratic: counting keep-alive connections re-lists all of them for each
idle one, and every queued request re-scans the pool twice (encode/httpcore#1035, still open). With the
16-32 connections a worker keeps open to one site that is a quarter of an article fetch's CPU time.

This pass makes the same decisions in the same order, each list built once per pass. httpcore is pinned
to 1.0.x in pyproject.toml (the method is private); tests/test_pool.py checks the decisions against
upstream's own pass on pools in every state that matters.
"""

from __future__ import annotations

import httpcore
from httpcore._async.connection_pool import AsyncPoolRequest
from httpcore._async.interfaces import AsyncConnectionInterface

__all__ = ["LinearPool"]


class LinearPool(httpcore.AsyncConnectionPool):
    def _assign_requests_to_connections(self) -> list[AsyncConnectionInterface]:
        closing = self._drop_unusable()
        queued = [request for request in self._requests if request.is_queued()]
        if queued:
            closing += self._assign(queued)
        return closing

    def _drop_unusable(self) -> list[AsyncConnectionInterface]:
        """Closed connections go, expired ones and idle ones over max_keepalive_connections are closed.
        (Upstream compares the whole pool's size, not the idle count, with the keep-alive limit; kept.)"""
        closing: list[AsyncConnectionInterface] = []
        kept: list[AsyncConnectionInterface] = []
        pooled = len(self._connections)  # upstream's len(self._connections) as it shrinks
        for connection in self._connections:
            if connection.is_closed():
                pooled -= 1
            elif connection.has_expired() or (connection.is_idle() and pooled > self._max_keepalive_connections):
                pooled -= 1
                closing.append(connection)
            else:
                kept.append(connection)
        self._connections[:] = kept
        return closing

    def _assign(self, queued: list[AsyncPoolRequest]) -> list[AsyncConnectionInterface]:
        """Each queued request gets the first available connection to its origin, else a new one while the
        pool has room, else a new one in place of the first idle connection (to another origin)."""
        closing: list[AsyncConnectionInterface] = []
        available: dict[tuple[bytes, bytes, int], list[AsyncConnectionInterface]] = {}  # by origin (unhashable)
        idle: list[AsyncConnectionInterface] | None = None
        for pool_request in queued:
            origin = pool_request.request.url.origin
            key = (origin.scheme, origin.host, origin.port)
            if key not in available:
                available[key] = [c for c in self._connections if c.can_handle_request(origin) and c.is_available()]
            if available[key]:
                pool_request.assign_to_connection(available[key][0])
                continue
            if len(self._connections) >= self._max_connections:
                if idle is None:
                    idle = [connection for connection in self._connections if connection.is_idle()]
                if not idle:
                    continue  # waits for a connection to come free
                replaced = idle.pop(0)
                self._connections.remove(replaced)
                closing.append(replaced)
                for connections in available.values():
                    if replaced in connections:
                        connections.remove(replaced)
            connection = self.create_connection(origin)
            self._connections.append(connection)
            pool_request.assign_to_connection(connection)
            if connection.is_available():  # an HTTP/2 connection-to-be serves the origin's next requests too
                available.pop(key, None)
        return closing

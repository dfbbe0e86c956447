"""The connection layer under httpx (an httpcore network backend): which addresses the fetcher may connect
to, and a cheap liveness check for pooled connections.

Addresses: public ones only, unless allow_private_addresses is set. A host name is resolved once, every
address it resolves to must be public, and the connection goes to one of those checked addresses. A
separate lookup before the request would leave a window for DNS rebinding (a name that answers a public
address to the check and 127.0.0.1 to the connection); here there is one lookup per connection.
Redirect hops and robots.txt open their connections the same way, so they are covered.

Liveness: before every request httpcore's pool asks each idle keep-alive connection whether its socket
is readable (a poll() and a getpeername() each), which at 32 connections was 40 % of the event loop's
time in a crawl. A connection that carried a response less than two seconds ago is taken as alive without
asking; one that was closed all the same fails its request as a reset, which is retried.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import time
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

__all__ = ["NonPublicAddress", "guarded_transport"]


class NonPublicAddress(httpcore.ConnectError):
    """A host name resolved to a loopback, private, link-local or otherwise non-public address."""


_FRESH_SECONDS = 2.0  # a connection used this recently is not polled for liveness


class _Backend(httpcore.AsyncNetworkBackend):
    def __init__(self, allow_private_addresses: bool) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._allow_private = allow_private_addresses

    async def connect_tcp(
        self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:  # fmt: skip
        address = host if self._allow_private else await _public_address(host, port)
        stream = await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
        return _Stream(stream)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise NonPublicAddress(f"refusing to connect to the Unix socket {path}")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _Stream(httpcore.AsyncNetworkStream):
    """A connection that remembers when it last carried data, to skip liveness polls while it is fresh."""

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._used = time.monotonic()

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data = await self._inner.read(max_bytes, timeout)
        self._used = time.monotonic()
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)
        self._used = time.monotonic()

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        return _Stream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable" and time.monotonic() - self._used < _FRESH_SECONDS:
            return False
        return self._inner.get_extra_info(info)


async def _public_address(host: str, port: int) -> str:
    """One lookup; the first address, once all of them are public."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise httpcore.ConnectError(f"cannot resolve {host!r}: {exc}") from exc
    addresses = [str(info[4][0]) for info in infos]
    for address in addresses:
        if not ipaddress.ip_address(address).is_global:
            raise NonPublicAddress(
                f"{host!r} resolves to non-public address {address} (set allow_private_addresses to allow)"
            )
    return addresses[0]


def guarded_transport(limits: httpx.Limits, allow_private_addresses: bool) -> httpx.AsyncHTTPTransport:
    """httpx's own transport, its connection pool connecting through our backend. (httpx has no parameter for
    a network backend, so the pool it built is replaced by an identical one with ours: httpx is pinned
    below 1.0, and tests cover the refusal.)"""
    transport = httpx.AsyncHTTPTransport(limits=limits, trust_env=False)
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=_Backend(allow_private_addresses),
    )
    return transport

"""Which addresses the fetcher may connect to: public ones only, unless allow_private_addresses is set.

The check sits in the connection itself (an httpcore network backend under httpx): a host name is
resolved once, every address it resolves to must be public, and the connection goes to one of those
checked addresses. A separate lookup before the request would leave a window for DNS rebinding (a name
that answers a public address to the check and 127.0.0.1 to the connection); here there is one lookup
per connection. Redirect hops and robots.txt open their connections the same way, so they are covered.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable

import httpcore
import httpx

__all__ = ["NonPublicAddress", "guarded_transport"]


class NonPublicAddress(httpcore.ConnectError):
    """A host name resolved to a loopback, private, link-local or otherwise non-public address."""


class _PublicOnlyBackend(httpcore.AsyncNetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:  # fmt: skip
        address = await _public_address(host, port)
        return await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise NonPublicAddress(f"refusing to connect to the Unix socket {path}")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


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
    """httpx's own transport; unless private addresses are allowed, its connection pool connects through
    the public-only backend. (httpx has no parameter for a network backend, so the pool it built is
    replaced by an identical one with ours: httpx is pinned below 1.0, and tests cover the refusal.)"""
    transport = httpx.AsyncHTTPTransport(limits=limits, trust_env=False)
    if not allow_private_addresses:
        transport._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_PublicOnlyBackend(),
        )
    return transport

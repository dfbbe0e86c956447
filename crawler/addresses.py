"""The connection layer under httpx (an httpcore network backend): which addresses the fetcher may connect
to, over asyncio streams with a cheap liveness check for pooled connections.

Addresses: public ones only, unless allow_private_addresses is set. A host name is resolved once, every
address it resolves to must be public, and the connection goes to one of those checked addresses. A
separate lookup before the request would leave a window for DNS rebinding (a name that answers a public
address to the check and 127.0.0.1 to the connection); here there is one lookup per connection.
Redirect hops and robots.txt open their connections the same way, so they are covered.

Connections are asyncio streams rather than httpcore's default anyio ones: before every request
httpcore's pool asks each idle keep-alive connection whether its socket is readable, which anyio answers
with a poll() and a getpeername() (40 % of the event loop's time in a crawl at 32 connections); the event
loop already buffers what arrives, so the answer is a look at that buffer. Without anyio's cancel scopes
each read and write is also cheaper.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from crawler.pool import LinearPool

__all__ = ["NonPublicAddress", "guarded_transport"]


class NonPublicAddress(httpcore.ConnectError):
    """A host name resolved to a loopback, private, link-local or otherwise non-public address."""


class _Backend(httpcore.AsyncNetworkBackend):
    def __init__(self, allow_private_addresses: bool) -> None:
        self._allow_private = allow_private_addresses

    async def connect_tcp(
        self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:  # fmt: skip
        address = host if self._allow_private else await _public_address(host, port)
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    address, port, local_addr=(local_address, 0) if local_address else None
                )
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"connecting to {host}:{port} took over {timeout} s") from exc
        except OSError as exc:
            raise httpcore.ConnectError(_reason(exc)) from exc
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as anyio does: requests go out whole
        for option in socket_options or ():
            sock.setsockopt(*option)
        return _Stream(reader, writer)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise NonPublicAddress(f"refusing to connect to the Unix socket {path}")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class _Stream(httpcore.AsyncNetworkStream):
    """A connection as asyncio streams. The event loop already watches the socket and buffers what comes,
    so "is it readable?" (httpcore asks it of every idle connection before each request) is a look at the
    buffer instead of a poll() system call."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            async with asyncio.timeout(timeout):
                return await self._reader.read(max_bytes)
        except TimeoutError as exc:
            raise httpcore.ReadTimeout(f"no data for {timeout} s") from exc
        except OSError as exc:
            raise httpcore.ReadError(_reason(exc)) from exc

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        try:
            async with asyncio.timeout(timeout):
                self._writer.write(buffer)
                await self._writer.drain()
        except TimeoutError as exc:
            raise httpcore.WriteTimeout(f"could not send for {timeout} s") from exc
        except OSError as exc:
            raise httpcore.WriteError(_reason(exc)) from exc

    async def aclose(self) -> None:
        self._writer.close()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        try:
            await self._writer.start_tls(ssl_context, server_hostname=server_hostname, ssl_handshake_timeout=timeout)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"TLS handshake took over {timeout} s") from exc
        except (OSError, ssl.SSLError) as exc:
            raise httpcore.ConnectError(_reason(exc)) from exc
        return self

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":  # data or EOF waiting on an idle connection: the server closed it
            return self._reader.at_eof() or bool(getattr(self._reader, "_buffer", b""))
        if info == "client_addr":
            return self._writer.get_extra_info("sockname")
        if info == "server_addr":
            return self._writer.get_extra_info("peername")
        if info == "socket":
            return self._writer.get_extra_info("socket")
        if info == "ssl_object":
            return self._writer.get_extra_info("ssl_object")
        return None


def _reason(exc: BaseException) -> str:
    """What went wrong with a connection, in words (the errno text of a reset says little)."""
    if isinstance(exc, ConnectionResetError | BrokenPipeError):
        return "the connection was reset or closed by the server"
    return str(exc) or type(exc).__name__


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


def guarded_transport(
    limits: httpx.Limits, allow_private_addresses: bool, ssl_context: ssl.SSLContext | None = None
) -> httpx.AsyncHTTPTransport:
    """httpx's own transport, its connection pool connecting through our backend. (httpx has no parameter for
    a network backend, so the pool it built is replaced by an identical one with ours: httpx is pinned
    below 1.0, and tests cover the refusal.) ``ssl_context`` replaces the default one (certifi's CAs): tests
    pass one that trusts their own CA. The default is made when the first HTTPS connection opens: loading
    the CAs takes 15 ms of every process's start, which a run over plain-HTTP sites never needs."""
    # The transport's own pool is replaced below, unused: its context trusts nothing and loads nothing.
    transport = httpx.AsyncHTTPTransport(verify=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), limits=limits, trust_env=False)
    transport._pool = LinearPool(
        ssl_context=ssl_context,
        tls_context=lambda: httpx.create_ssl_context(trust_env=False),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=_Backend(allow_private_addresses),
    )
    return transport

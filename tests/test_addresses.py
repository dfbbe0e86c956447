"""The connection layer under httpx (crawler/addresses.py): HTTPS through our asyncio-stream backend,
keep-alive reuse and a server that closes idle connections. A real TLS server on 127.0.0.1 with a
certificate from a throwaway CA (trustme)."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator

import httpx
import pytest
import trustme
from pytest_httpserver import HTTPServer

from crawler.addresses import guarded_transport

LIMITS = httpx.Limits(max_connections=4, max_keepalive_connections=4, keepalive_expiry=30)


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_server(ca: trustme.CA) -> Iterator[HTTPServer]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.start()
    yield server
    server.clear()
    server.stop()


def _client_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


def test_https_through_our_backend_checks_the_certificate(tls_server: HTTPServer, ca: trustme.CA) -> None:
    tls_server.expect_request("/a").respond_with_data("first")
    url = f"https://127.0.0.1:{tls_server.port}/a"

    async def run() -> tuple[str, str]:
        async with httpx.AsyncClient(transport=guarded_transport(LIMITS, True, _client_context(ca))) as trusted:
            response = await trusted.get(url)
            version = response.extensions["network_stream"].get_extra_info("ssl_object").version()
        async with httpx.AsyncClient(transport=guarded_transport(LIMITS, True)) as untrusted:  # certifi's CAs
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await untrusted.get(url)
        return response.text, version

    body, version = asyncio.run(run())
    assert body == "first" and version.startswith("TLS")


def test_keep_alive_connections_are_reused_until_the_server_closes_them() -> None:
    """Two requests share one connection; once the server has closed it while idle, the next request
    notices (the EOF is in the loop's buffer) and opens a new one instead of failing."""

    async def run() -> tuple[list[str], int, int]:
        connections: list[asyncio.StreamWriter] = []

        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            connections.append(writer)
            try:
                while await reader.readuntil(b"\r\n\r\n"):
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                    await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError):
                writer.close()

        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
        async with server, httpx.AsyncClient(transport=guarded_transport(LIMITS, True)) as client:
            bodies = [(await client.get(url)).text, (await client.get(url)).text]
            reused = len(connections)
            connections[0].close()  # the server drops the idle keep-alive connection
            await asyncio.sleep(0.1)
            bodies.append((await client.get(url)).text)
        for writer in connections:  # the server's ends (closing the server does not close them)
            writer.close()
        return bodies, reused, len(connections)

    bodies, after_two, after_three = asyncio.run(run())
    assert bodies == ["ok", "ok", "ok"]
    assert after_two == 1 and after_three == 2

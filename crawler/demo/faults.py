"""A news site that misbehaves on purpose: the fault-injection server of the tests and the soak benchmark.

FaultySite is the demo NewsSite plus a table path → fault; ``heal()`` clears it. Each fault is something
real sites do on a bad day (FAULTS says what). It is served on 127.0.0.1 only; a slow fault lasts
``slow_seconds`` at most and a big one stops when the client goes away, so every run stays bounded.
It also counts the requests and body bytes it served per path, which is how tests see retries and caps.
"""

from __future__ import annotations

import socket
import struct
import threading
import zlib
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from crawler.demo.site import NewsSite, handler_class, serve

__all__ = ["FAULTS", "FaultySite", "serve_faulty"]

FAULTS: dict[str, str] = {
    "http-500": "500 Internal Server Error",
    "http-502": "502 Bad Gateway",
    "http-503": "503 Service Unavailable",
    "http-429": "429 Too Many Requests, without Retry-After",
    "http-429-retry-after": "429 Too Many Requests with Retry-After: 1",
    "http-403": "403 Forbidden",
    "slow-headers": "no answer for slow_seconds, then the page",
    "trickle": "the headers at once, then the body one byte every 50 ms for slow_seconds",
    "reset": "the connection reset (TCP RST) once the request is read",
    "truncated": "Content-Length promises more than is sent before the connection closes",
    "bad-gzip": "Content-Encoding: gzip over bytes that are not gzip",
    "gzip-bomb": "64 MB of zeros gzipped into about 64 KB",
    "redirect-loop": "two URLs redirecting to each other",
    "redirect-chain": "30 redirects, each to a new URL, then the page",
    "huge-body": "a 50 MB page without Content-Length",
    "wrong-content-type": "the article labelled application/octet-stream",
    "binary": "a JPEG image where the article should be",
    "invalid-utf8": "the article, declared UTF-8, with invalid bytes in two paragraphs",
    "empty": "200 with an empty body",
    "not-article": "200 with a cookie-consent page instead of the article",
    "malformed-xml": "the page (a feed) cut off in the middle",
}

_HUGE_BYTES = 50 * 1024 * 1024
_BOMB_BYTES = 64 * 1024 * 1024
_CHAIN_HOPS = 30
_CONSENT_PAGE = (
    b"<!doctype html><html><head><title>Cookies</title></head><body><div class='consent'>"
    b"<p>We use cookies.</p><button>Accept</button></div></body></html>"
)


class FaultySite(NewsSite):
    """The demo site with faults on chosen paths (``break_path``), until ``heal()``."""

    def __init__(self, articles: int = 12, *, slow_seconds: float = 3.0, **kwargs: Any) -> None:
        super().__init__(articles, **kwargs)
        self.slow_seconds = slow_seconds
        self._faults: dict[str, str] = {}
        self._requests: Counter[str] = Counter()
        self._sent: Counter[str] = Counter()
        self._gzip_bomb: bytes | None = None
        self.closing = threading.Event()  # set it to cut slow faults short (at shutdown)

    def break_path(self, path: str, fault: str) -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; known: {', '.join(FAULTS)}")
        with self._lock:
            self._faults[path] = fault

    def heal(self) -> None:
        with self._lock:
            self._faults.clear()

    def fault_for(self, path: str) -> str | None:
        with self._lock:
            return self._faults.get(path)

    def requests(self, path: str) -> int:
        """Requests served for path (any query string)."""
        with self._lock:
            return self._requests[path]

    def sent_bytes(self, path: str) -> int:
        """Body bytes written for path by the big faults before the client hung up."""
        with self._lock:
            return self._sent[path]

    def count_request(self, path: str) -> None:
        with self._lock:
            self._requests[path] += 1

    def count_sent(self, path: str, size: int) -> None:
        with self._lock:
            self._sent[path] += size

    def gzip_bomb(self) -> bytes:
        with self._lock:
            if self._gzip_bomb is None:
                packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: a gzip stream
                zeros = bytes(1024 * 1024)
                chunks = [packer.compress(zeros) for _ in range(_BOMB_BYTES // len(zeros))]
                self._gzip_bomb = b"".join(chunks) + packer.flush()
            return self._gzip_bomb


def serve_faulty(site: FaultySite, port: int = 0) -> tuple[ThreadingHTTPServer, threading.Thread]:
    """Serve site on 127.0.0.1:port (0 = a free port); ``site.closing.set()`` then ``server.shutdown()``."""
    return serve(site, port, handler=faulty_handler_class(site))


def faulty_handler_class(site: FaultySite) -> type[BaseHTTPRequestHandler]:
    base: Any = handler_class(site)

    class FaultyHandler(base):  # type: ignore[misc]
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            path = urlsplit(self.path).path
            site.count_request(path)
            fault = site.fault_for(path)
            if fault is None:
                super().do_GET()
                return
            try:
                _RESPONDERS[fault](self, site, path)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client hung up, as it should on a cap or a timeout

    return FaultyHandler


# --- the faults ----------------------------------------------------------------------------------------------

Responder = Callable[[Any, FaultySite, str], None]


def _real_page(handler: Any, site: FaultySite, path: str) -> tuple[int, str, bytes]:
    status, content_type, text = site.page(path)
    return status, content_type, text.replace("http://SITE", f"http://{handler.headers.get('Host')}").encode()


def _send(handler: Any, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
    handler.send_response(status)
    for name, value in {"Content-Type": "text/html; charset=utf-8", **(headers or {})}.items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def _status(status: int, headers: dict[str, str] | None = None) -> Responder:
    def respond(handler: Any, site: FaultySite, path: str) -> None:
        _send(handler, status, f"<html><body><h1>{status}</h1></body></html>".encode(), headers)

    return respond


def _slow_headers(handler: Any, site: FaultySite, path: str) -> None:
    site.closing.wait(site.slow_seconds)
    status, content_type, body = _real_page(handler, site, path)
    _send(handler, status, body, {"Content-Type": content_type})


def _send_headers(handler: Any, status: int, content_type: str, length: int) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(length))
    handler.end_headers()


def _trickle(handler: Any, site: FaultySite, path: str) -> None:
    status, content_type, body = _real_page(handler, site, path)
    _send_headers(handler, status, content_type, len(body))
    sent = 0
    for _ in range(int(site.slow_seconds / 0.05)):
        if site.closing.wait(0.05) or sent >= len(body):
            break
        handler.wfile.write(body[sent : sent + 1])
        sent += 1
    handler.wfile.write(body[sent:])


def _reset(handler: Any, site: FaultySite, path: str) -> None:
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.connection.close()  # with SO_LINGER 0, close() sends RST
    handler.close_connection = True


def _truncated(handler: Any, site: FaultySite, path: str) -> None:
    status, content_type, body = _real_page(handler, site, path)
    _send_headers(handler, status, content_type, len(body))  # the length of the whole page, then half of it
    handler.wfile.write(body[: len(body) // 2])
    handler.close_connection = True


def _bad_gzip(handler: Any, site: FaultySite, path: str) -> None:
    _send(handler, 200, b"this is not gzip at all " * 40, {"Content-Encoding": "gzip"})


def _gzip_bomb(handler: Any, site: FaultySite, path: str) -> None:
    bomb = site.gzip_bomb()
    _send(handler, 200, bomb, {"Content-Encoding": "gzip"})
    site.count_sent(path, len(bomb))


def _redirect_loop(handler: Any, site: FaultySite, path: str) -> None:
    looped = "loop" in parse_qs(urlsplit(handler.path).query)
    _send(handler, 302, b"", {"Location": path if looped else f"{path}?loop=1"})


def _redirect_chain(handler: Any, site: FaultySite, path: str) -> None:
    hop = int(parse_qs(urlsplit(handler.path).query).get("hop", ["0"])[0])
    if hop < _CHAIN_HOPS:
        _send(handler, 302, b"", {"Location": f"{path}?hop={hop + 1}"})
        return
    status, content_type, body = _real_page(handler, site, path)
    _send(handler, status, body, {"Content-Type": content_type})


def _huge_body(handler: Any, site: FaultySite, path: str) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html; charset=utf-8")
    handler.send_header("Connection", "close")  # no Content-Length: the body ends when the connection does
    handler.end_headers()
    handler.close_connection = True
    chunk = b"<p>" + "خبر طويل جدا ".encode() * 4000 + b"</p>\n"
    for _ in range(_HUGE_BYTES // len(chunk)):
        if site.closing.is_set():
            return
        handler.wfile.write(chunk)
        site.count_sent(path, len(chunk))


def _relabelled(content_type: str) -> Responder:
    def respond(handler: Any, site: FaultySite, path: str) -> None:
        status, _, body = _real_page(handler, site, path)
        _send(handler, status, body, {"Content-Type": content_type})

    return respond


def _binary(handler: Any, site: FaultySite, path: str) -> None:
    _send(handler, 200, b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 16, {"Content-Type": "image/jpeg"})


def _invalid_utf8(handler: Any, site: FaultySite, path: str) -> None:
    status, content_type, body = _real_page(handler, site, path)
    _send(handler, status, body.replace(b"</p>", b"\xc3\x28\xff</p>", 2), {"Content-Type": content_type})


def _empty(handler: Any, site: FaultySite, path: str) -> None:
    _send(handler, 200, b"")


def _not_article(handler: Any, site: FaultySite, path: str) -> None:
    _send(handler, 200, _CONSENT_PAGE)


def _malformed_xml(handler: Any, site: FaultySite, path: str) -> None:
    status, content_type, body = _real_page(handler, site, path)
    _send(handler, status, body[: len(body) // 2], {"Content-Type": content_type})


_RESPONDERS: dict[str, Responder] = {
    "http-500": _status(500),
    "http-502": _status(502),
    "http-503": _status(503),
    "http-429": _status(429),
    "http-429-retry-after": _status(429, {"Retry-After": "1"}),
    "http-403": _status(403),
    "slow-headers": _slow_headers,
    "trickle": _trickle,
    "reset": _reset,
    "truncated": _truncated,
    "bad-gzip": _bad_gzip,
    "gzip-bomb": _gzip_bomb,
    "redirect-loop": _redirect_loop,
    "redirect-chain": _redirect_chain,
    "huge-body": _huge_body,
    "wrong-content-type": _relabelled("application/octet-stream"),
    "binary": _binary,
    "invalid-utf8": _invalid_utf8,
    "empty": _empty,
    "not-article": _not_article,
    "malformed-xml": _malformed_xml,
}
assert _RESPONDERS.keys() == FAULTS.keys()

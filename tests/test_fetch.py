"""Fetching against a real local HTTP server (pytest-httpserver): retries, caps, policy, 304."""

from __future__ import annotations

import asyncio
import gzip
from datetime import UTC, datetime
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from crawler.config import CrawlerSettings
from crawler.errors import BlockedError, FetchError, HTTPStatusError, TooLargeError
from crawler.fetch import Fetcher
from crawler.models import HostState, Page, Validators
from crawler.urls import UrlPolicy

LOCAL = UrlPolicy(("localhost", "127.0.0.1"))


def fetch(url: str, policy: UrlPolicy = LOCAL, validators: Validators | None = None, **settings: Any) -> Page:
    page, _ = fetch_recording_sleeps(url, policy, validators, **settings)
    return page


def fetch_recording_sleeps(
    url: str, policy: UrlPolicy = LOCAL, validators: Validators | None = None, **settings: Any
) -> tuple[Page, list[float]]:
    """Fetch with an injected sleep that records the waits instead of sleeping them (and advances an
    injected clock by as much)."""
    sleeps: list[float] = []
    now = [0.0]

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    async def run() -> Page:
        # robots.txt has its own tests below; here it would add requests to the ones each test counts
        values = {"allow_private_addresses": True, "per_host_delay": 0, "retries": 2, "obey_robots": False, **settings}
        fetcher = Fetcher(CrawlerSettings(**values), sleep=sleep, clock=lambda: now[0])
        try:
            return await fetcher.fetch(url, policy, validators)
        finally:
            await fetcher.aclose()

    return asyncio.run(run()), sleeps


def test_retries_5xx_then_succeeds(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/a").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/a").respond_with_data("busy", status=502)
    httpserver.expect_ordered_request("/a").respond_with_data("<p>ok</p>", content_type="text/html")
    page = fetch(httpserver.url_for("/a"))
    assert page.status == 200 and page.body == b"<p>ok</p>"


def test_requests_carry_our_headers_and_no_cookies(httpserver: HTTPServer) -> None:
    """A crawler keeps no session: a cookie set on a redirect hop is not sent on the next one."""
    seen: list[dict[str, str]] = []

    def record(request: Request) -> Response:
        seen.append(dict(request.headers))
        return Response("<p>ok</p>", content_type="text/html")

    httpserver.expect_request("/a").respond_with_response(
        Response("", status=302, headers={"Location": "/b", "Set-Cookie": "session=1; Path=/"})
    )
    httpserver.expect_request("/b").respond_with_handler(record)
    page = fetch(httpserver.url_for("/a"), user_agent="test-crawler/1.0 (+https://example.org)")
    assert page.status == 200 and page.final_url.endswith("/b")
    (headers,) = seen
    assert "Cookie" not in headers
    assert headers["User-Agent"] == "test-crawler/1.0 (+https://example.org)"
    assert headers["Accept-Encoding"] == "gzip, deflate" and headers["Accept-Language"].startswith("ar")
    assert headers["Host"] == f"localhost:{httpserver.port}"


def test_does_not_retry_404(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/gone").respond_with_data("no", status=404)
    with pytest.raises(HTTPStatusError) as error:
        fetch(httpserver.url_for("/gone"))
    assert error.value.status == 404 and len(httpserver.log) == 1


def test_honours_retry_after_on_429(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/r").respond_with_data("slow down", status=429, headers={"Retry-After": "7"})
    httpserver.expect_ordered_request("/r").respond_with_data("fine")
    page, sleeps = fetch_recording_sleeps(httpserver.url_for("/r"))
    assert page.body == b"fine" and sleeps[0] == 7.0  # then the host's adaptive back-off (test below)


def test_a_long_retry_after_pauses_the_host_and_later_urls_fail_fast(httpserver: HTTPServer) -> None:
    """Retry-After: 3600 is more than retry_max_wait: the URL fails at once, every other URL of the host
    fails without a request until the pause is over, and the host's state says until when."""
    httpserver.expect_request("/a").respond_with_data("later", status=503, headers={"Retry-After": "3600"})
    httpserver.expect_request("/b").respond_with_data("<p>b</p>")

    async def run() -> tuple[list[str], list[HostState]]:
        settings = CrawlerSettings(allow_private_addresses=True, per_host_delay=0, retries=2, obey_robots=False)
        fetcher = Fetcher(settings, sleep=_no_sleep)
        reasons = []
        try:
            for path in ("/a", "/b"):
                with pytest.raises(FetchError) as error:
                    await fetcher.fetch(httpserver.url_for(path), LOCAL)
                reasons.append(f"{type(error.value).__name__}: {error.value.reason}")
            return reasons, fetcher.host_states()
        finally:
            await fetcher.aclose()

    reasons, (state,) = asyncio.run(run())
    assert reasons[0].startswith("HostPausedError") and reasons[1].startswith("HostPausedError")
    assert [entry[0].path for entry in httpserver.log] == ["/a"]  # one request: no retry, nothing for /b
    assert state.last_status == 503 and state.backoff_s == 1.0 and state.blocked_until is not None
    paused_for = (datetime.fromisoformat(state.blocked_until) - datetime.now(UTC)).total_seconds()
    assert 3500 < paused_for <= 3600 and state.requests == 1 and state.failures == 1


async def _no_sleep(seconds: float) -> None:
    return None


def test_conditional_get_returns_not_modified_on_304(httpserver: HTTPServer) -> None:
    def handler(request: Request) -> Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304, headers={"ETag": '"v1"'})
        return Response("body", headers={"ETag": '"v1"', "Last-Modified": "Thu, 25 Jan 2024 11:32:00 GMT"})

    httpserver.expect_request("/c").respond_with_handler(handler)
    first = fetch(httpserver.url_for("/c"))
    assert first.validators == Validators('"v1"', "Thu, 25 Jan 2024 11:32:00 GMT")
    second = fetch(httpserver.url_for("/c"), validators=first.validators)
    assert second.not_modified and second.status == 304 and second.body == b""


def test_refuses_bodies_over_the_size_cap_even_when_compressed(httpserver: HTTPServer) -> None:
    bomb = gzip.compress(b"a" * 5_000_000)
    httpserver.expect_request("/bomb").respond_with_data(bomb, headers={"Content-Encoding": "gzip"})
    with pytest.raises(TooLargeError):
        fetch(httpserver.url_for("/bomb"), max_page_bytes=1_000_000)


def test_redirect_chain_is_capped(httpserver: HTTPServer) -> None:
    for hop in range(5):
        httpserver.expect_request(f"/hop{hop}").respond_with_data(
            "", status=302, headers={"Location": f"/hop{hop + 1}"}
        )
    with pytest.raises(TooLargeError, match="more than 3 redirects"):
        fetch(httpserver.url_for("/hop0"), max_redirects=3)


def test_redirect_off_the_allowed_domains_is_blocked(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/away").respond_with_data("", status=301, headers={"Location": "http://evil.example/x"})
    with pytest.raises(BlockedError, match="evil.example"):
        fetch(httpserver.url_for("/away"))


def test_private_addresses_are_refused_unless_allowed(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/p").respond_with_data("secret")
    with pytest.raises(BlockedError, match="non-public address 127.0.0.1"):
        fetch(httpserver.url_for("/p"), allow_private_addresses=False)
    assert len(httpserver.log) == 0


@pytest.mark.parametrize("host", [
    "localhost", "127.1", "2130706433", "0x7f.0.0.1", "0.0.0.0", "[::1]", "[::ffff:127.0.0.1]",
    "10.0.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
])  # fmt: skip
def test_every_spelling_of_a_non_public_address_is_refused_before_connecting(host: str) -> None:
    """Decimal, hex and short forms, IPv6 and IPv4-mapped loopback, private ranges, cloud metadata and
    carrier-grade NAT: each resolved once and refused before a connection is opened."""
    policy = UrlPolicy((host.strip("[]"),))
    with pytest.raises(BlockedError, match="non-public address"):
        fetch(f"http://{host}:9/x", policy, allow_private_addresses=False, retries=0)


def test_only_http_and_https_are_fetched() -> None:
    with pytest.raises(BlockedError, match="scheme 'file'"):
        fetch("file:///etc/passwd", UrlPolicy(("",)))


def test_robots_txt_is_obeyed_and_its_crawl_delay_slows_the_host(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data(
        "User-agent: *\nDisallow: /private/\nCrawl-delay: 4\n", content_type="text/plain"
    )
    httpserver.expect_request("/news/1").respond_with_data("<p>one</p>")
    httpserver.expect_request("/news/2").respond_with_data("<p>two</p>")
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async def run() -> None:
        fetcher = Fetcher(CrawlerSettings(allow_private_addresses=True, per_host_delay=0), sleep=sleep)
        try:
            with pytest.raises(BlockedError, match="robots.txt"):
                await fetcher.fetch(httpserver.url_for("/private/x"), LOCAL)
            assert (await fetcher.fetch(httpserver.url_for("/news/1"), LOCAL)).body == b"<p>one</p>"
            assert (await fetcher.fetch(httpserver.url_for("/news/2"), LOCAL)).body == b"<p>two</p>"
        finally:
            await fetcher.aclose()

    asyncio.run(run())
    assert [r.path for r, _ in httpserver.log].count("/robots.txt") == 1  # cached
    assert "/private/x" not in [r.path for r, _ in httpserver.log]
    assert sleeps and max(sleeps) > 3  # Crawl-delay: 4 between the two news pages


def test_an_unreachable_robots_txt_allows_the_site_and_is_asked_again_later(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("down", status=503)
    httpserver.expect_request("/a").respond_with_data("<p>a</p>")
    page = fetch(httpserver.url_for("/a"), obey_robots=True)
    assert page.body == b"<p>a</p>"


def test_a_host_answering_429_gets_more_time_between_requests(httpserver: HTTPServer) -> None:
    """Each 429 doubles the host's extra wait (1 s, 2 s, 4 s...); a request's start sets the earliest next
    start, so with a clock that the injected sleep advances the waits are 1 s then 2 s."""
    for _ in range(3):
        httpserver.expect_ordered_request("/busy").respond_with_data("slow down", status=429)
    httpserver.expect_ordered_request("/busy").respond_with_data("ok")
    now = [0.0]
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    async def run() -> Page:
        settings = CrawlerSettings(allow_private_addresses=True, per_host_delay=0, retries=3, retry_backoff=0,
                                   obey_robots=False)  # fmt: skip
        fetcher = Fetcher(settings, sleep=sleep, clock=lambda: now[0])
        try:
            return await fetcher.fetch(httpserver.url_for("/busy"), LOCAL)
        finally:
            await fetcher.aclose()

    assert asyncio.run(run()).body == b"ok"
    assert [round(s, 3) for s in sleeps if s > 0] == [1.0, 2.0]


def test_a_finished_run_saves_only_the_hosts_asked_since_the_last_save(httpserver: HTTPServer) -> None:
    """The states saved after each run are those of the hosts it asked, not every host the fetcher knows
    (10,000 sources on 10,000 hosts would otherwise write 10,000 rows after every run)."""
    httpserver.expect_request("/a").respond_with_data("<p>a</p>")
    policy = UrlPolicy(("127.0.0.1", "localhost"))

    async def run() -> list[list[str]]:
        settings = CrawlerSettings(allow_private_addresses=True, per_host_delay=0, obey_robots=False)
        fetcher = Fetcher(settings, sleep=_no_sleep)
        saved = []
        try:
            await fetcher.fetch(httpserver.url_for("/a"), policy)
            saved.append([state.host for state in fetcher.changed_host_states()])
            saved.append([state.host for state in fetcher.changed_host_states()])  # nothing asked since
            await fetcher.fetch(httpserver.url_for("/a").replace("localhost", "127.0.0.1"), policy)
            saved.append([state.host for state in fetcher.changed_host_states()])
            saved.append([state.host for state in fetcher.host_states()])  # `crawler hosts`: all of them
        finally:
            await fetcher.aclose()
        return saved

    port = httpserver.port
    assert asyncio.run(run()) == [
        [f"localhost:{port}"],
        [],
        [f"127.0.0.1:{port}"],
        [f"127.0.0.1:{port}", f"localhost:{port}"],
    ]

"""Fetch stage: URL → Page over one shared httpx transport (connection pool).

Owns politeness (global and per-host concurrency, a minimum delay between requests to one host, robots.txt,
back-off and pauses for hosts answering 429/503), retries (tenacity: timeouts, connection errors, 5xx, 408
and 429, honouring Retry-After), conditional GET, the redirect, time and size caps, and the translation of
httpx errors into FetchError. Redirects are followed here, hop by hop, so every hop passes the same URL
policy; addresses are checked as connections open (crawler/addresses.py).

One HTTP exchange (``exchange``: a request, and the body of a 2xx answer read under the caps) is the unit
that may run elsewhere: ``fetch(via=...)`` hands each hop of an article page to a parse worker
(crawler/workers.py), which makes the exchange with its own client and parses the body where it landed;
everything else here (politeness, robots.txt, retries, redirects) stays in the crawler's process.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Protocol
from urllib.parse import urljoin, urlsplit

import httpx
from tenacity import AsyncRetrying, RetryCallState, before_sleep_log, retry_if_exception, stop_after_attempt

from crawler.addresses import NonPublicAddress, guarded_transport
from crawler.config import CrawlerSettings
from crawler.errors import (
    BlockedError,
    ConnectError,
    FetchError,
    FetchTimeout,
    HostPausedError,
    HTTPStatusError,
    TooLargeError,
)
from crawler.models import ByPosition, HostState, Page, ParseOutcome, Validators
from crawler.robots import RobotsCache
from crawler.urls import UrlPolicy

__all__ = ["Answer", "Exchange", "Fetcher", "HostTurns", "HttpClient", "exchange"]
logger = logging.getLogger(__name__)

_REDIRECTS = {301, 302, 303, 307, 308}
_MAX_CRAWL_DELAY = 60.0  # a robots.txt asking for more is obeyed at one request a minute
_MAX_BACKOFF = 60.0
# Content-Encoding → zlib wbits (None: as it is). Only these are asked for, in Accept-Encoding.
_DECODERS: dict[str, int | None] = {"identity": None, "gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS,
                                    "deflate": zlib.MAX_WBITS}  # fmt: skip
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Answer(ByPosition):
    """One HTTP exchange, as the fetcher acts on it: the status, the headers it reads, and for a 2xx answer
    the body (decompressed, under the cap). An answer from a parse worker carries what the worker made of
    the body (``processed``) and the body's size instead of the body."""

    status: int
    location: str | None
    validators: Validators
    retry_after: str | None
    content_type: str | None
    body: bytes = b""
    body_size: int = 0
    processed: ParseOutcome | None = None


# (url, the URL the redirect chain started from, request headers) → Answer, made somewhere else
Exchange = Callable[[str, str, dict[str, str]], Awaitable[Answer]]


class HttpClient:
    """What every exchange goes through: httpx's transport (its connection pool, connecting through our
    backend, which refuses non-public addresses as connections open) and our request headers. Not an
    httpx.AsyncClient: its redirects, authentication, proxies and cookie jar would all go unused (redirects
    are followed hop by hop in Fetcher; a crawler keeps no session, so no cookies), yet cost a fifth of
    each exchange's CPU time. ``aclose()`` when done."""

    def __init__(self, settings: CrawlerSettings) -> None:
        limits = httpx.Limits(max_connections=settings.concurrency, max_keepalive_connections=settings.concurrency)
        self.transport = guarded_transport(limits, settings.allow_private_addresses)
        self.headers = {"Accept": "*/*", "Accept-Encoding": "gzip, deflate", "Accept-Language": "ar,en;q=0.8,*;q=0.5",
                        "Connection": "keep-alive", "User-Agent": settings.user_agent}  # fmt: skip
        seconds = settings.timeout.total_seconds()  # httpcore's, per connect, read, write and pool wait
        self.timeouts = {"connect": seconds, "read": seconds, "write": seconds, "pool": seconds}

    async def aclose(self) -> None:
        await self.transport.aclose()


async def exchange(client: HttpClient, url: str, headers: dict[str, str], settings: CrawlerSettings) -> Answer:
    """One request and, for a 2xx answer, its body; httpx errors become FetchError."""
    deadline = settings.timeout.total_seconds()
    try:
        async with asyncio.timeout(deadline):  # httpx's timeouts are per read: a trickle never trips them
            request = httpx.Request("GET", url, headers={**client.headers, **headers},
                                    extensions={"timeout": client.timeouts})  # fmt: skip
            response = await client.transport.handle_async_request(request)
            try:
                ok = 200 <= response.status_code < 300
                body = await _read_capped(response, url, settings.max_page_bytes) if ok else b""
            finally:
                await response.aclose()
    except TimeoutError as exc:
        raise FetchTimeout(url, f"no complete answer within timeout ({deadline:g} s)") from exc
    except httpx.TimeoutException as exc:
        raise FetchTimeout(url, f"timed out ({type(exc).__name__})") from exc
    except (httpx.TransportError, httpx.InvalidURL) as exc:
        if isinstance(exc.__cause__, NonPublicAddress):
            raise BlockedError(url, str(exc.__cause__)) from exc
        raise ConnectError(url, f"{type(exc).__name__}: {str(exc) or _connection_failure(exc)}") from exc
    found = response.headers
    return Answer(response.status_code, found.get("location"), Validators(found.get("etag"), found.get("last-modified")),
                  found.get("retry-after"), found.get("content-type"), body, len(body))  # fmt: skip


async def _read_capped(response: httpx.Response, url: str, cap: int) -> bytes:
    """Read and decompress the body, refusing more than cap bytes of it."""
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > cap:
        raise TooLargeError(url, f"Content-Length {declared} is over max_page_bytes {cap}")
    body = _CappedBody(response.headers.get("content-encoding"), cap, url)
    async for raw in response.aiter_raw():
        body.feed(raw)
    return body.finish()


@dataclass(slots=True)
class _HostGate:
    """Per-host politeness: a concurrency limit, the earliest time the next request may start, the delay
    in force (per_host_delay, raised to the site's Crawl-delay), an adaptive back-off that grows while
    the host answers 429/503 and shrinks again when it answers normally, and the pause a Retry-After on
    such an answer asks for. The rest is what ``crawler hosts`` shows."""

    semaphore: asyncio.Semaphore
    delay: float
    next_start: float = 0.0
    backoff: float = 0.0
    blocked_until: float = 0.0  # monotonic; no request starts before it
    requests: int = 0
    failures: int = 0
    last_status: int | None = None
    last_error: str | None = None
    last_at: str | None = None  # ISO 8601 UTC
    robots: str | None = None  # "ok", "missing", "unreachable: …" (robots.RobotsRules.status)


class HostTurns(Protocol):
    """Per-host turns shared with other processes (crawler/cluster/turns.py): how long to wait before a
    request to the host may start, and a pause every process honours."""

    async def reserve(self, host: str, gap: float) -> float: ...
    async def start(self, host: str, gap: float) -> float: ...
    async def pause(self, host: str, seconds: float) -> None: ...


class Fetcher:
    """Fetches pages for every source through one client; create one per process and ``aclose()`` it.
    With ``turns``, per-host delays and Retry-After pauses are shared with every other fetcher using the
    same turns (the workers of a cluster), not only this process's requests."""

    def __init__(
        self,
        settings: CrawlerSettings,
        *,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        turns: HostTurns | None = None,
    ) -> None:
        self._settings = settings
        self._turns = turns
        self._sleep = sleep
        self._clock = clock
        self._client = HttpClient(settings)
        self._global = asyncio.Semaphore(settings.concurrency)
        self._hosts: dict[str, _HostGate] = {}
        self._changed: set[str] = set()  # hosts whose state changed since changed_host_states() last ran
        self._agent = settings.user_agent.split("/", 1)[0].split()[0] if settings.user_agent.strip() else "*"
        self._robots = RobotsCache(self._get_robots, clock)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def fetch(
        self, url: str, policy: UrlPolicy, validators: Validators | None = None, *, via: Exchange | None = None
    ) -> Page:
        """Fetch url with retries; raise FetchError (with the URL and a reason) when it cannot be had.
        ``via``: where each exchange is made (a parse worker), instead of this process's client."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._settings.retries + 1),
            wait=self._wait,
            retry=retry_if_exception(lambda exc: isinstance(exc, FetchError) and exc.retryable),
            sleep=self._sleep,
            before_sleep=before_sleep_log(logger, logging.INFO),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._fetch_following_redirects(url, policy, validators, via=via)
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    def _wait(self, state: RetryCallState) -> float:
        """Retry-After when the server sent one, else exponential backoff with full jitter."""
        cap = self._settings.retry_max_wait.total_seconds()
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, HTTPStatusError) and error.retry_after is not None:
            return min(float(error.retry_after), cap)
        base = self._settings.retry_backoff.total_seconds()
        backoff: float = base * 2 ** (state.attempt_number - 1) + random.uniform(0, base)
        return min(cap, backoff)

    async def _fetch_following_redirects(
        self, url: str, policy: UrlPolicy, validators: Validators | None, obey_robots: bool = True,
        via: Exchange | None = None,
    ) -> Page:  # fmt: skip
        started = self._clock()
        current = url
        seen: set[str] = set()
        for _hop in range(self._settings.max_redirects + 1):
            if current in seen:
                raise FetchError(url, f"redirect loop: {current} again")
            seen.add(current)
            self._check_allowed(current, policy)
            if obey_robots and self._settings.obey_robots:
                await self._check_robots(current)
            page_or_location = await self._request(current, validators, started, url, via)
            if isinstance(page_or_location, Page):
                return page_or_location
            current = page_or_location
        raise TooLargeError(url, f"more than {self._settings.max_redirects} redirects")

    async def robots_allows(self, url: str) -> bool:
        """Whether the site's robots.txt lets us fetch ``url`` (always, when obey_robots is off)."""
        if not self._settings.obey_robots:
            return True
        return (await self._robots.rules_for(url)).allows(url, self._agent)

    async def _check_robots(self, url: str) -> None:
        """The site's robots.txt: a disallowed URL is refused; a Crawl-delay slows the host's gate."""
        rules = await self._robots.rules_for(url)
        if not rules.allows(url, self._agent):
            raise BlockedError(url, "disallowed by the site's robots.txt")
        host = urlsplit(url).netloc
        gate = self._gate(host)
        self._changed.add(host)
        gate.robots = rules.status
        delay = rules.crawl_delay(self._agent)
        if delay is not None:
            gate.delay = max(self._settings.per_host_delay.total_seconds(), min(delay, _MAX_CRAWL_DELAY))

    async def _get_robots(self, url: str) -> tuple[int, str]:
        """GET robots.txt under the same address rules and caps, without consulting robots.txt itself."""
        origin = urlsplit(url).hostname or ""
        try:
            page = await self._fetch_following_redirects(url, UrlPolicy((origin,)), None, obey_robots=False)
        except HTTPStatusError as exc:
            return exc.status, ""
        return page.status, page.body.decode("utf-8", errors="replace")

    async def _request(
        self, url: str, validators: Validators | None, started: float, original_url: str, via: Exchange | None
    ) -> Page | str:
        """One HTTP exchange: a Page, or the absolute URL a redirect points to."""
        headers = {}
        if validators and validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators and validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        host = urlsplit(url).netloc
        gate = self._gate(host)
        async with self._polite(gate, url, host), self._global:
            gate.requests += 1
            self._changed.add(host)
            gate.last_at = datetime.now(UTC).isoformat(timespec="seconds")
            try:
                if via is None:
                    answer = await exchange(self._client, url, headers, self._settings)
                else:
                    answer = await via(url, original_url, headers)
                gate.last_status = answer.status
                pause = self._adapt(gate, answer, url)
                if pause and self._turns is not None:
                    await self._turns.pause(host, pause)
                result = self._handle(answer, url, original_url, started)
            except FetchError as exc:
                gate.failures += 1
                gate.last_error = exc.reason
                raise
            gate.last_error = None
            return result

    def _handle(self, answer: Answer, url: str, original_url: str, started: float) -> Page | str:
        status = answer.status
        if status in _REDIRECTS and answer.location is not None:
            return urljoin(url, answer.location)
        elapsed_ms = (self._clock() - started) * 1000
        if status == 304:
            return Page(original_url, url, 304, b"", None, answer.validators, elapsed_ms, not_modified=True)
        if not 200 <= status < 300:
            raise HTTPStatusError(url, status, _retry_after(answer.retry_after))
        return Page(original_url, url, status, answer.body, answer.content_type, answer.validators, elapsed_ms,
                    processed=answer.processed, body_size=answer.body_size)  # fmt: skip

    def _gate(self, host: str) -> _HostGate:
        gate = self._hosts.get(host)
        if gate is None:
            delay = self._settings.per_host_delay.total_seconds()
            gate = self._hosts[host] = _HostGate(asyncio.Semaphore(self._settings.per_host_concurrency), delay)
        return gate

    def _polite(self, gate: _HostGate, url: str, host: str) -> _PoliteSlot:
        turns = (
            None
            if self._turns is None
            else _Turns(partial(self._turns.reserve, host), partial(self._turns.start, host))
        )
        return _PoliteSlot(gate, url, self._clock, self._sleep, self._settings.retry_max_wait.total_seconds(), turns)

    def _adapt(self, gate: _HostGate, answer: Answer, url: str) -> float | None:
        """429/503: the host is overloaded, so every later request to it waits longer (doubling, to a
        minute), and none starts before its Retry-After (the pause, returned); other answers halve that
        extra wait again."""
        if answer.status in (429, 503):
            gate.backoff = min(max(gate.backoff * 2, 1.0), _MAX_BACKOFF)
            pause = _retry_after(answer.retry_after)
            if pause:
                gate.blocked_until = max(gate.blocked_until, self._clock() + pause)
            logger.info("host %s answered %d: %.0f s more between its requests%s", urlsplit(url).hostname,
                        answer.status, gate.backoff, f", paused {pause:.0f} s" if pause else "")  # fmt: skip
            return pause
        if gate.backoff:
            gate.backoff = gate.backoff / 2 if gate.backoff > 1 else 0.0
        return None

    def host_states(self) -> list[HostState]:
        """Each host's politeness state, as ``crawler hosts`` shows it."""
        return self._states(sorted(self._hosts))

    def changed_host_states(self) -> list[HostState]:
        """The states of the hosts asked since the last call (what a finished run saves: a fetcher that
        knows 10,000 hosts writes the few a run touched, not all of them after every run)."""
        changed, self._changed = sorted(self._changed), set()
        return self._states(changed)

    def _states(self, hosts: list[str]) -> list[HostState]:
        now, wall = self._clock(), datetime.now(UTC)
        states = []
        for host in hosts:
            gate = self._hosts[host]
            blocked = wall + timedelta(seconds=gate.blocked_until - now) if gate.blocked_until > now else None
            states.append(HostState(
                host, gate.delay, gate.backoff, blocked.isoformat(timespec="seconds") if blocked else None,
                gate.last_status, gate.last_error, gate.last_at, gate.requests, gate.failures, gate.robots,
            ))  # fmt: skip
        return states

    @staticmethod
    def _check_allowed(url: str, policy: UrlPolicy) -> None:
        """The source's URL policy (scheme, allowed domains). Addresses are checked as connections open
        (crawler/addresses.py)."""
        refusal = policy.refusal(url)
        if refusal:
            raise BlockedError(url, refusal)


class _CappedBody:
    """A response body decompressed here rather than by httpx, which inflates each network chunk whole: 64 KB
    of gzipped zeros become 64 MB at once. zlib is asked for no more than the room left under the cap, so
    a gzip bomb costs at most cap + 1 bytes before it is refused."""

    def __init__(self, content_encoding: str | None, cap: int, url: str) -> None:
        encoding = (content_encoding or "identity").strip().lower()
        if encoding not in _DECODERS:
            raise FetchError(url, f"unsupported Content-Encoding {encoding!r}")
        self._wbits = _DECODERS[encoding]
        self._inflater = zlib.decompressobj(self._wbits) if self._wbits is not None else None
        self._cap, self._url = cap, url
        self._parts: list[bytes] = []
        self._size = 0
        self._first = True

    def feed(self, raw: bytes) -> None:
        if self._inflater is None:
            self._add(raw)
            return
        data = raw
        while data:
            try:
                self._add(self._inflater.decompress(data, self._cap + 1 - self._size))
            except zlib.error as exc:
                if self._first and self._wbits == zlib.MAX_WBITS:  # "deflate" sent as raw deflate, as IIS does
                    self._wbits = -zlib.MAX_WBITS
                    self._inflater = zlib.decompressobj(self._wbits)
                    self._first = False
                    continue
                raise FetchError(self._url, f"undecodable response body: {exc}") from exc
            self._first = False
            data = self._inflater.unconsumed_tail

    def finish(self) -> bytes:
        if self._inflater is not None:
            self._add(self._inflater.flush())
        return b"".join(self._parts)

    def _add(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > self._cap:
            raise TooLargeError(self._url, f"body is over max_page_bytes {self._cap}")
        self._parts.append(chunk)


@dataclass(frozen=True, slots=True)
class _Turns:
    """One host's shared turns (HostTurns, the host bound)."""

    reserve: Callable[[float], Awaitable[float]]
    start: Callable[[float], Awaitable[float]]


class _PoliteSlot:
    """``async with``: hold a per-host slot and start no sooner than the host's delay (and back-off) after
    the last start, nor before the end of a pause the host asked for. A pause longer than max_wait fails
    the request at once (HostPausedError) rather than holding the run."""

    def __init__(
        self, gate: _HostGate, url: str, clock: Callable[[], float], sleep: Sleep, max_wait: float,
        turns: _Turns | None = None,
    ) -> None:  # fmt: skip
        self._gate, self._url, self._clock, self._sleep, self._max_wait = gate, url, clock, sleep, max_wait
        self._turns = turns  # the host's shared turns, when there are other fetchers

    async def __aenter__(self) -> None:
        await self._gate.semaphore.acquire()
        try:
            paused = self._gate.blocked_until - self._clock()
            if paused > self._max_wait:
                raise HostPausedError(self._url, f"the host asked for a pause (Retry-After); {paused:.0f} s left")
            while (wait := max(self._gate.next_start, self._gate.blocked_until) - self._clock()) > 0:
                await self._sleep(wait)
            gap = self._gate.delay + self._gate.backoff
            self._gate.next_start = self._clock() + gap
            if self._turns is not None:
                shared = await self._turns.reserve(gap)
                if shared > self._max_wait:
                    raise HostPausedError(self._url, f"the host asked for a pause (Retry-After); {shared:.0f} s left")
                while True:  # until the turn's start is confirmed
                    if shared > 0:
                        await self._sleep(shared)
                    if (shared := await self._turns.start(gap)) == 0:
                        break
        except BaseException:
            self._gate.semaphore.release()
            raise

    async def __aexit__(self, *exc_info: object) -> None:
        self._gate.semaphore.release()


def _connection_failure(exc: Exception) -> str:
    """A reason for httpx errors that carry no message (a reset connection gives an empty ReadError)."""
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, ConnectionResetError) or isinstance(exc, httpx.ReadError):
        return "the connection was reset or closed by the server"
    return str(cause) if cause else "connection failed"


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())

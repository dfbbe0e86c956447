"""robots.txt per site: fetched once, parsed with protego, cached with an expiry.

The rules of RFC 9309 as crawlers apply them: a robots.txt that answers 200 is obeyed (for our
User-Agent token); one that is missing (4xx) allows everything; one that cannot be fetched (5xx,
timeouts, connection errors) allows everything for now and is asked again after RETRY_SECONDS, so a
flaky robots.txt never blocks a site for good. Crawl-delay is reported for the fetcher's host gate.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from protego import Protego

__all__ = ["RobotsCache", "RobotsRules"]

CACHE_SECONDS = 12 * 3600
RETRY_SECONDS = 3600
MAX_ROBOTS_BYTES = 500_000  # RFC 9309 asks crawlers to read at least 500 KiB


@dataclass(frozen=True, slots=True)
class RobotsRules:
    parser: Protego | None  # None: everything allowed
    fetched_at: float
    expires_at: float
    status: str  # "ok", "missing", "unreachable: <reason>"

    def allows(self, url: str, agent: str) -> bool:
        return self.parser is None or bool(self.parser.can_fetch(url, agent))

    def crawl_delay(self, agent: str) -> float | None:
        delay = self.parser.crawl_delay(agent) if self.parser is not None else None
        return float(delay) if delay is not None else None


# (status, text) of GET robots.txt; raises on a transport failure
RobotsGetter = Callable[[str], Awaitable[tuple[int, str]]]


class RobotsCache:
    """Rules per origin (scheme, host, port), refreshed when they expire."""

    def __init__(self, get: RobotsGetter, clock: Callable[[], float] = time.monotonic) -> None:
        self._get = get
        self._clock = clock
        self._rules: dict[str, RobotsRules] = {}

    async def rules_for(self, url: str) -> RobotsRules:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        rules = self._rules.get(origin)
        if rules is None or rules.expires_at <= self._clock():
            rules = self._rules[origin] = await self._load(origin)
        return rules

    async def _load(self, origin: str) -> RobotsRules:
        now = self._clock()
        try:
            status, text = await self._get(f"{origin}/robots.txt")
        except Exception as exc:  # noqa: BLE001 - any failure to read robots.txt means "ask again later"
            return RobotsRules(None, now, now + RETRY_SECONDS, f"unreachable: {exc}")
        if 200 <= status < 300:
            return RobotsRules(Protego.parse(text[:MAX_ROBOTS_BYTES]), now, now + CACHE_SECONDS, "ok")
        if 400 <= status < 500:
            return RobotsRules(None, now, now + CACHE_SECONDS, "missing")
        return RobotsRules(None, now, now + RETRY_SECONDS, f"unreachable: HTTP {status}")

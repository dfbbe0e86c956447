"""The one exception tree of the crawler.

    CrawlerError
     ├── ConfigError          the config file is missing, unreadable or invalid (lists every problem)
     ├── FetchError           a URL could not be fetched (carries the URL and a short reason)
     │    ├── FetchTimeout     connect/read timeout
     │    ├── ConnectError     refused, reset, DNS failure, protocol error
     │    ├── HTTPStatusError  a non-2xx/304 answer (carries the status and Retry-After)
     │    ├── BlockedError     the URL is not allowed (scheme, domain, private address, robots.txt)
     │    ├── HostPausedError  the host asked for a pause (Retry-After) longer than we wait in a run
     │    └── TooLargeError    the body or the redirect chain went over a cap
     ├── DiscoveryError       a feed, sitemap or listing page could not be read
     ├── NotHtml              an article URL answered with something that is not an HTML page
     ├── ParseFailed          a page's parse worker died or raised (a bug, or a page that kills lexbor)
     └── StoreError           the database refused a write or could not be opened

httpx and sqlite3 exceptions never leave fetch.py and store.py: they are translated there. Errors pickle
with their arguments: parse workers send them back to the crawler's process.
"""

from __future__ import annotations

__all__ = [
    "BlockedError",
    "ConfigError",
    "ConnectError",
    "CrawlerError",
    "DiscoveryError",
    "FetchError",
    "FetchTimeout",
    "HostPausedError",
    "NotHtml",
    "ParseFailed",
    "HTTPStatusError",
    "StoreError",
    "TooLargeError",
]


class CrawlerError(Exception):
    """Base of every error the crawler raises on purpose."""


class ConfigError(CrawlerError):
    """Invalid configuration; ``problems`` holds one line per problem, each naming file and field."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class FetchError(CrawlerError):
    """A URL could not be fetched."""

    retryable = False

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"{url}: {reason}")

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        return type(self), (self.url, self.reason)


class FetchTimeout(FetchError):
    retryable = True


class ConnectError(FetchError):
    retryable = True


class HTTPStatusError(FetchError):
    """A status we do not accept; 5xx, 408 and 429 are retryable."""

    def __init__(self, url: str, status: int, retry_after: float | None = None) -> None:
        self.status = status
        self.retry_after = retry_after
        super().__init__(url, f"HTTP {status}")

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        return type(self), (self.url, self.status, self.retry_after)

    @property
    def retryable(self) -> bool:  # type: ignore[override]
        return self.status >= 500 or self.status in (408, 429)


class BlockedError(FetchError):
    """The URL is outside what the source's config allows."""


class HostPausedError(FetchError):
    """The host answered 429/503 with a Retry-After that has not passed; the URL is tried on a later run."""


class TooLargeError(FetchError):
    """A size or redirect cap was hit."""


class DiscoveryError(CrawlerError):
    """A discovery document (feed, sitemap, listing page) was unusable."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"{url}: {reason}")


class NotHtml(CrawlerError):
    """An article URL answered 2xx with an image, a PDF or nothing: not extracted, not stored."""


class StoreError(CrawlerError):
    """The database could not be opened or written."""


class ParseFailed(CrawlerError):
    """Extracting one page failed outside the extractor's own handling: its worker process died or the code
    raised. The page is recorded as unusable; the crawl goes on with a fresh worker."""

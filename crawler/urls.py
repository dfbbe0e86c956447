"""URL canonicalisation and the per-source URL policy (scheme, allowed domains, article pattern).

Pure functions, no I/O: address resolution and the private-address rule live in fetch.py, which is the
only place that connects anywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url, safe_url_string

__all__ = ["MAX_URL_CHARS", "BadUrl", "UrlPolicy", "canonicalize", "host_allowed", "resolve_link"]

# Query parameters that only track the click and never change the page.
_TRACKING = re.compile(
    r"^(utm_[a-z_]+|fbclid|gclid|gclsrc|dclid|msclkid|yclid|igshid|mc_cid|mc_eid|_ga|_gl|"
    r"ref_src|cmpid|ocid|mkt_tok|spm|at_medium|at_campaign|amp;utm_[a-z_]+)$",
    re.IGNORECASE,
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
# A registered name (letters, digits, hyphens, dots, IDNA-encoded by w3lib), an IPv4 or an IPv6 literal.
_HOST = re.compile(r"[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?|[0-9a-f:.]+", re.IGNORECASE)


MAX_URL_CHARS = 4096  # sitemaps allow 2,048; no article URL needs more, and a 200 KB one is an attack


class BadUrl(ValueError):
    """A URL that cannot be fetched whatever the policy: malformed, too long, credentials, not http(s)."""


def canonicalize(url: str) -> str:
    """One spelling per page: lowercase scheme and host, no default port, no fragment, no tracking
    parameters, sorted query, "/" for an empty path, percent-encoding normalised (w3lib).

    A trailing slash on a non-empty path is kept: on the web /a and /a/ may be different pages. Raises
    BadUrl (naming what is wrong) for a URL that is not a fetchable http(s) URL; nothing else.
    """
    url = url.strip()
    if len(url) > MAX_URL_CHARS:
        raise BadUrl(f"URL is {len(url):,} characters long (more than {MAX_URL_CHARS:,})")
    try:
        parts = urlsplit(safe_url_string(url))
        scheme = parts.scheme.lower()
        port = parts.port  # raises for a port out of range or not a number
        if scheme not in _DEFAULT_PORTS:
            raise BadUrl(f"scheme {scheme!r} is not http or https")
        if parts.username is not None or parts.password is not None:
            raise BadUrl("URL carries a user name or password")
        host = (parts.hostname or "").rstrip(".")
        if not host or not _HOST.fullmatch(host):
            raise BadUrl(f"host {host!r} is not a host name or address")
        host = f"[{host}]" if ":" in host else host  # an IPv6 literal keeps its brackets
        netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
        query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)])
        path = re.sub(r"/{2,}", "/", parts.path) or "/"
        return canonicalize_url(urlunsplit((scheme, netloc, path, query, "")), keep_fragments=False)
    except BadUrl:
        raise
    except (ValueError, UnicodeError) as exc:  # urllib's and the IDNA codec's own words for a broken authority
        raise BadUrl(f"unparseable URL: {exc}") from None


def resolve_link(href: str, base_url: str, *, web_only: bool = True) -> str | None:
    """The absolute URL of an href; None for an empty or same-page href and, with ``web_only``, for mailto:,
    javascript:, tel: and other links a page carries that are not pages. A broken href comes back as it
    is, for canonicalize to name what is wrong with it."""
    href = href.strip()
    if not href or href.startswith("#"):
        return None
    if len(href) > MAX_URL_CHARS:
        return href
    try:
        absolute = urljoin(base_url, href)
        scheme = urlsplit(absolute).scheme
    except ValueError:  # "Invalid IPv6 URL" and kin: a broken link, not a broken page
        return href
    return absolute if scheme in ("http", "https") or not web_only else None


def host_allowed(host: str, domains: tuple[str, ...]) -> bool:
    """True when host is one of the domains or a subdomain of one."""
    host = host.lower().rstrip(".")
    return any(host == domain or host.endswith("." + domain) for domain in domains)


@dataclass(frozen=True, slots=True)
class UrlPolicy:
    """What one source may fetch: http(s) URLs on its allowed domains."""

    domains: tuple[str, ...]
    article_pattern: re.Pattern[str] | None = None

    def refusal(self, url: str) -> str | None:
        """Why url may not be fetched, or None when it may."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return f"scheme {parts.scheme!r} is not http or https"
        if not parts.hostname:
            return "URL has no host"
        if not host_allowed(parts.hostname, self.domains):
            return f"host {parts.hostname!r} is not in allowed_domains {list(self.domains)}"
        return None

    def is_article(self, url: str) -> bool:
        """True when url matches the source's article_url_pattern (or there is none)."""
        return self.article_pattern is None or self.article_pattern.search(url) is not None

"""URL canonicalisation and the per-source URL policy (scheme, allowed domains, article pattern).

Pure functions, no I/O: address resolution and the private-address rule live in fetch.py, which is the
only place that connects anywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url, safe_url_string

__all__ = ["UrlPolicy", "canonicalize", "host_allowed", "resolve_link"]

# Query parameters that only track the click and never change the page.
_TRACKING = re.compile(
    r"^(utm_[a-z_]+|fbclid|gclid|gclsrc|dclid|msclkid|yclid|igshid|mc_cid|mc_eid|_ga|_gl|"
    r"ref_src|cmpid|ocid|mkt_tok|spm|at_medium|at_campaign|amp;utm_[a-z_]+)$",
    re.IGNORECASE,
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonicalize(url: str) -> str:
    """One spelling per page: lowercase scheme and host, no default port, no fragment, no tracking
    parameters, sorted query, "/" for an empty path, percent-encoding normalised (w3lib).

    A trailing slash on a non-empty path is kept: on the web /a and /a/ may be different pages.
    """
    parts = urlsplit(safe_url_string(url.strip()))
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    port = parts.port
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)])
    path = re.sub(r"/{2,}", "/", parts.path) or "/"
    rebuilt = urlunsplit((scheme, netloc, path, query, ""))
    return canonicalize_url(rebuilt, keep_fragments=False)


def resolve_link(href: str, base_url: str) -> str | None:
    """Absolute http(s) URL for an href, or None for mailto:, javascript:, tel: and the like."""
    href = href.strip()
    if not href or href.startswith("#"):
        return None
    absolute = urljoin(base_url, href)
    if urlsplit(absolute).scheme not in ("http", "https"):
        return None
    return absolute


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

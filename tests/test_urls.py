"""URL canonicalisation and the per-source URL policy."""

from __future__ import annotations

import pytest

from crawler.urls import UrlPolicy, canonicalize, host_allowed


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTP://Example.COM", "http://example.com/"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("https://example.com/a#comments", "https://example.com/a"),
        ("https://example.com/a/?utm_source=x&utm_medium=y&id=3&fbclid=z", "https://example.com/a/?id=3"),
        ("https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2"),
        ("https://example.com//news//1", "https://example.com/news/1"),
        ("https://example.com/news/1/", "https://example.com/news/1/"),
        ("https://example.com/أخبار/1", "https://example.com/%D8%A3%D8%AE%D8%A8%D8%A7%D8%B1/1"),
        ("https://example.com/%d8%a3", "https://example.com/%D8%A3"),
    ],
)
def test_canonicalize(url: str, canonical: str) -> None:
    assert canonicalize(url) == canonical


def test_subdomains_are_allowed_but_lookalikes_are_not() -> None:
    assert host_allowed("www.example.com", ("example.com",))
    assert not host_allowed("badexample.com", ("example.com",))
    assert not host_allowed("example.com.evil.net", ("example.com",))


def test_policy_explains_refusals() -> None:
    policy = UrlPolicy(("example.com",))
    assert policy.refusal("https://example.com/a") is None
    assert "allowed_domains" in (policy.refusal("https://other.org/") or "")
    assert "scheme" in (policy.refusal("javascript:alert(1)") or "")

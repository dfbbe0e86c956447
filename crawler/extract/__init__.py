"""Extract stage: an article page (HTML) → ExtractedArticle (metadata and plain-text body).

Public entry point: ``extract(html, url=None)``. ``html`` may be ``str`` or ``bytes``; bytes are decoded
with the same charset rules as fetched pages. Metadata is read first on the intact tree
(metadata.py), then site chrome and boilerplate are stripped and the body is scored (body.py,
boilerplate.py). Text fields come back in display form (textnorm.display_text).
"""

from __future__ import annotations

import logging
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser

from crawler.decode import decode_html
from crawler.extract.body import BodyResult, extract_body, override_body
from crawler.extract.boilerplate import strip_page_chrome
from crawler.extract.language import choose_language
from crawler.extract.metadata import PageMetadata, read_metadata
from crawler.extract.overrides import SelectorRules, apply_drops, override_date, override_list, override_text
from crawler.extract.page import parse_page
from crawler.extract.templates import remove_template_blocks
from crawler.models import ExtractedArticle
from crawler.textnorm import display_text

__all__ = ["SelectorRules", "extract", "extract_article"]
logger = logging.getLogger(__name__)


def extract(
    html: str | bytes,
    url: str | None = None,
    timezone: str = "UTC",
    *,
    rules: SelectorRules | None = None,
    template: frozenset[str] = frozenset(),
) -> ExtractedArticle:
    """Extract one article page. Naive dates on the page are read in ``timezone``."""
    if isinstance(html, bytes):
        html, _ = decode_html(html)
    return extract_article(html, url, timezone, rules=rules, template=template)


def extract_article(
    html: str,
    url: str | None,
    timezone: str = "UTC",
    language_hint: str | None = None,
    *,
    rules: SelectorRules | None = None,
    template: frozenset[str] = frozenset(),
) -> ExtractedArticle:
    """The extract stage proper (text in, article out); ``language_hint`` is the source's language,
    ``rules`` its selector overrides and ``template`` the block keys learned from its earlier pages.

    Never raises: a page that breaks one step still yields what the other steps found, and an empty
    body always comes with ``empty_body_reason``."""
    rules = rules or SelectorRules()
    if not html or not html.strip():
        return _empty(url, "the page is empty")
    tree = parse_page(html)
    try:
        apply_drops(tree, rules)
        meta = read_metadata(tree, timezone, url)
        _apply_metadata_rules(tree, rules, meta, timezone)
    except Exception as exc:  # noqa: BLE001 - one broken page must not stop a crawl; the reason is kept
        logger.warning("metadata extraction failed on %s: %r", url, exc, exc_info=True)
        meta = PageMetadata(provenance={"error": f"metadata: {exc!r}"})
    try:
        body = _read_body(tree, rules, meta, template)
    except Exception as exc:  # noqa: BLE001 - as above
        logger.warning("body extraction failed on %s: %r", url, exc, exc_info=True)
        body = BodyResult("", reason=f"body extraction failed: {exc!r}")
    language, detected = choose_language(meta.language, body.text or meta.title or "", language_hint)
    if detected:
        meta.provenance["language"] = "detected"
    text = display_text(body.text, language)
    return ExtractedArticle(
        url=url,
        canonical_url=_absolute(meta.canonical_url, url),
        title=_display(meta.title, language),
        published=meta.published,
        modified=meta.modified,
        authors=[display_text(a, language) for a in meta.authors],
        section=_display(meta.section, language),
        tags=list(dict.fromkeys(tag for tag in (display_text(t, language) for t in meta.tags) if tag)),
        language=language,
        image=_absolute(meta.image, url),
        site_name=_display(meta.site_name, language),
        description=_display(meta.description, language),
        body=text,
        provenance=meta.provenance,
        empty_body_reason=None if text else body.reason or "no text in the chosen container",
        published_text=meta.date_texts.get("published") if meta.published else None,
        modified_text=meta.date_texts.get("modified") if meta.modified else None,
    )


def _apply_metadata_rules(tree: LexborHTMLParser, rules: SelectorRules, meta: PageMetadata, timezone: str) -> None:
    """Selector overrides win over every generic source when they match."""
    if not rules:
        return
    title = override_text(tree, rules.title)
    if title:
        meta.title, meta.provenance["title"] = title, f"override:{rules.title}"
    for name, selector in (("published", rules.date), ("modified", rules.modified)):
        found = override_date(tree, selector, timezone)
        if found:
            setattr(meta, name, found[0])
            meta.provenance[name], meta.date_texts[name] = f"override:{selector}", found[1]
    for name, selector in (("authors", rules.author), ("tags", rules.tags)):
        values = override_list(tree, selector)
        if values:
            setattr(meta, name, values)
            meta.provenance[name] = f"override:{selector}"


def _read_body(
    tree: LexborHTMLParser, rules: SelectorRules, meta: PageMetadata, template: frozenset[str]
) -> BodyResult:
    """The body from the source's selector if it matches, else the generic path (or JSON-LD's articleBody
    when the markup yields far less), minus the source's template blocks."""
    strip_page_chrome(tree)
    body = override_body(tree, rules.body, meta.title) if rules.body else None
    if body is not None and body.text:
        meta.provenance["body"] = f"override:{rules.body}"
    else:
        body = extract_body(tree, meta.title, meta.description)
        meta.provenance["body"] = f"markup:{body.container}" if body.container else "none"
        if meta.json_ld_body and len(meta.json_ld_body) > 2 * max(len(body.text), 1):
            body = BodyResult(meta.json_ld_body, "json-ld:articleBody")  # the CMS's own text beats a poor guess
            meta.provenance["body"] = "json-ld:articleBody"
    if template:
        kept = remove_template_blocks(body.text, template)
        if kept != body.text:
            meta.provenance["body"] += " - site template"
        body = BodyResult(kept, body.container, body.reason or (None if kept else "only site-template blocks"))
    return body


def _empty(url: str | None, reason: str) -> ExtractedArticle:
    return ExtractedArticle(
        url=url, canonical_url=None, title=None, published=None, modified=None, authors=[], section=None, tags=[],
        language=None, image=None, site_name=None, description=None, body="", empty_body_reason=reason,
    )  # fmt: skip


def _display(value: str | None, language: str | None) -> str | None:
    return display_text(value, language) or None if value else None


def _absolute(link: str | None, base: str | None) -> str | None:
    if not link:
        return None
    return urljoin(base, link) if base else link

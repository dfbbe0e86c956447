"""Normalise stage: ExtractedArticle + where it was fetched → ArticleRecord, ready to store.

Owns the choice of the article's identity (its canonical URL: the page's own rel=canonical when it may
be one, see declared_identity, else the fetched URL), the language fallback to the source's,
dates as UTC instants (the strings the page wrote are kept beside them), the content hash, and the
forms the store indexes (MinHash signature, search-index text), made here so that the work runs in the
parse workers rather than on the store thread. Pure: no I/O.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from crawler.config import SourceConfig
from crawler.dates import as_utc
from crawler.dedupe import comparable_words_of_key, content_hash
from crawler.models import ArticleRecord, ExtractedArticle, Page
from crawler.neardup import DUPLICATE_SIMILARITY, signature_of_words, similarity
from crawler.search import index_text_of_key, search_title
from crawler.textnorm import match_keys_by_piece
from crawler.urls import BadUrl, UrlPolicy, canonicalize

__all__ = ["declared_identity", "identity_claim_holds", "normalize_article"]


def declared_identity(declared: str | None, policy: UrlPolicy) -> str | None:
    """The page's rel=canonical as the article's identity, when it may be one: a fetchable URL on the
    source's allowed domains (syndication points off-site), that is not the site's root (themes that
    declare the home page on every page would fold all articles into one), and that looks like an article
    when the source says what its articles look like (article_url_pattern). The store then accepts it only
    from the article it names or a near-copy of it (store.py: a page cannot take over another article)."""
    if not declared:
        return None
    try:
        canonical = canonicalize(declared)
    except BadUrl:
        return None
    if (
        policy.refusal(canonical) is not None
        or urlsplit(canonical).path in ("", "/")
        or not policy.is_article(canonical)
    ):
        return None
    return canonical


def identity_claim_holds(
    stored_url: str, stored_source: str, stored_signature: bytes | None, record: ArticleRecord
) -> bool:
    """Whether a page whose declared canonical URL names a stored article may be that article: it was
    fetched at that article's own URL, or it is the same source's near-copy of it (an AMP or print version,
    a URL with extra parameters). Otherwise the claim is a lie or a theme's mistake: the page keeps its own
    identity and the stored article keeps its title, body and source."""
    if stored_url == record.url:
        return True
    if stored_source != record.source_id or stored_signature is None or record.signature is None:
        return False
    return similarity(stored_signature, record.signature) >= DUPLICATE_SIMILARITY


def _comparable_and_indexed(body: str) -> tuple[str, str]:
    """The body's comparable words (for the hash and the signature) and its search-index text, both made
    from one match key per piece (dedupe.comparable_words and search.index_text, sharing the key)."""
    words, indexed = [], []
    for key in match_keys_by_piece(body):
        words.append(comparable_words_of_key(key))
        indexed.append(index_text_of_key(key))
    return " ".join(filter(None, words)), " ".join(filter(None, indexed))


def normalize_article(article: ExtractedArticle, page: Page, source: SourceConfig, policy: UrlPolicy) -> ArticleRecord:
    fetched = canonicalize(page.final_url)
    canonical = declared_identity(article.canonical_url, policy) or fetched
    body_words, body_index = _comparable_and_indexed(article.body)
    return ArticleRecord(
        source_id=source.id,
        url=canonicalize(page.url),
        canonical_url=canonical,
        title=article.title,
        published=as_utc(article.published),
        modified=as_utc(article.modified),
        authors=list(article.authors),
        section=article.section,
        tags=list(article.tags),
        language=article.language or source.language,
        image=article.image,
        site_name=article.site_name,
        description=article.description,
        body=article.body,
        content_hash=content_hash(article, body_words),
        etag=page.validators.etag,
        last_modified=page.validators.last_modified,
        provenance=dict(article.provenance),
        published_text=article.published_text,
        modified_text=article.modified_text,
        signature=signature_of_words(body_words),
        search_form=(search_title(article.title, article.tags, article.authors), body_index),
    )

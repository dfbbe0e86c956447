"""Normalise stage: ExtractedArticle + where it was fetched → ArticleRecord, ready to store.

Owns the choice of the article's identity (its canonical URL: the page's own rel=canonical when it
stays on the source's allowed domains, else the fetched URL), the language fallback to the source's,
dates as UTC instants (the strings the page wrote are kept beside them), the content hash, and the
forms the store indexes (MinHash signature, search-index text), made here so that the work runs in the
parse workers rather than on the store thread. Pure: no I/O.
"""

from __future__ import annotations

from crawler.config import SourceConfig
from crawler.dates import as_utc
from crawler.dedupe import comparable_words_of_key, content_hash
from crawler.models import ArticleRecord, ExtractedArticle, Page
from crawler.neardup import signature_of_words
from crawler.search import index_text, index_text_of_key
from crawler.textnorm import match_key
from crawler.urls import UrlPolicy, canonicalize

__all__ = ["normalize_article"]


def normalize_article(article: ExtractedArticle, page: Page, source: SourceConfig, policy: UrlPolicy) -> ArticleRecord:
    fetched = canonicalize(page.final_url)
    canonical = fetched
    if article.canonical_url:
        declared = canonicalize(article.canonical_url)
        if policy.refusal(declared) is None:
            canonical = declared  # a rel=canonical pointing off-site (syndication) is not trusted
    body_key = match_key(article.body)  # once: the hash, the signature and the index all start from it
    body_words = comparable_words_of_key(body_key)
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
        signature=signature_of_words(body_words.split()),
        search_form=(index_text(article.title), index_text_of_key(body_key)),
    )


"""Where the CPU-heavy stages run: decoding, extraction and normalisation of a fetched page.

With ``parse_processes`` > 0 they run in a pool of worker processes, so parsing uses every core while
the event loop fetches and the store thread writes; with 0 they run in threads (one core, as the GIL
allows; what the tests use, and what small machines may prefer). Workers start from a forkserver that
has imported the extraction code once, never by forking the crawler's threaded process. A job carries
only picklable values (the page's bytes, the source's config, its rules and learned template).
"""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from crawler.config import SourceConfig
from crawler.decode import decode_html
from crawler.extract import SelectorRules, extract_article
from crawler.models import ArticleRecord, ExtractedArticle, Page
from crawler.normalize import normalize_article
from crawler.urls import UrlPolicy

__all__ = ["MIN_BODY_CHARS", "ParseJob", "Parsed", "Parser", "parse_page"]

MIN_BODY_CHARS = 80  # below this a page is a section/tag/about page, not an article


@dataclass(frozen=True, slots=True)
class ParseJob:
    page: Page
    source: SourceConfig
    policy: UrlPolicy
    rules: SelectorRules
    template: frozenset[str]


@dataclass(frozen=True, slots=True)
class Parsed:
    article: ExtractedArticle
    record: ArticleRecord | None  # None when the page has too little text to be an article


def parse_page(job: ParseJob) -> Parsed:
    """Bytes → text → ExtractedArticle → ArticleRecord (with its MinHash signature)."""
    page, source = job.page, job.source
    text, _ = decode_html(page.body, page.content_type)
    article = extract_article(text, page.final_url, source.timezone, source.language, rules=job.rules,
                              template=job.template)  # fmt: skip
    if len(article.body) < MIN_BODY_CHARS:
        return Parsed(article, None)
    return Parsed(article, normalize_article(article, page, source, job.policy))


class Parser:
    """Runs parse_page in ``processes`` worker processes, or in threads when 0. ``close()`` when done."""

    def __init__(self, processes: int) -> None:
        self._pool: ProcessPoolExecutor | None = None
        if processes > 0:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["crawler.workers", "crawler.neardup"])
            self._pool = ProcessPoolExecutor(processes, mp_context=context)

    async def parse(self, job: ParseJob) -> Parsed:
        if self._pool is None:
            return await asyncio.to_thread(parse_page, job)
        return await asyncio.get_running_loop().run_in_executor(self._pool, parse_page, job)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

"""The parse worker pool: pages parsed in worker processes fed by the event loop; a worker that dies or
hangs fails only its page and is replaced. Real processes (forkserver), real pages."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from crawler.config import SourceConfig
from crawler.errors import ParseFailed
from crawler.extract import SelectorRules
from crawler.models import Page, Validators
from crawler.urls import UrlPolicy
from crawler.workers import Parsed, Parser, ParseSpec

SEED = Path(__file__).parent / "golden" / "seed" / "article.html"
SOURCE = SourceConfig(id="s", name="S", feeds=["https://e.example/feed"], interval="1h")


SPEC = ParseSpec(SOURCE, UrlPolicy(("e.example",)), SelectorRules(), frozenset())


def _page(html: bytes, url: str = "https://e.example/2024/01/25/story/") -> Page:
    return Page(url, url, 200, html, "text/html; charset=utf-8", Validators(), 1.0)


def _slow_page() -> bytes:
    """A page that takes a worker seconds (4 s here): 11 MB in 20,000 paragraphs."""
    paragraph = "<p>" + "كلمة عربية في فقرة طويلة من نص المقال " * 8 + "</p>"
    return f"<html><body><article><h1>Slow</h1>{paragraph * 20_000}</article></body></html>".encode()


def test_a_worker_killed_mid_page_fails_that_page_and_is_replaced() -> None:
    async def run() -> tuple[Parsed, Parsed, int, list[int]]:
        parser = Parser(1)
        try:
            before = await parser.parse(_page(SEED.read_bytes()), SPEC)
            [pid] = parser.worker_pids()
            slow = asyncio.ensure_future(parser.parse(_page(_slow_page(), "https://e.example/slow/"), SPEC))
            await asyncio.sleep(0.5)
            os.kill(pid, signal.SIGKILL)
            with pytest.raises(ParseFailed, match=r"https://e\.example/slow/: the parse worker died \(killed by signal 9\)"):
                await slow
            after = await parser.parse(_page(SEED.read_bytes()), SPEC)
            return before, after, pid, parser.worker_pids()
        finally:
            parser.close()

    before, after, killed, now = asyncio.run(run())
    assert before.record is not None and before.article.title
    assert after == before  # the replacement parses like the first worker did
    assert len(now) == 1 and now[0] != killed


def test_workers_parse_many_pages_at_once_like_threads_do() -> None:
    pages = [_page(SEED.read_bytes(), f"https://e.example/2024/01/25/story-{n}/") for n in range(12)]

    async def run(processes: int) -> list[Parsed]:
        parser = Parser(processes)
        try:
            return await asyncio.gather(*(parser.parse(page, SPEC) for page in pages))
        finally:
            parser.close()

    in_processes, in_threads = asyncio.run(run(2)), asyncio.run(run(0))
    assert in_processes == in_threads
    assert [parsed.record.url for parsed in in_processes if parsed.record] == [page.url for page in pages]

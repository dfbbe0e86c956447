"""The worker pool: article pages fetched and parsed in worker processes fed by the event loop; a worker
that dies or hangs fails only the pages it had and is replaced. Real processes (forkserver), real pages, a
real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gzip
import os
import pickle
import signal
import time
from datetime import timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from crawler.config import CrawlerSettings, SourceConfig
from crawler.errors import (
    BlockedError,
    ConnectError,
    CrawlerError,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    NotHtml,
    ParseFailed,
    TooLargeError,
)
from crawler.extract import SelectorRules
from crawler.fetch import Fetcher
from crawler.models import Page, Parsed, Validators
from crawler.urls import UrlPolicy
from crawler.workers import Parser, ParseSpec

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
            with pytest.raises(
                ParseFailed, match=r"https://e\.example/slow/: the parse worker died \(killed by signal 9\)"
            ):
                await slow
            after = await parser.parse(_page(SEED.read_bytes()), SPEC)
            return before, after, pid, parser.worker_pids()
        finally:
            await parser.aclose()

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
            await parser.aclose()

    in_processes, in_threads = asyncio.run(run(2)), asyncio.run(run(0))
    assert in_processes == in_threads
    assert [parsed.record.url for parsed in in_processes if parsed.record] == [page.url for page in pages]


# --- article pages fetched in the workers: the exchange is made where the page is parsed ------------------

LOCAL_SPEC = ParseSpec(SOURCE, UrlPolicy(("localhost", "127.0.0.1")), SelectorRules(), frozenset())
SETTINGS = CrawlerSettings(
    allow_private_addresses=True, per_host_delay=0, retries=0, obey_robots=False, max_page_bytes=1_000_000
)


async def _fetch_in_worker(parser: Parser, url: str, validators: Validators | None = None) -> Page:
    fetcher = Fetcher(SETTINGS)
    try:
        return await fetcher.fetch(url, LOCAL_SPEC.policy, validators, via=parser.exchange_for(LOCAL_SPEC))
    finally:
        await fetcher.aclose()


def test_a_worker_fetches_and_parses_the_page_and_only_the_result_comes_back(httpserver: HTTPServer) -> None:
    seed = SEED.read_bytes()
    httpserver.expect_request("/old").respond_with_data("", status=301, headers={"Location": "/story/"})
    httpserver.expect_request("/story/").respond_with_data(
        gzip.compress(seed), headers={"Content-Encoding": "gzip", "Content-Type": "text/html; charset=utf-8",
                                      "ETag": '"v1"'})  # fmt: skip

    async def run() -> tuple[Page, Parsed, Parsed]:
        parser, threads = Parser(1, SETTINGS), Parser(0)
        try:
            page = await _fetch_in_worker(parser, httpserver.url_for("/old"))
            here = Page(page.url, page.final_url, 200, seed, "text/html; charset=utf-8", page.validators, 1.0)
            return page, await parser.parse(page, LOCAL_SPEC), await threads.parse(here, LOCAL_SPEC)
        finally:
            await parser.aclose()

    page, in_worker, in_thread = asyncio.run(run())
    assert page.body == b"" and page.size == len(seed)  # the body stayed in the worker
    assert page.url == httpserver.url_for("/old") and page.final_url == httpserver.url_for("/story/")
    assert page.validators.etag == '"v1"'
    assert [request.path for request, _ in httpserver.log] == ["/old", "/story/"]  # each hop asked for here
    assert in_worker == in_thread and in_worker.record is not None
    assert in_worker.record.url == httpserver.url_for("/old")  # normalised with the URL the chain began at


def test_what_goes_wrong_in_a_worker_comes_back_as_the_error_it_is(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/gone").respond_with_data("", status=404)
    httpserver.expect_request("/big").respond_with_data(b"<p>" + b"x" * 2_000_000)
    httpserver.expect_request("/image").respond_with_data(b"\x89PNG\r\n\x1a\n" + bytes(500), content_type="image/png")
    httpserver.expect_request("/same").respond_with_data("", status=304, headers={"ETag": '"v1"'})

    async def run() -> list[object]:
        parser = Parser(1, SETTINGS)
        outcomes: list[object] = []
        try:
            for path in ("/gone", "/big", "/image", "/same"):
                try:
                    page = await _fetch_in_worker(parser, httpserver.url_for(path), Validators('"v1"'))
                    outcomes.append(page if page.not_modified else await parser.parse(page, LOCAL_SPEC))
                except CrawlerError as exc:
                    outcomes.append(exc)
        finally:
            await parser.aclose()
        return outcomes

    gone, big, image, same = asyncio.run(run())
    assert isinstance(gone, HTTPStatusError) and gone.status == 404
    assert isinstance(big, TooLargeError) and "max_page_bytes" in big.reason and big.url.endswith("/big")
    assert isinstance(image, NotHtml) and "image/png" in str(image)
    assert isinstance(same, Page) and same.not_modified


def test_a_worker_killed_mid_fetch_fails_its_pages_and_the_next_ones_go_to_a_new_worker(httpserver: HTTPServer) -> None:
    def slow(request: Request) -> Response:
        time.sleep(1.0)
        return Response(SEED.read_bytes(), content_type="text/html; charset=utf-8")

    httpserver.expect_request("/slow/").respond_with_handler(slow)
    httpserver.expect_request("/story/").respond_with_data(SEED.read_bytes(), content_type="text/html; charset=utf-8")

    async def run() -> tuple[BaseException | None, Page, int, list[int]]:
        parser = Parser(1, SETTINGS)
        try:
            parser.exchange_for(LOCAL_SPEC)  # starts the worker
            await asyncio.sleep(0)
            pending = asyncio.ensure_future(_fetch_in_worker(parser, httpserver.url_for("/slow/")))
            await asyncio.sleep(0.5)
            [pid] = parser.worker_pids()
            os.kill(pid, signal.SIGKILL)
            failure = None
            try:
                await pending
            except ParseFailed as exc:
                failure = exc
            after = await _fetch_in_worker(parser, httpserver.url_for("/story/"))
            return failure, after, pid, parser.worker_pids()
        finally:
            await parser.aclose()

    failure, after, killed, now = asyncio.run(run())
    assert failure is not None and "the parse worker died (killed by signal 9)" in str(failure)
    assert after.processed is not None and after.size == SEED.stat().st_size
    assert len(now) == 1 and now[0] != killed


@pytest.mark.parametrize(
    "error",
    [FetchError("https://e.example/a", "why"), FetchTimeout("https://e.example/a", "slow"),
     ConnectError("https://e.example/a", "reset"), BlockedError("https://e.example/a", "private address"),
     TooLargeError("https://e.example/a", "big"), HTTPStatusError("https://e.example/a", 503, 30.0),
     NotHtml("Content-Type image/png is not HTML"), ParseFailed("https://e.example/a: the parse worker died")],
)  # fmt: skip
def test_errors_cross_the_process_boundary_intact(error: CrawlerError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error) and str(copy) == str(error) and vars(copy) == vars(error)


def test_a_hung_worker_fails_its_pages_and_is_replaced(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/story/").respond_with_data(SEED.read_bytes(), content_type="text/html; charset=utf-8")
    settings = SETTINGS.model_copy(update={"timeout": timedelta(seconds=1)})

    async def run() -> tuple[BaseException | None, float, Page, int, list[int]]:
        parser = Parser(1, settings, parse_timeout=1.0)
        fetcher = Fetcher(settings)
        via = parser.exchange_for(LOCAL_SPEC)
        url = httpserver.url_for("/story/")
        try:
            await fetcher.fetch(url, LOCAL_SPEC.policy, via=via)  # the worker is up and answering
            [pid] = parser.worker_pids()
            os.kill(pid, signal.SIGSTOP)  # alive, silent: what a page looping in lexbor looks like
            started, failure = time.monotonic(), None
            try:
                await fetcher.fetch(url, LOCAL_SPEC.policy, via=via)
            except ParseFailed as exc:
                failure = exc
            waited = time.monotonic() - started
            after = await fetcher.fetch(url, LOCAL_SPEC.policy, via=via)
            return failure, waited, after, pid, parser.worker_pids()
        finally:
            await fetcher.aclose()
            await parser.aclose()

    failure, waited, after, hung, now = asyncio.run(run())
    assert failure is not None and "the parse worker did not answer within 2 s" in str(failure)
    assert 1.9 < waited < 10
    assert isinstance(after.processed, Parsed) and now != [hung] and len(now) == 1
    with pytest.raises(ProcessLookupError):
        os.kill(hung, 0)  # killed, not left stopped


def test_a_worker_that_died_while_idle_is_replaced_before_the_next_page(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/story/").respond_with_data(SEED.read_bytes(), content_type="text/html; charset=utf-8")

    async def run() -> tuple[float, Page, int, list[int]]:
        parser = Parser(1, SETTINGS)
        try:
            await _fetch_in_worker(parser, httpserver.url_for("/story/"))
            [pid] = parser.worker_pids()
            os.kill(pid, signal.SIGKILL)  # as the OOM killer would, between pages
            await asyncio.sleep(0.3)  # the crawler's end sees the socket close
            started = time.monotonic()
            page = await _fetch_in_worker(parser, httpserver.url_for("/story/"))
            return time.monotonic() - started, page, pid, parser.worker_pids()
        finally:
            await parser.aclose()

    took, page, killed, now = asyncio.run(run())
    assert isinstance(page.processed, Parsed) and len(now) == 1 and now[0] != killed
    assert took < 10  # not the fetch timeout + parse timeout a request to the dead worker would wait


def test_workers_that_cannot_import_their_code_give_one_error_and_parsing_goes_on_here(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A worker whose code cannot be imported dies before it is ready. Here the settings it is handed are
    of a class from a module only this process has: unpickling them fails in every worker, as an import
    shadowed by the working directory did."""
    import sys
    import types

    module = types.ModuleType("crawler_settings_only_here")

    class Unreachable(CrawlerSettings):
        pass

    Unreachable.__module__, Unreachable.__qualname__ = module.__name__, "Unreachable"
    module.Unreachable = Unreachable  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module

    async def run() -> tuple[Parsed, Parsed]:
        parser = Parser(2, Unreachable())
        try:
            await parser.ready()
            assert parser.exchange_for(SPEC) is None  # fetch here, parse here
            first = await parser.parse(_page(SEED.read_bytes()), SPEC)
            second = await parser.parse(_page(SEED.read_bytes()), SPEC)
            return first, second
        finally:
            await parser.aclose()
            del sys.modules[module.__name__]

    with caplog.at_level("ERROR", logger="crawler.workers"):
        first, second = asyncio.run(run())
    assert first.article.title and first.article.title == second.article.title
    errors = [record.getMessage() for record in caplog.records if record.levelname == "ERROR"]
    assert len(errors) == 1 and errors[0].startswith(
        "parse workers cannot start (a parse worker died before it was ready"
    )


def test_a_folder_named_crawler_in_the_working_directory_does_not_shadow_the_workers(tmp_path: Path) -> None:
    """Run from the parent of a checkout: the working directory holds a folder named crawler."""
    import subprocess
    import sys

    from conftest import serving, site_source, write_config

    from crawler.demo.site import NewsSite

    (tmp_path / "crawler").mkdir()
    (tmp_path / "crawler" / "README.md").write_text("a checkout, not the package\n")
    site = NewsSite(articles=4)
    with serving(site) as base:
        config = write_config(tmp_path, site_source(base), parse_processes=2)
        script = Path(sys.executable).with_name("crawler")
        command = [str(script)] if script.exists() else [sys.executable, "-m", "crawler"]
        result = subprocess.run([*command, "crawl", "--config", str(config)], cwd=tmp_path, capture_output=True,
                                text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and "worker" not in result.stderr, result.stderr[-2000:]
    arabic = sum(1 for article in site.articles() if article.language == "ar")
    assert f"new {arabic}," in result.stderr

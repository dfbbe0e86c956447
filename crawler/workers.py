"""Where the CPU-heavy stages run: the article page's HTTP exchange, then decoding, extraction and
normalisation of its body.

With ``parse_processes`` > 0 they run in worker processes, each with its own event loop and HTTP client:
the crawler's process decides what to fetch and when (politeness, robots.txt, retries and redirects stay
in fetch.Fetcher), hands each article hop to a worker (``exchange_for``), and gets back what the worker
made of the body (models.Parsed, or the error) rather than the body. The page's bytes never cross a process boundary,
and the request and response handling, which cost the crawler's event loop as much as parsing, is spread
over the cores with it. With 0, pages are fetched in the crawler's process and parsed in threads (one
core, as the GIL allows; what the tests use, and what small machines may prefer).

Workers start from a forkserver that has imported the extraction and fetch code once, never by forking the
crawler's threaded process. Each talks to the crawler over one socket: length-prefixed pickles of
requests ("fetch" or "parse") and answers, many in flight, matched by number. A worker parses a body
inside its event loop (a few milliseconds; its other exchanges wait in the kernel's buffers meanwhile; a
10 MB page that takes seconds holds them as long, and counts against their timeouts).
A worker that dies, or does not answer within the fetch timeout plus PARSE_TIMEOUT, is killed and
replaced; the pages it had in flight fail with ParseFailed. Requests and answers carry only picklable
values (URLs, headers, the source's config, its rules and learned template; Parsed records; errors).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import logging
import multiprocessing
import multiprocessing.context
import os
import pickle
import signal
import socket
import struct
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from typing import Any

from crawler import forkserver
from crawler.config import CrawlerSettings, SourceConfig
from crawler.decode import decode_html, non_html_reason
from crawler.errors import CrawlerError, FetchError, NotHtml, ParseFailed
from crawler.extract import SelectorRules, extract_article
from crawler.fetch import Answer, Exchange, HttpClient, exchange
from crawler.models import ByPosition, Page, Parsed, ParseOutcome
from crawler.normalize import normalize_article
from crawler.urls import UrlPolicy

__all__ = ["MIN_BODY_CHARS", "PARSE_TIMEOUT", "ParseSpec", "Parsed", "Parser", "parse_page"]

MIN_BODY_CHARS = 80  # below this a page is a section/tag/about page, not an article
PARSE_TIMEOUT = 60.0  # seconds one page may take in a worker before it is killed and replaced
logger = logging.getLogger(__name__)
_FRAME = struct.Struct("!I")  # each message: its length, then a pickle
_READY = b"ready"  # a worker's first frame: its code imported, its loop running
_START_TIMEOUT = 60.0  # seconds a new worker may take to say it is ready (the forkserver may still import)


class WorkerStartFailed(CrawlerError):
    """A parse worker died or stayed silent before it was ready."""


_SPECS_KEPT = 64  # source runs' specs a worker keeps unpickled


@dataclass(frozen=True, slots=True)
class ParseSpec(ByPosition):
    """What parsing a page of one source needs besides the page (the same for a whole source run)."""

    source: SourceConfig
    policy: UrlPolicy
    rules: SelectorRules
    template: frozenset[str]


def parse_page(page: Page, spec: ParseSpec) -> Parsed:
    """Bytes → text → ExtractedArticle → ArticleRecord (with its MinHash signature). NotHtml when the
    answer is an image, a PDF or empty."""
    refusal = non_html_reason(page.body, page.content_type)
    if refusal:
        raise NotHtml(refusal)
    source = spec.source
    text, _ = decode_html(page.body, page.content_type)
    article = extract_article(text, page.final_url, source.timezone, source.language, rules=spec.rules,
                              template=spec.template)  # fmt: skip
    if len(article.body) < MIN_BODY_CHARS:
        return Parsed(article, None)
    return Parsed(article, normalize_article(article, page, source, spec.policy))


class Parser:
    """Runs article exchanges and parse_page in ``processes`` worker processes, or parses in threads when 0.
    A worker that has not answered a fetch within settings.timeout + ``parse_timeout`` (a parse within
    ``parse_timeout``) is taken to hang: it is killed and replaced. ``await aclose()`` when done."""

    def __init__(
        self, processes: int, settings: CrawlerSettings | None = None, parse_timeout: float = PARSE_TIMEOUT
    ) -> None:
        self._processes = processes
        self._settings = settings or CrawlerSettings()
        self._parse_timeout = parse_timeout
        self._context = multiprocessing.get_context("forkserver")
        if processes > 0:
            forkserver.start_early()  # if the CLI has not already: it overlaps opening the store, discovery
        self._workers: list[_Worker] = []
        self._started: asyncio.Task[None] | None = None  # in the running loop, when the first run asks
        self._broken: str | None = None  # why the workers cannot start: pages are parsed here instead

    @property
    def _local(self) -> bool:
        return self._processes == 0 or self._broken is not None

    def exchange_for(self, spec: ParseSpec) -> Exchange | None:
        """For Fetcher.fetch(via=...): each hop of an article page made in a worker, which parses a 2xx
        body as spec says and answers with the result. None without workers (fetch here, parse later),
        and once the workers have turned out unable to start."""
        if self._local:
            return None
        self._start_workers_soon()

        pickled_spec = pickle.dumps(spec, pickle.HIGHEST_PROTOCOL)  # once per run, not once per page

        async def via(url: str, original_url: str, headers: dict[str, str]) -> Answer:
            deadline = self._settings.timeout.total_seconds() + self._parse_timeout
            answer = await self._ask(("fetch", url, original_url, headers, pickled_spec), url, deadline)
            if not isinstance(answer, Answer):
                raise TypeError(f"a worker answered a fetch with {type(answer).__name__}")
            return answer

        return via

    async def parse(self, page: Page, spec: ParseSpec) -> Parsed:
        """What the page's body holds. A page a worker fetched was parsed there already: its result (or
        the error parsing raised) is taken from the page. Raises NotHtml or ParseFailed."""
        if page.processed is not None:
            return _unwrap(page.processed)
        if self._local:
            try:
                return await asyncio.to_thread(parse_page, page, spec)
            except NotHtml:
                raise
            except Exception as exc:  # a bug in extraction: this page fails, the crawl goes on
                raise ParseFailed(f"{page.url}: extraction raised {type(exc).__name__}: {exc}") from exc
        return _unwrap(_parse_outcome(await self._ask(("parse", page, spec), page.url, self._parse_timeout)))

    def worker_pids(self) -> list[int]:
        """The worker processes' ids (started on the first page)."""
        return [worker.pid for worker in self._workers]

    async def ready(self) -> None:
        """Wait until the workers have started (or turned out unable to): call before exchange_for to know
        which it will be."""
        if not self._local:
            await self._start_workers_soon()

    async def _ask(self, request: tuple[Any, ...], url: str, deadline: float) -> object:
        """Send request to the least busy worker; its answer. A worker that died or hangs is replaced."""
        await self._start_workers_soon()
        await self._replace_unusable()  # one that died while idle (an OOM kill) is replaced before use
        if not self._workers:
            raise ParseFailed(f"{url}: no parse worker could start ({self._broken})")
        worker = min(self._workers, key=lambda candidate: (candidate.load, candidate.asked))
        try:
            return await worker.ask(request, url, deadline)
        finally:
            if not worker.usable:
                await self._replace_unusable()

    async def _replace_unusable(self) -> None:
        for worker in [candidate for candidate in self._workers if not candidate.usable]:
            if worker in self._workers:  # not already replaced by another page that found it so
                self._workers.remove(worker)
                worker.kill()
                try:
                    self._workers.append(await _Worker.start(self._context, self._settings))
                except WorkerStartFailed as exc:
                    self._give_up_if_none_left(str(exc))

    def _start_workers_soon(self) -> asyncio.Task[None]:
        """The task starting the workers (in a thread each: the forkserver may still be importing), once."""
        if self._started is None:
            self._started = asyncio.create_task(self._start_workers())
        return self._started

    async def _start_workers(self) -> None:
        starts = (_Worker.start(self._context, self._settings) for _ in range(self._processes))
        started = await asyncio.gather(*starts, return_exceptions=True)
        self._workers.extend(worker for worker in started if isinstance(worker, _Worker))
        failures = [str(outcome) for outcome in started if isinstance(outcome, BaseException)]
        if failures:
            logger.warning("%d of %d parse workers did not start: %s", len(failures), self._processes, failures[0])
            self._give_up_if_none_left(failures[0])

    def _give_up_if_none_left(self, reason: str) -> None:
        """With no worker running and none able to start, parse in this process from now on: said once, as
        an error; the pages in flight fail once (ParseFailed) and are fetched again on the next run."""
        if not self._workers and self._broken is None:
            self._broken = reason
            logger.error(
                "parse workers cannot start (%s): fetching and parsing in the crawler's process instead", reason
            )

    async def aclose(self) -> None:
        if self._started is not None:
            await asyncio.gather(self._started, return_exceptions=True)  # its failure was the runs' to report
        for worker in self._workers:
            worker.stop()
        self._workers.clear()


def _parse_outcome(answer: object) -> ParseOutcome:
    """A worker's answer to a parse, read off its socket: checked to be what the frame promises."""
    if not isinstance(answer, Parsed | NotHtml | ParseFailed):
        raise TypeError(f"a worker answered a parse with {type(answer).__name__}")
    return answer


def _unwrap(processed: ParseOutcome) -> Parsed:
    if isinstance(processed, Parsed):
        return processed
    raise processed


class _Worker:
    """One worker process and the crawler's end of its socket: requests in flight, by number."""

    def __init__(self, process: multiprocessing.context.ForkServerProcess, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:  # fmt: skip
        self._process, self._reader, self._writer = process, reader, writer
        self._numbers = itertools.count()
        self.asked = 0  # requests so far: ties on load go to the worker asked least, not always the first
        self._waiting: dict[int, tuple[asyncio.Future[object], str]] = {}
        self._listener = asyncio.create_task(self._listen())
        self.usable = True
        self.pid = int(process.pid or 0)

    @classmethod
    async def start(cls, context: multiprocessing.context.ForkServerContext, settings: CrawlerSettings) -> _Worker:
        """A started worker, once it says it is ready; WorkerStartFailed when it dies or stays silent first
        (its code cannot be imported, say)."""
        ours, theirs = context.Pipe()  # a socketpair: read by each side's event loop as a stream
        process = context.Process(target=_serve, args=(theirs, settings), name="crawler-parse", daemon=True)
        try:
            await asyncio.to_thread(process.start)  # waits for the forkserver, which imports the parse code first
        except Exception as exc:  # noqa: BLE001 - whatever stops a start (the forkserver gone, unpicklable settings) is one
            raise WorkerStartFailed(f"the forkserver could not start a worker: {exc!r}") from exc
        theirs.close()
        reader, writer = await asyncio.open_unix_connection(sock=_as_socket(ours))
        try:
            async with asyncio.timeout(_START_TIMEOUT):
                greeting = await _read_frame(reader)
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError):
            writer.close()
            process.join(1)  # a worker that died has its exit status; one that stays silent is killed
            if process.exitcode is None:
                process.kill()
                process.join(1)
            code = process.exitcode
            how = (
                "stayed silent" if code is None else f"killed by signal {-code}" if code < 0 else f"exit status {code}"
            )
            raise WorkerStartFailed(
                f"a parse worker died before it was ready ({how}; its error is on stderr)"
            ) from None
        if greeting != _READY:
            writer.close()
            process.kill()
            raise WorkerStartFailed(f"a parse worker greeted with {greeting[:40]!r}")
        return cls(process, reader, writer)

    @property
    def load(self) -> int:
        return len(self._waiting)

    async def ask(self, request: tuple[Any, ...], url: str, deadline: float) -> object:
        number = next(self._numbers)
        self.asked += 1
        answer: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._waiting[number] = (answer, url)
        try:
            _write_frame(self._writer, (number, *request))
            async with asyncio.timeout(deadline):
                return await answer
        except TimeoutError as exc:
            self.usable = False
            raise ParseFailed(f"{url}: the parse worker did not answer within {deadline:.0f} s") from exc
        finally:
            self._waiting.pop(number, None)

    async def _listen(self) -> None:
        """Answers to their requests; on end of file, every request still waiting fails."""
        try:
            while True:
                number, succeeded, value = pickle.loads(await _read_frame(self._reader))
                waiting = self._waiting.get(number)
                if waiting is None or waiting[0].done():
                    continue  # its asker gave up (cancelled, timed out)
                if succeeded:
                    waiting[0].set_result(value)
                else:
                    waiting[0].set_exception(value)
        except (asyncio.IncompleteReadError, ConnectionError):
            self.usable = False
            self._fail_waiting(f"the parse worker died ({self._exit_reason()})")
        except Exception as exc:  # an answer that does not unpickle: a bug; the worker is replaced
            logger.error("parse worker %d: unreadable answer: %r", self.pid, exc)
            self.usable = False
            self._fail_waiting(f"the parse worker's answer could not be read ({type(exc).__name__})")

    def _fail_waiting(self, reason: str) -> None:
        for answer, url in self._waiting.values():
            if not answer.done():
                answer.set_exception(ParseFailed(f"{url}: {reason}"))

    def _hang_up(self) -> None:
        """Shut the socket down now: the transport's own close waits for the event loop, which a caller
        joining the process is not giving a turn."""
        with contextlib.suppress(OSError):  # the worker's end went first: nothing left to shut
            self._writer.get_extra_info("socket").shutdown(socket.SHUT_RDWR)
        self._writer.close()

    def _exit_reason(self) -> str:
        self._process.join(1)
        code = self._process.exitcode
        return "still running" if code is None else f"killed by signal {-code}" if code < 0 else f"exit status {code}"

    def stop(self) -> None:
        """End the conversation (an idle worker exits on it); kill it if it does not go within a second."""
        self._listener.cancel()
        self._hang_up()
        self._process.join(1)
        if self._process.is_alive():
            self.kill()

    def kill(self) -> None:
        """For a worker that died or hangs: no waiting for it to finish; what it still had in flight fails."""
        self._listener.cancel()
        self._hang_up()
        self._process.kill()
        self._process.join(1)
        self._fail_waiting("the parse worker was replaced: another page in it hung")


def _as_socket(connection: Connection) -> socket.socket:
    """multiprocessing's duplex Pipe is a socketpair: its descriptor as a socket asyncio can stream over."""
    sock = socket.socket(fileno=os.dup(connection.fileno()))
    connection.close()
    return sock


def _write_frame(writer: asyncio.StreamWriter, message: object) -> None:
    payload = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
    writer.write(_FRAME.pack(len(payload)) + payload)


async def _read_frame(reader: asyncio.StreamReader) -> bytes:
    (size,) = _FRAME.unpack(await reader.readexactly(_FRAME.size))
    return await reader.readexactly(size)


def _serve(connection: Connection, settings: CrawlerSettings) -> None:
    """A worker process: answer requests until the crawler closes its end."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    # What the forkserver imported stays out of this process's garbage collections: a collection writes
    # into every object it visits, which would copy the shared pages holding them into this process.
    gc.freeze()
    asyncio.run(_serve_requests(_as_socket(connection), settings))


async def _serve_requests(sock: socket.socket, settings: CrawlerSettings) -> None:
    reader, writer = await asyncio.open_unix_connection(sock=sock)
    writer.write(_FRAME.pack(len(_READY)) + _READY)  # the code imported and the loop runs: requests welcome
    client = HttpClient(settings)
    specs: dict[bytes, ParseSpec] = {}  # unpickled once per source run
    running: set[asyncio.Task[None]] = set()
    try:
        while True:
            try:
                number, kind, *arguments = pickle.loads(await _read_frame(reader))
            except (asyncio.IncompleteReadError, ConnectionError):
                return  # the crawler closed its end
            if kind == "fetch":
                url, original_url, headers, pickled_spec = arguments
                if pickled_spec not in specs:
                    if len(specs) >= _SPECS_KEPT:
                        specs.clear()
                    specs[pickled_spec] = pickle.loads(pickled_spec)
                spec = specs[pickled_spec]
                task = asyncio.create_task(_fetch_and_parse(number, client, settings, writer, url, original_url,
                                                            headers, spec))  # fmt: skip
                running.add(task)
                task.add_done_callback(running.discard)
            else:
                _write_frame(writer, (number, True, _outcome(*arguments)))
    finally:
        for task in running:
            task.cancel()
        await client.aclose()


async def _fetch_and_parse(number: int, client: HttpClient, settings: CrawlerSettings, writer: asyncio.StreamWriter,
                           url: str, original_url: str, headers: dict[str, str], spec: ParseSpec) -> None:  # fmt: skip
    """One hop of an article page; a 2xx body is parsed here and only the result goes back."""
    try:
        answer = await exchange(client, url, headers, settings)
    except FetchError as exc:
        _write_frame(writer, (number, False, exc))
        return
    except Exception as exc:  # an error fetch.exchange does not translate (a bug): this page fails, not the worker
        _write_frame(writer, (number, False, FetchError(url, f"{type(exc).__name__}: {exc}")))
        return
    if 200 <= answer.status < 300:
        page = Page(original_url, url, answer.status, answer.body, answer.content_type, answer.validators, 0.0)
        processed = _outcome(page, spec)
        answer = replace(answer, body=b"", processed=processed)  # Parsed, or the error to raise in the crawler
    _write_frame(writer, (number, True, answer))


def _outcome(page: Page, spec: ParseSpec) -> ParseOutcome:
    """Parsed, or the error for the page: a bug in extraction fails one page."""
    try:
        return parse_page(page, spec)
    except NotHtml as exc:
        return exc
    except Exception as exc:  # reported to the crawler, which records the page as unusable
        return ParseFailed(f"{page.url}: extraction raised {type(exc).__name__}: {exc}")

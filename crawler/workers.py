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
import multiprocessing.context
import pickle
import signal
from dataclasses import dataclass
from multiprocessing.connection import Connection

from crawler.config import SourceConfig
from crawler.decode import decode_html
from crawler.errors import ParseFailed
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


PARSE_TIMEOUT = 60.0  # seconds one page may take in a worker before it is killed and replaced


class Parser:
    """Runs parse_page in ``processes`` worker processes, or in threads when 0. ``close()`` when done.

    The event loop feeds the workers itself: one pipe per worker, one page in flight on each, the answer
    read when the loop sees the pipe readable. (concurrent.futures' pool moves every job and result through
    two extra threads of this process, which competed with the event loop for the GIL: a crawl's workers
    spent a third of their time waiting to hand back results.) A worker that dies, hangs past
    PARSE_TIMEOUT or is abandoned mid-page is replaced; its page fails with ParseFailed."""

    def __init__(self, processes: int) -> None:
        self._processes = processes
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(["crawler.workers", "crawler.neardup"])
        self._idle: asyncio.Queue[_Worker] | None = None  # made in the running loop, on the first page
        self._workers: list[_Worker] = []

    async def parse(self, job: ParseJob) -> Parsed:
        if self._processes == 0:
            try:
                return await asyncio.to_thread(parse_page, job)
            except Exception as exc:  # a bug in extraction: this page fails, the crawl goes on
                raise ParseFailed(f"{job.page.url}: extraction raised {type(exc).__name__}: {exc}") from exc
        if self._idle is None:
            self._idle = asyncio.Queue()
            for _ in range(self._processes):
                self._idle.put_nowait(self._start_worker())
        worker = await self._idle.get()
        try:
            return await worker.run(job)
        finally:
            self._idle.put_nowait(worker if worker.usable else self._replace(worker))

    def worker_pids(self) -> list[int]:
        """The worker processes' ids (started on the first page)."""
        return [worker.pid for worker in self._workers]

    def _start_worker(self) -> _Worker:
        worker = _Worker(self._context)
        self._workers.append(worker)
        return worker

    def _replace(self, worker: _Worker) -> _Worker:
        worker.kill()
        self._workers.remove(worker)
        return self._start_worker()

    def close(self) -> None:
        for worker in self._workers:
            worker.stop()
        self._workers.clear()


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, context: multiprocessing.context.ForkServerContext) -> None:
        self._connection, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child,), name="crawler-parse", daemon=True)
        self._process.start()
        child.close()
        self.usable = True
        self.pid = int(self._process.pid or 0)

    async def run(self, job: ParseJob) -> Parsed:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[bytes] = loop.create_future()
        descriptor = self._connection.fileno()
        loop.add_reader(descriptor, self._receive, answer)
        self.usable = False  # until its answer is in: abandoned mid-page, it is replaced
        try:
            self._connection.send_bytes(pickle.dumps(job, pickle.HIGHEST_PROTOCOL))
            async with asyncio.timeout(PARSE_TIMEOUT):
                payload = await answer
        except TimeoutError as exc:
            raise ParseFailed(f"{job.page.url}: extraction took over {PARSE_TIMEOUT:.0f} s") from exc
        except (OSError, EOFError) as exc:
            raise ParseFailed(f"{job.page.url}: the parse worker died ({self._exit_reason()})") from exc
        finally:
            loop.remove_reader(descriptor)
        self.usable = True
        succeeded, value = pickle.loads(payload)
        if not succeeded:
            raise ParseFailed(f"{job.page.url}: extraction raised {value}")
        return value  # type: ignore[no-any-return]

    def _receive(self, answer: asyncio.Future[bytes]) -> None:
        if answer.done():
            return
        try:
            answer.set_result(self._connection.recv_bytes())
        except (OSError, EOFError) as exc:
            answer.set_exception(exc)

    def _exit_reason(self) -> str:
        self._process.join(1)
        code = self._process.exitcode
        return "still running" if code is None else f"killed by signal {-code}" if code < 0 else f"exit status {code}"

    def stop(self) -> None:
        """Close the pipe (an idle worker exits on it); kill it if it does not go within a second."""
        self._connection.close()
        self._process.join(1)
        if self._process.is_alive():
            self.kill()

    def kill(self) -> None:
        """For a worker that died, hangs or was left mid-page: no waiting for it to finish."""
        self._connection.close()
        self._process.kill()
        self._process.join(1)


def _serve(connection: Connection) -> None:
    """A worker's loop: a pickled ParseJob in, (True, Parsed) or (False, "Type: message") out, until EOF."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    while True:
        try:
            job = pickle.loads(connection.recv_bytes())
        except EOFError:
            return
        try:
            answer: tuple[bool, object] = (True, parse_page(job))
        except Exception as exc:  # reported to the parent, which fails this page
            answer = (False, f"{type(exc).__name__}: {exc}")
        try:
            connection.send_bytes(pickle.dumps(answer, pickle.HIGHEST_PROTOCOL))
        except BrokenPipeError:
            return  # the crawler closed its end while this page was parsed (shutdown, or gave up on it)

"""Event sinks: webhooks and commands that hear about events, without ever holding up a crawl.

Events are stored and logged first (store.py, events.publish); sinks are extra. ``Notifier.submit`` only
puts the event on a bounded queue (a full queue drops the oldest event, with a log line); one worker task
delivers each event to every sink that wants it: a webhook gets a POST with the event as JSON, a command
gets it on stdin. Each delivery has the sink's timeout and retries with backoff; a sink that fails or
hangs produces a logged error, never an exception in the crawl.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from tenacity import AsyncRetrying, stop_after_attempt, wait_exponential

from crawler.config import SinkConfig
from crawler.events import Event
from crawler.search import matches, parse_query

# The stored text of an article by id (title, body, tags), for sinks that filter by a search query.
ArticleText = Callable[[int], Awaitable[str | None]]

__all__ = ["ArticleText", "Notifier"]
logger = logging.getLogger(__name__)

_QUEUE_SIZE = 10_000


class Notifier:
    """Delivers events to the configured sinks in the background. Use ``start``, ``submit``, ``aclose``."""

    def __init__(
        self, sinks: list[SinkConfig], user_agent: str = "crawler", article_text: ArticleText | None = None
    ) -> None:
        self._sinks = sinks
        self._article_text = article_text  # for sinks with a query: the stored article's searchable text
        self._queries = {index: parse_query(sink.query) for index, sink in enumerate(sinks) if sink.query}
        self._queue: asyncio.Queue[Event] = asyncio.Queue(_QUEUE_SIZE)
        # Only with a webhook sink: a client loads the CA certificates (30 ms), every run and every `crawl`.
        webhooks = any(sink.type == "webhook" for sink in sinks)
        self._client = (
            httpx.AsyncClient(headers={"user-agent": user_agent}, follow_redirects=False) if webhooks else None
        )
        self._worker: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._worker = asyncio.get_running_loop().create_task(self._deliver_forever(), name="event sinks")

    @property
    def queue_depth(self) -> int:
        """Events waiting for delivery (for /metrics)."""
        return self._queue.qsize()

    def submit(self, event: Event) -> None:
        """Queue an event for the sinks that want it; returns at once."""
        if not any(sink.wants(event.type, event.source_id) for sink in self._sinks):
            return
        if self._queue.full():
            dropped = self._queue.get_nowait()
            logger.error("event sinks are behind: dropped event %s %s", dropped.id, dropped.type)
        self._queue.put_nowait(event)

    async def aclose(self, drain_seconds: float = 5.0) -> None:
        """Give queued events ``drain_seconds`` to go out, then stop."""
        if self._worker is not None:
            with suppress(TimeoutError):
                await asyncio.wait_for(self._queue.join(), drain_seconds)
            self._worker.cancel()
            with suppress(asyncio.CancelledError):
                await self._worker
        if self._client is not None:
            await self._client.aclose()

    async def deliver(self, event: Event) -> None:
        """Deliver the event to every sink that wants it, now, and return when done (or given up on)."""
        text: str | None = None
        for index, sink in enumerate(self._sinks):
            if not sink.wants(event.type, event.source_id):
                continue
            query = self._queries.get(index)
            if query is not None:
                if text is None:
                    text = await self._text_of(event)
                if not matches(query, text):
                    continue
            await self._deliver(sink, event)

    async def _text_of(self, event: Event) -> str:
        """The article's title, body and tags as stored (empty when it cannot be read: no match)."""
        if self._article_text is None or event.article_id is None:
            return ""
        try:
            return await self._article_text(event.article_id) or ""
        except Exception as exc:  # noqa: BLE001 - a sink's filter never raises into the crawl
            logger.error("event sinks: cannot read article %s to match a sink's query: %s", event.article_id, exc)
            return ""

    async def _deliver_forever(self) -> None:
        while True:
            event = await self._queue.get()
            try:
                await self.deliver(event)
            finally:
                self._queue.task_done()

    async def _deliver(self, sink: SinkConfig, event: Event) -> None:
        payload = json.dumps(_as_json(event), ensure_ascii=False).encode()
        target = {
            "command": sink.command[0] if sink.command else "",
            "webhook": _redacted(sink.url or ""),
            "apprise": f"{urlsplit(sink.url or '').scheme}://…",
        }[sink.type]  # an Apprise URL is its secrets
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(sink.retries + 1), wait=wait_exponential(multiplier=0.5, max=30), reraise=True
            ):
                with attempt:
                    await asyncio.wait_for(self._send(sink, payload), sink.timeout.total_seconds())
        except Exception as exc:  # noqa: BLE001 - a sink's failure is logged, never raised into the crawl
            reason = _describe(exc)
            logger.error(
                "event sink %s failed for event %s (%s) after %d attempt(s): %s",
                target, event.id, event.type, sink.retries + 1, reason,
                extra={"fields": {"sink": target, "event_id": event.id, "error": reason}},
            )  # fmt: skip

    async def _send(self, sink: SinkConfig, payload: bytes) -> None:
        if sink.type == "apprise":
            await _notify_with_apprise(sink, json.loads(payload))
            return
        if sink.type == "webhook":
            assert sink.url is not None and self._client is not None  # validated by SinkConfig; made for webhooks
            response = await self._client.post(sink.url, content=payload, headers={"content-type": "application/json"})
            response.raise_for_status()
            return
        process = await asyncio.create_subprocess_exec(*sink.command, stdin=asyncio.subprocess.PIPE)
        try:
            await process.communicate(payload)
        except asyncio.CancelledError:
            process.kill()  # timed out: do not leave the command running
            await process.wait()
            raise
        if process.returncode != 0:
            raise RuntimeError(f"exit status {process.returncode}")


async def _notify_with_apprise(sink: SinkConfig, event: dict[str, Any]) -> None:
    """One notification through Apprise (Telegram, Slack, e-mail, ntfy, ... by the URL's scheme): the
    event's type and headline as the title, its URL and what changed as the body."""
    try:
        import apprise
    except ImportError:
        raise RuntimeError("apprise is not installed: pip install 'crawler[notify]'") from None
    notifier = apprise.Apprise()
    if sink.url is None or not notifier.add(sink.url):
        raise RuntimeError("apprise does not know this URL's service")
    data = event["data"]
    title = f"{event['type']}: {data.get('title') or data.get('url') or event['source_id']}"
    changed = f"\nchanged: {', '.join(data['changed'])}" if data.get("changed") else ""
    body = f"{data.get('url', '')}{changed}\n({event['source_id']}, event {event['id']})"
    if not await notifier.async_notify(body=body, title=title):
        raise RuntimeError("the service did not take the notification")


def _describe(exc: Exception) -> str:
    """The failure without the URL (httpx puts the whole URL, tokens included, in its messages)."""
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code}"
    if isinstance(exc, httpx.HTTPError):
        return type(exc).__name__
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _redacted(url: str) -> str:
    """A webhook URL fit for a log line: no user:password, query or fragment (where tokens live)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.hostname or "", parts.path, "", ""))


def _as_json(event: Event) -> dict[str, object]:
    return {"id": event.id, "ts": event.ts, "type": event.type, "source_id": event.source_id,
            "article_id": event.article_id, "data": event.data}  # fmt: skip

"""What every command shares: the --config option, loading the config, and a store session for the
commands that read (or, templates --reset, write) the database."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from crawler.config import Config, SourceConfig, load_config, parse_duration, resolve_config_path
from crawler.display import shown
from crawler.errors import ConfigError, StoreError

if TYPE_CHECKING:  # the store's import is the commands' that use it, not every command's
    from crawler.store import Store

__all__ = [
    "Session",
    "Since",
    "SinceType",
    "config_option",
    "display_zone",
    "fail",
    "find_source",
    "importing",
    "load",
    "shown",
    "store_session",
    "tz_option",
]

T = TypeVar("T")

config_option = click.option(
    "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
    help="Config file (default: $CRAWLER_CONFIG, else config/crawler.toml).",
)  # fmt: skip


@contextlib.contextmanager
def importing() -> Iterator[None]:
    """For a command's imports: the garbage collector off while they run (they allocate much and free
    little; collecting meanwhile was 0.04 of the crawl's 0.29 s of imports), and what they made frozen
    after: it lives as long as the process, so the collections of a long run need not walk it again."""
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def load(config_path: Path | None, *, need_sources: bool = False) -> tuple[Path, Config]:
    path = resolve_config_path(config_path)
    try:
        return path, load_config(path, need_sources=need_sources)
    except ConfigError as exc:
        click.echo(f"invalid configuration ({len(exc.problems)} problem(s)):", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(2)


def fail(message: str) -> NoReturn:
    click.echo(f"crawler: {message}", err=True)
    sys.exit(1)


def find_source(config: Config, source_id: str) -> SourceConfig:
    for source in config.sources:
        if source.id == source_id:
            return source
    raise click.BadParameter(f"no such source: {source_id}", param_hint="--source")


class Session:
    """An open store, and the way a command that is not async waits for its answers."""

    def __init__(self, store: Store, loop: asyncio.AbstractEventLoop) -> None:
        self.store = store
        self._loop = loop

    def run(self, call: Coroutine[Any, Any, T]) -> T:
        return self._loop.run_until_complete(call)


@contextlib.contextmanager
def store_session(config: Config, *, writable: bool = False, live: bool = False) -> Iterator[Session]:
    """The configured database through open_store, read-only unless the command writes (nothing is
    created or migrated by a read); a missing or unusable file ends the command with one line naming it."""
    from crawler.store import open_store

    file = config.crawler.sqlite_file
    if file is not None and not file.exists():
        fail(f"no database at {file} yet")
    loop = asyncio.new_event_loop()
    try:
        try:
            store = loop.run_until_complete(open_store(config.crawler.database, read_only=not writable, live=live))
        except StoreError as exc:
            fail(str(exc))
        try:
            yield Session(store, loop)
        finally:
            loop.run_until_complete(store.close())
    finally:
        loop.close()


tz_option = click.option(
    "--tz", "tz", metavar="ZONE",
    help="Show times in this IANA time zone (e.g. Asia/Baghdad; default: [crawler] display_timezone, else UTC). "
         "--json output keeps the stored UTC values.",
)  # fmt: skip


def display_zone(tz: str | None, config: Config | None) -> ZoneInfo:
    """The zone times are shown in: --tz, else the config's display_timezone (stored values stay UTC)."""
    name = tz or (config.crawler.display_timezone if config else "UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(f"unknown time zone {name!r} (use an IANA name such as Asia/Baghdad)",
                                 param_hint="--tz") from None  # fmt: skip


@dataclass(frozen=True, slots=True)
class Since:
    """A --since as written, made a moment once the display zone is known: "2026-12-01", "today" and
    "yesterday" are midnights, and "2026-12-01T08:30" a wall time, in the user's zone; "2h" is an age."""

    text: str
    age: timedelta | None = None

    def moment(self, zone: ZoneInfo, now: datetime | None = None) -> datetime:
        now = (now or datetime.now(UTC)).astimezone(zone)
        if self.age is not None:
            return now - self.age
        if self.text in ("today", "yesterday"):
            midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
            return (midnight - timedelta(days=self.text == "yesterday")).astimezone(UTC)
        return _wall_time(self.text).replace(tzinfo=zone).astimezone(UTC)  # type: ignore[union-attr]


def _wall_time(text: str) -> datetime | None:
    for form in ("%Y-%m-%d", "%Y-%m-%dT%H:%M"):
        with contextlib.suppress(ValueError):
            return datetime.strptime(text.upper(), form)
    return None


class SinceType(click.ParamType[Since]):
    """A point in time as people write it: a date ("2026-12-01"), a date and time ("2026-12-01T08:30"), in
    the display zone; an age ("2h", "30m", "7d": that long ago); "today" or "yesterday" (local midnight)."""

    name = "since"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Since:
        if isinstance(value, Since):
            return value
        text = str(value).strip().lower()
        if text in ("today", "yesterday") or _wall_time(text) is not None:
            return Since(text)
        try:
            return Since(text, parse_duration(text))
        except ValueError:
            self.fail(f"{value!r}: write a date (2026-12-01), a date and time (2026-12-01T08:30), an age (2h, "
                      "30m, 7d), today or yesterday", param, ctx)  # fmt: skip

"""Configuration: a TOML file → frozen, validated pydantic models.

Owns where the config file is found, the defaults (as model field defaults, nowhere else) and every
validation rule. All problems are collected and raised at once as one ConfigError whose lines each
name the file, the source id and the field. Nothing is read at import time.
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from crawler.discover import DEFAULT_MAX_LINKS
from crawler.errors import ConfigError
from crawler.extract.overrides import SelectorRules, selector_error

__all__ = [
    "Config",
    "CrawlerSettings",
    "ExtractSelectors",
    "SinkConfig",
    "SourceConfig",
    "crontab_weekdays",
    "load_config",
    "parse_duration",
    "resolve_config_path",
]

DEFAULT_CONFIG_PATH = Path("config/crawler.toml")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SOURCE_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


_WEEKDAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def crontab_weekdays(field: str) -> str:
    """Crontab weekday numbers (0 or 7 = Sunday) as names, since APScheduler 3.x reads 0 as Monday."""
    return re.sub(r"(?<![/\d])\d+", lambda m: _WEEKDAY_NAMES[int(m.group()) % 8], field)


def parse_duration(value: object) -> timedelta:
    """Read "90s", "15m", "1h30m", "2d" or a number of seconds as a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration such as '15m', not a boolean")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower()
        parts = _DURATION_PART.findall(text)
        if not parts or _DURATION_PART.sub("", text).strip():
            raise ValueError(f"{value!r} is not a duration; write e.g. '90s', '15m', '1h30m' or '2d'")
        seconds = sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)
    else:
        raise ValueError(f"expected a duration such as '15m', got {type(value).__name__}")
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return timedelta(seconds=seconds)


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


_SQLITE_SCHEME = "sqlite:///"
_POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def database_location(database: str | Path) -> Path | str:
    """What a configured ``database`` names: an SQLite file (a path, or ``sqlite:///data/x.db``, relative,
    ``sqlite:////var/lib/crawler/crawler.db``, absolute) as a Path, or a PostgreSQL URL as it is written
    (``postgresql://user@host:5432/db``; the password belongs in PGPASSWORD or ~/.pgpass). ValueError for
    another URL."""
    if isinstance(database, Path):
        return database
    if database.startswith(_SQLITE_SCHEME):
        return Path(database[len(_SQLITE_SCHEME) :])
    if database.startswith(_POSTGRES_SCHEMES):
        return database
    if "://" in database:
        scheme = database.split("://", 1)[0]
        raise ValueError(f"no store backend for {scheme}:// URLs (a file path, sqlite:///path or postgresql://...)")
    return Path(database)


def redacted_database(database: str | Path) -> str:
    """A database as it may be shown or logged: a password in a URL replaced by ***."""
    if isinstance(database, Path):
        return str(database)
    scheme, _, rest = database.partition("://")
    credentials, at, host = rest.rpartition("@")
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}" if at and ":" in credentials else database


def known_zone(zone: str) -> str:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {zone!r} (use an IANA name such as 'Asia/Baghdad')") from None
    return zone


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CrawlerSettings(_Frozen):
    """The [crawler] table: settings shared by every source."""

    database: Path | str = Path("data/crawler.db")  # an SQLite file, or a PostgreSQL URL (database_location)
    user_agent: str = "crawler/0.1 (news monitor; +https://github.com/crawler-news/crawler)"
    concurrency: int = Field(16, ge=1, le=512)
    per_host_concurrency: int = Field(2, ge=1, le=64)
    per_host_delay: Duration = timedelta(seconds=0.5)
    timeout: Duration = timedelta(seconds=20)
    retries: int = Field(3, ge=0, le=10)
    log_format: Literal["json", "text"] = "text"
    allow_private_addresses: bool = False
    max_page_bytes: int = Field(10_000_000, ge=1024)
    max_redirects: int = Field(5, ge=0, le=20)
    max_links_per_page: int = Field(DEFAULT_MAX_LINKS, ge=1, le=1_000_000)  # of a feed, sitemap or listing page
    run_timeout: Duration = timedelta(minutes=10)
    failure_threshold: int = Field(3, ge=1, le=100)
    retry_backoff: Duration = timedelta(seconds=1)
    retry_max_wait: Duration = timedelta(seconds=60)
    obey_robots: bool = True
    metrics_port: int = Field(9464, ge=0, le=65535)  # /metrics and /healthz on 127.0.0.1; 0 turns them off
    display_timezone: str = "UTC"  # the zone the commands show times in (stored values stay UTC)
    fetch_log_days: int = Field(
        30, ge=0, le=36500
    )  # `crawler run` drops fetches rows older than this daily; 0 keeps all
    # worker processes for extraction and normalisation (crawler/workers.py); 0: threads of this process
    parse_processes: int = Field(default_factory=lambda: min(4, os.cpu_count() or 1), ge=0, le=64)

    @field_validator("database", mode="before")
    @classmethod
    def _database(cls, value: object) -> Path | str:
        return database_location(value if isinstance(value, str | Path) else str(value))

    @property
    def sqlite_file(self) -> Path | None:
        """The SQLite file, when the database is one."""
        return self.database if isinstance(self.database, Path) else None

    @property
    def database_label(self) -> str:
        """The database as it may be shown: a PostgreSQL URL without its password."""
        return redacted_database(self.database)

    @field_validator("display_timezone")
    @classmethod
    def _display_zone(cls, zone: str) -> str:
        return known_zone(zone)

    @field_validator("timeout", "run_timeout")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value.total_seconds() <= 0:
            raise ValueError("must be longer than zero")
        return value


class ExtractSelectors(_Frozen):
    """A source's [sources.extract] table: CSS selectors tried before the generic extractor."""

    body: str | None = None
    title: str | None = None
    date: str | None = None
    modified: str | None = None
    author: str | None = None
    tags: str | None = None
    drop: list[str] = []

    @field_validator("body", "title", "date", "modified", "author", "tags")
    @classmethod
    def _valid_selector(cls, selector: str | None) -> str | None:
        if selector is not None and (problem := selector_error(selector)):
            raise ValueError(problem)
        return selector

    @field_validator("drop")
    @classmethod
    def _valid_selectors(cls, selectors: list[str]) -> list[str]:
        problems = [problem for selector in selectors if (problem := selector_error(selector))]
        if problems:
            raise ValueError("; ".join(problems))
        return selectors

    def rules(self) -> SelectorRules:
        return SelectorRules(self.body, self.title, self.date, self.modified, self.author, self.tags, tuple(self.drop))


class SourceConfig(_Frozen):
    """One [[sources]] entry: a news site and how to watch it."""

    id: str
    name: str
    feeds: list[str] = []
    listing_pages: list[str] = []
    sitemaps: list[str] = []
    allowed_domains: list[str] = []
    article_url_pattern: str | None = None
    interval: Duration | None = None
    cron: str | None = None
    language: str | None = None
    timezone: str = "UTC"
    enabled: bool = True
    recheck_interval: Duration = timedelta(hours=1)
    recheck_after: list[Duration] = [timedelta(minutes=15), timedelta(hours=1), timedelta(hours=3),
                                     timedelta(hours=12), timedelta(days=1), timedelta(days=3), timedelta(days=7)]  # fmt: skip
    max_articles_per_run: int = Field(500, ge=1)
    extract: ExtractSelectors = ExtractSelectors()

    @field_validator("recheck_after")
    @classmethod
    def _increasing(cls, ages: list[timedelta]) -> list[timedelta]:
        if any(later <= earlier for earlier, later in zip(ages, ages[1:])):
            raise ValueError('ages must increase, e.g. ["15m", "1h", "1d"]')
        return ages

    @field_validator("id")
    @classmethod
    def _id_is_slug(cls, value: str) -> str:
        if not _SOURCE_ID.match(value):
            raise ValueError("use 1-64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit")
        return value

    @field_validator("feeds", "listing_pages", "sitemaps")
    @classmethod
    def _http_urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if not re.match(r"^https?://[^/\s]+", url):
                raise ValueError(f"{url!r} is not an http(s) URL")
        return urls

    @field_validator("allowed_domains")
    @classmethod
    def _bare_hosts(cls, domains: list[str]) -> list[str]:
        cleaned = []
        for domain in domains:
            if "/" in domain or not domain.strip():
                raise ValueError(f"{domain!r} is not a host name (write 'example.com', without scheme or path)")
            cleaned.append(domain.strip().lower().rstrip("."))
        return cleaned

    @field_validator("article_url_pattern")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from None
        return pattern

    @field_validator("cron")
    @classmethod
    def _cron_has_five_fields(cls, cron: str | None) -> str | None:
        if cron is None:
            return None
        from apscheduler.triggers.cron import CronTrigger  # heavy import, only when a cron is set

        fields = cron.split()
        if len(fields) != 5:
            raise ValueError(f"cron {cron!r} needs 5 fields: minute hour day month weekday")
        minute, hour, day, month, weekday = fields
        try:
            CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=crontab_weekdays(weekday))
        except ValueError as exc:
            raise ValueError(f"invalid cron expression {cron!r}: {exc}") from None
        return cron

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        return known_zone(zone)

    @model_validator(mode="after")
    def _schedule_and_discovery(self) -> SourceConfig:
        if (self.interval is None) == (self.cron is None):
            raise ValueError("set exactly one of 'interval' (e.g. \"15m\") or 'cron' (e.g. \"*/15 * * * *\")")
        if self.interval is not None and self.interval.total_seconds() < 1:
            raise ValueError("'interval' must be at least 1s")
        if not (self.feeds or self.listing_pages or self.sitemaps):
            raise ValueError("give at least one of 'feeds', 'listing_pages' or 'sitemaps'")
        return self

    @property
    def domains(self) -> tuple[str, ...]:
        """Allowed hosts: the configured ones, else the hosts of the source's own URLs."""
        if self.allowed_domains:
            return tuple(self.allowed_domains)
        from urllib.parse import urlsplit

        hosts = {urlsplit(url).hostname or "" for url in (*self.feeds, *self.listing_pages, *self.sitemaps)}
        return tuple(sorted(host for host in hosts if host))

    @property
    def discovery_urls(self) -> list[tuple[str, str]]:
        """(kind, url) for every page the source polls, in config order."""
        return (
            [("feed", url) for url in self.feeds]
            + [("sitemap", url) for url in self.sitemaps]
            + [("listing", url) for url in self.listing_pages]
        )


_ENVIRONMENT_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _expand_environment(text: str) -> str:
    """${NAME} in a sink's url or command comes from the environment, so tokens stay out of the file."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise ValueError(f"environment variable {name} is not set")
        return os.environ[name]

    return _ENVIRONMENT_REFERENCE.sub(value, text)


class SinkConfig(_Frozen):
    """One [[sinks]] entry: where events go besides the events table and the log."""

    type: Literal["webhook", "command", "apprise"]
    url: str | None = None  # webhook: http(s)://...; apprise: a notification service URL (tgram://, ntfy://, ...)
    command: list[str] = []
    events: list[str] = []
    sources: list[str] = []
    query: str | None = None  # only article events whose article matches this search (crawler search syntax)
    timeout: Duration = timedelta(seconds=10)
    retries: int = Field(3, ge=0, le=10)

    @field_validator("url", mode="before")
    @classmethod
    def _url_from_environment(cls, value: object) -> object:
        return _expand_environment(value) if isinstance(value, str) else value

    @field_validator("command", mode="before")
    @classmethod
    def _command_from_environment(cls, value: object) -> object:
        return (
            [_expand_environment(item) if isinstance(item, str) else item for item in value]
            if isinstance(value, list)
            else value
        )

    @model_validator(mode="after")
    def _target_given(self) -> SinkConfig:
        if self.type == "webhook" and not (self.url and re.match(r"^https?://[^/\s]+", self.url)):
            raise ValueError('a webhook sink needs url = "http(s)://..."')
        if self.type == "command" and not self.command:
            raise ValueError('a command sink needs command = ["program", "arg", ...]')
        if self.type == "apprise" and not (self.url and "://" in self.url):
            raise ValueError('an apprise sink needs url = "<service>://..." (e.g. "tgram://token/chat_id")')
        if self.query is not None:
            from crawler.search import parse_query

            if not parse_query(self.query).groups:
                raise ValueError(f"query {self.query!r} has no word to look for")
        return self

    @field_validator("events")
    @classmethod
    def _known_events(cls, names: list[str]) -> list[str]:
        from crawler.events import EVENT_TYPES

        unknown = [name for name in names if name not in EVENT_TYPES]
        if unknown:
            raise ValueError(f"unknown event type(s) {unknown}; known: {', '.join(EVENT_TYPES)}")
        return names

    def wants(self, event_type: str, source_id: str | None) -> bool:
        """By type and source; a sink with a query hears of articles only (their text is matched later)."""
        wanted = (not self.events or event_type in self.events) and (not self.sources or source_id in self.sources)
        return wanted and (self.query is None or event_type in ("article_new", "article_updated"))


class Config(_Frozen):
    """The whole file: [crawler] plus [[sources]] and optional [[sinks]]."""

    crawler: CrawlerSettings = CrawlerSettings()
    sources: list[SourceConfig] = []
    sinks: list[SinkConfig] = []

    @model_validator(mode="after")
    def _unique_ids(self) -> Config:
        seen: set[str] = set()
        for source in self.sources:
            if source.id in seen:
                raise ValueError(f"source id {source.id!r} is used twice")
            seen.add(source.id)
        return self

    def source(self, source_id: str) -> SourceConfig:
        for source in self.sources:
            if source.id == source_id:
                return source
        raise KeyError(source_id)


def resolve_config_path(explicit: str | Path | None) -> Path:
    """--config, else $CRAWLER_CONFIG, else config/crawler.toml."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("CRAWLER_CONFIG")
    return Path(env) if env else DEFAULT_CONFIG_PATH


def load_config(path: Path, *, need_sources: bool = False) -> Config:
    """Read and validate the file; raise ConfigError listing every problem found. ``need_sources``: a
    file without a [[sources]] table is one of them (the daemon, a reload and check-config need one; an
    empty file would otherwise read as "remove every source")."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found (pass --config or set CRAWLER_CONFIG)"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read: {exc}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None
    config = parse_config(raw, path)
    if need_sources and not config.sources:
        raise ConfigError(
            [f"{path}: no [[sources]] table: a config needs at least one source (see config/crawler.example.toml)"]
        )
    return config


def parse_config(raw: dict[str, Any], path: Path | str = "<config>") -> Config:
    """Validate an already parsed TOML document."""
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError([_describe(error, raw, path) for error in exc.errors()]) from None
    return config


def _describe(error: Any, raw: dict[str, Any], path: Path | str) -> str:
    """One line for one pydantic error: file, source id, field, message."""
    loc = list(error["loc"])
    where = ".".join(str(part) for part in loc) or "(top level)"
    if len(loc) >= 2 and loc[0] == "sources" and isinstance(loc[1], int):
        sources = raw.get("sources") or []
        source_id = sources[loc[1]].get("id") if loc[1] < len(sources) and isinstance(sources[loc[1]], dict) else None
        field = ".".join(str(part) for part in loc[2:]) or "(the source as a whole)"
        where = f"sources[{loc[1]}] (id={source_id!r}): {field}"
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        allowed = _allowed_keys(loc)
        message = f"unknown key; allowed keys are: {', '.join(allowed)}"
    message = message.removeprefix("Value error, ")
    return f"{path}: {where}: {message}"


def _allowed_keys(loc: list[Any]) -> list[str]:
    if len(loc) > 3 and loc[0] == "sources" and loc[2] == "extract":
        return list(ExtractSelectors.model_fields)
    if loc and loc[0] == "sources":
        return list(SourceConfig.model_fields)
    if loc and loc[0] == "crawler":
        return list(CrawlerSettings.model_fields)
    if loc and loc[0] == "sinks":
        return list(SinkConfig.model_fields)
    return list(Config.model_fields)

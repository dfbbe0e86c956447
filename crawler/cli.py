"""Command line: run | crawl | extract | search | history | sources | templates | check-config | events | demo.

The only place that configures logging. Heavy imports (httpx, apscheduler, sqlite_utils) happen inside
the commands that need them, so ``crawler --help`` and ``check-config`` stay quick.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import dataclasses
import gc
import json
import sqlite3
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from crawler import __version__, forkserver
from crawler.config import Config, CrawlerSettings, SourceConfig, load_config, resolve_config_path
from crawler.errors import ConfigError, CrawlerError
from crawler.events import EVENT_TYPES
from crawler.logformat import configure_logging

if TYPE_CHECKING:
    import subprocess

    from crawler.store import SyncStore

__all__ = ["main"]

_config_option = click.option(
    "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
    help="Config file (default: $CRAWLER_CONFIG, else config/crawler.toml).",
)  # fmt: skip


@contextlib.contextmanager
def _importing() -> Iterator[None]:
    """For a command's imports: the garbage collector off while they run (they allocate much and free
    little; collecting meanwhile was 0.04 of the crawl's 0.29 s of imports), and what they made frozen
    after: it lives as long as the process, so the collections of a long run need not walk it again."""
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def _load(config_path: Path | None, *, need_sources: bool = False) -> tuple[Path, Config]:
    path = resolve_config_path(config_path)
    try:
        return path, load_config(path, need_sources=need_sources)
    except ConfigError as exc:
        click.echo(f"invalid configuration ({len(exc.problems)} problem(s)):", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(2)


class _Commands(click.Group):
    """The command group: a database that turns out unreadable half-way through a read (a truncated or
    corrupt file) ends the command with one line naming it, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except sqlite3.DatabaseError as exc:
            database = ctx.meta.get("crawler.database", "the database")
            click.echo(f"crawler: {database}: the database cannot be read ({exc}); restore it from a backup", err=True)
            sys.exit(1)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="crawler")
def main() -> None:
    """A news monitoring daemon: polls news sources, stores every article once, logs what changed."""
    # At exit the interpreter collects garbage over every object before it frees the modules: 50-60 ms
    # of each command's exit (a tenth of a re-poll), freeing nothing a process that is ending needs freed.
    # Frozen objects are left out of that collection; the exit hooks (logging's flush) still run.
    atexit.register(gc.freeze)


@main.command("check-config")
@_config_option
def check_config(config_path: Path | None) -> None:
    """Validate the config file and list every problem (exit 2 when invalid, or when it has no source)."""
    path, config = _load(config_path, need_sources=True)
    enabled = sum(1 for s in config.sources if s.enabled)
    click.echo(f"{path}: OK, {len(config.sources)} source(s), {enabled} enabled, database {config.crawler.database}")


@main.command()
@_config_option
@click.option("-v", "--verbose", is_flag=True, help="Log every fetch (debug level).")
def run(config_path: Path | None, verbose: bool) -> None:
    """Run the daemon: poll every enabled source on its schedule until SIGTERM/SIGINT; SIGHUP reloads."""
    path, config = _load(config_path, need_sources=True)
    if config.crawler.parse_processes:
        forkserver.start_early()
    with _importing():
        from crawler.schedule import Daemon

    configure_logging(config.crawler.log_format, verbose)
    try:
        asyncio.run(Daemon(path, config=config).run())
    except CrawlerError as exc:
        click.echo(f"crawler: {exc}", err=True)
        sys.exit(1)


@main.command()
@_config_option
@click.argument("source_ids", nargs=-1)
@click.option("--recheck-all", is_flag=True, help="Re-check every known article found, whatever its age.")
@click.option("-v", "--verbose", is_flag=True, help="Log every fetch (debug level).")
def crawl(config_path: Path | None, source_ids: tuple[str, ...], recheck_all: bool, verbose: bool) -> None:
    """Run each source (all enabled ones by default) once, with progress and a summary; exit 1 if one failed."""
    _, config = _load(config_path)
    if config.crawler.parse_processes:
        forkserver.start_early()  # its imports and the pipeline's below, at once
    with _importing():
        from crawler.crawl_once import crawl_once

    configure_logging(config.crawler.log_format, verbose)
    unknown = [sid for sid in source_ids if sid not in {s.id for s in config.sources}]
    if unknown:
        raise click.BadParameter(f"no such source: {', '.join(unknown)}", param_hint="SOURCE_IDS")
    sources = [config.source(sid) for sid in source_ids] if source_ids else [s for s in config.sources if s.enabled]
    try:
        summaries = asyncio.run(crawl_once(config, sources, recheck_all=recheck_all))
    except CrawlerError as exc:
        click.echo(f"crawler: {exc}", err=True)
        sys.exit(1)
    sys.exit(0 if all(s.ok for s in summaries) else 1)


@main.command()
@_config_option
@click.argument("target")
@click.option("--source", "source_id", help="Apply this source's selectors, time zone, language and learned template.")
@click.option("--url", help="The page's URL (for resolving relative links when TARGET is a file).")
@click.option("--timezone", help="Time zone for dates printed without an offset (default: the source's, else UTC).")
@click.option("--explain", is_flag=True, help="Show the candidates for the body, their scores and why the winner won.")
def extract(
    config_path: Path | None, target: str, source_id: str | None, url: str | None, timezone: str | None, explain: bool
) -> None:
    """Extract one article from a FILE (or a URL) and print it as JSON, with where each field came from.

    With --source, the output also shows what the generic extractor alone finds ("generic"), so the
    effect of the source's [sources.extract] selectors is visible. With --explain, it shows instead the
    elements considered for the body, best first, with a selector for each that a source can pin."""
    from crawler.decode import decode_html
    from crawler.extract import SelectorRules, extract_article

    # The config's [crawler] settings apply to a URL whenever there is a config (a source's too with --source).
    config = _load(config_path)[1] if source_id or config_path or resolve_config_path(None).exists() else None
    source = _source(config, source_id) if config and source_id else None
    if target.startswith(("http://", "https://")):
        content = _download(target, source, config)
        url = url or target
    else:
        content = _read_page_file(
            Path(target), config.crawler.max_page_bytes if config else CrawlerSettings().max_page_bytes
        )
    html, _ = decode_html(content)
    zone = timezone or (source.timezone if source else "UTC")
    language = source.language if source else None
    rules = source.extract.rules() if source else SelectorRules()
    if explain:
        from crawler.extract.explain import explain as explain_page
        from crawler.extract.explain import explanation_lines

        click.echo("\n".join(explanation_lines(explain_page(html, url, zone, language, rules=rules))))
        return
    template = _template_keys(config, source.id) if config and source else frozenset()
    article = extract_article(html, url, zone, language, rules=rules, template=template)
    output: dict[str, Any] = dataclasses.asdict(article)
    if source is not None:
        generic = extract_article(html, url, zone, language)
        output["generic"] = {
            "title": generic.title, "published": generic.published, "authors": generic.authors, "tags": generic.tags,
            "body_chars": len(generic.body), "body_start": generic.body[:160], "provenance": generic.provenance,
        }  # fmt: skip
        output["template_blocks"] = len(template)
    click.echo(json.dumps(output, ensure_ascii=False, indent=2))


@main.command()
@_config_option
@click.argument("query")
@click.option("--source", "source_id", help="Only articles of this source.")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Only articles published (else first seen) on or after this date.",
)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def search(
    config_path: Path | None, query: str, source_id: str | None, since: datetime | None, limit: int, as_json: bool
) -> None:
    """Full-text search of stored titles and bodies, best match first; when over 20,000 articles match,
    the newest first, title matches ahead (every word must match; spelling variants, harakat and Persian
    letters do not matter)."""
    from crawler.search import query_terms, snippet

    _, config = _load(config_path)
    terms = query_terms(query)
    if not terms:
        raise click.BadParameter("the query has no words to search for", param_hint="QUERY")
    store = _open_existing_store(config)
    try:
        rows = store.search(terms, source_id, since.date().isoformat() if since else None, limit)
    finally:
        store.close()
    for row in rows:
        found = {
            "id": row["id"], "source": row["source_id"], "url": row["canonical_url"], "title": row["title"],
            "published": row["published"], "score": None if row["score"] is None else round(-row["score"], 3), "snippet": snippet(row["body"] or "", terms),
        }  # fmt: skip
        if as_json:
            click.echo(json.dumps(found, ensure_ascii=False))
        else:
            date = (row["published"] or row["first_seen"] or "")[:10]
            click.echo(f"{date}  {row['source_id']}  {row['title'] or '(no title)'}\n    {row['canonical_url']}")
            click.echo(f"    {found['snippet']}\n")
    if not rows and not as_json:
        click.echo("no matches")


@main.command()
@_config_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def sources(config_path: Path | None, as_json: bool) -> None:
    """Each source's state (ok / failing), health (degraded / stale, and why), last success and articles per day."""
    _, config = _load(config_path)
    store = _open_existing_store(config)
    try:
        rows = store.source_overview()
    finally:
        store.close()
    for row in rows:
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))
            continue
        state = row["state"] if row["state"] != "ok" else (row["health"] or "ok")
        colour = {"ok": "green", "failing": "red"}.get(state, "yellow")
        success = (row["last_success_at"] or "never")[:16]
        click.echo(f"{row['id']:<16} {click.style(f'{state:<9}', fg=colour)} last success {success:<16} "
                   f"{row['articles']:>6} articles {row['per_day']:>6.1f}/day  {row['name']}")  # fmt: skip
        why = row["last_error"] if row["state"] == "failing" else row["health_reason"]
        if why:
            click.echo(f"{'':<17}{why}")


@main.command()
@_config_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
def stats(config_path: Path | None, as_json: bool) -> None:
    """Articles per source and per day, events per type, fetch outcomes, the database's size."""
    _, config = _load(config_path)
    store = _open_existing_store(config)
    try:
        figures = store.stats()
    finally:
        store.close()
    database = config.crawler.database
    wal = database.with_name(database.name + "-wal")
    figures["file_bytes"] = database.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    if as_json:
        click.echo(json.dumps(figures, ensure_ascii=False))
        return
    click.echo(f"{figures['articles']} articles, {figures['versions']} versions, "
               f"{figures['file_bytes'] / 1e6:.1f} MB on disk ({database})")  # fmt: skip
    for title, key in (("articles per source", "articles_per_source"), ("new articles per day", "articles_per_day"),
                       ("events per type", "events_per_type"), ("fetches per outcome", "fetches_per_outcome")):  # fmt: skip
        click.echo(click.style(f"\n{title}", bold=True))
        for name, value in figures[key].items():
            click.echo(f"  {name:<24} {value:>8}")


@main.command()
@_config_option
@click.argument("article")
@click.option("--json", "as_json", is_flag=True, help="The article as one JSON object.")
def show(config_path: Path | None, article: str, as_json: bool) -> None:
    """One stored ARTICLE (its id or URL): its metadata, then its body."""
    _, config = _load(config_path)
    store = _open_existing_store(config)
    try:
        found = store.article(article)
    finally:
        store.close()
    if found is None:
        raise click.BadParameter(f"no stored article with id or URL {article!r}", param_hint="ARTICLE")
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False))
        return
    click.echo(click.style(found["title"] or "(no title)", bold=True))
    for name in ("canonical_url", "source_id", "published", "modified", "authors", "section", "tags", "language",
                 "image", "versions", "first_seen", "last_changed", "removed_at", "story_id"):  # fmt: skip
        value = found[name]
        if value not in (None, [], ""):
            click.echo(f"{name:<14} {', '.join(value) if isinstance(value, list) else value}")
    click.echo("\n" + (found["body"] or ""))


@main.command()
@_config_option
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "parquet"]), default="jsonl", show_default=True)
@click.option("--source", "source_id", help="Only articles of this source.")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), help="Published (else first seen) on or after.")
@click.option("--until", type=click.DateTime(formats=["%Y-%m-%d"]), help="Published (else first seen) on or before.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default: stdout).")
def export(config_path: Path | None, fmt: str, source_id: str | None, since: Any, until: Any, out: Path | None) -> None:
    """Stored articles as JSON Lines, CSV or Parquet, streamed (constant memory); fields in the README."""
    from crawler.export import EXPORT_FIELDS, write_csv, write_jsonl, write_parquet

    if fmt == "parquet" and out is None:
        raise click.BadParameter("Parquet needs a file: --out FILE", param_hint="--format")
    _, config = _load(config_path)
    store = _open_existing_store(config)
    day = "%Y-%m-%d"
    try:
        batches = store.export_batches(
            EXPORT_FIELDS, source_id, since and since.strftime(day), until and until.strftime(day)
        )
        if fmt == "parquet":
            assert out is not None
            try:
                written = write_parquet(batches, str(out))
            except ImportError:
                click.echo("crawler: Parquet needs pyarrow: pip install 'crawler[parquet]'", err=True)
                sys.exit(1)
        else:
            writer = write_jsonl if fmt == "jsonl" else write_csv
            with out.open("w", encoding="utf-8", newline="") if out else contextlib.nullcontext(sys.stdout) as stream:
                written = writer(batches, stream)
    finally:
        store.close()
    click.echo(f"crawler: {written} articles exported{f' to {out}' if out else ''}", err=True)


@main.command()
@_config_option
@click.option("--port", default=8001, show_default=True, type=click.IntRange(0, 65535), help="Port on 127.0.0.1.")
def ui(config_path: Path | None, port: int) -> None:
    """Browse the collected database in Datasette (read-only, on 127.0.0.1): facets, search, canned queries."""
    import importlib.util
    import subprocess
    import tempfile

    from crawler.ui import datasette_command

    _, config = _load(config_path)
    _open_existing_store(config).close()  # exits with a clear message when there is no database yet
    if importlib.util.find_spec("datasette") is None:
        click.echo("crawler: Datasette is not installed: pip install 'crawler[ui]'", err=True)
        sys.exit(1)
    with tempfile.TemporaryDirectory(prefix="crawler-ui-") as tmp:
        command = datasette_command(config.crawler.database, port, Path(tmp))
        click.echo(f"crawler: {config.crawler.database} on http://127.0.0.1:{port}/ (Ctrl-C stops)", err=True)
        server = subprocess.Popen(command, preexec_fn=_die_with_parent)  # noqa: PLW1509 - Linux prctl only
        sys.exit(_serve_until_stopped(server))


def _serve_until_stopped(server: subprocess.Popen[bytes]) -> int:
    """Wait for the server; a SIGTERM, SIGHUP or Ctrl-C to this command goes to it too, so stopping the
    command stops the server (and the server dies with this process even if it is killed outright)."""
    import signal

    def forward(signum: int, _frame: object) -> None:
        if server.poll() is None:
            server.send_signal(signum)

    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(signum, forward)
    try:
        code = server.wait()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    return 0 if code in (0, -signal.SIGTERM, -signal.SIGINT, -signal.SIGHUP) else code


def _die_with_parent() -> None:
    """In the server's process before it starts: the kernel sends it SIGTERM when its parent dies."""
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG


@main.command()
@_config_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def hosts(config_path: Path | None, as_json: bool) -> None:
    """Each host's politeness state: delay in force, back-off, paused-until, last status, robots.txt."""
    from datetime import UTC, datetime

    _, config = _load(config_path)
    store = _open_existing_store(config)
    try:
        rows = store.host_rows()
    finally:
        store.close()
    now = datetime.now(UTC).isoformat(timespec="seconds")
    for row in rows:
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))
            continue
        paused = row["blocked_until"] if row["blocked_until"] and row["blocked_until"] > now else None
        wait = row["delay_s"] + row["backoff_s"]
        state = click.style("paused", fg="yellow") if paused else (
            click.style("backing off", fg="yellow") if row["backoff_s"] else click.style("ok", fg="green"))  # fmt: skip
        click.echo(f"{row['host']:<32} {state}  {wait:>5.1f} s between requests  last {row['last_status'] or '-'} "
                   f"at {(row['last_at'] or 'never')[:19]}  {row['failures']}/{row['requests']} failed  "
                   f"robots.txt {row['robots'] or 'not read'}")  # fmt: skip
        if paused:
            click.echo(f"{'':<33}paused until {paused} (Retry-After)")
        if row["last_error"]:
            click.echo(f"{'':<33}last error: {row['last_error']}")


@main.command()
@_config_option
@click.argument("article")
def history(config_path: Path | None, article: str) -> None:
    """The versions of one ARTICLE (its id or URL) and what changed between them, paragraph by paragraph."""
    from crawler.dedupe import paragraph_diff

    _, config = _load(config_path)
    store = _open_existing_store(config)
    try:
        found = store.article_history(article)
    finally:
        store.close()
    if found is None:
        raise click.BadParameter(f"no stored article with id or URL {article!r}", param_hint="ARTICLE")
    row, versions = found
    click.echo(f"{row['title']}\n{row['canonical_url']}  (source {row['source_id']}, id {row['id']}, "
               f"first seen {row['first_seen'][:19]}, {len(versions)} version(s))")  # fmt: skip
    for previous, version in zip([None, *versions], versions):
        changed = ", ".join(version["changed"]) or "first version"
        click.echo(click.style(f"\nversion {version['version']}  {version['fetched_at'][:19]}  {changed}", bold=True))
        if previous is None:
            continue
        if previous["title"] != version["title"]:
            click.echo(click.style(f"  - title: {previous['title']}", fg="red"))
            click.echo(click.style(f"  + title: {version['title']}", fg="green"))
        diff = paragraph_diff(previous["body"] or "", version["body"] or "")
        for old, new in diff["changed"]:
            click.echo(click.style(f"  - {old}", fg="red"))
            click.echo(click.style(f"  + {new}", fg="green"))
        for paragraph in diff["removed"]:
            click.echo(click.style(f"  - {paragraph}", fg="red"))
        for paragraph in diff["added"]:
            click.echo(click.style(f"  + {paragraph}", fg="green"))


@main.command()
@_config_option
@click.argument("source_id", required=False)
@click.option("--reset", is_flag=True, help="Forget the source's learned template (it is learned again as it crawls).")
def templates(config_path: Path | None, source_id: str | None, reset: bool) -> None:
    """Show the site-template blocks learned per source (text that recurs across its articles)."""
    _, config = _load(config_path)
    if source_id is not None and source_id not in {s.id for s in config.sources}:
        raise click.BadParameter(f"no such source: {source_id}", param_hint="SOURCE_ID")
    if reset and source_id is None:
        raise click.BadParameter("--reset needs a SOURCE_ID", param_hint="--reset")
    store = _open_existing_store(config, writable=reset)
    try:
        if reset and source_id is not None:
            click.echo(f"{source_id}: {store.reset_template(source_id)} template block(s) forgotten")
            return
        rows = store.template_rows(source_id)
    finally:
        store.close()
    if not rows:
        click.echo("no template blocks learned yet (a source needs at least 5 stored articles)")
    for row in rows:
        text = " ".join(row["text"].split())
        click.echo(
            f"{row['source_id']:<12} {row['articles']:>3}/{row['sampled']:<3} {row['learned_at'][:10]}  {text[:100]}"
        )


def _source(config: Config, source_id: str) -> SourceConfig:
    for source in config.sources:
        if source.id == source_id:
            return source
    raise click.BadParameter(f"no such source: {source_id}", param_hint="--source")


def _template_keys(config: Config, source_id: str) -> frozenset[str]:
    if not config.crawler.database.exists():
        return frozenset()
    store = _open_existing_store(config)
    try:
        return store.template_keys(source_id)
    finally:
        store.close()


def _open_existing_store(config: Config, *, writable: bool = False, live: bool = False) -> SyncStore:
    """The configured database, read-only unless the command writes (nothing is created or migrated by a
    read); a missing or unusable file ends the command with one line naming it."""
    from crawler.errors import StoreError
    from crawler.store import SyncStore

    if not config.crawler.database.exists():
        click.echo(f"crawler: no database at {config.crawler.database} yet", err=True)
        sys.exit(1)
    click.get_current_context().meta["crawler.database"] = config.crawler.database
    try:
        return SyncStore(config.crawler.database, read_only=not writable, live=live)
    except StoreError as exc:
        click.echo(f"crawler: {exc}", err=True)
        sys.exit(1)


def _read_page_file(path: Path, max_bytes: int) -> bytes:
    """A saved page as bytes of HTML: a gzipped one (.html.gz, as sites and datasets keep them) unpacked
    under the page size cap; anything that is not HTML refused in one line."""
    import gzip
    import zlib

    from crawler.decode import binary_reason, non_html_reason

    try:
        with path.open("rb") as file:
            content = file.read(max_bytes + 1)
    except OSError as exc:
        raise click.BadParameter(str(exc), param_hint="TARGET") from None
    if content[:2] == b"\x1f\x8b":
        try:
            with gzip.open(path, "rb") as unpacked:
                content = unpacked.read(max_bytes + 1)
        except (OSError, EOFError, zlib.error) as exc:
            _fail(f"{path}: a broken gzip file ({exc})")
    if len(content) > max_bytes:
        _fail(f"{path}: over max_page_bytes ({max_bytes:,} bytes), as a fetched page would be")
    reason = non_html_reason(content, None) or binary_reason(content)
    if reason is not None:
        _fail(f"{path}: not an HTML page ({reason})")
    return content


def _fail(message: str) -> NoReturn:
    click.echo(f"crawler: {message}", err=True)
    sys.exit(1)


def _download(url: str, source: SourceConfig | None, config: Config | None) -> bytes:
    """One polite GET for ``crawler extract URL``: within the source's allowed domains when a source is
    given, else on the URL's own host; with the config's [crawler] settings when there is a config, else
    the defaults (private addresses refused)."""
    from urllib.parse import urlsplit

    from crawler.fetch import Fetcher
    from crawler.pipeline import article_policy
    from crawler.urls import UrlPolicy

    policy = article_policy(source) if source else UrlPolicy((urlsplit(url).hostname or "",))

    async def get() -> bytes:
        fetcher = Fetcher(config.crawler if config else CrawlerSettings(retries=1))
        try:
            page = await fetcher.fetch(url, policy)
            return page.body
        finally:
            await fetcher.aclose()

    try:
        return asyncio.run(get())
    except CrawlerError as exc:
        click.echo(f"crawler: {exc}", err=True)
        sys.exit(1)


@main.command()
@_config_option
@click.option("--source", "source_id", help="Only events of this source.")
@click.option(
    "--type", "types", multiple=True, type=click.Choice(EVENT_TYPES), help="Only events of this type (repeatable)."
)
@click.option(
    "--since", type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M"]), help="Only events from this time (UTC) on."
)
@click.option("--after", default=0, show_default=True, help="Only events with an id above this.")
@click.option("--limit", default=50, show_default=True)
@click.option("--follow", is_flag=True, help="Keep printing new events as they are stored (Ctrl-C stops).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def events(
    config_path: Path | None, source_id: str | None, types: tuple[str, ...], since: datetime | None, after: int,
    limit: int, follow: bool, as_json: bool,
) -> None:  # fmt: skip
    """List stored events, oldest first."""
    _, config = _load(config_path)
    store = _open_existing_store(config, live=follow)
    since_text = since.isoformat() if since else None
    try:
        while True:
            rows = store.events_since(after, limit, source_id, list(types), since_text)
            for row in rows:
                click.echo(json.dumps(row, ensure_ascii=False) if as_json else _event_line(row))
                after = max(after, int(row["id"]))
            if not follow:
                break
            time.sleep(1.0)
    except KeyboardInterrupt:
        pass  # --follow ends with Ctrl-C
    finally:
        store.close()


def _event_line(row: dict[str, Any]) -> str:
    data = row["data"]
    detail = data.get("url") or ""
    if row["type"] == "article_updated":
        detail += f" changed: {', '.join(data.get('changed', []))}"
    if data.get("reason"):
        detail += f" ({data['reason']})"
    return f"{row['id']:>6} {row['ts'][:19]} {row['type']:<17} {row['source_id'] or '-':<12} {detail}"


@main.command()
@click.option("--port", default=8765, show_default=True, help="Port of the demo news site on 127.0.0.1.")
@click.option("--database", default=Path("data/demo.db"), type=click.Path(path_type=Path), show_default=True)
@click.option("--new-every", default=8.0, show_default=True, help="Seconds between new demo articles.")
def demo(port: int, database: Path, new_every: float) -> None:
    """Serve the bundled demo news site on 127.0.0.1 and run the daemon against it until Ctrl-C."""
    from crawler.demo.run import run_demo

    run_demo(port=port, database=database, new_every=new_every)

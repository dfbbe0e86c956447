"""Command line: run | worker | crawl | extract | search | history | sources (test, add, import, export) |
templates | check-config | events | ui | migrate-db | demo.

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
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from crawler import __version__, forkserver
from crawler.cli import reading
from crawler.cli import sources as sources_commands
from crawler.cli.common import config_option, fail, find_source, importing, load, store_session
from crawler.config import Config, CrawlerSettings, SourceConfig, redacted_database, resolve_config_path
from crawler.errors import CrawlerError, StoreError
from crawler.logformat import configure_logging

if TYPE_CHECKING:
    import subprocess

__all__ = ["main"]


class _Commands(click.Group):
    """The command group: a database that turns out unreadable half-way through a read (a truncated or
    corrupt file) ends the command with one line naming it, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except StoreError as exc:
            fail(str(exc))


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="crawler")
def main() -> None:
    """A news monitoring daemon: polls news sources, stores every article once, logs what changed."""
    # At exit the interpreter collects garbage over every object before it frees the modules: 50-60 ms
    # of each command's exit (a tenth of a re-poll), freeing nothing a process that is ending needs freed.
    # Frozen objects are left out of that collection; the exit hooks (logging's flush) still run.
    atexit.register(gc.freeze)


for _command in reading.COMMANDS:
    main.add_command(_command)
main.add_command(sources_commands.sources)


@main.command("check-config")
@config_option
def check_config(config_path: Path | None) -> None:
    """Validate the config file and list every problem (exit 2 when invalid, or when it has no source)."""
    path, config = load(config_path, need_sources=True)
    enabled = sum(1 for s in config.sources if s.enabled)
    click.echo(
        f"{path}: OK, {len(config.sources)} source(s), {enabled} enabled, database {config.crawler.database_label}"
    )


@main.command()
@config_option
@click.option("-v", "--verbose", is_flag=True, help="Log every fetch (debug level).")
def run(config_path: Path | None, verbose: bool) -> None:
    """Run the daemon: poll every enabled source on its schedule until SIGTERM/SIGINT; SIGHUP reloads."""
    path, config = load(config_path, need_sources=True)
    if config.crawler.parse_processes:
        forkserver.start_early()
    with importing():
        from crawler.schedule import Daemon

    configure_logging(config.crawler.log_format, verbose)
    try:
        asyncio.run(Daemon(path, config=config).run())
    except CrawlerError as exc:
        click.echo(f"crawler: {exc}", err=True)
        sys.exit(1)


@main.command()
@config_option
@click.option("--concurrency", default=4, show_default=True, type=click.IntRange(1, 256), help="Source runs at once.")
@click.option("--metrics-port", default=0, show_default=True, type=click.IntRange(0, 65535),
              help="Serve /metrics and /healthz on this port of 127.0.0.1 (0: off).")  # fmt: skip
@click.option("-v", "--verbose", is_flag=True, help="Log every fetch (debug level).")
def worker(config_path: Path | None, concurrency: int, metrics_port: int, verbose: bool) -> None:
    """Run the source runs the scheduler queued (PostgreSQL database): any number of these, on any machine,
    beside one `crawler run` that queues them; SIGTERM lets running sources finish."""
    path, config = load(config_path, need_sources=True)
    if not isinstance(config.crawler.database, str):
        fail("crawler worker needs a PostgreSQL database (database = \"postgresql://...\"); on SQLite, "
             "`crawler run` runs every source itself")  # fmt: skip
    if config.crawler.parse_processes:
        forkserver.start_early()
    with importing():
        from crawler.cluster.worker import run_worker

    configure_logging(config.crawler.log_format, verbose)
    try:
        asyncio.run(run_worker(path, config, concurrency, metrics_port))
    except CrawlerError as exc:
        fail(str(exc))


@main.command()
@config_option
@click.argument("source_ids", nargs=-1)
@click.option("--recheck-all", is_flag=True, help="Re-check every known article found, whatever its age.")
@click.option("-v", "--verbose", is_flag=True, help="Log every fetch (debug level).")
def crawl(config_path: Path | None, source_ids: tuple[str, ...], recheck_all: bool, verbose: bool) -> None:
    """Run each source (all enabled ones by default) once, with progress and a summary; exit 1 if one failed."""
    _, config = load(config_path)
    if config.crawler.parse_processes:
        forkserver.start_early()  # its imports and the pipeline's below, at once
    with importing():
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
@config_option
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
    config = load(config_path)[1] if source_id or config_path or resolve_config_path(None).exists() else None
    source = find_source(config, source_id) if config and source_id else None
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
@config_option
@click.option("--port", default=8001, show_default=True, type=click.IntRange(0, 65535), help="Port on 127.0.0.1.")
def ui(config_path: Path | None, port: int) -> None:
    """Browse the collected database in Datasette (read-only, on 127.0.0.1): facets, search, canned queries."""
    import importlib.util
    import subprocess
    import tempfile

    from crawler.ui import datasette_command

    _, config = load(config_path)
    with store_session(config):
        pass  # exits with a clear message when there is no database yet, or it is not usable
    if importlib.util.find_spec("datasette") is None:
        click.echo("crawler: Datasette is not installed: pip install 'crawler[ui]'", err=True)
        sys.exit(1)
    with tempfile.TemporaryDirectory(prefix="crawler-ui-") as tmp:
        file = config.crawler.sqlite_file
        if file is None:  # Datasette reads SQLite only: a PostgreSQL database is shown as a snapshot
            file = _snapshot(config.crawler.database, Path(tmp) / "snapshot.db")
        command = datasette_command(file, port, Path(tmp), config.crawler.display_timezone)
        click.echo(f"crawler: {file} on http://127.0.0.1:{port}/ (Ctrl-C stops)", err=True)
        server = subprocess.Popen(command, preexec_fn=_die_with_parent)  # noqa: PLW1509 - Linux prctl only
        sys.exit(_serve_until_stopped(server))


def _snapshot(database: Path | str, file: Path) -> Path:
    from crawler.events import utc_now
    from crawler.store.migrate import migrate_database

    click.echo(f"crawler: copying {redacted_database(database)} into a snapshot for Datasette...", err=True)
    report = migrate_database(database, file)
    click.echo(f"crawler: snapshot of {report.counts[1].target} articles taken at {utc_now()[:19]} UTC; "
               "run `crawler ui` again for a newer one", err=True)  # fmt: skip
    return file


@main.command("migrate-db")
@config_option
@click.option("--to", "target", required=True, metavar="URL",
              help="The new, empty database: postgresql://user@host/db, or sqlite:///file.db")  # fmt: skip
def migrate_db(config_path: Path | None, target: str) -> None:
    """Copy the config's database into another one (SQLite to PostgreSQL, PostgreSQL to SQLite) and check
    the copy table by table; then point `database` at the new one."""
    from crawler.store.migrate import migrate_database

    _, config = load(config_path)
    source = config.crawler.database
    click.echo(f"copying {config.crawler.database_label} -> {redacted_database(target)}", err=True)
    report = migrate_database(source, target)
    for count in report.counts:
        click.echo(f"{count.table:<40} {count.source:>10,} -> {count.target:>10,}  ok")
    click.echo(f'done: set database = "{redacted_database(target)}" in the config and restart', err=True)


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


def _template_keys(config: Config, source_id: str) -> frozenset[str]:
    file = config.crawler.sqlite_file
    if file is not None and not file.exists():
        return frozenset()
    with store_session(config) as session:
        return session.run(session.store.template_keys(source_id))


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
            fail(f"{path}: a broken gzip file ({exc})")
    if len(content) > max_bytes:
        fail(f"{path}: over max_page_bytes ({max_bytes:,} bytes), as a fetched page would be")
    reason = non_html_reason(content, None) or binary_reason(content)
    if reason is not None:
        fail(f"{path}: not an HTML page ({reason})")
    return content


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
@click.option("--port", default=8765, show_default=True, help="Port of the demo news site on 127.0.0.1.")
@click.option("--database", default=Path("data/demo.db"), type=click.Path(path_type=Path), show_default=True)
@click.option("--new-every", default=8.0, show_default=True, help="Seconds between new demo articles.")
@click.option("--workers", default=0, show_default=True, type=click.IntRange(0, 16),
              help="Run as a cluster instead: a throwaway PostgreSQL, one scheduler and this many workers.")  # fmt: skip
def demo(port: int, database: Path, new_every: float, workers: int) -> None:
    """Serve the bundled demo news site on 127.0.0.1 and run the daemon against it until Ctrl-C."""
    if workers:
        from crawler.demo.cluster import run_cluster_demo

        run_cluster_demo(port=port, workers=workers, new_every=new_every, folder=database.parent)
        return
    from crawler.demo.run import run_demo

    run_demo(port=port, database=database, new_every=new_every)

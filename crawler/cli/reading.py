"""The read commands: search | stats | show | export | hosts | history | templates | events.
Each opens the database read-only through the store (cli.common.store_session) and prints typed values."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from crawler.cli.common import (
    Session,
    Since,
    SinceType,
    config_option,
    display_zone,
    fail,
    load,
    shown,
    store_session,
    tz_option,
)
from crawler.events import EVENT_TYPES, Event

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from crawler.store.values import ArticleView, ExportQuery

__all__ = ["COMMANDS"]


@click.command()
@config_option
@click.argument("query")
@click.option("--source", "source_id", help="Only articles of this source.")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Only articles published (else first seen) on or after this date.",
)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@tz_option
def search(
    config_path: Path | None, query: str, source_id: str | None, since: datetime | None, limit: int, as_json: bool,
    tz: str | None,
) -> None:  # fmt: skip
    """Full-text search of stored titles and bodies, best match first; when over 20,000 articles match,
    the newest first, title matches ahead. Every word must match; `"oil prices"` a phrase; `oil OR gas`
    either; `-sport` none with that word; `bas*` words that start so (quote the query: `crawler search "basra -sport"`). Spelling variants, harakat
    and Persian letters do not matter; plurals find singulars; tags and authors count as title."""
    from crawler.search import parse_query, snippet
    from crawler.store.values import SearchQuery

    _, config = load(config_path)
    zone = display_zone(tz, config)
    parsed = parse_query(query)
    if not parsed.groups:
        raise click.BadParameter("the query has no words to search for (only exclusions is not a search)",
                                 param_hint="QUERY")  # fmt: skip
    terms = parsed.words
    with store_session(config) as session:
        if source_id and source_id not in {source.id for source in session.run(session.store.source_overview())}:
            raise click.BadParameter(f"no source {source_id!r} in the database", param_hint="--source")
        hits = session.run(session.store.search(
            SearchQuery(parsed, source_id, since.date().isoformat() if since else None, limit)
        ))  # fmt: skip
    for hit in hits:
        found = {
            "id": hit.id, "source": hit.source_id, "url": hit.canonical_url, "title": hit.title,
            "published": hit.published, "score": None if hit.score is None else round(-hit.score, 3),
            "snippet": snippet(hit.body, terms),
        }  # fmt: skip
        if as_json:
            click.echo(json.dumps(found, ensure_ascii=False))
        else:
            date = shown(hit.published or hit.first_seen, zone)
            click.echo(f"{date}  {hit.source_id}  {hit.title or '(no title)'}\n    {hit.canonical_url}")
            click.echo(f"    {found['snippet']}\n")
    if not hits and not as_json:
        click.echo("no matches")


@click.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
def stats(config_path: Path | None, as_json: bool) -> None:
    """Articles per source and per day, events per type, fetch outcomes, the database's size."""
    _, config = load(config_path)
    with store_session(config) as session:
        figures: dict[str, Any] = asdict(session.run(session.store.stats()))
    database = config.crawler.sqlite_file
    if database is not None:
        wal = database.with_name(database.name + "-wal")
        figures["file_bytes"] = database.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    else:
        figures["file_bytes"] = figures["database_bytes"]
    if as_json:
        click.echo(json.dumps(figures, ensure_ascii=False))
        return
    click.echo(f"{figures['articles']} articles, {figures['versions']} versions, "
               f"{figures['file_bytes'] / 1e6:.1f} MB on disk ({config.crawler.database_label})")  # fmt: skip
    for title, key in (("articles per source", "articles_per_source"), ("new articles per day", "articles_per_day"),
                       ("events per type", "events_per_type"), ("fetches per outcome", "fetches_per_outcome")):  # fmt: skip
        click.echo(click.style(f"\n{title}", bold=True))
        for name, value in figures[key].items():
            click.echo(f"  {name:<24} {value:>8}")


@click.command()
@config_option
@click.argument("article")
@click.option("--json", "as_json", is_flag=True, help="The article as one JSON object.")
@tz_option
def show(config_path: Path | None, article: str, as_json: bool, tz: str | None) -> None:
    """One stored ARTICLE (its id or URL): its metadata, then its body."""
    _, config = load(config_path)
    zone = display_zone(tz, config)
    with store_session(config) as session:
        view = session.run(session.store.article(article))
    if view is None:
        raise click.BadParameter(f"no stored article with id or URL {article!r}", param_hint="ARTICLE")
    found = asdict(view)
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False))
        return
    click.echo(click.style(found["title"] or "(no title)", bold=True))
    for name in ("canonical_url", "source_id", "published", "modified", "authors", "section", "tags", "language",
                 "image", "versions", "first_seen", "last_changed", "removed_at", "story_id"):  # fmt: skip
        value = found[name]
        if name in _TIMES and value:
            value = shown(value, zone, seconds=name != "published" and name != "modified")
        if value not in (None, [], ""):
            click.echo(f"{name:<14} {', '.join(value) if isinstance(value, list) else value}")
    click.echo("\n" + (found["body"] or ""))


_TIMES = ("published", "modified", "first_seen", "last_changed", "removed_at")


@click.command()
@config_option
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "parquet"]), default="jsonl", show_default=True)
@click.option("--source", "source_id", help="Only articles of this source.")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), help="Published (else first seen) on or after.")
@click.option("--until", type=click.DateTime(formats=["%Y-%m-%d"]), help="Published (else first seen) on or before.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default: stdout).")
@click.option("--excel", is_flag=True, help="CSV for spreadsheets: a UTF-8 byte order mark, so Arabic opens as Arabic.")
def export(
    config_path: Path | None, fmt: str, source_id: str | None, since: Any, until: Any, out: Path | None, excel: bool
) -> None:
    """Stored articles as JSON Lines, CSV or Parquet, streamed (constant memory); fields in the README."""
    from crawler.export import write_csv, write_jsonl, write_parquet
    from crawler.store.values import ExportQuery

    if fmt == "parquet" and out is None:
        raise click.BadParameter("Parquet needs a file: --out FILE", param_hint="--format")
    if excel and fmt != "csv":
        raise click.BadParameter("--excel is for --format csv", param_hint="--excel")
    _, config = load(config_path)
    day = "%Y-%m-%d"
    query = ExportQuery(source_id, since and since.strftime(day), until and until.strftime(day))
    with store_session(config) as session:
        batches = _batches(session, query)
        if fmt == "parquet":
            assert out is not None
            try:
                written = write_parquet(batches, str(out))
            except ImportError:
                fail("Parquet needs pyarrow: pip install 'crawler[parquet]'")
        else:
            with out.open("w", encoding="utf-8", newline="") if out else contextlib.nullcontext(sys.stdout) as stream:
                written = write_csv(batches, stream, excel=excel) if fmt == "csv" else write_jsonl(batches, stream)
    click.echo(f"crawler: {written} articles exported{f' to {out}' if out else ''}", err=True)


def _batches(session: Session, query: ExportQuery) -> Iterator[list[ArticleView]]:
    """The export's articles a batch at a time, each batch read when the writer asks for it."""
    from dataclasses import replace

    while batch := session.run(session.store.export_batch(query)):
        yield batch
        query = replace(query, after_id=batch[-1].id)


@click.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@tz_option
def hosts(config_path: Path | None, as_json: bool, tz: str | None) -> None:
    """Each host's politeness state: delay in force, back-off, paused-until, last status, robots.txt."""
    from datetime import UTC

    _, config = load(config_path)
    zone = display_zone(tz, config)
    with store_session(config) as session:
        saved = session.run(session.store.hosts())
    now = datetime.now(UTC).isoformat(timespec="seconds")
    for entry in saved:
        host = entry.state
        if as_json:
            click.echo(json.dumps({**asdict(host), "updated_at": entry.updated_at}, ensure_ascii=False))
            continue
        paused = host.blocked_until if host.blocked_until and host.blocked_until > now else None
        wait = host.delay_s + host.backoff_s
        state = click.style("paused", fg="yellow") if paused else (
            click.style("backing off", fg="yellow") if host.backoff_s else click.style("ok", fg="green"))  # fmt: skip
        click.echo(f"{host.host:<32} {state}  {wait:>5.1f} s between requests  last {host.last_status or '-'} "
                   f"at {shown(host.last_at, zone, seconds=True, missing='never')}  {host.failures}/{host.requests} failed  "
                   f"robots.txt {host.robots or 'not read'}")  # fmt: skip
        if paused:
            click.echo(f"{'':<33}paused until {shown(paused, zone, seconds=True)} (Retry-After)")
        if host.last_error:
            click.echo(f"{'':<33}last error: {host.last_error}")


@click.command()
@config_option
@click.argument("article")
@tz_option
def history(config_path: Path | None, article: str, tz: str | None) -> None:
    """The versions of one ARTICLE (its id or URL) and what changed between them, paragraph by paragraph."""
    from crawler.dedupe import paragraph_diff

    _, config = load(config_path)
    zone = display_zone(tz, config)
    with store_session(config) as session:
        found = session.run(session.store.article_history(article))
    if found is None:
        raise click.BadParameter(f"no stored article with id or URL {article!r}", param_hint="ARTICLE")
    versions = found.versions
    click.echo(f"{found.title}\n{found.canonical_url}  (source {found.source_id}, id {found.id}, "
               f"first seen {shown(found.first_seen, zone, seconds=True)}, {len(versions)} version(s))")  # fmt: skip
    for previous, version in zip([None, *versions], versions):
        changed = ", ".join(version.changed) or "first version"
        click.echo(
            click.style(
                f"\nversion {version.version}  {shown(version.fetched_at, zone, seconds=True)}  {changed}", bold=True
            )
        )
        if previous is None:
            continue
        if previous.title != version.title:
            click.echo(click.style(f"  - title: {previous.title}", fg="red"))
            click.echo(click.style(f"  + title: {version.title}", fg="green"))
        diff = paragraph_diff(previous.body, version.body)
        for old, new in diff["changed"]:
            click.echo(click.style(f"  - {old}", fg="red"))
            click.echo(click.style(f"  + {new}", fg="green"))
        for paragraph in diff["removed"]:
            click.echo(click.style(f"  - {paragraph}", fg="red"))
        for paragraph in diff["added"]:
            click.echo(click.style(f"  + {paragraph}", fg="green"))


@click.command()
@config_option
@click.argument("source_id", required=False)
@click.option("--reset", is_flag=True, help="Forget the source's learned template (it is learned again as it crawls).")
def templates(config_path: Path | None, source_id: str | None, reset: bool) -> None:
    """Show the site-template blocks learned per source (text that recurs across its articles)."""
    _, config = load(config_path)
    if source_id is not None and source_id not in {s.id for s in config.sources}:
        raise click.BadParameter(f"no such source: {source_id}", param_hint="SOURCE_ID")
    if reset and source_id is None:
        raise click.BadParameter("--reset needs a SOURCE_ID", param_hint="--reset")
    with store_session(config, writable=reset) as session:
        if reset and source_id is not None:
            forgotten = session.run(session.store.reset_template(source_id))
            click.echo(f"{source_id}: {forgotten} template block(s) forgotten")
            return
        rows = session.run(session.store.template_rows(source_id))
    if not rows:
        click.echo("no template blocks learned yet (a source needs at least 5 stored articles)")
    for row in rows:
        text = " ".join(row.text.split())
        click.echo(f"{row.source_id:<12} {row.articles:>3}/{row.sampled:<3} {row.learned_at[:10]}  {text[:100]}")


@click.command()
@config_option
@click.option("--source", "source_id", help="Only events of this source.")
@click.option(
    "--type", "types", multiple=True, type=click.Choice(EVENT_TYPES), help="Only events of this type (repeatable)."
)
@click.option(
    "--since",
    type=SinceType(),
    help="Only events from then on: 2026-12-01, 2026-12-01T08:30 (in the display time zone), 2h, 7d, today, yesterday.",
)
@click.option("--after", default=0, show_default=True, help="Events stored after the event with this id, oldest first.")
@click.option("--limit", default=50, show_default=True, help="At most this many: the newest, unless --after.")
@click.option("--follow", is_flag=True, help="Then keep printing new events as they are stored (Ctrl-C stops).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@tz_option
def events(
    config_path: Path | None, source_id: str | None, types: tuple[str, ...], since: Since | None, after: int,
    limit: int, follow: bool, as_json: bool, tz: str | None,
) -> None:  # fmt: skip
    """The newest stored events (oldest of them first, the newest last); with --after, those after it."""
    from crawler.store.values import EventQuery, StreamPosition

    _, config = load(config_path)
    zone = display_zone(tz, config)
    since_text = since.moment(zone).astimezone(UTC).isoformat(timespec="milliseconds") if since else None  # as stored
    position: StreamPosition | None = None  # where --follow goes on from (stream order, not id order)
    with store_session(config, live=follow) as session:
        try:
            while True:
                newest = position is None and not after  # like tail: the last `limit`, then what comes
                query = EventQuery(after, limit, source_id, types, since_text, position, newest=newest)
                found = session.run(session.store.events(query))
                for event in found:
                    row = {"id": event.id, "ts": event.ts, "type": event.type, "source_id": event.source_id,
                           "article_id": event.article_id, "data": event.data}  # fmt: skip
                    click.echo(json.dumps(row, ensure_ascii=False) if as_json else _event_line(event, zone))
                    position = StreamPosition.of(event)
                if not follow:
                    break
                time.sleep(1.0)
        except KeyboardInterrupt:
            pass  # --follow ends with Ctrl-C


def _event_line(event: Event, zone: ZoneInfo) -> str:
    """One event: when (in the display zone), what, which source; the headline, then the address."""
    data = event.data
    detail = data.get("url") or ""
    if data.get("title"):
        detail = f"{data['title']}  {detail}"
    if event.type == "article_updated":
        detail += f" changed: {', '.join(data.get('changed', []))}"
    if data.get("reason"):
        detail += f" ({data['reason']})"
    return f"{event.id:>6} {shown(event.ts, zone, seconds=True)} {event.type:<17} {event.source_id or '-':<12} {detail}"


COMMANDS = (search, stats, show, export, hosts, history, templates, events)

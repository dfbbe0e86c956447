"""``crawler sources``: each source's state; ``sources test`` (why a source finds what it finds), ``sources
add`` (a source proposed for a site, checked, appended to the config on confirmation), ``sources import``
and ``sources export`` (OPML, for users moving from or to a feed reader)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click

from crawler.cli.common import config_option, display_zone, fail, load, shown, store_session, tz_option
from crawler.config import CrawlerSettings, SourceConfig, resolve_config_path
from crawler.errors import ConfigError, CrawlerError

if TYPE_CHECKING:
    from crawler.diagnose import PageCheck
    from crawler.onboard.probe import Probe

__all__ = ["sources"]


@click.group(invoke_without_command=True)
@config_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@tz_option
@click.pass_context
def sources(ctx: click.Context, config_path: Path | None, as_json: bool, tz: str | None) -> None:
    """Each source's state (ok / failing, failed when its last run failed, no links when its last run found
    links but its filters took none), health (degraded / stale), why, last success and articles per day. `crawler sources test ID`: why a source finds what it finds."""
    if ctx.invoked_subcommand is not None:
        return
    _, config = load(config_path)
    zone = display_zone(tz, config)
    with store_session(config) as session:
        rows = session.run(session.store.source_overview())
    for row in rows:
        if as_json:
            click.echo(json.dumps(asdict(row), ensure_ascii=False))
            continue
        state = row.state if row.state != "ok" else (row.health or "ok")
        if state == "ok" and row.consecutive_failures:  # below failure_threshold, but not a success either
            state = "failed"
        elif state == "ok" and row.last_warning:  # it works, and its filters refuse every link it finds
            state = "no links"
        colour = {"ok": "green", "failing": "red"}.get(state, "yellow")
        success = shown(row.last_success_at, zone, missing="never")
        click.echo(f"{row.id:<16} {click.style(f'{state:<9}', fg=colour)} last success {success:<16} "
                   f"{row.articles:>6} articles {row.per_day:>6.1f}/day  {row.name}")  # fmt: skip
        why = row.last_error if row.state == "failing" or state == "failed" else row.health_reason or row.last_warning
        if why:
            click.echo(f"{'':<17}{why}")


@sources.command("test")
@config_option
@click.argument("source_id")
@click.option("--links", "show_links", is_flag=True, help="List every link with its verdict, not only the counts.")
def test_source_command(config_path: Path | None, source_id: str, show_links: bool) -> None:
    """Fetch the source's feeds, sitemaps and listing pages as a run does (storing nothing) and say what
    became of every link: an article to collect, one already stored, or turned away by allowed_domains,
    article_url_pattern or robots.txt."""
    from crawler.diagnose import check_source

    _, config = load(config_path)
    source = next((s for s in config.sources if s.id == source_id), None)
    if source is None:
        raise click.BadParameter(f"no source {source_id!r} in the config", param_hint="SOURCE_ID")
    file = config.crawler.sqlite_file
    if file is not None and not file.exists():  # nothing stored yet: no link is known
        pages = asyncio.run(check_source(source, config.crawler, None))
    else:
        with store_session(config) as session:
            pages = session.run(check_source(source, config.crawler, session.store))
    for page in pages:
        counts = page.counts
        summary = page.error or ", ".join(f"{n} {verdict}" for verdict, n in counts.most_common()) or "no links"
        click.echo(f"{page.kind:<8} {page.url}\n         {summary}")
        if show_links:
            for url, verdict in page.links:
                click.echo(f"           {verdict:<11} {url}")
    totals = Counter(_verdicts_by_url(pages).values())
    click.echo(f"\n{source_id}: {totals['article']} to collect, {totals['known']} already stored, "
               f"{totals['off_domain']} outside allowed_domains {list(source.domains)}, {totals['not_article']} "
               f"not matching article_url_pattern {source.article_url_pattern!r}, {totals['robots']} refused by "
               f"robots.txt, {totals['bad_link']} not usable as URLs")  # fmt: skip
    if not totals["article"] and not totals["known"]:
        sys.exit(1)


_VERDICT_RANK = {"article": 0, "known": 1, "robots": 2, "not_article": 3, "off_domain": 4, "bad_link": 5}


def _verdicts_by_url(pages: list[PageCheck]) -> dict[str, str]:
    """Each distinct link once, with the best verdict any page gave it (a run takes a link from any page)."""
    best: dict[str, str] = {}
    for page in pages:
        for url, verdict in page.links:
            if verdict != "repeated" and (url not in best or _VERDICT_RANK[verdict] < _VERDICT_RANK[best[url]]):
                best[url] = verdict
    return best


@sources.command("add")
@config_option
@click.argument("url")
@click.option("--samples", default=3, show_default=True, type=click.IntRange(0, 20),
              help="Newest articles fetched and extracted to show what would be collected.")  # fmt: skip
@click.option("-y", "--yes", is_flag=True, help="Append without asking (for scripts).")
def add_source(config_path: Path | None, url: str, samples: int, yes: bool) -> None:
    """Propose a source for the site at URL: its feeds (advertised or at the usual paths), sitemaps (from
    robots.txt or the usual paths), section pages, allowed_domains and the shape of its article links;
    fetch a few articles to show what would be collected; append the commented [[sources]] table to the
    config when you confirm. Requests obey robots.txt, the address rules and the config's [crawler]
    settings."""
    from crawler.onboard.draft import source_block
    from crawler.onboard.probe import probe_site

    if not url.startswith(("http://", "https://")):
        raise click.BadParameter(f"{url!r} is not an http(s) URL", param_hint="URL")
    path, settings, sources_now = _config_for_adding(config_path)
    try:
        probe = asyncio.run(probe_site(url, settings, [source.id for source in sources_now], samples))
    except CrawlerError as exc:
        fail(str(exc))
    _show_probe(probe, ZoneInfo(settings.display_timezone))
    block = source_block(probe.draft)
    click.echo(f"\nProposed source:\n\n{block}")
    if not yes and not click.confirm(f"Append it to {path}?", default=False):
        click.echo("nothing written")
        return
    _append(path, [block])
    click.echo(f"added source {probe.draft.id!r} to {path}; `crawler sources test {probe.draft.id}` shows what it "
               "finds; a running daemon takes it on reload (systemctl reload crawler, or kill -HUP)")  # fmt: skip


@sources.command("import")
@config_option
@click.argument("opml_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-y", "--yes", is_flag=True, help="Append without asking (for scripts).")
def import_sources(config_path: Path | None, opml_file: Path, yes: bool) -> None:
    """Add a source for each feed of an OPML file (a feed reader's export) not already in the config."""
    from crawler.onboard.draft import source_block
    from crawler.onboard.opml import drafts_from_opml, read_opml

    path, _, sources_now = _config_for_adding(config_path)
    taken = [source.id for source in sources_now]
    known = [feed for source in sources_now for feed in source.feeds]
    try:
        feeds = read_opml(opml_file.read_bytes(), str(opml_file))
    except ConfigError as exc:
        fail("; ".join(exc.problems))
    drafts, skipped = drafts_from_opml(feeds, taken, known)
    for line in skipped:
        click.echo(f"skipped {line}")
    if not drafts:
        click.echo("no new feed to add")
        return
    for draft in drafts:
        click.echo(f"{draft.id:<20} {draft.feeds[0]}  {draft.name}")
    if not yes and not click.confirm(f"Append these {len(drafts)} sources to {path}?", default=False):
        click.echo("nothing written")
        return
    _append(path, [source_block(draft) for draft in drafts])
    click.echo(f"added {len(drafts)} source(s) to {path}")


@sources.command("export")
@config_option
@click.option("--opml", "as_opml", is_flag=True, default=True, help="As OPML 2.0 (the default, and only, form).")
def export_sources(config_path: Path | None, as_opml: bool) -> None:
    """Print the config's feeds as an OPML file for a feed reader (sources without feeds are left out)."""
    from crawler.onboard.opml import write_opml

    _, config = load(config_path)
    click.echo(write_opml(config.sources), nl=False)


def _config_for_adding(config_path: Path | None) -> tuple[Path, CrawlerSettings, list[SourceConfig]]:
    """The config file to append to, its [crawler] settings and its sources (a file not there yet is
    created with the first source, and the default settings apply)."""
    path = resolve_config_path(config_path)
    if not path.exists():
        return path, CrawlerSettings(), []
    _, config = load(path)
    return path, config.crawler, list(config.sources)


def _append(path: Path, blocks: list[str]) -> None:
    from crawler.onboard.draft import append_sources

    try:
        append_sources(path, blocks)
    except ConfigError as exc:
        fail(f"not written, the config would be invalid: {'; '.join(exc.problems)}")
    except OSError as exc:
        fail(f"cannot write {path}: {exc}")


def _show_probe(probe: Probe, zone: ZoneInfo) -> None:
    click.echo("Looked at:")
    for url, what in probe.looked_at:
        click.echo(f"  {url}\n      {what}")
    if not probe.samples:
        return
    click.echo(f"\nWhat it would collect ({len(probe.samples)} of the newest articles):")
    for sample in probe.samples:
        if sample.error and not sample.body_chars:
            click.echo(f"  {click.style('x', fg='red')} {sample.url}\n      {sample.error}")
            continue
        when = shown(sample.published, zone, missing="no date")
        by = f"  by {', '.join(sample.authors)}" if sample.authors else ""
        click.echo(
            f"  {when:<16} {sample.body_chars:>7,} chars  {sample.title or '(no title)'}{by}\n      {sample.url}"
        )
    if all(sample.error or sample.body_chars < 200 for sample in probe.samples):
        click.echo(click.style("  none of them gave an article body: check the URL, or set [sources.extract] "
                               "selectors (crawler extract --explain URL)", fg="yellow"))  # fmt: skip

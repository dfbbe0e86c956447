"""One pass over some sources (``crawler crawl``): the same pipeline as the daemon, run once each,
with a rich progress display on stderr and a summary table at the end."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from crawler.assembly import assembled
from crawler.config import Config, SourceConfig
from crawler.models import RunSummary
from crawler.pipeline import Deps, record_failed_run, run_concurrently, run_source

__all__ = ["crawl_once"]
logger = logging.getLogger(__name__)


async def crawl_once(
    config: Config, sources: list[SourceConfig], *, recheck_all: bool = False, console: Console | None = None
) -> list[RunSummary]:
    """Run each source once, concurrently; print progress and a summary table to console (stderr)."""
    console = console or Console(stderr=True)
    async with assembled(config) as parts:
        with Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed} pages"),
            TimeElapsedColumn(), console=console, transient=not console.is_terminal,
        ) as progress:  # fmt: skip
            tasks = {s.id: progress.add_task(s.id, total=None) for s in sources}
            deps = parts.deps(on_article_done=_advance(progress, tasks))
            # a StoreError (the database refused a write) stops every source and is raised
            summaries = await run_concurrently(_run_one(source, deps, recheck_all, config) for source in sources)
    console.print(_summary_table(summaries))
    return summaries


async def _run_one(source: SourceConfig, deps: Deps, recheck_all: bool, config: Config) -> RunSummary:
    try:
        async with asyncio.timeout(config.crawler.run_timeout.total_seconds()):
            return await run_source(source, deps, recheck_all=recheck_all)
    except TimeoutError:
        return await record_failed_run(source, deps, "run_timeout exceeded")


def _advance(progress: Progress, tasks: dict[str, TaskID]) -> Callable[[str, str], None]:
    def on_article_done(source_id: str, outcome: str) -> None:
        progress.advance(tasks[source_id])

    return on_article_done


def _summary_table(summaries: list[RunSummary]) -> Table:
    table = Table(title="crawl summary")
    for column in ("source", "new", "updated", "unchanged", "failed", "skipped", "status"):
        table.add_column(column, justify="left" if column in ("source", "status") else "right")
    for s in summaries:
        status = "ok" if s.ok else f"[red]failed: {s.error or 'every discovery page failed'}[/red]"
        table.add_row(s.source_id, str(s.new), str(s.updated), str(s.unchanged), str(s.failed),
                      str(sum(s.skipped.values())), status)  # fmt: skip
    return table

"""Extraction quality and speed, ours beside trafilatura and readability-lxml, in one run.

Scores the body text of every page with the article-extraction-benchmark metric (token 4-shingles,
bench/extraction_metric.py), and counts how often the title, the publication date and the author are
right. Timing is per page, wall clock, in this process, median over the run.

    python bench/extraction.py ../shared/datasets                              # every set, then the mean
    python bench/extraction.py ../shared/datasets/wcxb-dev-articles            # one set
    python bench/extraction.py ../shared/fixtures/real --fixtures             # Arabic/Persian pages
    python bench/extraction.py DIR --only crawler --limit 100 --worst 10       # quick look, worst pages

Peers are used only if installed (pip install trafilatura readability-lxml).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere
from bench.extraction_metric import (  # noqa: E402
    DatasetPage,
    PageScore,
    Totals,
    load_fixture_pages,
    load_pages,
    score_page,
)
from bench.metadata_metric import (  # noqa: E402
    Truth,
    fixture_truth,
    same_authors,
    same_first_author,
    same_minute,
    same_title,
    tags_f1,
    truths_of,
)
from crawler.extract import extract  # noqa: E402
from crawler.textnorm import match_key  # noqa: E402


@dataclass(frozen=True, slots=True)
class Prediction:
    body: str
    title: str | None = None
    date: str | None = None  # YYYY-MM-DD
    author: str | None = None  # the names as one string
    modified: str | None = None  # YYYY-MM-DD, for extractors that keep the two apart
    published: str | None = None  # the timestamp as given (ISO, with an offset where known)
    authors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


Extractor = Callable[[DatasetPage], Prediction]


def crawler_extractor(page: DatasetPage) -> Prediction:
    article = extract(page.html, page.url or None)
    date = article.published[:10] if article.published else None
    modified = article.modified[:10] if article.modified else None
    authors = "; ".join(article.authors) or None
    return Prediction(
        article.body,
        article.title,
        date,
        authors,
        modified,
        article.published,
        tuple(article.authors),
        tuple(article.tags),
    )


def trafilatura_extractor() -> tuple[Extractor, Extractor] | None:
    """(timed body extractor, untimed metadata extractor) or None if trafilatura is not installed."""
    try:
        import trafilatura
    except ImportError:
        return None

    def body(page: DatasetPage) -> Prediction:
        return Prediction(trafilatura.extract(page.html, url=page.url or None, include_comments=False) or "")

    def metadata(page: DatasetPage) -> Prediction:
        doc = trafilatura.bare_extraction(
            page.html, url=page.url or None, include_comments=False, with_metadata=True,
            date_extraction_params={"extensive_search": True, "original_date": True, "outputformat": "%Y-%m-%d %H:%M"},
        )  # fmt: skip
        if doc is None:
            return Prediction("")
        names = tuple(name.strip() for name in re.split(r";|,", doc.author or "") if name.strip())
        return Prediction(
            doc.text or "",
            doc.title,
            (doc.date or "")[:10] or None,
            doc.author,
            None,
            doc.date,
            names,
            tuple(doc.tags or ()),
        )

    return body, metadata


def readability_extractor() -> Extractor | None:
    try:
        import lxml.html
        from readability import Document
    except ImportError:
        return None

    def run(page: DatasetPage) -> Prediction:
        document = Document(page.html.decode("utf-8", errors="replace"))
        summary = document.summary(html_partial=True)
        root = lxml.html.fromstring(summary) if summary.strip() else None
        paragraphs = []
        if root is not None:
            for block in root.iter("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "pre", "blockquote", "td"):
                text = " ".join(block.text_content().split())
                if text:
                    paragraphs.append(text)
        return Prediction("\n\n".join(paragraphs), document.short_title() or document.title())

    return run


@dataclass(slots=True)
class Result:
    name: str
    totals: Totals = field(default_factory=Totals)
    times_ms: list[float] = field(default_factory=list)
    metadata_times_ms: list[float] = field(default_factory=list)  # a peer's separate run that reads metadata too
    titles: list[bool] = field(default_factory=list)
    dates: list[bool] = field(default_factory=list)
    any_dates: list[bool] = field(default_factory=list)  # the truth is either the published or the modified date
    authors: list[bool] = field(default_factory=list)  # the first author
    author_sets: list[bool] = field(default_factory=list)  # every author, where the truth lists them
    minutes: list[bool] = field(default_factory=list)  # the publication minute, where the truth has one
    tags: list[float] = field(default_factory=list)  # per-page F1 of the tags, where the truth has topics
    leaked: int = 0  # 'without' snippets found in the body
    missed: int = 0  # 'with' snippets not found
    errors: int = 0
    per_page: dict[str, PageScore] = field(default_factory=dict)


def evaluate(
    name: str,
    run: Extractor,
    pages: list[DatasetPage],
    truths: dict[str, Truth],
    metadata: Extractor | None = None,
    fields: tuple[str, ...] = ("title", "date", "author", "tags"),
) -> Result:
    """Run one extractor over the pages; ``metadata`` (untimed) supplies the fields if the timed run does not."""
    result = Result(name)
    for page in pages:
        started = time.perf_counter()
        try:
            prediction = run(page)
        except Exception as error:  # a peer crashing on one page is a result to report, not a reason to stop
            result.errors += 1
            print(f"  {name} failed on {page.page_id}: {type(error).__name__}: {error}", file=sys.stderr)
            prediction = Prediction("")
        result.times_ms.append((time.perf_counter() - started) * 1000)
        if page.body_known:
            score = score_page(prediction.body, page.main_content)
            result.totals.add(score)
            result.per_page[page.page_id] = score
        body_key = match_key(prediction.body)
        result.leaked += sum(1 for s in page.without_snippets if match_key(s) in body_key)
        result.missed += sum(1 for s in page.with_snippets if match_key(s) not in body_key)
        if metadata:
            started = time.perf_counter()
            meta = metadata(page)
            result.metadata_times_ms.append((time.perf_counter() - started) * 1000)
        else:
            meta = prediction
        score_metadata(result, meta, truths[page.page_id], fields)
    return result


def score_metadata(result: Result, meta: Prediction, truth: Truth, fields: tuple[str, ...]) -> None:
    if truth.title and "title" in fields:
        result.titles.append(same_title(meta.title, truth.title))
    if truth.date and "date" in fields:
        result.dates.append(meta.date == truth.date)
        result.any_dates.append(truth.date in (meta.date, meta.modified))
    if truth.minute and "date" in fields:
        result.minutes.append(same_minute(meta.published, truth))
    if truth.author and "author" in fields:
        result.authors.append(same_first_author(meta.author, truth.author))
    if truth.authors and "author" in fields:
        result.author_sets.append(same_authors(meta.authors, truth.authors))
    if truth.topics and "tags" in fields:
        result.tags.append(tags_f1(meta.tags, truth.topics))


def _percent(values: list[bool]) -> str:
    return f"{100 * sum(values) / len(values):5.1f}% of {len(values)}" if values else "-"


def print_table(results: list[Result], pages: int) -> None:
    print(f"\n{pages} pages")
    header = f"{'extractor':<13}{'precision':>10}{'recall':>8}{'F1':>8}{'median ms':>11}{'p90 ms':>8}"
    header += f"{'title':>16}{'date':>16}{'author':>16}{'leaked':>8}{'missed':>8}{'errors':>7}"
    print(header)
    for r in results:
        p90 = statistics.quantiles(r.times_ms, n=10)[-1] if len(r.times_ms) > 1 else r.times_ms[0]
        print(
            f"{r.name:<13}{r.totals.precision:>10.3f}{r.totals.recall:>8.3f}{r.totals.f1:>8.3f}"
            f"{statistics.median(r.times_ms):>11.2f}{p90:>8.2f}{_percent(r.titles):>16}{_percent(r.dates):>16}"
            f"{_percent(r.authors):>16}{r.leaked:>8}{r.missed:>8}{r.errors:>7}"
        )


def print_metadata(results: list[Result]) -> None:
    """The fields only some sets have the truth for (fundus): publication minute, every author, tags."""
    if not any(r.minutes or r.author_sets or r.tags for r in results):
        return
    print(f"{'metadata':<13}{'minute':>16}{'all authors':>16}{'tags F1':>16}")
    for r in results:
        tags = f"{sum(r.tags) / len(r.tags):.3f} of {len(r.tags)}" if r.tags else "-"
        print(f"{r.name:<13}{_percent(r.minutes):>16}{_percent(r.author_sets):>16}{tags:>16}")


def print_speed_ratios(results: list[Result]) -> None:
    """Ours reads metadata (title, dates, authors, tags...) on every page; trafilatura's extract() does
    not by default, so both the body-only and the like-for-like (with metadata) ratios are printed."""
    ours = next((r for r in results if r.name == "crawler"), None)
    if ours is None:
        return
    mine = statistics.median(ours.times_ms)
    for peer in results:
        if peer is ours:
            continue
        print(
            f"{peer.name}: median {statistics.median(peer.times_ms):.2f} ms = {statistics.median(peer.times_ms) / mine:.1f}x ours",
            end="",
        )
        if peer.metadata_times_ms:
            with_metadata = statistics.median(peer.metadata_times_ms)
            print(f"; with metadata (like ours) {with_metadata:.2f} ms = {with_metadata / mine:.1f}x ours", end="")
        print()


def print_worst(set_name: str, result: Result, count: int) -> None:
    def f1(score: PageScore) -> float:
        p, r = score.precision or 0.0, score.recall or 0.0
        return 2 * p * r / (p + r) if p + r else 0.0

    print(f"\nworst {count} pages of {set_name} for {result.name} (page: precision recall)")
    ranked = sorted(result.per_page.items(), key=lambda item: f1(item[1]))[:count]
    for page_id, score in ranked:
        print(f"  {page_id}: {score.precision if score.precision is not None else '-'} {score.recall}")


def dataset_dirs(directory: Path) -> list[Path]:
    """The sets to score: directory itself if it holds a set (ground-truth/ beside html/), else every
    set directly under it (../shared/datasets holds five)."""
    if (directory / "ground-truth").is_dir():
        return [directory]
    sets = sorted(child for child in directory.iterdir() if (child / "ground-truth").is_dir())
    if not sets:
        raise SystemExit(f"{directory}: neither a dataset (ground-truth/, html/) nor a folder of datasets")
    return sets


def run_set(name: str, pages: list[DatasetPage], truths: dict[str, Truth], wanted: set[str]) -> list[Result]:
    """Every wanted extractor over one set's pages, ours first."""
    results = []
    if "crawler" in wanted:
        results.append(evaluate("crawler", crawler_extractor, pages, truths))
    trafilatura = trafilatura_extractor() if "trafilatura" in wanted else None
    if trafilatura:
        results.append(evaluate("trafilatura", trafilatura[0], pages, truths, trafilatura[1]))
    readability = readability_extractor() if "readability" in wanted else None
    if readability:
        results.append(evaluate("readability", readability, pages, truths, fields=("title",)))
    print(f"\n== {name}", end="")
    print_table(results, len(pages))
    print_speed_ratios(results)
    print_metadata(results)
    for r in results:
        if r.any_dates and r.any_dates != r.dates:
            print(
                f"{r.name}: the truth's date is the published or the modified date on {_percent(r.any_dates).strip()}"
            )
    return results


def print_means(per_set: dict[str, list[Result]]) -> None:
    """Body F1 of each extractor on each set, and its mean over the sets (each set counts once)."""
    names = [r.name for r in next(iter(per_set.values()))]
    print(f"\n== body F1 by set, and the mean over {len(per_set)} sets")
    print(f"{'set':<20}" + "".join(f"{name:>13}" for name in names))
    for set_name, results in per_set.items():
        print(f"{set_name:<20}" + "".join(f"{r.totals.f1:>13.3f}" for r in results))
    means = [statistics.mean(results[i].totals.f1 for results in per_set.values()) for i in range(len(names))]
    print(f"{'mean':<20}" + "".join(f"{mean:>13.3f}" for mean in means))
    times = [
        statistics.median(t for results in per_set.values() for t in results[i].times_ms) for i in range(len(names))
    ]
    print(f"{'median ms / page':<20}" + "".join(f"{t:>13.2f}" for t in times))
    with_metadata = [
        statistics.median(
            t for results in per_set.values() for t in results[i].metadata_times_ms or results[i].times_ms
        )
        for i in range(len(names))
    ]
    print(f"{'  with metadata':<20}" + "".join(f"{t:>13.2f}" for t in with_metadata))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", type=Path, help="a dataset, or a folder of datasets (each scored, then the mean)")
    parser.add_argument("--fixtures", action="store_true", help="directory holds *.expected.json fixtures")
    parser.add_argument("--limit", type=int, help="only the first N pages of each set")
    parser.add_argument("--only", choices=["crawler", "trafilatura", "readability"], action="append")
    parser.add_argument("--worst", type=int, default=0, help="list the N worst pages of our extractor")
    parser.add_argument(
        "--json", type=Path, help="also write per-page scores of our extractor (or the one --only names) here"
    )
    parser.add_argument("--check-floor", type=Path, help="exit 1 if our F1 is below this file's floor for a set")
    args = parser.parse_args()
    wanted = set(args.only or ["crawler", "trafilatura", "readability"])

    # One-time loads (dateparser, the language model) are not per-page cost.
    extract(
        b"<html><body><p>"
        + b"A warm-up paragraph with enough words to load the language model. " * 3
        + b"</p></body></html>"
    )
    per_set: dict[str, list[Result]] = {}
    if args.fixtures:
        loaded = list(load_fixture_pages(args.directory))
        name = args.directory.resolve().name
        per_set[name] = run_set(name, [p for p, _ in loaded], {p.page_id: fixture_truth(t) for p, t in loaded}, wanted)
    else:
        for directory in dataset_dirs(args.directory):
            pages = list(load_pages(directory, args.limit))
            per_set[directory.name] = run_set(directory.name, pages, truths_of(directory, pages), wanted)
    if len(per_set) > 1:
        print_means(per_set)
    ours = {name: results[0] for name, results in per_set.items() if results and results[0].name == "crawler"}
    if args.worst:
        for name, result in ours.items():
            print_worst(name, result, args.worst)
    if args.json:
        first = {name: results[0] for name, results in per_set.items() if results}
        scores = {f"{name}/{k}": [v.precision, v.recall] for name, r in first.items() for k, v in r.per_page.items()}
        args.json.write_text(json.dumps(scores, indent=1))
    if args.check_floor:
        check_floors(args.check_floor, {name: r.totals.f1 for name, r in ours.items()}, limited=bool(args.limit))


def check_floors(floor_file: Path, f1_by_set: dict[str, float], limited: bool) -> None:
    """Each set's quality floor (keyed by the set folder's name); a drop below any of them fails the run."""
    floors = json.loads(floor_file.read_text(encoding="utf-8"))
    below = []
    for name, f1 in f1_by_set.items():
        floor = floors.get(name)
        if floor is None or limited:
            print(f"{name}: no floor checked ({'--limit given' if limited else f'not in {floor_file}'})")
        elif f1 < floor["f1"]:
            below.append(f"{name}: F1 {f1:.4f} is below the floor {floor['f1']}")
        else:
            print(f"{name}: F1 {f1:.4f} is above the floor {floor['f1']}")
    if below:
        raise SystemExit("\n".join(below) + f" ({floor_file})")


if __name__ == "__main__":
    main()

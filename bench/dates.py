"""Date parsing speed on what Arabic and Persian news pages print (the 72-string table of the tests).

    python bench/dates.py [--repeats 20]

Prints the first call in a fresh process (imports and locale loading) and the median and p95 per string
after warm-up, for our parser and for dateparser's autodetecting parse() as the peer.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

TABLE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "dates" / "arabic-date-strings.tsv"
NOW = datetime(2025, 11, 29, 12, 0, tzinfo=ZoneInfo("Asia/Baghdad"))


def strings() -> list[tuple[str, bool]]:
    lines = [line for line in TABLE.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    return [(row["input"], row["expected"].startswith("now")) for row in csv.DictReader(lines, delimiter="\t")]


def measure(name: str, parse: object, cases: list[tuple[str, bool]], repeats: int) -> None:
    started = time.perf_counter()
    parse(cases[0][0], cases[0][1])  # type: ignore[operator]
    first = (time.perf_counter() - started) * 1000
    for text, relative in cases:  # warm-up: every locale and calendar loaded once
        parse(text, relative)  # type: ignore[operator]
    per_string = []
    for text, relative in cases:
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            parse(text, relative)  # type: ignore[operator]
            times.append((time.perf_counter() - started) * 1000)
        per_string.append(statistics.median(times))
    p95 = statistics.quantiles(per_string, n=20)[-1]
    print(
        f"{name:<28}{first:>12.1f}{statistics.mean(per_string):>10.3f}{statistics.median(per_string):>10.3f}"
        f"{p95:>10.3f}{max(per_string):>10.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    cases = strings()
    print(f"{len(cases)} strings; ms per string")
    print(f"{'parser':<28}{'first call':>12}{'mean':>10}{'median':>10}{'p95':>10}{'max':>10}")
    from crawler.dates import parse_date

    measure(
        "crawler.dates.parse_date", lambda s, r: parse_date(s, "Asia/Baghdad", NOW, relative=r), cases, args.repeats
    )
    import dateparser

    measure("dateparser.parse (auto)", lambda s, r: dateparser.parse(s, settings={"RELATIVE_BASE": NOW}), cases,
            max(3, args.repeats // 5))  # fmt: skip


if __name__ == "__main__":
    main()

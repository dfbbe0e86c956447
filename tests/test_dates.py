"""Dates as Arabic and Persian news pages print them: the 72 strings of the research notes' table, and the
false positives the parser must refuse."""

from __future__ import annotations

import csv
import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from crawler.dates import parse_date

TABLE = Path(__file__).parent / "fixtures" / "dates" / "arabic-date-strings.tsv"
ZONE = "Asia/Baghdad"
NOW = datetime(2025, 11, 29, 12, 0, tzinfo=ZoneInfo(ZONE))
_LINES = TABLE.read_text(encoding="utf-8").splitlines()
ROWS = list(csv.DictReader((line for line in _LINES if not line.startswith("#")), delimiter="\t"))
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def test_the_table_is_complete() -> None:
    assert len(ROWS) == 72


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['row']}-{r['case'][:30]}" for r in ROWS])
def test_every_printed_date_parses_to_the_right_instant(row: dict[str, str]) -> None:
    expected = row["expected"]
    is_relative = expected.startswith("now")  # read at NOW; the others are checked against the real clock
    parsed = parse_date(row["input"], ZONE, NOW if is_relative else None, relative=is_relative)
    assert parsed is not None, row["input"]
    if relative := re.fullmatch(r"now−(\d+)([mhd])", expected):
        assert parsed == NOW - timedelta(**{_UNITS[relative[2]]: int(relative[1])})
    elif len(expected) == 10:
        assert parsed.date().isoformat() == expected
    else:
        assert parsed.strftime("%Y-%m-%d %H:%M") == expected


@pytest.mark.parametrize(
    "text",
    ["2024", "عام 2014", "3,412 مشاهدة", "70 شاحنة", "في أغسطس / آب", "5 May", "منذ 2 ساعات", "السبت",
     "14 رجب", "1445 هـ", "99 بهمن 1398", "31 فبراير 2024", "25 يناير 2090"],
)  # fmt: skip
def test_what_is_not_a_full_plausible_date_is_refused(text: str) -> None:
    """A bare year is never completed with today's day and month; relative dates only when asked for;
    impossible days and dates in the future are refused."""
    assert parse_date(text, ZONE, NOW) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("25 كانون 2 2024", "2024-01-25"),  # numbered Levantine months
        ("الأحد 3 كانون 1 2023", "2023-12-03"),
        ("5 تشرين 1 2023", "2023-10-05"),
        ("25 كانون الثاني / يناير 2024 - 10:30 ص", "2024-01-25 10:30"),
        ("2 تير 1399 - 02:09 ب.ظ", "2020-06-22 14:09"),  # Jalali with the Persian "after noon"
    ],
)
def test_more_forms_seen_on_iraqi_and_persian_sites(text: str, expected: str) -> None:
    parsed = parse_date(text, ZONE)
    assert parsed is not None
    assert parsed.strftime("%Y-%m-%d %H:%M" if len(expected) > 10 else "%Y-%m-%d") == expected

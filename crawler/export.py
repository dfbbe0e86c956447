"""`crawler export`: stored articles as JSON Lines, CSV or Parquet, streamed batch by batch.

The field list is part of the public interface (README, "Exports"): new fields may be added at the end,
none is renamed or removed. Memory stays flat on any database size: rows are read 500 at a time and
written out before the next batch is read.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, TextIO

if TYPE_CHECKING:
    from crawler.store.values import ArticleView

__all__ = ["EXPORT_FIELDS", "Format", "write_csv", "write_jsonl", "write_parquet"]

Format = Literal["jsonl", "csv", "parquet"]
EXPORT_FIELDS: tuple[str, ...] = (
    "id", "source_id", "url", "canonical_url", "title", "published", "modified", "published_text",
    "modified_text", "authors", "section", "tags", "language", "image", "site_name", "description", "body",
    "first_seen", "last_changed", "versions", "removed_at", "story_id",
)  # fmt: skip
_LIST_FIELDS = ("authors", "tags")
_INTEGER_FIELDS = ("id", "versions", "story_id")
_TIME_FIELDS = ("published", "modified", "first_seen", "last_changed", "removed_at")  # stored as ISO 8601 UTC


def write_jsonl(batches: Iterable[list[ArticleView]], out: TextIO) -> int:
    """One JSON object per article (lists as arrays); returns the number written."""
    written = 0
    for batch in batches:
        for row in batch:
            out.write(json.dumps(_fields(row), ensure_ascii=False) + "\n")
        written += len(batch)
    return written


def write_csv(batches: Iterable[list[ArticleView]], out: TextIO, *, excel: bool = False) -> int:
    """A header row, then one row per article; authors and tags as JSON arrays in their cells. ``excel``:
    a UTF-8 byte order mark first and CRLF line ends, so a spreadsheet opens Arabic text as Arabic."""
    if excel:
        out.write("\ufeff")
    writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS, lineterminator="\r\n" if excel else "\n")
    writer.writeheader()
    written = 0
    for batch in batches:
        for row in batch:
            writer.writerow(
                {k: json.dumps(v, ensure_ascii=False) if k in _LIST_FIELDS else v for k, v in _fields(row).items()}
            )
        written += len(batch)
    return written


def write_parquet(batches: Iterable[list[ArticleView]], path: str) -> int:
    """One row group per batch; authors and tags as lists of strings, ids and counts as int64, dates as
    UTC timestamps (milliseconds; the `*_text` fields keep what the page wrote)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def column_type(name: str) -> pa.DataType:
        if name in _LIST_FIELDS:
            return pa.list_(pa.string())
        if name in _INTEGER_FIELDS:
            return pa.int64()
        return pa.timestamp("ms", tz="UTC") if name in _TIME_FIELDS else pa.string()

    schema = pa.schema([(name, column_type(name)) for name in EXPORT_FIELDS])
    written = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for batch in batches:
            rows = [_with_times(_fields(row)) for row in batch]
            writer.write_table(pa.Table.from_pylist(rows, schema=schema))
            written += len(batch)
    return written


def _with_times(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: datetime.fromisoformat(v) if k in _TIME_FIELDS and v else v for k, v in fields.items()}


def _fields(article: ArticleView) -> dict[str, Any]:
    """The exported fields of one article, in EXPORT_FIELDS order."""
    return {name: getattr(article, name) for name in EXPORT_FIELDS}

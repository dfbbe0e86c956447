"""`crawler export`: stored articles as JSON Lines, CSV or Parquet, streamed batch by batch.

The field list is part of the public interface (README, "Exports"): new fields may be added at the end,
none is renamed or removed. Memory stays flat on any database size: rows are read 500 at a time and
written out before the next batch is read.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
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


def write_jsonl(batches: Iterable[list[ArticleView]], out: TextIO) -> int:
    """One JSON object per article (lists as arrays); returns the number written."""
    written = 0
    for batch in batches:
        for row in batch:
            out.write(json.dumps(_fields(row), ensure_ascii=False) + "\n")
        written += len(batch)
    return written


def write_csv(batches: Iterable[list[ArticleView]], out: TextIO) -> int:
    """A header row, then one row per article; authors and tags as JSON arrays in their cells."""
    writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS, lineterminator="\n")
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
    """One row group per batch; authors and tags as lists of strings, ids and counts as int64."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([
        (name, pa.list_(pa.string()) if name in _LIST_FIELDS else pa.int64() if name in _INTEGER_FIELDS else pa.string())
        for name in EXPORT_FIELDS
    ])  # fmt: skip
    written = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for batch in batches:
            writer.write_table(pa.Table.from_pylist([_fields(row) for row in batch], schema=schema))
            written += len(batch)
    return written


def _fields(article: ArticleView) -> dict[str, Any]:
    """The exported fields of one article, in EXPORT_FIELDS order."""
    return {name: getattr(article, name) for name in EXPORT_FIELDS}

"""Log output: one JSON object per line, or readable text. Configured once, from cli.py.

Modules log with stdlib logging and pass structured fields as ``extra={"fields": {...}}``; the JSON
formatter merges them into the line. Under journald ($JOURNAL_STREAM) each JSON line gets a <N>
syslog-priority prefix so ``journalctl -p warning`` works.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Literal

__all__ = ["configure_logging"]

_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}


class JsonFormatter(logging.Formatter):
    def __init__(self, journald: bool) -> None:
        super().__init__()
        self._journald = journald

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {}
        if not self._journald:  # journald stamps lines itself
            line["ts"] = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        line.update(level=record.levelname.lower(), logger=record.name, msg=record.getMessage())
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update({k: v for k, v in fields.items() if v is not None})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        text = json.dumps(line, ensure_ascii=False, default=str)
        return f"<{_PRIORITY.get(record.levelno, 6)}>{text}" if self._journald else text


def configure_logging(log_format: Literal["json", "text"], verbose: bool = False) -> None:
    """Send every logger (ours and httpx/apscheduler/tenacity) through one stderr handler."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter(journald=bool(os.environ.get("JOURNAL_STREAM"))))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in ("httpx", "httpcore", "apscheduler.executors.default", "apscheduler.scheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    for per_job in ("procrastinate.jobs", "procrastinate.worker"):  # two lines a run; ours says what it did
        logging.getLogger(per_job).setLevel(logging.DEBUG if verbose else logging.WARNING)

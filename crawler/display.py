"""Stored times as people read them. Every timestamp is stored in UTC; the commands and the UI show it in
the user's display time zone ([crawler] display_timezone, or --tz)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

__all__ = ["shown"]


def shown(value: str | None, zone: ZoneInfo, *, seconds: bool = False, missing: str = "") -> str:
    """A stored ISO time as the user reads it: in their zone, "2026-12-06 19:04" (a date alone, or a time
    written without an offset, stays as written: there is no instant to convert)."""
    if not value:
        return missing
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        return value[:19].replace("T", " ") if "T" in value else value
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")

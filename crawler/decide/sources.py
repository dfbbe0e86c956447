"""What a finished run means for its source: failing and recovered transitions, and health (degraded
extraction, a source gone stale) against the source's own history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from crawler.events import Event
from crawler.store.values import RunOutcome, SourceState

__all__ = ["MIN_PAGES", "STALE_GAPS", "SourceUpdate", "decide_run"]

MIN_PAGES = 3  # article pages in a run before its extraction quality says anything
STALE_GAPS = 5  # silent for this many usual gaps between new articles: stale


@dataclass(frozen=True, slots=True)
class SourceUpdate:
    """The source's state after a run, and the transition events it makes (in the order they happen)."""

    state: str
    consecutive_failures: int
    failure_score: float
    health: str | None
    health_reason: str | None
    baselines: dict[str, float]
    events: tuple[Event, ...] = field(default=())


def decide_run(state: SourceState | None, outcome: RunOutcome, recent_first_seen: list[str]) -> SourceUpdate:
    """Failed runs in a row add their weight (timeouts only: 0.5); the source is failing when the sum
    reaches the threshold and recovered at its next good run. Degraded: in a run of at least MIN_PAGES
    article pages, one of its usual signals fell away: the share of pages with a body and a title, or with
    a publication date, under half its baseline (when that is 60 % or more), or the average body under a
    third of its usual length. Baselines are moving averages kept while the source is healthy. Stale: no
    new article (``recent_first_seen``: its newest 20, newest first) for STALE_GAPS times the median gap
    between them, and at least a day. Each is reported once, with the reason, and cleared with
    source_recovered."""
    source_id, now = outcome.source_id, outcome.now
    previous_state = state.state if state else "ok"
    previous_failures = state.consecutive_failures if state else 0
    failures = 0 if outcome.ok else previous_failures + 1
    score = 0.0 if outcome.ok else (state.failure_score if state else 0.0) + outcome.weight
    run_state = previous_state
    events: list[Event] = []
    if outcome.ok and previous_state == "failing":
        run_state = "ok"
        events.append(Event("source_recovered", source_id, data={"after_failures": previous_failures}, ts=now))
    elif not outcome.ok and previous_state != "failing" and score >= outcome.failure_threshold:
        run_state = "failing"
        events.append(Event("source_failing", source_id, data={"failures": failures, "reason": outcome.error}, ts=now))
    health, reason = (state.health, state.health_reason) if state else (None, None)
    baselines = dict(state.baselines) if state else {}
    if outcome.extracted >= MIN_PAGES:
        pages = outcome.extracted
        seen = {"content": (pages - outcome.poor) / pages, "dated": (pages - outcome.undated) / pages,
                "length": outcome.body_chars / pages}  # fmt: skip
        fallen = _fallen_signals(seen, baselines, pages)
        if health != "degraded" and fallen:
            health, reason = "degraded", "; ".join(fallen)
            events.append(Event("source_degraded", source_id, data={"reason": reason}, ts=now))
        elif health == "degraded" and not _fallen_signals(seen, baselines, pages, recovery=True):
            events.append(Event("source_recovered", source_id, data={"from": "degraded", "reason": reason}, ts=now))
            health, reason = None, None
        if health != "degraded":
            baselines = {k: v if k not in baselines else 0.8 * baselines[k] + 0.2 * v for k, v in seen.items()}
    stale = _staleness(recent_first_seen, now)
    if health is None and stale:
        health, reason = "stale", stale
        events.append(Event("source_stale", source_id, data={"reason": stale}, ts=now))
    elif health == "stale" and not stale:
        events.append(Event("source_recovered", source_id, data={"from": "stale", "reason": reason}, ts=now))
        health, reason = None, None
    return SourceUpdate(run_state, failures, score, health, reason, baselines, tuple(events))


def _fallen_signals(
    seen: dict[str, float], baselines: dict[str, float], pages: int, recovery: bool = False
) -> list[str]:
    """The signals of a run that fell against the source's baselines (for recovery: that are still not
    back to 80 % of them), as reasons a person can read."""
    fallen = []
    for name, label in (("content", "a body and a title"), ("dated", "a publication date")):
        usual = baselines.get(name)
        if usual is not None and usual >= 0.6 and seen[name] < usual * (0.8 if recovery else 0.5):
            fallen.append(f"{round(seen[name] * pages)} of {pages} article pages gave {label} (usually {usual:.0%})")
    usual_length = baselines.get("length")
    if (
        usual_length is not None
        and usual_length >= 500
        and seen["length"] < usual_length * (0.8 if recovery else 1 / 3)
    ):
        fallen.append(f"bodies averaged {seen['length']:.0f} characters (usually {usual_length:.0f})")
    return fallen


def _staleness(recent_first_seen: list[str], now: str) -> str | None:
    if len(recent_first_seen) < 5:
        return None
    times = [datetime.fromisoformat(value) for value in recent_first_seen]
    gaps = sorted((newer - older).total_seconds() for newer, older in zip(times, times[1:]))
    usual = max(gaps[len(gaps) // 2], 1.0)
    silent = (datetime.fromisoformat(now) - times[0]).total_seconds()
    if silent > max(STALE_GAPS * usual, 86400):
        return f"no new article for {silent / 3600:.0f} h (usually one every {usual / 3600:.1f} h)"
    return None

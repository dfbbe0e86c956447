"""The decisions above the store, as pure functions over values: no database anywhere in this file."""

from __future__ import annotations

from dataclasses import replace

from crawler.decide import (
    children_this_run,
    claim_needs_proof,
    decide_article,
    decide_run,
    duplicate_link,
    nearest_duplicate,
    removal_event,
    restoration_event,
)
from crawler.dedupe import content_hash
from crawler.extract.templates import block_key
from crawler.models import ArticleRecord
from crawler.neardup import DUPLICATE_SIMILARITY, signature
from crawler.store.values import RunOutcome, SourceState, StoredArticle

NOW = "2026-01-02T00:00:00+00:00"
PROMO = "تابعونا على تلغرام للمزيد من الأخبار العاجلة والتقارير الخاصة"


def record(body: str, title: str = "T", url: str = "https://e.com/a") -> ArticleRecord:
    fields = {"title": title, "body": body}
    return ArticleRecord(
        source_id="s", url=url, canonical_url=url, title=title, published=None, modified=None, authors=[], section=None,
        tags=[], language="ar", image=None, site_name=None, description=None, body=body,
        content_hash=content_hash(fields), etag=None, last_modified=None,
    )  # fmt: skip


def stored(from_record: ArticleRecord, article_id: int = 7, versions: int = 1) -> StoredArticle:
    r = from_record
    return StoredArticle(article_id, r.url, r.canonical_url, r.source_id, r.content_hash, versions, r.title, r.body,
                         r.published, r.modified, r.authors, r.section, r.tags, r.image)  # fmt: skip


# --- articles -------------------------------------------------------------------------------------------


def test_a_first_version_is_new_with_one_article_new_event_awaiting_its_id() -> None:
    change = decide_article(None, record("Paragraph one."), frozenset(), NOW)
    assert (change.kind, change.article_id, change.version) == ("new", None, 1)
    [event] = change.events
    assert event.type == "article_new" and event.article_id is None and event.ts == NOW
    assert event.data == {"url": "https://e.com/a", "title": "T", "published": None}


def test_the_same_content_is_unchanged_and_makes_no_event() -> None:
    first = record("Paragraph one.")
    change = decide_article(stored(first, versions=3), first, frozenset(), NOW)
    assert (change.kind, change.article_id, change.version, change.events) == ("unchanged", 7, 3, ())


def test_a_body_that_only_lost_template_blocks_is_refreshed_not_versioned() -> None:
    before = stored(record("Paragraph one of the story.\n\n" + PROMO))
    after = record("Paragraph one of the story.")
    change = decide_article(before, after, frozenset({block_key(PROMO)}), NOW)
    assert (change.kind, change.version, change.events) == ("refreshed", 1, ())
    assert decide_article(before, after, frozenset(), NOW).kind == "updated"  # without the template, an edit


def test_an_edit_is_a_new_version_naming_the_fields_with_a_paragraph_diff() -> None:
    before = stored(record("Paragraph one.\n\nParagraph two.", title="Old"), versions=2)
    after = record("Paragraph one.\n\nParagraph two, corrected.", title="New")
    change = decide_article(before, after, frozenset(), NOW)
    assert (change.kind, change.article_id, change.version, change.changed) == ("updated", 7, 3, ("title", "body"))
    [event] = change.events
    assert event.type == "article_updated" and event.article_id == 7
    assert event.data["changed"] == ["title", "body"] and event.data["version"] == 3
    assert event.data["diff"]["changed"] == [["Paragraph two.", "Paragraph two, corrected."]]


def test_a_title_only_edit_carries_no_body_diff() -> None:
    before = stored(record("Body.", title="Old"))
    [event] = decide_article(before, record("Body.", title="New"), frozenset(), NOW).events
    assert event.data["changed"] == ["title"] and "diff" not in event.data


def test_a_canonical_url_naming_another_stored_article_needs_proof() -> None:
    other = stored(record("Body.", url="https://e.com/other"))
    claimant = replace(record("Body.", url="https://e.com/a"), canonical_url="https://e.com/other")
    assert claim_needs_proof(other, claimant)
    assert not claim_needs_proof(None, claimant)
    assert not claim_needs_proof(stored(record("Body.")), record("Body."))  # its own URL


def test_the_first_near_duplicate_candidate_links_the_story() -> None:
    story = " ".join(f"word{n}" for n in range(200))
    mine, copy, other = signature(story), signature(story + " and one more"), signature("x " * 10 + story[::-1])
    assert mine is not None and copy is not None and other is not None
    found = nearest_duplicate(mine, [(3, other), (2, copy)])
    assert found is not None and found[0] == 2 and found[1] >= DUPLICATE_SIMILARITY
    assert nearest_duplicate(mine, [(3, other)]) is None
    link = duplicate_link(record(story), 2, "https://f.com/x", 1, 0.934, NOW)
    assert link.story_id == 1 and link.event.type == "article_duplicate" and link.event.article_id is None
    assert link.event.data == {"url": "https://e.com/a", "duplicate_of": 2, "duplicate_url": "https://f.com/x",
                               "story_id": 1, "similarity": 0.93}  # fmt: skip


def test_removal_and_restoration_are_reported_once() -> None:
    event = removal_event(7, "s", "https://e.com/a", None, "HTTP 404", NOW)
    assert event is not None and event.type == "article_removed" and event.data["reason"] == "HTTP 404"
    assert removal_event(7, "s", "https://e.com/a", NOW, "HTTP 404", NOW) is None  # removed already
    back = restoration_event(7, "s", "https://e.com/a", "2026-01-01T00:00:00+00:00", NOW)
    assert back is not None and back.data["removed_at"] == "2026-01-01T00:00:00+00:00"
    assert restoration_event(7, "s", "https://e.com/a", None, NOW) is None  # never removed


# --- sources --------------------------------------------------------------------------------------------


def runs(outcomes: list[RunOutcome], recent: list[str] | None = None) -> list[list[str]]:
    """Fold the outcomes through decide_run as the store would keep the state; each run's event types."""
    state: SourceState | None = None
    seen = []
    for outcome in outcomes:
        update = decide_run(state, outcome, recent or [])
        state = SourceState(outcome.source_id, "S", True, update.state, update.consecutive_failures,  # type: ignore[arg-type]
                            update.failure_score, outcome.now, None, outcome.error, update.health,  # type: ignore[arg-type]
                            update.health_reason, update.baselines)  # fmt: skip
        seen.append([event.type for event in update.events])
    return seen


def test_failed_runs_are_weighted_timeouts_count_half() -> None:
    """failure_threshold 2: two hard failures make a source failing; timeouts need four."""
    hard = RunOutcome("hard", False, "HTTP 500", NOW, 2, weight=1.0)
    assert runs([hard, hard]) == [[], ["source_failing"]]
    slow = RunOutcome("slow", False, "run_timeout exceeded", NOW, 2, weight=0.5)
    good = RunOutcome("slow", True, None, NOW, 2)
    assert runs([slow] * 4 + [good]) == [[], [], [], ["source_failing"], ["source_recovered"]]
    failing = decide_run(None, replace(hard, failure_threshold=1), [])
    assert failing.events[0].data == {"failures": 1, "reason": "HTTP 500"}


def test_degradation_is_measured_per_signal_against_the_source_own_baseline() -> None:
    """Pages that lose their dates, or bodies that shrink to a teaser, degrade a source; a source that never
    printed dates is not degraded for lacking them; each is reported once and cleared by recovery."""

    def run(source: str, undated: int, chars: int) -> RunOutcome:
        return RunOutcome(source, True, None, NOW, 3, extracted=5, undated=undated, body_chars=chars)

    assert runs([run("dated", 0, 10_000)] * 3 + [run("dated", 5, 10_000)] * 2) == [[], [], [], ["source_degraded"], []]
    assert runs([run("undated", 5, 10_000)] * 4) == [[], [], [], []]
    shrinking = [run("long", 0, 20_000)] * 3 + [run("long", 0, 2_000), run("long", 0, 20_000)]
    assert runs(shrinking) == [[], [], [], ["source_degraded"], ["source_recovered"]]
    state = None
    for outcome in shrinking[:4]:
        update = decide_run(state, outcome, [])
        state = SourceState("long", "L", True, "ok", 0, 0.0, NOW, NOW, None, update.health,  # type: ignore[arg-type]
                            update.health_reason, update.baselines)  # fmt: skip
    assert state is not None and "bodies averaged 400 characters (usually 4000)" in (state.health_reason or "")


def test_a_source_silent_for_many_usual_gaps_is_stale_until_a_new_article_arrives() -> None:
    hourly = [f"2026-01-01T{hour:02d}:00:00+00:00" for hour in range(5, -1, -1)]  # newest first
    assert decide_run(None, RunOutcome("s", True, None, "2026-01-01T07:00:00+00:00", 3), hourly).events == ()
    stale = decide_run(None, RunOutcome("s", True, None, "2026-01-03T07:00:00+00:00", 3), hourly)
    assert stale.health == "stale" and "no new article for 50 h" in (stale.health_reason or "")
    state = SourceState("s", "S", True, "ok", 0, 0.0, None, None, None, "stale", stale.health_reason)
    assert decide_run(state, RunOutcome("s", True, None, "2026-01-03T08:00:00+00:00", 3), hourly).events == ()  # once
    fresh = ["2026-01-03T09:00:00+00:00", *hourly]
    [recovered] = decide_run(state, RunOutcome("s", True, None, "2026-01-03T09:30:00+00:00", 3), fresh).events
    assert recovered.type == "source_recovered" and recovered.data["from"] == "stale"


def test_an_index_over_the_cap_gives_its_head_and_then_the_children_read_longest_ago() -> None:
    children = [f"https://news.example/s{n}.xml" for n in range(10)]
    read_at = {url: f"2026-01-0{n % 9 + 1}T00:00:00" for n, url in enumerate(children) if n != 7}
    chosen, waiting = children_this_run(children, read_at, 4)
    # the index's first two (the newest sitemaps), then s7 (never read), then s9 (read longest ago)
    assert chosen == [children[0], children[1], children[7], children[9]] and waiting == 6
    assert children_this_run(children, {}, 20) == (children, 0)
    assert children_this_run(children, read_at, 0) == ([], 10)  # the run's allowance is spent

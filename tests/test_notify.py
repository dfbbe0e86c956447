"""Event sinks: a webhook and a command on 127.0.0.1 receive the crawl's events; a failing or hanging sink
is retried and logged and never slows or breaks the crawl; `crawler events` filters."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import query, site_source, write_config
from pytest_httpserver import HTTPServer
from test_pipeline import crawl
from werkzeug import Request, Response

from crawler.cli import main
from crawler.config import parse_config
from crawler.demo.site import NewsSite
from crawler.errors import ConfigError


def _with_sinks(tmp_path: Path, base: str, sinks: str) -> Path:
    config = write_config(tmp_path, site_source(base) + sinks)
    return config


def test_a_webhook_and_a_command_receive_the_events_they_ask_for(
    news_site: tuple[NewsSite, str], httpserver: HTTPServer, tmp_path: Path
) -> None:
    _, base = news_site
    received: list[dict[str, object]] = []

    def hook(request: Request) -> Response:
        received.append(json.loads(request.get_data()))
        return Response("ok")

    httpserver.expect_request("/hook", method="POST").respond_with_handler(hook)
    out = tmp_path / "events.jsonl"
    script = f"import sys; open({str(out)!r}, 'a').write(sys.stdin.read() + '\\n')"
    sinks = (
        f'[[sinks]]\ntype = "webhook"\nurl = "{httpserver.url_for("/hook")}"\nevents = ["article_new"]\n\n'
        f'[[sinks]]\ntype = "command"\ncommand = [{json.dumps(sys.executable)}, "-c", {json.dumps(script)}]\n'
        'sources = ["demo"]\n'
    )
    [summary] = crawl(_with_sinks(tmp_path, base, sinks))
    assert summary.new > 0
    assert sorted(e["article_id"] for e in received) == sorted(
        row[0] for row in query(tmp_path / "crawler.db", "SELECT article_id FROM events WHERE type = 'article_new'")
    )
    assert {e["type"] for e in received} == {"article_new"}
    lines = [json.loads(line) for line in out.read_text().splitlines() if line]
    assert len(lines) == summary.new and all(line["source_id"] == "demo" for line in lines)


def test_a_failing_or_hanging_webhook_neither_slows_nor_breaks_the_crawl(
    news_site: tuple[NewsSite, str], httpserver: HTTPServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _, base = news_site
    httpserver.expect_request("/fails").respond_with_data("no", status=500)

    released = threading.Event()

    def hang(request: Request) -> Response:
        released.wait(3)
        return Response("late")

    httpserver.expect_request("/hangs").respond_with_handler(hang)
    sinks = (
        f'[[sinks]]\ntype = "webhook"\nurl = "{httpserver.url_for("/fails")}?token=s3cret"\nretries = 1\ntimeout = "1s"\n\n'
        f'[[sinks]]\ntype = "webhook"\nurl = "{httpserver.url_for("/hangs")}"\nretries = 0\ntimeout = "200ms"\n'
    )
    started = time.monotonic()
    try:
        [summary] = crawl(_with_sinks(tmp_path, base, sinks))
        elapsed = time.monotonic() - started
    finally:
        # The server answers one request at a time: without this, the hung deliveries queued behind one
        # another (3 s each) would reach the next test's expectations, a minute later.
        released.set()
        _wait_until_answered(httpserver)
    assert summary.new > 0 and summary.failed == 0
    assert elapsed < 10  # bounded by the drain at shutdown (5 s), never by the sinks' retries per event
    assert "event sink" in caplog.text and "failed" in caplog.text
    ours = " ".join(record.getMessage() for record in caplog.records if record.name.startswith("crawler"))
    assert "event sink http://localhost" in ours and "s3cret" not in ours  # a URL's token never reaches our log


def test_sink_configuration_errors_name_the_sink_and_the_key() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"sinks": [{"type": "webhook"}, {"type": "command", "events": ["article_eaten"]},
                                {"type": "email", "url": "x"}]}, "c.toml")  # fmt: skip
    problems = "\n".join(caught.value.problems)
    assert "c.toml: sinks.0: a webhook sink needs url" in problems
    assert "sinks.1.events: unknown event type(s) ['article_eaten']" in problems
    assert "sinks.2.type" in problems


def test_events_command_filters_by_type_and_time(news_site: tuple[NewsSite, str], tmp_path: Path) -> None:
    _, base = news_site
    config = write_config(tmp_path, site_source(base))
    crawl(config)
    everything = CliRunner().invoke(main, ["events", "--config", str(config), "--json", "--limit", "500"])
    new_only = CliRunner().invoke(main, ["events", "--config", str(config), "--json", "--type", "article_new"])
    later = CliRunner().invoke(main, ["events", "--config", str(config), "--since", "2999-01-01"])
    assert everything.exit_code == new_only.exit_code == later.exit_code == 0
    types = {json.loads(line)["type"] for line in new_only.output.splitlines()}
    assert types == {"article_new"} and len(everything.output.splitlines()) >= len(new_only.output.splitlines())
    assert later.output == ""


def test_a_sink_secret_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWS_HOOK_TOKEN", "s3cret")
    config = parse_config({"sinks": [{"type": "webhook", "url": "https://hooks.example/n?token=${NEWS_HOOK_TOKEN}"}]})
    assert config.sinks[0].url == "https://hooks.example/n?token=s3cret"
    monkeypatch.delenv("NEWS_HOOK_TOKEN")
    with pytest.raises(ConfigError) as caught:
        parse_config(
            {"sinks": [{"type": "webhook", "url": "https://hooks.example/n?token=${NEWS_HOOK_TOKEN}"}]}, "c.toml"
        )
    assert "c.toml: sinks.0.url: environment variable NEWS_HOOK_TOKEN is not set" in caught.value.problems


def _wait_until_answered(server: HTTPServer, quiet: float = 0.5, limit: float = 30.0) -> None:
    """Until the server has logged no new request for ``quiet`` seconds (or ``limit`` passed)."""
    deadline = time.monotonic() + limit
    seen, since = len(server.log), time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - since < quiet:
        time.sleep(0.05)
        if len(server.log) != seen:
            seen, since = len(server.log), time.monotonic()


def test_an_apprise_sink_notifies_a_service_and_a_query_sink_hears_only_matching_articles(
    news_site: tuple[NewsSite, str], httpserver: HTTPServer, tmp_path: Path
) -> None:
    pytest.importorskip("apprise", reason="the notify extra is not installed: pip install 'crawler[notify]'")
    site, base = news_site
    received: list[dict[str, object]] = []

    def service(request: Request) -> Response:
        received.append(json.loads(request.get_data()))
        return Response("ok")

    httpserver.expect_request("/notify", method="POST").respond_with_handler(service)
    arabic = [a for a in site.articles() if a.language == "ar"]
    texts = {a.title: " ".join([a.title, *a.paragraphs, *a.tags]) for a in arabic}
    # a headline word that some articles' text holds and others' not: the query keeps the others out
    word = next(
        w for t in texts for w in t.split() if len(w) > 3 and 0 < sum(w in x for x in texts.values()) < len(texts)
    )
    wanted = {title for title, text in texts.items() if word in text}
    out = tmp_path / "matched.jsonl"
    script = f"import sys; open({str(out)!r}, 'a').write(sys.stdin.read() + '\\n')"
    sinks = (
        f'[[sinks]]\ntype = "apprise"\nurl = "json://127.0.0.1:{httpserver.port}/notify"\nevents = ["article_new"]\n\n'
        f'[[sinks]]\ntype = "command"\ncommand = [{json.dumps(sys.executable)}, "-c", {json.dumps(script)}]\n'
        f"query = {json.dumps(word + ' -nonexistentword')}\n"
    )
    [summary] = crawl(_with_sinks(tmp_path, base, sinks))
    assert summary.new > 0 and len(received) == summary.new  # one notification per new article
    assert all(str(note["title"]).startswith("article_new: ") for note in received)
    matched = [json.loads(line) for line in out.read_text().splitlines() if line]
    assert {event["data"]["title"] for event in matched} == wanted != set()  # only the matching articles


def test_a_sink_query_without_a_word_and_an_apprise_sink_without_a_url_are_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"sinks": [{"type": "apprise"}, {"type": "command", "command": ["x"], "query": "-sport"}]},
                     "c.toml")  # fmt: skip
    assert "sinks.0: an apprise sink needs url" in str(caught.value.problems)
    assert "has no word to look for" in str(caught.value.problems)

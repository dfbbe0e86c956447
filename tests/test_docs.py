"""The docs tell the truth: every config key, CLI command and event type is documented."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from crawler.cli import main
from crawler.config import CrawlerSettings, ExtractSelectors, SourceConfig
from crawler.events import EVENT_TYPES

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLE = ROOT / "config" / "crawler.example.toml"


def test_example_config_sets_every_key() -> None:
    example = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert set(example["crawler"]) == set(CrawlerSettings.model_fields)
    assert set(example["sources"][0]) | {"cron"} == set(SourceConfig.model_fields)
    assert set(example["sources"][0]["extract"]) == set(ExtractSelectors.model_fields)


def test_every_key_is_commented_in_the_example() -> None:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        if re.match(r"^[a-z_]+ = ", line):
            assert lines[index - 1].startswith("#"), f"no comment above {line!r}"


def test_readme_documents_every_config_key() -> None:
    for key in [*CrawlerSettings.model_fields, *SourceConfig.model_fields, *ExtractSelectors.model_fields]:
        assert f"| `{key}` |" in README, key


def test_readme_documents_every_command_and_event_type() -> None:
    for command in main.commands:
        assert f"`crawler {command}" in README, command
    for event_type in EVENT_TYPES:
        assert f"`{event_type}`" in README, event_type


def test_readme_quickstart_is_the_two_make_commands_and_ci_runs_the_same() -> None:
    quickstart = README.split("## Quickstart", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    assert [line.split("#")[0].strip() for line in quickstart.strip().splitlines()] == ["make demo", "make test"]
    assert "make test" in (ROOT / ".ci" / "run").read_text()

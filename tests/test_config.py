"""Config validation: every problem at once, each naming file, source id and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.cli import main
from crawler.config import load_config, parse_duration
from crawler.errors import ConfigError

ROOT = Path(__file__).parent.parent


def test_example_config_is_valid() -> None:
    config = load_config(ROOT / "config" / "crawler.example.toml")
    assert config.sources[0].id == "almustakilla"


def test_every_problem_is_listed_with_file_source_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        """
[crawler]
concurrency = 0
colour = "blue"

[[sources]]
id = "good"
name = "Good"
feeds = ["https://a.example/feed"]
interval = "15m"

[[sources]]
id = "bad"
name = "Bad"
feeds = ["ftp://a.example/feed"]
interval = "soon"
timezone = "Mars/Olympus"
article_url_pattern = "(("
""",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as error:
        load_config(path)
    problems = error.value.problems
    assert all(line.startswith(f"{path}: ") for line in problems)
    joined = "\n".join(problems)
    assert "crawler.concurrency" in joined
    assert "crawler.colour: unknown key; allowed keys are: database," in joined
    for field in ("feeds", "interval", "timezone", "article_url_pattern"):
        assert f"sources[1] (id='bad'): {field}:" in joined
    assert len(problems) == 6


def test_schedule_and_discovery_are_required(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[[sources]]\nid = "x"\nname = "X"\ninterval = "1m"\ncron = "* * * * *"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert "exactly one of 'interval'" in str(error.value)


def test_broken_toml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[crawler\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"not valid TOML: .*line 1"):
        load_config(path)


def test_check_config_exits_2_and_prints_problems(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[[sources]]\nid = "Bad Id"\nname = "X"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["check-config", "--config", str(path)])
    assert result.exit_code == 2
    assert "sources[0] (id='Bad Id'): id:" in result.output


@pytest.mark.parametrize("text", ["", "# nothing but a comment\n", '[crawler]\ndatabase = "x.db"\n'])
@pytest.mark.parametrize("command", ["check-config", "run"])
def test_a_config_without_sources_is_refused_naming_the_file(tmp_path: Path, text: str, command: str) -> None:
    path = tmp_path / "empty.toml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, [command, "--config", str(path)])
    assert result.exit_code == 2
    assert f"{path}: no [[sources]] table" in result.output


def test_config_path_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "env.toml"
    path.write_text('[[sources]]\nid = "e"\nname = "E"\nfeeds = ["https://e.example/"]\ncron = "0 9 * * 1-5"\n')
    monkeypatch.setenv("CRAWLER_CONFIG", str(path))
    result = CliRunner().invoke(main, ["check-config"])
    assert result.exit_code == 0 and str(path) in result.output


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("15m", 900), ("1h30m", 5400), ("2d", 172800), (30, 30)])
def test_durations(text: str | int, seconds: float) -> None:
    assert parse_duration(text).total_seconds() == seconds

"""`crawler extract` on any input: gzipped pages, binary files, and a URL under the config's settings."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from click.testing import CliRunner
from conftest import serving, write_config

from crawler.cli import main
from crawler.demo.site import NewsSite

SEED = Path(__file__).parent / "golden" / "seed" / "article.html"


def test_a_gzipped_page_extracts_as_the_page_itself(tmp_path: Path) -> None:
    packed = tmp_path / "article.html.gz"
    packed.write_bytes(gzip.compress(SEED.read_bytes()))
    plain = CliRunner().invoke(main, ["extract", str(SEED)])
    unpacked = CliRunner().invoke(main, ["extract", str(packed)])
    assert unpacked.exit_code == 0 and json.loads(unpacked.output)["body"] == json.loads(plain.output)["body"]


def test_binary_files_and_broken_gzip_are_refused_in_one_line(tmp_path: Path) -> None:
    image = tmp_path / "photo.jpg"
    image.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + bytes(range(256)) * 40)
    broken = tmp_path / "page.html.gz"
    broken.write_bytes(gzip.compress(SEED.read_bytes())[:200])
    for path, words in ((image, "not an HTML page"), (broken, "broken gzip")):
        result = CliRunner().invoke(main, ["extract", str(path)])
        assert result.exit_code == 1, result.output
        assert result.output.strip().count("\n") == 0 and str(path) in result.output and words in result.output


def test_a_url_is_fetched_under_the_configs_settings_without_naming_a_source(tmp_path: Path) -> None:
    site = NewsSite(articles=3)
    article = site.articles()[0]
    with serving(site) as base:
        config = write_config(tmp_path, "")  # allow_private_addresses = true, as a local setup would set it
        allowed = CliRunner().invoke(main, ["extract", f"{base}{article.path}", "--config", str(config)])
        assert allowed.exit_code == 0, allowed.output
        assert json.loads(allowed.output)["title"] == article.title
        refused = CliRunner(env={"CRAWLER_CONFIG": str(tmp_path / "none.toml")}).invoke(
            main, ["extract", f"{base}{article.path}"]
        )
        assert refused.exit_code != 0 and "allow_private_addresses" in refused.output  # no config: the defaults
        missing = CliRunner().invoke(
            main, ["extract", f"{base}{article.path}", "--config", str(tmp_path / "none.toml")]
        )
        assert missing.exit_code == 2 and "file not found" in missing.output  # a config named but not there

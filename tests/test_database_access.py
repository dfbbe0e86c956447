"""The database from the outside: a bad file fails every command cleanly, operators can read it whether or
not the daemon runs, and `crawler ui` leaves nothing behind. Real files, real processes, real users."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import free_port, serving, site_source, wait_for, write_config

from crawler.demo.site import NewsSite

READ_COMMANDS = [["stats"], ["sources"], ["hosts"], ["search", "العراق"], ["events"], ["show", "1"], ["history", "1"],
                 ["templates"], ["export", "--format", "jsonl"]]  # fmt: skip
WRITER, READER, GROUP = 4242, 4343, 4545  # ids with no account: the daemon's user, an operator, their group


def crawler(*arguments: str, **options: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crawler", *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        **options,  # type: ignore[call-overload]
    )


@pytest.fixture(scope="module")
def crawled() -> Iterator[Path]:
    """A config whose database holds a real crawl of the demo site."""
    directory = Path(tempfile.mkdtemp(prefix="crawler-db-"))
    try:
        with serving(NewsSite(articles=6)) as base:
            config = write_config(directory, site_source(base))
            assert crawler("crawl", "--config", str(config)).returncode == 0
        yield config
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def copy_of(crawled: Path, tmp_path: Path) -> Path:
    """The crawled config and database, copied into tmp_path (the config points at the copy)."""
    database = tmp_path / "crawler.db"
    shutil.copy(crawled.parent / "crawler.db", database)
    config = tmp_path / "crawler.toml"
    config.write_text(crawled.read_text().replace(str(crawled.parent / "crawler.db"), str(database)), encoding="utf-8")
    return config


def assert_one_clean_line(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


@pytest.mark.parametrize("command", READ_COMMANDS, ids=lambda c: c[0])
def test_a_file_that_is_not_a_database_fails_every_read_command_cleanly(
    crawled: Path, tmp_path: Path, command: list[str]
) -> None:
    config = copy_of(crawled, tmp_path)
    (tmp_path / "crawler.db").write_bytes(b"these are the minutes of the last meeting, not a database\n" * 100)
    assert_one_clean_line(
        crawler(*command, "--config", str(config)), str(tmp_path / "crawler.db"), "not a usable crawler database"
    )


@pytest.mark.parametrize(
    "command", [["stats"], ["search", "العراق"], ["export", "--format", "jsonl"]], ids=lambda c: c[0]
)
def test_a_truncated_database_fails_cleanly(crawled: Path, tmp_path: Path, command: list[str]) -> None:
    config = copy_of(crawled, tmp_path)
    database = tmp_path / "crawler.db"
    with database.open("r+b") as file:
        file.truncate(database.stat().st_size // 3)
    assert_one_clean_line(crawler(*command, "--config", str(config)), str(database))


def test_the_daemon_and_a_crawl_refuse_a_broken_database_with_one_line(crawled: Path, tmp_path: Path) -> None:
    config = copy_of(crawled, tmp_path)
    (tmp_path / "crawler.db").write_bytes(b"\x00garbage" * 1000)
    result = crawler("crawl", "--config", str(config))
    assert result.returncode == 1 and "Traceback" not in result.stderr + result.stdout
    assert "not a usable crawler database" in result.stderr + result.stdout


def test_reading_writes_nothing(crawled: Path, tmp_path: Path) -> None:
    config = copy_of(crawled, tmp_path)
    database = tmp_path / "crawler.db"
    before = database.read_bytes()
    for command in READ_COMMANDS:
        crawler(*command, "--config", str(config))
    assert database.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crawler.db", "crawler.toml"]  # no -wal or -shm left


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs root")
# Another user runs the checkout with the system's Python of the same version and this environment's
# packages: the test's own interpreter may live where only root may enter (a pyenv under /root).
SYSTEM_PYTHON = shutil.which(f"python{sys.version_info.major}.{sys.version_info.minor}", path="/usr/bin:/usr/local/bin")
CHECKOUT = Path(__file__).resolve().parent.parent
PACKAGES = [path for path in sys.path if path.endswith("site-packages")]


def as_user(uid: int, home: Path) -> dict[str, object]:
    environment = {**os.environ, "HOME": str(home), "PYTHONPATH": os.pathsep.join([str(CHECKOUT), *PACKAGES])}
    return {"user": uid, "group": GROUP, "extra_groups": [GROUP], "umask": 0o027, "env": environment}


def crawler_as(uid: int, home: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    assert SYSTEM_PYTHON is not None
    return subprocess.run([SYSTEM_PYTHON, "-m", "crawler", *arguments], capture_output=True, text=True, timeout=120,
                          **as_user(uid, home))  # type: ignore[call-overload]  # fmt: skip


@pytest.fixture
def shared_dir(crawled: Path) -> Iterator[Path]:
    """A directory of the daemon's user and the operators' group, as the service sets it up: the group may
    read and enter it, not write in it."""
    if SYSTEM_PYTHON is None:
        pytest.skip(f"no system python{sys.version_info.major}.{sys.version_info.minor} for another user to run")
    try:
        probe = crawler_as(READER, Path("/tmp"), "--version")
    except OSError as exc:
        pytest.skip(f"another user cannot run this checkout here: {exc}")
    if probe.returncode != 0:
        pytest.skip(f"another user cannot run this checkout here: {probe.stderr[-300:]}")
    directory = Path(tempfile.mkdtemp(prefix="crawler-shared-"))
    config = copy_of(crawled, directory)
    for path in (directory, config, directory / "crawler.db"):
        os.chown(path, WRITER, GROUP)
    directory.chmod(0o750)
    (directory / "crawler.db").chmod(0o640)
    config.chmod(0o640)
    try:
        yield config
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@needs_root
def test_operators_in_the_group_read_the_database_while_the_daemon_writes_and_after_it_stops(shared_dir: Path) -> None:
    config, database = shared_dir, shared_dir.parent / "crawler.db"
    home = shared_dir.parent
    # The writer holds the database open in WAL mode, as the running daemon does.
    assert SYSTEM_PYTHON is not None
    writer = subprocess.Popen(
        [
            SYSTEM_PYTHON,
            "-c",
            "import sqlite3, sys, time\n"
            f"c = sqlite3.connect({str(database)!r}); c.execute('PRAGMA journal_mode=WAL')\n"
            "c.execute('CREATE TABLE IF NOT EXISTS scratch (x)'); c.execute('INSERT INTO scratch VALUES (1)'); c.commit()\n"
            "print('ready', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        **as_user(WRITER, home),  # type: ignore[call-overload]
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        assert (database.parent / "crawler.db-shm").exists()
        running = crawler_as(READER, home, "stats", "--config", str(config))
        assert running.returncode == 0, running.stderr
    finally:
        writer.communicate("", timeout=30)
    assert not (database.parent / "crawler.db-shm").exists()  # a clean stop removes the WAL's files
    for command in (["stats"], ["search", "العراق"], ["sources"]):
        stopped = crawler_as(READER, home, *command, "--config", str(config))
        assert stopped.returncode == 0, stopped.stderr
    assert sorted(p.name for p in database.parent.iterdir()) == ["crawler.db", "crawler.toml"]


def test_crawler_ui_stops_its_server_when_it_is_stopped(crawled: Path) -> None:
    pytest.importorskip("datasette", reason="the ui extra is not installed: pip install 'crawler[ui]'")
    port = free_port()
    ui = subprocess.Popen([sys.executable, "-m", "crawler", "ui", "--config", str(crawled), "--port", str(port)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip

    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/versions.json", timeout=2):
                return True
        except OSError:
            return False

    try:
        assert wait_for(answers, timeout=60), "the server never answered"
        children = subprocess.run(["pgrep", "-P", str(ui.pid)], capture_output=True, text=True).stdout.split()
        assert children, "no server process under crawler ui"
        ui.send_signal(signal.SIGTERM)
        assert ui.wait(timeout=30) == 0
        assert wait_for(lambda: not answers(), timeout=10), "the server still answers after crawler ui stopped"
        for pid in children:
            assert wait_for(lambda pid=pid: not Path(f"/proc/{pid}").exists(), timeout=10), f"server {pid} left behind"
    finally:
        if ui.poll() is None:
            ui.kill()
        time.sleep(0.1)


def test_the_database_of_a_crawl_is_an_ordinary_sqlite_file(crawled: Path) -> None:
    """What the read commands rely on: the crawl left a complete database and no WAL beside it."""
    connection = sqlite3.connect(f"{(crawled.parent / 'crawler.db').as_uri()}?mode=ro", uri=True)
    try:
        assert connection.execute("SELECT count(*) FROM articles").fetchone()[0] > 0
    finally:
        connection.close()


def test_read_commands_inspect_a_database_on_a_read_only_filesystem(crawled: Path, tmp_path: Path) -> None:
    """A snapshot or a backup mounted read-only: read, not written to (no -wal or -shm can be created)."""
    config = copy_of(crawled, tmp_path)
    if os.geteuid() == 0:  # root ignores file modes: a read-only bind mount in a private mount namespace
        if subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode != 0:
            pytest.skip("running as root without mount namespaces: no way to make a directory read-only for root")
        remount = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'
        prefix = ["unshare", "-m", "sh", "-c", remount, str(tmp_path)]
    else:
        tmp_path.chmod(0o555)
        prefix = []
    try:
        for command in (["stats"], ["search", "العراق"], ["sources"], ["export", "--format", "csv"]):
            result = subprocess.run([*prefix, sys.executable, "-m", "crawler", *command, "--config", str(config)],
                                    capture_output=True, text=True, timeout=120)  # fmt: skip
            assert result.returncode == 0, result.stderr
    finally:
        tmp_path.chmod(0o755)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crawler.db", "crawler.toml"]

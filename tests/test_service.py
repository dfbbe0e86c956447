"""The systemd unit and the notify protocol: systemd-analyze's verdicts, the messages the daemon sends,
and the hardened unit run for real by a private systemd user manager (where this machine allows one)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import count, serving, site_source, wait_for, write_config

from crawler.demo.site import NewsSite

CHECKOUT = Path(__file__).resolve().parent.parent
UNIT = CHECKOUT / "systemd" / "crawler.service"
WORKER_UNIT = CHECKOUT / "systemd" / "crawler-worker@.service"
CRAWLER = Path(sys.executable).parent / "crawler"
needs_systemd_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed"
)


def unit_text(config: str = "/etc/crawler/crawler.toml", unit: Path = UNIT) -> str:
    """A shipped unit with ExecStart running this environment's crawler (verify checks that it exists)."""
    text = unit.read_text()
    return re.sub(r"^ExecStart=\S+", f"ExecStart={CRAWLER}", text, count=1, flags=re.M).replace(
        "/etc/crawler/crawler.toml", config
    )


# the daemon (or a cluster's scheduler), and a cluster's worker as an instance (its metrics port)
UNITS = pytest.mark.parametrize("shipped, name", [(UNIT, "crawler.service"),
                                                  (WORKER_UNIT, "crawler-worker@9471.service")])  # fmt: skip


@needs_systemd_analyze
@UNITS
def test_the_unit_passes_systemd_analyze_verify(tmp_path: Path, shipped: Path, name: str) -> None:
    unit = tmp_path / name
    unit.write_text(unit_text(unit=shipped))
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", str(unit)], capture_output=True, text=True)
    # unknown keys and bad values only print a line and exit 0, so any output is a failure
    assert result.returncode == 0 and result.stdout == "" and result.stderr == "", result.stderr


@needs_systemd_analyze
@UNITS
def test_the_unit_is_rated_ok_by_systemd_analyze_security(tmp_path: Path, shipped: Path, name: str) -> None:
    unit = tmp_path / name
    unit.write_text(unit_text(unit=shipped))
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "--threshold=20", "--no-pager", str(unit)],
        capture_output=True, text=True,
    )  # fmt: skip
    found = re.search(rf"Overall exposure level for {re.escape(name)}: (\d+\.\d+) (\w+)", result.stdout)
    assert found, result.stdout[-2000:] + result.stderr
    assert result.returncode == 0 and float(found[1]) <= 2.0 and found[2] == "OK", found[0]


def test_the_daemon_speaks_the_notify_protocol(news_site: tuple[NewsSite, str], tmp_path: Path) -> None:
    """READY once scheduled, WATCHDOG pings at half WATCHDOG_USEC, RELOADING (with its time) then READY
    around a SIGHUP, STOPPING at SIGTERM: what a Type=notify unit with WatchdogSec= waits for."""
    _, base = news_site
    config = write_config(tmp_path, site_source(base))
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(tmp_path / "notify"))
    listener.settimeout(10)
    env = {**os.environ, "NOTIFY_SOCKET": str(tmp_path / "notify"), "WATCHDOG_USEC": "200000"}
    daemon = subprocess.Popen([sys.executable, "-m", "crawler", "run", "--config", str(config)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)  # fmt: skip
    messages: list[str] = []
    try:
        messages.append(listener.recv(4096).decode())
        while messages.count("WATCHDOG=1") < 3:  # a source run ending sends a STATUS= line in between
            messages.append(listener.recv(4096).decode())
        daemon.send_signal(signal.SIGHUP)
        while not messages[-1].startswith("READY=1") or len(messages) < 5:
            messages.append(listener.recv(4096).decode())
        daemon.send_signal(signal.SIGTERM)
        while "STOPPING=1" not in messages[-1]:
            messages.append(listener.recv(4096).decode())
    finally:
        if not (
            messages and "STOPPING=1" in messages[-1]
        ):  # a failed step above: stop it (a second SIGTERM would kill it)
            daemon.send_signal(signal.SIGTERM)
        output, _ = daemon.communicate(timeout=30)
        listener.close()
    assert daemon.returncode == 0, output[-2000:]
    assert messages[0].startswith("READY=1\nSTATUS=1 sources scheduled"), messages
    assert [m for m in messages[1:] if not m.startswith("STATUS=")][:3] == ["WATCHDOG=1"] * 3, messages
    reload = next(i for i, message in enumerate(messages) if message.startswith("RELOADING=1"))
    assert re.fullmatch(r"RELOADING=1\nMONOTONIC_USEC=\d+", messages[reload])
    assert any(message.startswith("READY=1") for message in messages[reload:])
    assert messages[-1].startswith("STOPPING=1")


class UserManager:
    """A private systemd user manager in its own mount namespace (recipe: platform-notes §3.6), so the
    real unit runs with its whole sandbox on a machine where systemd is not PID 1. Needs root."""

    BOOT = r"""
set -e
mount -t tmpfs tmpfs /run/systemd
mkdir -p /run/systemd/system /run/systemd/inaccessible
cd /run/systemd/inaccessible
mkdir -m0 dir; touch reg; chmod 0 reg; mkfifo -m0 fifo; mknod -m0 chr c 0 0; mknod -m0 blk b 0 0
"$PYTHON" -c "import socket; socket.socket(socket.AF_UNIX).bind('sock')"; chmod 0 sock
mkdir -p "$HOME" "$XDG_RUNTIME_DIR" "$XDG_CONFIG_HOME"
exec /lib/systemd/systemd --user
"""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = {"HOME": str(root / "home"), "XDG_RUNTIME_DIR": str(root / "xdg"),
                    "XDG_CONFIG_HOME": str(root / "home" / ".config"), "PYTHON": sys.executable}  # fmt: skip
        self.units = root / "home" / ".config" / "systemd" / "user"
        self.state = root / "home" / ".config"  # %S of a user manager: StateDirectory= lands here
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> UserManager:
        with (self.root / "systemd.log").open("wb") as log:
            self._process = subprocess.Popen(["unshare", "-m", "--propagation", "private", "sh", "-c", self.BOOT],
                                             env={**os.environ, **self.env}, stdout=log, stderr=log)  # fmt: skip
        if not wait_for(lambda: self.systemctl("is-system-running").stdout.strip() == "running", timeout=15):
            self.__exit__()
            pytest.skip(f"no private systemd user manager here: {(self.root / 'systemd.log').read_text()[-500:]}")
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=20)

    def systemctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self._run("systemctl", "--user", *args)

    def show(self, unit: str, prop: str) -> str:
        return self.systemctl("show", unit, "-p", prop, "--value").stdout.strip()

    def _run(self, *command: str) -> subprocess.CompletedProcess[str]:
        assert self._process is not None
        enter = ["nsenter", "-t", str(self._process.pid), "-m", "env", *(f"{k}={v}" for k, v in self.env.items())]
        return subprocess.run([*enter, *command], capture_output=True, text=True, timeout=60)


@pytest.fixture
def user_manager(tmp_path: Path) -> Iterator[UserManager]:
    if os.geteuid() != 0 or not Path("/lib/systemd/systemd").exists() or shutil.which("nsenter") is None:
        pytest.skip("needs root, util-linux and systemd installed (not necessarily running)")
    with UserManager(tmp_path) as manager:
        yield manager


def test_the_hardened_unit_starts_reloads_restarts_on_watchdog_and_stops(user_manager: UserManager,
                                                                          tmp_path: Path) -> None:  # fmt: skip
    """The shipped unit, sandbox and all, with only what a user manager in a test needs changed."""
    site = NewsSite(articles=6)
    with serving(site) as base:
        database = user_manager.state / "crawler" / "crawler.db"
        # worker processes as in production: the sandbox must allow the forkserver and its pool
        config = write_config(tmp_path, site_source(base), database=str(database), log_format="json", parse_processes=2)
        user_manager.units.mkdir(parents=True)
        (user_manager.units / "crawler.service").write_text(unit_text(str(config)))
        python_home = Path(sys.executable).resolve()
        dropin = user_manager.units / "crawler.service.d"
        dropin.mkdir()
        (dropin / "test.conf").write_text("\n".join([
            "[Service]",
            "User=",  # a user manager cannot switch users; the sandbox stays as it is
            "Group=",
            f"BindPaths={tmp_path}",  # the test's files live in /tmp, which PrivateTmp= hides; so may the checkout
            *(f"BindReadOnlyPaths={path}" for path in {sys.prefix, str(CHECKOUT)} if path.startswith("/tmp/")),
            "WorkingDirectory=%S/crawler",
            f"StandardOutput=append:{tmp_path / 'crawler.log'}",  # no journald here
            f"StandardError=append:{tmp_path / 'crawler.log'}",
            "WatchdogSec=3s",
            "RestartSec=1s",
            # a pyenv or user-installed interpreter under /root or /home needs them visible
            *(["ProtectHome=no"] if python_home.is_relative_to("/root") or python_home.is_relative_to("/home") else []),
        ]) + "\n")  # fmt: skip
        user_manager.systemctl("daemon-reload")

        started = user_manager.systemctl("start", "crawler")  # returns once READY=1 arrived
        status = user_manager.systemctl("status", "crawler", "--no-pager").stdout
        assert started.returncode == 0, started.stderr + status + _log(tmp_path)
        assert user_manager.show("crawler", "ActiveState") == "active"
        assert user_manager.show("crawler", "StatusText").startswith("1 sources scheduled")
        arabic = sum(1 for a in site.articles() if a.language == "ar")
        assert wait_for(lambda: count(database, "SELECT count(*) FROM articles") == arabic), _log(tmp_path)

        reloaded = user_manager.systemctl("reload", "crawler")  # waits for RELOADING=1 ... READY=1
        assert reloaded.returncode == 0 and user_manager.show("crawler", "ActiveState") == "active"

        first = int(user_manager.show("crawler", "MainPID"))
        os.kill(first, signal.SIGSTOP)  # a hung daemon: no more watchdog pings
        assert wait_for(lambda: user_manager.show("crawler", "NRestarts") == "1", timeout=20), _log(tmp_path)
        assert wait_for(lambda: user_manager.show("crawler", "ActiveState") == "active", timeout=20)
        assert int(user_manager.show("crawler", "MainPID")) not in (0, first)

        stopped = user_manager.systemctl("stop", "crawler")
        assert stopped.returncode == 0 and user_manager.show("crawler", "Result") == "success", _log(tmp_path)
    log = (tmp_path / "crawler.log").read_text(errors="replace")
    # the watchdog's SIGABRT made faulthandler (PYTHONFAULTHANDLER=1 in the unit) dump every thread
    assert "Fatal Python error: Aborted" in log and "config reloaded" in log
    assert '"daemon stopped after' in log[-400:]  # the restarted daemon, stopped cleanly


def _log(tmp_path: Path) -> str:
    path = tmp_path / "crawler.log"
    return path.read_text(errors="replace")[-3000:] if path.exists() else "(no log)"

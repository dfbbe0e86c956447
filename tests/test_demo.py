"""`crawler demo` (make demo) and `crawler demo --workers 2` (make demo-cluster) as a user starts them:
the demo site's articles reach the database, and SIGTERM stops everything cleanly."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from pathlib import Path

from conftest import wait_for


def run_demo_until(tmp_path: Path, *extra: str, articles: int) -> list[str]:
    """Start the demo, wait for ``articles`` article_new events in its log, stop it with SIGTERM; its log."""
    command = [sys.executable, "-m", "crawler", "demo", "--port", "0", "--database", str(tmp_path / "demo.db"),
               "--new-every", "2", *extra]  # fmt: skip
    lines: list[str] = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path) as demo:
        reader = threading.Thread(target=lambda: lines.extend(demo.stdout or []), daemon=True)
        reader.start()
        try:
            stored = lambda: sum("article_new" in line for line in lines)  # noqa: E731
            assert wait_for(lambda: stored() >= articles, timeout=90), "".join(lines[-30:])
        finally:
            demo.send_signal(signal.SIGTERM)
            demo.wait(timeout=90)
            reader.join(timeout=10)
    assert demo.returncode == 0, "".join(lines[-30:])
    assert not any("Traceback" in line for line in lines), "".join(lines)
    return lines


def test_the_demo_crawls_its_site_into_sqlite(tmp_path: Path) -> None:
    lines = run_demo_until(tmp_path, articles=6)
    assert (tmp_path / "demo.db").is_file() and any("daemon stopped after" in line for line in lines)


def test_the_cluster_demo_runs_a_scheduler_and_two_workers_on_postgresql(
    tmp_path: Path,
    postgres_server: object,  # skips without PostgreSQL (and fails under CI=true); the demo starts its own
) -> None:
    lines = run_demo_until(tmp_path, "--workers", "2", articles=6)
    assert sum("worker stopped after" in line for line in lines) == 2
    assert any("daemon stopped after" in line for line in lines)
    assert not (tmp_path / "demo.db").exists()  # the cluster demo's database is PostgreSQL's

"""``crawler demo --workers N`` (``make demo-cluster``): the demo site, a throwaway PostgreSQL cluster,
one scheduler (``crawler run``) and N workers (``crawler worker``) as separate processes, as they would
run on separate machines. Ctrl-C (or SIGTERM) stops the workers and the scheduler the way systemd would,
then the database, which is deleted with its temporary folder."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
from pathlib import Path

from crawler.demo.postgres import local_postgres
from crawler.demo.run import demo_config, demo_site
from crawler.logformat import configure_logging

__all__ = ["run_cluster_demo"]
logger = logging.getLogger("crawler.demo")


def run_cluster_demo(port: int, workers: int, new_every: float, folder: Path) -> None:
    configure_logging("text")
    try:
        with demo_site(port, new_every) as port, local_postgres() as postgres:
            database = postgres.database("demo")
            config = folder / "demo-cluster.toml"
            folder.mkdir(parents=True, exist_ok=True)
            config.write_text(demo_config(port, database), encoding="utf-8")
            logger.info("demo site on http://127.0.0.1:%d/ ; PostgreSQL %s ; config %s ; Ctrl-C to stop",
                        port, database, config)  # fmt: skip
            _run_processes(config, workers)
    except RuntimeError as exc:  # no PostgreSQL here
        raise SystemExit(f"crawler demo: {exc}") from None


def _run_processes(config: Path, workers: int) -> None:
    """The scheduler and the workers, each in its own session (a Ctrl-C reaches them through us, in
    order: workers first, so they finish their runs while the database is still there)."""
    command = [sys.executable, "-m", "crawler"]
    scheduler = subprocess.Popen([*command, "run", "--config", str(config)], start_new_session=True)
    pool = [subprocess.Popen([*command, "worker", "--config", str(config), "--concurrency", "2"], start_new_session=True)
            for _ in range(workers)]  # fmt: skip
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    while not stopped.wait(1.0):
        if scheduler.poll() is not None:
            logger.error("the scheduler exited (status %s); stopping the demo", scheduler.returncode)
            break
    logger.info("stopping %d worker(s), then the scheduler", workers)
    for process in pool:
        process.send_signal(signal.SIGTERM)
    for process in pool:
        process.wait(timeout=60)
    scheduler.send_signal(signal.SIGTERM)
    scheduler.wait(timeout=60)

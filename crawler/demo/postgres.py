"""A throwaway PostgreSQL cluster in a temporary directory, for the tests, the benchmarks and
`make demo-cluster`: initdb and pg_ctl from Debian's postgresql package (or any on PATH), run as an
unprivileged user (``nobody`` when we are root: PostgreSQL refuses to run as root), listening on
127.0.0.1 only, trusting local connections, gone when stopped."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["LocalPostgres", "create_database", "find_binaries", "local_postgres"]


def find_binaries() -> Path | None:
    """The folder holding initdb and pg_ctl: on PATH, else Debian's /usr/lib/postgresql/<version>/bin."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(os.path.realpath(on_path)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]), reverse=True)
    return Path(versions[0]).parent if versions else None


class LocalPostgres:
    """One cluster: ``dsn`` reaches its ``postgres`` database as user ``crawler``; ``database(name)``
    creates another and returns its DSN."""

    def __init__(self, root: Path, binaries: Path, *, durable: bool = False) -> None:
        self.root = root
        self._durable = durable  # fsync and synchronous commits as a production server has them (benchmarks)
        self._bin = binaries
        self.port = _free_port()
        self.dsn = f"postgresql://crawler@127.0.0.1:{self.port}/postgres"
        self._user = "nobody" if os.geteuid() == 0 else None

    def start(self) -> None:
        if self._user is not None:
            entry = pwd.getpwnam(self._user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(self.root / "data"), "-U", "crawler", "-A", "trust", "-E", "UTF8", "--locale=C",
                  "--no-sync")  # fmt: skip
        self._start_server()

    def _start_server(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=200"
        if not self._durable:  # a throwaway cluster for tests: a crash of the machine loses it anyway
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.root / "data"), "-l", str(self.root / "postgres.log"), "-o", options, "-w",
                  "-t", "60", "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", str(self.root / "data"), "-m", mode, "-w", "-t", "60", "stop")

    def restart(self) -> None:
        """Stop (immediate: as a crash would) and start again on the same port and data."""
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "-t", "60", "stop")
        self._start_server()

    def database(self, name: str) -> str:
        """Create database ``name`` (an identifier of ours) and return its DSN."""
        return create_database(self.dsn, name)

    def _run(self, program: str, *arguments: str) -> None:
        command = [str(self._bin / program), *arguments]
        if self._user is not None:
            entry = pwd.getpwnam(self._user)
            command = ["setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--clear-groups", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120, cwd=self.root)


@contextlib.contextmanager
def local_postgres(*, durable: bool = False) -> Iterator[LocalPostgres]:
    """A started cluster for the block; RuntimeError when no PostgreSQL is installed."""
    binaries = find_binaries()
    if binaries is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    with tempfile.TemporaryDirectory(prefix="crawler-pg-") as tmp:
        cluster = LocalPostgres(Path(tmp), binaries, durable=durable)
        cluster.start()
        try:
            yield cluster
        finally:
            cluster.stop()


def create_database(dsn: str, name: str) -> str:
    """Create database ``name`` (an identifier of ours) on the server ``dsn`` reaches; its DSN."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    base, _, _ = dsn.rpartition("/")
    return f"{base}/{name}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])

"""Opening the SQLite file: writable (WAL) or read-only without writing a byte beside it, and the one
line an operator reads when the file is not usable. The only module that imports sqlite-utils."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

from crawler.errors import StoreError

# sqlite-utils imports numpy, when it is installed, only to map numpy scalar types to column types. We never
# hand it numpy values, and numpy is 30 ms of every command's start in a process that otherwise needs it
# nowhere (the workers sign bodies with it): it is hidden while sqlite-utils loads (a module set to None in
# sys.modules is one that cannot be imported), unless something imported it already.
_NUMPY_HIDDEN = "numpy" not in sys.modules
if _NUMPY_HIDDEN:
    sys.modules["numpy"] = None  # type: ignore[assignment]
try:
    from sqlite_utils import Database  # noqa: E402
    from sqlite_utils.migrations import Migrations  # noqa: E402
finally:
    if _NUMPY_HIDDEN:
        del sys.modules["numpy"]

__all__ = ["Database", "Migrations", "check_readable", "hint", "read_only_connection", "unusable",
           "writable_connection"]  # fmt: skip


def writable_connection(path: Path) -> sqlite3.Connection:
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=30)
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def read_only_connection(path: Path, *, live: bool = False) -> sqlite3.Connection:
    """A connection that cannot write, and writes nothing beside the database. A WAL database is shared
    through its -shm file: while a writer (the daemon) has it open the file exists, and the reader joins
    it read-only; when nobody has it open (the daemon stopped; a backup, a snapshot) the reader opens the
    file as immutable, creating no -wal or -shm that a group member could not create anyway. ``live``
    (``events --follow``) always joins, to see what a writer that starts later adds."""
    if not path.is_file():
        raise sqlite3.OperationalError("unable to open database file: no such file")
    uri = path.resolve().as_uri()
    if not live and not path.with_name(path.name + "-shm").exists():
        return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True)
    conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=30)
    conn.execute("PRAGMA busy_timeout = 30000")
    return conn


def check_readable(db: Database, path: Path, migrations: Migrations) -> None:
    """The read commands read the current schema: a database an older version wrote needs one writable
    open (the daemon, `crawler crawl`) to migrate it."""
    db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    if migrations.pending(db):
        raise StoreError(
            f"{path}: the database is from an older version of crawler; open it once for writing (start the "
            "daemon, or run `crawler crawl`) to migrate it, then read it again"
        )


def unusable(path: Path, exc: sqlite3.DatabaseError, read_only: bool) -> str:
    """One line naming the file, what is wrong and what to do."""
    reason = str(exc)
    if "not a database" in reason or "malformed" in reason:
        return f"{path}: not a usable crawler database ({reason}); restore it from a backup or point `database` at another file"
    if read_only and "unable to open" in reason:
        return f"{path}: cannot open the database ({reason}); is it there, and readable for this user?"
    return f"{path}: cannot open the database ({reason}){hint(exc)}"


def hint(exc: Exception) -> str:
    """What an operator should check, for the errors a disk or its permissions cause."""
    message = str(exc)
    if "disk is full" in message or "disk I/O error" in message:
        return " - the disk refused a write: is it full, or over a quota or file size limit?"
    if "readonly" in message or "unable to open" in message:
        return " - is the file, or its directory, read-only for this user?"
    if "malformed" in message or "not a database" in message:
        return " - the file is damaged: restore it from a backup"
    return ""

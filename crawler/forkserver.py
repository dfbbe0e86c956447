"""The forkserver the parse workers start from (crawler/workers.py): what it imports, and starting it early.

The forkserver is a new interpreter that imports the fetch, extraction and normalisation code once, so
each worker starts as a fork of it rather than of the crawler's threaded process. Its start (0.3-0.5 s,
mostly imports) is on the way to the first page unless it begins early: ``start_early`` begins it in a
daemon thread, as the CLI does before importing the crawler's own pipeline, so that both import at once.
A run that never needs a worker does not wait for it, and the forkserver exits with the crawler.
This module imports nothing heavy: it is imported before the rest.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import os
import threading

__all__ = ["PRELOAD", "start_early"]

PRELOAD = ["crawler.preload"]  # the worker code, imported with the collector off


def start_early() -> None:
    """Set the forkserver's preload list and start it in the background (idempotent)."""
    multiprocessing.get_context("forkserver").set_forkserver_preload(PRELOAD)
    threading.Thread(target=_start, name="forkserver-start", daemon=True).start()


def _start() -> None:
    """Start the forkserver with a safe import path. It is a ``python -c`` process, whose first import path
    is the working directory: run from a directory holding a folder named "crawler" (the parent of a
    checkout), that folder shadowed the installed package, the preload failed without a word and every
    worker died at import. PYTHONSAFEPATH (Python 3.11) leaves the working directory out; it is set for
    this one start, under a lock, and taken back."""
    with _ENVIRONMENT:
        before = os.environ.get("PYTHONSAFEPATH")
        os.environ["PYTHONSAFEPATH"] = "1"
        try:
            multiprocessing.forkserver.ensure_running()
        finally:
            if before is None:
                del os.environ["PYTHONSAFEPATH"]
            else:
                os.environ["PYTHONSAFEPATH"] = before


_ENVIRONMENT = threading.Lock()

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
import threading

__all__ = ["PRELOAD", "start_early"]

PRELOAD = ["crawler.preload"]  # the worker code, imported with the collector off


def start_early() -> None:
    """Set the forkserver's preload list and start it in the background (idempotent)."""
    multiprocessing.get_context("forkserver").set_forkserver_preload(PRELOAD)
    threading.Thread(target=multiprocessing.forkserver.ensure_running, name="forkserver-start", daemon=True).start()

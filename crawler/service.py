"""The daemon's side of systemd's notify protocol: READY, STATUS, RELOADING, STOPPING and WATCHDOG.

Each message is one datagram to $NOTIFY_SOCKET (``@`` = the abstract namespace). systemd documents the
protocol as stable and meant to be reimplemented, so these few lines replace a dependency (sdnotify
swallows every error; systemd-python needs a compiler and libsystemd). Without $NOTIFY_SOCKET (not run
by systemd, or Type=exec) every call does nothing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Mapping

__all__ = ["ServiceNotifier"]
logger = logging.getLogger(__name__)


class ServiceNotifier:
    """Tells the service manager how the daemon is doing; ``watchdog()`` pings while ``healthy()`` says so."""

    def __init__(self, environ: Mapping[str, str] = os.environ) -> None:
        address = environ.get("NOTIFY_SOCKET", "")
        self._address = "\0" + address[1:] if address.startswith("@") else address
        usec, pid = environ.get("WATCHDOG_USEC", ""), environ.get("WATCHDOG_PID")
        ours = pid is None or pid == str(os.getpid())
        # ping at half the interval systemd waits for, as sd_watchdog_enabled(3) advises
        self.watchdog_interval = int(usec) / 2e6 if usec.isdigit() and int(usec) > 0 and ours else None

    def ready(self, status: str) -> None:
        self._send("READY=1", f"STATUS={status}")

    def status(self, status: str) -> None:
        self._send(f"STATUS={status}")

    def reloading(self) -> None:
        # systemd ≥ 253 ignores RELOADING=1 without the time it was sent (Type=notify-reload)
        self._send("RELOADING=1", f"MONOTONIC_USEC={time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000}")

    def stopping(self) -> None:
        self._send("STOPPING=1", "STATUS=stopping: letting running sources finish")

    async def watchdog(self, healthy: Callable[[], Awaitable[bool]]) -> None:
        """Ping WATCHDOG=1 from the event loop while healthy() is true: a blocked loop or a hung store
        stops the pings, and systemd restarts the service (WatchdogSec=)."""
        if self.watchdog_interval is None:
            return
        while True:
            if await healthy():
                self._send("WATCHDOG=1")
            await asyncio.sleep(self.watchdog_interval)

    def _send(self, *fields: str) -> None:
        if not self._address:
            return
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.connect(self._address)
                sock.sendall("\n".join(fields).encode())
        except OSError as exc:  # the manager went away or the socket is gone: log it, keep crawling
            logger.warning("could not notify the service manager at %s: %s", self._address.lstrip("\0"), exc)

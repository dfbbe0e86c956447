"""The team's shared pages and datasets, read through one door.

They came from other public projects (real news pages with their truth files, extraction datasets), so
the repository holds none of them: tests read them where the team keeps them, ``$CRAWLER_SHARED`` or
``../shared`` beside the checkout. Without that directory the tests that need it are skipped with one
reason; under ``CI=true`` (CI has the directory beside the clone) its absence fails them instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

__all__ = ["ABSENT", "shared_names", "shared_path", "shared_root"]

CHECKOUT = Path(__file__).resolve().parent.parent
ABSENT = "(shared directory absent)"  # the one parameter of a test parametrised over files that are not here


def shared_root() -> Path:
    """Where the shared directory is (or would be)."""
    configured = os.environ.get("CRAWLER_SHARED")
    return Path(configured) if configured else CHECKOUT.parent / "shared"


def shared_path(*parts: str) -> Path:
    """A file or folder of the shared directory; skips the calling test (fails it under CI) when absent."""
    root = shared_root()
    path = root.joinpath(*parts)
    if not path.exists():
        where = (
            f"the team's shared directory {root}" if not root.is_dir() else f"{path} (in the team's shared directory)"
        )
        reason = f"{where} is absent: set CRAWLER_SHARED, or put the shared directory at ../shared beside the checkout"
        if os.environ.get("CI") == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return path


def shared_names(folder: str, pattern: str) -> list[str]:
    """Names of the shared files matching pattern, for parametrising a test; [ABSENT] when the folder is not
    here, so the test still runs once and shared_path gives the one reason why it cannot."""
    directory = shared_root() / folder
    names = sorted(path.name for path in directory.glob(pattern)) if directory.is_dir() else []
    return names or [ABSENT]

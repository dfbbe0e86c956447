"""Which child sitemaps of an index a run reads, when the index lists more than a run may read."""

from __future__ import annotations

__all__ = ["children_this_run"]


def children_this_run(children: list[str], read_at: dict[str, str], cap: int) -> tuple[list[str], int]:
    """Up to ``cap`` of an index's children, and how many wait for a later run. Half the cap goes to the
    index's own first entries (sites list the newest sitemaps first, and those change); the rest to the
    others never read, then those read longest ago (``read_at``: ISO times), so every child is read in
    turn over the runs instead of the same first ``cap`` every time."""
    if len(children) <= cap:
        return children, 0
    head = children[: cap // 2]
    rest = sorted(children[cap // 2 :], key=lambda url: (url in read_at, read_at.get(url, "")))
    return head + rest[: cap - len(head)], len(children) - cap

"""What the forkserver imports before it forks any worker (crawler/forkserver.py names this module): the
fetch, extraction and normalisation code, imported with the garbage collector off. Imports allocate much
and free little; collecting while they run is a seventh of the forkserver's imports (0.23 -> 0.20 s here),
and the forkserver's start is on the way to a crawl's first page. Each worker freezes what it inherits.
"""

from __future__ import annotations

import gc
import importlib

WORKER_MODULES = ("crawler.workers", "crawler.neardup", "numpy")  # numpy: the MinHash (neardup imports it late)

gc.disable()
try:
    for _module in WORKER_MODULES:
        importlib.import_module(_module)
finally:
    gc.enable()

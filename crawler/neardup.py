"""Near-duplicate bodies across sources: the same agency story on several sites.

A body's signature is a MinHash (datasketch) over 5-word shingles of its words in match-key form, so
spelling variants, punctuation and volatile bits do not matter. Signatures are split into bands for
locality-sensitive lookup: two bodies sharing any band are candidates, and the share of equal MinHash
values estimates their Jaccard similarity. The bands live in SQLite (table ``near_dup_bands``), which
datasketch's own LSH storage (memory, Redis, Cassandra) does not offer. Pure functions; the store
keeps the bands and links duplicates.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any

from crawler.dedupe import comparable_words

__all__ = ["DUPLICATE_SIMILARITY", "band_keys", "signature", "similarity"]

_PERMUTATIONS = 64
_BANDS = 16  # 16 bands of 4 values: pairs above ~0.6 similar almost always share a band
_SHINGLE = 5
_MIN_SHINGLES = 20  # short texts (a caption, a one-line brief) would match each other by chance
DUPLICATE_SIMILARITY = 0.8


def signature(body: str) -> bytes | None:
    """The body's MinHash as bytes, or None for a body too short to compare."""
    words = comparable_words(body).split()
    shingles = {" ".join(words[i : i + _SHINGLE]).encode() for i in range(len(words) - _SHINGLE + 1)}
    if len(shingles) < _MIN_SHINGLES:
        return None
    from datasketch import MinHash  # imported on first use: it brings numpy and scipy

    # the same permutations MinHash(num_perm=64) draws from its seed, drawn once instead of per body
    minhash = MinHash(num_perm=_PERMUTATIONS, permutations=_permutations(), scheme="affine32")
    minhash.update_batch(list(shingles))
    return bytes(minhash.hashvalues.astype("<u4").tobytes())


@functools.cache
def _permutations() -> Any:
    """MinHash's permutation parameters for seed 1: drawing them took longer than hashing a body."""
    from datasketch import MinHash

    return MinHash(num_perm=_PERMUTATIONS).permutations


def band_keys(sig: bytes) -> list[str]:
    """One key per band: equal keys mean the two signatures agree on that whole band."""
    width = len(sig) // _BANDS
    return [f"{band}:{hashlib.sha1(sig[band * width : (band + 1) * width]).hexdigest()[:16]}" for band in range(_BANDS)]


def similarity(a: bytes, b: bytes) -> float:
    """The share of equal MinHash values: an estimate of the two bodies' Jaccard similarity."""
    values = len(a) // 4
    equal = sum(1 for i in range(values) if a[4 * i : 4 * i + 4] == b[4 * i : 4 * i + 4])
    return equal / values if values else 0.0

"""Near-duplicate bodies across sources: the same agency story on several sites.

A body's signature is a MinHash over 5-word shingles of its words in match-key form, so
spelling variants, punctuation and volatile bits do not matter. Signatures are split into bands for
locality-sensitive lookup: two bodies sharing any band are candidates, and the share of equal MinHash
values estimates their Jaccard similarity. The bands live in SQLite (table ``near_dup_bands``). The
MinHash is datasketch 2's "affine32" scheme (SHA-1 → MurmurHash3 finalizer → 64 affine permutations
from seed 1), written out with numpy (imported where bodies are signed: the workers): bit for bit the
signatures datasketch made, without importing datasketch, whose package imports scipy (40 MB resident in
every process). Pure functions; the store keeps the bands and links duplicates.
"""

from __future__ import annotations

import functools
import hashlib
from typing import TYPE_CHECKING

from crawler.dedupe import comparable_words

if TYPE_CHECKING:
    import numpy as np

__all__ = ["DUPLICATE_SIMILARITY", "band_keys", "signature", "signature_of_words", "similarity"]

_PERMUTATIONS = 64
_BANDS = 16  # 16 bands of 4 values: pairs above ~0.6 similar almost always share a band
_SHINGLE = 5
_SIGNED_WORDS = 20_000  # a long feature's worth (about 150 KB of text); longer bodies are signed by their start
_MIN_SHINGLES = 20  # short texts (a caption, a one-line brief) would match each other by chance
DUPLICATE_SIMILARITY = 0.8


def signature(body: str) -> bytes | None:
    """The body's MinHash as bytes, or None for a body too short to compare."""
    return signature_of_words(comparable_words(body))


def signature_of_words(words: str) -> bytes | None:
    """signature for a body already in comparable form (dedupe.comparable_words: words one space apart).
    Only the first _SIGNED_WORDS words count: they tell one story from another, and a page of megabytes
    of text would otherwise hold a million words and shingles in memory at once (hundreds of MB)."""
    # Words hold no spaces: the text's UTF-8 split on spaces is the words' UTF-8, each encoded once.
    encoded = _first_words(words).encode().split(b" ") if words else []
    shingles = set(map(b" ".join, zip(*(encoded[start:] for start in range(_SHINGLE)))))
    if len(shingles) < _MIN_SHINGLES:
        return None
    # numpy is imported where bodies are signed (the workers; the forkserver preloads it), not by every
    # process importing this module: the crawler's own process only compares signatures.
    import numpy as np

    sha1 = hashlib.sha1  # each shingle's hash: the first 4 bytes of its SHA-1, little-endian, read by numpy at once
    hashes = np.frombuffer(b"".join([sha1(shingle).digest()[:4] for shingle in shingles]), dtype="<u4")
    a, b = _permutations()
    with np.errstate(over="ignore"):  # uint32 arithmetic wraps on purpose: it is arithmetic modulo 2^32
        values = (_fmix32(hashes)[:, None] * a + b).min(axis=0)
    return bytes(values.astype("<u4").tobytes())


def _first_words(words: str) -> str:
    """The first _SIGNED_WORDS words of text whose words are one space apart, found without splitting all."""
    end = -1
    for _ in range(_SIGNED_WORDS):
        end = words.find(" ", end + 1)
        if end < 0:
            return words
    return words[:end]


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer: mixes the hashes before the affine permutations."""
    import numpy as np

    with np.errstate(over="ignore"):
        h = h ^ (h >> np.uint32(16))
        h = h * np.uint32(0x85EBCA6B)
        h = h ^ (h >> np.uint32(13))
        h = h * np.uint32(0xC2B2AE35)
        mixed: np.ndarray = h ^ (h >> np.uint32(16))
        return mixed


@functools.cache
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """The affine permutations h → a·h + b (mod 2^32, a odd) drawn from seed 1, as datasketch 2's MinHash
    draws them (its "affine32" scheme, which stored signatures were made with)."""
    import numpy as np

    generator = np.random.RandomState(1)
    a = generator.randint(0, 1 << 31, _PERMUTATIONS, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = generator.randint(0, 1 << 32, _PERMUTATIONS, dtype=np.uint32)
    return a, b


def band_keys(sig: bytes) -> list[str]:
    """One key per band: equal keys mean the two signatures agree on that whole band."""
    width = len(sig) // _BANDS
    return [f"{band}:{hashlib.sha1(sig[band * width : (band + 1) * width]).hexdigest()[:16]}" for band in range(_BANDS)]


def similarity(a: bytes, b: bytes) -> float:
    """The share of equal MinHash values: an estimate of the two bodies' Jaccard similarity."""
    if len(a) != len(b) or len(a) < 4:
        return 0.0
    values = len(a) // 4
    equal = sum(a[i : i + 4] == b[i : i + 4] for i in range(0, 4 * values, 4))
    return equal / values

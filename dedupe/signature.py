"""MinHash signatures for a batch of units, as one uint32 matrix.

The permutations are datasketch's `affine32` scheme (datasketch >= 2.0):
each shingle hash is pre-mixed with MurmurHash3's 32-bit finaliser and
mapped by `a * h + b mod 2**32` with odd `a`; the (a, b) pairs are drawn
exactly as `datasketch.MinHash(num_perm, seed)` draws them (tested; datasketch
itself is imported only to wrap a row, see `index`). So a row of the
matrix is a valid `LeanMinHash`, and with the `datasketch` hash scheme it is
bit-identical to what `MinHash.update_batch` gives for the same shingles.

The work is a multiply-add and a minimum per shingle and permutation, in
one compiled loop (`dedupe.jit`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from dedupe.jit import jit
from dedupe.shingle import Shingles

if TYPE_CHECKING:
    from datasketch import LeanMinHash

EMPTY = np.uint32(0xFFFFFFFF)


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The (a, b) arrays of datasketch's affine32 scheme for this num_perm and seed, drawn as
    `MinHash._init_permutations` draws them: odd a, then b, from one `RandomState(seed)`."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    return a, gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)


@jit
def _minhash(hashes: np.ndarray, offsets: np.ndarray, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """out[i, j] = min over unit i's shingles h of a[j] * fmix32(h) + b[j] (mod 2**32); rows start EMPTY.

    fmix32 is MurmurHash3's 32-bit finaliser, as datasketch applies it
    before permuting. The permutation loop is innermost, over contiguous
    a, b and out[i], so it compiles to vector instructions.
    """
    for i in range(len(offsets) - 1):
        row = out[i]
        for s in range(offsets[i], offsets[i + 1]):
            h = hashes[s]
            h = np.uint32(h ^ (h >> np.uint32(16)))
            h = np.uint32(h * np.uint32(0x85EBCA6B))
            h = np.uint32(h ^ (h >> np.uint32(13)))
            h = np.uint32(h * np.uint32(0xC2B2AE35))
            h = np.uint32(h ^ (h >> np.uint32(16)))
            for j in range(len(a)):
                value = np.uint32(a[j] * h + b[j])
                if value < row[j]:
                    row[j] = value


def minhash(shingles: Shingles, num_perm: int, seed: int) -> np.ndarray:
    """Return a (units x num_perm) uint32 matrix; units without shingles get EMPTY rows."""
    a, b = permutations(num_perm, seed)
    out = np.full((len(shingles.offsets) - 1, num_perm), EMPTY, dtype=np.uint32)
    _minhash(shingles.hashes, np.asarray(shingles.offsets, dtype=np.int64), a, b, out)
    return out


def to_lean(row: np.ndarray, seed: int) -> LeanMinHash:
    """Wrap one signature row as a datasketch LeanMinHash (for MinHashLSH and Jaccard)."""
    from datasketch import LeanMinHash

    return LeanMinHash(seed=seed, hashvalues=row, scheme="affine32")

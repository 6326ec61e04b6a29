"""MinHash signatures for a batch of units, as one uint32 matrix.

The permutations are datasketch's `affine32` scheme (datasketch >= 2.0):
each shingle hash is pre-mixed with MurmurHash3's 32-bit finaliser and
mapped by `a * h + b mod 2**32` with odd `a`; the (a, b) pairs are drawn
exactly as `datasketch.MinHash(num_perm, seed)` draws them. So a row of the
matrix is a valid `LeanMinHash`, and with the `datasketch` hash scheme it is
bit-identical to what `MinHash.update_batch` gives for the same shingles.

The work is a multiply-add and a minimum per shingle and permutation, in
one compiled loop (`dedupe.jit`).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from datasketch import LeanMinHash, MinHash

from dedupe.jit import jit
from dedupe.shingle import Shingles

EMPTY = np.uint32(0xFFFFFFFF)


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The (a, b) arrays of datasketch's affine32 scheme for this num_perm and seed."""
    a, b = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
    return a.astype(np.uint32), b.astype(np.uint32)


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
    return LeanMinHash(seed=seed, hashvalues=row, scheme="affine32")

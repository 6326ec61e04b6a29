"""Shingle hashes for a batch of normalised units, computed in bulk with numpy.

A unit is shingled either as word n-grams or as character n-grams (short
units and scripts without spaces). The result is a CSR layout: the shingle
hashes of unit i are `hashes[offsets[i]:offsets[i + 1]]`, as uint32.

Two hash schemes give the same shingle *sets*:
- `fast`: polynomial hashes over code points and then over token hashes,
  from prefix sums in uint64 (wrap-around is the modulus), so no shingle
  string is ever built in Python;
- `datasketch`: each shingle string is built and hashed with datasketch's
  `sha1_hash32`, so signatures are bit-identical to `datasketch.MinHash`.

A unit with fewer tokens (characters) than n is one shingle: all of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from datasketch.hashfunc import sha1_hash32

WORD = 1
CHAR = 2

_P = np.uint64(0x9E3779B97F4A7C15)  # odd: invertible modulo 2**64
_Q = np.uint64(0xC2B2AE3D27D4EB4F)
_P_INV = np.uint64(pow(int(_P), -1, 1 << 64))
_Q_INV = np.uint64(pow(int(_Q), -1, 1 << 64))


@dataclass(frozen=True)
class Shingles:
    """Shingle hashes of a batch of units in CSR form."""

    hashes: np.ndarray  # uint32
    offsets: np.ndarray  # int64, len = units + 1


def fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser: spreads the weak low bits of a polynomial hash."""
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> np.uint64(33))


def _powers(base: np.uint64, n: int) -> np.ndarray:
    out = np.full(n, base, dtype=np.uint64)
    out[0] = 1
    return np.cumprod(out, dtype=np.uint64)


class _Prefix:
    """Polynomial hash of any window of a uint64 sequence in O(1) after one pass."""

    def __init__(self, values: np.ndarray, base: np.uint64, inverse: np.uint64) -> None:
        n = len(values)
        self.inv = _powers(inverse, n + 1)
        self.sums = np.zeros(n + 1, dtype=np.uint64)
        np.cumsum(values * _powers(base, n), dtype=np.uint64, out=self.sums[1:])

    def window(self, start: np.ndarray, length: np.ndarray) -> np.ndarray:
        return (self.sums[start + length] - self.sums[start]) * self.inv[start]


def _windows(first: np.ndarray, count: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, ...]:
    """Start, length and owner index of every n-window over runs [first, first + count)."""
    per = np.where(count >= n, count - n + 1, 1)
    owner = np.repeat(np.arange(len(first)), per)
    base = np.cumsum(per) - per
    starts = np.repeat(first, per) + (np.arange(per.sum()) - np.repeat(base, per))
    lengths = np.repeat(np.minimum(count, n), per)
    return starts, lengths, owner


def _to32(h64: np.ndarray) -> np.ndarray:
    return (fmix64(h64) >> np.uint64(32)).astype(np.uint32)


def _fast(norms: list[str], modes: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    joined = "\x00".join(norms) + "\x00"
    cp = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    lengths = np.fromiter((len(s) for s in norms), dtype=np.int64, count=len(norms))
    ustart = np.cumsum(lengths + 1) - (lengths + 1)
    chars = _Prefix(cp + np.uint64(1), _P, _P_INV)
    hashes, owners = [], []

    idx = np.flatnonzero((modes == CHAR) & (lengths > 0))
    if len(idx):
        s, m, o = _windows(ustart[idx], lengths[idx], sizes[idx])
        hashes.append(_to32(chars.window(s, m)))
        owners.append(idx[o])

    idx = np.flatnonzero((modes == WORD) & (lengths > 0))
    if len(idx):
        space = (cp == 32) | (cp == 0)
        edge = np.diff(np.concatenate(([1], space.view(np.int8), [1])).astype(np.int8))
        tstart = np.flatnonzero(edge == -1)
        tend = np.flatnonzero(edge == 1)
        tokens = fmix64(chars.window(tstart, tend - tstart))
        unit_of_token = np.searchsorted(ustart, tstart, side="right") - 1
        first = np.searchsorted(unit_of_token, idx, side="left")
        count = np.searchsorted(unit_of_token, idx, side="right") - first
        words = _Prefix(tokens, _Q, _Q_INV)
        s, m, o = _windows(first, count, sizes[idx])
        hashes.append(_to32(words.window(s, m)))
        owners.append(idx[o])
    return _assemble(hashes, owners, len(norms))


def _strings(norm: str, mode: int, n: int) -> list[str]:
    """The shingle strings the datasketch scheme hashes (same sets as `_fast`)."""
    if mode == CHAR:
        return [norm[i:i + n] for i in range(max(len(norm) - n + 1, 1))]
    tokens = norm.split(" ")
    return [" ".join(tokens[i:i + n]) for i in range(max(len(tokens) - n + 1, 1))]


def _datasketch(norms: list[str], modes: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    hashes, owners = [], []
    for i, norm in enumerate(norms):
        if modes[i] and norm:
            values = [sha1_hash32(s.encode("utf-8")) for s in _strings(norm, int(modes[i]), int(sizes[i]))]
            hashes.append(np.array(values, dtype=np.uint32))
            owners.append(np.full(len(values), i, dtype=np.int64))
    return _assemble(hashes, owners, len(norms))


def _assemble(hashes: list[np.ndarray], owners: list[np.ndarray], n_units: int) -> tuple[np.ndarray, np.ndarray]:
    if not hashes:
        return np.zeros(0, dtype=np.uint32), np.zeros(n_units + 1, dtype=np.int64)
    h = np.concatenate(hashes)
    o = np.concatenate(owners)
    order = np.argsort(o, kind="stable")
    offsets = np.zeros(n_units + 1, dtype=np.int64)
    np.cumsum(np.bincount(o, minlength=n_units), out=offsets[1:])
    return h[order], offsets


def shingle(norms: list[str], modes: np.ndarray, sizes: np.ndarray, scheme: str = "fast") -> Shingles:
    """Hash the shingles of each unit; `modes` is WORD, CHAR or 0 (not matched)."""
    build = _fast if scheme == "fast" else _datasketch
    hashes, offsets = build(norms, np.asarray(modes), np.asarray(sizes, dtype=np.int64))
    return Shingles(hashes, offsets)

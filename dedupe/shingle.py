"""Shingle hashes for a batch of normalised units, computed in compiled loops (numba).

A unit is shingled either as word n-grams or as character n-grams (short
units and scripts without spaces). The result is a CSR layout: the shingle
hashes of unit i are `hashes[offsets[i]:offsets[i + 1]]`, as uint32.

Two hash schemes give the same shingle *sets*:
- `fast`: polynomial hashes over code points and then over token hashes
  (uint64 wrap-around is the modulus), in compiled loops (`_fast`), so
  no shingle string is ever built;
- `datasketch`: each shingle string is built and hashed with datasketch's
  `sha1_hash32`, so signatures are bit-identical to `datasketch.MinHash`.

A unit with fewer tokens (characters) than n is one shingle: all of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dedupe.jit import jit

WORD = 1
CHAR = 2

_P = np.uint64(0x9E3779B97F4A7C15)  # odd: invertible modulo 2**64
_Q = np.uint64(0xC2B2AE3D27D4EB4F)


@dataclass(frozen=True)
class Shingles:
    """Shingle hashes of a batch of units in CSR form."""

    hashes: np.ndarray  # uint32
    offsets: np.ndarray  # int64, len = units + 1


def fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser: spreads the weak low bits of a polynomial hash (arrays or, compiled,
    scalars)."""
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> np.uint64(33))


_fmix64 = jit(fmix64)


@jit
def _count(cp: np.ndarray, starts: np.ndarray, lengths: np.ndarray, modes: np.ndarray, sizes: np.ndarray
           ) -> np.ndarray:
    """Shingles per unit: its n-windows over characters or words, one when it is shorter than n."""
    out = np.zeros(len(starts), dtype=np.int64)
    for i in range(len(starts)):
        if modes[i] == 0 or lengths[i] == 0:
            continue
        items = lengths[i]
        if modes[i] == WORD:
            items = 1
            for k in range(starts[i], starts[i] + lengths[i]):
                if cp[k] == 32:
                    items += 1
        out[i] = items - sizes[i] + 1 if items >= sizes[i] else 1
    return out


@jit
def _window(values: np.ndarray, start: int, length: int, base: np.uint64, plus: np.uint64) -> np.uint64:
    """sum((values[start + k] + plus) * base**k for k < length), modulo 2**64."""
    h = np.uint64(0)
    power = np.uint64(1)
    for k in range(length):
        h += (np.uint64(values[start + k]) + plus) * power
        power *= base
    return h


@jit
def _windows(values: np.ndarray, first: int, count: int, n: int, base: np.uint64, plus: np.uint64,
             out: np.ndarray, at: int) -> None:
    """The top 32 bits of fmix64 of every n-window's `_window` over values[first:first + count]."""
    for j in range(max(count - n + 1, 1)):
        out[at + j] = np.uint32(_fmix64(_window(values, first + j, min(count, n), base, plus)) >> np.uint64(32))


@jit
def _fill(cp: np.ndarray, starts: np.ndarray, lengths: np.ndarray, modes: np.ndarray, sizes: np.ndarray,
          offsets: np.ndarray, out: np.ndarray) -> None:
    """Write each unit's shingle hashes at out[offsets[i]:offsets[i + 1]] (see `_fast`)."""
    tokens = np.empty(0, dtype=np.uint64)
    for i in range(len(starts)):
        if modes[i] == 0 or lengths[i] == 0:
            continue
        first, end = starts[i], starts[i] + lengths[i]
        if modes[i] == CHAR:
            _windows(cp, first, lengths[i], sizes[i], _P, np.uint64(1), out, offsets[i])
            continue
        if len(tokens) < lengths[i]:
            tokens = np.empty(2 * lengths[i], dtype=np.uint64)
        count = 0
        for k in range(first, end + 1):
            if k == end or cp[k] == 32:
                tokens[count] = _fmix64(_window(cp, first, k - first, _P, np.uint64(1)))
                count += 1
                first = k + 1
        _windows(tokens, 0, count, sizes[i], _Q, np.uint64(0), out, offsets[i])


def _fast(norms: list[str], modes: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Polynomial shingle hashes, in two compiled passes over the batch (count, then fill).

    A character window's hash is fmix64(sum((c + 1) * P**k)) over its code points c; a word's is
    fmix64 of the same over its characters, and a word window's is fmix64(sum(word * Q**k)) over its words'
    hashes; each shingle keeps the top 32 bits (arithmetic modulo 2**64). Words are what single spaces
    separate, as `normalize` leaves them.
    """
    lengths = np.fromiter((len(s) for s in norms), dtype=np.int64, count=len(norms))
    cp = np.frombuffer("".join(norms).encode("utf-32-le"), dtype=np.uint32)
    starts = np.cumsum(lengths) - lengths
    modes, sizes = modes.astype(np.int8), sizes.astype(np.int64)
    offsets = np.zeros(len(norms) + 1, dtype=np.int64)
    np.cumsum(_count(cp, starts, lengths, modes, sizes), out=offsets[1:])
    hashes = np.empty(offsets[-1], dtype=np.uint32)
    _fill(cp, starts, lengths, modes, sizes, offsets, hashes)
    return hashes, offsets


def _strings(norm: str, mode: int, n: int) -> list[str]:
    """The shingle strings the datasketch scheme hashes (same sets as `_fast`)."""
    if mode == CHAR:
        return [norm[i:i + n] for i in range(max(len(norm) - n + 1, 1))]
    tokens = norm.split(" ")
    return [" ".join(tokens[i:i + n]) for i in range(max(len(tokens) - n + 1, 1))]


def _datasketch(norms: list[str], modes: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from datasketch.hashfunc import sha1_hash32  # only for this scheme: datasketch's import loads scipy

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

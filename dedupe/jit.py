"""Compiled loops (numba) for the per-shingle work, cached on disk where a cache can be written.

Shingle hashing and MinHash are a few arithmetic operations per shingle
and permutation; as numpy array passes they spend most of their time
writing temporaries, as one compiled loop they run 4-5x faster with the
same bits. The first call in a process compiles (about 1.5 s) or loads
the cache (a few tenths of a second): `jit` asks numba to cache next to
the module or in the user's cache folder, and compiles in memory only
where neither can be written (a read-only install on a Spark executor).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numba

F = TypeVar("F", bound=Callable[..., Any])


def jit(fn: F) -> F:
    """`numba.njit(fn)`, with an on-disk cache when there is somewhere to keep it."""
    try:
        return numba.njit(cache=True)(fn)
    except RuntimeError:  # numba found no writable cache location
        return numba.njit(fn)

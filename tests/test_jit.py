"""Compiled loops: the fallback when numba has nowhere to keep its cache."""

from __future__ import annotations

import numba
import numpy as np

from dedupe import jit


def test_a_loop_is_compiled_without_a_cache_when_none_can_be_written(monkeypatch):
    real = numba.njit
    asked = []

    def njit(*args, **kwargs):
        asked.append(kwargs.get("cache", False))
        if kwargs.get("cache"):
            raise RuntimeError("cannot cache function: no locator available")
        return real(*args, **kwargs)

    monkeypatch.setattr(numba, "njit", njit)

    def total(values):
        out = 0
        for v in values:
            out += v
        return out

    compiled = jit.jit(total)
    assert asked == [True, False]
    assert compiled(np.arange(5)) == 10

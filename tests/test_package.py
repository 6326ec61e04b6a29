"""The package's import surface."""

from __future__ import annotations

import pickle
import subprocess
import sys

import pytest

import dedupe
from dedupe import Document


def test_a_document_is_unpickled_without_loading_the_engine():
    # Spark's Python workers do this for every Document they receive: a fresh worker must not pay for numba,
    # datasketch (and scipy) and the engine.
    code = ("import pickle, sys; doc = pickle.load(sys.stdin.buffer); "
            "print(doc.id, sorted({'numba', 'datasketch', 'dedupe.pipeline'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], input=pickle.dumps(Document("d1", "text")),
                         capture_output=True, check=True).stdout.decode()
    assert out.split() == ["d1", "[]"]


def test_the_public_names_are_there_and_nothing_else():
    from dedupe import Config, run

    assert run.__module__ == "dedupe.pipeline" and Config().seed >= 0
    assert set(dir(dedupe)) >= {"Config", "Document", "Finding", "Report", "run", "clean_documents"}
    with pytest.raises(AttributeError, match="engine"):
        dedupe.engine  # noqa: B018


def test_malloc_thresholds_are_set_on_glibc_and_skipped_elsewhere(monkeypatch):
    import ctypes
    import os
    import sys

    from dedupe import malloc

    try:
        glibc = sys.platform.startswith("linux") and bool(os.confstr("CS_GNU_LIBC_VERSION"))
    except (ValueError, OSError):  # a C library that does not name itself: not glibc
        glibc = False
    assert malloc.tune() is glibc

    def no_library(name):
        raise OSError("no C library here")

    monkeypatch.setattr(ctypes, "CDLL", no_library)
    assert malloc.tune() is False
    monkeypatch.setattr(sys, "platform", "darwin")
    assert malloc.tune() is False


def _tuned_here(_: int) -> bool:
    from dedupe import malloc

    return getattr(malloc, "tuned_here", False)


def test_worker_processes_tune_malloc_and_the_parent_does_not(monkeypatch):
    from dedupe import malloc, pipeline

    monkeypatch.setattr(malloc, "tune", lambda: setattr(malloc, "tuned_here", True) or True)
    assert [r for _, r in pipeline.in_order(_tuned_here, [(0, (0,)), (1, (1,))], 2)] == [True, True]
    assert [r for _, r in pipeline.in_order(_tuned_here, [(0, (0,))], 1)] == [False]  # runs in this process

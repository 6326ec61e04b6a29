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


def test_a_run_with_the_band_index_does_not_load_datasketch():
    # datasketch's import loads scipy (about a quarter of a second): only its index and hash scheme need it.
    code = ("import sys, dedupe\n"
            "docs = [{'id': f'd{i}', 'text': f'Headline {i}\\n\\nThe council met on Tuesday to discuss the '\n"
            "         f'harbour plan, part {i % 3}.\\nShare this'} for i in range(6)]\n"
            "result = dedupe.run(docs, dedupe.Config(lsh_index='bands'))\n"
            "print(result.report.summary['documents'], len(result.report.findings), 'datasketch' in sys.modules)\n"
            "dedupe.run(docs, dedupe.Config(lsh_index='datasketch'))\n"
            "print('datasketch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True).stdout.decode()
    documents, findings, loaded, then = out.split()
    assert (documents, loaded, then) == ("6", "False", "True") and int(findings) > 0


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


def _frozen_here(_: int) -> bool:
    import gc

    return gc.get_freeze_count() > 0


def test_worker_processes_tune_malloc_and_the_parent_does_not(monkeypatch):
    from dedupe import malloc, pipeline

    monkeypatch.setattr(malloc, "tune", lambda: setattr(malloc, "tuned_here", True) or True)
    assert [r for _, r in pipeline.in_order(_tuned_here, [(0, (0,)), (1, (1,))], 2)] == [True, True]
    assert [r for _, r in pipeline.in_order(_tuned_here, [(0, (0,))], 1)] == [False]  # runs in this process
    # and their collector leaves alone what they inherit
    assert [r for _, r in pipeline.in_order(_frozen_here, [(0, (0,)), (1, (1,))], 2)] == [True, True]
    assert [r for _, r in pipeline.in_order(_frozen_here, [(0, (0,))], 1)] == [False]


def _alive(pid: int) -> bool:
    """The process exists and is no zombie (a dead child that nobody reaped yet)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_pool_workers_end_when_their_parent_is_killed(tmp_path):
    import time

    script = tmp_path / "parent.py"
    script.write_text(
        "import os, sys, time\n"
        "from dedupe import pipeline\n"
        "def work(folder):\n"
        "    open(os.path.join(folder, str(os.getpid())), 'w').close()\n"
        "    time.sleep(120)\n"
        f"for _ in pipeline.in_order(work, [(k, ({str(tmp_path)!r},)) for k in range(2)], 2):\n"
        "    pass\n")
    parent = subprocess.Popen([sys.executable, str(script)])
    deadline = time.monotonic() + 60
    while len(workers := [int(p.name) for p in tmp_path.iterdir() if p.name.isdigit()]) < 2:
        assert time.monotonic() < deadline and parent.poll() is None, "the workers did not start"
        time.sleep(0.05)
    parent.kill()  # SIGKILL: no cleanup code of the parent runs
    parent.wait()
    deadline = time.monotonic() + 20
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in workers)


def test_frozen_blocks_keep_the_collector_off_until_the_outermost_one_ends(generated_docs, monkeypatch):
    import gc

    from dedupe import pipeline
    from dedupe.pipeline import frozen

    assert gc.get_freeze_count() == 0
    alive = [[i] for i in range(1000)]  # tracked objects alive on entry
    with frozen():
        assert gc.get_freeze_count() >= len(alive)
        with frozen():
            pass
        assert gc.get_freeze_count() >= len(alive)  # an inner block's end leaves them frozen
    assert gc.get_freeze_count() == 0
    with pytest.raises(RuntimeError), frozen():
        raise RuntimeError("a failing run")
    assert gc.get_freeze_count() == 0
    seen = []

    def counting(stage):
        def counted(*args, **kwargs):
            seen.append(gc.get_freeze_count())
            return stage(*args, **kwargs)
        return counted

    for name in ("decide", "render_batch"):
        monkeypatch.setattr(pipeline, name, counting(getattr(pipeline, name)))
    dedupe.run(generated_docs[:50], dedupe.Config())  # a run freezes while it decides and renders, then thaws
    assert len(seen) >= 2 and all(count > 0 for count in seen)
    assert gc.get_freeze_count() == 0

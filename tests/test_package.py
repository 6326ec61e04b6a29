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

"""What the Spark driver's Python holds, stage by stage: run the `dedupe` command line under tracemalloc.

    python benchmarks/spark/driver_memory.py audit CORPUS --report r.json --quiet \
        --engine spark --spark-master 'local[2]' --partitions 8

After each stage that the Spark engine times (`spark._Clock.lap`), after the steps of the decisions
(`spark.ExecutorDecisions`: range outcomes with the headlines, duplicate documents, plans), and at the end,
it prints the memory that Python objects and numpy arrays hold (traced: not the interpreter, not Spark's
JVM) now and at the stage's peak. The difference from the first line is what the stage adds
for the corpus; `driver.py` gives the process's peak RSS instead.
"""

from __future__ import annotations

import sys
import tracemalloc
from collections.abc import Callable
from functools import wraps
from typing import Any

import dedupe.spark as engine
from dedupe.cli import main


def report(stage: str) -> None:
    """Print traced memory now and its peak since the last report, then start a new peak."""
    current, peak = tracemalloc.get_traced_memory()
    print(f"{stage:28s} now {current / 2**20:8.1f} MB   stage peak {peak / 2**20:8.1f} MB", file=sys.stderr)
    tracemalloc.reset_peak()


def reporting(stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        found = fn(*args, **kwargs)
        report(stage)
        return found

    return run


if __name__ == "__main__":
    tracemalloc.start()
    lap = engine._Clock.lap
    engine._Clock.lap = lambda clock, name: (report(name), lap(clock, name))[1]
    decisions = engine.ExecutorDecisions
    decisions.run = reporting("outcomes and headlines", decisions.run)
    decisions.documents_decided = reporting("duplicate documents", decisions.documents_decided)
    decisions.plans = reporting("plans", decisions.plans)
    try:
        main(sys.argv[1:], standalone_mode=False)
    finally:
        report("second pass and report")

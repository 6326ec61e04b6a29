"""Run the `dedupe` command line in this process, then print this process's peak RSS to stderr.

With `--engine spark` this process is Spark's driver (its JVM is a child process): the line
`driver peak RSS MB: N` measures what the driver's Python holds, which `bench_spark.py` reports.
"""

from __future__ import annotations

import resource
import runpy
import sys

if __name__ == "__main__":
    sys.argv[0] = "dedupe"
    try:
        runpy.run_module("dedupe", run_name="__main__")
    finally:
        print(f"driver peak RSS MB: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}", file=sys.stderr)

"""Local engine `--jobs 2` against the Spark engine on `local[2]`, on the same generated corpora, in one run.

    python benchmarks/spark/bench_spark.py --sizes 10 100 --repeat 3 --json spark.json

For each size (MB of generated JSONL; benchmarks/perf/generate.py makes it into $DEDUPE_BENCH_DIR or
/tmp/dedupe-bench if missing) it runs, alternately and `--repeat` times each, as subprocesses:

- `dedupe audit CORPUS --report R --quiet --jobs 2` (local engine);
- `dedupe audit CORPUS --report R --quiet --engine spark --spark-master local[2] --partitions P`.

It prints medians of wall time, CPU, peak RSS (largest process, the sampled sum over the process
tree: Spark's JVM is a child of the driver, and the `dedupe` process's own: with Spark, the driver's
Python, see driver.py), time per MB, the ratio of the two engines, and the Spark
engine's time per stage (`summary.timings`), and checks that both reports hold the same findings.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "perf"))

from bench import corpus_path, measure, stage_timings  # noqa: E402
from generate import generate  # noqa: E402

DRIVER_RSS = re.compile(r"driver peak RSS MB: (\d+)")  # printed by driver.py


def audit(dedupe: list[str], corpus: Path, work: Path, extra: list[str]) -> tuple[dict[str, Any], list]:
    report = work / "report.json"
    log = work / "stderr.log"
    m = measure([*dedupe, "audit", str(corpus), "--report", str(report), "--quiet", *extra], log)
    m["driver_rss_mb"] = float(DRIVER_RSS.findall(log.read_text(errors="replace"))[-1])
    data = json.loads(report.read_text(encoding="utf-8"))
    m["timings"] = stage_timings(data["summary"])
    del m["stdout"]
    report.unlink()
    return m, data["findings"]


def median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[10, 100])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--partitions", type=int, default=8, help="Spark partitions (--partitions)")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/dedupe-bench"))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    dedupe = [sys.executable, str(HERE / "driver.py")]  # `dedupe`, and its own peak RSS (the Spark driver's)
    work = args.cache / "work"
    work.mkdir(parents=True, exist_ok=True)
    engines = {"local --jobs 2": ["--jobs", "2"],
               f"spark {args.master}": ["--engine", "spark", "--spark-master", args.master,
                                        "--partitions", str(args.partitions)]}
    results: dict[str, Any] = {"sizes": {}}
    for mb in args.sizes:
        corpus = corpus_path(args.cache, mb, args.seed)
        if not corpus.exists():
            generate(mb, args.seed, corpus)
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in engines}
        findings: dict[str, list] = {}
        for _ in range(args.repeat):
            for name, extra in engines.items():
                m, findings[name] = audit(dedupe, corpus, work, extra)
                runs[name].append(m)
        same = len({json.dumps(f, sort_keys=True) for f in findings.values()}) == 1
        size_mb = corpus.stat().st_size / 1e6
        results["sizes"][f"{mb:g}"] = {"corpus_mb": size_mb, "same_findings": same, "runs": runs}
        print(f"\n## {mb:g} MB ({size_mb:.1f} MB of JSONL), medians of {args.repeat}; same findings: {same}\n")
        print("| engine | wall s | s per MB | CPU s | peak RSS MB (largest) | tree RSS MB | dedupe process RSS MB |")
        print("|---|---|---|---|---|---|---|")
        for name, measured in runs.items():
            wall = median(measured, "wall_s")
            print(f"| {name} | {wall:.1f} | {wall / size_mb:.3f} | {median(measured, 'cpu_s'):.1f} | "
                  f"{median(measured, 'peak_rss_mb'):.0f} | {median(measured, 'tree_rss_peak_mb'):.0f} | "
                  f"{median(measured, 'driver_rss_mb'):.0f} |")
        local, spark = (median(runs[name], "wall_s") for name in engines)
        print(f"\nSpark / local wall: {spark / local:.2f}x")
        spark_runs = runs[f"spark {args.master}"]
        stages = spark_runs[0]["timings"]
        print("\n| Spark stage | median s |\n|---|---|")
        for stage in stages:
            print(f"| {stage} | {statistics.median(r['timings'].get(stage, 0.0) for r in spark_runs):.2f} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Performance harness for `dedupe` (issue 4): end-to-end runs, baselines and ratios in one run.

    python benchmarks/perf/bench.py --sizes 10 100 --repeat 3 --json perf.json

For each corpus size (MB of generated JSONL, made by generate.py into $DEDUPE_BENCH_DIR or /tmp/dedupe-bench if
missing) it measures, each `--repeat` times, as subprocesses:

- `dedupe audit CORPUS --report R --quiet --jobs 1` and `dedupe clean CORPUS -o OUT --report R --quiet --jobs 1`;
- `dedupe audit ... --jobs 2` on the `--jobs-size` corpus (100 MB), against the `--jobs 1` audit above;
- the exact-hash floor and the datasketch script (baselines.py; the script on a prefix, `--datasketch-prefix-mb`).

Wall time is taken around the subprocess; user+sys CPU and peak RSS of the command come from GNU
`/usr/bin/time -v` (os.wait4 on the child if it is missing); they include worker processes the command waited
for, and peak RSS is that of the largest single process, as getrusage reports it. The summed RSS of the whole
process tree is also sampled every 50 ms (`tree RSS`, what `--jobs 2` really holds). Medians over the repeats are
printed as markdown tables and written as JSON with every single measurement. The dedupe under test is whatever
`dedupe` is installed beside this Python (or `--dedupe CMD`); nothing here imports it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SAMPLE_S = 0.05


# ---------------------------------------------------------------------------------------------- measuring


def _tree_rss_kb(pid: int) -> int:
    """Summed VmRSS (kB) of `pid` and all its descendants, from /proc (0 if it is gone)."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status", "rb") as f:
                for line in f:
                    if line.startswith(b"VmRSS:"):
                        total += int(line.split()[1])
                        break
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children", "rb") as f:
                    stack.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            continue
    return total


TIME_V = "/usr/bin/time"


def _busy_cpu_s() -> float:
    """CPU seconds the whole machine has spent busy since boot (all cores), from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _time_v(path: Path) -> dict[str, float]:
    """User, system and max RSS of the measured command, from GNU time's -v output file."""
    fields = {}
    for line in path.read_text(errors="replace").splitlines():
        name, _, value = line.strip().rpartition(": ")
        fields[name] = value
    return {"user_s": float(fields["User time (seconds)"]), "sys_s": float(fields["System time (seconds)"]),
            "maxrss_kb": float(fields["Maximum resident set size (kbytes)"])}


def measure(cmd: list[str], log: Path) -> dict[str, Any]:
    """Run `cmd` once: wall, user/sys CPU and peak RSS of that command, sampled peak RSS of its process tree.

    CPU and peak RSS come from GNU `/usr/bin/time -v` when it is installed: a child's getrusage maximum RSS
    starts at its parent's RSS when it is forked, so only a small intermediate parent gives an honest number.
    Without it, os.wait4 on the direct child is used (then peak RSS is at least this harness's own RSS).
    """
    timed = Path(TIME_V).exists()
    stats = log.with_suffix(".time")
    full = [TIME_V, "-v", "-o", str(stats), *cmd] if timed else cmd
    with open(log, "wb") as err:
        busy_before = _busy_cpu_s()
        began = time.perf_counter()
        proc = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=err)
        peak_tree = [0]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(SAMPLE_S):
                peak_tree[0] = max(peak_tree[0], _tree_rss_kb(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        stdout = proc.stdout.read() if proc.stdout else b""
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - began
        busy = _busy_cpu_s() - busy_before
        done.set()
        sampler.join()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError(f"{shlex.join(cmd)} exited {code}; stderr in {log}:\n"
                           + log.read_text(errors="replace")[-2000:])
    if timed:
        t = _time_v(stats)
        user, system, maxrss_kb = t["user_s"], t["sys_s"], t["maxrss_kb"]
    else:
        user, system, maxrss_kb = usage.ru_utime, usage.ru_stime, usage.ru_maxrss
    return {"wall_s": wall, "user_s": user, "sys_s": system, "cpu_s": user + system,
            "peak_rss_mb": maxrss_kb / 1024, "tree_rss_peak_mb": peak_tree[0] / 1024,
            "others_cpu_s": max(0.0, busy - user - system), "loadavg_1m_after": os.getloadavg()[0],
            "rusage_source": "time -v" if timed else "wait4", "stdout": stdout.decode("utf-8", "replace")}


def stage_timings(summary: dict[str, Any]) -> dict[str, float]:
    """summary.timings as {stage: seconds}, if the report has it (a number, or a dict with `seconds`/`s`)."""
    raw = summary.get("timings")
    if not isinstance(raw, dict):
        return {}
    out = {}
    for stage, value in raw.items():
        if isinstance(value, dict):
            value = value.get("seconds", value.get("s"))
        if isinstance(value, (int, float)):
            out[str(stage)] = float(value)
    return out


def run_dedupe(dedupe: list[str], mode: str, corpus: Path, jobs: int, work: Path) -> dict[str, Any]:
    report = work / "report.json"
    out = work / "cleaned.jsonl"
    cmd = [*dedupe, mode, str(corpus), "--report", str(report), "--quiet", "--jobs", str(jobs)]
    if mode == "clean":
        cmd += ["-o", str(out)]
    m = measure(cmd, work / "stderr.log")
    summary = json.loads(report.read_text(encoding="utf-8"))["summary"]
    m.update(command=shlex.join(cmd), units=summary.get("units"), documents=summary.get("documents"),
             engine_s=summary.get("wall_time_s"), timings=stage_timings(summary),
             duplicated_share=summary.get("duplicated_share"), dedupe_version=summary.get("dedupe_version"),
             report_mb=report.stat().st_size / 1e6)
    if mode == "clean":
        m["output_mb"] = out.stat().st_size / 1e6
    for path in (report, out):
        path.unlink(missing_ok=True)
    del m["stdout"]
    return m


def run_baseline(name: str, corpus: Path, prefix_mb: float | None, work: Path) -> dict[str, Any]:
    cmd = [sys.executable, str(HERE / "baselines.py"), name, str(corpus), "--prefix-mb", str(prefix_mb or 0)]
    m = measure(cmd, work / "stderr.log")
    inner = json.loads(m.pop("stdout"))
    m.update(command=shlex.join(cmd), units=inner["units"], documents=inner["documents"], bytes=inner["bytes"],
             duplicates=inner["duplicates"], inner_s=inner["seconds"], prefix_mb=inner["prefix_mb"])
    return m


# ---------------------------------------------------------------------------------------------- summarising


def median_of(runs: list[dict[str, Any]], input_bytes: int) -> dict[str, Any]:
    """Median of each metric over the repeats (each metric separately), plus rates from the median wall."""
    med: dict[str, Any] = {"repeats": len(runs)}
    for key in ("wall_s", "user_s", "sys_s", "cpu_s", "peak_rss_mb", "tree_rss_peak_mb", "engine_s", "inner_s",
                "others_cpu_s"):
        values = [r[key] for r in runs if isinstance(r.get(key), (int, float))]
        if values:
            med[key] = statistics.median(values)
    walls = [r["wall_s"] for r in runs]
    med["wall_min_s"], med["wall_max_s"] = min(walls), max(walls)
    med["input_mb"] = input_bytes / 1e6
    med["mb_per_s"] = med["input_mb"] / med["wall_s"]
    med["s_per_mb"] = med["wall_s"] / med["input_mb"]
    med["cpu_s_per_mb"] = med["cpu_s"] / med["input_mb"]
    med["mb_per_cpu_s"] = med["input_mb"] / med["cpu_s"]
    med["cpu_per_wall"] = med["cpu_s"] / med["wall_s"]
    med["others_cpu_per_wall"] = med["others_cpu_s"] / med["wall_s"]
    units = runs[0].get("units")
    if units:
        med["units"] = units
        med["units_per_s"] = units / med["wall_s"]
    if runs[0].get("documents"):
        med["documents"] = runs[0]["documents"]
    stages: dict[str, list[float]] = {}
    for r in runs:
        for stage, seconds in (r.get("timings") or {}).items():
            stages.setdefault(stage, []).append(seconds)
    if stages:
        med["timings_s"] = {s: statistics.median(v) for s, v in stages.items()}
        med["timings_share"] = {s: v / med["wall_s"] for s, v in med["timings_s"].items()}
    return med


def ratios(results: dict[str, Any], jobs_size: float) -> dict[str, Any]:
    out: dict[str, Any] = {"per_size": {}}
    sizes = sorted(results, key=float)
    for size in sizes:
        m = results[size]["median"]
        r: dict[str, Any] = {}
        if "audit" in m and "datasketch" in m:
            r["audit_vs_datasketch_throughput"] = m["audit"]["mb_per_s"] / m["datasketch"]["mb_per_s"]
            r["audit_vs_datasketch_cpu"] = m["audit"]["mb_per_cpu_s"] / m["datasketch"]["mb_per_cpu_s"]
        if "clean" in m and "datasketch" in m:
            r["clean_vs_datasketch_throughput"] = m["clean"]["mb_per_s"] / m["datasketch"]["mb_per_s"]
        if "audit" in m and "exact" in m:
            r["audit_vs_exact_throughput"] = m["audit"]["mb_per_s"] / m["exact"]["mb_per_s"]
            r["audit_vs_exact_cpu"] = m["audit"]["mb_per_cpu_s"] / m["exact"]["mb_per_cpu_s"]
        if "audit" in m and "audit_jobs2" in m:
            r["jobs2_speedup"] = m["audit"]["wall_s"] / m["audit_jobs2"]["wall_s"]
        # Issue 4 states its targets for `--jobs 2` on this 2-core machine; the baselines run on one core.
        for baseline in ("datasketch", "exact"):
            if "audit_jobs2" in m and baseline in m:
                r[f"audit_jobs2_vs_{baseline}_throughput"] = m["audit_jobs2"]["mb_per_s"] / m[baseline]["mb_per_s"]
        out["per_size"][size] = r
    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        for tool in ("audit", "clean", "exact"):
            a, b = results[small]["median"].get(tool), results[large]["median"].get(tool)
            if a and b:
                out[f"{tool}_s_per_mb_{large}_vs_{small}"] = b["s_per_mb"] / a["s_per_mb"]
                out[f"{tool}_cpu_s_per_mb_{large}_vs_{small}"] = b["cpu_s_per_mb"] / a["cpu_s_per_mb"]
    return out


LABELS = {"audit": "dedupe audit", "clean": "dedupe clean", "audit_jobs2": "dedupe audit --jobs 2",
          "exact": "exact-hash floor", "datasketch": "datasketch script"}


def _f(value: Any, digits: int = 2) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def markdown(data: dict[str, Any]) -> str:
    results = data["results"]
    stages: list[str] = []
    for size in results:
        for med in results[size]["median"].values():
            for s in med.get("timings_share", {}):
                if s not in stages:
                    stages.append(s)
    head = ["corpus", "tool", "input MB", "wall s (median)", "wall min-max", "CPU s", "CPU/wall",
            "peak RSS MB", "tree RSS MB", "MB/s", "MB/CPU-s", "units/s", "engine s", "others CPU/wall"]
    head += [f"{s} %" for s in stages]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for size in sorted(results, key=float):
        for tool, med in results[size]["median"].items():
            share = med.get("timings_share", {})
            row = [f"{size} MB", LABELS.get(tool, tool), _f(med["input_mb"], 1), _f(med["wall_s"]),
                   f"{med['wall_min_s']:.2f}-{med['wall_max_s']:.2f}", _f(med["cpu_s"]), _f(med["cpu_per_wall"]),
                   _f(med["peak_rss_mb"], 0), _f(med.get("tree_rss_peak_mb"), 0), _f(med["mb_per_s"]),
                   _f(med["mb_per_cpu_s"]), _f(round(med["units_per_s"]) if "units_per_s" in med else None),
                   _f(med.get("engine_s")), _f(med["others_cpu_per_wall"])]
            row += [_f(100 * share[s], 1) if s in share else "" for s in stages]
            lines.append("| " + " | ".join(row) + " |")
    rat = data["ratios"]
    lines += ["", "| ratio (same run) | value |", "|---|---|"]
    names = {"audit_vs_datasketch_throughput": "dedupe audit MB/s / datasketch script MB/s",
             "audit_vs_datasketch_cpu": "dedupe audit MB/CPU-s / datasketch script MB/CPU-s",
             "audit_vs_exact_cpu": "dedupe audit MB/CPU-s / exact-hash floor MB/CPU-s",
             "clean_vs_datasketch_throughput": "dedupe clean MB/s / datasketch script MB/s",
             "audit_vs_exact_throughput": "dedupe audit MB/s / exact-hash floor MB/s",
             "jobs2_speedup": "dedupe audit wall --jobs 1 / --jobs 2",
             "audit_jobs2_vs_datasketch_throughput": "dedupe audit --jobs 2 MB/s / datasketch script MB/s (1 core)",
             "audit_jobs2_vs_exact_throughput": "dedupe audit --jobs 2 MB/s / exact-hash floor MB/s (1 core)"}
    for size, r in rat["per_size"].items():
        for key, value in r.items():
            lines.append(f"| {size} MB: {names[key]} | {value:.3f} |")
    for key, value in rat.items():
        if key != "per_size":
            cpu = "_cpu_s_per_mb_" in key
            tool, _, rest = key.partition("_cpu_s_per_mb_" if cpu else "_s_per_mb_")
            large, _, small = rest.partition("_vs_")
            unit = "CPU s/MB" if cpu else "wall s/MB"
            lines.append(f"| {LABELS[tool]}: {unit} at {large} MB / {unit} at {small} MB | {value:.3f} |")
    if data["notes"]:
        lines.append("")
        lines += [f"- {note}" for note in data["notes"]]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------- driving


CONTENTION = "other processes used CPU during the runs"


def finish(meta: dict[str, Any], results: dict[str, Any], notes: list[str], jobs_size: float) -> dict[str, Any]:
    """Medians from the runs, ratios, and the notes (with one about other load on the machine, if any)."""
    for r in results.values():
        r["median"] = {tool: median_of(rs, rs[0].get("bytes", r["corpus"]["bytes"])) for tool, rs in r["runs"].items()}
    notes = [n for n in notes if not n.startswith(CONTENTION)]
    busiest = max((m["others_cpu_per_wall"] for r in results.values() for m in r["median"].values()), default=0)
    if busiest > 0.1:
        notes.append(f"{CONTENTION} (up to {busiest:.2f} cores on median, column `others CPU/wall`): wall times "
                     f"and --jobs 2 are slowed on a {meta.get('cpus')}-core machine; CPU s and MB/CPU-s much less")
    return {"meta": meta, "results": results, "ratios": ratios(results, jobs_size), "notes": list(dict.fromkeys(notes))}


def corpus_path(cache: Path, mb: float, seed: int) -> Path:
    return cache / f"corpus-{mb:g}mb-seed{seed}.jsonl"


def ensure_corpus(cache: Path, mb: float, seed: int) -> tuple[Path, dict[str, Any] | None]:
    path = corpus_path(cache, mb, seed)
    if path.exists():
        return path, None
    print(f"bench: generating {path} ...", file=sys.stderr)
    began = time.perf_counter()
    # In a subprocess: this harness stays small (see measure) and never imports numpy.
    subprocess.run([sys.executable, str(HERE / "generate.py"), "--mb", f"{mb:g}", "--seed", str(seed),
                    "-o", str(path)], check=True)
    return path, {"seconds": time.perf_counter() - began, "bytes": path.stat().st_size}


def dedupe_command(given: str | None) -> list[str]:
    if given:
        return shlex.split(given)
    beside = Path(sys.executable).parent / "dedupe"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("dedupe")
    if found:
        return [found]
    sys.exit("bench: no `dedupe` command beside this Python or on PATH; install it or pass --dedupe")


def free_memory_gb() -> float:
    with open("/proc/meminfo") as f:
        info = {line.split(":")[0]: int(line.split()[1]) for line in f}
    return info.get("MemAvailable", info.get("MemFree", 0)) / 1024 / 1024


def too_big(size: float, results: dict[str, Any], mem_gb: float, max_run_s: float) -> str | None:
    """A reason to skip `size`, extrapolating linearly from the largest size already measured."""
    done = [s for s in results if "audit" in results[s]["median"]]
    if not done:
        return None
    base = max(done, key=float)
    med = results[base]["median"]
    factor = size / float(base)
    rss_gb = max(m["peak_rss_mb"] for m in med.values()) * factor / 1024
    wall = max(med["audit"]["wall_s"], med.get("clean", med["audit"])["wall_s"]) * factor
    limit_gb = min(mem_gb, free_memory_gb())
    if rss_gb > limit_gb or wall > max_run_s:
        return (f"{size:g} MB skipped: linear extrapolation from {base} MB gives ~{rss_gb:.1f} GB peak RSS "
                f"(limit {limit_gb:.1f} GB) and ~{wall / 60:.1f} min per run (limit {max_run_s / 60:.1f} min)")
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="dedupe performance harness (issue 4)")
    parser.add_argument("--sizes", type=float, nargs="+", default=[10, 100], help="corpus sizes in MB")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache-dir", type=Path,
                        default=Path(os.environ.get("DEDUPE_BENCH_DIR", "/tmp/dedupe-bench")))
    parser.add_argument("--jobs-size", type=float, default=100, help="corpus size for the --jobs 2 comparison")
    parser.add_argument("--datasketch-prefix-mb", type=float, default=5.0)
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument("--no-clean", action="store_true")
    parser.add_argument("--dedupe", help="command to run dedupe (default: `dedupe` beside this Python)")
    parser.add_argument("--mem-limit-gb", type=float, default=20.0,
                        help="skip a size whose extrapolated peak RSS is above this (or above free memory)")
    parser.add_argument("--max-run-min", type=float, default=10.0,
                        help="skip a size whose extrapolated wall time per run is above this")
    parser.add_argument("--json", type=Path, help="write every measurement, medians and ratios here")
    parser.add_argument("--markdown", type=Path, help="also write the tables here")
    parser.add_argument("--render", type=Path, metavar="JSON",
                        help="measure nothing: recompute medians and ratios from a saved --json file and print them")
    args = parser.parse_args(argv)

    if args.render:
        saved = json.loads(args.render.read_text(encoding="utf-8"))
        data = finish(saved["meta"], saved["results"], saved["notes"], args.jobs_size)
        print(markdown(data))
        if args.json:
            args.json.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        return 0
    dedupe = dedupe_command(args.dedupe)
    work = args.cache_dir / "work"
    work.mkdir(parents=True, exist_ok=True)
    notes: list[str] = []
    results: dict[str, Any] = {}
    for size in sorted(args.sizes):
        key = f"{size:g}"
        reason = too_big(size, results, args.mem_limit_gb, args.max_run_min * 60)
        if reason:
            print(f"bench: {reason}", file=sys.stderr)
            notes.append(reason)
            continue
        corpus, generated = ensure_corpus(args.cache_dir, size, args.seed)
        nbytes = corpus.stat().st_size
        plan: list[tuple[str, Any]] = [("audit", lambda c=corpus: run_dedupe(dedupe, "audit", c, 1, work))]
        if not args.no_clean:
            plan.append(("clean", lambda c=corpus: run_dedupe(dedupe, "clean", c, 1, work)))
        if size == args.jobs_size:
            plan.append(("audit_jobs2", lambda c=corpus: run_dedupe(dedupe, "audit", c, 2, work)))
        if not args.no_baselines:
            plan.append(("exact", lambda c=corpus: run_baseline("exact", c, None, work)))
            prefix = args.datasketch_prefix_mb if 0 < args.datasketch_prefix_mb < size else None
            plan.append(("datasketch", lambda c=corpus, p=prefix: run_baseline("datasketch", c, p, work)))
        runs: dict[str, list[dict[str, Any]]] = {tool: [] for tool, _ in plan}
        for rep in range(args.repeat):
            for tool, fn in plan:
                m = fn()
                runs[tool].append(m)
                print(f"bench: {key} MB {tool} #{rep + 1}: {m['wall_s']:.2f} s wall, {m['cpu_s']:.2f} s CPU, "
                      f"{m['peak_rss_mb']:.0f} MB peak RSS, others' CPU {m['others_cpu_s']:.2f} s", file=sys.stderr)
        results[key] = {"corpus": {"path": str(corpus), "bytes": nbytes, "generated": generated}, "runs": runs}
        medians = {tool: median_of(rs, rs[0].get("bytes", nbytes)) for tool, rs in runs.items()}
        results[key]["median"] = medians
        if "datasketch" in runs and runs["datasketch"][0]["prefix_mb"]:
            notes.append(f"{key} MB: the datasketch script ran on the first {runs['datasketch'][0]['bytes'] / 1e6:.1f}"
                         f" MB of the corpus (whole lines); its MB/s is measured there")
        if not any(m.get("timings_share") for m in medians.values() if m):
            notes.append(f"{key} MB: the report has no summary.timings, so no per-stage columns")
    if args.jobs_size not in args.sizes:
        notes.append(f"no --jobs 2 run: --jobs-size {args.jobs_size:g} is not among --sizes")
    data = finish({"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                   "python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
                   "memory_available_gb": round(free_memory_gb(), 1), "dedupe_command": shlex.join(dedupe),
                   "dedupe_version": next((r["runs"]["audit"][0].get("dedupe_version") for r in results.values()),
                                          None),
                   "repeat": args.repeat, "seed": args.seed, "argv": sys.argv[1:]},
                  results, notes, args.jobs_size)
    text = markdown(data)
    print(text)
    if args.markdown:
        args.markdown.write_text(text, encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

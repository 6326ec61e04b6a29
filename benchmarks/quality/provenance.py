"""Syndication on real republished news: news-provenance-events (680 articles, 80 outlets, no labels).

Usage:
    python benchmarks/quality/provenance.py [--corpus ../shared/corpora/news-provenance-events/articles.jsonl]
        [--config dedupe.toml] [--set KEY=VALUE ...] [--sample 50] [--seed 1] [--json out.json]
        [--results-dir benchmarks/quality/results]

Runs `dedupe clean` on the articles with `source` = outlet, `date` = scrape time and `title` = the first
paragraph, and reports how many paragraphs were found syndicated, in how many clusters, across how many
outlets. Then it draws a seeded random sample of syndicated findings and writes both texts of each (the copy
removed and the canonical copy kept) to `<results-dir>/provenance_sample.md`.

The verdicts of the hand check live in `<results-dir>/provenance_verdicts.json`, keyed by the copy's
`doc_id:start:end` and the canonical's, with `correct` (true: a reprint of the same wire or agency paragraph,
possibly edited; false: anything else) and a one-line reason. The sample file shows them next to each pair,
and precision is computed over the checked pairs; a pair that the current configuration samples but nobody
has checked yet is shown as unchecked and left out of the precision.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

from run_dedupe import clean_findings

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpora" / "news-provenance-events" / "articles.jsonl"
RESULTS = Path(__file__).resolve().parent / "results"


def run_dedupe(corpus: Path, config: str | None, overrides: list[str], workdir: Path) -> list[dict]:
    return clean_findings(corpus, workdir, ["--date-field", "scrape_time"], config, overrides)


def key(doc_id: str, start: int, end: int) -> str:
    return f"{doc_id}:{start}:{end}"


def summarise(articles: dict[str, dict], findings: list[dict]) -> dict:
    syndicated = [f for f in findings if f["category"] == "syndicated"]
    clusters: dict[str, set[str]] = defaultdict(set)
    copy_outlets: set[str] = set()
    canonical_outlets: set[str] = set()
    pairs: Counter = Counter()
    for f in syndicated:
        copy_source = articles[f["doc_id"]]["source"]
        canonical_source = articles[f["match"]["doc_id"]]["source"]
        clusters[f["cluster_id"]].update((copy_source, canonical_source))
        copy_outlets.add(copy_source)
        canonical_outlets.add(canonical_source)
        pairs[(copy_source, canonical_source)] += 1
    units = sum(len([line for line in a["text"].split("\n") if line.strip()]) for a in articles.values())
    spread = Counter(min(len(outlets), 6) for outlets in clusters.values())
    return {
        "articles": len(articles),
        "outlets": len({a["source"] for a in articles.values()}),
        "paragraphs": units,
        "syndicated_findings": len(syndicated),
        "syndicated_characters": sum(f["end"] - f["start"] for f in syndicated),
        "syndicated_clusters": len(clusters),
        "articles_with_syndicated_copies": len({f["doc_id"] for f in syndicated}),
        "outlets_with_copies": len(copy_outlets),
        "outlets_involved": len(copy_outlets | canonical_outlets),
        "clusters_by_outlets": {("6+" if k == 6 else str(k)): v for k, v in sorted(spread.items())},
        "duplicate_documents_dropped": sum(f["action"] == "dropped" for f in findings),
        "top_outlet_pairs": [{"copy": a, "canonical": b, "paragraphs": n} for (a, b), n in pairs.most_common(10)],
        "findings_by_category": dict(Counter(f["category"] for f in findings)),
    }


def sample(articles: dict[str, dict], findings: list[dict], n: int, seed: int) -> list[dict]:
    syndicated = sorted((f for f in findings if f["category"] == "syndicated"),
                        key=lambda f: (f["doc_id"], f["start"]))
    chosen = random.Random(seed).sample(syndicated, min(n, len(syndicated)))
    out = []
    for f in chosen:
        m = f["match"]
        copy, canonical = articles[f["doc_id"]], articles[m["doc_id"]]
        out.append({
            "key": key(f["doc_id"], f["start"], f["end"]) + " <- " + key(m["doc_id"], m["start"], m["end"]),
            "copy_id": f["doc_id"], "copy_source": copy["source"], "copy_time": copy.get("scrape_time"),
            "copy_text": copy["text"][f["start"]:f["end"]],
            "canonical_id": m["doc_id"], "canonical_source": canonical["source"],
            "canonical_time": canonical.get("scrape_time"),
            "canonical_text": canonical["text"][m["start"]:m["end"]],
            "similarity": f["similarity"],
        })
    return out


def write_sample(path: Path, rows: list[dict], verdicts: dict[str, dict], command: str) -> dict:
    checked = [verdicts[r["key"]] for r in rows if r["key"] in verdicts]
    correct = sum(v["correct"] for v in checked)
    precision = round(100 * correct / len(checked), 1) if checked else None
    lines = [
        "# Syndication findings on news-provenance-events: a random sample, checked by hand",
        "",
        f"Drawn by `{command}`. Each pair is a paragraph dedupe removed as `syndicated` (the copy) and the",
        "paragraph it kept (the canonical copy: the earliest scrape time). A pair is **correct** when both are",
        "the same wire or agency paragraph, possibly edited (reworded, cut, lengthened, a different dateline or",
        "attribution), and **wrong** otherwise (two different paragraphs that happen to share words, or",
        "boilerplate rather than content). Verdicts are kept in `provenance_verdicts.json`.",
        "",
        f"**Checked: {len(checked)} of {len(rows)}; correct: {correct}; precision: {precision}%**",
        "",
    ]
    for i, r in enumerate(rows, 1):
        v = verdicts.get(r["key"])
        verdict = "unchecked" if v is None else ("correct" if v["correct"] else "WRONG") + f": {v['reason']}"
        lines += [
            f"## {i}. {r['copy_source']} <- {r['canonical_source']} (similarity {r['similarity']})",
            "",
            f"- copy `{r['copy_id']}` ({r['copy_time']}): {r['copy_text']}",
            f"- canonical `{r['canonical_id']}` ({r['canonical_time']}): {r['canonical_text']}",
            f"- verdict: {verdict}",
            f"- key: `{r['key']}`",
            "",
        ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return {"sampled": len(rows), "checked": len(checked), "correct": correct, "precision": precision}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    parser.add_argument("--config")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--sample", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json")
    parser.add_argument("--results-dir", default=str(RESULTS))
    args = parser.parse_args()
    results = Path(args.results_dir)
    results.mkdir(parents=True, exist_ok=True)
    with open(args.corpus, encoding="utf-8") as handle:
        articles = {a["id"]: a for a in map(json.loads, handle)}
    with tempfile.TemporaryDirectory() as tmp:
        findings = run_dedupe(Path(args.corpus), args.config, args.overrides, Path(tmp))
    summary = summarise(articles, findings)
    verdict_path = results / "provenance_verdicts.json"
    verdicts = json.loads(verdict_path.read_text(encoding="utf-8")) if verdict_path.exists() else {}
    rows = sample(articles, findings, args.sample, args.seed)
    command = "python benchmarks/quality/provenance.py" + "".join(f" --set {o}" for o in args.overrides)
    summary["hand_check"] = write_sample(results / "provenance_sample.md", rows, verdicts, command)
    print(f"{summary['articles']} articles from {summary['outlets']} outlets, {summary['paragraphs']} paragraphs")
    print(f"syndicated: {summary['syndicated_findings']} paragraphs removed as copies "
          f"({summary['syndicated_characters']:,} characters) in {summary['syndicated_clusters']} clusters; "
          f"{summary['articles_with_syndicated_copies']} articles and {summary['outlets_with_copies']} outlets carry "
          f"copies, {summary['outlets_involved']} outlets involved")
    print(f"clusters by number of outlets: {summary['clusters_by_outlets']}")
    print(f"duplicate documents dropped: {summary['duplicate_documents_dropped']}; findings by category: "
          f"{summary['findings_by_category']}")
    print("top outlet pairs (copy <- canonical): " + "; ".join(
        f"{p['copy']} <- {p['canonical']} {p['paragraphs']}" for p in summary["top_outlet_pairs"][:5]))
    h = summary["hand_check"]
    print(f"hand check: {h['checked']} of {h['sampled']} sampled pairs checked, {h['correct']} correct, "
          f"precision {h['precision']}% (sample in {results / 'provenance_sample.md'})")
    if args.json:
        Path(args.json).write_text(json.dumps({"command": " ".join(sys.argv), **summary}, indent=1) + "\n",
                                   encoding="utf-8")


if __name__ == "__main__":
    main()

"""Score `dedupe` on page sets with a human gold main text, against raw and CCNet-style baselines.

Usage:
    python benchmarks/quality/pages.py ../shared/corpora/utomo-big9-chaos/big9.jsonl.gz [more sets...]
        [--config dedupe.toml] [--set KEY=VALUE ...] [--json results.json]
        [--sample-labels 40] [--results-dir benchmarks/quality/results]

Each page's `text` (one block per line) is run through the `dedupe clean` command with the page's site as
`source` (default configuration unless `--config`/`--set` say otherwise). Every line is labelled content or
boilerplate against the gold main text (rule in `label_lines`), and scored by characters:

- content kept (page): kept content characters / content characters, every page on its own: a content line
  removed anywhere counts as lost. The issue's target (>= 99.7%) is judged on this number;
- content kept (corpus): the same, except that a content line removed as `syndicated` or inside a dropped
  `duplicate_document` counts as kept when the copy dedupe kept of it survives in the cleaned corpus (the
  canonical unit is not removed; for a dropped page, the line is found, by the labelling rule, in the kept text
  of the page it duplicates). This is what a corpus user keeps; SPEC removes those copies on purpose;
- repeated boilerplate removed: boilerplate whose normalised form occurs on >= 2 pages of the site or twice in
  the page; all boilerplate removed; precision of removal (boilerplate share of what was removed);
- pages that lost more than 5% of their content characters, page level (the issue's target) and corpus level;
- content lost per category: which category removed the content characters that were lost, so a loss can be
  traced to its cause;
- own headline kept: pages whose headline (the first gold line, or for l3s-gn1 the lines labelled `headline`)
  occurs in `text` and keeps at least one copy.

Baselines in the same run: `raw` (nothing removed) and `ccnet` (CCNet-style exact line dedup: lowercase,
digits to 0, punctuation stripped, SHA-1 of the line; every line seen twice or more within a site is
dropped). For l3s-gn1, the share of each human label's characters that was removed is reported too.

`--sample-labels N` writes N randomly drawn lines per set with their label and the rule that gave it to
`<results-dir>/labels_<set>.md`, to check the labelling by eye.
"""

from __future__ import annotations

import argparse
import bisect
import gzip
import hashlib
import json
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import regex
from run_dedupe import clean_findings

_PUNCT = regex.compile(r"[\p{P}\p{S}]+")
_SPACE = regex.compile(r"\s+")
_DIGIT = regex.compile(r"\d")
CATEGORIES = ("repeat", "boilerplate", "template", "syndicated", "duplicate_document")
RESULTS = Path(__file__).resolve().parent / "results"


def norm(line: str) -> str:
    """Matching form for labelling: casefold, punctuation to space, whitespace collapsed."""
    return _SPACE.sub(" ", _PUNCT.sub(" ", line.casefold())).strip()


def ccnet_norm(line: str) -> str:
    return _SPACE.sub(" ", _PUNCT.sub("", _DIGIT.sub("0", line.lower()))).strip()


def load(path: str) -> list[dict]:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


class Gold:
    """A gold text prepared for the labelling rule."""

    def __init__(self, gold: str) -> None:
        gold_lines = [norm(g) for g in gold.split("\n") if g.strip()]
        self.counts = Counter(gold_lines)
        self.joined = " " + " ".join(gold_lines) + " "
        words = self.joined.split()
        self.tri = set(zip(words, words[1:], words[2:]))
        self.words = set(words)

    def rule(self, n: str) -> str | None:
        """Which clause of the labelling rule makes the normalised line `n` content (None: not content)."""
        words = n.split()
        if not words:
            return None
        if n in self.counts:
            return "equal"
        if len(words) < 4:
            return None
        if f" {n} " in self.joined:
            return "contained"
        if len(words) < 6:
            near = sum(w in self.words for w in words) / len(words) >= 0.8 and f" {' '.join(words[:2])} " in self.joined
            return "words80" if near else None
        tri = list(zip(words, words[1:], words[2:]))
        return "trigrams80" if sum(t in self.tri for t in tri) / len(tri) >= 0.8 else None

    def copies(self, n: str) -> int:
        return max(1, self.counts[n], self.joined.count(f" {n} "))


def label_lines(lines: list[str], gold: str, why: list[str] | None = None) -> list[bool]:
    """True where a line is article content.

    A line is content when its normalised form equals a normalised gold line, or when it has at least 4
    words and occurs in the normalised gold on word boundaries, or when at least 80% of its word
    trigrams (words, for lines under 6 words) occur in the gold: this absorbs small differences of
    extraction (a dropped quote mark, a joined line). Lines of 1-3 words must equal a whole gold line,
    so a menu item "Home" is not content because the word "home" occurs in the article. A line printed
    more often in the page than in the gold (a lead paragraph repeated as a teaser) is content only for as
    many copies as the gold holds: the first ones in page order. `why`, when given, receives the clause
    that decided each line.
    """
    prepared = Gold(gold)
    seen: Counter = Counter()
    out = []
    for line in lines:
        n = norm(line)
        seen[n] += 1
        rule = prepared.rule(n)
        if rule and seen[n] > prepared.copies(n):
            rule, reason = None, "extra copy"
        else:
            reason = rule or "no match"
        out.append(rule is not None)
        if why is not None:
            why.append(reason)
    return out


def repeated_flags(pages: list[dict]) -> list[list[bool]]:
    """Per line: its normalised form occurs on >= 2 pages of the site or twice in the page."""
    pages_of: dict[tuple[str, str], set[int]] = defaultdict(set)
    for i, page in enumerate(pages):
        for line in page["lines"]:
            pages_of[(page["site"], norm(line))].add(i)
    out = []
    for page in pages:
        counts = Counter(norm(line) for line in page["lines"])
        out.append([len(pages_of[(page["site"], norm(line))]) >= 2 or counts[norm(line)] >= 2
                    for line in page["lines"]])
    return out


def ccnet_removed(pages: list[dict]) -> list[list[str | None]]:
    seen: Counter = Counter()
    for page in pages:
        for line in page["lines"]:
            seen[(page["site"], hashlib.sha1(ccnet_norm(line).encode()).digest())] += 1
    return [["ccnet" if seen[(p["site"], hashlib.sha1(ccnet_norm(line).encode()).digest())] >= 2 else None
             for line in p["lines"]] for p in pages]


def line_starts(page: dict) -> list[int]:
    pos, offsets = 0, []
    for line in page["lines"]:
        offsets.append(pos)
        pos += len(line) + 1
    return offsets


def run_dedupe(pages: list[dict], config: str | None, overrides: list[str], workdir: Path) -> list[dict]:
    """Run `dedupe clean` (the CLI) on the pages and return its findings."""
    source = workdir / "pages.jsonl"
    with open(source, "w", encoding="utf-8") as handle:
        for i, page in enumerate(pages):
            handle.write(json.dumps({"id": str(i), "site": page["site"], "text": "\n".join(page["lines"])}) + "\n")
    return clean_findings(source, workdir, ["--source-field", "site"], config, overrides)


def map_findings(pages: list[dict], findings: list[dict]) -> tuple[list[list[str | None]], list[list[bool]]]:
    """Per line: the category that removed it (None: kept), and whether a removed content line survives
    elsewhere in the cleaned corpus (see the module docstring)."""
    starts = [line_starts(p) for p in pages]
    removed: list[list[str | None]] = [[None] * len(p["lines"]) for p in pages]
    matches: dict[tuple[int, int], tuple[int, int]] = {}
    dropped: dict[int, int] = {}
    for f in findings:
        d = int(f["doc_id"])
        if f["action"] == "dropped":
            removed[d] = ["duplicate_document"] * len(pages[d]["lines"])
            dropped[d] = int(f["match"]["doc_id"])
        elif f["action"] == "removed":
            j = bisect.bisect_right(starts[d], f["start"]) - 1
            removed[d][j] = f["category"]
            if f["category"] == "syndicated" and f["match"]:
                m = int(f["match"]["doc_id"])
                matches[(d, j)] = (m, bisect.bisect_right(starts[m], f["match"]["start"]) - 1)
    survives = [[False] * len(p["lines"]) for p in pages]
    for (d, j), (m, k) in matches.items():
        survives[d][j] = m not in dropped and removed[m][k] is None
    for d, m in dropped.items():
        if m in dropped:
            continue
        kept = "\n".join(line for line, r in zip(pages[m]["lines"], removed[m]) if r is None)
        survives[d] = label_lines(pages[d]["lines"], kept)
    return removed, survives


def score(pages: list[dict], removed: list[list[str | None]], survives: list[list[bool]] | None = None) -> dict:
    totals: Counter = Counter()
    lost_by: Counter = Counter()
    lossy = lossy_corpus = 0
    for p, page in enumerate(pages):
        content = lost = lost_corpus = 0
        for j, (line, is_content, repeated, r) in enumerate(zip(page["lines"], page["content"], page["repeated"],
                                                                removed[p])):
            n = len(line)
            gone = r is not None
            if is_content:
                content += n
                lost += n * gone
                totals["content"] += n
                totals["content_kept"] += n * (not gone)
                elsewhere = bool(survives and survives[p][j])
                totals["content_kept_corpus"] += n * (not gone or elsewhere)
                lost_corpus += n * (gone and not elsewhere)
                if gone:
                    lost_by[r] += n
            else:
                totals["bp"] += n
                totals["bp_removed"] += n * gone
                if repeated:
                    totals["rep"] += n
                    totals["rep_removed"] += n * gone
            totals["removed"] += n * gone
        lossy += content > 0 and lost > 0.05 * content
        lossy_corpus += content > 0 and lost_corpus > 0.05 * content
    pct = lambda a, b: round(100 * totals[a] / totals[b], 2) if totals[b] else float("nan")  # noqa: E731
    return {
        "content_kept": pct("content_kept", "content"),
        "content_kept_corpus": pct("content_kept_corpus", "content"),
        "repeated_bp_removed": pct("rep_removed", "rep"),
        "all_bp_removed": pct("bp_removed", "bp"),
        "precision": round(100 * (totals["bp_removed"] / totals["removed"]), 2) if totals["removed"] else float("nan"),
        "pages_lossy_pct": round(100 * lossy / len(pages), 2),
        "pages_lossy": lossy,
        "pages_lossy_corpus_pct": round(100 * lossy_corpus / len(pages), 2),
        "content_lost_by_category": {c: round(100 * v / totals["content"], 3) for c, v in sorted(lost_by.items())},
        "characters": {"content": totals["content"], "boilerplate": totals["bp"],
                       "repeated_boilerplate": totals["rep"]},
    }


def headlines(pages: list[dict], removed: list[list[str | None]]) -> dict:
    """Pages whose headline occurs in `text`, and how many of them keep at least one copy of it."""
    found = kept = 0
    for page, rem in zip(pages, removed):
        idx = page["headline"]
        if idx:
            found += 1
            kept += any(rem[j] is None for j in idx)
    return {"pages_with_headline": found, "kept": kept, "kept_pct": round(100 * kept / found, 2) if found else None}


def per_label(pages: list[dict], removed: list[list[str | None]]) -> dict[str, float]:
    chars: Counter = Counter()
    gone: Counter = Counter()
    for page, rem in zip(pages, removed):
        for line, label, r in zip(page["lines"], page.get("labels") or [], rem):
            if label:
                chars[label] += len(line)
                gone[label] += len(line) * (r is not None)
    return {label: round(100 * gone[label] / chars[label], 2) for label in sorted(chars)}


def block_labels(page: dict, blocks: list[dict]) -> list[str | None]:
    """Align l3s-gn1 `blocks` to `text` lines in order (equal strings), None where no block matches."""
    out, j = [], 0
    for line in page["lines"]:
        k = j
        while k < len(blocks) and k < j + 5 and blocks[k]["text"] != line:
            k += 1
        if k < len(blocks) and blocks[k]["text"] == line:
            out.append(blocks[k]["label"])
            j = k + 1
        else:
            out.append(None)
    return out


def prepare(path: str) -> list[dict]:
    pages = []
    for record in load(path):
        lines = [line for line in record["text"].split("\n") if line.strip()]
        why: list[str] = []
        gold = record.get("gold") or ""
        page = {"site": record["site"], "lines": lines, "content": label_lines(lines, gold, why), "why": why,
                "id": record["id"]}
        if "blocks" in record:
            page["labels"] = block_labels(page, record["blocks"])
            page["headline"] = [j for j, label in enumerate(page["labels"]) if label == "headline"]
        else:
            first = next((norm(g) for g in gold.split("\n") if g.strip()), "")
            page["headline"] = [j for j, line in enumerate(lines) if first and norm(line) == first]
        pages.append(page)
    for page, flags in zip(pages, repeated_flags(pages)):
        page["repeated"] = flags
    return pages


def sample_labels(name: str, pages: list[dict], n: int, results: Path) -> Path:
    """Write n random labelled lines (seeded) for an eyeball check of the labelling rule."""
    rng = random.Random(f"labels-{name}")
    rows = []
    candidates = [(p, j) for p, page in enumerate(pages) for j in range(len(page["lines"]))]
    for p, j in sorted(rng.sample(candidates, min(n, len(candidates)))):
        page = pages[p]
        label = "content" if page["content"][j] else ("repeated bp" if page["repeated"][j] else "unique bp")
        text = page["lines"][j].replace("|", "\\|")
        rows.append(f"| {page['id']} | {j} | {label} | {page['why'][j]} | {text[:160]} |  |")
    path = results / f"labels_{name}.md"
    path.write_text(
        f"# Labelling sample: {name}\n\n{len(rows)} lines drawn at random (seed `labels-{name}`) by "
        f"`pages.py --sample-labels {n}`. `rule` is the clause of `label_lines` that decided; the last column "
        "is for the reviewer's verdict (ok / wrong, and why).\n\n"
        "| page | line | label | rule | text (first 160 characters) | check |\n|---|---|---|---|---|---|\n"
        + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def fmt(value: float) -> str:
    return "-" if value != value else f"{value:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sets", nargs="+")
    parser.add_argument("--config", help="TOML configuration for dedupe (default: dedupe's defaults)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="a dedupe configuration field, passed to the CLI as --key value")
    parser.add_argument("--json", help="write all results to this JSON file")
    parser.add_argument("--sample-labels", type=int, default=0, metavar="N",
                        help="write N random labelled lines per set to RESULTS_DIR/labels_<set>.md")
    parser.add_argument("--results-dir", default=str(RESULTS))
    args = parser.parse_args()
    results_dir = Path(args.results_dir)
    results: dict[str, dict] = {}
    rows = []
    for path in args.sets:
        name = Path(path).name.split(".")[0]
        began = time.perf_counter()
        pages = prepare(path)
        if args.sample_labels:
            results_dir.mkdir(parents=True, exist_ok=True)
            print(f"wrote {sample_labels(name, pages, args.sample_labels, results_dir)}", file=sys.stderr)
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            removed, survives = map_findings(pages, run_dedupe(pages, args.config, args.overrides, Path(tmp)))
            dedupe_s = time.perf_counter() - start
        methods = {
            "raw": ([[None] * len(p["lines"]) for p in pages], None),
            "ccnet": (ccnet_removed(pages), None),
            "dedupe": (removed, survives),
        }
        results[name] = {"path": path, "pages": len(pages), "dedupe_seconds": round(dedupe_s, 2)}
        for method, (gone, kept_elsewhere) in methods.items():
            s = score(pages, gone, kept_elsewhere)
            s["headline"] = headlines(pages, gone)
            if any(p.get("labels") for p in pages):
                s["removed_by_label"] = per_label(pages, gone)
            results[name][method] = s
            rows.append((name, method, s))
        results[name]["seconds"] = round(time.perf_counter() - began, 2)
    print("| set | method | content kept (page) | content kept (corpus) | repeated bp removed | all bp removed "
          "| precision | pages >5% content lost (page / corpus) | own headline kept |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, method, s in rows:
        h = s["headline"]
        print(f"| {name} | {method} | {fmt(s['content_kept'])} | {fmt(s['content_kept_corpus'])} "
              f"| {fmt(s['repeated_bp_removed'])} | {fmt(s['all_bp_removed'])} | {fmt(s['precision'])} "
              f"| {s['pages_lossy_pct']:.2f}% / {s['pages_lossy_corpus_pct']:.2f}% "
              f"| {h['kept']}/{h['pages_with_headline']} |")
    print("\ncontent lost by the category that removed it (% of content characters, dedupe):\n")
    print("| set | " + " | ".join(CATEGORIES) + " |")
    print("|---|" + "---|" * len(CATEGORIES))
    for name, data in results.items():
        lost = data["dedupe"]["content_lost_by_category"]
        print(f"| {name} | " + " | ".join(f"{lost.get(c, 0.0):.2f}" for c in CATEGORIES) + " |")
    for name, data in results.items():
        if "removed_by_label" in data["dedupe"]:
            print(f"\n{name}: % of characters removed per human label")
            for method in ("raw", "ccnet", "dedupe"):
                print(f"  {method:7} " + "  ".join(f"{k}={v}" for k, v in data[method]["removed_by_label"].items()))
    print("\nseconds per set (prepare + dedupe + score): "
          + ", ".join(f"{name} {data['seconds']} (dedupe {data['dedupe_seconds']})" for name, data in results.items()))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"command": " ".join(sys.argv), "sets": results}, indent=1) + "\n",
                                   encoding="utf-8")


if __name__ == "__main__":
    main()

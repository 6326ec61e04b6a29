"""Score `dedupe` on page sets with a human gold main text, against raw and CCNet-style baselines.

Usage:
    python benchmarks/quality/pages.py ../shared/corpora/utomo-big9-chaos/big9.jsonl.gz [more sets...]
        [--config dedupe.toml] [--json results.json] [--sample-labels 30]

Each page's `text` (one block per line) is run through `dedupe clean` with the page's site as `source`.
Every line is labelled against the gold main text (rule in `label_lines`), and scored by characters:

- content kept: kept content characters / content characters;
- repeated boilerplate removed: boilerplate whose normalised form occurs on >= 2 pages of the site or
  twice in the page;
- all boilerplate removed; precision of removal (boilerplate share of what was removed);
- pages that lost more than 5% of their content characters.

Baselines in the same run: `raw` (nothing removed) and `ccnet` (CCNet-style exact line dedup: lowercase,
digits to 0, punctuation stripped, SHA-1 of the line; every line seen twice or more within a site is
dropped). For l3s-gn1, the share of each human label's characters that was removed is reported too.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

import regex

_PUNCT = regex.compile(r"[\p{P}\p{S}]+")
_SPACE = regex.compile(r"\s+")
_DIGIT = regex.compile(r"\d")


def norm(line: str) -> str:
    """Matching form for labelling: casefold, punctuation to space, whitespace collapsed."""
    return _SPACE.sub(" ", _PUNCT.sub(" ", line.casefold())).strip()


def ccnet_norm(line: str) -> str:
    return _SPACE.sub(" ", _PUNCT.sub("", _DIGIT.sub("0", line.lower()))).strip()


def load(path: str) -> list[dict]:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def label_lines(lines: list[str], gold: str) -> list[bool]:
    """True where a line is article content.

    A line is content when its normalised form equals a normalised gold line, or when it has at least 4
    words and occurs in the normalised gold on word boundaries, or when at least 80% of its word
    trigrams (words, for lines under 6 words) occur in the gold: this absorbs small differences of
    extraction (a dropped quote mark, a joined line). Lines of 1-3 words must equal a whole gold line,
    so a menu item "Home" is not content because the word "home" occurs in the article. A line printed
    more often in the page than in the gold (a lead paragraph repeated as a teaser) is content only for as
    many copies as the gold holds: the first ones in page order.
    """
    gold_counts = Counter(norm(g) for g in gold.split("\n") if g.strip())
    gold_lines = set(gold_counts)
    seen: Counter = Counter()
    joined = " " + " ".join(norm(g) for g in gold.split("\n") if g.strip()) + " "
    gold_words = joined.split()
    gold_tri = set(zip(gold_words, gold_words[1:], gold_words[2:]))
    gold_set = set(gold_words)
    out = []
    for line in lines:
        n = norm(line)
        words = n.split()
        seen[n] += 1
        if not words or seen[n] > max(1, gold_counts[n], joined.count(f" {n} ")):
            out.append(False)  # a copy beyond what the gold holds is a repeat, not content
        elif n in gold_lines:
            out.append(True)
        elif len(words) < 4:
            out.append(False)
        elif f" {n} " in joined:
            out.append(True)
        elif len(words) < 6:
            out.append(sum(w in gold_set for w in words) / len(words) >= 0.8 and f" {' '.join(words[:2])} " in joined)
        else:
            tri = list(zip(words, words[1:], words[2:]))
            out.append(sum(t in gold_tri for t in tri) / len(tri) >= 0.8)
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


def ccnet_removed(pages: list[dict]) -> list[list[bool]]:
    seen: Counter = Counter()
    for page in pages:
        for line in page["lines"]:
            seen[(page["site"], hashlib.sha1(ccnet_norm(line).encode()).digest())] += 1
    return [[seen[(p["site"], hashlib.sha1(ccnet_norm(line).encode()).digest())] >= 2 for line in p["lines"]]
            for p in pages]


def dedupe_removed(pages: list[dict], config: str | None, workdir: Path) -> list[list[bool]]:
    """Run `dedupe clean` (the CLI) and map its removed findings back to lines."""
    source = workdir / "pages.jsonl"
    with open(source, "w", encoding="utf-8") as handle:
        for i, page in enumerate(pages):
            handle.write(json.dumps({"id": str(i), "site": page["site"], "text": "\n".join(page["lines"])}) + "\n")
    findings = workdir / "findings.jsonl"
    command = [sys.executable, "-m", "dedupe", "clean", str(source), "-o", str(workdir / "out.jsonl"),
               "--source-field", "site", "--findings", str(findings), "--quiet"]
    if config:
        command += ["--config", config]
    subprocess.run(command, check=True)
    starts = []
    for page in pages:
        pos, offsets = 0, []
        for line in page["lines"]:
            offsets.append(pos)
            pos += len(line) + 1
        starts.append(offsets)
    removed = [[False] * len(p["lines"]) for p in pages]
    import bisect

    for row in findings.read_text(encoding="utf-8").splitlines():
        f = json.loads(row)
        d = int(f["doc_id"])
        if f["action"] == "dropped":
            removed[d] = [True] * len(pages[d]["lines"])
        elif f["action"] == "removed":
            removed[d][bisect.bisect_right(starts[d], f["start"]) - 1] = True
    return removed


def score(pages: list[dict], removed: list[list[bool]]) -> dict[str, float]:
    totals: Counter = Counter()
    lossy = 0
    for page, gone in zip(pages, removed):
        content = lost = 0
        for line, is_content, repeated, r in zip(page["lines"], page["content"], page["repeated"], gone):
            n = len(line)
            if is_content:
                content += n
                lost += n * r
                totals["content"] += n
                totals["content_kept"] += n * (not r)
            else:
                totals["bp"] += n
                totals["bp_removed"] += n * r
                if repeated:
                    totals["rep"] += n
                    totals["rep_removed"] += n * r
            totals["removed"] += n * r
        lossy += content > 0 and lost > 0.05 * content
    pct = lambda a, b: round(100 * totals[a] / totals[b], 2) if totals[b] else float("nan")  # noqa: E731
    return {
        "content_kept": pct("content_kept", "content"),
        "repeated_bp_removed": pct("rep_removed", "rep"),
        "all_bp_removed": pct("bp_removed", "bp"),
        "precision": round(100 * (totals["bp_removed"] / totals["removed"]), 2) if totals["removed"] else float("nan"),
        "pages_lossy_pct": round(100 * lossy / len(pages), 2),
        "pages_lossy": lossy,
    }


def per_label(pages: list[dict], removed: list[list[bool]]) -> dict[str, float]:
    chars: Counter = Counter()
    gone: Counter = Counter()
    for page, rem in zip(pages, removed):
        for line, label, r in zip(page["lines"], page.get("labels") or [], rem):
            if label:
                chars[label] += len(line)
                gone[label] += len(line) * r
    return {label: round(100 * gone[label] / chars[label], 2) for label in sorted(chars)}


def block_labels(page: dict) -> list[str | None]:
    """Align l3s-gn1 `blocks` to `text` lines in order (equal strings), None where no block matches."""
    blocks = page.get("blocks") or []
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
        page = {"site": record["site"], "lines": lines, "content": label_lines(lines, record.get("gold") or ""),
                "id": record["id"]}
        if "blocks" in record:
            page["blocks"] = record["blocks"]
            page["labels"] = block_labels(page)
            page.pop("blocks")
        pages.append(page)
    for page, flags in zip(pages, repeated_flags(pages)):
        page["repeated"] = flags
    return pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sets", nargs="+")
    parser.add_argument("--config")
    parser.add_argument("--json")
    parser.add_argument("--sample-labels", type=int, default=0, help="print N random labelled lines per set")
    args = parser.parse_args()
    results = {}
    print("| set | method | content kept | repeated bp removed | all bp removed | precision | pages >5% lost |")
    print("|---|---|---|---|---|---|---|")
    for path in args.sets:
        name = Path(path).name.split(".")[0]
        pages = prepare(path)
        if args.sample_labels:
            import random

            rng = random.Random(0)
            for page in rng.sample(pages, min(args.sample_labels, len(pages))):
                i = rng.randrange(len(page["lines"]))
                print(f"  [{'C' if page['content'][i] else 'B'}] {page['lines'][i][:100]}", file=sys.stderr)
        with tempfile.TemporaryDirectory() as tmp:
            methods = {
                "raw": [[False] * len(p["lines"]) for p in pages],
                "ccnet": ccnet_removed(pages),
                "dedupe": dedupe_removed(pages, args.config, Path(tmp)),
            }
        results[name] = {}
        for method, removed in methods.items():
            s = score(pages, removed)
            if any(p.get("labels") for p in pages):
                s["removed_by_label"] = per_label(pages, removed)
            results[name][method] = s
            print(f"| {name} | {method} | {s['content_kept']} | {s['repeated_bp_removed']} | {s['all_bp_removed']} "
                  f"| {s['precision']} | {s['pages_lossy']} ({s['pages_lossy_pct']}%) |")
    for name, methods in results.items():
        if "removed_by_label" in methods["dedupe"]:
            print(f"\n{name}: % of characters removed per human label")
            for method, s in methods.items():
                print(f"  {method:7} " + "  ".join(f"{k}={v}" for k, v in s["removed_by_label"].items()))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()

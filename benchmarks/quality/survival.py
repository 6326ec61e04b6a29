"""Do the paragraphs of a plain news corpus survive cleaning? Content loss on corpora without gold labels.

Usage:
    python benchmarks/quality/survival.py ../shared/corpora/reuters21578/reuters21578.jsonl.gz --paragraphs indented
    python benchmarks/quality/survival.py ../shared/corpora/bbc-news-fulltext/bbc-news-fulltext.jsonl.gz
        [--paragraphs lines|indented] [--min-words 20] [--config dedupe.toml] [--set KEY=VALUE ...]

Runs `dedupe clean` (the CLI, the corpus's own fields) and counts the distinct paragraphs of at least
`--min-words` words (whitespace-normalised) that have no exact copy left anywhere in the cleaned corpus. Every
such paragraph is attributed to the categories of the findings that overlap its copies. A syndicated copy
whose kept copy is an edited version, or a page dropped for an edited duplicate, counts as lost here: the
number is an upper bound on loss, to compare configurations and commits, not a precision.

Paragraphs are the corpus's own: `lines` (one per non-empty line, as scraped text has them) or `indented`
(a blank line or an indented line opens the next one, as in fixed-width wire archives).
"""

from __future__ import annotations

import argparse
import gzip
import json
import tempfile
from collections import Counter
from pathlib import Path

from run_dedupe import clean_findings


def paragraphs(text: str, kind: str) -> list[tuple[int, int]]:
    """(start, end) of each paragraph of `text`."""
    spans: list[list[int]] = []
    pos, open_ = 0, False
    for line in text.split("\n"):
        end = pos + len(line)
        if not line.strip():
            open_ = False
        elif kind == "lines" or not open_ or line[:1].isspace():
            spans.append([pos, end])
            open_ = True
        else:
            spans[-1][1] = end
        pos = end + 1
    return [(s, e) for s, e in spans]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--paragraphs", choices=("lines", "indented"), default="lines")
    parser.add_argument("--min-words", type=int, default=20)
    parser.add_argument("--config")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    opener = gzip.open if args.corpus.suffix == ".gz" else open
    with opener(args.corpus, "rt", encoding="utf-8") as handle:
        docs = [json.loads(line) for line in handle]
    with tempfile.TemporaryDirectory() as tmp:
        findings = clean_findings(args.corpus, Path(tmp), [], args.config, args.overrides)
        cleaned = [json.loads(line) for line in (Path(tmp) / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    kept = "\n".join(" ".join(d["text"].split()) for d in cleaned)
    by_doc: dict[str, list[dict]] = {}
    for f in findings:
        by_doc.setdefault(f["doc_id"], []).append(f)
    copies: dict[str, list[tuple[str, int, int]]] = {}
    for d in docs:
        text = d.get("text") or ""
        for s, e in paragraphs(text, args.paragraphs):
            norm = " ".join(text[s:e].split())
            if len(norm.split()) >= args.min_words:
                copies.setdefault(norm, []).append((str(d["id"]), s, e))
    lost = Counter()
    for norm, where in copies.items():
        if norm in kept:
            continue
        cats = {f["category"] for doc, s, e in where for f in by_doc.get(doc, [])
                if f["category"] == "duplicate_document" or (f["start"] < e and f["end"] > s)}
        lost[" + ".join(sorted(cats)) or "none"] += 1
    read = {str(d["id"]) for d in docs if (d.get("text") or "").strip()}
    emptied = sum(1 for d in cleaned if str(d["id"]) in read and not d["text"].strip())
    dropped = sum(f["category"] == "duplicate_document" for f in findings)
    total = sum(lost.values())
    print(f"{args.corpus.name}: {len(copies):,} distinct paragraphs of {args.min_words}+ words; "
          f"{total:,} ({total / max(1, len(copies)):.1%}) with no exact copy left; "
          f"{dropped:,} documents dropped, {emptied:,} kept but emptied")
    for cats, count in lost.most_common(8):
        print(f"  {count:6,}  {cats}")


if __name__ == "__main__":
    main()

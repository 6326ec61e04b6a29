"""Baselines that `dedupe` is measured against, on the same JSONL input (issue 4).

    python benchmarks/perf/baselines.py exact CORPUS.jsonl
    python benchmarks/perf/baselines.py datasketch CORPUS.jsonl --prefix-mb 5

Each prints one JSON object on stdout: what was read (bytes, documents, units), what was found, and the
in-process time (`seconds`, `mb_per_s`; reading and parsing the JSONL included, interpreter start-up and imports
not). `bench.py` runs them as subprocesses and also times them from outside.

exact: the exact-hash floor, the least any line-level deduplication must do: read the JSONL, split each text
into lines, normalise (lowercase, collapse whitespace), hash each non-empty line with xxh3_64, and count the
lines whose hash was already seen. It finds only exact repeats; its throughput is the ceiling for a
pure-Python tool and the floor for the work.

datasketch: "the datasketch script users write", the typical near-duplicate script from the datasketch README
and blog posts, per paragraph (the blank-line separated blocks of the text):

    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=0.8, num_perm=128)
    for doc in (json.loads(line) for line in open(path, encoding="utf-8")):
        for i, para in enumerate(doc["text"].split("\\n\\n")):
            words = para.lower().split()
            if not words:
                continue
            m = MinHash(num_perm=128)
            for shingle in {" ".join(words[j:j + 5]) for j in range(max(1, len(words) - 4))}:
                m.update(shingle.encode("utf-8"))
            if lsh.query(m):          # a near-duplicate of a paragraph seen before
                duplicates += 1
            lsh.insert(f"{doc['id']}:{i}", m)

It is slow (one Python call per shingle per paragraph), so by default it runs on a prefix of the corpus
(`--prefix-mb`, whole lines up to that many 10^6 bytes) and its MB/s is measured on that prefix; the JSON says
so in `prefix_mb` and `bytes`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator


def read_records(path: str, prefix_bytes: int | None = None) -> Iterator[tuple[int, dict]]:
    """(bytes of the line, record) for each JSONL line, stopping after `prefix_bytes` if given."""
    seen = 0
    with open(path, "rb", buffering=16 << 20) as f:
        for line in f:
            if prefix_bytes is not None and seen >= prefix_bytes:
                return
            seen += len(line)
            if line.strip():
                yield len(line), json.loads(line)


def exact_floor(path: str, prefix_bytes: int | None = None) -> dict:
    from xxhash import xxh3_64_intdigest

    began = time.perf_counter()
    seen: set[int] = set()
    nbytes = docs = units = duplicates = 0
    for size, record in read_records(path, prefix_bytes):
        nbytes += size
        docs += 1
        for line in record["text"].split("\n"):
            norm = " ".join(line.lower().split())
            if not norm:
                continue
            units += 1
            h = xxh3_64_intdigest(norm.encode("utf-8"))
            if h in seen:
                duplicates += 1
            else:
                seen.add(h)
    seconds = time.perf_counter() - began
    return {"baseline": "exact", "bytes": nbytes, "documents": docs, "units": units, "duplicates": duplicates,
            "distinct": len(seen), "seconds": seconds, "mb_per_s": nbytes / 1e6 / seconds}


def datasketch_script(path: str, prefix_bytes: int | None = None, threshold: float = 0.8,
                      num_perm: int = 128) -> dict:
    from datasketch import MinHash, MinHashLSH

    began = time.perf_counter()
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    nbytes = docs = units = duplicates = 0
    for size, doc in read_records(path, prefix_bytes):
        nbytes += size
        docs += 1
        for i, para in enumerate(doc["text"].split("\n\n")):
            words = para.lower().split()
            if not words:
                continue
            units += 1
            m = MinHash(num_perm=num_perm)
            for shingle in {" ".join(words[j:j + 5]) for j in range(max(1, len(words) - 4))}:
                m.update(shingle.encode("utf-8"))
            if lsh.query(m):
                duplicates += 1
            lsh.insert(f"{doc['id']}:{i}", m)
    seconds = time.perf_counter() - began
    return {"baseline": "datasketch", "bytes": nbytes, "documents": docs, "units": units,
            "duplicates": duplicates, "seconds": seconds, "mb_per_s": nbytes / 1e6 / seconds,
            "threshold": threshold, "num_perm": num_perm}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Baselines for the dedupe performance harness.")
    parser.add_argument("baseline", choices=["exact", "datasketch"])
    parser.add_argument("corpus", help="JSONL file with a `text` field")
    parser.add_argument("--prefix-mb", type=float, default=None,
                        help="read only the first N MB (whole lines); default: all for exact, 5 for datasketch")
    args = parser.parse_args(argv)
    prefix_mb = args.prefix_mb
    if prefix_mb is None and args.baseline == "datasketch":
        prefix_mb = 5.0
    prefix_bytes = None if prefix_mb is None or prefix_mb <= 0 else int(prefix_mb * 1_000_000)
    run = exact_floor if args.baseline == "exact" else datasketch_script
    result = run(args.corpus, prefix_bytes)
    result["prefix_mb"] = prefix_mb if prefix_bytes is not None else None
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The sample corpora and their expected findings.

`python tests/samples.py` rewrites `corpus_samples/*/expected.json` from the
current engine; review the diff by eye (git diff) before committing it: the
tests compare every run against these files exactly.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "corpus_samples"
NAMES = sorted(p.name for p in SAMPLES.iterdir() if p.is_dir())
KEYS = ("doc_id", "start", "end", "category", "categories", "action", "cluster_id")


def findings_of(sample: str) -> list[dict]:
    """Run the default configuration on one sample and keep the fields the tests pin."""
    from dedupe import Config, run
    from dedupe.io import discover, read

    config = Config()
    result = run(read(discover([str(SAMPLES / sample)]), config), config)
    out = []
    for f in result.report.findings:
        row = {key: getattr(f, key) for key in KEYS}
        row["match_doc_id"] = f.match["doc_id"] if f.match else None
        row["text"] = f.text
        out.append(row)
    return out


def expected_path(sample: str) -> Path:
    return SAMPLES / sample / "expected.json"


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    for name in NAMES:
        expected_path(name).write_text(json.dumps({"findings": findings_of(name)}, ensure_ascii=False, indent=1) + "\n",
                                       encoding="utf-8")
        print(f"wrote {expected_path(name)}")

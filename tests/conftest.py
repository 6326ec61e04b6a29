"""Shared fixtures: small corpora written by the tests themselves."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "seeds"

WORDS = (
    "harbour council river bridge engineers closure funding village school market weather storm "
    "police station residents farmers orchard library museum ferry railway budget minister hospital "
    "election festival teacher inspectors divers cracks column traffic detour freight spokesman "
    "cooperative tourism winter summer morning evening decision report survey project repair "
    "building street square district region valley coast island "
).split()


def spy_on(monkeypatch, owner, name: str, record) -> None:
    """Replace `owner.name` by a wrapper that calls `record(args, result)` after each call."""
    real = getattr(owner, name)

    def wrapped(*args, **kwargs):
        result = real(*args, **kwargs)
        record(args, result)
        return result

    monkeypatch.setattr(owner, name, wrapped)


def cut_gzip_jsonl(path: Path, records: int = 2000) -> None:
    """A gzip JSONL file cut in the middle of its stream: reading it stops with an `unreadable_file` skip."""
    whole = gzip.compress("".join(json.dumps({"id": f"z{i}", "text": f"Late story {i} on the quay."}) + "\n"
                                  for i in range(records)).encode())
    path.write_bytes(whole[:len(whole) // 2])


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


@pytest.fixture(scope="session")
def generated_docs() -> list[dict]:
    """600 documents over 6 sources: shared chrome, link lines, captions, reprinted paragraphs."""
    return generate(600)


def generate(count: int, seed: int = 7) -> list[dict]:
    """`count` news-like documents over 6 sources (see generated_docs)."""
    rng = random.Random(seed)
    wire = [sentence(rng, 30) for _ in range(40)]
    docs = []
    for i in range(count):
        source = f"site{i % 6}"
        lines = [f"Menu for {source}", "Home", "World", f"By Reporter {rng.randint(1, 50)}"]
        caption = sentence(rng, 12)
        lines += [caption, caption]
        body = [sentence(rng, rng.randint(20, 40)) for _ in range(rng.randint(4, 8))]
        if i % 3 == 0:
            body.insert(1, rng.choice(wire))
        lines += body
        lines.append(f"Read more: {sentence(rng, 8)}")
        lines.append(f"Updated: March {rng.randint(1, 28)}, 2026, {rng.randint(1, 12)}:{rng.randint(10, 59)} PM")
        docs.append({"id": f"doc{i:04d}", "source": source, "date": f"2026-03-{1 + i % 28:02d}",
                     "text": "\n\n".join(lines) + "\n"})
    return docs

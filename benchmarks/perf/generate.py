"""Seeded generator of news-like JSONL corpora for the performance harness (issue 4).

    python benchmarks/perf/generate.py --mb 100 --seed 1 -o /tmp/corpus100.jsonl

Each line is one document: {"id", "source", "date", "title", "text"}. A document's text is 10-60 lines, one
paragraph per line with a blank line between paragraphs, made of:

- per-source boilerplate: a menu (3-8 lines) at the top and a footer (2-5 lines) at the bottom, shared by the
  documents of the same source (~50 sources, Zipf-sized so a few outlets dominate);
- the headline (the `title` field) as the first line after the menu;
- body paragraphs of Zipf-distributed pseudo-words (a ~50k word vocabulary made once from the seed);
- an image caption repeated 2-4 times within the document (in ~60% of documents);
- 1-3 `Read more: <random headline>` lines, and an `Updated: <date>` stamp in ~70% of documents;
- syndicated paragraphs: wire paragraphs reprinted by 2-6 documents of different sources, each copy with 0-15%
  of its words replaced;
- ~1% of documents are whole copies of an earlier document (new id, same text).

Sizes are in MB of 10^6 bytes of JSONL; generation stops at the first document that reaches the size.
Documents are made in chunks, each from its own seed (seed, chunk number), so for one seed a smaller corpus is
a byte prefix of a larger one, and the output is identical on every run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

VOCAB_SIZE = 50_000
ZIPF_S = 1.07
SOURCES = 50
CHUNK_DOCS = 2_000
ONSETS = ["b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z",
          "br", "ch", "cl", "dr", "fl", "gr", "kr", "pl", "pr", "sh", "st", "th", "tr", "", "", ""]
VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "ou", "io", "y"]
CODAS = ["", "", "", "", "n", "r", "s", "t", "l", "m", "nd", "st", "rk", "ng"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
MENU_WORDS = ["Home", "News", "World", "Business", "Sport", "Opinion", "Culture", "Science", "Tech", "Weather",
              "Local", "Politics", "Health", "Travel", "Video", "Podcasts", "Live", "Markets", "Life", "Style"]


class Vocabulary:
    """~50k distinct pseudo-words, shortest first (rank 1 is the most frequent), with a Zipf sampler."""

    def __init__(self, rng: np.random.Generator, size: int = VOCAB_SIZE, s: float = ZIPF_S) -> None:
        words: set[str] = set()
        while len(words) < size:
            n = size
            syllables = rng.choice([1, 2, 2, 3, 3, 4], size=n)
            parts = [rng.integers(0, len(table), size=(n, 4)) for table in (ONSETS, VOWELS, CODAS)]
            for i in range(n):
                k = syllables[i]
                word = "".join(ONSETS[parts[0][i, j]] + VOWELS[parts[1][i, j]] + CODAS[parts[2][i, j]]
                               for j in range(k))
                words.add(word)
        pool = sorted(words)
        # Frequent words are short, as in real text: rank by length plus noise.
        key = np.array([len(w) for w in pool], dtype=np.float64) + rng.normal(0, 1.5, size=len(pool))
        self.words = np.array([pool[i] for i in np.argsort(key, kind="stable")[:size]], dtype=object)
        self.capital = np.array([w.capitalize() for w in self.words], dtype=object)
        weights = 1.0 / np.arange(1, size + 1, dtype=np.float64) ** s
        self.cdf = np.cumsum(weights / weights.sum())
        self.cdf[-1] = 1.0

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """n word ranks drawn from the Zipf law."""
        return np.searchsorted(self.cdf, rng.random(n), side="right").astype(np.int32)

    def phrase(self, idx: np.ndarray, title: bool = False) -> str:
        if title:
            return " ".join(self.capital[idx].tolist())
        words = self.words[idx].tolist()
        if words:
            words[0] = words[0].capitalize()
        return " ".join(words)


def render_paragraphs(vocab: Vocabulary, rng: np.random.Generator, idx: np.ndarray, lengths: np.ndarray) -> list[str]:
    """Paragraph strings from one flat array of word ranks cut at `lengths`; sentences of 6-24 words."""
    n = len(idx)
    if n == 0:
        return []
    bounds = np.cumsum(lengths)
    para_start = np.zeros(n, dtype=bool)
    para_start[np.concatenate(([0], bounds[:-1]))] = True
    para_end = np.zeros(n, dtype=bool)
    para_end[bounds - 1] = True
    sentence_end = rng.random(n) < 1 / 15
    sentence_start = para_start.copy()
    sentence_start[1:] |= sentence_end[:-1]
    sentence_end |= para_end
    words = np.where(sentence_start, vocab.capital[idx], vocab.words[idx])
    seps = np.full(n, " ", dtype=object)
    seps[rng.random(n) < 0.06] = ", "
    seps[sentence_end] = ". "
    seps[para_end] = ".\n"
    out = np.empty(2 * n, dtype=object)
    out[0::2] = words
    out[1::2] = seps
    return "".join(out.tolist()).split("\n")[:-1]


def random_date(rng: np.random.Generator, day: int) -> tuple[str, str]:
    """An ISO date and an `Updated:` stamp for day number `day` since 2024-01-01."""
    date = np.datetime64("2024-01-01") + np.timedelta64(int(day), "D")
    iso = str(date)
    y, m, d = iso.split("-")
    hh, mm = int(rng.integers(0, 24)), int(rng.integers(0, 60))
    return iso, f"Updated: {int(d)} {MONTHS[int(m) - 1]} {y}, {hh:02d}:{mm:02d}"


class Generator:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        root = np.random.default_rng([seed, 0])
        self.vocab = Vocabulary(root)
        names = set()
        while len(names) < SOURCES:
            a, b = root.integers(0, 2000, size=2)
            names.add(f"{self.vocab.words[a]}-{self.vocab.words[b]}")
        self.sources = sorted(names)
        weights = 1.0 / np.arange(1, SOURCES + 1) ** 0.8
        self.source_p = weights / weights.sum()
        self.menus = []
        self.footers = []
        for name in self.sources:
            shown = name.replace("-", " ").title()
            menu_n = int(root.integers(3, 9))
            menu = [" | ".join(root.choice(MENU_WORDS, size=int(root.integers(3, 7)), replace=False).tolist())]
            menu += [self.vocab.phrase(self.vocab.sample(root, int(root.integers(1, 4))), title=True)
                     for _ in range(menu_n - 1)]
            footer = [f"© 2025 {shown}. All rights reserved.",
                      f"Follow {shown} on Facebook and X"]
            footer += [self.vocab.phrase(self.vocab.sample(root, int(root.integers(4, 12)))) + "."
                       for _ in range(int(root.integers(0, 4)))]
            self.menus.append(menu)
            self.footers.append(footer)

    def headline(self, rng: np.random.Generator) -> str:
        return self.vocab.phrase(self.vocab.sample(rng, int(rng.integers(5, 11))), title=True)

    def chunk(self, number: int) -> list[dict[str, str]]:
        """CHUNK_DOCS documents, a function of (seed, number) alone."""
        rng = np.random.default_rng([self.seed, 1, number])
        vocab = self.vocab
        n_docs = CHUNK_DOCS
        source = rng.choice(SOURCES, size=n_docs, p=self.source_p)
        total_lines = rng.integers(10, 61, size=n_docs)
        first_day = number * 3

        # Syndicated wire paragraphs: about one per two documents, each reprinted by 2-6 documents of
        # distinct sources, each copy with 0-15% of its words replaced.
        syndicated: list[list[str]] = [[] for _ in range(n_docs)]
        n_wire = n_docs // 2
        wire_len = rng.integers(25, 70, size=n_wire)
        wire_words = vocab.sample(rng, int(wire_len.sum()))
        wire_bounds = np.concatenate(([0], np.cumsum(wire_len)))
        copies_idx, copies_len, copies_doc = [], [], []
        for w in range(n_wire):
            want = int(rng.integers(2, 7))
            candidates = rng.choice(n_docs, size=want * 3, replace=False)
            chosen, seen = [], set()
            for d in candidates:
                if source[d] not in seen:
                    seen.add(source[d])
                    chosen.append(int(d))
                    if len(chosen) == want:
                        break
            words = wire_words[wire_bounds[w]:wire_bounds[w + 1]]
            for d in chosen:
                edited = words.copy()
                mask = rng.random(len(edited)) < rng.uniform(0, 0.15)
                edited[mask] = vocab.sample(rng, int(mask.sum()))
                copies_idx.append(edited)
                copies_len.append(len(edited))
                copies_doc.append(d)
        if copies_idx:
            rendered = render_paragraphs(vocab, rng, np.concatenate(copies_idx), np.array(copies_len))
            for d, text in zip(copies_doc, rendered):
                syndicated[d].append(text)

        # Structure of each document: fixed parts, then body paragraphs to reach its line count.
        has_caption = rng.random(n_docs) < 0.6
        caption_reps = rng.integers(2, 5, size=n_docs)
        read_more = rng.integers(1, 4, size=n_docs)
        has_updated = rng.random(n_docs) < 0.7
        fixed = np.array([len(self.menus[s]) + len(self.footers[s]) for s in source])
        fixed += 1 + has_caption * caption_reps + read_more + has_updated
        fixed += np.array([len(x) for x in syndicated])
        body_n = np.maximum(total_lines - fixed, 2)
        body_len = rng.integers(15, 90, size=int(body_n.sum()))
        body = render_paragraphs(vocab, rng, vocab.sample(rng, int(body_len.sum())), body_len)
        cap_len = rng.integers(6, 16, size=n_docs)
        captions = render_paragraphs(vocab, rng, vocab.sample(rng, int(cap_len.sum())), cap_len)
        photographers = vocab.capital[vocab.sample(rng, 2 * n_docs)].reshape(n_docs, 2)

        docs: list[dict[str, str]] = []
        cursor = 0
        for d in range(n_docs):
            s = int(source[d])
            title = self.headline(rng)
            paragraphs = body[cursor:cursor + int(body_n[d])]
            cursor += int(body_n[d])
            inserts = list(syndicated[d])
            inserts += [f"Read more: {self.headline(rng)}" for _ in range(int(read_more[d]))]
            for text in inserts:
                paragraphs.insert(int(rng.integers(1, len(paragraphs) + 1)), text)
            if has_caption[d]:
                caption = f"{captions[d]} (Photo: {photographers[d, 0]} {photographers[d, 1]}/{self.sources[s]})"
                for _ in range(int(caption_reps[d])):
                    paragraphs.insert(int(rng.integers(0, len(paragraphs) + 1)), caption)
            day = first_day + int(rng.integers(0, 5))
            date, stamp = random_date(rng, day)
            head = self.menus[s] + [title] + ([stamp] if has_updated[d] else [])
            lines = head + paragraphs + self.footers[s]
            doc_id = f"{self.sources[s]}-{number:05d}-{d:04d}"
            docs.append({"id": doc_id, "source": self.sources[s], "date": date, "title": title,
                         "text": "\n\n".join(lines)})

        # ~1% whole-document duplicates: a later document takes the text of an earlier one.
        dup = np.flatnonzero(rng.random(n_docs) < 0.01)
        for d in dup:
            if d == 0:
                continue
            original = docs[int(rng.integers(0, d))]
            docs[d] = {**docs[d], "source": original["source"], "title": original["title"],
                       "text": original["text"]}
        return docs


def generate(mb: float, seed: int, out: Path) -> dict[str, float]:
    """Write a corpus of at least `mb` * 10^6 bytes (stopping at the document that reaches it)."""
    target = int(mb * 1_000_000)
    began = time.perf_counter()
    gen = Generator(seed)
    written = docs = 0
    tmp = out.with_name(out.name + ".part")
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(tmp, "wb") as f:
        number = 0
        while written < target:
            buf = []
            for doc in gen.chunk(number):
                line = (json.dumps(doc, ensure_ascii=False) + "\n").encode("utf-8")
                buf.append(line)
                written += len(line)
                docs += 1
                if written >= target:
                    break
            f.write(b"".join(buf))
            number += 1
    tmp.replace(out)
    return {"bytes": written, "documents": docs, "seconds": time.perf_counter() - began}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, required=True, help="size in MB (10^6 bytes of JSONL)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args(argv)
    stats = generate(args.mb, args.seed, args.output)
    print(f"{args.output}: {stats['documents']:,} documents, {stats['bytes'] / 1e6:,.1f} MB "
          f"in {stats['seconds']:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

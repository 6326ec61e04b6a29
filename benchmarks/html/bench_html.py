"""How big the HTML report gets, and how long Chromium takes to open it, for a 100,000-document corpus.

    .venv/bin/python benchmarks/html/bench_html.py [--docs 100000] [--seed 1] [--caps 200:100,2000:1000] [--out DIR]

The corpus is synthetic and seeded (so every run measures the same thing):
50 sources of unequal size, each with its own chrome (site name, menu, footer),
bylines, `Updated:` stamps, `Read more:` links, captions printed twice, wire
paragraphs reprinted with small edits across sources, and 1% of documents
scraped twice. For each pair of caps (`--html-max-docs:--html-max-clusters`)
it prints the time of the rendering, the HTML file's size, and Chromium's load
time, both as the wall time of
`chromium --headless --dump-dom` (browser start included) and from navigation
to the load event over the DevTools protocol.
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import chromium  # noqa: E402  (tests/chromium.py: the DevTools-over-pipe driver)

from dedupe import Config, run  # noqa: E402
from dedupe.html import DEFAULT_MAX_CLUSTERS, DEFAULT_MAX_DOCS, render_html  # noqa: E402
from dedupe.io import write_text  # noqa: E402

FIRST = ["Anna", "Ben", "Carla", "Dev", "Elif", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kemi", "Lena"]
LAST = ["Okafor", "Marsh", "Quenby", "Lindqvist", "Haddad", "Moreau", "Tanaka", "Novak", "Reyes", "Byrne"]


def vocabulary(rng: random.Random, size: int = 3000) -> list[str]:
    """Pronounceable made-up words, so no text is copied from anywhere."""
    syllables = [c + v for c in "bcdfghklmnprstvz" for v in "aeiou"]
    words = {"".join(rng.choice(syllables) for _ in range(rng.randint(1, 3))) for _ in range(size * 2)}
    return sorted(words)[:size]


def sentence(rng: random.Random, words: list[str], n: int) -> str:
    return " ".join(rng.choice(words) for _ in range(n)).capitalize() + "."


def corpus(n: int, seed: int) -> list[dict[str, str]]:
    """`n` news-like documents with every kind of repetition dedupe looks for."""
    rng = random.Random(seed)
    words = vocabulary(rng)
    sources = [f"site{k:02d}" for k in range(50)]
    weights = [1 / (k + 1) for k in range(50)]
    chrome = {s: [f"The {s.capitalize()} Chronicle", "Home | World | Business | Sport",
                  sentence(rng, words, 6), f"© 2026 {s.capitalize()} Media. All rights reserved."] for s in sources}
    wire = [" ".join(sentence(rng, words, rng.randint(12, 20)) for _ in range(2)) for _ in range(3000)]
    headlines: list[str] = []
    docs: list[dict[str, str]] = []
    for i in range(n):
        if docs and rng.random() < 0.01:  # scraped twice: same page, a new stamp
            again = dict(rng.choice(docs[-500:]))
            again["id"] = f"{again['id']}-again-{i}"
            again["text"] = again["text"].replace("Updated:", "Updated: 1 hour ago |", 1)
            docs.append(again)
            continue
        source = rng.choices(sources, weights)[0]
        site = chrome[source]
        headline = sentence(rng, words, rng.randint(6, 11))[:-1]
        lines = [site[0], site[1], headline, f"By {rng.choice(FIRST)} {rng.choice(LAST)}",
                 f"Updated: March {rng.randint(1, 28)}, 2026, {rng.randint(1, 12)}:{rng.randint(10, 59)} PM"]
        body = [sentence(rng, words, rng.randint(15, 30)) for _ in range(rng.randint(3, 5))]
        if rng.random() < 0.3:
            caption = sentence(rng, words, 8) + " Picture: Staff"
            body[:0] = [caption, caption]
        if rng.random() < 0.25:
            copy = rng.choice(wire).split(" ")
            for _ in range(rng.randint(0, 2)):
                copy[rng.randrange(len(copy))] = rng.choice(words)
            body.insert(rng.randint(0, len(body)), " ".join(copy))
        if headlines:
            body.append(f"Read more: {rng.choice(headlines[-2000:])}")
        lines += body + [site[2], site[3]]
        headlines.append(headline)
        docs.append({"id": f"{source}-{i:06d}", "source": source, "date": f"2026-03-{1 + i % 28:02d}",
                     "title": headline, "text": "\n".join(lines) + "\n"})
    return docs


def dump_dom_seconds(executable: str, page: Path, profile: str) -> float:
    """Wall time of `chromium --headless --dump-dom` on the page (browser start included)."""
    began = time.perf_counter()
    subprocess.run([executable, *[f for f in chromium.FLAGS if f != "--remote-debugging-pipe"],
                    f"--user-data-dir={profile}", "--dump-dom", page.resolve().as_uri()],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=300)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--caps", default=f"{DEFAULT_MAX_DOCS}:{DEFAULT_MAX_CLUSTERS},2000:1000",
                        help="Comma-separated MAX_DOCS:MAX_CLUSTERS pairs to render (default: the defaults, and 10x).")
    parser.add_argument("--out", type=Path, help="Folder for report.html (default: a new temporary folder).")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="dedupe-bench-html-"))
    out.mkdir(parents=True, exist_ok=True)

    began = time.perf_counter()
    docs = corpus(args.docs, args.seed)
    print(f"corpus: {len(docs):,} documents, {sum(len(d['text']) for d in docs):,} characters "
          f"(generated in {time.perf_counter() - began:.1f} s)")
    began = time.perf_counter()
    result = run(docs, Config())
    s = result.report.summary
    print(f"dedupe run: {time.perf_counter() - began:.1f} s, {s['units']:,} units, {len(result.report.findings):,} "
          f"findings, {len(result.report.clusters):,} clusters, duplicated share {s['duplicated_share']:.2%}")
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20:.2f} GiB")
    documents = [c.document for c in result.documents]
    executable = chromium.find()
    if executable is None:
        print("chromium is not installed: no load times (apt-get install chromium)")
    for caps in args.caps.split(","):
        max_docs, max_clusters = (int(x) for x in caps.split(":"))
        began = time.perf_counter()
        page = render_html(result.report, documents, max_docs, max_clusters)
        rendered = time.perf_counter() - began
        target = out / f"report-{max_docs}-{max_clusters}.html"
        write_text(target, page)
        size = target.stat().st_size
        print(f"\n--html-max-docs {max_docs} --html-max-clusters {max_clusters}: rendered in {rendered:.1f} s; "
              f"{target}: {size:,} bytes ({size / 2 ** 20:.2f} MiB)")
        if executable is not None:
            load(executable, target)


def load(executable: str, target: Path) -> None:
    """Print how long Chromium takes to open the page, and what it requested."""
    with tempfile.TemporaryDirectory() as profile:
        walls = [dump_dom_seconds(executable, target, profile) for _ in range(3)]
    print(f"chromium --headless --dump-dom wall time: best {min(walls):.2f} s of {len(walls)} "
          f"({', '.join(f'{w:.2f}' for w in walls)})")
    with chromium.Browser(executable) as browser:
        wall = browser.load(target)
        timing = browser.evaluate("(() => { const t = performance.getEntriesByType('navigation')[0];"
                                  " return [t.domContentLoadedEventEnd, t.loadEventEnd]; })()")
        elements = browser.evaluate("document.getElementsByTagName('*').length")
        requests = browser.requests()
    print(f"chromium load over DevTools: {wall:.2f} s wall, DOMContentLoaded {timing[0]:.0f} ms, load event "
          f"{timing[1]:.0f} ms after navigation start; {elements:,} elements; {len(requests)} request(s): "
          f"{requests}")


if __name__ == "__main__":
    main()

"""A seeded synthetic news corpus with gold labels for every line, and dedupe's score on it.

Usage:
    python benchmarks/quality/synthetic.py [--seed 1] [--seeds 3] [--corpora ../shared/corpora]
        [--config dedupe.toml] [--set KEY=VALUE ...] [--with-title] [--json out.json] [--write-corpus out.jsonl]

The prose is real: BBC News articles (own reporting) and Reuters-21578 stories (wire copy), read at run time
from the shared corpora and never stored in this repository. Around it the generator builds, per outlet, the
lines a scraper keeps, each with the label SPEC gives it:

- boilerplate: outlet chrome on every page (name, menus, sign-in, footer links, an "About us" paragraph of
  >= 20 words); teaser lines under "Top stories"/"Most read" (other articles' headlines, varying from page to
  page);
- template: section headers, `Read more:`/`Related:` link lines, bylines, `Published`/`Updated` stamps, date
  lines, share prompts, copyright lines;
- repeat: captions printed 2-3 times in a page with credit variants (`Photo: ...`, none, `(Picture: ...)`) and
  photo galleries printed as bullet + indented copy: the first copy is content, the later ones repeat;
- syndicated: wire paragraphs (>= 20 words) reprinted by 2-6 outlets with 0-15% word edits (substitutions,
  deletions, insertions): the earliest print is content, the others syndicated;
- duplicate_document: documents scraped twice (later date, new stamp and teasers): the later one;
- content: the article's own headline (teased on other pages), body paragraphs, captions' first copies.

Reprints keep the wire headline; each print also carries paragraphs of its own (the story's paragraphs that the
others did not print, else other wire prose), so that a reprint is not a duplicate document: its wire paragraphs
are at most 60% of its content characters.

Scores (characters unless said otherwise):
- recall per gold category, and overall: the share of what should be removed that was removed (duplicate
  documents count with all their characters);
- precision per category dedupe reported: the share of what it removed under that category that should be
  removed; the confusion of gold labels and dedupe's categories;
- syndicated recall per edit-rate band (0-5, 5-10, 10-15% of words edited relative to the earliest print);
- duplicate documents: recall and precision over documents;
- unique content wrongly removed: body paragraphs, first copies of captions, and headlines that no other page
  prints (as a teaser or as a reprint's headline): lines that occur once in the corpus;
- own headlines kept: the articles whose headline is teased on other pages and still stands in their own page.
"""

from __future__ import annotations

import argparse
import bisect
import gzip
import json
import random
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import regex
from run_dedupe import clean_findings

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CORPORA = ROOT.parent / "shared" / "corpora"
REMOVE = ("boilerplate", "template", "repeat", "syndicated", "duplicate_document")
BANDS = ((0.0, 0.05), (0.05, 0.10), (0.10, 0.1501))
_NORM = regex.compile(r"[\p{P}\p{S}\s]+")

# Everything below that is not drawn from the corpora is invented for this benchmark.
OUTLETS = [
    ("The Northern Post", "the northern counties"), ("Valley Herald", "the river valley"),
    ("Metro Daily", "the metropolitan area"), ("The Coastal Ledger", "the coast"),
    ("Harbour Times", "the harbour towns"), ("The Midland Courier", "the Midlands"),
    ("Riverside Gazette", "Riverside and its suburbs"), ("Eastgate Chronicle", "the eastern districts"),
    ("The Summit Observer", "the hill country"), ("Lakeshore Tribune", "the lake shore"),
]
SECTIONS = ["Home", "News", "World", "Business", "Politics", "Sport", "Tech", "Science", "Health", "Culture",
            "Opinion", "Weather", "Travel", "Video", "Podcasts", "Local", "Money", "Education", "Arts", "Obituaries"]
FIRST = ["Mairead", "Harriet", "Declan", "Samira", "Tomas", "Ines", "Oluwaseun", "Priya", "Jonas", "Leila",
         "Marek", "Aiko", "Rafael", "Greta", "Callum", "Noor", "Bettina", "Kwame", "Sofia", "Dmitri"]
LAST = ["Collander", "Quenby", "Orrey", "Lockhart", "Ardrey", "Haldane", "Adeyemi", "Raman", "Falk", "Nasser",
        "Novak", "Tanaka", "Quintero", "Lindqvist", "Munro", "Haddad", "Richter", "Mensah", "Ferreira", "Volkov"]
AGENCIES = ["Reuters", "AP", "Getty Images", "PA", "AFP", "EPA"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
ABOUT = [
    "{name} is an independent newsroom covering {region}, funded by its readers and owned by a charitable trust "
    "that guarantees its editorial freedom.",
    "Founded more than a century ago, {name} reports on {region} every day; our journalists follow the editors' "
    "code and we correct our mistakes in public.",
    "{name} brings you news, analysis and opinion from {region} and beyond, with local reporters in every town "
    "we cover and a newsroom open to your tips.",
]


def norm(text: str) -> str:
    return _NORM.sub(" ", text.casefold()).strip()


@dataclass
class Line:
    text: str
    gold: str  # content or one of REMOVE
    kind: str  # chrome, teaser, rule, caption, body, wire, headline, about ...
    unique: bool = False
    edit: float | None = None  # wire reprints: share of words edited relative to the earliest print
    headline: bool = False


@dataclass
class Doc:
    id: str
    source: str
    date: str
    title: str
    lines: list[Line] = field(default_factory=list)
    dup_of: str | None = None
    story: str | None = None  # key of the headline teased elsewhere


# ---------------------------------------------------------------- real prose, read at run time


def _read(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def _reuters_paragraphs(text: str) -> list[str]:
    paragraphs = regex.split(r"\n\s{2,}", text.strip())
    out = []
    for p in paragraphs:
        if regex.search(r"\S {3,}\S", p) or regex.search(r"\d\s+\d+\s+\d", p):
            continue  # a table
        p = regex.sub(r"\s+Reuter$", "", " ".join(p.split()))
        if p not in ("Reuter", "REUTER"):
            out.append(p)
    return out


def load_prose(corpora: Path) -> tuple[list[dict], list[dict]]:
    """(own articles from BBC, wire stories from Reuters), each {title, paragraphs}.

    Both collections hold duplicates and re-sent, edited versions of a story. An article whose title or
    opening repeats an earlier one is skipped, and so is any paragraph that shares a fifth or more of its
    word 5-grams with a paragraph kept before, so that the only duplication in the corpus is the planted one.
    """
    seen_grams: set[tuple[str, ...]] = set()
    seen_heads: set[str] = set()

    def grams(text: str) -> set[tuple[str, ...]]:
        words = norm(text).split()
        return {tuple(words[i:i + 5]) for i in range(max(1, len(words) - 4))}

    def keep(title: str, paragraphs: list[str], min_words: int) -> dict | None:
        head = norm(" ".join(paragraphs))[:150]
        if not title or head in seen_heads or norm(title) in seen_heads:
            return None
        good = []
        for p in paragraphs:
            g = grams(p)
            if (len(norm(p).split()) >= min_words and regex.search(r"\p{L}{3}", p)
                    and len(g & seen_grams) < 0.2 * len(g)):
                good.append(p)
        if len(good) < 4:
            return None
        seen_heads.update((head, norm(title)))
        for p in good:
            seen_grams.update(grams(p))
        return {"title": title, "paragraphs": good}

    own = []
    for r in _read(corpora / "bbc-news-fulltext" / "bbc-news-fulltext.jsonl.gz"):
        article = keep(r["title"].strip(), [p.strip() for p in r["text"].split("\n\n") if p.strip()], 8)
        if article:
            own.append(article)
    wire = []
    for r in _read(corpora / "reuters21578" / "reuters21578.jsonl.gz"):
        if r.get("text_type") != "NORM" or not r.get("title") or len(r["text"]) < 1200:
            continue
        title = r["title"].strip().capitalize()
        article = keep(title, _reuters_paragraphs(r["text"]), 20)
        if article:
            wire.append(article)
    return own, wire


# ---------------------------------------------------------------- the generator


def edit_words(text: str, rate: float, vocab: list[str], rng: random.Random) -> tuple[str, float]:
    """Apply round(rate * words) word edits (substitute, delete, insert); return the text and the edit share."""
    words = text.split()
    k = round(rate * len(words))
    for _ in range(k):
        op = rng.random()
        i = rng.randrange(len(words))
        if op < 0.5:
            words[i] = rng.choice(vocab)
        elif op < 0.75 and len(words) > 5:
            del words[i]
        else:
            words.insert(i, rng.choice(vocab))
    return " ".join(words), k / len(text.split())


class Generator:
    def __init__(self, own: list[dict], wire: list[dict], seed: int, outlets: int, own_per_outlet: int,
                 wire_stories: int, rescrape_share: float) -> None:
        self.rng = random.Random(seed)
        drawn = self.rng.sample(own, min(len(own), outlets * own_per_outlet + 300))
        self.own = drawn[:outlets * own_per_outlet]
        self.spare = drawn[outlets * own_per_outlet:]  # prose for captions
        drawn = self.rng.sample(wire, min(len(wire), wire_stories + 400))
        self.wire = drawn[:wire_stories]
        self.spare_wire = drawn[wire_stories:]  # the reprinting outlets' own paragraphs
        self.outlets = [self._outlet(i) for i in range(outlets)]
        self.own_per_outlet = own_per_outlet
        self.wire_stories = wire_stories
        self.rescrape_share = rescrape_share
        self.vocab = sorted({w for a in self.own[:50] for p in a["paragraphs"] for w in p.split() if w.isalpha()})
        self.day = 0
        self.sentences: list[str] = []

    def _outlet(self, i: int) -> dict:
        name, region = OUTLETS[i % len(OUTLETS)]
        if i >= len(OUTLETS):
            name = f"{name} {i // len(OUTLETS) + 1}"
        rng = self.rng
        return {
            "name": name, "slug": regex.sub(r"\W+", "-", name.lower()).strip("-"),
            "nav": rng.sample(SECTIONS, rng.randint(6, 10)),
            "about": ABOUT[i % len(ABOUT)].format(name=name, region=region),
            "top_stories": i % 3 == 0,  # teasers above the headline on a third of the outlets
            "reporters": [f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(6)],
        }

    def _sentence(self) -> str:
        """A caption: one real sentence of 10-30 words from prose not used elsewhere."""
        while not self.sentences:
            article = self.spare.pop()
            self.sentences = [s.rstrip(".") + "." for p in article["paragraphs"]
                              for s in regex.split(r"(?<=[.!?])\s+", p) if 10 <= len(s.split()) <= 30]
        return self.sentences.pop()

    def _date(self) -> tuple[str, str]:
        self.day += 1
        minute = self.day * 7
        stamp_day = 1 + (self.day // 24) % 28
        month = MONTHS[(self.day // (24 * 28)) % 12]
        return (f"2026-{1 + (self.day // (24 * 28)) % 12:02d}-{stamp_day:02d}T{(minute // 60) % 24:02d}:"
                f"{minute % 60:02d}", f"{stamp_day} {month} 2026, {(minute // 60) % 24:02d}:{minute % 60:02d}")

    def corpus(self) -> list[Doc]:
        rng = self.rng
        docs: list[Doc] = []
        headlines: dict[str, tuple[str, int]] = {}  # story key -> (headline, outlet)
        plans: list[tuple[int, str, dict | None]] = []
        for o in range(len(self.outlets)):
            for _ in range(self.own_per_outlet):
                article = self.own.pop()
                key = f"own-{len(plans)}"
                headlines[key] = (article["title"], o)
                plans.append((o, key, {"own": article}))
        for s in range(self.wire_stories):
            story = self.wire[s]
            printers = rng.sample(range(len(self.outlets)), rng.randint(2, min(6, len(self.outlets))))
            paragraphs = story["paragraphs"][:rng.randint(3, 6)]
            rest = story["paragraphs"][len(paragraphs):]  # each printer's own paragraphs, while they last
            for rank, o in enumerate(printers):
                key = f"wire-{s}-{rank}"
                headlines[key] = (story["title"], o)  # reprints keep the wire headline
                plans.append((o, key, {"wire": paragraphs, "rank": rank, "story": s,
                                        "own": rest[rank::len(printers)]}))
        # Print order: wire stories' earliest print first, the rest shuffled; dates follow print order.
        rng.shuffle(plans)
        plans.sort(key=lambda p: 0 if p[2].get("rank", 1) == 0 else 1)
        by_outlet: dict[int, list[str]] = defaultdict(list)
        for o, key, _ in plans:
            by_outlet[o].append(key)
        for o, key, plan in plans:
            docs.append(self._article(o, key, plan, headlines, by_outlet[o]))
        for doc in rng.sample(docs, round(self.rescrape_share * len(docs))):
            docs.append(self._rescrape(doc, headlines, by_outlet))
        return docs

    def _teasers(self, o: int, key: str, headlines: dict, pool: list[str], n: int) -> list[Line]:
        rng = self.rng
        chosen = rng.sample([k for k in pool if k != key], n)
        return [Line(headlines[k][0], "boilerplate", "teaser") for k in chosen]

    def _article(self, o: int, key: str, plan: dict, headlines: dict, pool: list[str]) -> Doc:
        rng = self.rng
        outlet = self.outlets[o]
        date, stamp = self._date()
        doc = Doc(f"{outlet['slug']}-{len(pool)}-{key}", outlet["name"], date, headlines[key][0], story=key)
        add = doc.lines.append
        add(Line(outlet["name"], "boilerplate", "chrome"))
        add(Line("Skip to content", "template", "rule"))
        for section in outlet["nav"]:
            add(Line(section, "boilerplate", "chrome"))
        add(Line("Sign in", "boilerplate", "chrome"))
        if outlet["top_stories"]:
            add(Line("Top stories", "template", "rule"))
            doc.lines += self._teasers(o, key, headlines, pool, 3)
        add(Line(headlines[key][0], "content", "headline", headline=True))
        reporter = rng.choice(outlet["reporters"])
        add(Line(f"By {reporter}" if rng.random() < 0.7 else f"By {reporter}, {outlet['name']}", "template", "rule"))
        add(Line(rng.choice([f"Published: {stamp}", f"Updated: {stamp}", stamp.split(",")[0]]), "template", "rule"))
        if rng.random() < 0.6:
            caption = self._sentence()
            credit = f"{rng.choice(FIRST)} {rng.choice(LAST)}/{rng.choice(AGENCIES)}"
            variants = [f"{caption} Photo: {credit}", caption, f"{caption} (Picture: {rng.choice(AGENCIES)})"]
            for i, text in enumerate(variants[:rng.randint(2, 3)]):
                add(Line(text, "content" if i == 0 else "repeat", "caption", unique=i == 0))
        body = self._body(plan)
        read_more_at = rng.randrange(1, len(body)) if len(body) > 2 else None
        for i, line in enumerate(body):
            if i == read_more_at:
                other = rng.choice([k for k in pool if k != key])
                add(Line(f"{rng.choice(['Read more', 'Related', 'See also'])}: {headlines[other][0]}", "template",
                         "rule"))
            add(line)
        if rng.random() < 0.2:
            for _ in range(rng.randint(3, 5)):
                caption = f"{self._sentence()} {rng.choice(AGENCIES)}"
                add(Line(f"  • {caption}", "content", "gallery", unique=True))
                add(Line(f"    {caption}", "repeat", "gallery"))
        add(Line("Most read", "template", "rule"))
        doc.lines += self._teasers(o, key, headlines, pool, 4)
        add(Line(outlet["about"], "boilerplate", "about"))
        for text in ("About us", "Contact the newsroom", "Privacy policy", "Terms of use"):
            add(Line(text, "boilerplate", "chrome"))
        add(Line("Follow us on Facebook", "template", "rule"))
        add(Line(f"© 2026 {outlet['name']}. All rights reserved.", "template", "rule"))
        return doc

    def _body(self, plan: dict) -> list[Line]:
        rng = self.rng
        if "wire" not in plan:
            paragraphs = plan["own"]["paragraphs"][:rng.randint(5, 12)]
            return [Line(p, "content", "body", unique=True) for p in paragraphs]
        wire_lines = []
        for p in plan["wire"]:
            if plan["rank"] == 0:
                wire_lines.append(Line(p, "content", "wire", edit=0.0))
            else:
                band = rng.randrange(3)
                low, high = BANDS[band]
                text, share = edit_words(p, rng.uniform(low, min(high, 0.15)), self.vocab, rng)
                wire_lines.append(Line(text, "syndicated", "wire", edit=share))
        own_lines = [Line(p, "content", "body", unique=True) for p in plan["own"]]
        wire_chars = sum(len(x.text) for x in wire_lines)
        while sum(len(x.text) for x in own_lines) < 0.7 * wire_chars:
            article = self.spare_wire.pop() if self.spare_wire else self.spare.pop()
            own_lines += [Line(p, "content", "body", unique=True) for p in article["paragraphs"][:3]]
        cut = rng.randint(1, len(own_lines))
        return own_lines[:cut] + wire_lines + own_lines[cut:]

    def _rescrape(self, doc: Doc, headlines: dict, by_outlet: dict) -> Doc:
        """The same page scraped again later: new id and date, new stamp, a new teaser list."""
        date, stamp = self._date()
        copy = Doc(f"{doc.id}-r2", doc.source, date, doc.title, dup_of=doc.id)
        o = next(i for i, x in enumerate(self.outlets) if x["name"] == doc.source)
        in_most_read = False
        teasers = iter(self._teasers(o, doc.story, headlines, by_outlet[o], 4))
        for line in doc.lines:
            if line.text == "Most read":
                in_most_read = True
            elif in_most_read and line.kind == "teaser":
                line = next(teasers)
            elif line.kind == "rule" and (line.text.startswith(("Published", "Updated"))
                                          or regex.match(r"\d", line.text)):
                line = Line(f"Updated: {stamp}", "template", "rule")
            copy.lines.append(Line(line.text, "duplicate_document", line.kind, headline=line.headline))
        return copy


# ---------------------------------------------------------------- running and scoring


def run_dedupe(docs: list[Doc], config: str | None, overrides: list[str], with_title: bool, workdir: Path
               ) -> list[dict]:
    source = workdir / "synthetic.jsonl"
    with open(source, "w", encoding="utf-8") as handle:
        for doc in docs:
            record = {"id": doc.id, "source": doc.source, "date": doc.date,
                      "text": "\n".join(x.text for x in doc.lines)}
            if with_title:
                record["title"] = doc.title
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return clean_findings(source, workdir, [], config, overrides)


def removed_lines(docs: list[Doc], findings: list[dict]) -> tuple[list[list[str | None]], set[str]]:
    index = {doc.id: i for i, doc in enumerate(docs)}
    starts = []
    for doc in docs:
        pos, offsets = 0, []
        for line in doc.lines:
            offsets.append(pos)
            pos += len(line.text) + 1
        starts.append(offsets)
    removed: list[list[str | None]] = [[None] * len(doc.lines) for doc in docs]
    dropped = set()
    for f in findings:
        d = index[f["doc_id"]]
        if f["action"] == "dropped":
            removed[d] = ["duplicate_document"] * len(docs[d].lines)
            dropped.add(f["doc_id"])
        elif f["action"] == "removed":
            removed[d][bisect.bisect_right(starts[d], f["start"]) - 1] = f["category"]
    return removed, dropped


def score(docs: list[Doc], removed: list[list[str | None]], dropped: set[str]) -> dict:
    gold_chars: Counter = Counter()
    gold_removed: Counter = Counter()
    by_dedupe: Counter = Counter()
    by_dedupe_right: Counter = Counter()
    confusion: dict[str, Counter] = defaultdict(Counter)
    band_total: Counter = Counter()
    band_found: Counter = Counter()
    unique = unique_lost = content = content_lost = 0
    teased = {doc.title for doc in docs for line in doc.lines if line.kind == "teaser"}
    printed = Counter(line.text for doc in docs if not doc.dup_of for line in doc.lines if line.headline)
    heads = heads_kept = 0
    for doc, rem in zip(docs, removed):
        for line, r in zip(doc.lines, rem):
            n = len(line.text)
            should = line.gold != "content"
            gold_chars[line.gold] += n
            gold_removed[line.gold] += n * (r is not None)
            confusion[line.gold][r or "kept"] += n
            if r is not None:
                by_dedupe[r] += n
                by_dedupe_right[r] += n * should
            if line.gold == "content":
                content += n
                content_lost += n * (r is not None)
                if line.unique or (line.headline and line.text not in teased and printed[line.text] == 1):
                    unique += n
                    unique_lost += n * (r is not None)
            if line.kind == "wire" and line.gold == "syndicated":
                for b, (low, high) in enumerate(BANDS):
                    if low <= line.edit < high:
                        band_total[b] += 1
                        band_found[b] += r is not None
            if line.headline and line.gold == "content" and doc.title in teased:
                heads += 1
                heads_kept += r is None
    should_chars = sum(v for k, v in gold_chars.items() if k != "content")
    should_removed = sum(v for k, v in gold_removed.items() if k != "content")
    line_level = [k for k in REMOVE if k != "duplicate_document"]
    gold_dups = {doc.id for doc in docs if doc.dup_of}
    pct = lambda a, b: round(100 * a / b, 2) if b else None  # noqa: E731
    return {
        "documents": len(docs),
        "lines": sum(len(d.lines) for d in docs),
        "overall_recall": pct(should_removed, should_chars),
        "overall_recall_lines_only": pct(sum(gold_removed[k] for k in line_level),
                                         sum(gold_chars[k] for k in line_level)),
        "recall": {k: pct(gold_removed[k], gold_chars[k]) for k in REMOVE},
        "precision": {k: pct(by_dedupe_right[k], by_dedupe[k]) for k in sorted(by_dedupe)},
        "overall_precision": pct(sum(by_dedupe_right.values()), sum(by_dedupe.values())),
        "syndicated_recall_by_edit": {f"{int(100 * low)}-{min(15, int(100 * high))}%": pct(band_found[b], band_total[b])
                                      for b, (low, high) in enumerate(BANDS)},
        "syndicated_paragraphs_by_edit": {f"{int(100 * low)}-{min(15, int(100 * high))}%": band_total[b]
                                          for b, (low, high) in enumerate(BANDS)},
        "duplicate_documents": {"gold": len(gold_dups), "dropped": len(dropped),
                                "recall": pct(len(gold_dups & dropped), len(gold_dups)),
                                "precision": pct(len(gold_dups & dropped), len(dropped))},
        "content_removed": pct(content_lost, content),
        "unique_content_removed": pct(unique_lost, unique),
        "own_headlines_kept": {"teased_headlines": heads, "kept": heads_kept, "kept_pct": pct(heads_kept, heads)},
        "confusion_chars": {k: dict(v) for k, v in confusion.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpora", default=str(DEFAULT_CORPORA))
    parser.add_argument("--seed", type=int, default=1, help="first seed")
    parser.add_argument("--seeds", type=int, default=1, help="number of corpora (seeds seed, seed+1, ...)")
    parser.add_argument("--outlets", type=int, default=10)
    parser.add_argument("--articles", type=int, default=30, help="own articles per outlet")
    parser.add_argument("--wire-stories", type=int, default=60)
    parser.add_argument("--rescrape", type=float, default=0.05, help="share of documents scraped twice")
    parser.add_argument("--with-title", action="store_true", help="give dedupe each document's title field")
    parser.add_argument("--config")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--json")
    parser.add_argument("--write-corpus", help="also write the generated corpus with its gold labels (JSONL)")
    args = parser.parse_args()
    prose = load_prose(Path(args.corpora))
    runs = []
    for seed in range(args.seed, args.seed + args.seeds):
        docs = Generator(*prose, seed, args.outlets, args.articles, args.wire_stories, args.rescrape).corpus()
        if args.write_corpus:
            with open(args.write_corpus, "w", encoding="utf-8") as handle:
                for doc in docs:
                    handle.write(json.dumps({"id": doc.id, "source": doc.source, "date": doc.date, "title": doc.title,
                                             "dup_of": doc.dup_of, "lines": [vars(x) for x in doc.lines]},
                                            ensure_ascii=False) + "\n")
        with tempfile.TemporaryDirectory() as tmp:
            findings = run_dedupe(docs, args.config, args.overrides, args.with_title, Path(tmp))
        result = score(docs, *removed_lines(docs, findings))
        result["seed"] = seed
        runs.append(result)
        print_result(result)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"command": " ".join(sys.argv), "runs": runs}, indent=1) + "\n",
                                   encoding="utf-8")


def print_result(r: dict) -> None:
    print(f"seed {r['seed']}: {r['documents']} documents, {r['lines']} lines")
    print(f"  overall recall {r['overall_recall']}% (lines only {r['overall_recall_lines_only']}%), "
          f"overall precision {r['overall_precision']}%")
    print("  recall by gold label: " + ", ".join(f"{k} {v}" for k, v in r["recall"].items()))
    print("  precision by dedupe category: " + ", ".join(f"{k} {v}" for k, v in r["precision"].items()))
    print("  syndicated recall by edit rate: " + ", ".join(
        f"{k} {v}% (n={r['syndicated_paragraphs_by_edit'][k]})" for k, v in r["syndicated_recall_by_edit"].items()))
    dd = r["duplicate_documents"]
    print(f"  duplicate documents: recall {dd['recall']}%, precision {dd['precision']}% "
          f"({dd['dropped']} dropped, {dd['gold']} in gold)")
    h = r["own_headlines_kept"]
    print(f"  content removed {r['content_removed']}%, unique content removed {r['unique_content_removed']}%, "
          f"own headlines kept {h['kept']}/{h['teased_headlines']} ({h['kept_pct']}%)")


if __name__ == "__main__":
    main()

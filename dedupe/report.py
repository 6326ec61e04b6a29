"""The duplication report: findings, clusters, corpus statistics; JSON and JSONL/Parquet out.

The schema is documented in README.md ("The report"). Offsets are Python
`str` indices into the original text, so `text[start:end]` of a finding is
exactly the flagged unit.

The report is built in the second pass, one document at a time
(`ReportBuilder.add`), so findings can stream to a file instead of piling
up in memory; only counters and the texts of cluster representatives are
kept.
"""

from __future__ import annotations

import heapq
import itertools
import json
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from json.encoder import encode_basestring as _string
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol, overload

from dedupe import __version__
from dedupe.config import CATEGORIES, Config
from dedupe.decide import Decisions
from dedupe.document import Document, Skips, UnitTable
from dedupe.index import lsh_params
from dedupe.io import AtomicFile, Spool, jsonl_line, write_text

if TYPE_CHECKING:
    from dedupe.render import Plan, Rendered

SCHEMA_VERSION = "1.0"
TEXT_LIMIT = 200
TOP_LINES = 20


# One finding as the second pass makes it, before (and mostly instead of) a `Finding`: (start, end, category,
# categories, cluster id, similarity, action, text, match, the matched copy's document's source or "").
Row = tuple[int, int, str, "tuple[str, ...] | list[str]", str, "float | None", str, str, "dict[str, Any] | None", str]


@dataclass
class Finding:
    """One flagged unit (or one dropped document)."""

    doc_id: str
    start: int
    end: int
    category: str
    categories: list[str]
    cluster_id: str
    similarity: float | None
    action: str  # removed, flagged or dropped
    text: str
    match: dict[str, Any] | None  # the copy it matches: doc_id, start, end

    @classmethod
    def of(cls, doc_id: str, row: Row) -> Finding:
        start, end, category, categories, cluster_id, similarity, action, text, match, _ = row
        return cls(doc_id, start, end, category, list(categories), cluster_id, similarity, action, text, match)

    def row(self) -> Row:
        return (self.start, self.end, self.category, self.categories, self.cluster_id, self.similarity, self.action,
                self.text, self.match, "")

    def as_dict(self) -> dict[str, Any]:
        """The JSON record (dataclasses.asdict deep-copies and costs ten times more per finding)."""
        return {"doc_id": self.doc_id, "start": self.start, "end": self.end, "category": self.category,
                "categories": self.categories, "cluster_id": self.cluster_id, "similarity": self.similarity,
                "action": self.action, "text": self.text, "match": self.match}


def finding_line(doc_id: str, row: Row) -> str:
    """A finding as one JSON line, the bytes that `jsonl_line(Finding.as_dict())` gives, at half the cost: a
    report holds millions of them, and the generic encoder's set-up per call was most of the time."""
    start, end, category, categories, cluster_id, similarity, action, text, match, _ = row
    if similarity is not None and not math.isfinite(similarity):
        return jsonl_line(Finding.of(doc_id, row).as_dict()).decode("utf-8")
    return (f'{{"doc_id": {_string(doc_id)}, "start": {start}, "end": {end}, "category": {_string(category)}, '
            f'"categories": [{", ".join(map(_string, categories))}], "cluster_id": {_string(cluster_id)}, '
            f'"similarity": {"null" if similarity is None else float.__repr__(similarity)}, '
            f'"action": {_string(action)}, "text": {_string(text)}, "match": '
            f'{"null" if match is None else _match(match)}}}\n')


def _match(match: dict[str, Any]) -> str:
    if list(match) != ["doc_id", "start", "end"]:
        return compact(match)
    return f'{{"doc_id": {_string(match["doc_id"])}, "start": {match["start"]}, "end": {match["end"]}}}'


class Clusters(Sequence[dict[str, Any]]):
    """The report's clusters, each made as a dict when it is read: a list of them all would hold a dict per
    member (about 300 bytes each; 0.7 GB for the 2.4 million members of the 1 GB generated corpus).

    It reads like the list it replaces (index, slice, iterate, compare with a list, pickle as a list); each
    read makes a new dict. `brief` gives them without their members, which is cheap."""

    def __init__(self, make: Callable[[int, bool], dict[str, Any]], count: int,
                 members_json: Callable[[int], str] | None = None) -> None:
        self.make, self.count, self.members_json = make, count, members_json

    def __len__(self) -> int:
        return self.count

    @overload
    def __getitem__(self, i: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, i: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, i: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(i, slice):
            return [self.make(j, True) for j in range(*i.indices(self.count))]
        if not -self.count <= i < self.count:
            raise IndexError("cluster index out of range")
        return self.make(int(i) % self.count, True)

    def brief(self) -> Iterator[dict[str, Any]]:
        """Every cluster without its `members`."""
        return (self.make(i, False) for i in range(self.count))

    def encoded(self) -> Iterator[str]:
        """Every cluster as `compact` JSON, its members written by `members_json` (the JSON of cluster i's
        `members` list) without a dict per member, when given: most of the report's time went there."""
        if self.members_json is None:
            yield from map(compact, self)
            return
        for i in range(self.count):
            head = compact(self.make(i, False))
            yield f'{head[:-1]}, "members": {self.members_json(i)}}}'

    def __eq__(self, other: object) -> bool:
        return isinstance(other, (list, Clusters)) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __add__(self, other: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [*self, *other]

    def __radd__(self, other: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [*other, *self]

    def __reduce__(self) -> tuple[type, tuple[list[dict[str, Any]]]]:
        return list, (list(self),)

    def __repr__(self) -> str:
        return f"Clusters({self.count} clusters)"


class NamedClusters(Protocol):
    """The rule and content clusters that have findings, then the duplicate groups (a kept document and those
    dropped for it, named "doc:<its id>"), in the report's order, as an engine holds them."""

    def __len__(self) -> int: ...

    def head(self, i: int) -> tuple[str, str, int, int, int, str]:
        """Cluster i's name, main category (`Tally.main_categories`; "duplicate_document" for a duplicate
        group), size, documents, sources (distinct, named) and representative text (its first member's)."""
        ...

    def members_json(self, i: int) -> str:
        """Cluster i's members as the report's JSON list (`member_list`), in canonical order."""
        ...


class UnitClusters:
    """`NamedClusters` of decisions held in memory: the clusters of `decisions.cluster_members` (name -> member
    units over `units`) that `tally` counted findings of, with their main categories and representatives, then
    the duplicate groups (each kept document with the documents dropped for it, in order of their first)."""

    def __init__(self, decisions: Decisions, units: UnitTable, docs: Sequence[Document], tally: Tally) -> None:
        self.main, self.representatives = tally.main_categories(), tally.representatives
        self.named = [(name, found) for name, found in decisions.cluster_members.items() if name in self.main]
        roots: dict[int, list[int]] = defaultdict(list)
        for d in sorted(decisions.dropped):
            roots[decisions.duplicate_root(d)].append(d)
        self.groups = [[root, *dups] for root, dups in roots.items()]
        self.units, self.docs = units, docs
        self.id_json: dict[int, str] = {}  # a document's id as JSON, encoded once

    def __len__(self) -> int:
        return len(self.named) + len(self.groups)

    def head(self, i: int) -> tuple[str, str, int, int, int, str]:
        if i >= len(self.named):
            group = self.groups[i - len(self.named)]
            return (f"doc:{self.docs[group[0]].id}", "duplicate_document", len(group), len(group),
                    self._sources(group), self.representatives.get(-1 - group[0], ""))
        name, members = self.named[i]
        distinct = set(self.units.doc[members].tolist())  # ids are unique
        return (name, self.main[name], len(members), len(distinct), self._sources(distinct),
                self.representatives.get(int(members[0]), ""))

    def members_json(self, i: int) -> str:
        if i >= len(self.named):
            group = self.groups[i - len(self.named)]
            return member_list((self._id(d), 0, self.docs[d].chars) for d in group)
        members, units = self.named[i][1], self.units
        return member_list((self._id(d), a, b) for d, a, b in zip(
            units.doc[members].tolist(), units.start[members].tolist(), units.end[members].tolist()))

    def _sources(self, docs: Iterable[int]) -> int:
        """Distinct named sources of the documents."""
        return len({self.docs[d].source for d in docs} - {None, ""})

    def _id(self, d: int) -> str:
        return self.id_json.get(d) or self.id_json.setdefault(d, compact(self.docs[d].id))


def member_list(rows: Iterable[tuple[str, int, int]]) -> str:
    """A cluster's `members` as compact JSON, from (document id as JSON, start, end) rows."""
    return "[" + ", ".join(f'{{"doc_id": {i}, "start": {a}, "end": {b}}}' for i, a, b in rows) + "]"


def briefly(clusters: Sequence[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    """Clusters with or without members, whichever is cheaper (a `Clusters` makes them without)."""
    return clusters.brief() if isinstance(clusters, Clusters) else clusters


@dataclass
class Report:
    summary: dict[str, Any]
    findings: list[Finding]
    clusters: Sequence[dict[str, Any]]  # `Clusters` from a run: made when read
    syndication: dict[str, Any]
    findings_file: str | None = None  # set when findings were streamed to a file instead
    spool: FindingsSpool | None = None  # findings kept on disk, not in `findings`, for write_json

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "summary": self.summary}
        if self.findings_file is None:
            data["findings"] = [json.loads(line) for line in self.spool.lines()] if self.spool else \
                [f.as_dict() for f in self.findings]
        else:
            data["findings_file"] = self.findings_file
        data["clusters"] = list(self.clusters)
        data["syndication"] = self.syndication
        return data

    def to_json(self) -> str:
        return "".join(part if isinstance(part, str) else part.decode("utf-8") for part in self._json_parts())

    def _json_parts(self) -> Iterator[str | bytes]:
        """Indented at the top, one finding, cluster or skip per line below: readable, and fast to write
        (the C encoder does each line; a fully indented dump goes through the slow Python encoder).
        Findings are streamed from the spool when there is one, so writing never holds them all, and as
        the UTF-8 the spool holds (decoding and encoding them again cost 4x as much as the rest of it)."""
        yield "{\n"
        yield f' "schema_version": {compact(SCHEMA_VERSION)},\n'
        inner = ",\n".join(f"  {compact(k)}: {compact(v)}" for k, v in self.summary.items())
        yield f' "summary": {{\n{inner}\n }},\n'
        if self.findings_file is not None:
            yield f' "findings_file": {compact(self.findings_file)},\n'
        else:
            yield from _json_list("findings", self.spool.rows() if self.spool else
                                  (compact(f.as_dict()) for f in self.findings))
            yield ",\n"
        clusters = self.clusters.encoded() if isinstance(self.clusters, Clusters) else map(compact, self.clusters)
        yield from _json_list("clusters", clusters)
        yield f',\n "syndication": {compact(self.syndication)}\n}}'

    @property
    def duplicated_share(self) -> float:
        return float(self.summary["duplicated_share"])

    def write_json(self, path: str | Path) -> None:
        write_text(Path(path), itertools.chain(self._json_parts(), ["\n"]))

    def write_findings(self, path: str | Path) -> None:
        """One finding per line (JSONL, optionally .gz/.zst) or per row (.parquet)."""
        with FindingsFile(path) as sink:
            for lines in self.spool.blocks() if self.spool else ():
                sink.write_lines(lines)
            sink.write_lines(encode_findings(self.findings))


class FindingsFile:
    """Findings written batch by batch to JSONL (.gz/.zst) or Parquet, renamed into place on success."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.parquet = self.path.name.lower().endswith(".parquet")
        self.file = AtomicFile(self.path, compress=not self.parquet)
        self.rows: list[dict[str, Any]] = []
        self.writer: Any = None

    def __enter__(self) -> FindingsFile:
        self.stream: IO[bytes] = self.file.open()
        return self

    def write_lines(self, lines: bytes) -> None:
        """Findings encoded by `encode_findings`."""
        if not self.parquet:
            self.stream.write(lines)
            return
        for line in lines.splitlines():
            row = json.loads(line)
            row["match"] = json.dumps(row["match"]) if row["match"] else None
            self.rows.append(row)
            if len(self.rows) >= 10_000:
                self._flush()

    def _flush(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = pa.schema([("doc_id", pa.string()), ("start", pa.int64()), ("end", pa.int64()),
                            ("category", pa.string()), ("categories", pa.list_(pa.string())),
                            ("cluster_id", pa.string()), ("similarity", pa.float64()), ("action", pa.string()),
                            ("text", pa.string()), ("match", pa.string())])
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.stream, schema)
        self.writer.write_table(pa.Table.from_pylist(self.rows, schema=schema))
        self.rows = []

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        ok = kind is None
        try:
            if ok and self.parquet:
                self._flush()
            if self.writer is not None:
                self.writer.close()
        except BaseException:
            ok = False
            raise
        finally:
            self.file.close(success=ok)


def _json_list(key: str, rows: Iterable[str | bytes]) -> Iterator[str | bytes]:
    """`"key": [rows]`, one row per line ("[]" when empty), as written since schema 1.0; an item of `rows`
    may hold several rows joined by ",\n  "."""
    first = True
    for row in rows:
        if isinstance(row, str):  # one piece, not two, per cluster or in-memory finding
            yield f' "{key}": [\n  {row}' if first else f",\n  {row}"
        else:
            yield f' "{key}": [\n  ' if first else ",\n  "
            yield row
        first = False
    yield f' "{key}": []' if first else "\n ]"


class FindingsSpool(Spool):
    """Findings of a run kept in an unlinked temporary file (one compact JSON line each), not in memory,
    until the JSON report is written: the report of a large corpus holds millions of them."""

    def __init__(self) -> None:
        super().__init__("findings")

    def write_lines(self, lines: bytes) -> None:
        """Findings encoded by `encode_findings`."""
        if lines:
            self._write(lines)

    def blocks(self, block: int = 1 << 23) -> Iterator[bytes]:
        """The spooled lines, about `block` bytes at a time, each chunk cut after a newline."""
        self.flush()
        rest, at = b"", 0
        while at < self._size:
            data = rest + self._read(min(block, self._size - at), at)
            at += len(data) - len(rest)
            end = data.rfind(b"\n") + 1
            rest = data[end:]
            if end:
                yield data[:end]
        if rest:
            raise OSError("the findings spool ends inside a line")

    def rows(self, block: int = 1 << 23) -> Iterator[bytes]:
        """The findings as JSON report rows (UTF-8): chunks of whole lines, each joined by ",\n  " (a JSON line
        holds no raw newline)."""
        for data in self.blocks(block):
            yield data[:-1].replace(b"\n", b",\n  ")

    def lines(self) -> Iterator[str]:
        """The findings, one JSON line each (read with `blocks`, so later writes still append)."""
        for data in self.blocks():
            yield from data[:-1].decode("utf-8").split("\n")


def encode_findings(findings: Iterable[Finding]) -> bytes:
    """Findings as JSON Lines, one compact line each, as the findings file and the spool hold them."""
    return "".join(finding_line(f.doc_id, f.row()) for f in findings).encode("utf-8")


def compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def truncate(text: str) -> str:
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 1] + "…"


@dataclass
class Tally:
    """The report's counters over some documents, and the texts it quotes from them.

    The tallies of consecutive batches, merged in input order, equal the
    tally of all their documents counted one by one: this is how worker
    processes and Spark partitions count in parallel.
    """

    # per category: findings, characters and documents (counted once per document: batches are disjoint, so
    # counts add up where sets of ids would have held every document on the process that merges them)
    per_category: dict[str, list[int]] = field(default_factory=lambda: {c: [0, 0, 0] for c in CATEGORIES})
    cluster_categories: Counter = field(default_factory=Counter)  # findings by (cluster, category): one
    # flat counter, as a counter per cluster costs an object per cluster and batch, merged one by one
    lines: Counter = field(default_factory=Counter)  # boilerplate and template findings per line
    line_docs: Counter = field(default_factory=Counter)  # documents per line: each document adds itself once
    pairs: Counter = field(default_factory=Counter)
    representatives: dict[int, str] = field(default_factory=dict)
    removed_chars: int = 0
    flagged_chars: int = 0
    affected: int = 0
    dropped: int = 0
    emptied: int = 0  # documents kept with nothing but whitespace left: every unit removed

    def add(self, doc: Document, plan: Plan, rows: list[Row], removed_chars: int, emptied: bool) -> None:
        """Count one document's findings and keep the texts its plan says the report quotes; `emptied` says
        that the removals leave the document nothing but whitespace."""
        text = doc.text
        for key, start, end in plan.representatives:
            self.representatives[key] = truncate(text[start:end])
        self.removed_chars += removed_chars
        self.dropped += plan.drop
        self.emptied += emptied
        self.affected += bool(rows)
        chrome, found = set(), set()
        for start, end, category, categories, cluster_id, _, _, line, match, source in rows:
            entry = self.per_category[category]
            entry[0] += 1
            entry[1] += end - start
            found.add(category)
            self.flagged_chars += end - start
            self.cluster_categories[cluster_id, category] += 1
            if category in ("boilerplate", "template"):
                self.lines[line] += 1
                chrome.add(line)
            if "syndicated" in categories and match:
                self.pairs[(doc.source or "", source)] += 1
        self.line_docs.update(chrome)
        for category in found:
            self.per_category[category][2] += 1

    def main_categories(self) -> dict[str, str]:
        """The category of most of each cluster's findings (the first counted, among equals)."""
        best: dict[str, tuple[str, int]] = {}
        for (name, category), count in self.cluster_categories.items():
            if name not in best or count > best[name][1]:
                best[name] = (category, count)
        return {name: category for name, (category, _) in best.items()}

    def without_aggregates(self) -> Tally:
        """This tally without what `Aggregates` gives instead: per cluster (duplicate groups too) and per line."""
        return replace(self, cluster_categories=Counter(), lines=Counter(), line_docs=Counter(), representatives={})

    def merge(self, other: Tally) -> None:
        """Add the tally of the documents that follow this tally's."""
        for category, (count, chars, docs) in other.per_category.items():
            entry = self.per_category[category]
            entry[0] += count
            entry[1] += chars
            entry[2] += docs
        self.cluster_categories.update(other.cluster_categories)
        self.lines.update(other.lines)
        self.line_docs.update(other.line_docs)
        self.pairs.update(other.pairs)
        self.representatives.update(other.representatives)
        self.removed_chars += other.removed_chars
        self.flagged_chars += other.flagged_chars
        self.affected += other.affected
        self.dropped += other.dropped
        self.emptied += other.emptied


class Aggregates(Protocol):
    """The report's per-cluster and per-line aggregates, made where the documents are (`spark.ExecutorAggregates`):
    an engine that gives them sends tallies `without_aggregates`, so that the process that builds the
    report holds no counter per cluster or per line."""

    def clusters(self) -> NamedClusters:
        """The clusters with findings (`Tally.cluster_categories`), their main categories and representatives,
        then the duplicate groups."""
        ...

    def top_lines(self) -> list[tuple[str, int, int]]:
        """(text, findings, documents) of the TOP_LINES boilerplate and template lines on the most documents
        (`Tally.lines`, `Tally.line_docs`), then with the most findings, then by text."""
        ...


@dataclass
class TallyAggregates:
    """`Aggregates` from the merged tally and the clusters' members over units in memory (the local engine)."""

    tally: Tally
    decisions: Decisions
    units: UnitTable
    docs: Sequence[Document]

    def clusters(self) -> NamedClusters:
        return UnitClusters(self.decisions, self.units, self.docs, self.tally)

    def top_lines(self) -> list[tuple[str, int, int]]:
        lines, line_docs = self.tally.lines, self.tally.line_docs
        return [(t, lines[t], line_docs[t])
                for t in heapq.nsmallest(TOP_LINES, lines, key=lambda t: (-line_docs[t], -lines[t], t))]


@dataclass
class ReportBuilder:
    """Accumulates the report while the second pass goes through the documents."""

    docs: Sequence[Document]  # the corpus's documents (Spark: `document.SomeDocuments` knowing none)
    units: UnitTable  # the units the decisions refer to
    unit_counts: tuple[int, int]  # units in the corpus, and units too long to be matched
    characters: int  # in the corpus's texts
    decisions: Decisions
    skips: Skips
    config: Config
    keep_findings: bool = True
    sink: FindingsFile | FindingsSpool | None = None  # findings are also streamed here as they are found
    findings: list[Finding] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)
    aggregates: Aggregates | None = None  # the engine's clusters with findings and top lines; None: from the tally
    # (`TallyAggregates`)

    def take(self, rendered: Rendered) -> None:
        """Add a batch of rendered documents (the next in input order)."""
        self.tally.merge(rendered.tally)
        if self.keep_findings:
            self.findings.extend(rendered.findings)
        if self.sink is not None:
            self.sink.write_lines(rendered.lines)

    def finish(self, wall: float, findings_file: str | None = None, timings: dict[str, float] | None = None
               ) -> Report:
        summary = self._summary(wall, timings or {})
        return Report(summary, self.findings, self._clusters(), self._syndication(), findings_file)

    def _summary(self, wall: float, timings: dict[str, float]) -> dict[str, Any]:
        total = self.characters
        bands, rows = lsh_params(self.config.lsh_threshold, self.config.num_perm)
        ranked = self._aggregates().top_lines()
        return {
            "documents": len(self.docs),
            "units": self.unit_counts[0],
            "characters": total,
            "characters_removed": self.tally.removed_chars,
            "characters_flagged": self.tally.flagged_chars,
            "duplicated_share": round(self.tally.flagged_chars / total, 6) if total else 0.0,
            "documents_affected": self.tally.affected,
            "duplicate_documents_dropped": self.tally.dropped,
            "documents_emptied": self.tally.emptied,
            "categories": {c: {"findings": v[0], "characters": v[1], "documents": v[2]}
                           for c, v in self.tally.per_category.items()},
            "top_lines": [{"text": t, "findings": n, "documents": d} for t, n, d in ranked],
            "units_too_long_to_match": self.unit_counts[1],
            "skipped": {
                "count": self.skips.count,
                "reasons": dict(sorted(self.skips.reasons.items())),
                "items": [asdict(s) for s in self.skips.first],
            },
            "parameters": {**self.config.parameters(), "lsh_bands": bands, "lsh_rows": rows},
            "dedupe_version": __version__,
            "wall_time_s": round(wall, 3),
            "timings": {name: round(value, 3) for name, value in timings.items()},
        }

    def _clusters(self) -> Clusters:
        """Clusters that produced at least one finding, then the duplicate groups, with every member (made when
        read: `Clusters`, which keeps only the engine's `NamedClusters`)."""
        named = self._aggregates().clusters()

        def cluster(i: int, with_members: bool) -> dict[str, Any]:
            name, category, size, documents, spread, representative = named.head(i)
            found = {"id": name, "category": category, "size": size, "documents": documents, "sources": spread,
                     "representative": representative}
            if with_members:
                found["members"] = json.loads(named.members_json(i))
            return found

        return Clusters(cluster, len(named), named.members_json)

    def _aggregates(self) -> Aggregates:
        return self.aggregates or TallyAggregates(self.tally, self.decisions, self.units, self.docs)

    def _syndication(self) -> dict[str, Any]:
        """Which sources reprint which: syndicated units per (copy source, canonical source)."""
        sources = sorted({s for pair in self.tally.pairs for s in pair})
        return {
            "sources": sources,
            "pairs": [{"copy_source": a, "canonical_source": b, "units": n}
                      for (a, b), n in sorted(self.tally.pairs.items())],
            "matrix": [[self.tally.pairs.get((a, b), 0) for b in sources] for a in sources],
        }


def summary_lines(report: Report) -> list[tuple[str, int, int, int]]:
    """(category, findings, characters, documents) rows for terminal and HTML summaries."""
    cats = report.summary["categories"]
    return [(c, cats[c]["findings"], cats[c]["characters"], cats[c]["documents"]) for c in CATEGORIES]


def skip_reasons(skipped: dict[str, Any]) -> str:
    """`summary.skipped`'s reasons as one line: `reason: count, ...`."""
    return ", ".join(f"{k}: {v}" for k, v in skipped["reasons"].items())


def top_boilerplate(report: Report, limit: int = 5) -> list[tuple[str, int, int]]:
    """Most widespread boilerplate and template lines: (text, findings, documents)."""
    return [(t["text"], t["findings"], t["documents"]) for t in report.summary["top_lines"][:limit]]

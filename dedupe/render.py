"""The second pass for one document: its cleaned text and its findings.

`Planner` cuts what each document needs out of the corpus-wide decisions
into a small `Plan` (the spans to remove, its findings with their clusters,
matches and similarities), so that `render_batch` is a pure function of the
documents and their plans. It runs in the parent, in worker processes
(`--jobs`) or on Spark executors, and gives the same bytes everywhere; the
report's counters of each batch come back as a `report.Tally`, and the
tallies of consecutive batches merge into the tally of the whole corpus.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from dedupe.clean import clean_text
from dedupe.cluster import similarity
from dedupe.decide import Decisions
from dedupe.document import Document, UnitTable
from dedupe.report import Finding, Row, Tally, finding_line, truncate

# One flagged unit of a document, as its finding will say: a plain tuple (pickled 3-4x faster than a
# NamedTuple, and plans travel to Spark executors) of
# (start, end, categories, cluster, removed, similarity or None, the copy it matches as {doc_id, start, end}
#  or None, that copy's document's source ("" when none, for the syndication matrix)).
Flag = tuple[int, int, tuple[str, ...], str, bool, "float | None", "dict[str, Any] | None", str]


@dataclass(slots=True)
class Plan:
    """What the second pass must know about one document, and nothing else."""

    flags: list[Flag] = field(default_factory=list)
    representatives: list[tuple[int, int, int]] = field(default_factory=list)  # (key, start, end) of what the
    # report quotes: clusters' first members (key: the unit) and, when other documents are dropped as its
    # duplicates, the document's opening (key: -1 - document)
    duplicate: tuple[str, int, float, str] | None = None  # a duplicate document: (the document its finding
    # names, that one's length, coverage, root id)
    drop: bool = False  # the document leaves the output (`Decisions.gone`)


EMPTY = Plan()


class Planner:
    """Plans for every document, from the decisions: what is known per flagged unit is kept in arrays, and
    turned into Python objects one batch of consecutive documents at a time."""

    def __init__(self, docs: list[Document], units: UnitTable, decisions: Decisions) -> None:
        self.docs, self.units, self.decisions = docs, units, decisions
        flagged, match = decisions.flagged, decisions.match
        self.similarity = np.full(len(flagged), np.nan)
        matched = np.flatnonzero(match >= 0)
        if len(matched):
            self.similarity[matched] = np.round(
                similarity(units.sigs, units.sig_row[flagged[matched]], units.sig_row[match[matched]]), 4)
        self.bounds = np.searchsorted(units.doc[flagged], np.arange(len(docs) + 1))
        wanted = np.unique(np.array([m[0] for m in decisions.cluster_members.values()], dtype=np.int64))
        self.wanted, self.wanted_bounds = wanted, np.searchsorted(units.doc[wanted], np.arange(len(docs) + 1))
        self.duplicates = DuplicateNotes(docs, decisions)

    def plans(self, first: int, count: int) -> list[Plan]:
        """The plans of documents first, ..., first + count - 1 (`EMPTY` for most documents of a clean
        corpus)."""
        units, decisions, docs = self.units, self.decisions, self.docs
        lo, hi = int(self.bounds[first]), int(self.bounds[first + count])
        u, m = decisions.flagged[lo:hi], decisions.match[lo:hi]
        at = np.maximum(m, 0)  # the matched copy's unit (rows without one are masked below)
        canonical = [docs[d] if ok else None for d, ok in zip(units.doc[at].tolist(), (m >= 0).tolist())]
        categories = [decisions.categories[x] for x in u.tolist()]
        flags = flag_rows(units.start[u].tolist(), units.end[u].tolist(), categories, decisions.cluster[lo:hi],
                          decisions.removed[u].tolist(), self.similarity[lo:hi].tolist(),
                          [c and c.id for c in canonical], units.start[at].tolist(), units.end[at].tolist(),
                          [(c and c.source) or "" for c in canonical])
        w_lo, w_hi = int(self.wanted_bounds[first]), int(self.wanted_bounds[first + count])
        w = self.wanted[w_lo:w_hi]
        reps = list(zip(w.tolist(), units.start[w].tolist(), units.end[w].tolist()))
        return assemble(first, count, (self.bounds[first:first + count + 1] - lo).tolist(), flags,
                        (self.wanted_bounds[first:first + count + 1] - w_lo).tolist(), reps,
                        self.duplicates.notes(first, count))


Note = tuple[tuple[int, int, int] | None, tuple[str, int, float, str] | None, bool]


def flag_rows(start: list[int], end: list[int], categories: list[tuple[str, ...]], cluster: list[str],
              removed: list[bool], similarity: list[float], copy_id: list[str | None], copy_start: list[int],
              copy_end: list[int], copy_source: list[str]) -> list[Flag]:
    """Flagged units as `Flag`s, column by column (a NaN similarity, or a copy id of None: none)."""
    return [(a, b, c, k, r, None if math.isnan(sim) else sim,
             None if i is None else {"doc_id": i, "start": s, "end": e}, src)
            for a, b, c, k, r, sim, i, s, e, src in zip(start, end, categories, cluster, removed, similarity,
                                                        copy_id, copy_start, copy_end, copy_source)]


class DuplicateNotes:
    """What plans say of documents as duplicates (`Note`s, for the few documents that are duplicates or are
    kept for some): the opening the report quotes for a duplicate group's kept document, the duplicate finding
    (the document it names, that one's length, coverage, the group's kept document) and whether it leaves
    the output. Needs only the decisions' per-document fields, and the ids and lengths of the documents they
    name (`docs` may hold only those: see `document.SomeDocuments`)."""

    def __init__(self, docs: Sequence[Document], decisions: Decisions) -> None:
        self.docs, self.decisions = docs, decisions
        self.roots = {decisions.duplicate_root(d) for d in decisions.dropped}
        self.named = {**decisions.dropped, **decisions.gone}  # per duplicate: the document its finding names
        self.noted = np.array(sorted(self.roots | self.named.keys()), dtype=np.int64)

    def notes(self, first: int, count: int) -> dict[int, Note]:
        """The notes of documents first, ..., first + count - 1."""
        decisions, docs, out = self.decisions, self.docs, {}
        a, b = np.searchsorted(self.noted, [first, first + count])
        for d in self.noted[a:b].tolist():
            opening = (-1 - d, 0, docs[d].chars) if d in self.roots else None
            duplicate = None
            if d in self.named:
                e, coverage = self.named[d]
                duplicate = (docs[e].id, docs[e].chars, round(float(coverage), 4),
                             docs[decisions.duplicate_root(d)].id)
            out[d] = (opening, duplicate, d in decisions.gone)
        return out


def assemble(first: int, count: int, flag_at: list[int], flags: list[Flag], rep_at: list[int],
             reps: list[tuple[int, int, int]], notes: dict[int, Note]) -> list[Plan]:
    """The plans of documents first, ..., first + count - 1 from their flags and the representatives they
    hold (each document's between its bounds in `flag_at` and `rep_at`) and the `notes` of the duplicates."""
    out = []
    for i, d in enumerate(range(first, first + count)):
        mine = reps[rep_at[i]:rep_at[i + 1]]
        opening, duplicate, drop = notes.get(d, (None, None, False))
        if opening is not None:
            mine.append(opening)
        if duplicate is not None:  # else the document stays, cleaned as any other (flag-only)
            out.append(Plan([] if drop else flags[flag_at[i]:flag_at[i + 1]], mine, duplicate, drop))
        elif flag_at[i] == flag_at[i + 1] and not mine:
            out.append(EMPTY)
        else:
            out.append(Plan(flags[flag_at[i]:flag_at[i + 1]], mine))
    return out


@dataclass
class Rendered:
    """A batch of documents after the second pass, in input order."""

    texts: list[str]  # cleaned text of each document ("" when dropped)
    removed_chars: list[int]
    dropped: list[bool]  # dropped as a duplicate document
    tally: Tally
    findings: list[Finding]  # when asked for (`keep`)
    lines: bytes  # the findings as JSON Lines, when asked for (`encode`)
    records: list[bytes | None] = field(default_factory=list)  # output records made from input lines, if any


def render_batch(docs: Sequence[Document], plans: Sequence[Plan], keep: bool, encode: bool,
                 texts: bool = True) -> Rendered:
    """Clean each document by its plan, make its findings and count them into a tally. Without `texts` the
    cleaned texts are not made (an audit needs only counters and findings): `texts`, `removed_chars` and
    `dropped` stay empty, as `without_texts` leaves them. Findings are made as `Finding` objects only when
    kept (`keep`); encoded (`encode`), they go from their rows straight to JSON lines."""
    tally = Tally()
    out = Rendered([], [], [], tally, [], b"")
    lines: list[str] = []
    for doc, plan in zip(docs, plans):
        text = doc.text
        if plan.drop and plan.duplicate is not None:
            cleaned, removed_chars, rows = "", len(text), [_duplicate(doc, plan.duplicate, "dropped")]
            emptied = False
        else:
            spans = [(start, end) for start, end, _, _, removed, *_ in plan.flags if removed]
            cleaned = clean_text(text, spans) if spans and texts else text
            removed_chars = sum(e - s for s, e in spans)
            emptied = bool(spans) and not _anything_left(text, spans)
            rows = [(start, end, categories[0], categories, cluster, sim, "removed" if removed else "flagged",
                     truncate(text[start:end]), match, source)
                    for start, end, categories, cluster, removed, sim, match, source in plan.flags]
            if plan.duplicate is not None:  # found, and flagged only
                rows.insert(0, _duplicate(doc, plan.duplicate, "flagged"))
        if texts:
            out.texts.append(cleaned)
            out.removed_chars.append(removed_chars)
            out.dropped.append(plan.drop)
        tally.add(doc, plan, rows, removed_chars, emptied)
        if keep:
            out.findings.extend(Finding.of(doc.id, row) for row in rows)
        if encode:
            lines.extend(finding_line(doc.id, row) for row in rows)
    if encode:
        out.lines = "".join(lines).encode("utf-8")
    return out


def _anything_left(text: str, spans: list[tuple[int, int]]) -> bool:
    """Whether the text outside the removed spans (in offset order) holds more than whitespace; stops at
    the first gap that does, most often the first."""
    at = 0
    for start, end in spans:
        if text[at:start].strip():
            return True
        at = max(at, end)
    return bool(text[at:].strip())


def without_texts(rendered: Rendered) -> Rendered:
    """The batch as the report needs it: counters and findings, not the cleaned texts."""
    return replace(rendered, texts=[], removed_chars=[], dropped=[])


def _duplicate(doc: Document, duplicate: tuple[str, int, float, str], action: str) -> Row:
    """The finding of a duplicate document: it spans the whole document and matches the whole of the one
    its plan names."""
    canonical, chars, coverage, root = duplicate
    return (0, len(doc.text), "duplicate_document", ("duplicate_document",), f"doc:{root}", coverage, action,
            truncate(doc.text), {"doc_id": canonical, "start": 0, "end": chars}, "")

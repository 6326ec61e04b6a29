"""The duplication report: findings, clusters, corpus statistics; JSON and JSONL/Parquet out.

The schema is documented in README.md ("Report schema"). Offsets are Python
`str` indices into the original text, so `text[start:end]` of a finding is
exactly the flagged unit.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from dedupe import __version__
from dedupe.config import CATEGORIES, Config
from dedupe.decide import Decisions
from dedupe.document import CleanedDocument, Document, Skip, UnitTable
from dedupe.index import lsh_params

SCHEMA_VERSION = "1.0"
TEXT_LIMIT = 200


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


@dataclass
class Report:
    summary: dict[str, Any]
    findings: list[Finding]
    clusters: list[dict[str, Any]]
    syndication: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "summary": self.summary,
            "findings": [asdict(f) for f in self.findings],
            "clusters": self.clusters,
            "syndication": self.syndication,
        }

    def to_json(self, findings: bool = True) -> str:
        data = self.to_dict()
        if not findings:
            data["findings"] = []
            data["findings_omitted"] = True
        return json.dumps(data, ensure_ascii=False, indent=1)

    @property
    def duplicated_share(self) -> float:
        return float(self.summary["duplicated_share"])

    def write_json(self, path: str | Path, findings: bool = True) -> None:
        from dedupe.io import write_text

        write_text(Path(path), self.to_json(findings) + "\n")

    def write_findings(self, path: str | Path) -> None:
        """One finding per line (JSONL, optionally .gz/.zst) or per row (.parquet)."""
        from dedupe.io import atomic_path

        target = Path(path)
        rows = [asdict(f) for f in self.findings]
        if target.name.lower().endswith(".parquet"):
            import pyarrow as pa
            import pyarrow.parquet as pq

            for row in rows:
                row["match"] = json.dumps(row["match"]) if row["match"] else None
            with atomic_path(target) as tmp:
                pq.write_table(pa.Table.from_pylist(rows), tmp)
            return
        from dedupe.io import write_text

        write_text(target, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def _truncate(text: str) -> str:
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 1] + "…"


def build_report(docs: list[Document], units: UnitTable, decisions: Decisions,
                 cleaned: list[CleanedDocument], skips: list[Skip], config: Config,
                 wall: float) -> Report:
    """Assemble the report from the decisions of a run."""
    findings: list[Finding] = []
    for u, categories in enumerate(decisions.categories):
        d = int(units.doc[u])
        if not categories or d in decisions.dropped:
            continue
        target = decisions.targets[u][categories[0]]
        text = docs[d].text
        match = None
        similarity = None
        if target.match >= 0:
            m = target.match
            match = {"doc_id": docs[units.doc[m]].id, "start": int(units.start[m]), "end": int(units.end[m])}
            similarity = round(float((units.sig[u] == units.sig[m]).mean()), 4)
        findings.append(Finding(
            doc_id=docs[d].id, start=int(units.start[u]), end=int(units.end[u]),
            category=categories[0], categories=list(categories), cluster_id=target.cluster,
            similarity=similarity, action="removed" if decisions.removed[u] else "flagged",
            text=_truncate(text[units.start[u]:units.end[u]]), match=match,
        ))
    roots = _duplicate_roots(decisions.dropped)
    for d, (e, coverage) in sorted(decisions.dropped.items()):
        action = "flagged" if config.actions["duplicate_document"] == "flag-only" else "dropped"
        findings.append(Finding(
            doc_id=docs[d].id, start=0, end=len(docs[d].text), category="duplicate_document",
            categories=["duplicate_document"], cluster_id=f"doc:{docs[roots[d]].id}",
            similarity=round(float(coverage), 4), action=action, text=_truncate(docs[d].text),
            match={"doc_id": docs[e].id, "start": 0, "end": len(docs[e].text)},
        ))
    position = {doc.id: i for i, doc in enumerate(docs)}
    findings.sort(key=lambda f: (position[f.doc_id], f.start, f.category != "duplicate_document"))
    summary = _summary(docs, units, findings, cleaned, skips, config, wall)
    return Report(summary, findings, _clusters(docs, units, decisions, findings),
                  _syndication(docs, findings))


def _duplicate_roots(dropped: dict[int, tuple[int, float]]) -> dict[int, int]:
    """Each dropped document's earliest kept ancestor (duplicates of duplicates share a cluster)."""
    roots = {}
    for d in dropped:
        e = d
        while e in dropped:
            e = dropped[e][0]
        roots[d] = e
    return roots


def _summary(docs: list[Document], units: UnitTable, findings: list[Finding], cleaned: list[CleanedDocument],
             skips: list[Skip], config: Config, wall: float) -> dict[str, Any]:
    total = sum(len(d.text) for d in docs)
    per: dict[str, dict[str, Any]] = {c: {"findings": 0, "characters": 0, "documents": set()} for c in CATEGORIES}
    flagged_chars = 0
    for f in findings:
        entry = per[f.category]
        entry["findings"] += 1
        entry["characters"] += f.end - f.start
        entry["documents"].add(f.doc_id)
        flagged_chars += f.end - f.start
    removed = sum(c.removed_chars for c in cleaned)
    bands, rows = lsh_params(config.lsh_threshold, config.num_perm)
    reasons = Counter(s.reason for s in skips)
    return {
        "documents": len(docs),
        "units": len(units),
        "characters": total,
        "characters_removed": removed,
        "characters_flagged": flagged_chars,
        "duplicated_share": round(flagged_chars / total, 6) if total else 0.0,
        "documents_affected": len({f.doc_id for f in findings}),
        "duplicate_documents_dropped": sum(1 for c in cleaned if c.dropped),
        "categories": {c: {**v, "documents": len(v["documents"])} for c, v in per.items()},
        "units_too_long_to_match": int(((units.end - units.start) > config.max_unit_chars).sum()),
        "skipped": {
            "count": len(skips),
            "reasons": dict(sorted(reasons.items())),
            "items": [asdict(s) for s in skips[:1000]],
        },
        "parameters": {**config.parameters(), "lsh_bands": bands, "lsh_rows": rows},
        "dedupe_version": __version__,
        "wall_time_s": round(wall, 3),
    }


def _clusters(docs: list[Document], units: UnitTable, decisions: Decisions,
              findings: list[Finding]) -> list[dict[str, Any]]:
    """Clusters that produced at least one finding, with every member."""
    categories: dict[str, Counter] = defaultdict(Counter)
    for f in findings:
        categories[f.cluster_id][f.category] += 1
    out = []
    for name, members in decisions.cluster_members.items():
        if name not in categories:
            continue
        member_docs = [docs[units.doc[u]] for u in members]
        first = members[0]
        out.append({
            "id": name,
            "category": categories[name].most_common(1)[0][0],
            "size": len(members),
            "documents": len({d.id for d in member_docs}),
            "sources": len({d.source for d in member_docs if d.source}),
            "representative": _truncate(docs[units.doc[first]].text[units.start[first]:units.end[first]]),
            "members": [{"doc_id": docs[units.doc[u]].id, "start": int(units.start[u]), "end": int(units.end[u])}
                        for u in members],
        })
    roots = defaultdict(list)
    for f in findings:
        if f.category == "duplicate_document":
            roots[f.cluster_id].append(f)
    by_id = {d.id: d for d in docs}
    for name, dups in roots.items():
        root = by_id[name.removeprefix("doc:")]
        out.append({
            "id": name, "category": "duplicate_document", "size": len(dups) + 1,
            "documents": len(dups) + 1, "sources": len({by_id[f.doc_id].source for f in dups} | {root.source} - {None}),
            "representative": _truncate(root.text),
            "members": [{"doc_id": root.id, "start": 0, "end": len(root.text)}]
            + [{"doc_id": f.doc_id, "start": 0, "end": f.end} for f in dups],
        })
    return out


def _syndication(docs: list[Document], findings: list[Finding]) -> dict[str, Any]:
    """Which sources reprint which: syndicated units per (copy source, canonical source)."""
    by_id = {d.id: d for d in docs}
    pairs: Counter = Counter()
    for f in findings:
        if "syndicated" in f.categories and f.match:
            pairs[(by_id[f.doc_id].source or "", by_id[f.match["doc_id"]].source or "")] += 1
    sources = sorted({s for pair in pairs for s in pair})
    return {
        "sources": sources,
        "pairs": [{"copy_source": a, "canonical_source": b, "units": n} for (a, b), n in sorted(pairs.items())],
        "matrix": [[pairs.get((a, b), 0) for b in sources] for a in sources],
    }


def summary_lines(report: Report) -> list[tuple[str, int, int, int]]:
    """(category, findings, characters, documents) rows for terminal and HTML summaries."""
    cats = report.summary["categories"]
    return [(c, cats[c]["findings"], cats[c]["characters"], cats[c]["documents"]) for c in CATEGORIES]


def top_boilerplate(report: Report, limit: int = 5) -> list[tuple[str, int, int]]:
    """Most frequent boilerplate and template lines: (text, findings, documents)."""
    count: Counter = Counter()
    docs: dict[str, set[str]] = defaultdict(set)
    for f in report.findings:
        if f.category in ("boilerplate", "template"):
            count[f.text] += 1
            docs[f.text].add(f.doc_id)
    ranked = sorted(count, key=lambda t: (-len(docs[t]), -count[t], t))
    return [(t, count[t], len(docs[t])) for t in ranked[:limit]]

"""Turn clusters and rule matches into categories and actions (SPEC's policy).

Input: the unit table, a cluster label per unit, and the documents' stable
order. Output: for every unit the categories that target it, whether it is
removed, and the copy it matches; for every document whether it is dropped
as a duplicate. Everything here is a function of stable keys (document
date, then input order, then offset), never of processing order.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from dedupe.config import DEFAULT_ACTIONS, Config
from dedupe.document import Document, UnitTable

# Among categories that remove a unit, the first here names the finding.
PRECEDENCE = ("template", "boilerplate", "syndicated", "repeat")
# A cluster spread over more documents than this is chrome, not a reprint,
# and is left out of the document-pair coverage count.
MAX_DOCS_FOR_COVERAGE = 50


@dataclass
class Target:
    """One unit targeted by one category: the cluster and the copy it matches."""

    cluster: str
    match: int  # unit index of the matching copy, -1 when none (rules)
    first: bool  # the kept copy under keep-first


@dataclass
class Decisions:
    """What happens to every unit and document."""

    targets: list[dict[str, Target]]  # per unit: category -> target
    removed: np.ndarray  # bool per unit
    categories: list[tuple[str, ...]]  # per unit: categories that flag it (empty: not a finding)
    dropped: dict[int, tuple[int, float]] = field(default_factory=dict)  # doc -> (canonical doc, coverage)
    protected: np.ndarray | None = None  # bool per unit: a document's own headline
    cluster_members: dict[str, list[int]] = field(default_factory=dict)
    doc_chars: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    doc_index: dict[str, int] = field(default_factory=dict)

    def duplicate_root(self, d: int) -> int:
        """The earliest kept document that a dropped one duplicates (through chains of duplicates)."""
        while d in self.dropped:
            d = self.dropped[d][0]
        return d


def doc_ranks(docs: list[Document]) -> np.ndarray:
    """Rank of each document in canonical order (earliest date, then input order)."""
    order = sorted(range(len(docs)), key=lambda i: docs[i].sort_key())
    ranks = np.empty(len(docs), dtype=np.int64)
    ranks[order] = np.arange(len(docs))
    return ranks


def _groups(labels: np.ndarray, ranks: np.ndarray, units: UnitTable) -> list[np.ndarray]:
    """Members of every label with two or more units, each in canonical order."""
    idx = np.flatnonzero(labels >= 0)
    if len(idx) == 0:
        return []
    order = idx[np.lexsort((units.start[idx], ranks[units.doc[idx]], labels[idx]))]
    bounds = np.flatnonzero(np.diff(labels[order])) + 1
    return [g for g in np.split(order, bounds) if len(g) > 1]


def _protected(units: UnitTable, docs: list[Document], rule_hit: np.ndarray,
               groups: list[np.ndarray]) -> np.ndarray:
    """Each document's own headline, which site-wide repetition must not remove.

    With a title field, the first unit equal to the title. Without one, a
    line that comes before the document's own text (its first unit found in
    no other document) in exactly one document: chrome opens every page,
    while a headline opens its own article and is a teaser further down elsewhere.
    """
    protected = np.zeros(len(units), dtype=bool)
    titled = np.array([bool(d.title and d.title.strip()) for d in docs] + [False], dtype=bool)
    title_units = np.flatnonzero(units.title)
    if len(title_units):
        _, first = np.unique(units.doc[title_units], return_index=True)
        protected[title_units[first]] = True
    shared = np.zeros(len(units), dtype=bool)
    for group in groups:
        if len(np.unique(units.doc[group])) > 1:
            shared[group] = True
    body_start = np.full(len(docs), np.iinfo(np.int64).max, dtype=np.int64)
    own = np.flatnonzero(~shared & ~rule_hit & (units.words >= 5))
    np.minimum.at(body_start, units.doc[own], units.start[own])
    for group in groups:
        early = [u for u in group if units.start[u] < body_start[units.doc[u]] and not rule_hit[u]
                 and units.words[u] >= 3 and not titled[units.doc[u]]]
        if len({int(units.doc[u]) for u in early}) == 1 and len(np.unique(units.doc[group])) > 1:
            protected[early[0]] = True
    return protected


def decide(units: UnitTable, labels: np.ndarray, docs: list[Document], texts: list[str],
           learned: set[str], config: Config) -> Decisions:
    """Apply categories, precedence and actions; see SPEC.md."""
    n = len(units)
    ranks = doc_ranks(docs)
    targets: list[dict[str, Target]] = [{} for _ in range(n)]
    members: dict[str, list[int]] = {}
    cluster_names: dict[int, str] = {}

    groups = _groups(labels, ranks, units)
    # Number content clusters in input order of their first unit, for readable stable ids.
    for number, group in enumerate(sorted(groups, key=lambda g: (int(units.doc[g].min()), int(g.min()))), 1):
        cluster_names[int(labels[group[0]])] = f"c{number}"

    sources = [d.source or "" for d in docs]
    per_source = defaultdict(int)
    for s in sources:
        per_source[s] += 1

    for group in groups:
        name = cluster_names[int(labels[group[0]])]
        members[name] = [int(u) for u in group]
        group_docs = units.doc[group]
        first_in_doc: dict[int, int] = {}
        for u, d in zip(group.tolist(), group_docs.tolist()):
            first_in_doc.setdefault(d, u)
        doc_list = list(first_in_doc)
        long = int(units.words[group].max()) >= config.syndicated_min_words
        boiler = len(doc_list) >= config.min_docs
        if boiler and long:
            counts = defaultdict(int)
            for d in doc_list:
                counts[sources[d]] += 1
            boiler = any(c >= config.long_boilerplate_min_docs and c >= config.boilerplate_site_share * per_source[s]
                         for s, c in counts.items())
        rep = int(group[0])
        for u, d in zip(group.tolist(), group_docs.tolist()):
            first = first_in_doc[d]
            if u != first:
                targets[u]["repeat"] = Target(name, first, False)
            if boiler:
                targets[u]["boilerplate"] = Target(name, rep if u != rep else int(group[1]), u == rep)
            elif long and len(doc_list) > 1 and u == first:
                targets[u]["syndicated"] = Target(name, rep if u != rep else first_in_doc[doc_list[1]],
                                                  d == doc_list[0])

    _add_templates(units, docs, ranks, learned, targets, members)
    rule_hit = np.array([t is not None for t in units.rule], dtype=bool)
    protected = _protected(units, docs, rule_hit, groups)
    removed, categories = _act(targets, protected, config)
    dropped = _duplicate_documents(units, groups, categories, ranks, config)
    return Decisions(targets, removed, categories, dropped, protected, members,
                     np.array([d.chars for d in docs], dtype=np.int64), {d.id: i for i, d in enumerate(docs)})


def _add_templates(units: UnitTable, docs: list[Document], ranks: np.ndarray, learned: set[str],
                   targets: list[dict[str, Target]], members: dict[str, list[int]]) -> None:
    """Mark units matched by a rule or a learned template; one cluster per rule."""
    by_cluster: dict[str, list[int]] = defaultdict(list)
    for u in range(len(units)):
        if units.rule[u] is not None:
            by_cluster[f"rule:{units.rule[u]}"].append(u)
        elif units.template[u] is not None and units.template[u][0] in learned:
            by_cluster[f"template:{units.template[u][0]}"].append(u)
    for name, found in by_cluster.items():
        found.sort(key=lambda u: (ranks[units.doc[u]], units.start[u]))
        members[name] = found
        for u in found:
            targets[u]["template"] = Target(name, -1, u == found[0])


def _act(targets: list[dict[str, Target]], protected: np.ndarray, config: Config
         ) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """Which units are removed and which categories flag each unit."""
    removed = np.zeros(len(targets), dtype=bool)
    categories: list[tuple[str, ...]] = []
    for u, found in enumerate(targets):
        removing, flagging = [], []
        for category in PRECEDENCE:
            target = found.get(category)
            if target is None or (protected[u] and category in ("boilerplate", "syndicated")):
                continue
            action = config.actions[category]
            policy = DEFAULT_ACTIONS[category] if action == "flag-only" else action
            if policy == "keep-first" and target.first:
                continue
            (flagging if action == "flag-only" else removing).append(category)
        removing.sort(key=lambda c: config.actions[c] != "remove-all")
        removed[u] = bool(removing)
        categories.append(tuple(removing + flagging))
    return removed, categories


def _duplicate_documents(units: UnitTable, groups: list[np.ndarray], categories: list[tuple[str, ...]],
                         ranks: np.ndarray, config: Config) -> dict[int, tuple[int, float]]:
    """Documents whose content is covered, at the configured share, by one earlier document."""
    chrome = {"template", "boilerplate"}
    content = np.array([not chrome.intersection(c) for c in categories], dtype=bool)
    lengths = units.end - units.start
    content_chars = np.bincount(units.doc[content], weights=lengths[content], minlength=len(ranks))
    shared: dict[tuple[int, int], int] = defaultdict(int)
    for group in groups:
        group = group[content[group]]
        per_doc: dict[int, int] = defaultdict(int)
        for u, d in zip(group.tolist(), units.doc[group].tolist()):
            per_doc[d] += int(lengths[u])
        if not 1 < len(per_doc) <= MAX_DOCS_FOR_COVERAGE:
            continue
        for d, chars in per_doc.items():
            for e in per_doc:
                if ranks[e] < ranks[d]:
                    shared[(d, e)] += chars
    best: dict[int, tuple[int, float]] = {}
    for (d, e), chars in sorted(shared.items(), key=lambda item: (item[0][0], ranks[item[0][1]])):
        coverage = chars / content_chars[d] if content_chars[d] else 0.0
        if coverage >= config.duplicate_doc_coverage and (d not in best or coverage > best[d][1]):
            best[d] = (e, min(coverage, 1.0))
    return best

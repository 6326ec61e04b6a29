"""Turn clusters and rule matches into categories and actions (SPEC's policy).

Input: the interesting units (cluster members, rule and template matches)
with their cluster labels, sums over all units, where the per-document
stages run, and the documents' stable order. Output: for the units that the
decisions refer to, the categories that target each, whether it is removed,
and the copy it matches; for every document whether it is dropped as a
duplicate. Everything here is a function of stable keys (document
date, then input order, then offset), never of processing order.
"""

from __future__ import annotations

import itertools
import operator
import re
import string
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from functools import lru_cache, partial
from typing import Protocol, TypeVar

import numpy as np
import regex

from dedupe.config import DEFAULT_ACTIONS, Config
from dedupe.document import Document, UnitTable
from dedupe.normalize import normalize
from dedupe.segment import CLOSERS, SENTENCE_ENDS

W = TypeVar("W")
R = TypeVar("R")

# Among categories that remove a unit, the first here names the finding.
PRECEDENCE = ("template", "boilerplate", "syndicated", "repeat")
CONTENT_CATEGORIES = ("repeat", "boilerplate", "syndicated")  # those of the content clusters (`cluster_targets`)
# A cluster spread over more documents than this is chrome, not a reprint,
# and is left out of the document-pair coverage count.
MAX_DOCS_FOR_COVERAGE = 50
# Share of a long cluster's families that must be on sites where it is site-wide for it to be boilerplate.
SITE_MAJORITY = 0.25
# Share of a short sentence's families that must be on sites printing it in `min_docs` families or more for it
# to be their chrome (a share prompt) rather than a wire sentence that one outlet happened to print twice.
CHROME_MAJORITY = 0.5


@dataclass
class Decisions:
    """What happens to the units of the table that `decide` returns with them (the interesting units and
    those that the context rule or a title headline adds; every other unit is kept and flagged by nothing),
    and to every document. Units are rows of that table."""

    flagged: np.ndarray  # units that some category flags (a finding each), in unit order
    cluster: list[str]  # per flagged unit: the cluster of its first category's target
    match: np.ndarray  # per flagged unit: the unit of the copy it matches, -1 when none
    removed: np.ndarray  # bool per unit
    categories: list[tuple[str, ...]]  # per unit: categories that flag it (empty: not a finding)
    dropped: dict[int, tuple[int, float]] = field(default_factory=dict)  # doc -> (canonical doc, coverage): the
    # duplicates found, whatever the action
    gone: dict[int, tuple[int, float]] = field(default_factory=dict)  # the documents that leave the output, each
    # with the document and coverage its finding names (`_leaving`)
    protected: np.ndarray | None = None  # bool per unit: a document's own headline (for API users and tests;
    # what it protects is already in `removed`)
    cluster_members: dict[str, np.ndarray] = field(default_factory=dict)  # name -> units (canonical order,
    # but "context" in unit order)

    def duplicate_root(self, d: int) -> int:
        """The kept document that a dropped one duplicates (`_duplicate_documents` drops a document only for
        one that stays; a caller may hand in decisions that chain)."""
        while d in self.dropped:
            d = self.dropped[d][0]
        return d


def doc_ranks(docs: list[Document]) -> np.ndarray:
    """Rank of each document in canonical order (earliest date, then input order)."""
    order = sorted(range(len(docs)), key=lambda i: docs[i].sort_key())
    ranks = np.empty(len(docs), dtype=np.int64)
    ranks[order] = np.arange(len(docs))
    return ranks


class Texts(Protocol):
    """Where a range function reads its documents' texts: only through `map_documents`, so that each
    document is read once per step, in document order."""

    def map_documents(self, fn: Callable[[str, W], R], work: dict[int, W]) -> dict[int, R]:
        """fn(text of document d, work[d]) for every d in `work`."""
        ...


# Judges pairs (k, 2) of rows of a unit table, (copy, earlier copy): whether each copy reprints its earlier copy.
Judge = Callable[[np.ndarray], np.ndarray]


class Reprints(Protocol):
    """Where `cluster_targets` asks whether syndicated copies reprint earlier copies (`reprints`): it never
    reads a text itself, but judges the pairs where the texts are."""

    def judge(self, units: UnitTable, wanted: np.ndarray, config: Config) -> AbstractContextManager[Judge]:
        """A `Judge` of pairs among the `wanted` rows of `units`, valid inside the context."""
        ...


class Clusters(Protocol):
    """Where stage 1 of `decide` works on the content clusters: each document's family (`_families`), then the
    groups' repeat, boilerplate and syndicated targets (`cluster_targets`), whose reprint checks read texts."""

    def content_targets(self, units: UnitTable, groups: list[np.ndarray], ndocs: np.ndarray, rule_hit: np.ndarray,
                        unmatched_chars: np.ndarray, ranks: np.ndarray, docs: list[Document], config: Config
                        ) -> tuple[dict[str, Targets], np.ndarray]:
        """`cluster_targets` of the `groups` (rows of `units`, in canonical order; `ndocs` documents each), and
        each document's family (`_families`)."""
        ...


class DocumentTexts:
    """Texts at hand: a list, the first pass's `io.DocumentStore`, or a range's texts by document. Its
    judge of reprints slices the wanted units once and compares their texts here; it is the local engine's
    `Clusters`."""

    def __init__(self, texts: Sequence[str] | Mapping[int, str]) -> None:
        self.texts = texts

    def map_documents(self, fn: Callable[[str, W], R], work: dict[int, W]) -> dict[int, R]:
        return {d: fn(self.texts[d], work[d]) for d in sorted(work)}

    @contextmanager
    def judge(self, units: UnitTable, wanted: np.ndarray, config: Config) -> Iterator[Judge]:
        yield text_judge(unit_texts(self, units, wanted), config)

    def content_targets(self, units: UnitTable, groups: list[np.ndarray], ndocs: np.ndarray, rule_hit: np.ndarray,
                        unmatched_chars: np.ndarray, ranks: np.ndarray, docs: list[Document], config: Config
                        ) -> tuple[dict[str, Targets], np.ndarray]:
        family = _families(units, groups, ndocs, rule_hit, unmatched_chars, ranks, config)
        source = source_codes(docs)
        return cluster_targets(units, groups, ndocs, family, source[family], np.bincount(source), self, config), family


def text_judge(text_of: Mapping[int, str], config: Config) -> Judge:
    """A `Judge` of pairs of units whose texts are at hand (`text_of`, by row): `reprints` on each pair."""
    return lambda pairs: np.fromiter((reprints(text_of[u], text_of[v], config) for u, v in pairs.tolist()),
                                     dtype=bool, count=len(pairs))


def source_codes(docs: Sequence[Document]) -> np.ndarray:
    """Each document's source as a number, in order of first appearance: what counting per site needs."""
    code: dict[str, int] = {}
    return np.array([code.setdefault(d.source or "", len(code)) for d in docs], dtype=np.int64)


def unit_texts(texts: Texts, units: UnitTable, wanted: np.ndarray) -> dict[int, str]:
    """The text of each wanted unit (grouped by document with numpy: this is a few hundred thousand units
    in a 1 GB corpus)."""
    wanted = wanted[np.argsort(units.doc[wanted], kind="stable")]
    doc = units.doc[wanted]
    cut = (np.flatnonzero(np.diff(doc)) + 1).tolist()
    docs = doc[[0, *cut]].tolist() if len(doc) else []
    starts, ends = units.start[wanted].tolist(), units.end[wanted].tolist()
    spans = {d: list(zip(starts[a:b], ends[a:b])) for d, a, b in zip(docs, [0, *cut], [*cut, len(doc)])}
    found = texts.map_documents(_slices, spans)
    return dict(zip(wanted.tolist(), itertools.chain.from_iterable(found[d] for d in docs)))


def _slices(text: str, spans: list[tuple[int, int]]) -> list[str]:
    return [text[start:end] for start, end in spans]


def _groups(labels: np.ndarray, ranks: np.ndarray, units: UnitTable, least: int = 2) -> list[np.ndarray]:
    """Members of every label with `least` units or more, each in canonical order."""
    idx = np.flatnonzero(labels >= 0)
    if len(idx) == 0:
        return []
    order = idx[np.lexsort((units.start[idx], ranks[units.doc[idx]], labels[idx]))]
    starts = np.flatnonzero(np.concatenate(([True], labels[order][1:] != labels[order][:-1])))
    ends = np.append(starts[1:], len(order))
    keep = ends - starts >= least  # slicing only the groups kept is much cheaper than splitting all
    return [order[a:b] for a, b in zip(starts[keep].tolist(), ends[keep].tolist())]


_STOPWORDS = frozenset(
    "the a an and or but of to in on at for from by with as is are was were be been has have had it its this that "
    "these those he she they we you i his her their our not no will would can could may after over into about "
    "than then there what which who how why when where new says said".split()
)
HEADLINE_WINDOW = 20
HEADLINE_OVERLAP = 0.5  # share of a headline's words that its own article's text repeats
HEADLINE_MIN_HITS = 3  # and at least this many of them


def _words(norm: str) -> set[str]:
    """Content words cut to 4 letters, a crude stem: warns/warned, default/defaults meet."""
    return {w[:4] for w in norm.split(" ") if len(w) > 2 and w not in _STOPWORDS}


@dataclass
class Zones:
    """Per unit, where it sits in its document (`_zones`)."""

    zone: np.ndarray  # bool: in the headline zone, the HEADLINE_WINDOW units above the document's text
    before: np.ndarray  # bool: above the start of the document's text
    threatened: np.ndarray  # bool: a headline candidate that site-wide repetition or a learned template threatens
    rank: np.ndarray  # int64: position in the document
    own: np.ndarray  # bool: neither chrome nor matched by a rule or learned template
    body_start: np.ndarray  # int64 per document: where its text starts (int64 max: nowhere)


def _zones(units: UnitTable, rule_hit: np.ndarray, learned_hit: np.ndarray, chrome: np.ndarray, shared: np.ndarray,
           ndocs: int) -> Zones:
    """Each document's text start and headline zone (see `_headlines`): a function of each document's own
    units, given which of them are chrome (boilerplate) and shared with other documents, so that an engine
    can compute it where the documents are."""
    n = len(units)
    big = np.iinfo(np.int64).max
    own = ~chrome & ~rule_hit & ~learned_hit
    text = own & (units.words >= 10) & units.sentence_end
    follows = np.zeros(n, dtype=bool)  # the next unit of the same document is text-like too
    follows[:-1] = (own[1:] & (units.words[1:] >= 5)) & (units.doc[1:] == units.doc[:-1])
    body_start = np.full(ndocs, big, dtype=np.int64)
    for pick in (text & follows, text, own & (units.words >= 5)):
        found = np.full(ndocs, big, dtype=np.int64)
        np.minimum.at(found, units.doc[pick], units.start[pick])
        body_start = np.where(body_start == big, found, body_start)
    bounds = np.searchsorted(units.doc, np.arange(ndocs + 1), side="left")
    rank = np.arange(n) - bounds[units.doc]
    body_rank = np.full(ndocs, big, dtype=np.int64)
    starts_at = np.flatnonzero(units.start == body_start[units.doc])
    body_rank[units.doc[starts_at]] = rank[starts_at]
    before = units.start < body_start[units.doc]
    zone = before & (body_rank[units.doc] - rank <= HEADLINE_WINDOW)
    threatened = zone & ~rule_hit & (units.words >= 2) & (shared | learned_hit)
    return Zones(zone, before, threatened, rank, own, body_start)


# Scores lines of documents: rows of units -> their `_headline_scores` scores (through `range_scores`).
Scorer = Callable[[np.ndarray], np.ndarray]


def _headlines(units: UnitTable, cross: list[np.ndarray], alone: np.ndarray, facts: np.ndarray,
               learned_hit: np.ndarray, untitled: np.ndarray, score: Scorer) -> np.ndarray:
    """The headlines of documents without a title, among the units that clusters and learned templates
    threaten; `units` (with `facts`, rows of key, threatened, before and rank per unit from `range_facts`,
    `learned_hit`, and `untitled`: whether the unit's document has no title that gives its headline, `titled`)
    may be only those units, and `cross` (the groups spread over two documents or more) only
    their members, when `alone` (`opening_alone`) was found with all.

    Without a title field, the headline is looked for among the lines
    threatened with removal (shared with other documents, as teasers there,
    or matched by a learned template) that sit in the zone of
    HEADLINE_WINDOW units above the start of the document's text (two prose
    lines in a row; else its first sentence of 10 or more words; never
    boilerplate or a template). Such a line is proposed when no other
    document carries it above its text (chrome opens every page, a headline
    only its own article), or when at least HEADLINE_OVERLAP of its words,
    and HEADLINE_MIN_HITS at least, recur in the text below it (its own
    copies aside), which tells an article's headline from the same line
    teased above other articles. Of a document's proposals, the one whose
    words recur most, then the nearest to the text, is its headline: one per
    document. (With a title field, the unit equal to the title is the
    headline: `_document_outcomes`; not a title that is its site's chrome, `site_titles`.) Returns the rows of
    `units` that are headlines, sorted.

    Three stages, so that an engine can run each where its rows are: `headline_carriers` per whole cross
    group, `headline_proposals` per whole cross group given the scores of the carriers it asks about, and
    `headline_choice` per whole document, given the scores of its proposals when it has several
    (`contested`); between them, lines are scored against their own document's text (`score`).
    """
    carriers = headline_carriers(units, cross, alone, facts[1] > 0, untitled, learned_hit)
    value = np.full(len(carriers.unit), np.nan)
    asked = ~carriers.direct
    value[asked] = score(carriers.unit[asked])
    proposed = headline_proposals(carriers.group, carriers.direct, value)
    unit, value = carriers.unit[proposed], value[proposed]
    doc = units.doc[unit]
    again = contested(doc) & np.isnan(value)
    value[again] = score(unit[again])
    return np.sort(unit[headline_choice(doc, facts[3][unit], value)])


@dataclass
class Carriers:
    """The lines that may be headlines (`headline_carriers`)."""

    unit: np.ndarray  # int64: rows of the units
    group: np.ndarray  # int64: the group of `cross` whose line it is (an index, or any id), -1 for a learned
    # template's line of no cross group
    direct: np.ndarray  # bool: proposed without a score (its group opens one document only)


def headline_carriers(units: UnitTable, cross: list[np.ndarray], alone: np.ndarray, threatened: np.ndarray,
                      untitled: np.ndarray, learned_hit: np.ndarray, ids: np.ndarray | None = None) -> Carriers:
    """Stage 3's first step (`_headlines`), per whole group of `cross` (each in canonical order, `_groups`;
    `alone` per group, `opening_alone`): the threatened lines of documents without a title that may be their
    headline. A group that one document only opens with (a line of 3 words or more) proposes its copy
    nearest to that document's text at once; any other gives, for each document that has it above its text,
    its copy nearest to the text, to be scored. Learned-template lines of no cross group are scored too.
    Groups are numbered by their index in `cross`, or by `ids` when given."""
    early = threatened & untitled
    group, member = _members(cross, early)
    shared = np.zeros(len(units), dtype=bool)
    shared[_members(cross)[1]] = True
    order, first = _by_pair(group, units.doc[member])
    last = order[np.append(first[1:], len(order)) - 1] if len(order) else order  # each (group, document)'s copy
    # nearest to its text
    whole = np.flatnonzero(_changes(group, group)) if len(group) else group  # where each group starts
    opening = np.zeros(len(cross), dtype=bool)
    opening[group[whole]] = alone[group[whole]] & (units.words[member[whole]] >= 3)
    direct = np.append(whole[1:], len(group)) - 1 if len(group) else group  # each group's last
    direct = direct[opening[group[direct]]]
    scored = last[~opening[group[last]]]
    learned = np.flatnonzero(threatened & learned_hit & ~shared & untitled)
    ids = np.arange(len(cross)) if ids is None else ids
    return Carriers(np.concatenate([member[direct], member[scored], learned]),
                    np.concatenate([ids[group[direct]], ids[group[scored]], np.full(len(learned), -1)]),
                    np.concatenate([np.ones(len(direct), bool), np.zeros(len(scored) + len(learned), bool)]))


def headline_proposals(group: np.ndarray, direct: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Stage 3's second step (`_headlines`), per whole group of `headline_carriers`' rows, given the scores of
    those not `direct`: whether each carrier proposes its line. Several carriers of a group may (the article
    scraped twice, or reprinted under it): any scoring HEADLINE_OVERLAP or more, or the best of the group
    when it scores half that and at least twice any other; a learned template's line (group -1) when it
    scores HEADLINE_OVERLAP or more."""
    proposed = direct.copy()
    learned = group < 0
    proposed[learned] = score[learned] >= HEADLINE_OVERLAP
    rows = np.flatnonzero(~direct & ~learned)
    ids, of = np.unique(group[rows], return_inverse=True)
    value = score[rows]
    best = np.zeros(len(ids))
    np.maximum.at(best, of, value)
    runner_up = np.zeros(len(ids))  # scores are 0 or more
    np.maximum.at(runner_up, of, np.where(value < best[of], value, 0.0))
    best, runner_up = best[of], runner_up[of]
    proposed[rows] = (value >= HEADLINE_OVERLAP) | (
        (value == best) & (best >= HEADLINE_OVERLAP / 2) & (runner_up <= best / 2))
    return proposed


def contested(doc: np.ndarray) -> np.ndarray:
    """Per proposal (by its document): whether its document has others, so that all need a score."""
    _, of, counts = np.unique(doc, return_inverse=True, return_counts=True)
    return counts[of] > 1


def headline_choice(doc: np.ndarray, rank: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Stage 3's last step (`_headlines`), per whole document: of the proposals (by document, place in it and
    score), the index of each document's headline: its only proposal, else the one whose words recur most,
    then the nearest to its text."""
    if len(doc) == 0:
        return np.zeros(0, dtype=np.int64)
    several = contested(doc)
    if np.isnan(score[several]).any():
        raise ValueError("a document with several headline proposals has one without a score")
    order = np.lexsort((rank, np.where(several, score, 0.0), doc))
    return order[np.append(doc[order][1:] != doc[order][:-1], True)]


def titled(docs: Sequence[Document], chrome_titles: np.ndarray) -> np.ndarray:
    """Per document, whether its title field gives its headline: a title that is not its site's chrome
    (`site_titles`). The others get a headline looked for among their lines (`_headlines`)."""
    found = np.array([bool(d.title and d.title.strip()) for d in docs], dtype=bool)
    found[chrome_titles] = False
    return found


def opening_alone(units: UnitTable, cross: list[np.ndarray], before: np.ndarray) -> np.ndarray:
    """Per group of `cross`: whether one document only carries it above its text (`before`, per unit): chrome
    opens every page, a headline only its own article."""
    return _distinct_docs(units, cross, before) == 1


def _headline_scores(text: str, work: tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]
                     ) -> list[float]:
    """For lines of one document, given as (start, end, cluster) with its prose below the headline zone,
    the share of each line's words that the prose repeats (its own copies aside), or 0.0 unless at least
    HEADLINE_MIN_HITS of them (2 of a line of 4 words or more) recur."""
    lines, prose = work
    body = [(cluster, _words(normalize(text[start:end]))) for start, end, cluster in prose]
    scores = []
    for start, end, cluster in lines:
        words = _words(normalize(text[start:end]))
        hits = len(set().union(*(w & words for other, w in body if other < 0 or other != cluster)))
        enough = hits >= HEADLINE_MIN_HITS or (hits >= 2 and len(words) >= 4)
        scores.append(hits / len(words) if enough else 0.0)
    return scores


@dataclass
class Interesting:
    """What the cross-document stages of `decide` get from the whole corpus: the interesting units
    (`interesting`, in unit order) with their cluster labels, and sums over all units."""

    units: UnitTable
    labels: np.ndarray  # int64 per unit: its cluster label (-1 for none)
    unmatched_chars: np.ndarray  # per document: characters of its units that no rule matches
    total: int  # units in the corpus
    too_long: int  # units too long to be matched (`max_unit_chars`)


def in_memory(units: UnitTable, labels: np.ndarray, texts: Texts, learned: set[str], ndocs: int, config: Config
              ) -> tuple[Interesting, InMemory]:
    """`decide`'s inputs when all units are in memory (the local engine): one range holds them all."""
    rule_hit, learned_hit = unit_hits(units, learned)
    rows = interesting(labels, rule_hit | learned_hit)
    part = Interesting(units.take(rows), labels[rows], unmatched_chars(units, rule_hit, ndocs), len(units),
                       too_long(units, config))
    return part, InMemory(units, texts, (learned, rule_hit, learned_hit))


def unmatched_chars(units: UnitTable, rule_hit: np.ndarray, ndocs: int) -> np.ndarray:
    """Characters per document (numbered from 0 to `ndocs`) of its units that no rule matches."""
    lengths = units.end - units.start
    return _chars(units.doc[~rule_hit], lengths[~rule_hit], ndocs)


def too_long(units: UnitTable, config: Config) -> int:
    """How many units are too long to be matched (`max_unit_chars`)."""
    return int(((units.end - units.start) > config.max_unit_chars).sum())


def decide(part: Interesting, docs: list[Document], clusters: Clusters, learned: set[str], config: Config,
           where: Units) -> tuple[UnitTable, Decisions]:
    """Apply categories, precedence and actions; see the specification (shared/SPEC.md) and README "Categories".

    The cluster rules work on columns: the members of all clusters as rows of (cluster, unit), each
    category's targets as a `Targets`, per-cluster counts as reductions over sorted rows, and so do the headline
    steps; texts are read only where the range functions run (`where`), and the content
    clusters' families and targets are found by `clusters`, which judges the reprint checks where the texts are.

    Stages, so that the per-document ones run where the documents and their units are (`where`, a `Units`)
    and the cross-document ones hold only the units they look at (`part`: members of clusters of two or
    more, and units that a rule or a learned template matches) plus per-document sums. The local engine
    runs them here; the Spark engine composes the same stage functions on its executors
    (`spark.ExecutorDecisions`), so that no unit comes to its driver:
    1. clusters and templates (`_clusters_and_templates`): on the interesting units;
    2. each document's text start and headline zone (`range_facts`): per document;
    3. headlines of documents without a title (`_headlines`): on the interesting units, in three steps that
       each need whole cross groups or whole documents only, scoring lines against their own document's
       prose (`range_scores`, per document);
    4. the context rule, headline exemptions and each unit's outcome (`range_outcomes`): per document;
    5. duplicate documents (`_duplicate_documents`): on the interesting units and per-document sums.
    What stages 1 and 3 tell stages 2 to 4 about the interesting units travels as `Marks`.

    Returns the units that the decisions refer to, in unit order (the interesting ones and those that stage
    4 flags or protects besides: the context rule's units, title headlines), and the decisions.
    """
    sub, labels = part.units, part.labels
    ranks = doc_ranks(docs)
    rule_hit, learned_hit = unit_hits(sub, learned)
    groups = _groups(labels, ranks, sub)
    found = _clusters_and_templates(sub, groups, docs, ranks, part.unmatched_chars, rule_hit, learned_hit,
                                    clusters, config)
    marks = _marks(sub, groups, found)
    facts = np.concatenate([np.zeros((4, 0), dtype=np.int64),  # an engine may have no range at all
                            *where.map_ranges(partial(range_facts, learned=learned), marks)], axis=1)
    facts = facts[:, np.searchsorted(facts[0], marks.key)]  # every interesting unit has its facts

    def score(lines: np.ndarray) -> np.ndarray:
        ask = np.zeros(len(sub), dtype=bool)
        ask[lines] = True
        got = dict(itertools.chain.from_iterable(
            where.map_ranges(partial(range_scores, learned=learned), replace(marks, ask=ask), texts=True)))
        return np.array([got[key] for key in marks.key[lines].tolist()], dtype=np.float64)

    chrome_titles = site_titles(docs, found.family, config)
    cross = [g for g, k in zip(groups, found.ndocs.tolist()) if k > 1]
    alone = opening_alone(sub, cross, facts[2] > 0)
    untitled = ~titled(docs, chrome_titles)[sub.doc]
    marks.headline[_headlines(sub, cross, alone, facts, learned_hit, untitled, score)] = True
    outcomes = where.map_ranges(partial(range_outcomes, learned=learned, config=config, chrome_titles=chrome_titles),
                                marks)
    extra = [o.extra for o in outcomes if len(o.extra)]
    units, rows = sub, np.arange(len(sub))  # rows: where the interesting units are in the returned table
    if extra:
        units = UnitTable.stack([sub, *extra])
        order = np.argsort(unit_keys(units), kind="stable")
        units, rows = units.take(order), np.argsort(order)[:len(sub)]
    keys, n = unit_keys(units), len(units)
    protected = np.zeros(n, dtype=bool)
    protected[np.searchsorted(keys, np.concatenate([np.zeros(0, dtype=np.int64), *(o.protected for o in outcomes)]))] \
        = True
    context = np.searchsorted(keys, np.concatenate([np.zeros(0, dtype=np.int64), *(o.context for o in outcomes)]))
    kept = np.zeros(n, dtype=np.uint8)
    kept[np.searchsorted(keys, np.concatenate([np.zeros(0, dtype=np.int64), *(o.flagged for o in outcomes)]))] = \
        np.concatenate([np.zeros(0, dtype=np.uint8), *(o.kept for o in outcomes)])
    content_chars = np.zeros(len(docs))
    for o in outcomes:
        content_chars[o.first_doc:o.first_doc + len(o.content_chars)] = o.content_chars
    targets = {category: t.at(rows) for category, t in found.targets.items()}
    names, members = found.names, _renumbered(found.members, rows)
    if len(context):
        members["context"] = context
        targets["boilerplate"] = targets["boilerplate"].plus(Targets.of(
            context, np.full(len(context), len(names)), np.full(len(context), -1), np.zeros(len(context), bool)))
        names = [*names, "context"]
    removed, table = _outcomes(kept, config)
    dropped = _duplicate_documents(sub, groups, (kept[rows] & _CHROME) == 0, content_chars, ranks, config)
    gone = _leaving(dropped, ranks, config)
    _keep_a_surviving_copy(targets["syndicated"], kept, units, gone, ranks, config)
    flagged = np.flatnonzero(kept)
    cluster, match = _primary(targets, flagged, kept, table)
    return units, Decisions(
        flagged, np.array(names, dtype=object)[cluster].tolist(), match, removed, table[kept].tolist(), dropped,
        gone, protected, members)


def unit_hits(units: UnitTable, learned: set[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per unit: whether a rule matches it, and whether a learned template does (and no rule). Python looks
    only at the units with a template key: `map` finds them at C speed."""
    n = len(units)
    rule_hit = np.fromiter(map(operator.is_not, units.rule, itertools.repeat(None)), dtype=bool, count=n)
    learned_hit = np.zeros(n, dtype=bool)
    if learned:
        keyed = np.flatnonzero(np.fromiter(map(operator.is_not, units.template, itertools.repeat(None)),
                                           dtype=bool, count=n))
        learned_hit[keyed] = [units.template[u][0] in learned for u in keyed.tolist()]
    return rule_hit, learned_hit & ~rule_hit


def unit_keys(units: UnitTable) -> np.ndarray:
    """Each unit's key, (document << 32) | start: unique, in unit order, the same wherever the unit is."""
    return (units.doc.astype(np.int64) << 32) | units.start


@dataclass
class Marks:
    """What the cross-document stages tell the per-document ones about the units they look at, by key
    (`unit_keys`, sorted); all else about a unit its own document gives."""

    key: np.ndarray  # int64
    bits: np.ndarray  # uint8: the categories that target the unit (`_BIT`)
    firsts: np.ndarray  # uint8: the categories whose kept copy it is
    shared: np.ndarray  # bool: in a content cluster spread over two documents or more
    group: np.ndarray  # int64: its content cluster's number, -1 for none
    copy: np.ndarray  # int64: the key of the earlier copy of its document that it repeats, -1 for none
    headline: np.ndarray  # bool: the headline `_headlines` chose for its document
    ask: np.ndarray  # bool: a line to score (`range_scores`)

    def spread(self, units: UnitTable) -> Spread:
        """These marks laid over every unit of `units`, in its order."""
        keys = unit_keys(units)
        at = np.minimum(np.searchsorted(self.key, keys), max(len(self.key) - 1, 0))
        return Spread(self, keys, at, self.key[at] == keys if len(self.key) else np.zeros(len(keys), dtype=bool))

    def part(self, lo: int, hi: int) -> Marks:
        """The marks of the units with keys in [lo, hi): what one range of documents needs."""
        a, b = np.searchsorted(self.key, [lo, hi])
        return Marks(*(getattr(self, name)[a:b] for name in Marks.__dataclass_fields__))


@dataclass
class Spread:
    """`Marks` over all units of a range: `hit` says which units have marks, `at` where they are."""

    marks: Marks
    key: np.ndarray  # every unit's key
    at: np.ndarray
    hit: np.ndarray

    def __getattr__(self, name: str) -> np.ndarray:
        """A mark of every unit (zero, False or -1 for units without marks), made when first asked for."""
        if name.startswith("_") or name not in Marks.__dataclass_fields__:  # copy/pickle probes, and typos
            raise AttributeError(name)
        values = getattr(self.marks, name)
        out = np.full(len(self.key), -1 if name in ("group", "copy") else 0, dtype=values.dtype)
        out[self.hit] = values[self.at[self.hit]]
        setattr(self, name, out)
        return out


def _marks(sub: UnitTable, groups: list[np.ndarray], found: Found) -> Marks:
    """The `Marks` of the interesting units (`sub`, in unit order) from what the clusters and templates found."""
    n = len(sub)
    key = unit_keys(sub)
    bits, firsts = _category_bits(found.targets, n)
    group, member = _members(groups)
    group_of = np.full(n, -1, dtype=np.int64)
    group_of[member] = group
    shared = np.zeros(n, dtype=bool)
    shared[member] = found.ndocs[group] > 1
    copy = np.full(n, -1, dtype=np.int64)
    repeat = found.targets["repeat"]
    copy[repeat.unit] = key[repeat.match]
    return Marks(key, bits, firsts, shared, group_of, copy, np.zeros(n, dtype=bool), np.zeros(n, dtype=bool))


class Units(Protocol):
    """Where the per-document stages of `decide` run: over all units at once (`InMemory`), or per range of
    whole documents (the Spark engine's tasks call the range functions themselves). A range function gets a
    `Range` (all units of its documents, in unit order), the texts of its documents and the range's part of
    the marks."""

    def map_ranges(self, fn: Callable[[Range, Texts, Marks], R], marks: Marks, texts: bool = False) -> list[R]:
        """fn(range, texts, marks) for every range, in document order. `texts` says that `fn` reads the
        documents, and only for the lines its marks ask about (`Marks.ask`): an engine may then leave out
        the ranges without any (and hand the other functions no texts)."""
        ...


class InMemory:
    """All units as one range: the local engine's `Units`."""

    def __init__(self, units: UnitTable, texts: Texts,
                 hits: tuple[set[str], np.ndarray, np.ndarray] | None = None) -> None:
        self.range, self.texts = Range(units, hits), texts

    def map_ranges(self, fn: Callable[[Range, Texts, Marks], R], marks: Marks, texts: bool = False) -> list[R]:
        return [fn(self.range, self.texts, marks)]


class Range:
    """The units of a range of whole documents, and what stage 2 computes from them and stage 1's marks,
    kept for the stages after it when the same range serves them (`InMemory`)."""

    def __init__(self, units: UnitTable, hits: tuple[set[str], np.ndarray, np.ndarray] | None = None) -> None:
        self.units = units
        self.hits = hits  # (learned, rule hits, learned-template hits) of these units, when already known
        self.first = int(units.doc[0]) if len(units) else 0  # the range's documents are numbered from it here
        self.local = replace(units, doc=units.doc - self.first)
        self.count = int(units.doc[-1]) - self.first + 1 if len(units) else 0
        self._kept: tuple[tuple[object, ...], Zones, Spread, np.ndarray] | None = None

    def zones(self, learned: set[str], marks: Marks) -> tuple[Zones, Spread, np.ndarray]:
        """Stage 2: the units' zones, the marks spread over them and their learned-template hits. Zones depend
        on the marks' keys, bits and shared flags, which stages 2 to 4 share."""
        same = (marks.key, marks.bits, marks.shared, learned)  # held, so compared by identity safely
        if self._kept is None or any(a is not b for a, b in zip(self._kept[0], same)):
            known = self.hits is not None and self.hits[0] is learned
            rule_hit, learned_hit = self.hits[1:] if known else unit_hits(self.units, learned)
            spread = marks.spread(self.units)
            zones = _zones(self.local, rule_hit, learned_hit, (spread.bits & _BIT["boilerplate"]) > 0, spread.shared,
                           self.count)
            self._kept = (same, zones, spread, learned_hit)
        _, zones, spread, learned_hit = self._kept
        return zones, Spread(marks, spread.key, spread.at, spread.hit), learned_hit


def range_facts(part: Range, texts: Texts, marks: Marks, learned: set[str]) -> np.ndarray:
    """Stage 2 on a range, for its marked units: rows of keys, threatened, before and rank (what `_headlines`
    needs), int64."""
    zones, mine, _ = part.zones(learned, marks)
    rows = np.flatnonzero(mine.hit)
    return np.stack((mine.key[rows], zones.threatened[rows], zones.before[rows], zones.rank[rows])).astype(np.int64)


def range_scores(part: Range, texts: Texts, marks: Marks, learned: set[str]) -> list[tuple[int, float]]:
    """Stage 3's per-document part on a range: (key, `_headline_scores` score) of each line to score
    (`Marks.ask`), against the prose of its document, each document read once through `texts`."""
    if not marks.ask.any():
        return []
    zones, mine, _ = part.zones(learned, marks)
    asked = np.flatnonzero(mine.ask)
    units, local, first = part.units, part.local, part.first
    bounds = np.searchsorted(local.doc, np.arange(int(local.doc[-1]) + 2), side="left")
    work, order = {}, {}
    for d in np.unique(local.doc[asked]).tolist():
        lines = asked[local.doc[asked] == d]
        span = np.arange(bounds[d], bounds[d + 1])
        prose = span[zones.own[span] & (units.words[span] >= 10) & (units.start[span] >= zones.body_start[d])]
        work[first + d] = (list(zip(units.start[lines].tolist(), units.end[lines].tolist(),
                                    mine.group[lines].tolist())),
                           list(zip(units.start[prose].tolist(), units.end[prose].tolist(),
                                    mine.group[prose].tolist())))
        order[first + d] = mine.key[lines].tolist()
    found = texts.map_documents(_headline_scores, work)
    return [pair for d in work for pair in zip(order[d], found[d])]


@dataclass
class RangeOutcomes:
    """Stage 4's results for one range (`range_outcomes`)."""

    first_doc: int  # the range's first document
    protected: np.ndarray  # keys of its protected headlines
    context: np.ndarray  # keys of the units the context rule makes boilerplate
    flagged: np.ndarray  # keys of the units some category flags
    kept: np.ndarray  # uint8: the categories that flag them (`_act`)
    content_chars: np.ndarray  # per document of the range: characters of its content (neither chrome nor template)
    extra: UnitTable  # the protected and context units without marks (the cross-document stages hold only marked
    # ones)


def range_outcomes(part: Range, texts: Texts, marks: Marks, learned: set[str], config: Config,
                   chrome_titles: np.ndarray) -> RangeOutcomes:
    """Stage 4 on a range: protected headlines, the context rule and each unit's flagging categories. The
    documents `chrome_titles` lists (sorted) have no title to protect (`site_titles`)."""
    zones, mine, learned_hit = part.zones(learned, marks)
    units, local = part.units, part.local
    if len(chrome_titles):
        local = replace(local, title=local.title & ~np.isin(units.doc, chrome_titles))
    copies = np.flatnonzero(mine.copy >= 0)
    repeat = Targets.of(copies, np.zeros(len(copies)), np.searchsorted(mine.key, mine.copy[copies]),
                        np.zeros(len(copies), dtype=bool))
    protected, context, kept = _document_outcomes(local, mine.bits.copy(), mine.firsts, mine.headline, zones.zone,
                                                  repeat, learned_hit, config)
    lengths = units.end - units.start
    content = (kept & _CHROME) == 0
    flagged = np.flatnonzero(kept)
    extra = protected.copy()
    extra[context] = True
    extra &= ~mine.hit
    return RangeOutcomes(part.first, mine.key[protected], mine.key[context], mine.key[flagged], kept[flagged],
                         _chars(local.doc[content], lengths[content], part.count), units.take(np.flatnonzero(extra)))


def interesting(labels: np.ndarray, matched: np.ndarray) -> np.ndarray:
    """The units that the cross-document stages of `decide` look at, in unit order: the members of
    clusters of two or more (by their `labels`, -1 for none) and the units a rule or learned template
    matches (`matched`)."""
    clustered = labels >= 0
    if clustered.any():  # labels can be any non-negative numbers: counted by sorting
        _, at, counts = np.unique(labels[clustered], return_inverse=True, return_counts=True)
        clustered[clustered] = counts[at] > 1
    return np.flatnonzero(clustered | matched)


def _renumbered(members: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    """Member arrays of rows of a sub-table as the units `rows` says they are (one gather, then slices)."""
    if not members:
        return {}
    sizes = np.fromiter(map(len, members.values()), dtype=np.int64, count=len(members))
    flat = rows[np.concatenate(list(members.values()))]
    ends = np.cumsum(sizes).tolist()
    return {name: flat[a:b] for name, a, b in zip(members, [0, *ends[:-1]], ends)}


def _chars(doc: np.ndarray, lengths: np.ndarray, ndocs: int) -> np.ndarray:
    """Characters per document of the units given by their documents and lengths (a per-document sum)."""
    return np.bincount(doc, weights=lengths, minlength=ndocs)


@dataclass
class Found:
    """What `_clusters_and_templates` finds: positions are rows of the table it was given."""

    targets: dict[str, Targets]  # per category
    names: list[str]  # cluster names, indexed by `Targets.cluster`
    members: dict[str, np.ndarray]  # cluster name -> members in canonical order
    ndocs: np.ndarray  # documents per content cluster
    family: np.ndarray  # per document: its family (`_families`)


def _clusters_and_templates(units: UnitTable, groups: list[np.ndarray], docs: list[Document], ranks: np.ndarray,
                            unmatched_chars: np.ndarray, rule_hit: np.ndarray, learned_hit: np.ndarray,
                            clusters: Clusters, config: Config) -> Found:
    """Repeats, boilerplate and syndication from the content clusters, templates from rules and learned
    templates. Needs only the interesting units (`interesting`), and each document's characters outside
    rule matches (`unmatched_chars`) for the families."""
    ndocs = _distinct_docs(units, groups)
    names = _content_names(units, groups)
    members: dict[str, np.ndarray] = dict(zip(names, groups))
    targets, family = clusters.content_targets(units, groups, ndocs, rule_hit, unmatched_chars, ranks, docs, config)
    targets["template"], rules = _template_targets(units, ranks, rule_hit | learned_hit, len(names))
    members.update(rules)
    return Found(targets, names + list(rules), members, ndocs, family)


def site_titles(docs: Sequence[Document], family: np.ndarray, config: Config) -> np.ndarray:
    """The documents (sorted) whose title field is their site's chrome, not a headline: the same title on
    `min_docs` families or more (`_families`: a page scraped twice is one) of one known source, such as
    `Enter City and State or Zip Code`, `Print`, a section's or the site's name, or a sidebar's headline that
    a scraper took for every page's. A headline that many outlets print (a wire story's) stays a headline."""
    keys = [(d.source, d.title.strip()) if d.source and d.title and d.title.strip() else None for d in docs]
    count = Counter(key for key, _ in {(k, f) for k, f in zip(keys, family.tolist()) if k is not None})
    return np.array([i for i, k in enumerate(keys) if k is not None and count[k] >= config.min_docs], dtype=np.int64)


def _document_outcomes(units: UnitTable, bits: np.ndarray, firsts: np.ndarray, headlines: np.ndarray,
                       zone: np.ndarray, repeat: Targets, learned_hit: np.ndarray, config: Config
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per document: its protected headline (the unit equal to its title, else the one `_headlines` chose),
    the context rule's units (added to `bits` as boilerplate), and the categories that flag each unit
    (`_act`). Returns (protected, context units, flagging bits)."""
    protected = headlines.copy()
    title_units = np.flatnonzero(units.title)  # equal to their document's title (computed in the first pass)
    if len(title_units):
        _, first = np.unique(units.doc[title_units], return_index=True)
        protected[title_units[first]] = True
    context = _context(units, bits, protected, zone, config)
    bits[context] |= _BIT["boilerplate"]
    flags = _act(repeat, bits, firsts, protected, learned_hit | units.title, config)
    _labels(units, flags, repeat, config)
    return protected, context, flags


def _labels(units: UnitTable, flags: np.ndarray, repeat: Targets, config: Config) -> None:
    """Clear the flags of the labels that open speakers' turns or sections (`UnitTable.label_line`: "CHUCK TODD:",
    "Return visitors:"): a label that recurs in its document (`repeat` pairs its copies), that only repeats or
    boilerplate flag, and that text which stays follows: the next unit in its document, past lines that
    a template or rule removes (an advertisement), stays and is not a label. Removed as the repeats they are,
    a transcript would lose who says what (the turn would run into the previous speaker's) and a guide its
    sections. A label once on a page ("Now Playing:", "Tags:" on many pages), and one followed by another
    label, by repeats or chrome that go, or by nothing, go."""
    n = len(units)
    recurs = np.zeros(n, dtype=bool)
    recurs[repeat.unit] = True
    recurs[repeat.match] = True
    removing = sum(_BIT[c] for c in PRECEDENCE if config.actions[c] != "flag-only")
    removed = flags & removing
    stops = np.flatnonzero(((removed & _BIT["template"]) == 0) | units.label_line)  # what a template removes is passed
    after = stops[np.minimum(np.searchsorted(stops, np.arange(n), side="right"), max(len(stops) - 1, 0))] \
        if len(stops) else np.zeros(n, dtype=np.int64)
    text = (after > np.arange(n)) & (units.doc[after] == units.doc) & ~units.label_line[after] & \
        (removed[after] == 0)  # the first unit after it that no template removes, in its document, stays
    others = np.uint8(0xFF ^ (_BIT["repeat"] | _BIT["boilerplate"]))
    flags[units.label_line & recurs & text & (flags > 0) & ((flags & others) == 0)] = 0


@dataclass
class Targets:
    """The units one category targets, in unit order: for each, its cluster (an index into the run's
    cluster names), the copy it matches (-1 when none, as for rules) and whether it is the kept copy under
    keep-first. A category targets a unit at most once."""

    unit: np.ndarray
    cluster: np.ndarray
    match: np.ndarray
    first: np.ndarray

    @classmethod
    def of(cls, unit: np.ndarray, cluster: np.ndarray, match: np.ndarray, first: np.ndarray) -> Targets:
        order = np.argsort(unit, kind="stable")
        return cls(unit[order], cluster[order].astype(np.int64), match[order].astype(np.int64),
                   first[order].astype(bool))

    def plus(self, other: Targets) -> Targets:
        return Targets.of(*(np.concatenate((a, b)) for a, b in zip(
            (self.unit, self.cluster, self.match, self.first), (other.unit, other.cluster, other.match, other.first))))

    def at(self, rows: np.ndarray) -> Targets:
        """These targets with units and matches given as rows of a sub-table turned into `rows[...]`."""
        return Targets(rows[self.unit], self.cluster, np.where(self.match >= 0, rows[np.maximum(self.match, 0)], -1),
                       self.first)

    def find(self, units: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where each of `units` is in this table, and whether it is there at all."""
        at = np.minimum(np.searchsorted(self.unit, units), max(len(self.unit) - 1, 0))
        return at, (self.unit[at] == units) if len(self.unit) else np.zeros(len(units), dtype=bool)


_NO_TARGETS = Targets(*(np.zeros(0, dtype=np.int64),) * 3, np.zeros(0, dtype=bool))


def _content_names(units: UnitTable, groups: list[np.ndarray]) -> list[str]:
    """Content clusters' ids, numbered in input order of their first unit (readable and stable)."""
    if not groups:
        return []
    group, member = _members(groups)
    starts = np.flatnonzero(np.concatenate(([True], group[1:] != group[:-1])))
    number = np.empty(len(groups), dtype=np.int64)
    number[np.lexsort((np.minimum.reduceat(member, starts), np.minimum.reduceat(units.doc[member], starts)))] = \
        np.arange(1, len(groups) + 1)
    return [f"c{k}" for k in number.tolist()]


def cluster_targets(units: UnitTable, groups: list[np.ndarray], ndocs: np.ndarray, family: np.ndarray,
                    family_source: np.ndarray, per_source: np.ndarray, texts: Reprints, config: Config
                    ) -> dict[str, Targets]:
    """Repeat, boilerplate and syndicated targets of the content clusters (cluster index = group number).

    In a cluster, each document's later copies repeat its first one. A cluster in `min_docs` families or
    more is boilerplate, unless it is long (syndicated_min_words, or prose_min_words with most members
    ending a sentence): a long cluster is boilerplate only when one site repeats it on at least
    `long_boilerplate_min_docs` pages and `boilerplate_site_share` of its pages, and a short sentence that
    sites repeating it in `min_docs` families print in half of its families is their chrome. Otherwise a
    long cluster in two documents or more is syndicated: each later document's first copy reprints the
    earliest copy that it does not merely quote (`first_reprinted`).

    Every group is decided on its own, given its documents' families (`family`, per document: any number that
    names the family), the source of each family's first document (`family_source`, per document, a code of
    `source_codes`) and the documents per source in the corpus (`per_source`): an engine can split the groups.
    """
    targets = dict.fromkeys(CONTENT_CATEGORIES, _NO_TARGETS)
    group, member = _members(groups)
    if len(member) == 0:
        return targets
    doc = units.doc[member]
    rows = np.arange(len(member))
    start = np.flatnonzero(np.concatenate(([True], group[1:] != group[:-1])))  # each group's first row
    head = _changes(group, doc)  # a document's first row
    first = member[np.maximum.accumulate(np.where(head, rows, 0))]  # the first copy in the row's document
    most = np.maximum.reduceat(units.words[member], start)
    ends = np.add.reduceat(units.sentence_end[member].astype(np.int64), start)
    long = (most >= config.syndicated_min_words) | (
        (most >= config.prose_min_words) & (2 * ends > np.diff(np.append(start, len(member)))))
    boiler, long = _boilerplate(group, family[doc], family_source[doc], per_source, most, long, config)

    later = ~head  # repeats: later copies within one document
    targets["repeat"] = Targets.of(member[later], group[later], first[later], np.zeros(int(later.sum()), bool))
    chrome = boiler[group]  # boilerplate: every copy; the kept one is the group's first, matching the second
    rep = start[group[chrome]]
    is_rep = rows[chrome] == rep
    targets["boilerplate"] = Targets.of(member[chrome], group[chrome], member[np.where(is_rep, rep + 1, rep)], is_rep)

    heads = np.flatnonzero(head & ~boiler[group] & long[group] & (ndocs[group] > 1))
    if len(heads):
        every = np.flatnonzero(head)  # the documents' first rows, in order, for "the next document's copy"
        position = np.searchsorted(every, heads)
        opening = heads == start[group[heads]]  # the canonical copy, matching the next document's
        match = np.where(opening, member[every[np.minimum(position + 1, len(every) - 1)]], -1)
        if config.quote_share <= 0 and config.own_sentence_share <= 0:
            match[~opening] = member[start[group[heads[~opening]]]]
        else:
            earliest = np.searchsorted(every, start[group[heads]])
            checked = np.zeros(len(start), dtype=bool)  # groups where a later document's copy is checked
            checked[group[heads[~opening]]] = True
            later = np.flatnonzero(~opening)
            with texts.judge(units, member[heads[checked[group[heads]]]], config) as judge:
                match[later] = first_reprinted(member[heads[later]], [
                    member[every[a:b]] for a, b in zip(earliest[later].tolist(), position[later].tolist())], judge)
        ok = match >= 0
        targets["syndicated"] = Targets.of(member[heads[ok]], group[heads[ok]], match[ok], opening[ok])
    return targets


def reprint_candidates(units: UnitTable, groups: list[np.ndarray], ndocs: np.ndarray, config: Config) -> np.ndarray:
    """The rows whose texts `cluster_targets` may compare: each document's first copy in a group that spans two
    documents or more and whose longest member is long enough to be syndicated (the groups it checks are
    among these, whatever the families)."""
    group, member = _members(groups)
    if len(member) == 0:
        return member
    most = np.zeros(len(groups), dtype=np.int64)
    np.maximum.at(most, group, units.words[member])
    could = (ndocs > 1) & (most >= min(config.syndicated_min_words, config.prose_min_words))
    return np.unique(member[_changes(group, units.doc[member]) & could[group]])


def _boilerplate(group: np.ndarray, fam: np.ndarray, source: np.ndarray, per_source: np.ndarray, most: np.ndarray,
                 long: np.ndarray, config: Config) -> tuple[np.ndarray, np.ndarray]:
    """Per group: whether it is boilerplate, and whether it still counts as long (see `cluster_targets`),
    given each member's family and that family's source code, and the documents per source (`per_source`).

    Families, not documents, are counted, so that a page scraped twice does not make its own lines recur. A
    long group is chrome (a site's "About us" footer, an archive's or a consent vendor's notice on many sites)
    when the sites where it is site-wide hold at least `SITE_MAJORITY` of its families: a paragraph that many
    outlets print once or twice each (a wire lede, a quoted statement) is not furniture however often one of
    them repeats it, and stays syndicated. A short one (under `syndicated_min_words`) is chrome (a share
    prompt) when sites that print it in `min_docs` families or more hold `CHROME_MAJORITY` of its families: a
    wire sentence that one outlet printed on two pages among many outlets' copies stays syndicated."""
    order, first = _by_pair(group, fam)
    group, source = group[order[first]], source[order[first]]  # one row per (group, family)
    families = np.bincount(group, minlength=len(most))
    boiler = families >= config.min_docs
    check = boiler & long
    if not check.any():
        return boiler, long
    keep = check[group]
    key = group[keep] * len(per_source) + source[keep]
    pair, count = np.unique(key, return_counts=True)  # families per (group, source of the family's document)
    pair_group, pair_source = pair // len(per_source), pair % len(per_source)
    repeated = count >= config.min_docs  # a site that prints it in min_docs of its families or more
    on_repeating_sites = np.bincount(pair_group[repeated], weights=count[repeated], minlength=len(most))
    on_site = (count >= config.long_boilerplate_min_docs) & (count >= config.boilerplate_site_share
                                                             * per_source[pair_source])
    # Families on the sites where the group is site-wide, against all of its families.
    site_wide = (np.bincount(pair_group[on_site], weights=count[on_site], minlength=len(most))
                 >= SITE_MAJORITY * families)
    chrome = check & (most < config.syndicated_min_words) & (on_repeating_sites >= CHROME_MAJORITY * families)
    return np.where(check & ~chrome, site_wide, boiler), long & ~chrome


# Quotations: curly, straight and angle double quotes, doubled single openers (‘‘...’’), single quotes that
# hold no apostrophe, CJK brackets; a curly or angle quote left open runs to the end of the paragraph (a
# quote that continues in the next one).
_QUOTE = regex.compile(
    r'“[^“”]*(?:”|$)|"[^"]*"|«[^«»]*(?:»|$)|„[^„“”]*(?:[“”]|$)|‘‘[^‘’“”]*(?:’’|”|$)'
    r"|(?<!\w)[‘'][^‘’'\n]{2,}?[’'](?!\w)|「[^「」]*」|『[^『』]*』"
)


def reprints(copy: str, canonical: str, config: Config) -> bool:
    """Whether a paragraph reprints an earlier copy of it: it does not merely quote the same speaker
    (`_same_quote_only`), nor add reporting of its own (`_adds_own_sentence`)."""
    return not _same_quote_only(copy, canonical, config.quote_share) and \
        not _adds_own_sentence(copy, canonical, config.own_sentence_share, config.prose_min_words)


def first_reprinted(copies: np.ndarray, earlier: list[np.ndarray], judge: Judge) -> np.ndarray:
    """For each copy, the first of its earlier copies (in canonical order) that it reprints, -1 for none.

    The pairs are judged in rounds, each copy's next few earlier copies at a time, four times as many each
    round: a copy nearly always reprints its first earlier copy, so this judges about as few pairs as a
    scan that stops at the first, in a few batches that an engine can send where the texts are."""
    found = np.full(len(copies), -1, dtype=np.int64)
    done = np.zeros(len(copies), dtype=np.int64)  # earlier copies judged so far, per copy
    total = np.fromiter(map(len, earlier), dtype=np.int64, count=len(earlier))
    pending = np.flatnonzero(total)
    width = 1
    while len(pending):
        batches = [earlier[i][done[i]:done[i] + width] for i in pending.tolist()]
        sizes = np.fromiter(map(len, batches), dtype=np.int64, count=len(batches))
        flat = np.concatenate(batches)
        ok = judge(np.column_stack((np.repeat(copies[pending], sizes), flat)))
        ends = np.cumsum(sizes)
        hits = np.append(np.flatnonzero(ok), len(ok))  # a sentinel past the end
        at = hits[np.searchsorted(hits, ends - sizes)]  # the first reprinted pair at or after each batch's start
        hit = at < ends
        found[pending[hit]] = flat[at[hit]]
        done[pending] += width
        pending = pending[~hit & (done[pending] < total[pending])]
        width *= 4
    return found


# Where a sentence ends inside a paragraph: after its closing punctuation (and quotes or brackets), before space.
# The standard library's `re` and `str.translate`: twice as fast as `regex` and `normalize` on this path.
_SENTENCE_BREAK = re.compile(rf"(?<=[{re.escape(SENTENCE_ENDS)}])[{re.escape(CLOSERS)}]*\s+")
_NO_PUNCTUATION = str.maketrans(dict.fromkeys(string.punctuation + "“”‘’«»„‹›–—…", " "))


def _plain_words(text: str) -> list[str]:
    """Casefolded words, with ASCII and common typographic punctuation taken out."""
    return text.casefold().translate(_NO_PUNCTUATION).split()


@lru_cache(maxsize=1024)  # most copies of a cluster are compared with its canonical copy, the same string
def _known_words(text: str) -> frozenset[str]:
    return frozenset(_plain_words(text))


def _adds_own_sentence(copy: str, canonical: str, share: float, min_words: int) -> bool:
    """True when `copy` has a sentence of at least `min_words` words under `share` of which are in
    `canonical`: an outlet's own reporting (a sentence added to the wire paragraph, or the rest of a
    paragraph that the earlier copy cut short with "..."), which removing the copy would lose. 0: off."""
    if share <= 0:
        return False
    known = _known_words(canonical)
    words = _plain_words(copy)
    if len(words) - sum(map(known.__contains__, words)) <= (1 - share) * min_words:
        return False  # too few new words for any sentence to be one of its own
    for sentence in _SENTENCE_BREAK.split(copy):
        words = _plain_words(sentence)
        if len(words) >= min_words and sum(map(known.__contains__, words)) < share * len(words):
            return True
    return False


def _same_quote_only(copy: str, canonical: str, share: float) -> bool:
    """True when two matching paragraphs share a quotation but not the reporting around it.

    Outlets that quote one speaker (a tweet, a televised remark) print near-identical paragraphs without
    reprinting each other. When at least `share` of either paragraph's words are inside quotation marks, the
    words that neither paragraph quotes (the attribution, the framing) are compared, and if fewer than half
    of them are shared the pair is not a reprint; nor is it when one prints the quotation bare (an embedded
    tweet or statement) and the other in quotation marks, with nothing else around it. Words quoted in either
    text are set aside in both, so an edit that breaks a quote mark does not turn a reprint into a quotation.
    A `share` of 0 turns the check off.
    """
    if share <= 0:
        return False
    found = [_QUOTE.findall(text) for text in (copy, canonical)]
    if not found[0] and not found[1]:  # no quotation at all (most paragraphs): no quoted share to reach
        return False
    quoted: set[str] = set()
    quoted_share = 0.0
    words = []
    has_quotes = []
    for text, quotes in zip((copy, canonical), found):
        all_words = normalize(text).split()
        inside = [w for m in quotes for w in normalize(m).split()]
        quoted.update(inside)
        quoted_share = max(quoted_share, len(inside) / (len(all_words) or 1))
        words.append(set(all_words))
        has_quotes.append(bool(inside))
    if quoted_share < share:
        return False
    a, b = (w - quoted for w in words)
    union = a | b
    if not union:  # nothing but the quotation: printed bare (an embedded tweet) by one, quoted by the other
        return has_quotes[0] != has_quotes[1]
    return len(a & b) / len(union) < 0.5


_BIT = {category: 1 << i for i, category in enumerate(PRECEDENCE)}
_CHROME = _BIT["boilerplate"] | _BIT["template"]


def _category_bits(targets: dict[str, Targets], n: int) -> tuple[np.ndarray, np.ndarray]:
    """For each of n units, a bit (`_BIT`) for every category that targets it, and one for every category
    whose target is the kept copy (`Targets.first`)."""
    bits, firsts = np.zeros(n, dtype=np.uint8), np.zeros(n, dtype=np.uint8)
    for category, t in targets.items():
        bits[t.unit] |= _BIT[category]
        firsts[t.unit[t.first]] |= _BIT[category]
    return bits, firsts


def _context(units: UnitTable, bits: np.ndarray, protected: np.ndarray, zone: np.ndarray,
             config: Config) -> np.ndarray:
    """Short lines inside chrome: boilerplate that occurs once (jusText's context rule).

    A run of at most `context_max_run` consecutive units of one document that
    no category flags, each under `context_max_words` words, with boilerplate
    or template units right before and right after it, is boilerplate too: a
    one-off menu item, teaser or widget label between lines of a site's chrome.
    Runs at the start or end of a document, runs holding a line of the headline
    zone just above the text, and protected headlines are left alone (a
    headline is not chrome either when it bounds a run).
    """
    n = len(units)
    if config.context_max_words <= 0 or config.context_max_run <= 0 or n == 0:
        return np.zeros(0, dtype=np.int64)
    chrome = ((bits & _CHROME) > 0) & ~protected
    free = (bits == 0) & ~protected
    small = (units.words < config.context_max_words) & ~zone
    # Maximal runs of free units within one document.
    change = np.ones(n, dtype=bool)
    change[1:] = (free[1:] != free[:-1]) | (units.doc[1:] != units.doc[:-1])
    starts = np.flatnonzero(change)
    ends = np.append(starts[1:], n)
    keep = free[starts]
    starts, ends = starts[keep], ends[keep]
    doc = units.doc[starts]
    left = (starts > 0) & chrome[np.maximum(starts - 1, 0)] & (units.doc[np.maximum(starts - 1, 0)] == doc)
    right = (ends < n) & chrome[np.minimum(ends, n - 1)] & (units.doc[np.minimum(ends, n - 1)] == doc)
    not_small = np.concatenate(([0], np.cumsum(~small)))
    all_small = not_small[ends] - not_small[starts] == 0
    chosen = left & right & (ends - starts <= config.context_max_run) & all_small
    if not chosen.any():
        return np.zeros(0, dtype=np.int64)
    return np.concatenate([np.arange(s, e) for s, e in zip(starts[chosen], ends[chosen])])


def _template_targets(units: UnitTable, ranks: np.ndarray, hit: np.ndarray, base: int
                      ) -> tuple[Targets, dict[str, np.ndarray]]:
    """Units matched by a rule or a learned template: one cluster per rule or template (numbered from
    `base`, in order of first match), the earliest copy kept under keep-first. Also returns each cluster's
    members in canonical order."""
    found = np.flatnonzero(hit)
    index: dict[str, int] = {}
    code = np.fromiter((index.setdefault(f"rule:{rule}" if (rule := units.rule[u]) is not None
                                         else f"template:{units.template[u][0]}", len(index))
                        for u in found.tolist()), dtype=np.int64, count=len(found))
    order = np.lexsort((units.start[found], ranks[units.doc[found]], code))
    found, code = found[order], code[order]
    starts = np.flatnonzero(np.concatenate(([True], code[1:] != code[:-1]))) if len(code) else code
    first = np.zeros(len(found), dtype=bool)
    first[starts] = True
    return (Targets.of(found, base + code, np.full(len(found), -1), first),
            dict(zip(index, np.split(found, starts[1:]))))


def _act(repeat: Targets, bits: np.ndarray, firsts: np.ndarray, protected: np.ndarray, template_exempt: np.ndarray,
         config: Config) -> np.ndarray:
    """The categories (`_BIT`s) that flag each unit: those that target it, but not the kept copy of a
    keep-first category.

    A protected headline is exempt from boilerplate and syndication, and from
    templates where `template_exempt` says so: a learned template (a site's
    `Study: ...` headlines are not its `Watch: ...` links), or any rule when
    the headline is its document's title field (`PHOTOS: ...` as a title is
    the article's own headline). A guessed headline matched by a built-in rule
    is not exempt. A headline is a repeat only of an earlier copy that stays:
    when that copy is a teaser removed as boilerplate or template, the
    headline is the copy the document keeps.
    """
    keep_first = sum(_BIT[c] for c in PRECEDENCE if _policy(c, config) == "keep-first")
    kept = bits & ~(firsts & keep_first)
    headline = np.flatnonzero(protected & (bits > 0))
    exempt = np.where(template_exempt[headline], _BIT["template"], 0) | _BIT["boilerplate"] | _BIT["syndicated"]
    at, repeats = repeat.find(headline)
    copy = repeat.match[at[repeats]]
    exempt[repeats] |= np.where(~protected[copy] & ((bits[copy] & _CHROME) > 0), _BIT["repeat"], 0)
    kept[headline] &= (0xFF ^ exempt).astype(np.uint8)
    return kept


def _leaving(dropped: dict[int, tuple[int, float]], ranks: np.ndarray, config: Config) -> dict[int, tuple[int, float]]:
    """The documents that leave the output under the duplicate_document action: the duplicates found
    (keep-first), none (flag-only), or every document of a duplicate group, the earliest too (remove-all),
    whose finding then names its earliest duplicate and that duplicate's coverage."""
    action = config.actions["duplicate_document"]
    if action == "flag-only":
        return {}
    gone = dict(dropped)
    if action == "remove-all":
        for d in sorted(dropped, key=lambda d: ranks[d]):  # a document is dropped for one that is not
            gone.setdefault(dropped[d][0], (d, dropped[d][1]))
    return dict(sorted(gone.items()))


def _keep_a_surviving_copy(syndicated: Targets, kept: np.ndarray, units: UnitTable,
                           dropped: dict[int, tuple[int, float]], ranks: np.ndarray, config: Config) -> None:
    """Under keep-first, a syndicated cluster whose kept (canonical) copy is in a document that leaves the output
    (`dropped`, as `_leaving` gives them) keeps its earliest copy in a document that stays: the dropped
    document's duplicate need not hold that paragraph, and the corpus would otherwise lose every copy. Clears
    that copy's syndicated bit in `kept`.
    A copy that matched a copy in a dropped document matches its cluster's kept copy instead."""
    if _policy("syndicated", config) != "keep-first" or not dropped or len(syndicated.unit) == 0:
        return
    gone = np.zeros(len(ranks), dtype=bool)
    gone[list(dropped)] = True
    doc = units.doc[syndicated.unit]
    lost = np.unique(syndicated.cluster[syndicated.first & gone[doc]])
    rows = np.flatnonzero(np.isin(syndicated.cluster, lost) & ~gone[doc])
    rows = rows[np.lexsort((units.start[syndicated.unit[rows]], ranks[doc[rows]], syndicated.cluster[rows]))]
    instead = rows[np.concatenate(([True], syndicated.cluster[rows[1:]] != syndicated.cluster[rows[:-1]]))] \
        if len(rows) else rows
    kept[syndicated.unit[instead]] &= np.uint8(0xFF ^ _BIT["syndicated"])
    keepers = np.concatenate((np.flatnonzero(syndicated.first & ~gone[doc]), instead))
    keepers = keepers[np.argsort(syndicated.cluster[keepers], kind="stable")]
    saved, match = syndicated.cluster[keepers], syndicated.match
    stale = np.flatnonzero(np.isin(syndicated.cluster, saved) & (match >= 0) & gone[units.doc[np.maximum(match, 0)]])
    now = syndicated.unit[keepers[np.searchsorted(saved, syndicated.cluster[stale])]]
    mine = now == syndicated.unit[stale]
    match[stale[~mine]] = now[~mine]


def _policy(category: str, config: Config) -> str:
    """What the category's action does to the copies (flag-only acts like the category's default)."""
    action = config.actions[category]
    return DEFAULT_ACTIONS[category] if action == "flag-only" else action


def _outcomes(kept: np.ndarray, config: Config) -> tuple[np.ndarray, np.ndarray]:
    """Whether each unit is removed, and for each combination of category bits the categories that flag
    it: those that remove it (remove-all first, then in PRECEDENCE order), then those that only flag it."""
    flag_only = sum(_BIT[c] for c in PRECEDENCE if config.actions[c] == "flag-only")
    table = np.empty(1 << len(PRECEDENCE), dtype=object)  # one shared tuple per combination of categories
    for code in range(len(table)):
        present = [c for c in PRECEDENCE if code & _BIT[c]]
        removing = sorted((c for c in present if not _BIT[c] & flag_only),
                          key=lambda c: config.actions[c] != "remove-all")
        table[code] = tuple(removing + [c for c in present if _BIT[c] & flag_only])
    return (kept & (0xFF ^ flag_only)) > 0, table


def _primary(targets: dict[str, Targets], flagged: np.ndarray, kept: np.ndarray, table: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    """Per flagged unit, the cluster and matching copy of the category that names its finding."""
    category = np.array([PRECEDENCE.index(c[0]) if c else -1 for c in table], dtype=np.int64)[kept[flagged]]
    cluster, match = np.empty(len(flagged), dtype=np.int64), np.empty(len(flagged), dtype=np.int64)
    for number, name in enumerate(PRECEDENCE):
        rows = np.flatnonzero(category == number)
        at = np.searchsorted(targets[name].unit, flagged[rows])
        cluster[rows], match[rows] = targets[name].cluster[at], targets[name].match[at]
    return cluster, match


def _families(units: UnitTable, groups: list[np.ndarray], ndocs: np.ndarray, rule_hit: np.ndarray,
              unmatched_chars: np.ndarray, ranks: np.ndarray, config: Config) -> np.ndarray:
    """Each document's family: the earliest document it is a near-duplicate of (itself if none).

    A first look for duplicate documents, before categories exist: content is
    every unit not matched by a rule and not shared by more than two
    documents. Boilerplate then counts families, not documents, so that a page
    scraped twice does not make its own lines recur "in two documents" and lose
    them from both copies when min_docs is 2. `unmatched_chars` are each
    document's characters outside rule matches, of all its units.
    """
    pairs, (doc, chars) = family_rows(units, groups, ndocs, rule_hit, ranks)
    content_chars = unmatched_chars - _chars(doc, chars, len(ranks))
    family = np.arange(len(ranks))
    roots = family_roots(dropped_documents(*pairs, content_chars, ranks, config, chains=True), ranks)
    family[list(roots)] = list(roots.values())
    return family


def family_rows(units: UnitTable, groups: list[np.ndarray], ndocs: np.ndarray, rule_hit: np.ndarray,
                 ranks: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """What `_families` needs from the clusters, as rows that add up over any split of the groups: the
    coverage pairs of content units (`_coverage_pairs`), and (document, length) of every unit that is left out
    of content for being shared by more than two documents (its document's content characters exclude it)."""
    content = ~rule_hit
    group, member = _members(groups)
    content[member[ndocs[group] > 2]] = False
    shared = np.flatnonzero(~content & ~rule_hit)  # in `units`, counted in unmatched_chars, but not content
    return _coverage_pairs(units, groups, content, ranks), (units.doc[shared], (units.end - units.start)[shared])


def family_roots(dropped: dict[int, tuple[int, float]], ranks: np.ndarray) -> dict[int, int]:
    """Each dropped document's family: the end of its chain of earlier documents (`dropped_documents` with chains)."""
    roots: dict[int, int] = {}
    for d in sorted(dropped, key=lambda d: ranks[d]):  # an earlier document's root is known before
        e = dropped[d][0]
        roots[d] = roots.get(e, e)
    return roots


def _duplicate_documents(units: UnitTable, groups: list[np.ndarray], content: np.ndarray, content_chars: np.ndarray,
                         ranks: np.ndarray, config: Config, chains: bool = False) -> dict[int, tuple[int, float]]:
    """Documents whose content units are covered, at the configured share, by one earlier document that is
    not dropped itself (with `chains`, by any earlier document).

    For every group spread over 2 to MAX_DOCS_FOR_COVERAGE documents, each document's content characters in
    the group count as shared with each earlier document of the group (`_coverage_pairs`); a document is
    dropped for the earlier kept document that covers most of it (the earliest of equals, `dropped_documents`).
    Dropping for a document that is dropped too would chain: the later one's own lines, not in the document
    that stays, would be lost; families (`_families`) want the chains, versions of one page. `content_chars`
    are each document's content characters, of all its units (`units` may hold only the groups' members).
    """
    return dropped_documents(*_coverage_pairs(units, groups, content, ranks), content_chars, ranks, config, chains)


def _coverage_pairs(units: UnitTable, groups: list[np.ndarray], content: np.ndarray, ranks: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(d, e, shared) for every pair of documents of a group spread over 2 to MAX_DOCS_FOR_COVERAGE
    documents, e earlier than d: d's content characters in such groups that e has too, summed over the
    groups (int64; the sums of disjoint sets of groups add up). Vectorised: one row per (group, document),
    then one per (group, document, earlier document)."""
    none = np.zeros(0, dtype=np.int64)
    lengths = units.end - units.start
    group, members = _members(groups, content)
    if len(members) == 0:
        return none, none, none
    docs = units.doc[members]
    order, first = _by_pair(group, docs)
    # One row per (group, doc), with the document's characters in the group.
    group, docs, chars = group[order[first]], docs[order[first]], np.add.reduceat(lengths[members][order], first)
    count = np.bincount(group, minlength=len(groups))[group]  # documents in the row's group
    keep = (count > 1) & (count <= MAX_DOCS_FOR_COVERAGE)
    group, docs, chars, count = group[keep], docs[keep], chars[keep], count[keep]
    if len(group) == 0:
        return none, none, none
    start = np.flatnonzero(np.concatenate(([True], group[1:] != group[:-1])))  # each group's first row
    row_start = start[np.cumsum(np.concatenate(([True], group[1:] != group[:-1]))) - 1]
    left = np.repeat(np.arange(len(group)), count)  # every row against every row of its group
    right = np.repeat(row_start, count) + np.arange(len(left)) - np.repeat(np.cumsum(count) - count, count)
    d, e, shared = docs[left], docs[right], chars[left]
    earlier = ranks[e] < ranks[d]
    d, e, shared = d[earlier], e[earlier], shared[earlier]
    pair, at = np.unique(d * len(ranks) + e, return_inverse=True)
    return pair // len(ranks), pair % len(ranks), np.bincount(at, weights=shared).astype(np.int64)


def dropped_documents(d: np.ndarray, e: np.ndarray, shared: np.ndarray, content_chars: np.ndarray, ranks: np.ndarray,
             config: Config, chains: bool) -> dict[int, tuple[int, float]]:
    """The documents dropped as duplicates, given each pair's shared content characters (`_coverage_pairs`,
    one row per pair): documents in canonical order, each one's candidates most covered first, then the
    earliest; a document is dropped for the best earlier document that stays (with `chains`, the best), decided
    before it. With `chains` a document's choice depends on its own rows only."""
    covered = content_chars[d] > 0
    coverage = np.where(covered, shared / np.where(covered, content_chars[d], 1), 0.0)
    ok = coverage >= config.duplicate_doc_coverage
    d, e, coverage = d[ok], e[ok], coverage[ok]
    order = np.lexsort((ranks[e], -coverage, ranks[d]))
    dropped: dict[int, tuple[int, float]] = {}
    for a, b, c in zip(d[order].tolist(), e[order].tolist(), coverage[order].tolist()):
        if a not in dropped and (chains or b not in dropped):
            dropped[a] = (b, min(c, 1.0))
    return dict(sorted(dropped.items()))


def _members(groups: list[np.ndarray], keep: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(group number, unit) of every member of `groups`, in group order; only units `keep` marks, if given."""
    if not groups:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    members = np.concatenate(groups)
    group = np.repeat(np.arange(len(groups)), np.fromiter(map(len, groups), dtype=np.int64, count=len(groups)))
    if keep is not None:
        mask = keep[members]
        group, members = group[mask], members[mask]
    return group, members


def _distinct_docs(units: UnitTable, groups: list[np.ndarray], keep: np.ndarray | None = None) -> np.ndarray:
    """Number of distinct documents among each group's members (those `keep` marks, if given)."""
    group, members = _members(groups, keep)
    order, first = _by_pair(group, units.doc[members])
    return np.bincount(group[order[first]], minlength=len(groups))


def _by_pair(group: np.ndarray, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows sorted by (group, key), and where each distinct (group, key) starts among them."""
    order = np.lexsort((key, group))
    if len(order) == 0:
        return order, order
    return order, np.flatnonzero(_changes(group[order], key[order]))


def _changes(group: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Per row of rows sorted by (group, key), whether it is the first of its (group, key); not for no rows."""
    return np.concatenate(([True], (group[1:] != group[:-1]) | (key[1:] != key[:-1])))

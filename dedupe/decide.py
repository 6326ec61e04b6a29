"""Turn clusters and rule matches into categories and actions (SPEC's policy).

Input: the unit table, a cluster label per unit, and the documents' stable
order. Output: for every unit the categories that target it, whether it is
removed, and the copy it matches; for every document whether it is dropped
as a duplicate. Everything here is a function of stable keys (document
date, then input order, then offset), never of processing order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import regex

from dedupe.config import DEFAULT_ACTIONS, Config
from dedupe.document import Document, UnitTable
from dedupe.normalize import normalize

# Among categories that remove a unit, the first here names the finding.
PRECEDENCE = ("template", "boilerplate", "syndicated", "repeat")
# A cluster spread over more documents than this is chrome, not a reprint,
# and is left out of the document-pair coverage count.
MAX_DOCS_FOR_COVERAGE = 50


@dataclass(slots=True)
class Target:
    """One unit targeted by one category: the cluster and the copy it matches."""

    cluster: str
    match: int  # unit index of the matching copy, -1 when none (rules)
    first: bool  # the kept copy under keep-first


@dataclass
class Decisions:
    """What happens to every unit and document."""

    flagged: np.ndarray  # units that some category flags (a finding each), in unit order
    cluster: list[str]  # per flagged unit: the cluster of its first category's target
    match: np.ndarray  # per flagged unit: the unit of the copy it matches, -1 when none
    removed: np.ndarray  # bool per unit
    categories: list[tuple[str, ...]]  # per unit: categories that flag it (empty: not a finding)
    dropped: dict[int, tuple[int, float]] = field(default_factory=dict)  # doc -> (canonical doc, coverage)
    protected: np.ndarray | None = None  # bool per unit: a document's own headline
    cluster_members: dict[str, np.ndarray] = field(default_factory=dict)  # name -> units (canonical order,
    # but "context" in unit order)
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
    starts = np.flatnonzero(np.concatenate(([True], labels[order][1:] != labels[order][:-1])))
    ends = np.append(starts[1:], len(order))
    keep = ends - starts > 1  # slicing only the groups of two or more is much cheaper than splitting all
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


def _protected(units: UnitTable, texts: Sequence[str], docs: list[Document], rule_hit: np.ndarray,
               groups: list[np.ndarray], ndocs: np.ndarray, learned_hit: np.ndarray, chrome: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """Each document's own headline, which site-wide repetition must not remove.

    With a title field, the unit equal to the title. Without one, the headline
    is looked for among the lines threatened with removal (shared with other
    documents, as teasers there, or matched by a learned template) that sit in
    the zone of HEADLINE_WINDOW units above the start of the document's text
    (two prose lines in a row; else its first sentence of 10 or more words;
    never boilerplate or a template). Such a line is proposed when no other
    document carries it above its text (chrome opens every page, a headline
    only its own article), or when at least HEADLINE_OVERLAP of its words,
    and HEADLINE_MIN_HITS at least, recur in the text below it (its own copies
    aside), which tells an article's headline from the same line teased above
    other articles. Of a document's proposals, the one whose words recur most,
    then the nearest to the text, is its headline: one per document.
    Also returns the zone, which the context rule leaves alone.
    """
    n = len(units)
    protected = np.zeros(n, dtype=bool)
    titles = {i for i, d in enumerate(docs) if d.title and d.title.strip()}
    shared = np.zeros(n, dtype=bool)
    cross = [g for g, k in zip(groups, ndocs.tolist()) if k > 1]
    for group in cross:
        shared[group] = True
    big = np.iinfo(np.int64).max
    own = ~chrome & ~rule_hit & ~learned_hit
    text = own & (units.words >= 10) & units.sentence_end
    follows = np.zeros(n, dtype=bool)  # the next unit of the same document is text-like too
    follows[:-1] = (own[1:] & (units.words[1:] >= 5)) & (units.doc[1:] == units.doc[:-1])
    body_start = np.full(len(docs), big, dtype=np.int64)
    for pick in (text & follows, text, own & (units.words >= 5)):
        found = np.full(len(docs), big, dtype=np.int64)
        np.minimum.at(found, units.doc[pick], units.start[pick])
        body_start = np.where(body_start == big, found, body_start)
    bounds = np.searchsorted(units.doc, np.arange(len(docs) + 1), side="left")
    rank = np.arange(n) - bounds[units.doc]
    body_rank = np.full(len(docs), big, dtype=np.int64)
    starts_at = np.flatnonzero(units.start == body_start[units.doc])
    body_rank[units.doc[starts_at]] = rank[starts_at]
    before = units.start < body_start[units.doc]
    zone = before & (body_rank[units.doc] - rank <= HEADLINE_WINDOW)
    candidate = zone & ~rule_hit & (units.words >= 2)
    threatened = candidate & (shared | learned_hit)
    group_of = np.full(n, -1, dtype=np.int64)
    for number, group in enumerate(groups):
        group_of[group] = number
    opens_alone = np.zeros(n, dtype=bool)  # shared, and no other document carries it before its text
    for group, carriers in zip(cross, _distinct_docs(units, cross, before).tolist()):
        if carriers == 1:
            opens_alone[group] = True

    def words_of(u: int) -> set[str]:
        return _words(normalize(texts[int(units.doc[u])][units.start[u]:units.end[u]]))

    title_units = np.flatnonzero(units.title)  # equal to their document's title (computed in the first pass)
    if len(title_units):
        _, first = np.unique(units.doc[title_units], return_index=True)
        protected[title_units[first]] = True
    score_cache: dict[int, float] = {}
    body_cache: dict[int, list[tuple[int, set[str]]]] = {}

    def overlap(u: int) -> float:
        """Share of the line's words that recur in its document's text (three at least), its own copies aside."""
        if u not in score_cache:
            d = int(units.doc[u])
            if d not in body_cache:
                span = np.arange(bounds[d], bounds[d + 1])
                prose = span[own[span] & (units.words[span] >= 10) & (units.start[span] >= body_start[d])]
                body_cache[d] = [(int(group_of[v]), words_of(v)) for v in prose]
            words = words_of(u)
            hits = len(set().union(*(w & words for g, w in body_cache[d] if g < 0 or g != group_of[u])))
            enough = hits >= HEADLINE_MIN_HITS or (hits >= 2 and len(words) >= 4)
            score_cache[u] = hits / len(words) if enough else 0.0
        return score_cache[u]

    proposed: dict[int, list[int]] = defaultdict(list)  # document -> headline candidates
    for group in cross:
        early = [int(u) for u in group if threatened[u] and int(units.doc[u]) not in titles]
        if not early:
            continue
        if opens_alone[group[0]] and units.words[early[0]] >= 3:
            proposed[int(units.doc[early[-1]])].append(early[-1])  # only one document opens with it
            continue
        per_doc: dict[int, int] = {}  # the copy nearest to its document's text
        for u in early:
            per_doc[int(units.doc[u])] = u
        scores = {u: overlap(u) for u in per_doc.values()}
        best = max(scores.values())
        runner_up = max((v for v in scores.values() if v < best), default=0.0)
        for d, u in per_doc.items():
            # Several carriers can own a headline: the article scraped twice, or reprinted under it.
            value = scores[u]
            if value >= HEADLINE_OVERLAP or (value == best >= HEADLINE_OVERLAP / 2 and runner_up <= best / 2):
                proposed[d].append(u)
    for u in np.flatnonzero(threatened & learned_hit & ~shared).tolist():
        if int(units.doc[u]) not in titles and overlap(u) >= HEADLINE_OVERLAP:
            proposed[int(units.doc[u])].append(u)
    for found in proposed.values():
        protected[max(found, key=lambda u: (overlap(u), int(rank[u])))] = True
    return protected, zone


def decide(units: UnitTable, labels: np.ndarray, docs: list[Document], texts: Sequence[str],
           learned: set[str], config: Config) -> Decisions:
    """Apply categories, precedence and actions; see the specification (shared/SPEC.md) and README "Categories"."""
    n = len(units)
    ranks = doc_ranks(docs)
    targets: dict[int, dict[str, Target]] = defaultdict(dict)  # sparse: most units are targeted by nothing
    members: dict[str, np.ndarray] = {}
    cluster_names: dict[int, str] = {}

    groups = _groups(labels, ranks, units)
    # Number content clusters in input order of their first unit, for readable stable ids.
    for number, group in enumerate(sorted(groups, key=lambda g: (int(units.doc[g].min()), int(g.min()))), 1):
        cluster_names[int(labels[group[0]])] = f"c{number}"

    sources = [d.source or "" for d in docs]
    per_source = defaultdict(int)
    for s in sources:
        per_source[s] += 1

    rule_hit = np.array([t is not None for t in units.rule], dtype=bool)
    ndocs = _distinct_docs(units, groups)
    family = _families(units, groups, ndocs, rule_hit, ranks, config)
    most_words: list[int] = []  # per group: the most words of a member, and how many members end a sentence
    sentences: list[int] = []
    if groups:
        grouped, starts = np.concatenate(groups), np.cumsum([0] + [len(g) for g in groups[:-1]])
        most_words = np.maximum.reduceat(units.words[grouped], starts).tolist()
        sentences = np.add.reduceat(units.sentence_end[grouped].astype(np.int64), starts).tolist()
    for group, most, ends in zip(groups, most_words, sentences):
        name = cluster_names[int(labels[group[0]])]
        members[name] = group
        members_list = group.tolist()
        group_docs = units.doc[group].tolist()
        first_in_doc: dict[int, int] = {}
        for u, d in zip(members_list, group_docs):
            first_in_doc.setdefault(d, u)
        doc_list = list(first_in_doc)
        families = list(dict.fromkeys(family[d] for d in doc_list))  # a page scraped twice counts once
        long = most >= config.syndicated_min_words or (most >= config.prose_min_words and 2 * ends > len(group))
        boiler = len(families) >= config.min_docs
        if boiler and long:
            counts = defaultdict(int)
            for d in families:
                counts[sources[d]] += 1
            if most < config.syndicated_min_words and max(counts.values()) >= config.min_docs:
                long = False  # a short sentence that one site repeats is its chrome
            else:
                boiler = any(c >= config.long_boilerplate_min_docs
                             and c >= config.boilerplate_site_share * per_source[s] for s, c in counts.items())
        rep = members_list[0]
        for u, d in zip(members_list, group_docs):
            first = first_in_doc[d]
            if u != first:
                targets[u]["repeat"] = Target(name, first, False)
            if boiler:
                targets[u]["boilerplate"] = Target(name, rep if u != rep else members_list[1], u == rep)
            elif long and len(doc_list) > 1 and u == first:
                if d == doc_list[0]:
                    targets[u]["syndicated"] = Target(name, first_in_doc[doc_list[1]], True)
                    continue
                match = _reprinted_from(u, [first_in_doc[e] for e in doc_list[:doc_list.index(d)]], texts, units,
                                        config.quote_share)
                if match is not None:
                    targets[u]["syndicated"] = Target(name, match, False)

    learned_hit = np.array([t is not None and t[0] in learned for t in units.template], dtype=bool) & ~rule_hit
    _add_templates(units, ranks, rule_hit, learned_hit, targets, members)
    bits, firsts = _category_bits(targets, n)
    chrome = (bits & _BIT["boilerplate"]) > 0
    protected, zone = _protected(units, texts, docs, rule_hit, groups, ndocs, learned_hit, chrome)
    context = _context(units, bits, protected, zone, config)
    if len(context):
        members["context"] = context
        for u in context.tolist():
            targets[u]["boilerplate"] = Target("context", -1, False)
        bits[context] |= _BIT["boilerplate"]
    targets.default_factory = None  # reads from here on must not add units
    kept = _act(targets, bits, firsts, protected, learned_hit, config)
    removed, categories = _outcomes(kept, config)
    dropped = _duplicate_documents(units, groups, (kept & _CHROME) == 0, ranks, config)
    flagged = np.flatnonzero(kept)
    primary = [targets[u][categories[u][0]] for u in flagged.tolist()]  # the targets themselves are freed here
    return Decisions(flagged, [t.cluster for t in primary], np.array([t.match for t in primary], dtype=np.int64),
                     removed, categories, dropped, protected, members,
                     np.array([d.chars for d in docs], dtype=np.int64), {d.id: i for i, d in enumerate(docs)})


# Quotations: curly, straight and angle double quotes, doubled single openers (‘‘...’’), single quotes that
# hold no apostrophe, CJK brackets; a curly or angle quote left open runs to the end of the paragraph (a
# quote that continues in the next one).
_QUOTE = regex.compile(
    r'“[^“”]*(?:”|$)|"[^"]*"|«[^«»]*(?:»|$)|„[^„“”]*(?:[“”]|$)|‘‘[^‘’“”]*(?:’’|”|$)'
    r"|(?<!\w)[‘'][^‘’'\n]{2,}?[’'](?!\w)|「[^「」]*」|『[^『』]*』"
)


def _unit_text(texts: Sequence[str], units: UnitTable, u: int) -> str:
    return texts[int(units.doc[u])][units.start[u]:units.end[u]]


def _reprinted_from(u: int, earlier: list[int], texts: Sequence[str], units: UnitTable, share: float) -> int | None:
    """The earliest copy that `u` reprints: not one that merely quotes the same speaker (see below)."""
    if share <= 0:
        return earlier[0]
    text = _unit_text(texts, units, u)
    return next((v for v in earlier if not _same_quote_only(text, _unit_text(texts, units, v), share)), None)


def _same_quote_only(copy: str, canonical: str, share: float) -> bool:
    """True when two matching paragraphs share a quotation but not the reporting around it.

    Outlets that quote one speaker (a tweet, a televised remark) print near-identical paragraphs without
    reprinting each other. When at least `share` of either paragraph's words are inside quotation marks, the
    words that neither paragraph quotes (the attribution, the framing) are compared, and if fewer than half
    of them are shared the pair is not a reprint; nor is it when one prints the quotation bare (an embedded
    tweet or statement) and the other in quotation marks, with nothing else around it. Words quoted in either
    text are set aside in both, so an edit that breaks a quote mark does not turn a reprint into a quotation.
    """
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


def _category_bits(targets: dict[int, dict[str, Target]], n: int) -> tuple[np.ndarray, np.ndarray]:
    """For each of n units, a bit (`_BIT`) for every category that targets it, and one for every category
    whose target is the kept copy (`Target.first`)."""
    bits, firsts = np.zeros(n, dtype=np.uint8), np.zeros(n, dtype=np.uint8)
    if targets:
        units = np.fromiter(targets.keys(), dtype=np.int64, count=len(targets))
        bits[units] = [sum(_BIT[c] for c in t) for t in targets.values()]
        firsts[units] = [sum(_BIT[c] for c, target in t.items() if target.first) for t in targets.values()]
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


def _add_templates(units: UnitTable, ranks: np.ndarray, rule_hit: np.ndarray, learned_hit: np.ndarray,
                   targets: dict[int, dict[str, Target]], members: dict[str, np.ndarray]) -> None:
    """Mark units matched by a rule or a learned template; one cluster per rule (in order of first match)."""
    by_cluster: dict[str, list[int]] = defaultdict(list)
    for u in np.flatnonzero(rule_hit | learned_hit).tolist():
        rule = units.rule[u]
        by_cluster[f"rule:{rule}" if rule is not None else f"template:{units.template[u][0]}"].append(u)
    for name, hits in by_cluster.items():
        found = np.array(hits, dtype=np.int64)
        found = found[np.lexsort((units.start[found], ranks[units.doc[found]]))]
        members[name] = found
        first = int(found[0])
        for u in found.tolist():
            targets[u]["template"] = Target(name, -1, u == first)


def _act(targets: dict[int, dict[str, Target]], bits: np.ndarray, firsts: np.ndarray, protected: np.ndarray,
         learned_hit: np.ndarray, config: Config) -> np.ndarray:
    """The categories (`_BIT`s) that flag each unit: those that target it, but not the kept copy of a
    keep-first category.

    A protected headline is exempt from boilerplate, syndication and learned
    templates (a site's `Study: ...` headlines are not its `Watch: ...` links);
    a built-in rule is never a headline. It is a repeat only of an earlier copy
    that stays: when that copy is a teaser removed as boilerplate or template,
    the headline is the copy the document keeps.
    """
    keep_first = sum(_BIT[c] for c in PRECEDENCE if _policy(c, config) == "keep-first")
    kept = bits & ~(firsts & keep_first)
    for u in np.flatnonzero(protected & (bits > 0)).tolist():
        exempt = _BIT["boilerplate"] | _BIT["syndicated"] | (_BIT["template"] if learned_hit[u] else 0)
        repeat = targets[u].get("repeat")
        if repeat is not None and not protected[repeat.match] and bits[repeat.match] & _CHROME:
            exempt |= _BIT["repeat"]
        kept[u] &= 0xFF ^ exempt
    return kept


def _policy(category: str, config: Config) -> str:
    """What the category's action does to the copies (flag-only acts like the category's default)."""
    action = config.actions[category]
    return DEFAULT_ACTIONS[category] if action == "flag-only" else action


def _outcomes(kept: np.ndarray, config: Config) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """Whether each unit is removed, and the categories that flag it: those that remove it (remove-all
    first, then in PRECEDENCE order), then those that only flag it."""
    flag_only = sum(_BIT[c] for c in PRECEDENCE if config.actions[c] == "flag-only")
    table = np.empty(1 << len(PRECEDENCE), dtype=object)  # one shared tuple per combination of categories
    for code in range(len(table)):
        present = [c for c in PRECEDENCE if code & _BIT[c]]
        removing = sorted((c for c in present if not _BIT[c] & flag_only),
                          key=lambda c: config.actions[c] != "remove-all")
        table[code] = tuple(removing + [c for c in present if _BIT[c] & flag_only])
    return (kept & (0xFF ^ flag_only)) > 0, table[kept].tolist()


def _families(units: UnitTable, groups: list[np.ndarray], ndocs: np.ndarray, rule_hit: np.ndarray,
              ranks: np.ndarray, config: Config) -> list[int]:
    """Each document's family: the earliest document it is a near-duplicate of (itself if none).

    A first look for duplicate documents, before categories exist: content is
    every unit not matched by a rule and not shared by more than two
    documents. Boilerplate then counts families, not documents, so that a page
    scraped twice does not make its own lines recur "in two documents" and lose
    them from both copies when min_docs is 2.
    """
    content = ~rule_hit
    for group, k in zip(groups, ndocs.tolist()):
        if k > 2:
            content[group] = False
    dropped = _duplicate_documents(units, groups, content, ranks, config)
    family = list(range(len(ranks)))
    for d in sorted(dropped, key=lambda d: ranks[d]):
        e = dropped[d][0]
        family[d] = family[e]
    return family


def _duplicate_documents(units: UnitTable, groups: list[np.ndarray], content: np.ndarray,
                         ranks: np.ndarray, config: Config) -> dict[int, tuple[int, float]]:
    """Documents whose content units are covered, at the configured share, by one earlier document.

    For every group spread over 2 to MAX_DOCS_FOR_COVERAGE documents, each document's content characters in
    the group count as shared with each earlier document of the group; a document is dropped for the
    earlier document that covers most of it (the earliest of equals). Vectorised: one row per (group,
    document), then one per (group, document, earlier document).
    """
    lengths = units.end - units.start
    content_chars = np.bincount(units.doc[content], weights=lengths[content], minlength=len(ranks))
    group, members = _members(groups, content)
    if len(members) == 0:
        return {}
    docs = units.doc[members]
    order = np.lexsort((docs, group))
    group, docs, chars = group[order], docs[order], lengths[members][order]
    first = np.flatnonzero(np.concatenate(([True], (group[1:] != group[:-1]) | (docs[1:] != docs[:-1]))))
    group, docs, chars = group[first], docs[first], np.add.reduceat(chars, first)  # one row per (group, doc)
    count = np.bincount(group, minlength=len(groups))[group]  # documents in the row's group
    keep = (count > 1) & (count <= MAX_DOCS_FOR_COVERAGE)
    group, docs, chars, count = group[keep], docs[keep], chars[keep], count[keep]
    if len(group) == 0:
        return {}
    start = np.flatnonzero(np.concatenate(([True], group[1:] != group[:-1])))  # each group's first row
    row_start = start[np.cumsum(np.concatenate(([True], group[1:] != group[:-1]))) - 1]
    left = np.repeat(np.arange(len(group)), count)  # every row against every row of its group
    right = np.repeat(row_start, count) + np.arange(len(left)) - np.repeat(np.cumsum(count) - count, count)
    d, e, shared = docs[left], docs[right], chars[left]
    earlier = ranks[e] < ranks[d]
    d, e, shared = d[earlier], e[earlier], shared[earlier]
    pair, at = np.unique(d * len(ranks) + e, return_inverse=True)
    total = np.bincount(at, weights=shared)
    d, e = pair // len(ranks), pair % len(ranks)
    covered = content_chars[d] > 0
    coverage = np.where(covered, total / np.where(covered, content_chars[d], 1), 0.0)
    ok = coverage >= config.duplicate_doc_coverage
    d, e, coverage = d[ok], e[ok], coverage[ok]
    order = np.lexsort((ranks[e], -coverage, d))  # per document: most covered first, then the earliest
    d, e, coverage = d[order], e[order], coverage[order]
    best = np.flatnonzero(np.concatenate(([True], d[1:] != d[:-1]))) if len(d) else np.zeros(0, dtype=np.int64)
    return {int(a): (int(b), min(float(c), 1.0)) for a, b, c in zip(d[best], e[best], coverage[best])}


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
    docs = units.doc[members]
    order = np.lexsort((docs, group))
    group, docs = group[order], docs[order]
    first = np.concatenate(([True], (group[1:] != group[:-1]) | (docs[1:] != docs[:-1]))) if len(group) else group
    return np.bincount(group[first.astype(bool)], minlength=len(groups))

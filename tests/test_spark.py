"""The Spark engine gives exactly the local engine's answer, for any number of partitions.

Runs Spark in local mode (`local[2]`). Without pyspark or Java these tests
are skipped, unless DEDUPE_REQUIRE_SPARK is set (CI sets it), when they fail.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import ROOT, cut_gzip_jsonl, generate, spy_on

from dedupe import cluster
from dedupe.cli import main
from dedupe.config import Config
from dedupe.io import discover, output_record, read
from dedupe.pipeline import InputError, analyse_corpus, clean_documents, render_again, run, second_pass

if not os.environ.get("DEDUPE_REQUIRE_SPARK"):
    pytest.importorskip("pyspark")
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        pytest.skip("no Java for Spark", allow_module_level=True)

from dedupe import spark as engine  # noqa: E402 - after the skip

SAMPLES = sorted(p for p in (ROOT / "corpus_samples").iterdir() if p.is_dir())


@pytest.fixture(scope="module")
def spark():
    # No join is broadcast unless the engine asks for it, as with tables over Spark's threshold (10 MB): a stage
    # that needs whole clusters in a task must not depend on a small table's broadcast.
    session = engine.session("local[2]", partitions=4, conf={"spark.sql.autoBroadcastJoinThreshold": "-1"})
    yield session
    session.stop()


def comparable(report) -> dict:
    data = report.to_dict()
    for key in ("wall_time_s", "timings"):
        data["summary"].pop(key)
    return data


def both_engines(paths: list[str], config: Config, partitions: int):
    found = discover(paths)
    local_out, spark_out = [], []
    analysis = analyse_corpus(read(found, config), config)
    local = second_pass(analysis, render_again(analysis, read(found, config)), local_out.append)
    analysis, render = engine.first_pass(found, config, "local[2]", partitions)
    distributed = second_pass(analysis, render, spark_out.append)
    return (local_out, local), (spark_out, distributed)


@pytest.mark.parametrize("seed", range(4))
def test_components_label_every_node_with_its_components_smallest_node(spark, seed):
    rng = random.Random(seed)
    n = 300
    chains = [(i, i + 1) for i in range(0, 60) if i % 15]  # long paths need many rounds
    edges = chains + [(rng.randrange(60, n), rng.randrange(60, n)) for _ in range(150)]
    expected = cluster.components(n, np.array(edges, dtype=np.int64))
    frame = spark.createDataFrame(edges, "a long, b long")
    rows = engine.components(frame).collect()
    found = {row["node"]: row["label"] for row in rows}
    touched = sorted({v for e in edges for v in e if e[0] != e[1]})
    assert len(rows) == len(found) == len(touched)  # exactly one label per node
    assert all(found[v] == expected[v] for v in touched)


def test_spooled_clusters_read_back_every_entry_in_any_order_keeping_one_offset_per_block():
    rows = [(f"c{i}", "boilerplate", i + 2, i % 7 + 1, i % 3, f"line {i} \u00e9" * (i % 5), f'[["d\u00e9{i}", 0, {i}]]')
            for i in range(3 * engine.SpooledClusters.BLOCK + 5)]
    spooled = engine.SpooledClusters(iter(rows))
    assert len(spooled) == len(rows) and len(spooled.starts) == 4  # not an offset per cluster
    order = list(range(len(rows))) + random.Random(3).sample(range(len(rows)), len(rows)) + [0, len(rows) - 1, 256]
    for i in order:
        assert spooled.head(i) == rows[i][:6] and spooled.members_json(i) == rows[i][6], i
    with pytest.raises(IndexError):
        spooled.head(len(rows))


@pytest.mark.parametrize("seed", range(3))
def test_bucket_pairs_of_hash_partitions_are_the_local_candidate_pairs(seed):
    """`_bucket_pairs` on (band, key) rows spread over partitions and cut into batches, as Spark hands them
    over, gives the local index's pairs (in node codes), bucket cap and rule groups included."""
    import pandas as pd

    from dedupe import index

    rng = np.random.default_rng(seed)
    for _ in range(40):
        # Few distinct values per column: many shared band keys, some buckets bigger than the cap.
        sigs = np.unique(rng.integers(0, int(rng.integers(2, 4)), (int(rng.integers(2, 50)), 16)), axis=0)
        sigs = sigs[rng.permutation(len(sigs))].astype(np.uint32)
        groups = rng.integers(0, 3, len(sigs)) * int(rng.integers(0, 2))
        cap = int(rng.choice([0, 2, 3]))
        nodes = np.cumsum(rng.integers(1, 3 * engine.START_SPAN, len(sigs)))  # increasing, like the node codes
        bands, rows = index.lsh_params(0.5, 16)
        keyed = pd.concat([pd.DataFrame({"band": band, "key": keys.view(np.int64), "node": nodes, "grp": groups})
                           for band, keys in enumerate(index.band_keys(sigs, bands, rows))], ignore_index=True)
        keyed = keyed.iloc[rng.permutation(len(keyed))]
        partition = (keyed["band"].to_numpy() * 7919 + keyed["key"].to_numpy() % 7) % int(rng.integers(1, 4))
        found = []
        for p in np.unique(partition):
            part = keyed[partition == p]
            cuts = np.sort(rng.integers(0, len(part) + 1, 2))
            batches = [part.iloc[a:b] for a, b in zip((0, *cuts), (*cuts, len(part)))]  # some may be empty
            found += [frame.to_numpy(np.int64) for frame in engine._bucket_pairs(iter(batches), cap)]
        want = nodes[index.candidate_pairs(sigs, 0.5, 1, "bands", cap, groups)]
        assert np.array_equal(np.unique(np.concatenate(found), axis=0), np.unique(want, axis=0))


def test_a_partition_of_whole_clusters_keeps_the_surviving_copies_that_the_local_engine_keeps():
    # Two syndicated clusters over four documents; the canonical copy of the first is in a document that leaves
    # the output, so its earliest copy in a staying document is kept instead and the copies matching the
    # leaving one match that copy. `_surviving_partition` says which targets change, as the driver's function.
    import pandas as pd

    from dedupe.decide import Targets, _keep_a_surviving_copy
    from dedupe.document import UnitTable

    doc = np.array([0, 1, 2, 3, 1, 2, 3])
    start = np.array([0, 0, 0, 0, 50, 50, 50])
    label = np.array([7, 7, 7, 7, 9, 9, 9])
    rank = np.array([0, 2, 1, 3])  # document 2 is earlier than document 1
    # syndicated targets (row, match row, first): cluster 7 canonical in doc 0, cluster 9 canonical in doc 1
    targets = [(0, 2, True), (1, 0, False), (2, 0, False), (3, 0, False), (4, 5, True), (6, 4, False)]
    keys = (doc << 32) | start
    rows = [t[0] for t in targets]
    syn_match = np.full(len(doc), np.nan)
    syn_first = np.full(len(doc), None, dtype=object)
    for row, match, first in targets:
        syn_match[row], syn_first[row] = keys[match], first
    frame = pd.DataFrame({"key": keys, "doc": doc, "start": start, "end": start + 40, "words": np.full(len(doc), 30),
                          "sentence_end": np.ones(len(doc), bool), "label": label, "syn_match": syn_match,
                          "syn_first": syn_first, "rank": rank[doc], "leaving": np.where(doc == 0, True, None)})
    got = pd.concat(list(engine._surviving_partition(iter([frame.iloc[::-1]]), Config())))
    n = len(doc)
    table = UnitTable(doc=doc, start=start, end=start + 40, words=np.full(n, 30, np.int32), mode=np.zeros(n, np.int8),
                      sig_row=np.full(n, -1), sigs=np.zeros((0, 1), np.uint32), rule=[None] * n, template=[None] * n,
                      title=np.zeros(n, bool), sentence_end=np.ones(n, bool), label_line=np.zeros(n, bool))
    syndicated = Targets.of(np.array(rows), label[rows], np.array([t[1] for t in targets]),
                            np.array([t[2] for t in targets]))
    kept = np.full(n, 0xFF, np.uint8)
    before = syndicated.match.copy()
    _keep_a_surviving_copy(syndicated, kept, table, {0: (1, 0.9)}, rank, Config())
    cleared = keys[np.flatnonzero(kept != 0xFF)]
    moved = {int(keys[u]): int(keys[m]) for u, m, b in zip(syndicated.unit, syndicated.match, before) if m != b}
    assert sorted(got.loc[got["cleared"], "key"].tolist()) == cleared.tolist() == [keys[2]]  # doc 2: the earliest
    assert {k: m for k, m, c in zip(got["key"], got["match"], got["cleared"]) if not c} == moved and moved
    assert not set(got["key"].tolist()) & set(keys[label == 9].tolist())  # the other cluster is left as it was


@pytest.mark.parametrize("checks", [True, False])
def test_the_executors_find_the_local_engines_families_and_cluster_targets(spark, checks):
    # Families (pages scraped twice), boilerplate, repeats and syndicated copies that quote or add a sentence:
    # `content_targets` splits the clusters over partitions and slices the texts it compares on the executors.
    import pandas as pd

    from dedupe.decide import (
        PRECEDENCE,
        DocumentTexts,
        _distinct_docs,
        _families,
        _groups,
        doc_ranks,
        source_codes,
        unmatched_chars,
    )
    from dedupe.document import Document, UnitTable

    rng = np.random.default_rng(5)
    topics = [f"{w} {v}" for w in "minister bridge council harbour school".split() for v in "plan repairs vote".split()]
    forms = ["{t} would cut costs across the region by next spring officials said on Monday",  # the wire copy
             'The minister said "{t} will cut costs across the region by next spring"',  # quotes it
             "{t} would cut costs across the region. Drivers on the coast road must wait another month",  # adds
             "Share this {t}"]  # chrome
    pages: list[list[tuple[str, int]]] = []  # lines and their cluster labels; the first three forms cluster
    for d in range(60):
        if d % 10 == 5:  # a page scraped again
            pages.append(pages[d - 1])
            continue
        picks = zip(rng.integers(0, len(topics), 6).tolist(), rng.integers(0, len(forms), 6).tolist())
        pages.append([(forms[f].format(t=topics[k]), 2 * k + (f == 3)) for k, f in picks]
                     + [(f"Story {d} told by its own reporter at the market on the quay", 1000 + d)])
    for page in (pages[4], pages[20]):  # on three pages of two families: not boilerplate (min_docs 3)
        page.append(("Follow our newsroom", 999))
    rows = []  # (doc, start, end, words, label)
    for d, page in enumerate(pages):
        at = 0
        for line, label in page:
            rows.append((d, at, at + len(line), len(line.split()), label))
            at += len(line) + 1
    texts = ["\n".join(line for line, _ in page) for page in pages]
    doc, start, end, words, labels = (np.array(c, dtype=np.int64) for c in zip(*rows))
    n = len(doc)
    units = UnitTable(doc=doc, start=start, end=end, words=words.astype(np.int32), mode=np.zeros(n, np.int8),
                      sig_row=np.full(n, -1), sigs=np.zeros((0, 1), np.uint32), rule=[None] * n, template=[None] * n,
                      title=np.zeros(n, bool), sentence_end=rng.random(n) < 0.7, label_line=np.zeros(n, bool))
    docs = [Document(id=str(d), text=t, source=str(rng.choice(["a", "b", ""])), date=f"2026-01-{1 + d % 9:02d}")
            for d, t in enumerate(texts)]
    rule_hit = (rng.random(n) < 0.05) & (labels < 999)  # a few lines that a rule matches too
    ranks = doc_ranks(docs)
    groups = _groups(labels, ranks, units)
    ndocs = _distinct_docs(units, groups)
    unmatched = unmatched_chars(units, rule_hit, len(docs))

    def config(checked: bool) -> Config:
        return Config(min_docs=3, long_boilerplate_min_docs=3, boilerplate_site_share=0.6, syndicated_min_words=12,
                      duplicate_doc_coverage=0.6,
                      quote_share=0.3 if checked else 0.0, own_sentence_share=0.5 if checked else 0.0)

    def local(checked: bool):
        return DocumentTexts(texts).content_targets(units, groups, ndocs, rule_hit, unmatched, ranks, docs,
                                                    config(checked))[0]

    members = spark.createDataFrame(pd.DataFrame({
        "key": (doc << 32) | start, "doc": doc, "start": start, "end": end, "words": words.astype(np.int32),
        "sentence_end": units.sentence_end, "rule": np.where(rule_hit, "a rule", None), "label": labels}))
    ranged = spark.sparkContext.parallelize(list(enumerate(docs)), 2).repartitionAndSortWithinPartitions(
        3, lambda order: engine._range_of(order, 3, len(docs)))
    source = source_codes(docs)
    documents = spark.createDataFrame(pd.DataFrame({"doc": np.arange(len(docs)), "rank": ranks,
                                                    "unmatched": unmatched.astype(np.int64), "source": source}))
    found, families = engine.content_targets(members, documents, ranged, config(checks), 7, np.bincount(source))
    found = found.toPandas()
    families = families.toPandas().sort_values("doc")["family"].to_numpy()
    keys = (doc << 32) | start
    group_of = np.full(n, -1)
    for g, members_of in enumerate(groups):
        group_of[members_of] = g
    here = local(checks)
    assert families.tolist() == _families(units, groups, ndocs, rule_hit, unmatched, ranks, config(checks)).tolist()
    for category, t in here.items():
        got = found[found["category"] == PRECEDENCE.index(category)].sort_values("key")
        unit = np.searchsorted(keys, got["key"].to_numpy(np.int64))
        copy = got["match"].to_numpy(np.int64)
        match = np.where(copy >= 0, np.searchsorted(keys, np.maximum(copy, 0)), -1)
        assert [a.tolist() for a in (unit, group_of[unit], match, got["first"].to_numpy(bool))] == \
            [a.tolist() for a in (t.unit, t.cluster, t.match, t.first)], category
    # What makes this a test of every step: families, each category, and copies that the checks leave out.
    assert (_families(units, groups, ndocs, rule_hit, unmatched, ranks, config(checks)) != np.arange(len(docs))).any()
    assert all(len(t.unit) for t in here.values())
    if checks:
        assert len(here["syndicated"].unit) < len(local(False)["syndicated"].unit)


@pytest.mark.parametrize("seed", range(2))
def test_duplicate_documents_chosen_in_rounds_on_the_executors_are_the_local_engines(spark, monkeypatch, seed):
    # Pages that cover each other in chains (a page covered by one that is itself covered...), with ties of
    # coverage: the greedy choice of `dropped_documents` (each page dropped for its best earlier page that
    # stays), made in rounds on the executors, finished by the driver at any point; the pages that leave the
    # output under each action (`_leaving`); and the families' roots by pointer jumping (`family_roots`).
    import pandas as pd

    from dedupe.decide import _leaving, dropped_documents, family_roots

    rng = np.random.default_rng(seed)
    n = 80
    ranks = rng.permutation(n)
    by_rank = np.argsort(ranks)
    d, e = [], []
    for r in range(1, n):  # each page has up to four earlier candidates, most of them close before it
        for back in set(rng.integers(1, min(r, 6) + 1, rng.integers(1, 5)).tolist()):
            d.append(by_rank[r])
            e.append(by_rank[r - back])
    d, e = np.array(d), np.array(e)
    content = rng.choice([100.0, 200.0, 400.0], n)
    shared = rng.choice([40, 100, 200, 400], len(d))  # coverages of 0.1 to 4, many equal
    config = Config(duplicate_doc_coverage=0.5)
    near = spark.createDataFrame(pd.DataFrame({"d": d, "e": e, "shared": shared, "rank_d": ranks[d],
                                               "rank_e": ranks[e], "content_d": content[d]})).cache()
    expected = dropped_documents(d, e, shared, content, ranks, config, chains=False)
    chained = dropped_documents(d, e, shared, content, ranks, config, chains=True)
    for most in (0, 25, 10 ** 6):  # rounds to the last pair; rounds, then the driver; the driver only
        monkeypatch.setattr(engine, "DRIVER_PAIRS", most)
        found = engine.executor_dropped(near, config).toPandas()
        got = dict(zip(found["d"].tolist(), zip(found["e"].tolist(), found["coverage"].tolist())))
        assert got == expected, most
        assert found["rank_d"].tolist() == ranks[found["d"].to_numpy()].tolist()
    dropped = spark.createDataFrame(pd.DataFrame(
        {"d": list(expected), "e": [v[0] for v in expected.values()], "coverage": [v[1] for v in expected.values()],
         "rank_d": ranks[list(expected)]}))
    for action in ("keep-first", "flag-only", "remove-all"):
        actions = Config(actions={"duplicate_document": action})
        rows = engine.executor_leaving(dropped, actions).collect()
        assert {r.d: (r.e, r.coverage) for r in rows} == _leaving(expected, ranks, actions) and len(rows) == len(
            _leaving(expected, ranks, actions)), action
    rooted = engine.executor_roots(spark.createDataFrame(pd.DataFrame(
        {"d": list(chained), "e": [v[0] for v in chained.values()]}))).collect()
    assert {r.doc: r.root for r in rooted} == family_roots(chained, ranks)
    # What makes the rounds a test: a page dropped for a later candidate than its best (which was dropped), a
    # page that stays for all its candidates being dropped, and chains of more than two steps.
    best: dict[int, int] = {}
    for a, b, c in sorted(zip(d.tolist(), e.tolist(), (shared / content[d]).tolist()),
                          key=lambda t: (-t[2], ranks[t[1]])):
        if c >= 0.5:
            best.setdefault(a, b)
    assert any(best[a] != b for a, (b, _) in expected.items())
    assert any(a not in expected for a in best)
    assert sum(family_roots(chained, ranks)[a] != b for a, (b, _) in chained.items()) > 3


def test_the_executors_aggregate_the_reports_clusters_and_top_lines_as_the_merged_tally(spark):
    # The driver no longer merges the counters per cluster and per line: each cluster's main category (most
    # findings, the first counted among equals, across ranges), the texts the report quotes (duplicate groups'
    # openings too) and the top lines are aggregated on the executors from the ranges' tallies, and must be
    # those of the tallies merged in order.
    from dedupe.report import TOP_LINES, Tally

    rng = random.Random(3)
    tallies, merged = [], Tally()
    for r in range(6):
        tally = Tally()
        for _ in range(40):
            tally.cluster_categories[f"c{rng.randrange(8)}", rng.choice(["repeat", "boilerplate", "syndicated"])] += 1
        tally.representatives.update({10 * r + k: f"text {r} {k}" for k in range(3)})
        tally.representatives[-1 - r] = f"opening {r}"  # a duplicate group's, by -1 - its kept document
        for _ in range(30):
            line = f"line {rng.randrange(40)}"
            tally.lines[line] += rng.randrange(1, 3)
            tally.line_docs[line] += 1
        tallies.append((100 * r, tally))
        merged.merge(tally)
    main, representatives, top = engine.report_aggregates(spark, spark.sparkContext.parallelize(tallies, 4))
    assert dict(main.collect()) == merged.main_categories()
    assert dict(representatives.collect()) == merged.representatives and min(merged.representatives) < 0
    ranked = sorted(merged.lines, key=lambda t: (-merged.line_docs[t], -merged.lines[t], t))[:TOP_LINES]
    assert top == [(t, merged.lines[t], merged.line_docs[t]) for t in ranked]
    # Ties that the order decides: a cluster whose most findings two categories share, lines equal in counts.
    counts = merged.cluster_categories
    assert any(sorted((n for (c, _), n in counts.items() if c == name), reverse=True)[:2].count(
        max(n for (c, _), n in counts.items() if c == name)) == 2 for name in {c for c, _ in counts})
    assert len({(merged.line_docs[t], merged.lines[t]) for t in ranked}) < len(ranked)


def _teased_headlines(docs: list[dict]) -> list[dict]:
    """`docs` (untitled, `generate`) with headlines made of their first sentence's words above the text of six
    of them, teased above the text of three other pages each (headlines to score) or only below it (one
    document opens with the line: proposed at once); one page has both kinds (a document to score again)."""
    for i in range(6):
        own = docs[40 + i]
        parts = own["text"].split("\n\n")
        lines = [" ".join(parts[at].split()[:8]).rstrip(".").title() for at in ((6, 7) if i == 3 else (6,))]
        own["text"] = "\n\n".join(lines + parts)
        for k, line in enumerate(lines):
            for j in range(3):
                other = docs[100 + 10 * i + 3 * k + j]
                parts = other["text"].split("\n\n")
                at = 3 if i < 3 or k else len(parts) - 1
                other["text"] = "\n\n".join(parts[:at] + ["Top stories", line] + parts[at:])
    return docs


def test_the_executors_decide_every_unit_as_the_local_engine_and_the_driver_holds_none(spark, tmp_path,
                                                                                       monkeypatch):
    # The contract behind keeping the decisions on the executors: each range's flagged units, their categories,
    # clusters and matched copies are the local engine's, with learned templates, the context rule and
    # headlines looked for in documents without a title at work, and the driver's analysis holds no unit and
    # no table of every document.
    from dedupe import decide
    from dedupe.decide import unit_keys

    decided: list[tuple] = []
    spy_on(monkeypatch, engine.ExecutorDecisions, "range_decisions",
           lambda args, found: decided.extend(found.collect()))
    headlines: dict[str, list[int]] = {}
    choices: list[np.ndarray] = []
    spy_on(monkeypatch, decide, "_headlines",
           lambda args, rows: headlines.setdefault("local", unit_keys(args[0])[rows].tolist()))
    spy_on(monkeypatch, decide, "headline_choice", lambda args, chosen: choices.append(args[0]))
    spy_on(monkeypatch, engine.ExecutorDecisions, "_headlines",
           lambda args, frame: headlines.setdefault("spark", sorted(row.key for row in frame.collect())))
    monkeypatch.setattr(engine, "DRIVER_PAIRS", 0)  # the duplicates decided in rounds to the last
    duplicates: list[dict] = []
    spy_on(monkeypatch, engine.ExecutorDecisions, "documents_decided", lambda args, found: duplicates.extend(
        {row.d: (row.e, row.coverage) for row in frame.collect()} for frame in found))
    source = tmp_path / "corpus.jsonl"
    docs = _teased_headlines(generate(400, seed=5))
    for i, doc in enumerate(docs[:12]):  # a site's own template line, for the engines to learn
        doc["text"] += f"\nFiled under: {['harbour', 'council', 'ferries', 'schools'][i % 4]} desk {i}"
    for doc, label in zip(docs[20:26], ["Puzzles", "Obituaries", "Crossword", "Horoscopes", "Letters", "Recipes"]):
        doc["text"] = doc["text"].replace("\n\nUpdated:", f"\n\n{label}\n\nUpdated:", 1)  # for the context rule
    docs += [{**docs[30 + i], "id": f"again-{i}"} for i in range(2)]  # pages scraped twice: duplicate documents
    source.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    config = Config(context_max_words=6)
    local = analyse_corpus(read(discover([str(source)]), config), config)
    there, render = engine.first_pass(discover([str(source)]), config, "local[2]", 3)
    keys = unit_keys(local.units)
    flagged = local.decisions.flagged
    assert np.array_equal(np.concatenate([d[0] for d in decided]), keys[flagged]) and len(flagged) > 100
    assert [c for d in decided for c in d[1]] == [local.decisions.categories[u] for u in flagged.tolist()]
    names = [c for d in decided for c in d[2]]
    assert names == local.decisions.cluster
    assert any(n.startswith("template:") for n in names) and "context" in names
    match = local.decisions.match
    assert np.array_equal(np.concatenate([d[3] for d in decided]), np.where(match >= 0, keys[np.maximum(match, 0)], -1))
    assert np.array_equal(np.concatenate([d[4] for d in decided]), local.decisions.removed[flagged])
    # The duplicate documents, and those that leave the output, are decided on the executors as locally.
    assert duplicates == [local.decisions.dropped, local.decisions.gone] and local.decisions.dropped
    # The headlines, each of the three kinds of proposal among them, are chosen on the executors as locally.
    assert headlines["spark"] == headlines["local"] and len(headlines["local"]) >= 6
    assert any(decide.contested(doc).any() for doc in choices)
    assert len(there.units) == 0 and len(there.decisions.flagged) == 0  # no unit on the driver
    # Nor a table of every document, nor its duplicates.
    assert not there.docs.known and not there.decisions.dropped and not there.decisions.gone
    assert (len(there.docs), there.characters, there.unit_counts) == (len(local.docs), local.characters,
                                                                      local.unit_counts)
    # Nor the report's counters per cluster or per line, nor the texts it quotes: the executors aggregate them
    # (`report_aggregates`), the duplicate groups' too.
    tallies = [batch.tally for _, batch in render(False, False, False)]
    assert tallies and not any(t.cluster_categories or t.lines or t.line_docs or t.representatives for t in tallies)
    clusters = there.aggregates.clusters()
    groups = [clusters.head(i) for i in range(len(clusters)) if clusters.head(i)[1] == "duplicate_document"]
    assert len(groups) == len({local.decisions.duplicate_root(d) for d in local.decisions.dropped})
    assert all(g[5] for g in groups) and len(clusters) > 10 and there.aggregates.top_lines()


@pytest.mark.parametrize("partitions", [1, 2, 7])
def test_corpus_samples_give_the_local_engines_output(spark, partitions):
    for sample in SAMPLES:
        (local_out, local), (spark_out, distributed) = both_engines([str(sample)], Config(), partitions)
        assert [c.text for c in spark_out] == [c.text for c in local_out], sample.name
        assert [c.document.id for c in spark_out] == [c.document.id for c in local_out]
        assert comparable(distributed) == comparable(local), sample.name
        assert local.findings, sample.name  # a comparison of nothing would prove nothing


@pytest.mark.parametrize("partitions", [1, 2, 7])
def test_a_dataframe_of_generated_documents_is_cleaned_as_locally(spark, partitions, monkeypatch):
    # With 2 partitions, the report's cluster entries sorted into many more than asked for, as a corpus whose
    # entries outgrow ENTRY_CHARS per partition has them: the driver reads them in the report's order all the same.
    monkeypatch.setattr(engine, "ENTRY_CHARS", 40_000 if partitions == 2 else engine.ENTRY_CHARS)
    read: list[int] = []
    spy_on(monkeypatch, engine, "_computed", lambda args, rdd: read.append(rdd.getNumPartitions()))
    docs = generate(3000, seed=11)
    random.Random(partitions).shuffle(docs)  # input order decides ties, not ids
    frame = spark.createDataFrame(docs).repartition(partitions).cache()
    ordered = [row.asDict() for row in frame.collect()]  # the frame's own row order is the input order
    cleaned, report = engine.clean_frame(frame, Config(), partitions)
    expected = [{"id": c.document.id, "text": c.text} for c in clean_documents(ordered)]
    assert [{"id": row["id"], "text": row["text"]} for row in cleaned.collect()] == expected
    local = run(ordered).report
    assert comparable(report) == comparable(local)
    categories = local.summary["categories"]
    assert all(categories[c]["findings"] for c in ("repeat", "boilerplate", "template", "syndicated"))
    assert (max(read) >= 10) == (partitions == 2) and len(report.clusters) > 100, read


def test_dataframe_rows_without_ids_or_text_and_kept_originals_match_the_local_engine(spark):
    docs = generate(300, seed=5)
    docs[3]["id"] = ""  # gets its origin as id, as locally
    docs[7]["text"] = None
    docs[9]["id"] = docs[8]["id"]
    config = Config(keep_original_field="raw")
    frame = spark.createDataFrame(docs, "id string, source string, date string, text string")
    cleaned, report = engine.clean_frame(frame, config, 3)
    local = run(docs, config)
    assert comparable(report) == comparable(local.report)
    assert report.summary["skipped"]["reasons"] == {"duplicate_id": 1, "missing_text": 1}
    rows = [row.asDict() for row in cleaned.collect()]
    kept = [c for c in local.documents if not c.dropped]
    assert rows == [output_record(c, config) for c in kept]  # the records `dedupe clean` writes
    assert kept[3].document.id == "record 4" and rows[3]["id"] == ""  # the record keeps its own (empty) id
    assert all(r["raw"] == c.document.text for r, c in zip(rows, kept))


@pytest.mark.parametrize("overrides", [{"lsh_index": "datasketch", "bucket_cap": 3}, {"bucket_cap": 3},
                                       {"unit": "paragraph", "hash_scheme": "datasketch"}])
def test_index_settings_give_the_same_clusters_as_locally(spark, overrides):
    docs = generate(400, seed=3)
    frame = spark.createDataFrame(docs)
    _, report = engine.clean_frame(frame, Config(**overrides), 2)
    assert comparable(report) == comparable(run(docs, Config(**overrides)).report)


def test_input_with_nothing_to_admit_gives_an_empty_report(spark, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": "a", "text": " "}) + "\n" + json.dumps({"id": "b"}) + "\n")
    (local_out, local), (spark_out, distributed) = both_engines([str(source)], Config(), 2)
    assert spark_out == local_out == []
    assert comparable(distributed) == comparable(local)
    assert distributed.summary["skipped"]["count"] == 2


def test_units_without_a_signature_only_give_the_local_engines_output(spark, tmp_path):
    source = tmp_path / "in.jsonl"  # separator lines normalise to nothing: units, but no signature at all
    source.write_text("".join(json.dumps({"id": i, "text": "***\n- - -\n~~~~"}) + "\n" for i in "ab"))
    (local_out, local), (spark_out, distributed) = both_engines([str(source)], Config(), 2)
    assert spark_out == local_out
    assert comparable(distributed) == comparable(local)
    assert distributed.summary["units"] == 6


def test_bad_records_are_skipped_and_reported_as_locally(spark, tmp_path):
    lines = [
        json.dumps({"id": "a", "text": "First line of a story about the harbour.\nSecond line."}),
        "{not json",
        json.dumps({"id": "b", "text": ""}),
        json.dumps({"id": "a", "text": "Another document that reuses the id a."}),
        json.dumps({"id": "c"}),
        json.dumps({"id": "d", "text": 42}),
        json.dumps({"id": "e", "text": "Has a NUL \u0000 byte."}),
        json.dumps({"id": "f", "text": "A fine document.\nShare this article\nShare this article"}),
    ]
    source = tmp_path / "in.jsonl"
    source.write_bytes(("\n".join(lines) + "\n").encode() + b'{"id": "g", "text": "bad \xff byte"}\n')
    (local_out, local), (spark_out, distributed) = both_engines([str(source)], Config(), 2)
    assert distributed.summary["skipped"] == local.summary["skipped"]
    assert local.summary["skipped"]["count"] == 7
    assert [c.text for c in spark_out] == [c.text for c in local_out]
    with pytest.raises(InputError, match="in.jsonl:2: malformed_json"):
        engine.first_pass(discover([str(source)]), Config(strict=True), "local[2]", 2)


def test_many_skips_reach_the_driver_as_counts_the_first_listed_and_those_of_files_as_locally(spark, tmp_path):
    # Bad records over several files and line ranges, repeated ids across them and a file cut short: the
    # driver gets the counts per reason, the first SKIPS_LISTED in input order and the file's skip, as locally.
    from dedupe.document import SKIPS_LISTED

    for name in ("a", "b"):
        (tmp_path / f"{name}.jsonl").write_text("".join(
            (json.dumps({"id": f"r{i % 400}", "text": f"Story {i} of {name} about the harbour."}) if i % 3
             else "{not json") + "\n" for i in range(900)))
    cut_gzip_jsonl(tmp_path / "c.jsonl.gz")
    found = discover([str(tmp_path)])
    local = analyse_corpus(read(found, Config()), Config())
    local.release()
    there, render = engine.first_pass(found, Config(), "local[2]", 3)
    second_pass(there, render, lambda cleaned: None)  # the run to its end, which releases what Spark persisted
    assert there.skips == local.skips
    assert local.skips.count > SKIPS_LISTED == len(local.skips.first)
    assert local.skips.reasons["duplicate_id"] > 500 and local.skips.reasons["malformed_json"] == 600
    assert [s.location.rpartition(":")[0] for s in local.skips.files] == [str(tmp_path / "c.jsonl.gz")]


def test_a_big_jsonl_file_read_in_ranges_gives_the_local_engines_output(spark, tmp_path, monkeypatch):
    from dedupe.io import InputFile, count_lines, line_ranges

    docs = generate(300, seed=5)
    lines = [json.dumps(d) for d in docs]
    lines[40:40] = ["", "{not json", json.dumps({"text": "A record without an id, named by its line."})]
    source = tmp_path / "big.jsonl"
    source.write_bytes(b"\xef\xbb\xbf" + ("\n".join(lines) + "\n").encode() + b'{"id": "x", "text": "bad \xff"}')
    size = len(source.read_bytes()) // 7  # seven ranges or so, cut at line starts
    ranges = line_ranges(InputFile("jsonl", tmp_path, source, True), size)
    data = source.read_bytes()
    assert len(ranges) >= 5 and ranges[0][0] == 0 and ranges[-1][1] == len(data)
    assert all(data[start - 1:start] == b"\n" for start, _ in ranges[1:])
    assert sum(count_lines(InputFile("jsonl", tmp_path, source, True), *r) for r in ranges) == data.count(b"\n")
    monkeypatch.setattr(engine, "RANGE_CHARS", size)
    (local_out, local), (spark_out, distributed) = both_engines([str(source)], Config(), 3)
    assert [c.text for c in spark_out] == [c.text for c in local_out]
    assert [c.document.id for c in spark_out] == [c.document.id for c in local_out]
    assert comparable(distributed) == comparable(local)
    assert local.summary["skipped"]["count"] == 2 and f"{source}:43" in [c.document.id for c in local_out]


def test_cli_engine_spark_writes_what_the_local_engine_writes(spark, tmp_path):
    sample = str(ROOT / "corpus_samples" / "wire-story")
    outputs = {}
    for name, extra in (("local", []), ("spark", ["--engine", "spark", "--partitions", "3"])):
        result = CliRunner().invoke(main, ["clean", sample, "-o", str(tmp_path / name), "--quiet",
                                           "--report", str(tmp_path / f"{name}.json"), *extra])
        assert result.exit_code == 0, result.output
        report = json.loads((tmp_path / f"{name}.json").read_text())
        for key in ("wall_time_s", "timings"):
            report["summary"].pop(key)
        files = {p.relative_to(tmp_path / name): p.read_bytes() for p in Path(tmp_path / name).rglob("*")
                 if p.is_file()}
        outputs[name] = (files, report)
    assert outputs["spark"] == outputs["local"]
    assert outputs["local"][0]


def test_a_record_that_has_the_kept_original_field_stops_a_spark_run_as_it_stops_a_local_one(spark, tmp_path):
    # Raised in a task that reads records: the user gets exit 2 and dedupe's message, not exit 6 and a source line.
    source = tmp_path / "crawl.jsonl"
    source.write_text("".join(json.dumps({"id": str(i), "text": f"Story {i} on the harbour works.\nRead more: x",
                                          "orig": "kept"}) + "\n" for i in range(3)), encoding="utf-8")
    said = {}
    for name, extra in (("local", []), ("spark", ["--engine", "spark", "--partitions", "2"])):
        out = tmp_path / f"{name}.jsonl"
        result = CliRunner().invoke(main, ["clean", str(source), "-o", str(out), "--keep-original-field", "orig",
                                           "--quiet", *extra])
        assert result.exit_code == 2, result.output
        assert not out.exists()
        said[name] = [line for line in result.output.splitlines() if line.startswith("dedupe:")]
    assert said["spark"] == said["local"]
    assert "already has a field 'orig'" in said["local"][0]
    # It travels as data, not as a failed task (whose traceback Spark would log): the reader yields it.
    item = discover([str(source)]).files[0]
    read = list(engine._read_piece((0, 0, item, 0, -1, 1), Config(keep_original_field="orig")))
    assert [r.reason for _, r in read] == [engine.REFUSED] and read[0][0] == (0, 0, 0)


def test_a_failing_spark_job_is_exit_6_with_sparks_reason_not_a_traceback(tmp_path):
    command = [sys.executable, "-m", "dedupe", "audit", str(ROOT / "corpus_samples" / "wire-story"), "--quiet",
               "--engine", "spark", "--spark-master", "local[1]", "--spark-conf", "spark.driver.memory=1m"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 6, done.stderr
    assert "dedupe: the Spark engine failed:" in done.stderr
    assert "Traceback" not in done.stderr


def test_quiet_spark_run_prints_nothing_of_its_own_on_stderr(tmp_path):
    # Spark's shell banner ("Setting default log level...") used to come through --quiet. The JVM's own notice
    # of the incubator module that Spark's launcher always adds is the one line no setting turns off.
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "story.txt").write_text("The harbour reopened on Monday.\nShare this story\n", encoding="utf-8")
    command = [sys.executable, "-m", "dedupe", "audit", "in", "--quiet", "--report", "r.json", "--engine", "spark",
               "--spark-master", "local[1]"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert [line for line in done.stderr.splitlines() if "incubator" not in line] == []
    assert (tmp_path / "r.json").exists()


def test_a_new_session_without_partitions_shuffles_over_its_default_parallelism_not_200(tmp_path):
    # Spark's 200 shuffle partitions made a one-document run 2.5x slower than one shuffle partition; a setting
    # of the user's stands.
    script = ("from dedupe.spark import session\n"
              "s = session('local[3]')\n"
              "print(s.conf.get('spark.sql.shuffle.partitions'))\n"
              "s.stop()\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["3"]


def test_a_session_in_a_running_jvm_leaves_its_driver_settings_as_they_are(spark, monkeypatch):
    # As under spark-submit, whose --conf spark.driver.memory is what the JVM runs with.
    before = {key: spark.conf.get(key, None) for key in ("spark.driver.memory", "spark.driver.extraJavaOptions")}
    monkeypatch.setattr(engine.os, "sysconf", lambda name: 1024)  # a machine with 1 MiB: 1024m, not 8192m
    monkeypatch.setattr(engine, "_quiet_logging", lambda: "/elsewhere/log4j2.properties")
    again = engine.session()
    assert again.sparkContext is spark.sparkContext
    assert {key: again.conf.get(key, None) for key in before} == before


def test_stdin_is_refused_with_exit_2_before_any_of_it_is_read(monkeypatch):
    import dedupe.cli

    def spooled(found):
        raise AssertionError("stdin was spooled before the Spark engine refused it")

    monkeypatch.setattr(dedupe.cli, "spooled_stdin", spooled)
    result = CliRunner().invoke(main, ["audit", "-", "--quiet", "--engine", "spark"], input="a line\n")
    assert result.exit_code == 2, result.output
    assert "the Spark engine reads files and folders, not stdin (-)" in result.output


def test_a_stopped_context_is_explained_by_what_usually_stops_it():
    # An unreachable --spark-master ends, after Spark's retries, in "Cannot call methods on a stopped
    # SparkContext": the message points at the master.
    error = RuntimeError("An error occurred while calling o42.count.\n: java.lang.IllegalStateException: Cannot "
                         "call methods on a stopped SparkContext.\n\tat org.apache.spark.SparkContext.assert")
    said = engine.reason(error)
    assert said.startswith("java.lang.IllegalStateException: Cannot call methods on a stopped SparkContext")
    assert "--spark-master" in said and "\tat" not in said

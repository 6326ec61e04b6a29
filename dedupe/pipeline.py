"""The whole run: documents -> units -> signatures -> pairs -> clusters -> decisions -> outputs.

`analyse` is the pure per-batch stage (segment, normalise, rules, shingle,
sign) that a process pool or Spark can call on any slice of the input; the
corpus-wide steps after it work on plain arrays. Batches are cut by a fixed
number of documents, never by the number of workers, so every `jobs` value
gives byte-identical results.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import multiprocessing
import os
import signal
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from functools import partial
from multiprocessing.context import BaseContext
from typing import Any, TypeVar

import numpy as np

from dedupe import cluster, index, malloc, rules, shingle, signature
from dedupe.config import Config
from dedupe.decide import (
    Clusters,
    Decisions,
    DocumentTexts,
    Interesting,
    Judge,
    Texts,
    Units,
    decide,
    in_memory,
    text_judge,
    unit_texts,
)
from dedupe.document import CleanedDocument, Document, Skip, Skips, UnitTable
from dedupe.io import (
    ArraySpool,
    DocumentStore,
    InputChanged,
    InputError,
    Lines,
    StoredBlock,
    cleaned_record,
    jsonl_line,
    parse_lines,
    record_lines,
    record_to_document,
    store_block,
)
from dedupe.normalize import normalize_batch, normalize_profiled
from dedupe.parallel import die_with_parent, ordered
from dedupe.render import Planner, Rendered, render_batch
from dedupe.report import Aggregates, FindingsFile, FindingsSpool, Report, ReportBuilder, skip_reasons
from dedupe.segment import CLOSERS, SENTENCE_ENDS, segment

BATCH_DOCS = 256
_SENTENCE_ENDS = tuple(SENTENCE_ENDS)  # a tuple: an empty last character is not in it (it is in a str)
# A line of this many words or fewer that ends with a colon is a label (`UnitTable.label_line`): "CHUCK TODD:",
# "Return visitors:". Followed by text that stays, it is kept as structure (`decide._labels`).
LABEL_MAX_WORDS = 6
K = TypeVar("K")
R = TypeVar("R")


def analyse(texts: list[str], titles: list[str | None], config: Config) -> UnitTable:
    """Units of a batch of documents (numbered from 0 in the batch) with their signatures, rule matches and
    template keys.

    Normalisation, word counts and shingling run over the whole batch at
    once; only rules and template keys are per unit, and only for units
    short enough to be one.
    """
    doc, start, end, units = [], [], [], []
    for offset, text in enumerate(texts):
        for s, e in segment(text, config.unit, config.unwrap):
            doc.append(offset)
            start.append(s)
            end.append(e)
            units.append(text[s:e])
    n = len(units)
    lengths = np.fromiter((len(u) for u in units), dtype=np.int64, count=n)
    matchable = lengths <= config.max_unit_chars
    norms, prof = normalize_profiled([u if ok else "" for u, ok in zip(units, matchable)], config.fold_digits)
    modes = np.where(prof.unspaced | (prof.words < config.short_unit_words), shingle.CHAR, shingle.WORD)
    modes = np.where(prof.chars == 0, 0, modes).astype(np.int8)
    sizes = np.where(modes == shingle.CHAR, config.char_ngram, config.word_ngram)
    compiled = rules.RuleSet.from_config(config)
    rule: list[str | None] = [None] * n
    template: list[tuple[str, str] | None] = [None] * n
    candidates = []
    short = np.flatnonzero(lengths <= rules.MAX_RULE_CHARS).tolist()
    for u, found in zip(short, compiled.match_many([units[u] for u in short])):
        rule[u] = found
        if found is None and prof.words[u] <= config.template_max_words and \
                any(mark in units[u] for mark in rules.TEMPLATE_MARKS):
            candidates.append(u)
    for u, key in zip(candidates, rules.template_keys([units[u] for u in candidates], config)):
        template[u] = key
    title_norms = normalize_batch([t or "" for t in titles], config.fold_digits)
    is_title = np.zeros(n, dtype=bool)
    doc_arr = np.array(doc, dtype=np.int64)
    for u in np.flatnonzero(np.array([bool(t) for t in title_norms], dtype=bool)[doc_arr]):
        is_title[u] = norms[u] == title_norms[doc[u]]
    shingles = shingle.shingle(norms, modes, sizes, config.hash_scheme)
    matched = np.flatnonzero(modes > 0)
    sigs = signature.minhash(shingles, config.num_perm, config.seed)[matched]
    keys = index.row_keys(sigs)
    first, ids = index.distinct_keys(keys)
    sig_row = np.full(n, -1, dtype=np.int64)
    sig_row[matched] = ids
    return UnitTable(
        doc=doc_arr,
        start=np.array(start, dtype=np.int64),
        end=np.array(end, dtype=np.int64),
        words=prof.words.astype(np.int32),
        mode=modes,
        sig_row=sig_row,
        sigs=sigs[first],
        sig_keys=keys[first],
        rule=rule,
        template=template,
        title=is_title,
        sentence_end=np.array([u.rstrip(CLOSERS)[-1:] in _SENTENCE_ENDS for u in units], dtype=bool),
        label_line=_label_lines(units, prof.words),
    )


def _label_lines(units: list[str], words: np.ndarray) -> np.ndarray:
    """Per unit, whether it is a label line (`LABEL_MAX_WORDS` words or fewer, ending with a colon); only the
    short units are looked at."""
    label = np.zeros(len(units), dtype=bool)
    short = np.flatnonzero((words <= LABEL_MAX_WORDS) & (words > 0))
    label[short] = [units[u].rstrip().endswith((":", "：")) for u in short.tolist()]
    return label


def _worker_setup(parent: int) -> None:
    """Workers die quietly on SIGTERM, which they also get when the parent dies however it does
    (`parallel.die_with_parent`), leave Ctrl-C to the parent, which cleans up, keep the memory their
    batches free for the next batch (`malloc.tune`), and keep their collector off what they inherited
    (`gc.freeze`: in the first pass's workers, collections took 0.18 s of 6 s at 100 MB, 0.03-0.09 s so)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(parent)
    malloc.tune()
    gc.freeze()


def cluster_units(units: UnitTable, config: Config, jobs: int = 1) -> np.ndarray:
    """A cluster label per unit (the smallest distinct-signature id of its cluster; -1: not matched); the
    index groups `jobs` bands at a time."""
    keys = units.sigs
    if len(keys) == 0:
        return np.full(len(units), -1, dtype=np.int64)
    words = np.zeros(len(keys), dtype=np.int64)
    np.maximum.at(words, units.sig_row[units.sig_row >= 0], units.words[units.sig_row >= 0])
    thresholds = np.where(words >= config.syndicated_min_words, config.long_threshold, config.threshold)
    pairs = index.candidate_pairs(keys, config.lsh_threshold, config.seed, config.lsh_index, config.bucket_cap,
                                  rule_groups(units, config), jobs)
    rows = np.unique(pairs)  # only these signatures are read back for verification
    edges, _ = cluster.verify(keys[rows], np.searchsorted(rows, pairs), thresholds[rows])
    edges = rows[edges]
    labels = cluster.components(len(keys), edges)
    return np.where(units.sig_row >= 0, labels[np.maximum(units.sig_row, 0)], -1)


def rule_groups(units: UnitTable, config: Config) -> np.ndarray:
    """A group per distinct signature for `index.candidate_pairs`: the pattern rule that matches its first
    unit (`rule_codes`).

    Two lines that one rule matches are compared only when their signatures are equal: they are that rule's
    template whatever else they share, and near-identical stamps would otherwise fill LSH buckets with pairs
    that almost never verify (96% of the candidates of a 1 GB news corpus, 1% of them verified).
    """
    matched = np.flatnonzero(units.sig_row >= 0)
    rows, first = np.unique(units.sig_row[matched], return_index=True)
    groups = np.zeros(len(units.sigs), dtype=np.int64)
    groups[rows] = rule_codes([units.rule[u] for u in matched[first].tolist()], config)
    return groups


def rule_codes(names: Sequence[str | None], config: Config) -> np.ndarray:
    """Each rule name's position among the config's rules, from 1; 0 for no rule."""
    number = {name: code for code, name in enumerate(rules.RuleSet.from_config(config).names, 1)}
    return np.array([number.get(name, 0) if name else 0 for name in names], dtype=np.int64)


def clustered_only(units: UnitTable, labels: np.ndarray) -> UnitTable:
    """The unit table keeping only the signatures that are still needed after clustering.

    Those are the rows of units whose cluster holds two units or more: the
    report compares a finding with the copy it matches, always in its own
    cluster. Other units (most of a corpus) get `sig_row` -1, so memory after
    clustering grows with the duplicated units only.
    """
    counts = np.bincount(labels + 1)  # labels are -1 or distinct-signature ids
    needed = (units.sig_row >= 0) & (labels >= 0) & (counts[labels + 1] >= 2)
    rows = np.unique(units.sig_row[needed])
    sig_row = np.full(len(units), -1, dtype=np.int64)
    sig_row[needed] = np.searchsorted(rows, units.sig_row[needed])
    return replace(units, sig_row=sig_row, sigs=units.sigs[rows])


def learned_templates(units: UnitTable, config: Config) -> set[str]:
    """Prefixes learned as templates from this corpus (empty when learning is off)."""
    if not config.learn_templates:
        return set()
    return rules.learned_prefixes(template_stats(units), config.min_docs)


def template_stats(units: UnitTable) -> rules.PrefixStats:
    """`rules.prefix_stats` of the units with a template key."""
    return rules.prefix_stats(
        (key[0], key[1], int(units.doc[u]), bool(units.sentence_end[u]))
        for u, key in enumerate(units.template)
        if key is not None
    )


@dataclass
class Analysis:
    """What the first pass learned about a corpus. No document text is held in memory."""

    docs: Sequence[Document]  # text and record fields dropped (Spark: `document.SomeDocuments` knowing none)
    units: UnitTable  # the units the decisions refer to (`decide`)
    unit_counts: tuple[int, int]  # units in the corpus, and units too long to be matched
    characters: int  # in the corpus's texts
    decisions: Decisions
    skips: Skips
    config: Config
    began: float
    timings: dict[str, float]
    store: DocumentStore | None = None  # where the local engine reads documents again, until its second pass
    # The report's clusters and top lines, when the engine aggregates them where it keeps the decisions' units (Spark:
    # `units` and the decisions' unit fields are empty on the driver; see `report.Aggregates`)
    aggregates: Aggregates | None = None

    def release(self) -> None:
        """Close the document store: the second pass has read it, or will not run."""
        if self.store is not None:
            self.store.close()
        self.store = None


class Admission:
    """Turns input records into Documents, counting (or, in strict mode, refusing) bad ones.

    A record is checked on its own (`checked`, wherever it is parsed) and then accepted in input order
    (`accept`: ids are unique, and the order numbers the documents)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.skips = Skips()
        self.seen: set[str] = set()
        self.order = 0

    def skip(self, item: Skip) -> None:
        if self.config.strict:
            raise strict_error(item)
        self.skips.add(item)

    def accept(self, doc: Document) -> bool:
        """Number a checked document, or skip it when its id was already read."""
        if doc.id in self.seen:
            self.skip(skip_of(doc, (DUPLICATE_ID, duplicate_detail(doc))))
            return False
        self.seen.add(doc.id)
        doc.order = self.order
        self.order += 1
        return True

    def admit(self, items: Iterable[Document | dict[str, Any] | Skip]) -> Iterator[Document]:
        for position, item in enumerate(items):
            item = checked(item, position, self.config)
            if isinstance(item, Skip):
                self.skip(item)
            elif self.accept(item):
                yield item


def checked(item: Document | dict[str, Any] | Skip, position: int, config: Config) -> Document | Skip:
    """The item as a Document that can be processed, or the Skip that says why not (ids aside)."""
    if isinstance(item, Skip):
        return item
    if isinstance(item, dict):
        item = record_to_document(item, config, record_origin(position))
        if isinstance(item, Skip):
            return item
    if not isinstance(item, Document):
        raise TypeError(f"record {position + 1}: documents must be dicts or dedupe.Document objects, "
                        f"not {type(item).__name__}")
    problem = document_problem(item, config)
    return skip_of(item, problem) if problem else item


DUPLICATE_ID = "duplicate_id"


def record_origin(position: int) -> str:
    """Where a record given as a dict was (its skip location, and its id when it has none)."""
    return f"record {position + 1}"


def duplicate_detail(doc: Document) -> str:
    return f"id {doc.id!r} was already read; this copy is skipped"


def skip_of(doc: Document, problem: tuple[str, str]) -> Skip:
    """The skip record of an admitted-looking document that has a problem."""
    return Skip(doc.origin or f"document {doc.id}", *problem)


def strict_error(item: Skip) -> InputError:
    return InputError(f"{item.location}: {item.reason}: {item.detail}")


def info_of(doc: Document) -> Document:
    """What the first pass keeps of a document: everything but its text and record (and the text's length)."""
    return replace(doc, text="", meta={}, chars=len(doc.text))


def document_problem(doc: Document, config: Config) -> tuple[str, str] | None:
    """Why a document cannot be processed (reason, detail), or None; ids are checked by the caller."""
    if not isinstance(doc.text, str):
        return "text_not_string", f"text is {type(doc.text).__name__}, not a string"
    if "\x00" in doc.text:
        return "binary", "text contains NUL bytes"
    if not doc.text.strip():
        return "empty_document", "no text"
    try:
        doc.text.encode("utf-8")
    except UnicodeEncodeError as err:
        return "invalid_unicode", f"lone surrogate U+{ord(doc.text[err.start]):04X} at character {err.start}"
    for name in ("id", "source", "date", "title"):  # written to the report and outputs as UTF-8 too
        value = getattr(doc, name)
        if isinstance(value, str) and not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as err:
                return "invalid_unicode", f"lone surrogate U+{ord(value[err.start]):04X} in the {name}"
    if len(doc.text) > config.max_document_chars:
        return "document_too_large", (
            f"{len(doc.text):,} characters, above max_document_chars={config.max_document_chars:,}"
        )
    return None


# A batch of the first pass, in input order: checked documents and skips (read in this process), or JSONL
# lines that the batch's worker parses and checks.
Batch = list[Document | Skip] | Lines


def _batches(items: Iterable[Document | dict[str, Any] | Skip | Lines], config: Config) -> Iterator[Batch]:
    """Cut the input into batches of BATCH_DOCS documents (or LINES_PER_CHUNK lines), the same whatever the
    number of workers."""
    batch: list[Document | Skip] = []
    documents = 0
    for position, item in enumerate(items):
        if isinstance(item, Lines):
            if batch:
                yield batch
                batch, documents = [], 0
            yield item
            continue
        item = checked(item, position, config)
        batch.append(item)
        documents += isinstance(item, Document)
        if documents == BATCH_DOCS:
            yield batch
            batch, documents = [], 0
    if batch:
        yield batch


@dataclass
class Signed:
    """What a worker returns for a batch: its units, with documents numbered from 0 in the batch, and for
    a batch of lines the documents and skips it parsed, without their texts (the parent has the lines)."""

    table: UnitTable
    parsed: list[Document | Skip] | None = None
    bands: StoredBlock | None = None  # the LSH band keys of the table's signatures (`index.band_block`)


def sign(work: Lines | tuple[list[str], list[str | None]], config: Config, folders: tuple[str, str | None]
         ) -> Signed:
    """`analyse` a batch's documents, given as (texts, titles), or parsed and checked here from JSONL lines.

    The signatures are stored in the first of the `folders` of shared spools (`io.store_block`) and the
    table holds their `StoredBlock`: a worker sends back a reference, not 512 bytes per signature through
    the pipe. Their LSH band keys are stored in the second, if any, so that the index does not read the
    signatures back to key them, and the workers key them in parallel.
    """
    parsed = None
    if isinstance(work, Lines):
        parsed = [checked(item, 0, config) for item in parse_lines(work, config)]
        work = _texts_and_titles(parsed)
        parsed = [info_of(d) if isinstance(d, Document) else d for d in parsed]
    table = analyse(*work, config)
    signatures, keys = folders
    bands = None if keys is None else store_block(keys, _band_block(table.sigs, config))
    return Signed(replace(table, sigs=store_block(signatures, table.sigs)), parsed, bands)


def _band_block(sigs: np.ndarray, config: Config) -> np.ndarray:
    """The LSH band keys of a block of signatures, for the index that `config` sets up."""
    return index.band_block(sigs, *index.lsh_params(config.lsh_threshold, config.num_perm))


def _work(batch: Batch) -> Lines | tuple[list[str], list[str | None]]:
    """What a batch's worker needs: its lines, or its documents' texts and titles."""
    return batch if isinstance(batch, Lines) else _texts_and_titles(batch)


def _texts_and_titles(items: list[Document | Skip]) -> tuple[list[str], list[str | None]]:
    docs = [d for d in items if isinstance(d, Document)]
    return [d.text for d in docs], [d.title for d in docs]


def _admitted(batch: Batch, signed: Signed, admission: Admission, infos: list[Document], store: DocumentStore,
              keep: list[Document] | None, signatures: ArraySpool) -> UnitTable:
    """Accept a signed batch's documents in input order, leave them in the store (a batch of lines by their
    lines, which this process read), and number its units' documents as the corpus does (the units of a
    document whose id was already read are dropped, and the batch's signatures read from `signatures`)."""
    if keep is not None and signed.parsed is not None:
        raise ValueError("documents cannot be kept when they are read as raw lines (io.read(..., raw=True))")
    entries = batch if signed.parsed is None else signed.parsed
    lines = record_lines(batch) if isinstance(batch, Lines) else []  # lines[i]: the line of entries[i]
    accepted: list[bool] = []
    for i, entry in enumerate(entries):
        if isinstance(entry, Skip):
            admission.skip(entry)
            continue
        accepted.append(admission.accept(entry))
        if not accepted[-1]:
            continue
        if isinstance(batch, Lines):  # parsed by the worker: already without its text
            infos.append(entry)
            _, line, offset = lines[i]
            store.add_line(line, offset, batch.path, entry.chars)
            continue
        infos.append(info_of(entry))
        store.add_text(entry.text)
        if keep is not None:
            keep.append(entry)
    ok = np.array(accepted, dtype=bool)
    table = signed.table
    if not ok.all() and isinstance(table.sigs, StoredBlock):  # rare (a repeated id): read what stays
        table = replace(table, sigs=signatures.load(table.sigs))
    return renumbered(table, ok, len(infos) - int(ok.sum()))


def renumbered(table: UnitTable, accepted: np.ndarray, first: int) -> UnitTable:
    """The batch's units with document i (numbered from 0 in the batch) numbered among the accepted ones
    from `first`; the units and signatures of documents not accepted are dropped."""
    number = first + np.cumsum(accepted) - 1
    if accepted.all():
        return replace(table, doc=number[table.doc])
    rows = np.flatnonzero(accepted[table.doc])
    sig_row = table.sig_row[rows]
    used = np.unique(sig_row[sig_row >= 0])
    kept = rows.tolist()
    return UnitTable(
        doc=number[table.doc[rows]], start=table.start[rows], end=table.end[rows], words=table.words[rows],
        mode=table.mode[rows], sig_row=np.where(sig_row >= 0, np.searchsorted(used, sig_row), -1),
        sigs=table.sigs[used], sig_keys=table.sig_keys[used], rule=[table.rule[r] for r in kept],
        template=[table.template[r] for r in kept], title=table.title[rows], sentence_end=table.sentence_end[rows],
        label_line=table.label_line[rows])


def in_order(work: Callable[..., R], batches: Iterable[tuple[K, tuple]], jobs: int,
             context: BaseContext | None = None) -> Iterator[tuple[K, R]]:
    """(key, work(*args)) for every (key, args) batch, in order; in `jobs` worker processes (of
    multiprocessing `context`; forked on Linux by default, whatever Python's default, so that the workers are
    this process's children) when jobs > 1 (only `args` travel), with at most 2 x jobs batches in flight
    so that memory stays bounded."""
    if jobs <= 1:
        for key, args in batches:
            yield key, work(*args)
        return
    with ProcessPoolExecutor(max_workers=jobs, initializer=_worker_setup, initargs=(os.getpid(),),
                             mp_context=context or FORK) as pool:
        def submit(args: tuple) -> Future[R]:
            try:
                return pool.submit(work, *args)
            except OSError as error:  # fork failed: no memory or no processes left
                raise BrokenProcessPool(f"cannot start a worker process: {error}") from error

        yield from ordered(submit, batches, 2 * jobs)


def _signed(batches: Iterable[Batch], config: Config, jobs: int, admission: Admission, infos: list[Document],
            store: DocumentStore, spools: tuple[ArraySpool, ArraySpool | None], keep: list[Document] | None,
            progress: Callable[[int], None] | None) -> Iterator[UnitTable]:
    """Sign batches in order (`in_order`), admitting their documents as they come back, reporting progress.

    The workers store the signatures in the folder of the shared spool `spools[0]` (which
    `UnitTable.concat` adopts), and their band keys, if asked, in that of `spools[1]` (adopted here, block
    for block)."""
    signatures, bands = spools
    folders = (signatures.folder, None if bands is None else bands.folder)
    for batch, signed in in_order(sign, ((batch, (_work(batch), config, folders)) for batch in batches), jobs):
        before = len(infos)
        table = _admitted(batch, signed, admission, infos, store, keep, signatures)
        if bands is not None:  # a table that lost documents (`renumbered`) holds its remaining signatures
            bands.append(signed.bands if isinstance(table.sigs, StoredBlock) else _band_block(table.sigs, config))
        yield table
        if progress:
            progress(len(infos) - before)


def analyse_corpus(documents: Iterable[Document | dict[str, Any] | Skip | Lines], config: Config, jobs: int = 1,
                   progress: Callable[[int], None] | None = None, keep: list[Document] | None = None
                   ) -> Analysis:
    """First pass: units, signatures, clusters and decisions for the whole corpus.

    No document text is held in memory: signatures wait in temporary files
    in TMPDIR (a shared `ArraySpool`, where the workers store them) until
    the decisions are made, and documents in
    the `DocumentStore` (their lines in a plain JSONL input, or a temporary
    file) until the second pass (`render_again`) has read them. Pass a list
    as `keep` to collect the admitted documents when the input cannot be
    read twice.
    """
    began = time.perf_counter()
    admission = Admission(config)
    infos: list[Document] = []
    store = DocumentStore(config.text_field)
    try:
        with contextlib.ExitStack() as spools:
            signatures = spools.enter_context(ArraySpool("signatures", np.uint32, config.num_perm, shared=True))
            keyed = None  # band keys, which the datasketch index does not read
            if config.lsh_index != "datasketch":
                keyed = spools.enter_context(ArraySpool("bands", np.uint64, shared=True))
            lsh = index.lsh_params(config.lsh_threshold, config.num_perm)
            # Closed before the spools, even when this raises: the workers are gone when their folders go.
            batches = spools.enter_context(contextlib.closing(_signed(
                _batches(documents, config), config, jobs, admission, infos, store, (signatures, keyed), keep,
                progress)))
            units = UnitTable.concat(batches, config.num_perm, signatures, None if keyed is None else (keyed, *lsh))
            signed = time.perf_counter()
            # Each index thread holds one band's keys and their sort: no more threads than cores.
            labels = cluster_units(units, config, min(jobs, os.cpu_count() or 1))
            units = clustered_only(units, labels)  # the other signatures are freed here, before deciding
            timings = {"read_and_sign_s": signed - began, "index_and_cluster_s": time.perf_counter() - signed}
            texts = PooledTexts(store, jobs)
            analysis = conclude(infos, partial(local_inputs, units, labels, texts, len(infos), config), texts,
                                admission.skips, config, began, timings)
    except BaseException:
        store.close()
        raise
    analysis.store = store
    return analysis


def conclude(infos: list[Document], inputs: Callable[[], tuple[Interesting, Units, set[str]]], clusters: Clusters,
             skips: Skips, config: Config, began: float, timings: dict[str, float]) -> Analysis:
    """Decisions from clusters: the local engine's step after clustering (the Spark engine's is
    `spark.ExecutorDecisions`, made of the same stage functions).

    `inputs` gives `decide` the interesting units, where the per-document stages run and the learned
    templates (`local_inputs` for units in memory); it is timed with the decisions.
    """
    start = time.perf_counter()
    with frozen():  # the first pass's objects live on: collections need not walk them again
        part, where, learned = inputs()
        counts = (part.total, part.too_long)
        units, decisions = decide(part, infos, clusters, learned, config, where)
        del part, where
    return Analysis(infos, units, counts, sum(d.chars for d in infos), decisions, skips, config, began,
                    {**timings, "decide_s": time.perf_counter() - start})


def local_inputs(units: UnitTable, labels: np.ndarray, texts: Texts, ndocs: int, config: Config
                 ) -> tuple[Interesting, Units, set[str]]:
    """`conclude`'s inputs from all units in memory. `units` should hold only the signatures still needed
    (`clustered_only`), so that the others are freed before deciding."""
    learned = learned_templates(units, config)
    return (*in_memory(units, labels, texts, learned, ndocs, config), learned)


# The second pass of an engine: render(keep, encode, texts) -> (documents, rendered batch) in input order; the
# documents and the batch's cleaned texts only when `texts` is asked for.
Render = Callable[[bool, bool, bool], Iterable[tuple[list[Document], Rendered]]]


def render_again(analysis: Analysis, documents: Iterable[Document | dict[str, Any] | Skip] | None, jobs: int = 1
                 ) -> Render:
    """The local engine's second pass, to run once.

    Batches of documents are rendered (`render.render_batch`) from the document store, in `jobs` forked
    worker processes when jobs > 1 (they inherit the plans and the store, so only batch numbers and results
    travel). When the cleaned documents are wanted (`texts`), they come with their records from
    `documents`, the first pass's input again, which must be the same documents. Or, with `documents`
    None, the workers make each JSONL document's cleaned output record from its line in the store, and the
    documents come without their texts and fields (see `CleanedDocument.record`): only for input read as
    JSONL lines or from .txt files, whose records hold nothing else. The store is closed at the end.
    """
    def render(keep: bool, encode: bool, texts: bool) -> Iterator[tuple[list[Document], Rendered]]:
        store, n = analysis.store, len(analysis.docs)
        if store is None:
            raise ValueError("this analysis' second pass has run already")
        records = texts and documents is None
        again = _batched_again(analysis, documents) if texts and documents is not None else iter(())
        try:
            with _rendering(analysis, store) as token:
                counts = ((first, min(BATCH_DOCS, n - first)) for first in range(0, n, BATCH_DOCS))
                ranges = ((first, (token, first, count, keep, encode, texts, records)) for first, count in counts)
                for first, batch in in_order(_render_range, ranges, jobs if FORK else 1, FORK):
                    if records:
                        yield analysis.docs[first:first + len(batch.texts)], batch
                    else:  # the same batches: _batched_again checks every document, and raises when fewer
                        yield (next(again) if texts else []), batch
                for _ in again:  # more documents than the first time (the checks are in _batched_again)
                    raise InputChanged("the input changed between the two passes")
        finally:
            analysis.release()

    return render


# What the workers' functions read, by token (`_shared`): set in this process, inherited by forked workers.
_SHARED: dict[int, Any] = {}
_TOKENS = itertools.count()
# Workers that inherit the parent's memory: Linux only (fork is unsafe on macOS, absent on Windows).
FORK = multiprocessing.get_context("fork") if sys.platform.startswith("linux") else None


@contextlib.contextmanager
def _rendering(analysis: Analysis, store: DocumentStore) -> Iterator[int]:
    """Make the plans and the document store available to `_render_range`, under the token it yields, in
    this process and in workers forked from it."""
    store.flush()  # a forked worker reads the file, not this process's buffer
    planner = Planner(analysis.docs, analysis.units, analysis.decisions)
    # Frozen: forked workers' collectors must not touch (and so copy) every object they inherit.
    with _shared((analysis, planner, store)) as token, frozen():
        yield token


_FREEZES = 0  # how many `frozen` blocks are open


@contextlib.contextmanager
def frozen() -> Iterator[None]:
    """Keep the cyclic garbage collector off every object alive on entry (`gc.freeze`) until the outermost
    block ends (`gc.unfreeze`).

    After the first pass, millions of objects (documents, the unit table's columns, decisions) live until
    the end of the run, and each full collection walked them all: at 100 MB with `--jobs 1`, 0.95 s of
    collections, 0.50 s with this. Frozen objects are still freed when their last reference goes.
    """
    global _FREEZES
    gc.freeze()
    _FREEZES += 1
    try:
        yield
    finally:
        _FREEZES -= 1
        if _FREEZES == 0:
            gc.unfreeze()


POOL_MIN_ITEMS = 2000  # fewer documents to read, or pairs to judge, than this: not worth forking workers


class PooledTexts(DocumentTexts):
    """The local engine's texts (the document store) for `decide`, with its reading of documents
    (`map_documents`: the reprint checks' paragraphs, headline scores) and its reprint checks (`judge`) split
    over `jobs` forked workers, which inherit the store and the paragraphs' texts: at 1 GB these were 7.6 s of
    `decide`'s 15 s, in one process. Results are merged by document and pair, so they do not depend on
    `jobs`."""

    def __init__(self, store: DocumentStore, jobs: int) -> None:
        super().__init__(store)
        self.store, self.jobs = store, jobs if FORK else 1

    def map_documents(self, fn: Callable[[str, Any], R], work: dict[int, Any]) -> dict[int, R]:
        if self.jobs <= 1 or len(work) < POOL_MIN_ITEMS:
            return super().map_documents(fn, work)
        self.store.flush()  # a forked worker reads the file, not this process's buffer
        pieces = np.array_split(np.array(sorted(work), dtype=np.int64), 4 * self.jobs)
        found: dict[int, R] = {}
        with _shared(self.store) as token:
            for _, part in in_order(_map_texts, ((i, (token, fn, {d: work[d] for d in piece.tolist()}))
                                                 for i, piece in enumerate(pieces)), self.jobs, FORK):
                found.update(part)
        return found

    @contextlib.contextmanager
    def judge(self, units: UnitTable, wanted: np.ndarray, config: Config) -> Iterator[Judge]:
        text_of = unit_texts(self, units, wanted)
        if self.jobs <= 1:
            yield text_judge(text_of, config)
            return
        with _shared(text_of) as token:
            def judge(pairs: np.ndarray) -> np.ndarray:
                if len(pairs) < POOL_MIN_ITEMS:
                    return text_judge(text_of, config)(pairs)
                pieces = np.array_split(pairs, 4 * self.jobs)
                ok = in_order(_judge_pairs, ((i, (token, piece, config)) for i, piece in enumerate(pieces)),
                              self.jobs, FORK)
                return np.concatenate([part for _, part in ok])

            yield judge


@contextlib.contextmanager
def _shared(value: Any) -> Iterator[int]:
    """`value` under the token it yields, for this process and the workers forked from it while it lasts."""
    token = next(_TOKENS)
    _SHARED[token] = value
    try:
        yield token
    finally:
        del _SHARED[token]


def _map_texts(token: int, fn: Callable[[str, Any], R], work: dict[int, Any]) -> dict[int, R]:
    return DocumentTexts(_SHARED[token]).map_documents(fn, work)


def _judge_pairs(token: int, pairs: np.ndarray, config: Config) -> np.ndarray:
    return text_judge(_SHARED[token], config)(pairs)


def _render_range(token: int, first: int, count: int, keep: bool, encode: bool, texts: bool, records: bool
                  ) -> Rendered:
    """Render documents first, ..., first + count - 1 from the store (see `_rendering`); with `records`, a
    JSONL document's cleaned output record is made here too, in place of its cleaned text."""
    analysis, planner, store = _SHARED[token]
    found = store.records(first, count)
    docs = [replace(info, text=text) for info, (text, _) in zip(analysis.docs[first:first + count], found)]
    rendered = render_batch(docs, planner.plans(first, count), keep, encode, texts)
    if records:
        rendered.records = [None] * count
        for i, (doc, (_, record)) in enumerate(zip(docs, found)):
            if record is not None and not rendered.dropped[i]:
                cleaned = cleaned_record(record, doc.text, rendered.texts[i], analysis.config)
                rendered.records[i], rendered.texts[i] = jsonl_line(cleaned), ""
    return rendered


def apply(rendered: Iterable[tuple[list[Document], Rendered]], builder: ReportBuilder) -> Iterator[CleanedDocument]:
    """Add each rendered batch to the report and yield its cleaned documents, in input order."""
    for docs, batch in rendered:
        builder.take(batch)
        records = batch.records or itertools.repeat(None)
        for doc, text, removed, dropped, record in zip(docs, batch.texts, batch.removed_chars, batch.dropped,
                                                       records):
            yield CleanedDocument(doc, text, dropped=dropped, removed_chars=removed, record=record)


def _batched_again(analysis: Analysis, documents: Iterable[Document | dict[str, Any] | Skip]
                   ) -> Iterator[list[Document]]:
    """The documents read again, checked against the first pass, in batches of consecutive documents."""
    infos = analysis.docs
    batch: list[Document] = []
    seen = 0
    for doc in Admission(replace(analysis.config, strict=False)).admit(documents):
        seen += 1
        if doc.order >= len(infos) or infos[doc.order].id != doc.id or infos[doc.order].chars != len(doc.text):
            raise InputChanged(f"{doc.origin}: the input changed between the two passes")
        batch.append(doc)
        if len(batch) == BATCH_DOCS:
            yield batch
            batch = []
    if batch:
        yield batch
    if seen != len(infos):
        raise InputChanged(f"the input changed between the two passes: {len(infos)} documents first, "
                         f"{seen} the second time")


@dataclass
class Result:
    """Everything an in-memory run produces: cleaned documents (input order) and the report."""

    documents: list[CleanedDocument]
    report: Report
    # The units the decisions refer to (see `decide.decide`), not every unit: report.summary["units"] counts those.
    units: UnitTable
    decisions: Decisions


def run(
    documents: Iterable[Document | dict[str, Any] | Skip],
    config: Config | None = None,
    jobs: int = 1,
    progress: Callable[[int], None] | None = None,
) -> Result:
    """Find every category in `documents` and return cleaned documents plus the report.

    `documents` may mix Document objects, dicts (fields named as in the
    config) and Skip records from a reader; it is read once, and the
    admitted documents are held in memory for the second pass (the CLI reads
    files twice instead). `progress` is called with the number of documents
    signed after each batch.
    """
    config = config or Config()
    kept: list[Document] = []
    analysis = analyse_corpus(documents, config, jobs, progress, keep=kept)
    cleaned: list[CleanedDocument] = []
    report = second_pass(analysis, render_again(analysis, kept, jobs), cleaned.append)
    return Result(cleaned, report, analysis.units, analysis.decisions)


def second_pass(analysis: Analysis, render: Render, on_cleaned: Callable[[CleanedDocument], None],
                keep_findings: bool = True, sink: FindingsFile | FindingsSpool | None = None,
                findings_file: str | None = None, texts: bool = True) -> Report:
    """Run an engine's second pass (`render_again`, `spark.render_on_executors`), hand each cleaned document
    to `on_cleaned` (only with `texts`), and build the report.

    Findings are kept in the report (`keep_findings`) and/or streamed to `sink` as they are found.
    """
    builder = ReportBuilder(analysis.docs, analysis.units, analysis.unit_counts, analysis.characters,
                            analysis.decisions, analysis.skips, analysis.config, keep_findings=keep_findings,
                            sink=sink, aggregates=analysis.aggregates)
    began = time.perf_counter()
    with frozen():  # the analysis, and each batch's findings once counted, live to the end of the run
        for cleaned in apply(render(keep_findings, sink is not None, texts), builder):
            on_cleaned(cleaned)
        timings = {**analysis.timings, "clean_and_report_s": time.perf_counter() - began}
        return builder.finish(time.perf_counter() - analysis.began, findings_file, timings)


def clean_documents(documents: Iterable[Document | dict[str, Any]], config: Config | None = None,
          jobs: int = 1) -> Iterator[CleanedDocument]:
    """Yield cleaned documents that are kept, in input order (the pipeline step). Input that cannot be used (a
    record without text, a repeated id...) is skipped with a warning (`warnings.warn`): `run` gives the report
    that lists it, and `Config(strict=True)` raises instead."""
    result = run(documents, config, jobs)
    skipped = result.report.summary["skipped"]
    if skipped["count"]:
        warnings.warn(f"dedupe skipped {skipped['count']} input(s) ({skip_reasons(skipped)}); run() returns the "
                      "report that lists them", stacklevel=2)
    for cleaned in result.documents:
        if not cleaned.dropped:
            yield cleaned

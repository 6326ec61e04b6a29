"""Candidate pairs: units whose signatures collide in at least one LSH band.

`datasketch.MinHashLSH` is the reference index (and the one an incremental
index will keep across crawls); its optimiser picks the bands b and rows r
for the threshold and num_perm, and with `lsh_index = "auto"` (the
default) it is used up to AUTO_DATASKETCH_KEYS distinct signatures. Above
that the same buckets are found by sorting each band's slice of the
signature matrix with numpy (`bands`): the same pairs (tested) at a
fraction of the time and memory. Keys are the distinct signatures, so a menu line printed on ten
thousand pages is one key, not ten thousand.

datasketch is imported only when its index runs: its import loads scipy,
about a quarter of a second of every run's start-up, so the optimiser is
computed here (`lsh_params`, tested against datasketch's).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache, partial
from typing import TypeVar

import numpy as np

from dedupe.io import ArraySpool
from dedupe.jit import jit
from dedupe.parallel import ordered
from dedupe.shingle import _fmix64
from dedupe.signature import to_lean

# With "auto", up to this many distinct keys go through MinHashLSH itself (the
# reference); beyond it the band sort, which gives the same pairs faster.
AUTO_DATASKETCH_KEYS = 20_000
T = TypeVar("T")
R = TypeVar("R")


@lru_cache(maxsize=16)
def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) that datasketch's optimiser chooses for this threshold: of all b x r <= num_perm, the
    first (b ascending, then r) that minimises the false positive probability integrated over similarities
    [0, threshold] plus the false negative probability over [threshold, 1], with equal weights. Both are
    polynomials of degree b x r in the similarity, so Gauss-Legendre quadrature with num_perm / 2 + 1 nodes
    integrates them exactly (datasketch uses scipy's adaptive `quad`)."""
    nodes, weights = np.polynomial.legendre.leggauss(num_perm // 2 + 1)
    below, above = threshold * (nodes + 1) / 2, threshold + (1 - threshold) * (nodes + 1) / 2
    pairs = [(b, r) for b in range(1, num_perm + 1) for r in range(1, num_perm // b + 1)]
    b, r = (np.array(column, dtype=np.float64)[:, None] for column in zip(*pairs))
    false_positive = threshold / 2 * ((1 - (1 - below ** r) ** b) @ weights)
    false_negative = (1 - threshold) / 2 * (((1 - above ** r) ** b) @ weights)
    return pairs[int(np.argmin(0.5 * false_positive + 0.5 * false_negative))]


_MIX = np.random.default_rng(0x5EED).integers(1, 2**63, size=1024, dtype=np.uint64) | np.uint64(1)


def row_keys(block: np.ndarray) -> np.ndarray:
    """A 64-bit key per row of a uint32 block, equal for equal rows.

    Rows are combined with fixed odd multipliers and MurmurHash3's finaliser,
    so unequal rows share a key with probability about 2**-64: grouping
    and sorting 8-byte keys is far cheaper than comparing whole rows. One
    compiled pass over the block (a numpy pass per column made three
    temporaries of the block's height each time).
    """
    return _row_keys(block, _MIX)


@jit
def _row_keys(block: np.ndarray, mix: np.ndarray) -> np.ndarray:
    keys = np.empty(block.shape[0], dtype=np.uint64)
    for i in range(block.shape[0]):
        key = np.uint64(0)
        for column in range(block.shape[1]):
            key = (key ^ np.uint64(block[i, column])) * mix[column]
        keys[i] = _fmix64(key)
    return keys


def distinct_keys(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the first row of each distinct signature, and each row's distinct id, from the rows'
    uint64 keys (`row_keys`).

    Distinct ids are numbered in order of first appearance, so they do not
    depend on how rows sort. Equal keys are brought together by `grouped`
    (5 million keys: 0.46 s against 1.1 s with `np.unique`).
    """
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    order, ordered = grouped(keys)  # rows of equal keys in increasing order
    head = np.concatenate(([True], ordered[1:] != ordered[:-1]))
    first = order[head]  # each distinct key's first row
    by_appearance = np.argsort(first, kind="stable")
    rank = np.empty_like(by_appearance)
    rank[by_appearance] = np.arange(len(first))
    ids = np.empty(len(keys), dtype=np.int64)
    ids[order] = rank[np.cumsum(head) - 1]
    return first[by_appearance], ids


class SpooledSignatures:
    """A corpus's distinct signatures, kept in an `io.ArraySpool` and read back only where needed.

    Row j is the spool's row `first[j]` (the spool holds each batch's
    distinct rows; `first` picks one of each across batches). Indexing with
    an integer array gathers rows into memory: candidate pairs and clustered
    units need a few percent of them.
    """

    def __init__(self, spool: ArraySpool, first: np.ndarray, num_perm: int,
                 keyed: tuple[ArraySpool, int, int] | None = None) -> None:
        """`keyed`: a spool of the band keys of the signature spool's blocks (`band_block`), block for block,
        and the (bands, rows) they were made for."""
        self.spool = spool
        self.first = first
        self.shape = (len(first), num_perm)
        self.keyed = keyed

    def __len__(self) -> int:
        return len(self.first)

    def __getitem__(self, ids: np.ndarray) -> np.ndarray:
        return self.spool.take(self.first[ids])

    def band_keys(self, bands: int, rows: int, threads: int = 1) -> Iterator[np.ndarray]:
        """`band_keys`: those stored as the signatures were (`keyed`, as the first pass does), else (other
        (bands, rows), or a table concatenated without them) after one pass over the spool (`threads` blocks
        at a time), the keys waiting in a second spool band-major."""
        if self.keyed is not None and self.keyed[1:] == (bands, rows):
            for band in range(bands):
                yield self.keyed[0].stripe(band)[self.first]
            return

        def keys_of(number: int) -> np.ndarray:
            start, end = self.spool.span(number)
            lo, hi = np.searchsorted(self.first, [start, end])
            return band_block(self.spool.block(number)[self.first[lo:hi] - start], bands, rows)

        with ArraySpool("bands", np.uint64) as spooled:
            for keys in _threaded(keys_of, range(self.spool.blocks), threads):
                spooled.append(keys)
            for band in range(bands):
                yield spooled.stripe(band)


def band_keys(sigs: np.ndarray | SpooledSignatures, bands: int, rows: int, threads: int = 1) -> Iterator[np.ndarray]:
    """The LSH key of every signature in each band (`row_keys` of the band's slice), band by band."""
    if isinstance(sigs, SpooledSignatures):
        return sigs.band_keys(bands, rows, threads)
    return _band_keys(sigs, bands, rows)


def band_block(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """The band keys of a block of signatures, one row per band: in an `ArraySpool` of such blocks a band's
    keys are one stripe."""
    return np.stack(list(_band_keys(sigs, bands, rows)))


def _band_keys(sigs: np.ndarray, bands: int, rows: int) -> Iterator[np.ndarray]:
    for band in range(bands):
        yield row_keys(sigs[:, band * rows:(band + 1) * rows])


def candidate_pairs(sigs: np.ndarray | SpooledSignatures, threshold: float, seed: int, backend: str = "bands",
                    bucket_cap: int = 0, groups: np.ndarray | None = None, threads: int = 1) -> np.ndarray:
    """All (i, j), i < j, of signature rows that share an LSH bucket, sorted and unique.

    With `bucket_cap` > 0 (bands backend), a bucket of more keys than that
    yields only the pairs joining its smallest key to the others, so one
    enormous bucket cannot produce a quadratic number of pairs.

    `groups` (an int per row, 0 for none) leaves out the pairs of two rows
    in the same non-zero group: lines matched by one pattern rule are one
    template already, and thousands of `Updated: <date>` lines that differ
    by a minute would otherwise fill their buckets with pairs that almost
    never verify (see `pipeline.rule_groups`). With both, a capped
    bucket's star skips the members of its centre's group.

    A `SpooledSignatures` stays on disk with the bands backend; the
    datasketch backend reads every signature back into memory. The bands
    backend groups `threads` bands at a time (numpy's sorts and array
    operations release the GIL); the pairs do not depend on it.
    """
    if len(sigs) < 2:
        return np.zeros((0, 2), dtype=np.int64)
    if backend == "auto":
        backend = "datasketch" if len(sigs) <= AUTO_DATASKETCH_KEYS and bucket_cap == 0 else "bands"
    if backend == "bands":
        return _band_pairs(sigs, threshold, bucket_cap, groups, threads)
    pairs = _datasketch_pairs(sigs if isinstance(sigs, np.ndarray) else sigs[np.arange(len(sigs))], threshold, seed)
    return pairs if groups is None else _apart(pairs, groups)


def _band_pairs(sigs: np.ndarray | SpooledSignatures, threshold: float, bucket_cap: int,
                groups: np.ndarray | None, threads: int) -> np.ndarray:
    n, num_perm = sigs.shape
    bands, rows = lsh_params(threshold, num_perm)

    def pairs_in(keys: np.ndarray) -> np.ndarray:
        order, ordered = grouped(keys)  # any order within a bucket gives the same pairs
        starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
        return bucket_pairs(order, starts, np.diff(np.append(starts, n)), bucket_cap, groups)

    pairs = np.concatenate(list(_threaded(pairs_in, band_keys(sigs, bands, rows, threads), threads)))
    if len(pairs) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    codes = np.unique(pairs[:, 0] * n + pairs[:, 1])
    return np.column_stack((codes // n, codes % n))


def _threaded(fn: Callable[[T], R], items: Iterable[T], threads: int) -> Iterator[R]:
    """fn(item) for every item, in order, `threads` at a time: at most that many items are held at once."""
    if threads <= 1:
        yield from map(fn, items)
        return
    with ThreadPoolExecutor(threads) as pool:
        for _, result in ordered(partial(pool.submit, fn), ((None, item) for item in items), threads):
            yield result


def grouped(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A permutation of uint64 `keys` that puts equal keys next to each other, and the keys in that order.

    Each key's high bits and its row number are packed into one uint64 and the packed values are sorted:
    numpy sorts plain integers with vectorised code, which `argsort` lacks. For 5.7 million random keys this
    takes half the time of `argsort` and a gather (0.21 against 0.41 s, medians of 15 interleaved runs on this
    machine). Rows whose keys share the high bits but differ in the low ones (a few in millions) are then
    sorted by their full keys. The rows of equal keys stay in increasing order (`distinct_keys` relies on it).
    """
    n = len(keys)
    low = np.uint64((1 << max(1, (n - 1).bit_length())) - 1)
    packed = np.sort((keys & ~low) | np.arange(n, dtype=np.uint64))
    order = (packed & low).view(np.int64)  # row numbers are far below 2**63
    ordered = keys[order]
    same_high = (packed[1:] ^ packed[:-1]) <= low
    mixed = np.flatnonzero(same_high & (ordered[1:] != ordered[:-1]))
    if len(mixed):
        runs = np.flatnonzero(np.concatenate(([True], ~same_high)))
        ends = np.append(runs[1:], n)
        for run in np.unique(np.searchsorted(runs, mixed, side="right") - 1).tolist():
            a, b = int(runs[run]), int(ends[run])
            order[a:b] = order[a:b][np.argsort(ordered[a:b], kind="stable")]
            ordered[a:b] = keys[order[a:b]]
    return order, ordered


def bucket_pairs(order: np.ndarray, starts: np.ndarray, sizes: np.ndarray, cap: int,
                 groups: np.ndarray | None = None) -> np.ndarray:
    """Pairs (a, b), a < b, inside every bucket of two or more members.

    Bucket i holds order[starts[i]:starts[i] + sizes[i]]. With `groups` (an
    int per member value, 0 for none), members of the same non-zero group
    are not paired (see `candidate_pairs`). Pairs are enumerated without a
    loop per bucket: sorted by group inside its bucket, each member pairs
    with a contiguous range of the members after it (the rest of the bucket
    for group 0, the members past its own group's run otherwise).
    """
    out = [np.zeros((0, 2), dtype=np.int64)]
    multi = sizes > 1
    if cap > 0:
        big = multi & (sizes > cap)
        multi &= ~big
        for start, size in zip(starts[big], sizes[big]):
            members = np.sort(order[start:start + size])
            star = np.column_stack((np.full(size - 1, members[0]), members[1:]))
            out.append(star if groups is None else _apart(star, groups))
    first, size = starts[multi], sizes[multi]
    ends = np.cumsum(size)
    bucket_of = np.repeat(np.arange(len(size)), size)
    members = order[np.repeat(first - (ends - size), size) + np.arange(int(ends[-1]) if len(ends) else 0)]
    position = np.arange(len(members))
    after = position + 1
    if groups is not None and len(members) and groups[members].any():
        group = groups[members]
        by_group = np.lexsort((group, bucket_of))
        members, group = members[by_group], group[by_group]
        boundary = np.flatnonzero((np.diff(bucket_of) != 0) | (np.diff(group) != 0)) + 1
        run_end = np.append(boundary, len(members))[np.searchsorted(boundary, position, side="right")]
        after = np.where(group == 0, after, run_end)
    counts = np.repeat(ends, size) - after
    left = np.repeat(position, counts)
    right = np.arange(len(left)) - np.repeat(np.cumsum(counts) - counts - after, counts)
    a, b = members[left], members[right]
    out.append(np.column_stack((np.minimum(a, b), np.maximum(a, b))))
    return np.concatenate(out).astype(np.int64)


def _apart(pairs: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """The pairs whose rows are not in the same non-zero group."""
    return pairs[(groups[pairs[:, 0]] == 0) | (groups[pairs[:, 0]] != groups[pairs[:, 1]])]


def _datasketch_pairs(sigs: np.ndarray, threshold: float, seed: int) -> np.ndarray:
    from datasketch import MinHashLSH  # only here: see the module's docstring

    num_perm = sigs.shape[1]
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    lean = [to_lean(row, seed) for row in sigs]
    with lsh.insertion_session() as session:
        for key, minhash in enumerate(lean):
            session.insert(key, minhash, check_duplication=False)
    found: list[np.ndarray] = []
    for key, minhash in enumerate(lean):
        others = np.fromiter((k for k in lsh.query(minhash) if k > key), dtype=np.int64)
        if len(others):
            found.append(np.column_stack((np.full(len(others), key, dtype=np.int64), others)))
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = np.concatenate(found)
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]

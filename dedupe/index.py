"""Candidate pairs: units whose signatures collide in at least one LSH band.

`datasketch.MinHashLSH` is the reference index (and the one an incremental
index will keep across crawls); its optimiser picks the bands b and rows r
for the threshold and num_perm. Keys are the distinct signatures, so a menu
line printed on ten thousand pages is one key, not ten thousand.
"""

from __future__ import annotations

import numpy as np
from datasketch import MinHashLSH

from dedupe.signature import to_lean


def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) that datasketch's optimiser chooses for this threshold."""
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return lsh.b, lsh.r


def distinct(sigs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the first row of each distinct signature, and each row's distinct id.

    Distinct ids are numbered in order of first appearance, so they do not
    depend on how rows sort.
    """
    if len(sigs) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    rows = np.ascontiguousarray(sigs).view(np.dtype((np.void, sigs.dtype.itemsize * sigs.shape[1]))).ravel()
    _, first, inverse = np.unique(rows, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return first[order], rank[inverse.ravel()]


def candidate_pairs(sigs: np.ndarray, threshold: float, seed: int) -> np.ndarray:
    """All (i, j), i < j, of distinct signature rows that share an LSH bucket, sorted."""
    n, num_perm = sigs.shape if sigs.ndim == 2 else (0, 0)
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64)
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

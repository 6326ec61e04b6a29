"""Verify candidate pairs and group what survives into clusters.

LSH buckets hold false positives; each candidate pair is kept only when the
estimated Jaccard similarity of its signatures reaches the pair's threshold.
Connected components are found with vectorised min-label propagation and
pointer jumping, so every component is labelled by its smallest member:
the same labels whatever order the edges came in.
"""

from __future__ import annotations

import numpy as np


def similarity(sigs: np.ndarray, left: np.ndarray, right: np.ndarray, chunk: int = 1 << 14) -> np.ndarray:
    """Estimated Jaccard similarity of row pairs (share of equal MinHash values)."""
    out = np.empty(len(left), dtype=np.float64)
    for pos in range(0, len(left), chunk):
        a = sigs[left[pos:pos + chunk]]
        b = sigs[right[pos:pos + chunk]]
        out[pos:pos + chunk] = (a == b).mean(axis=1)
    return out


def verify(sigs: np.ndarray, pairs: np.ndarray, thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keep pairs whose similarity reaches the stricter of the two rows' thresholds."""
    if len(pairs) == 0:
        return pairs, np.zeros(0)
    sims = similarity(sigs, pairs[:, 0], pairs[:, 1])
    need = np.maximum(thresholds[pairs[:, 0]], thresholds[pairs[:, 1]])
    keep = sims >= need - 1e-12
    return pairs[keep], sims[keep]


def components(n: int, edges: np.ndarray) -> np.ndarray:
    """Label each of n nodes with the smallest node of its connected component."""
    labels = np.arange(n, dtype=np.int64)
    if len(edges) == 0:
        return labels
    u, v = edges[:, 0], edges[:, 1]
    while True:
        low = np.minimum(labels[u], labels[v])
        before = labels.copy()
        np.minimum.at(labels, u, low)
        np.minimum.at(labels, v, low)
        while True:  # pointer jumping: point every node at its label's label
            jumped = labels[labels]
            if np.array_equal(jumped, labels):
                break
            labels = jumped
        if np.array_equal(before, labels):
            return labels

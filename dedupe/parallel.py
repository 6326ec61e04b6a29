"""Work handed to a pool, its results taken back in input order.

The local engine's batches go to worker processes (`pipeline.in_order`) and
the band index's blocks and bands to threads (`index`); both take results in
the order the work came, so the output never depends on which worker ends
first, and both keep a bounded number of items in flight, so memory does not
grow with the input.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from typing import TypeVar

K = TypeVar("K")
A = TypeVar("A")
R = TypeVar("R")


def ordered(submit: Callable[[A], Future[R]], items: Iterable[tuple[K, A]], window: int) -> Iterator[tuple[K, R]]:
    """(key, result of `submit(item)`) for every (key, item), in order, with at most `window` items submitted
    and not yet taken back."""
    pending: deque[tuple[K, Future[R]]] = deque()
    for key, item in items:
        pending.append((key, submit(item)))
        if len(pending) >= window:
            key, future = pending.popleft()
            yield key, future.result()
    while pending:
        key, future = pending.popleft()
        yield key, future.result()

"""Work handed to a pool, its results taken back in input order.

The local engine's batches go to worker processes (`pipeline.in_order`) and
the band index's blocks and bands to threads (`index`); both take results in
the order the work came, so the output never depends on which worker ends
first, and both keep a bounded number of items in flight, so memory does not
grow with the input.

`die_with_parent` makes a worker process end with its parent, however the
parent ends.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
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


PR_SET_PDEATHSIG = 1  # prctl option (linux/prctl.h)


def die_with_parent(parent: int) -> bool:
    """Have Linux send this process SIGTERM when its parent (pid `parent`) dies, even by SIGKILL (the OOM
    killer): a pool worker otherwise waits on its task queue forever. If the parent is already gone, the
    signal is sent now. False where the kernel offers no such request (not Linux)."""
    asked = False
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            asked = ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM) == 0
    if asked and os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGTERM)
    return asked

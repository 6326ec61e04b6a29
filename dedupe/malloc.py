"""Keep freed memory for reuse instead of returning it to the kernel (glibc only).

Each batch a worker process analyses or renders allocates and frees the
same large numpy temporaries. glibc hands blocks over 128 KiB back to the
kernel at once (and trims the heap's top), so the next batch faults in
fresh zeroed pages again. Raising the thresholds keeps those pages in the
worker: `--jobs` workers set them when they start (`pipeline.in_order`).
The parent keeps glibc's defaults: its arrays grow with the corpus rather
than repeat, and at 1 GB the same settings there cost it more system time
than they saved.
"""

from __future__ import annotations

import ctypes
import sys

# mallopt parameters (malloc.h) and their values: glibc's largest mmap threshold on 64-bit systems, then
# how much free memory may stay at the heap's top, and how much more to ask for at each growth.
M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3
SETTINGS = ((M_MMAP_THRESHOLD, 32 << 20), (M_TRIM_THRESHOLD, 512 << 20), (M_TOP_PAD, 64 << 20))


def tune() -> bool:
    """Set glibc's malloc thresholds for this process; False where they cannot be set (not Linux, no
    `mallopt`, or a C library that refuses one of them, as musl's does)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return all([mallopt(param, value) == 1 for param, value in SETTINGS])

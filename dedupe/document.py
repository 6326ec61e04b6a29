"""The one document type that flows through every stage, and the units cut from it."""

from __future__ import annotations

import contextlib
import ctypes
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Batches are freed every this many during `UnitTable.concat` before the heap is trimmed.
TRIM_EVERY = 32


def trim_heap() -> None:
    """Give freed heap memory back to the operating system.

    glibc keeps freed blocks of a few MB (a batch's signatures) in its heap
    after its mmap threshold has grown, so without this the memory of the
    batches stays in the process while their copy is built. A no-op where
    the C library has no `malloc_trim`.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)


@dataclass
class Document:
    """A scraped article or page.

    `order` is the document's position in the input; with `date` it is the
    stable key that decides which copy is canonical, so it never depends on
    how work was split across processes.
    """

    id: str
    text: str
    source: str | None = None
    date: str | None = None
    title: str | None = None
    order: int = 0
    meta: dict[str, Any] = field(default_factory=dict)
    origin: str = ""
    path: str = ""
    chars: int = 0  # length of the text, kept when the text itself is dropped after the first pass

    def sort_key(self) -> tuple[int, str, int]:
        """Earliest date first (undated last), then input order."""
        return (0 if self.date else 1, self.date or "", self.order)


@dataclass(frozen=True)
class Skip:
    """An input that was not processed, and why; counted in `summary.skipped`."""

    location: str
    reason: str
    detail: str


@dataclass
class CleanedDocument:
    """A document after cleaning. `dropped` is set when the whole document is a duplicate."""

    document: Document
    text: str
    dropped: bool = False
    removed_chars: int = 0


@dataclass
class UnitTable:
    """All units of a batch of documents, column by column.

    Columns are plain arrays so that batches concatenate cheaply, cross
    process boundaries without Python objects per shingle, and can become
    Spark or Arrow columns later. Signatures are stored once per distinct
    signature: `sigs` holds the distinct rows and `sig_row` points each unit
    at its row (-1 for units that are not matched, `mode == 0`), so memory
    grows with the number of distinct units, not with the text.
    """

    doc: np.ndarray  # int64, global document index
    start: np.ndarray  # int64
    end: np.ndarray  # int64
    words: np.ndarray  # int32
    mode: np.ndarray  # int8: 0 not matched, shingle.WORD or shingle.CHAR
    sig_row: np.ndarray  # int64 row of `sigs`; -1 if not matched, or (after clustering) in no cluster
    sigs: np.ndarray  # (distinct signatures, num_perm) uint32
    rule: list[str | None]
    template: list[tuple[str, str] | None]  # (prefix, tail) of `Prefix: varying tail` lines
    title: np.ndarray  # bool: the unit equals its document's title field
    sentence_end: np.ndarray  # bool: the unit ends like a sentence (. ! ? and closing quotes)

    def __len__(self) -> int:
        return len(self.doc)

    @classmethod
    def concat(cls, tables: list[UnitTable], num_perm: int) -> UnitTable:
        """One table from batches, with signatures made distinct across all of them.

        Consumes `tables` (the list is emptied): each batch's signatures are
        released as soon as they are copied, and the distinct rows are
        compacted in place, so the peak is about one copy of all batch
        signatures rather than three.
        """
        from dedupe.index import distinct

        if not tables:
            empty = np.zeros(0, dtype=np.int64)
            return cls(empty, empty, empty, empty.astype(np.int32), empty.astype(np.int8), empty,
                       np.zeros((0, num_perm), dtype=np.uint32), [], [], empty.astype(bool), empty.astype(bool))
        offsets = np.cumsum([0] + [len(t.sigs) for t in tables[:-1]])
        rows = np.concatenate([np.where(t.sig_row >= 0, t.sig_row + o, -1) for t, o in zip(tables, offsets)])
        columns = {name: np.concatenate([getattr(t, name) for t in tables])
                   for name in ("doc", "start", "end", "words", "mode", "title", "sentence_end")}
        rule = [r for t in tables for r in t.rule]
        template = [k for t in tables for k in t.template]
        at = sum(len(t.sigs) for t in tables)
        sigs = np.empty((at, num_perm), dtype=np.uint32)
        while tables:  # from the end, each batch freed once copied
            table = tables.pop()
            at -= len(table.sigs)
            sigs[at:at + len(table.sigs)] = table.sigs
            if len(tables) % TRIM_EVERY == 0:
                del table
                trim_heap()
        first, ids = distinct(sigs)
        chunk = 1 << 16
        for pos in range(0, len(first), chunk):  # first[j] >= j: rows move only towards the start
            block = first[pos:pos + chunk]
            sigs[pos:pos + len(block)] = sigs[block]
        sigs.resize((len(first), num_perm), refcheck=False)  # shrinks in place: no second copy
        return cls(
            **{name: columns[name] for name in ("doc", "start", "end", "words", "mode")},
            sig_row=np.where(rows >= 0, ids[np.maximum(rows, 0)], -1) if len(ids) else rows,
            sigs=sigs, rule=rule, template=template, title=columns["title"],
            sentence_end=columns["sentence_end"],
        )

"""The one document type that flows through every stage, and the units cut from it."""

from __future__ import annotations

import contextlib
import datetime
import email.utils
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from dedupe.index import SpooledSignatures
    from dedupe.io import ArraySpool, StoredBlock


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

    def sort_key(self) -> tuple[int, float, str, int]:
        """Earliest date first, then input order: dates that `date_seconds` reads compare as instants; others
        come after them, compared as text; undated documents last."""
        if not self.date:
            return (2, 0.0, "", self.order)
        seconds = date_seconds(self.date)
        return (1, 0.0, self.date, self.order) if seconds is None else (0, seconds, "", self.order)


_MONTHS = {name: i for i, name in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                               "nov", "dec"), 1)}
# `9 March 2026`, `09-MAR-1987`, `March 9, 2026`, `Sunday, Mar. 9 2026`, each with an optional time after it.
_WRITTEN = re.compile(
    r"(?:[a-z]+,?\s+)?(?:(?P<d1>\d{1,2})(?:\s+|-)(?P<m1>[a-z]{3,9})\.?(?:\s+|-)(?P<y1>\d{4})"
    r"|(?P<m2>[a-z]{3,9})\.?\s+(?P<d2>\d{1,2}),?\s+(?P<y2>\d{4}))"
    r"(?:,?\s+(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.(?P<f>\d{1,6}))?)?)?", re.IGNORECASE)
_MONTH_NAMES = {"january", "february", "march", "april", "may", "june", "july", "august", "september", "sept",
                "october", "november", "december"}


@functools.lru_cache(maxsize=1 << 16)  # a crawl's dates repeat
def date_seconds(date: str) -> float | None:
    """A date as seconds since the epoch (UTC; a date or time without a zone is taken as UTC), or None when it
    is none of: ISO 8601 (`2026-03-09`, `2026-03-09T01:02:03+05:00`, `20260309`), RFC 2822 (`Mon, 09 Mar 2026
    01:02:03 GMT`), a written date (`9 March 2026`, `March 9, 2026`, `Sunday, Mar. 9 2026`, `09-MAR-1987
    15:01:01.79`; English month names, abbreviated or not), or Unix time in seconds (9-10 digits) or
    milliseconds (12-13 digits). Scraped dates come in all of these; compared as text, `9 March` sorted after
    `10 March` and an offset was ignored."""
    text = date.strip()
    if text.isdigit() and len(text) in (9, 10, 12, 13):
        return int(text) / (1000 if len(text) > 10 else 1)
    found = None
    with contextlib.suppress(ValueError):
        found = datetime.datetime.fromisoformat(text)
    if found is None and (written := _WRITTEN.fullmatch(text)):
        found = _written(written)
    if found is None:
        with contextlib.suppress(TypeError, ValueError, IndexError):
            found = email.utils.parsedate_to_datetime(text)
    if found is None:
        return None
    return (found if found.tzinfo else found.replace(tzinfo=datetime.timezone.utc)).timestamp()


def _written(match: re.Match[str]) -> datetime.datetime | None:
    """The date and time of a `_WRITTEN` match, None when its month is no month or its day is out of range."""
    parts = match.groupdict()
    month = (parts["m1"] or parts["m2"]).lower()
    if month not in _MONTH_NAMES and month not in _MONTHS:  # a full name, or its first three letters
        return None
    day, year = int(parts["d1"] or parts["d2"]), int(parts["y1"] or parts["y2"])
    clock = [int(parts[k] or 0) for k in ("h", "mi", "s")]
    micro = int((parts["f"] or "0").ljust(6, "0"))
    try:
        return datetime.datetime(year, _MONTHS[month[:3]], day, *clock, micro)
    except ValueError:
        return None


class SomeDocuments(Sequence[Document]):
    """A corpus of `count` documents of which only some are known (their infos, by number): what an engine that
    keeps its per-document state where the documents are (Spark) hands the report (none known) and each
    range's duplicate notes (the documents that its duplicate findings name). Any other document is a
    KeyError."""

    def __init__(self, count: int, known: dict[int, Document]) -> None:
        self.count, self.known = count, known

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, d: int) -> Document:  # type: ignore[override]  # no slices
        return self.known[d]


@dataclass(frozen=True)
class Skip:
    """An input that was not processed, and why; counted in `summary.skipped`."""

    location: str
    reason: str
    detail: str


UNREADABLE_FILE = "unreadable_file"  # a file that could not be opened, or whose reading stopped at this point
NO_TEXT_COLUMN = "missing_text_column"  # a whole Parquet file without the text column
FILE_REASONS = frozenset({UNREADABLE_FILE, NO_TEXT_COLUMN})  # the skips `Skips.files` keeps
SKIPS_LISTED = 1000  # the skips that a report lists: the first in input order


@dataclass
class Skips:
    """A run's skips in memory bounded by the number of input files, not of records: the count per reason,
    the first SKIPS_LISTED in input order (the report lists them), and every skip of a whole file or that
    stopped a file's reading (`FILE_REASONS`: one per file or line range at most),
    from which `io.unread` tells the inputs that were not read."""

    reasons: dict[str, int] = field(default_factory=dict)
    first: list[Skip] = field(default_factory=list)
    files: list[Skip] = field(default_factory=list)

    def add(self, skip: Skip) -> None:
        """Count the next skip in input order."""
        self.reasons[skip.reason] = self.reasons.get(skip.reason, 0) + 1
        if len(self.first) < SKIPS_LISTED:
            self.first.append(skip)
        if skip.reason in FILE_REASONS:
            self.files.append(skip)

    @property
    def count(self) -> int:
        return sum(self.reasons.values())


@dataclass
class CleanedDocument:
    """A document after cleaning. `dropped` is set when the whole document is a duplicate.

    `record` is the cleaned output record as a JSON line, when the second pass made it from the input line
    (`clean` of JSONL input on the command line): `text` is then empty and `document` has no text or fields,
    since the record holds them.
    """

    document: Document
    text: str
    dropped: bool = False
    removed_chars: int = 0
    record: bytes | None = None


@dataclass
class UnitTable:
    """Units of documents, column by column: all units of a batch or a corpus, or a part of them (`take`).

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
    # (distinct signatures, num_perm) uint32; a corpus's wait on disk, a worker's batch in its file
    sigs: np.ndarray | SpooledSignatures | StoredBlock
    rule: list[str | None]
    template: list[tuple[str, str] | None]  # (prefix, tail) of `Prefix: varying tail` lines
    title: np.ndarray  # bool: the unit equals its document's title field
    sentence_end: np.ndarray  # bool: the unit ends like a sentence (. ! ? and closing quotes)
    label_line: np.ndarray  # bool: a short line ending with a colon, as a speaker's turn or a section opens
    sig_keys: np.ndarray | None = None  # uint64 `index.row_keys` of `sigs`, as `pipeline.analyse` made them

    def __len__(self) -> int:
        return len(self.doc)

    def take(self, rows: np.ndarray) -> UnitTable:
        """The units at `rows`, with the same signatures (`sig_row` still points into `sigs`)."""
        picked = rows.tolist()
        return UnitTable(doc=self.doc[rows], start=self.start[rows], end=self.end[rows], words=self.words[rows],
                         mode=self.mode[rows], sig_row=self.sig_row[rows], sigs=self.sigs,
                         rule=[self.rule[r] for r in picked], template=[self.template[r] for r in picked],
                         title=self.title[rows], sentence_end=self.sentence_end[rows], label_line=self.label_line[rows],
                         sig_keys=self.sig_keys)

    @classmethod
    def stack(cls, tables: list[UnitTable]) -> UnitTable:
        """The units of `tables` one after the other, with the first table's signatures (which the
        others' `sig_row` must point into, or be -1)."""
        if len(tables) == 1:
            return tables[0]
        return cls(**{name: np.concatenate([getattr(t, name) for t in tables]) for name in _COLUMNS},
                   sigs=tables[0].sigs, rule=[r for t in tables for r in t.rule],
                   template=[k for t in tables for k in t.template], sig_keys=tables[0].sig_keys)

    @classmethod
    def concat(cls, tables: Iterable[UnitTable], num_perm: int, spool: ArraySpool,
               bands: tuple[ArraySpool, int, int] | None = None) -> UnitTable:
        """One table from batches, with signatures made distinct across all of them and kept in `spool`.

        Batches (from `pipeline.analyse`, with their `sig_keys`) are consumed
        as they come (pass a generator): their unit columns are copied into
        columns that grow in place, and their signatures go to the spool (a
        worker's `StoredBlock` stays in the worker's file, which the spool
        adopts). Memory holds the unit columns and an 8-byte key per
        signature, not the signatures (512 bytes each), which are read back
        only where needed (`index.SpooledSignatures`). `bands`, if given, is a
        spool that the caller fills with the band keys of the same blocks
        (`index.band_block`, for the (bands, rows) given), which the index
        then reads instead of keying the signatures again.
        """
        from dedupe.index import SpooledSignatures, distinct_keys

        columns = {name: np.zeros(0, dtype=dtype) for name, dtype in _COLUMNS.items()}
        keys: list[np.ndarray] = []
        rule: list[str | None] = []
        template: list[tuple[str, str] | None] = []
        units = rows = 0
        for table in tables:
            for name in _COLUMNS:
                _append(columns[name], units, table.sig_row + rows if name == "sig_row" else getattr(table, name))
            columns["sig_row"][units:units + len(table)][table.sig_row < 0] = -1
            spool.append(table.sigs)
            keys.append(table.sig_keys)
            rule += table.rule
            template += table.template
            units += len(table)
            rows += len(table.sigs)
        for name in _COLUMNS:
            columns[name].resize(units, refcheck=False)
        first, ids = distinct_keys(np.concatenate(keys) if keys else np.zeros(0, dtype=np.uint64))
        row = columns.pop("sig_row")
        return cls(**columns, sig_row=np.where(row >= 0, ids[np.maximum(row, 0)], -1) if len(ids) else row,
                   sigs=SpooledSignatures(spool, first, num_perm, bands), rule=rule, template=template)


# The per-unit array columns of a UnitTable, grown batch by batch in `UnitTable.concat`.
_COLUMNS = {"doc": np.int64, "start": np.int64, "end": np.int64, "words": np.int32, "mode": np.int8,
            "sig_row": np.int64, "title": bool, "sentence_end": bool, "label_line": bool}


def _append(array: np.ndarray, used: int, values: np.ndarray) -> None:
    """Write `values` after the first `used` rows of `array`, growing it in place by a quarter.

    `ndarray.resize` reallocates (for large blocks glibc moves pages rather
    than copying them) and zero-fills the new tail, which is why the growth
    step is small.
    """
    need = used + len(values)
    if need > len(array):
        array.resize(max(need, len(array) + len(array) // 4, 1024), refcheck=False)
    array[used:need] = values

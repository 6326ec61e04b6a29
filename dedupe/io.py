"""Readers and writers at the edges: .txt folders, JSONL (.gz, .zst), Parquet, stdin/stdout.

Readers yield `Document`s, and `Skip` records for input they cannot use
(invalid UTF-8, binary files, malformed JSON lines, missing text fields), so
nothing is lost silently. Writers mirror the input's shape and format and
write through a temporary file (or folder) renamed into place, so an
interrupted run leaves the old output or none, never half of one.
"""

from __future__ import annotations

import array
import base64
import contextlib
import datetime
import errno
import glob
import gzip
import io
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Self

import numpy as np

from dedupe.config import Config, ConfigError
from dedupe.document import NO_TEXT_COLUMN, UNREADABLE_FILE, CleanedDocument, Document, Skip

TEXT_SUFFIXES = (".txt",)
JSONL_SUFFIXES = (".jsonl", ".ndjson")
COMPRESSIONS = ("", ".gz", ".zst")
PARQUET_SUFFIXES = (".parquet",)


class OutputError(Exception):
    """The output cannot be written where or how it was asked for."""


class OutputRefused(OutputError):
    """An output path refused before any work (a usage error): it would overwrite or sit inside an input,
    has the wrong format, or its folder cannot be written."""


def unwritable(folder: Path) -> str | None:
    """Why files cannot be created in `folder` (the system's words, e.g. a read-only file system), or None.
    A folder that exists but takes no new file (/proc, /sys) answers "No such file or directory", which
    would point at the wrong thing: that is said plainly instead."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            return None
    except OSError as err:
        if err.errno == errno.ENOENT and folder.is_dir():
            return "its file system does not let files be created there"
        return err.strerror or str(err)


def made_folder(folder: Path) -> str | None:
    """Create `folder` and its missing parents for an output; why that cannot be done, or None."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        blocker = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
        return f"{blocker} is a file, not a folder" if blocker is not None else err.strerror or str(err)
    return unwritable(folder)


def inside_input(target: Path, inputs: Inputs) -> Path | None:
    """The input folder that `target` would sit inside, where a later run would read it as input, or None."""
    for item in inputs.files:
        root = item.root.resolve()
        if not item.direct and root in target.parents:
            return root
    return None


def kind_of(path: str | Path) -> str | None:
    """'txt', 'jsonl' or 'parquet' from a file name (compression suffixes allowed for JSONL)."""
    name = str(path).lower()
    if name.endswith(TEXT_SUFFIXES):
        return "txt"
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    for suffix in JSONL_SUFFIXES:
        if any(name.endswith(suffix + c) for c in COMPRESSIONS):
            return "jsonl"
    return None


@dataclass(frozen=True)
class InputFile:
    """One file to read: its format, the folder its output path is relative to, and the file."""

    kind: str
    root: Path
    file: Path
    direct: bool  # named on the command line, not found in a folder


@dataclass
class Inputs:
    """The files behind the input arguments, in a stable order."""

    files: list[InputFile] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    stdin: bool = False
    stdin_copy: Path | None = None  # stdin spooled to a file, so it can be read twice


def discover(paths: Iterable[str]) -> Inputs:
    """Expand input arguments: folders recursively (sorted), files as given, '-' for stdin."""
    found = Inputs()
    for raw in paths:
        if raw == "-":
            found.stdin = True
            continue
        path = Path(raw)
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                kind = kind_of(file)
                if kind is None:
                    found.ignored.append(str(file))
                else:
                    found.files.append(InputFile(kind, path, file, False))
        elif path.is_file():
            kind = kind_of(path)
            if kind is None:
                raise FileNotFoundError(f"{raw}: not a .txt, JSONL (.jsonl/.ndjson, .gz/.zst) or .parquet file")
            found.files.append(InputFile(kind, path.parent, path, True))
        else:
            raise FileNotFoundError(f"{raw}: no such file or folder")
    return found


def record_to_document(record: dict[str, Any], config: Config, origin: str, path: str = "") -> Document | Skip:
    """Map a JSON/Parquet record to a Document using the configured field names.

    A record that already has the field that `keep_original_field` names stops the run (ConfigError): the
    cleaned output would overwrite that field with the original text."""
    if config.keep_original_field is not None and config.keep_original_field in record:
        raise ConfigError(f"{origin}: the record already has a field {config.keep_original_field!r}, which "
                          "--keep-original-field would overwrite with the original text; choose another name")
    if config.text_field not in record:
        return Skip(origin, "missing_text", f"no {config.text_field!r} field")
    if record[config.text_field] is None:
        return Skip(origin, "missing_text", f"{config.text_field!r} is null")
    text = record[config.text_field]
    if not isinstance(text, str):
        return Skip(origin, "text_not_string", f"{config.text_field!r} is {type(text).__name__}, not a string")
    raw_id = record.get(config.id_field)
    doc_id = origin if raw_id is None or raw_id == "" else str(raw_id)

    def optional(name: str) -> str | None:
        value = record.get(name)
        return None if value is None or value == "" else str(value)

    return Document(
        id=doc_id,
        text=text,
        source=optional(config.source_field),
        date=optional(config.date_field),
        title=optional(config.title_field),
        meta=record,
        origin=origin,
        path=path,
    )


def open_binary(path: Path) -> IO[bytes]:
    name = path.name.lower()
    if name.endswith(".gz"):
        return gzip.open(path, "rb")
    if name.endswith(".zst"):
        return io.BufferedReader(ZstdFrames(open(path, "rb")))
    return open(path, "rb")


GZIP_MAGIC, ZSTD_MAGIC = b"\x1f\x8b", b"\x28\xb5\x2f\xfd"


def _sniffed(stream: IO[bytes]) -> IO[bytes]:
    """Stdin's JSONL, decompressed when it is gzip or zstd data (by its first bytes: stdin has no file name
    whose suffix would say so)."""
    buffered = stream if hasattr(stream, "peek") else io.BufferedReader(stream)  # type: ignore[arg-type]
    head = buffered.peek(4)[:4]
    if head.startswith(GZIP_MAGIC):
        return gzip.GzipFile(fileobj=buffered, mode="rb")  # type: ignore[return-value]
    if head.startswith(ZSTD_MAGIC):
        return io.BufferedReader(ZstdFrames(buffered))
    return buffered


class ZstdFrames(io.RawIOBase):
    """A zstd stream decompressed frame after frame, that raises EOFError, as gzip does, when it ends inside
    a frame: zstandard's own stream reader ends quietly there, so a truncated file read as a shorter one."""

    def __init__(self, raw: IO[bytes]) -> None:
        import zstandard

        self._raw, self._new = raw, zstandard.ZstdDecompressor().decompressobj
        self._frame, self._fed = self._new(), False  # the current frame's decompressor; given input yet?
        self._out = bytearray()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._out:
            chunk = self._raw.read(1 << 17)
            if not chunk:
                if self._fed and not self._frame.eof:
                    raise EOFError("Compressed file ended before the end-of-frame marker was reached")
                return 0
            while chunk:
                if self._frame.eof:
                    self._frame = self._new()
                self._out += self._frame.decompress(chunk)
                self._fed = True
                chunk = self._frame.unused_data if self._frame.eof else b""
        size = min(len(buffer), len(self._out))
        buffer[:size] = self._out[:size]
        del self._out[:size]
        return size

    def close(self) -> None:
        self._raw.close()
        super().close()


@dataclass
class Lines:
    """Unparsed lines of a JSONL stream, (line number, bytes) each: `read(..., raw=True)` leaves the parsing
    (`parse_lines`) to whoever analyses them, so that worker processes, not the reader, decode the JSON.

    The lines follow each other in the stream from byte `offset` of `path` on; -1 when the file cannot be
    read there again (compressed, or a pipe), so `DocumentStore` keeps a copy of them instead.
    """

    label: str
    path: str
    lines: list[tuple[int, bytes]]
    offset: int = -1


def record_lines(lines: Lines) -> list[tuple[int, bytes, int]]:
    """(line number, bytes, offset in the file or -1) of each line of a chunk that holds a record or a skip:
    blank lines are no record. `parse_lines` parses these, one entry each."""
    out, at = [], lines.offset
    for number, raw in lines.lines:
        if not _blank(raw):
            out.append((number, raw, at))
        if at >= 0:
            at += len(raw)
    return out


LINES_PER_CHUNK = 256


def _jsonl_lines(stream: IO[bytes], label: str, config: Config, path: str, first_line: int = 1,
                 raw: bool = False, seekable: bool = False) -> Iterator[Document | Skip | Lines]:
    """The records of a JSONL stream whose first line is line `first_line` of its file; with `raw`, the same
    lines unparsed, LINES_PER_CHUNK at a time (with their offsets in `path` when it is `seekable`: a plain
    file read from its start)."""
    chunk: list[tuple[int, bytes]] = []
    offset = -1
    for item in _raw_lines(stream, label, first_line):
        if isinstance(item, Skip):
            if chunk:
                yield Lines(label, path, chunk, offset)
                chunk = []
            yield item
        elif raw:
            number, line, at = item
            if not chunk:
                offset = at if seekable else -1
            chunk.append((number, line))
            if len(chunk) == LINES_PER_CHUNK:
                yield Lines(label, path, chunk, offset)
                chunk = []
        elif (parsed := parse_line(*item[:2], label, config, path)) is not None:
            yield parsed
    if chunk:
        yield Lines(label, path, chunk, offset)


def _raw_lines(stream: IO[bytes], label: str, first_line: int) -> Iterator[tuple[int, bytes, int] | Skip]:
    """(line number, bytes, offset in the stream) of every line, and a Skip where the stream cannot be read
    further."""
    number, at = first_line - 1, 0
    try:
        for number, raw in enumerate(io.BufferedReader(stream) if not hasattr(stream, "peek") else stream,
                                     first_line):
            size = len(raw)
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]  # a UTF-8 byte order mark
            yield number, raw, at + size - len(raw)
            at += size
    except Exception as err:  # noqa: BLE001 - a truncated or corrupt compressed stream, whatever its library raises
        yield Skip(f"{label}:{number + 1}", UNREADABLE_FILE, f"stopped reading: {type(err).__name__}: {err}")


def parse_line(number: int, raw: bytes, label: str, config: Config, path: str) -> Document | Skip | None:
    """The document (or the skip) of one JSONL line; None for a blank line."""
    return None if _blank(raw) else _parse_record(number, raw, label, config, path)


def _blank(raw: bytes) -> bool:
    """No record on this line: `raw.strip()` is empty (asked without copying the line, as strip does)."""
    return not raw or raw.isspace()


def _parse_record(number: int, raw: bytes, label: str, config: Config, path: str) -> Document | Skip:
    origin = f"{label}:{number}"
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        return Skip(origin, "invalid_utf8", f"invalid UTF-8 at byte {err.start} of the line")
    try:
        record = json.loads(line)
    except json.JSONDecodeError as err:
        return Skip(origin, "malformed_json", str(err))
    if not isinstance(record, dict):
        return Skip(origin, "malformed_json", f"a JSON {type(record).__name__}, not an object")
    return record_to_document(record, config, origin, path)


def parse_lines(lines: Lines, config: Config) -> list[Document | Skip]:
    """The documents and skips of a chunk of `Lines`, in order: one for each of its `record_lines`."""
    return [_parse_record(number, raw, lines.label, config, lines.path) for number, raw, _ in record_lines(lines)]


def _read_txt(file: Path, root: Path, config: Config) -> Iterator[Document | Skip]:
    label = str(file)
    try:
        size = file.stat().st_size
        if size > 4 * config.max_document_chars:
            yield Skip(label, "document_too_large", f"{size:,} bytes, above max_document_chars")
            return
        data = file.read_bytes()
    except OSError as err:
        yield Skip(label, UNREADABLE_FILE, err.strerror or str(err))
        return
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # before the NUL check: UTF-16 text is full of NULs
        yield Skip(label, "invalid_utf8", "UTF-16 text (it starts with a UTF-16 byte order mark): convert it to UTF-8")
        return
    if b"\x00" in data:
        yield Skip(label, "binary", "contains NUL bytes: not a text file")
        return
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        yield Skip(label, "invalid_utf8", f"invalid UTF-8 at byte {err.start}")
        return
    rel = file.relative_to(root).as_posix() if file != root else file.name
    yield Document(id=rel, text=text, origin=label, path=str(file))


def _read_parquet(file: Path, config: Config) -> Iterator[Document | Skip]:
    """Rows as documents. A file without the text column is one skip, not one per row, and names its columns;
    one with a column that `keep_original_field` would overwrite stops the run (ConfigError)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    label = str(file)
    row = 0
    try:
        reader = pq.ParquetFile(file)
        names = reader.schema_arrow.names
        if config.text_field not in names:
            yield Skip(label, NO_TEXT_COLUMN, f"no {config.text_field!r} column in its {reader.metadata.num_rows:,} "
                       f"rows; its columns: {', '.join(names[:20])}{', ...' if len(names) > 20 else ''} "
                       "(--text-field names the column to read)")
            return
        if config.keep_original_field is not None and config.keep_original_field in names:
            raise ConfigError(f"{label} has a column {config.keep_original_field!r}, which --keep-original-field "
                              "would overwrite with the original text; choose another name")
        for batch in reader.iter_batches():
            for record in _parquet_rows(batch):
                row += 1
                if isinstance(record, dict):
                    yield record_to_document(record, config, f"{label}:{row}", str(file))
                else:
                    yield Skip(f"{label}:{row}", "bad_value", f"a value Python cannot hold ({record})")
    except (OSError, pa.ArrowException) as err:
        yield Skip(f"{label}:{row + 1}", UNREADABLE_FILE, f"not readable as Parquet: {err}")


def _parquet_rows(batch: Any) -> Iterator[dict[str, Any] | str]:
    """A Parquet batch's rows as dicts, and for a row with a value that Python cannot hold (a date after the
    year 9999, a timestamp beyond datetime's range), the reason instead: the batch is then converted row by
    row, so the other rows are still read."""
    try:
        yield from batch.to_pylist()  # converted whole before the first row is yielded
        return
    except (OverflowError, ValueError) as err:
        if batch.num_rows == 1:
            yield str(err)
            return
    for i in range(batch.num_rows):
        yield from _parquet_rows(batch.slice(i, 1))


def read(inputs: Inputs, config: Config, stdin: IO[bytes] | None = None, raw: bool = False
         ) -> Iterator[Document | Skip | Lines]:
    """Yield every document (and skip) of the inputs, in order; with `raw`, JSONL lines come unparsed
    (`Lines`)."""
    if inputs.stdin:
        if inputs.stdin_copy is not None:
            with open(inputs.stdin_copy, "rb") as stream:
                yield from _jsonl_lines(_sniffed(stream), "<stdin>", config, "<stdin>", raw=raw)
        else:
            yield from _jsonl_lines(_sniffed(stdin or sys.stdin.buffer), "<stdin>", config, "<stdin>", raw=raw)
    for item in inputs.files:
        yield from read_file(item, config, raw)


def read_file(item: InputFile, config: Config, raw: bool = False) -> Iterator[Document | Skip | Lines]:
    """Yield the documents (and skips) of one input file, in order; Spark reads each file in one task."""
    if item.kind == "txt":
        yield from _read_txt(item.file, item.root, config)
    elif item.kind == "jsonl":
        try:
            stream = open_binary(item.file)
        except OSError as err:
            yield Skip(str(item.file), UNREADABLE_FILE, err.strerror or str(err))
            return
        with stream:
            yield from _jsonl_lines(stream, str(item.file), config, str(item.file), raw=raw,
                                    seekable=not item.file.name.lower().endswith((".gz", ".zst")))
    else:
        yield from _read_parquet(item.file, config)


def line_ranges(item: InputFile, size: int) -> list[tuple[int, int]]:
    """Byte ranges [start, end) of about `size` bytes that start at line starts, covering a plain (not
    compressed) JSONL file, so that several tasks can read it; one range for other files and small ones."""
    path = item.file
    if item.kind != "jsonl" or path.name.lower().endswith((".gz", ".zst")):
        return [(0, -1)]
    try:
        total = path.stat().st_size
        with path.open("rb") as stream:
            bounds = [0]
            while bounds[-1] + size < total:
                stream.seek(bounds[-1] + size - 1)  # the next line starts after the first newline from here
                while (block := stream.read(1 << 20)) and (at := block.find(b"\n")) < 0:
                    pass
                if not block or stream.tell() - len(block) + at + 1 >= total:
                    break
                bounds.append(stream.tell() - len(block) + at + 1)
    except OSError:
        return [(0, -1)]  # read_file reports the file as unreadable
    return list(zip(bounds, [*bounds[1:], total]))


def count_lines(item: InputFile, start: int, end: int) -> int:
    """Newlines in bytes [start, end) of a file."""
    with item.file.open("rb") as stream:
        stream.seek(start)
        count, left = 0, end - start
        while left > 0 and (block := stream.read(min(left, 1 << 24))):
            count += block.count(b"\n")
            left -= len(block)
    return count


def read_range(item: InputFile, start: int, end: int, first_line: int, config: Config
               ) -> Iterator[Document | Skip]:
    """`read_file` for the lines that start in bytes [start, end) of a plain JSONL file (see `line_ranges`),
    the first of them being line `first_line`; (0, -1) is the whole file."""
    if end < 0:
        yield from read_file(item, config)
        return
    try:
        with item.file.open("rb") as stream:
            stream.seek(start)
            data = stream.read(end - start)
    except OSError as err:
        yield Skip(f"{item.file}:{first_line}", UNREADABLE_FILE, err.strerror or str(err))
        return
    yield from _jsonl_lines(io.BytesIO(data), str(item.file), config, str(item.file), first_line)


@contextlib.contextmanager
def _naming_tmpdir() -> Iterator[None]:
    """A full disk (or any OSError) in a temporary file names TMPDIR, not the user's output."""
    try:
        yield
    except OSError as error:
        raise OSError(error.errno, f"temporary file in {tempfile.gettempdir()} (set TMPDIR to a disk with "
                                   f"room): {error.strerror}") from error


def _pread(fd: int, size: int, offset: int) -> bytes:
    """Exactly `size` bytes at `offset` of a temporary file."""
    parts = []
    while size > 0:  # one pread returns at most about 2 GiB on Linux
        part = os.pread(fd, size, offset)
        if not part:
            raise OSError(f"temporary file ended {size} bytes early")
        parts.append(part)
        size -= len(part)
        offset += len(part)
    return b"".join(parts) if len(parts) != 1 else parts[0]


class Spool:
    """An anonymous temporary file in TMPDIR, unlinked at once, so nothing is left behind whatever happens.

    Appends go through `_write`; a full disk names TMPDIR, not the user's output.
    """

    def __init__(self, kind: str) -> None:
        # A 1 MiB buffer: documents arrive a few KB at a time, and 8 KB writes cost the parent 3.5x more (96 MB
        # in 6 KB pieces: 0.10 s against 0.028 s).
        self._file = tempfile.TemporaryFile(prefix=f"dedupe-{os.getpid()}-{kind}-", buffering=1 << 20)  # noqa: SIM115 - see close
        self._size = 0
        self._unflushed = False

    def _write(self, data: bytes | memoryview) -> int:
        """Append bytes; returns their offset."""
        at = self._size
        with _naming_tmpdir():
            self._file.write(data)
        self._size += len(data)
        self._unflushed = True
        return at

    def flush(self) -> None:
        """Write out buffered appends before the file is read (here, or by a forked process)."""
        if self._unflushed:
            with _naming_tmpdir():
                self._file.flush()
            self._unflushed = False

    def _read(self, size: int, offset: int) -> bytes:
        self.flush()
        return _pread(self._file.fileno(), size, offset)

    def close(self) -> None:
        """Close (and so delete) the file; a failing flush of data nobody will read is no error."""
        with contextlib.suppress(OSError):
            self._file.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InputError(Exception):
    """Bad input met in strict mode, or an input that changed between the two passes; the message names the
    input and the problem."""


class InputChanged(InputError):
    """A document read again is not what the first pass read: its input file changed in between."""


class DocumentStore:
    """Where the first pass leaves each document for the steps that read it again: deciding reads the words
    of a few units, the second pass every text, and `clean` every JSONL record.

    A document read from a plain JSONL file stays there: the store keeps the offset and length of its line
    and reads it back with `pread`, so the text is neither copied nor sent between processes. Any other
    document's line (compressed JSONL, stdin) or text (.txt, Parquet, Python objects) goes to a temporary
    file. Holding every text as a Python string would cost more memory than the rest of the first pass.
    Texts are checked against their lengths in the first pass when they are read again.
    """

    TEXT, LINE = 0, 1

    def __init__(self, text_field: str) -> None:
        self.text_field = text_field
        self.spool = Spool("documents")  # file 0
        self.paths = [""]
        self._numbers: dict[str, int] = {}
        self._fds: dict[int, int] = {}  # input files opened for reading, by number (inherited by forks)
        self.file, self.kind = array.array("h"), array.array("b")
        self.offset, self.size, self.chars = array.array("q"), array.array("q"), array.array("q")

    def _add(self, file: int, offset: int, size: int, kind: int, chars: int) -> None:
        self.file.append(file)
        self.offset.append(offset)
        self.size.append(size)
        self.kind.append(kind)
        self.chars.append(chars)

    def add_text(self, text: str) -> None:
        data = text.encode("utf-8")
        self._add(0, self.spool._write(data), len(data), self.TEXT, len(text))

    def add_line(self, line: bytes, offset: int, path: str, chars: int) -> None:
        """A document's JSONL line: at `offset` of the plain file `path`, or (offset -1) copied here."""
        if offset < 0:
            self._add(0, self.spool._write(line), len(line), self.LINE, chars)
            return
        if path not in self._numbers:
            self._numbers[path] = len(self.paths)
            self.paths.append(path)
        self._add(self._numbers[path], offset, len(line), self.LINE, chars)

    def __len__(self) -> int:
        return len(self.kind)

    def __getitem__(self, d: int) -> str:
        return self.texts(d, 1)[0]

    def texts(self, first: int, count: int) -> list[str]:
        """The texts of documents first, ..., first + count - 1."""
        return [text for text, _ in self.records(first, count)]

    def records(self, first: int, count: int) -> list[tuple[str, dict[str, Any] | None]]:
        """The text of each of documents first, ..., first + count - 1, with its JSONL record (None for a
        document that was no JSONL line)."""
        out: list[tuple[str, dict[str, Any] | None]] = []
        for d, blob in zip(range(first, first + count), self._blobs(first, count)):
            if self.kind[d] == self.TEXT:
                out.append((blob.decode("utf-8"), None))
                continue
            try:
                record = json.loads(blob.decode("utf-8"))
                text = record[self.text_field]
            except (ValueError, TypeError, KeyError) as error:
                raise InputChanged(f"{self._where(d)}: {error}") from None
            if not isinstance(text, str) or len(text) != self.chars[d]:
                raise InputChanged(f"{self._where(d)}: the text is not the one read before")
            out.append((text, record))
        return out

    def _where(self, d: int) -> str:
        if self.file[d] == 0:  # the store's own copy
            return f"document {d}"
        return f"the input changed between the two passes: {self.paths[self.file[d]]} at byte {self.offset[d]}"

    def _blobs(self, first: int, count: int) -> list[bytes]:
        """The stored bytes of documents first, ..., first + count - 1: consecutive ones in one file come
        from one read (a batch of a JSONL file is one stretch of it)."""
        if first < 0 or count < 0 or first + count > len(self):
            raise IndexError(f"documents {first}-{first + count - 1} of {len(self)}")
        out: list[bytes] = []
        d, end = first, first + count
        while d < end:
            file, lo = self.file[d], self.offset[d]
            e = d + 1
            while e < end and self.file[e] == file and self.offset[e] == self.offset[e - 1] + self.size[e - 1]:
                e += 1
            data = self._read(file, self.offset[e - 1] + self.size[e - 1] - lo, lo)
            at = 0
            for i in range(d, e):
                out.append(data[at:at + self.size[i]])
                at += self.size[i]
            d = e
        return out

    def _read(self, file: int, size: int, offset: int) -> bytes:
        if file == 0:
            return self.spool._read(size, offset)
        if file not in self._fds:
            try:
                self._fds[file] = os.open(self.paths[file], os.O_RDONLY)
            except OSError as error:
                raise InputChanged(f"cannot read {self.paths[file]} again: {error.strerror}") from None
        data = os.pread(self._fds[file], size, offset)
        if len(data) != size:
            raise InputChanged(f"the input changed between the two passes: {self.paths[file]} is shorter")
        return data

    def flush(self) -> None:
        """Write out buffered appends before the file is read (here, or by a forked process)."""
        self.spool.flush()

    def close(self) -> None:
        """Delete the temporary file and close the inputs."""
        self.spool.close()
        for fd in self._fds.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fds.clear()


@dataclass(frozen=True)
class StoredBlock:
    """A two-dimensional numpy block that a process appended to its own file in the folder of a shared
    `ArraySpool` (`store_block`): a worker sends this reference back instead of the block, and the spool
    reads the block where it lies (`ArraySpool.append`, `ArraySpool.load`)."""

    path: str
    offset: int
    rows: int
    columns: int
    dtype: str

    def __len__(self) -> int:
        return self.rows


_BLOCK_FILES: dict[str, tuple[int, int, int]] = {}  # spool folder -> (pid, fd, size) of this process's file there


def store_block(folder: str, block: np.ndarray) -> StoredBlock:
    """Append a block to this process's file in a shared `ArraySpool`'s folder (one file per process, so
    workers never share an offset), unbuffered: the block is on file when this returns."""
    block = np.ascontiguousarray(block)
    pid = os.getpid()
    path = os.path.join(folder, f"{pid}.blocks")
    with _naming_tmpdir():
        if _BLOCK_FILES.get(folder, (None,))[0] != pid:  # a forked worker inherits its parent's entry, not its file
            _BLOCK_FILES[folder] = (pid, os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600), 0)
        _, fd, size = _BLOCK_FILES[folder]
        data = memoryview(block.reshape(-1).view(np.uint8))
        written = 0
        while written < len(data):  # at explicit offsets: a write that failed halfway moves nothing
            written += os.pwrite(fd, data[written:], size + written)
    _BLOCK_FILES[folder] = (pid, fd, size + written)
    return StoredBlock(path, size, *block.shape, block.dtype.str)


def _forget_blocks(folder: str) -> None:
    """Close this process's file in a spool folder that is going away."""
    known = _BLOCK_FILES.pop(folder, None)
    if known is not None and known[0] == os.getpid():
        with contextlib.suppress(OSError):
            os.close(known[1])


class ArraySpool(Spool):
    """Two-dimensional numpy blocks of one dtype in temporary files, read back by rows or by stripes.

    Signatures are the largest thing the first pass makes (512 bytes per
    distinct unit), and only the few in candidate pairs or clusters are
    needed again, so they wait here rather than in memory. `take` reads rows
    of the blocks stacked on axis 0; `stripe` reads one row of every block
    (blocks appended transposed, such as band keys, give one band at a time).

    A `shared` spool also has a folder where worker processes store blocks
    (`store_block`) that the spool then adopts (`append` of the
    `StoredBlock`): signatures then never go through a pipe, nor get
    copied by the parent. The spool unlinks a worker's file when it first
    opens it (the worker goes on appending to it), so if the run is killed
    only the blocks in flight are left in the folder; the folder goes when
    the spool is closed.
    """

    def __init__(self, kind: str, dtype: np.dtype | type, width: int = 0, shared: bool = False) -> None:
        """`width`: the columns of every block, for `take` (blocks for `stripe` may vary)."""
        super().__init__(kind)
        self.dtype = np.dtype(dtype)
        self.width = width
        self.folder: str | None = None
        if shared:
            try:
                with _naming_tmpdir():
                    self.folder = tempfile.mkdtemp(prefix=f"dedupe-{os.getpid()}-{kind}-")
            except BaseException:
                super().close()
                raise
        self._fds: dict[str, int] = {}  # stored blocks' files, opened for reading (and unlinked)
        self._blocks: list[tuple[int, int, int, int]] = []  # (fd, -1 for the spool's own file; offset, rows, columns)
        self._ends: list[int] = []  # cumulative rows, for `take`

    def append(self, block: np.ndarray | StoredBlock) -> None:
        if isinstance(block, StoredBlock):
            self._add((self._adopt(block), block.offset, block.rows, block.columns))
            return
        block = np.ascontiguousarray(block, dtype=self.dtype)
        if block.ndim != 2:
            raise ValueError("ArraySpool blocks are two-dimensional")
        self._add((-1, self._write(block.reshape(-1).view(np.uint8).data), *block.shape))

    def load(self, block: StoredBlock) -> np.ndarray:
        """A stored block's array, read into memory (without appending it)."""
        data = _pread(self._adopt(block), block.rows * block.columns * self.dtype.itemsize, block.offset)
        return np.frombuffer(data, dtype=self.dtype).reshape(block.rows, block.columns)

    def _adopt(self, block: StoredBlock) -> int:
        """The descriptor of a stored block's file: opened, then unlinked, the first time."""
        if np.dtype(block.dtype) != self.dtype:
            raise ValueError(f"a stored block of {np.dtype(block.dtype)} in an ArraySpool of {self.dtype}")
        if block.path not in self._fds:
            with _naming_tmpdir():
                self._fds[block.path] = os.open(block.path, os.O_RDONLY | os.O_CLOEXEC)
                os.unlink(block.path)
        return self._fds[block.path]

    def _add(self, entry: tuple[int, int, int, int]) -> None:
        self._blocks.append(entry)
        self._ends.append((self._ends[-1] if self._ends else 0) + entry[2])

    def _read_at(self, fd: int, size: int, offset: int) -> bytes:
        return self._read(size, offset) if fd < 0 else _pread(fd, size, offset)

    @property
    def blocks(self) -> int:
        return len(self._blocks)

    def __len__(self) -> int:
        """Rows of all blocks stacked on axis 0."""
        return self._ends[-1] if self._ends else 0

    def span(self, number: int) -> tuple[int, int]:
        """Where block `number`'s rows are among the rows of all blocks stacked on axis 0: [start, end)."""
        return self._ends[number] - self._blocks[number][2], self._ends[number]

    def block(self, number: int) -> np.ndarray:
        fd, offset, rows, columns = self._blocks[number]
        data = self._read_at(fd, rows * columns * self.dtype.itemsize, offset)
        return np.frombuffer(data, dtype=self.dtype).reshape(rows, columns)

    def take(self, rows: np.ndarray) -> np.ndarray:
        """The given rows (any order, repeats allowed), reading each block that holds one of them once."""
        out = np.empty((len(rows), self.width), dtype=self.dtype)
        order = np.argsort(rows, kind="stable")
        wanted = np.asarray(rows, dtype=np.int64)[order]
        if len(wanted) and (wanted[0] < 0 or wanted[-1] >= len(self)):
            raise IndexError(f"rows {wanted[0]}..{wanted[-1]} of a spool of {len(self)}")
        ends = np.array(self._ends, dtype=np.int64)
        owner = np.searchsorted(ends, wanted, side="right")
        bounds = np.searchsorted(owner, np.arange(len(ends) + 1))
        for number in np.flatnonzero(np.diff(bounds)).tolist():
            lo, hi = bounds[number], bounds[number + 1]
            out[order[lo:hi]] = self.block(number)[wanted[lo:hi] - (ends[number] - self._blocks[number][2])]
        return out

    def stripe(self, row: int) -> np.ndarray:
        """Row `row` of every block, joined: one pread per block."""
        size = self.dtype.itemsize
        parts = [self._read_at(fd, columns * size, offset + row * columns * size)
                 for fd, offset, _, columns in self._blocks]
        return np.frombuffer(b"".join(parts), dtype=self.dtype)

    def close(self) -> None:
        """Close and delete the spool's files, and its folder with the blocks that workers stored there."""
        for fd in self._fds.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fds.clear()
        if self.folder is not None:
            _forget_blocks(self.folder)
            shutil.rmtree(self.folder, ignore_errors=True)
        super().close()


# ---------------------------------------------------------------- writing


def _compressed(raw: IO[bytes], name: str) -> IO[bytes]:
    """Wrap a binary stream in gzip or zstd compression by the file name's suffix. The gzip header names no
    file (the stream's own name is a temporary one, which `gunzip -N` would restore) and has no time."""
    name = name.lower()
    if name.endswith(".gz"):
        return gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0)
    if name.endswith(".zst"):
        import zstandard

        return zstandard.ZstdCompressor().stream_writer(raw, closefd=False)
    return raw


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class AtomicFile:
    """A file written beside its target under a temporary name and renamed over it only on success."""

    def __init__(self, target: Path, compress: bool = True) -> None:
        self.target = Path(target).resolve()
        self.tmp = None
        self.compress = compress
        self.raw: IO[bytes] | None = None
        self.stream: IO[bytes] | None = None

    def _prefix(self) -> str:
        return f".{self.target.name}.{os.getpid()}-"

    def open(self) -> IO[bytes]:
        self.tmp: str | None = None
        try:
            self.target.parent.mkdir(parents=True, exist_ok=True)
            handle, self.tmp = tempfile.mkstemp(prefix=self._prefix(), suffix=".tmp", dir=self.target.parent)
        except OSError as err:
            raise OutputError(f"cannot write {self.target}: {err.strerror or err}") from err
        os.chmod(self.tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get the usual permissions
        self.raw = os.fdopen(handle, "wb")
        self.stream = _compressed(self.raw, self.target.name) if self.compress else self.raw
        return self.stream

    def close(self, success: bool) -> None:
        try:
            if self.stream is not None and self.stream is not self.raw:
                self.stream.close()
            if self.raw is not None:
                self.raw.close()
        finally:
            if self.tmp is not None and success:
                os.replace(self.tmp, self.target)
            else:  # by name too: an interrupt can land between mkstemp and the assignment
                for tmp in self.target.parent.glob(glob.escape(self._prefix()) + "*.tmp"):
                    with contextlib.suppress(FileNotFoundError):
                        tmp.unlink()


def write_text(target: Path, text: str | Iterable[str | bytes]) -> None:
    """Write a whole text file atomically (UTF-8, newlines as given), from a string or from its pieces
    (strings, or bytes already encoded)."""
    file = AtomicFile(target, compress=False)
    stream = file.open()
    try:
        for piece in [text] if isinstance(text, str) else text:
            stream.write(piece if isinstance(piece, bytes) else piece.encode("utf-8"))
    except BaseException:
        file.close(success=False)
        raise
    file.close(success=True)


def _json_value(value: Any) -> Any:
    """A JSON value for what Parquet columns (or an API user's records) hold beyond JSON's types: dates and
    times as ISO 8601 strings, decimals as strings (exact), bytes as base64 text; anything else as `str`."""
    if isinstance(value, (datetime.date, datetime.time)):  # datetime.datetime is a date
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)  # Decimal, timedelta, ...


# What json.dumps(..., ensure_ascii=False) builds on every call, with `_json_value` for the other types.
_JSON = json.JSONEncoder(ensure_ascii=False, default=_json_value)


def jsonl_line(record: dict[str, Any]) -> bytes:
    """One JSON Lines record, UTF-8, as every writer here writes it."""
    return _JSON.encode(record).encode("utf-8") + b"\n"


def output_record(cleaned: CleanedDocument, config: Config) -> dict[str, Any]:
    """The input record with its text replaced (and the original kept if asked)."""
    if not cleaned.document.meta:
        return {config.id_field: cleaned.document.id, config.text_field: cleaned.text}
    return cleaned_record(cleaned.document.meta, cleaned.document.text, cleaned.text, config)


def cleaned_record(record: dict[str, Any], original: str, cleaned: str, config: Config) -> dict[str, Any]:
    """A copy of an input record with the cleaned text in its text field (and the original kept if asked)."""
    record = dict(record)
    if config.keep_original_field:
        record[config.keep_original_field] = original
    record[config.text_field] = cleaned
    return record


def output_line(cleaned: CleanedDocument, config: Config) -> bytes:
    """A cleaned document as a JSON Lines record: the line the second pass encoded, or `output_record`'s."""
    return cleaned.record if cleaned.record is not None else jsonl_line(output_record(cleaned, config))


class _Sink:
    """Cleaned documents of one output file, written as they come."""

    def __init__(self, kind: str, path: Path, source: Path | None, config: Config) -> None:
        self.kind, self.path, self.config = kind, path, config
        self.writer: Any = None
        if kind == "parquet":  # the schema first: an unreadable source must not leave an empty file behind
            import pyarrow as pa
            import pyarrow.parquet as pq

            schema = pq.read_schema(source)
            if config.keep_original_field and config.keep_original_field not in schema.names:
                schema = schema.append(pa.field(config.keep_original_field, pa.string()))
            self.schema = schema
            self.rows: list[dict[str, Any]] = []
        path.parent.mkdir(parents=True, exist_ok=True)
        self.raw = open(path, "wb")  # noqa: SIM115 - held open across writes, closed by close()
        self.stream = _compressed(self.raw, path.name) if kind == "jsonl" else self.raw
        if kind == "parquet":
            self.writer = pq.ParquetWriter(self.stream, self.schema)

    def write(self, cleaned: CleanedDocument) -> None:
        if self.kind == "txt":
            self.stream.write(cleaned.text.encode("utf-8"))
        elif self.kind == "jsonl":
            self.stream.write(output_line(cleaned, self.config))
        else:
            self.rows.append(output_record(cleaned, self.config))
            if len(self.rows) >= 5_000:
                self._flush()

    def _flush(self) -> None:
        import pyarrow as pa

        self.writer.write_table(pa.Table.from_pylist(self.rows, schema=self.schema))
        self.rows = []

    def close(self) -> None:
        if self.writer is not None:
            self._flush()
            self.writer.close()
        if self.stream is not self.raw:
            self.stream.close()
        self.raw.close()


class OutputWriter:
    """Writes cleaned documents in the shape of the inputs while the second pass runs.

    One input file gives one output file; a folder, or several inputs, give a
    folder that mirrors them. Everything is written under temporary names
    and moved into place by `commit`; `abort` leaves the previous output as
    it was. Dropped duplicate documents are left out (a dropped .txt document
    leaves no file). `out == "-"` writes JSONL to stdout as it goes.
    """

    def __init__(self, inputs: Inputs, out: str, config: Config, stdout: IO[bytes] | None = None) -> None:
        self.inputs, self.config = inputs, config
        self.sinks: dict[str, _Sink] = {}
        self.target = Path(out).resolve() if out != "-" else None
        self.stdout = stdout or sys.stdout.buffer
        self.single: InputFile | None = None
        self.staging: Path | None = None
        self.omitted: list[str] = []  # inputs that `commit` wrote no output for, as they could not be read
        self.left: list[Path] = []  # files of an existing output folder that `commit` did not write
        if self.target is None:
            return
        if inputs.stdin and inputs.files:
            raise OutputRefused("stdin cannot be combined with file inputs when writing cleaned output")
        if inputs.stdin:
            self.single = InputFile("jsonl", Path("."), Path("<stdin>"), True)
        elif len(inputs.files) == 1 and inputs.files[0].direct:
            self.single = inputs.files[0]
        for item in inputs.files:
            source = item.file.resolve()
            if self.target == source or self.target == item.root.resolve() or self.target in source.parents:
                raise OutputRefused(f"output {out} would overwrite the input {item.file}; choose another path")
        folder = inside_input(self.target, inputs)
        if folder is not None:
            raise OutputRefused(f"output {out} is inside the input folder {folder}, where the next run would read "
                                "it as input; choose a path outside it")
        if self.single is not None:
            if self.target.is_dir():
                raise OutputRefused(f"{out} is a folder; a single input file needs an output file")
            kind = kind_of(self.target)
            if kind != self.single.kind and not (self.single.kind == "txt" and kind is None):
                raise OutputRefused(f"output {out} should have the input's format ({self.single.kind})")
        elif self.target.exists() and not self.target.is_dir():
            raise OutputRefused(f"{self.target} exists and is not a folder")
        # Staging lives inside an existing output folder (same file system, no need to write its parent),
        # else beside the target.
        self.inside = self.single is None and self.target.is_dir()
        parent = self.target if self.inside else self.target.parent
        problem = made_folder(parent)  # checked now, used at the first write, so nothing is left to clean up
        if problem is not None:
            raise OutputRefused(f"cannot write to {parent}: {problem}")
        self.roots = sorted({str(item.root) for item in inputs.files})

    def _place(self) -> tuple[Path, str]:
        """The folder that holds the staging folder, and this process's prefix for its name."""
        assert self.target is not None
        parent = self.target if self.inside else self.target.parent
        return parent, (".dedupe-staging-" if self.inside else f".{self.target.name}.") + f"{os.getpid()}-"

    def _staging(self) -> Path:
        """The folder everything is written to before it moves into place, made on first use."""
        if self.staging is None:
            parent, prefix = self._place()
            self.staging = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
            os.chmod(self.staging, 0o777 & ~_umask())
        return self.staging

    def _dest(self, item: InputFile) -> Path:
        self._staging()
        assert self.staging is not None
        if self.single is not None:
            return self.staging / "single"
        prefix = Path(item.root.name) if len(self.roots) > 1 else Path()
        return self.staging / prefix / item.file.relative_to(item.root)

    def _sink_path(self, item: InputFile) -> Path:
        """Where an input's output is staged (a single JSONL output keeps the target's compression suffix)."""
        dest = self._dest(item)
        if self.single is not None and self.single.kind == "jsonl":
            assert self.target is not None
            dest = dest.with_name("single" + "".join(self.target.suffixes[-1:]))
        return dest

    def write(self, cleaned: CleanedDocument) -> None:
        if cleaned.dropped:
            return
        if self.target is None:
            self.stdout.write(output_line(cleaned, self.config))
            return
        key = cleaned.document.path
        sink = self.sinks.get(key)
        if sink is None:
            item = self.single or self._input_of(key)
            sink = self.sinks[key] = _Sink(item.kind, self._sink_path(item), item.file, self.config)
        sink.write(cleaned)

    def _input_of(self, path: str) -> InputFile:
        for item in self.inputs.files:
            if str(item.file) == path:
                return item
        raise OutputError(f"no input file for {path}")

    def commit(self, skips: Iterable[Skip] = ()) -> list[str]:
        """Close every file, add empty outputs for JSONL/Parquet inputs that kept nothing, move into place.

        An input that could not be read (`unread`, from the run's skips of files, `Skips.files`) and gave no
        document gets no output, as a skipped .txt file gets none: an empty file would stand for an input that
        held nothing.
        """
        if self.target is None:
            self.stdout.flush()
            return ["<stdout>"]
        self._staging()
        assert self.staging is not None
        items = [self.single] if self.single is not None else self.inputs.files
        failed = unread(self.inputs, skips)
        for item in items:
            if str(item.file) in self.sinks or item.kind == "txt":
                continue
            if str(item.file) in failed:
                self.omitted.append(str(item.file))
                continue
            try:
                self.sinks[str(item.file)] = _Sink(item.kind, self._sink_path(item), item.file, self.config)
            except (OSError, ValueError):
                if item.kind != "parquet":
                    raise
                # a Parquet input whose schema cannot be read was skipped and reported: no output
        for sink in self.sinks.values():
            sink.close()
        if self.single is not None:
            produced = next(iter(self.sinks.values())).path if self.sinks else None
            if produced is None and str(self.single.file) in failed:
                shutil.rmtree(self.staging, ignore_errors=True)
                return []
            if produced is None:  # a single .txt document that was dropped: an empty file
                produced = self.staging / "single"
                produced.write_bytes(b"")
            os.replace(produced, self.target)
            shutil.rmtree(self.staging, ignore_errors=True)
            return [str(self.target)]
        if not self.target.exists():
            os.replace(self.staging, self.target)
            return [str(self.target)]
        # An existing folder: each output file replaces its namesake atomically; nothing else is touched, but
        # what is left there is told (`left`): a file of an earlier run whose document is now dropped, or whose
        # input is gone, is not this run's output.
        written = []
        for path in sorted(p for p in self.staging.rglob("*") if p.is_file()):
            dest = self.target / path.relative_to(self.staging)
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, dest)
            written.append(str(dest))
        shutil.rmtree(self.staging, ignore_errors=True)
        mine = set(written)
        self.left = sorted(p for p in self.target.rglob("*") if p.is_file() and str(p) not in mine)
        return written

    def abort(self) -> None:
        for sink in self.sinks.values():
            with contextlib.suppress(Exception):
                sink.close()
        if self.target is not None:
            # By name, not only self.staging: an interrupt can land between mkdtemp and the assignment.
            parent, prefix = self._place()
            for staging in parent.glob(glob.escape(prefix) + "*"):
                shutil.rmtree(staging, ignore_errors=True)


def unread(inputs: Inputs, skips: Iterable[Skip]) -> set[str]:
    """The input files that a skip reports as not read to the end, or not read at all: an `unreadable_file`
    skip at any line, or a skip of the file as a whole (its location is the file itself, such as a Parquet
    file without the text column)."""
    files = {str(item.file) for item in inputs.files}
    found = set()
    for skip in skips:
        if skip.location in files:
            found.add(skip.location)
        elif skip.reason == UNREADABLE_FILE:
            path, _, line = skip.location.rpartition(":")
            if path in files and line.isdigit():
                found.add(path)
    return found


@contextlib.contextmanager
def spooled_stdin(inputs: Inputs, stdin: IO[bytes] | None = None) -> Iterator[Inputs]:
    """Copy stdin to a temporary file so that both passes can read it; removed afterwards."""
    if not inputs.stdin:
        yield inputs
        return
    handle, path = tempfile.mkstemp(prefix="dedupe-stdin-", suffix=".jsonl")
    try:
        with os.fdopen(handle, "wb") as spool:
            shutil.copyfileobj(stdin or sys.stdin.buffer, spool)
        yield Inputs(inputs.files, inputs.ignored, inputs.stdin, Path(path))
    finally:
        os.unlink(path)

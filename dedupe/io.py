"""Readers and writers at the edges: .txt folders, JSONL (.gz, .zst), Parquet, stdin/stdout.

Readers yield `Document`s, and `Skip` records for input they cannot use
(invalid UTF-8, binary files, malformed JSON lines, missing text fields), so
nothing is lost silently. Writers mirror the input's shape and format and
write through a temporary file (or folder) renamed into place, so an
interrupted run leaves the old output or none, never half of one.
"""

from __future__ import annotations

import contextlib
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
from typing import IO, Any

from dedupe.config import Config
from dedupe.document import CleanedDocument, Document, Skip

TEXT_SUFFIXES = (".txt",)
JSONL_SUFFIXES = (".jsonl", ".ndjson")
COMPRESSIONS = ("", ".gz", ".zst")
PARQUET_SUFFIXES = (".parquet",)


class OutputError(Exception):
    """The output cannot be written where or how it was asked for."""


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
    """Map a JSON/Parquet record to a Document using the configured field names."""
    if config.text_field not in record or record[config.text_field] is None:
        return Skip(origin, "missing_text", f"no {config.text_field!r} field")
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


def _open_binary(path: Path) -> IO[bytes]:
    name = path.name.lower()
    if name.endswith(".gz"):
        return gzip.open(path, "rb")
    if name.endswith(".zst"):
        import zstandard

        return zstandard.ZstdDecompressor().stream_reader(open(path, "rb"), closefd=True)
    return open(path, "rb")


def _jsonl_lines(stream: IO[bytes], label: str, config: Config, path: str) -> Iterator[Document | Skip]:
    number = 0
    try:
        for number, raw in enumerate(io.BufferedReader(stream) if not hasattr(stream, "peek") else stream, 1):
            origin = f"{label}:{number}"
            if not raw.strip():
                continue
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                yield Skip(origin, "invalid_utf8", f"invalid UTF-8 at byte {err.start} of the line")
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                yield Skip(origin, "malformed_json", f"{err.msg} at column {err.colno}")
                continue
            if not isinstance(record, dict):
                yield Skip(origin, "malformed_json", f"a JSON {type(record).__name__}, not an object")
                continue
            yield record_to_document(record, config, origin, path)
    except (OSError, EOFError, ValueError) as err:  # truncated or corrupt compressed stream
        yield Skip(f"{label}:{number + 1}", "unreadable_file", f"stopped reading: {err}")


def _read_txt(file: Path, root: Path, config: Config) -> Iterator[Document | Skip]:
    label = str(file)
    try:
        size = file.stat().st_size
        if size > 4 * config.max_document_chars:
            yield Skip(label, "document_too_large", f"{size:,} bytes, above max_document_chars")
            return
        data = file.read_bytes()
    except OSError as err:
        yield Skip(label, "unreadable_file", err.strerror or str(err))
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
    import pyarrow.parquet as pq

    label = str(file)
    row = 0
    try:
        reader = pq.ParquetFile(file)
        for batch in reader.iter_batches():
            for record in batch.to_pylist():
                row += 1
                yield record_to_document(record, config, f"{label}:{row}", str(file))
    except (OSError, ValueError) as err:
        yield Skip(f"{label}:{row + 1}", "unreadable_file", f"not readable as Parquet: {err}")


def read(inputs: Inputs, config: Config, stdin: IO[bytes] | None = None) -> Iterator[Document | Skip]:
    """Yield every document (and skip) of the inputs, in order."""
    if inputs.stdin:
        yield from _jsonl_lines(stdin or sys.stdin.buffer, "<stdin>", config, "-")
    for item in inputs.files:
        kind, root, file = item.kind, item.root, item.file
        if kind == "txt":
            yield from _read_txt(file, root, config)
        elif kind == "jsonl":
            try:
                stream = _open_binary(file)
            except OSError as err:
                yield Skip(str(file), "unreadable_file", err.strerror or str(err))
                continue
            with stream:
                yield from _jsonl_lines(stream, str(file), config, str(file))
        else:
            yield from _read_parquet(file, config)


# ---------------------------------------------------------------- writing


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """A temporary path beside `target` that replaces it only if the block succeeds."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(handle)
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _output_record(cleaned: CleanedDocument, config: Config) -> dict[str, Any]:
    record = dict(cleaned.document.meta)
    if config.keep_original_field:
        record[config.keep_original_field] = cleaned.document.text
    record[config.text_field] = cleaned.text
    return record


def _write_jsonl_stream(stream: IO[bytes], docs: Iterable[CleanedDocument], config: Config) -> None:
    for cleaned in docs:
        record = _output_record(cleaned, config) if cleaned.document.meta else {
            config.id_field: cleaned.document.id, config.text_field: cleaned.text}
        stream.write(json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n")


def write_jsonl(target: Path, docs: Iterable[CleanedDocument], config: Config) -> None:
    """Write JSONL (gzip or zstd by the target's suffix) atomically."""
    with atomic_path(target) as tmp:
        name = target.name.lower()
        if name.endswith(".gz"):
            with gzip.open(tmp, "wb") as stream:
                _write_jsonl_stream(stream, docs, config)
        elif name.endswith(".zst"):
            import zstandard

            with open(tmp, "wb") as raw, zstandard.ZstdCompressor().stream_writer(raw) as stream:
                _write_jsonl_stream(stream, docs, config)
        else:
            with open(tmp, "wb") as stream:
                _write_jsonl_stream(stream, docs, config)


def write_parquet(target: Path, source: Path, docs: list[CleanedDocument], config: Config) -> None:
    """Write Parquet with the source file's schema (plus the original-text column if asked)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pq.read_schema(source)
    if config.keep_original_field and config.keep_original_field not in schema.names:
        schema = schema.append(pa.field(config.keep_original_field, pa.string()))
    table = pa.Table.from_pylist([_output_record(c, config) for c in docs], schema=schema)
    with atomic_path(target) as tmp:
        pq.write_table(table, tmp)


def write_text(target: Path, text: str) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="")


def _write_file(kind: str, target: Path, source: Path, docs: list[CleanedDocument], config: Config) -> None:
    if kind == "txt":
        if docs:
            write_text(target, docs[0].text)
    elif kind == "jsonl":
        write_jsonl(target, docs, config)
    else:
        write_parquet(target, source, docs, config)


def write_outputs(inputs: Inputs, docs: list[CleanedDocument], out: str, config: Config,
                  stdout: IO[bytes] | None = None) -> list[str]:
    """Write cleaned documents in the shape of the inputs; returns what was written.

    One input file gives one output file; a folder, or several inputs, give
    a folder that mirrors them. Dropped duplicate documents are left out
    (a dropped .txt document leaves no file). `out == "-"` writes JSONL to stdout.
    """
    kept = [c for c in docs if not c.dropped]
    if out == "-":
        _write_jsonl_stream(stdout or sys.stdout.buffer, kept, config)
        return ["<stdout>"]
    by_file: dict[str, list[CleanedDocument]] = {}
    for c in kept:
        by_file.setdefault(c.document.path, []).append(c)
    target = Path(out)
    if inputs.stdin and not inputs.files:
        write_jsonl(target, kept, config)
        return [str(target)]
    if len(inputs.files) == 1 and inputs.files[0].direct and not inputs.stdin:
        kind, file = inputs.files[0].kind, inputs.files[0].file
        if target.is_dir():
            raise OutputError(f"{out} is a folder; a single input file needs an output file")
        if kind_of(target) != kind and not (kind == "txt" and kind_of(target) is None):
            raise OutputError(f"output {out} should have the input's format ({kind})")
        _write_file(kind, target, file, by_file.get(str(file), []), config)
        return [str(target)]
    if inputs.stdin:
        raise OutputError("stdin cannot be combined with file inputs when writing cleaned output")
    return _write_tree(inputs, by_file, target, config)


def _write_tree(inputs: Inputs, by_file: dict[str, list[CleanedDocument]], target: Path,
                config: Config) -> list[str]:
    """Mirror input folders into `target`, built beside it and swapped in at the end."""
    if target.exists() and not target.is_dir():
        raise OutputError(f"{target} exists and is not a folder")
    roots = sorted({str(item.root) for item in inputs.files})
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    written = []
    try:
        for item in inputs.files:
            kind, root, file = item.kind, item.root, item.file
            rel = file.relative_to(root)
            prefix = Path(root.name) if len(roots) > 1 else Path()
            dest = staging / prefix / rel
            docs = by_file.get(str(file), [])
            if kind == "txt" and not docs:
                continue
            _write_file(kind, dest, file, docs, config)
            written.append(str(target / prefix / rel))
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, old)
            os.replace(staging, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return written

"""The command line: formats in and out, exit codes, bad input, atomic writes, determinism."""

from __future__ import annotations

import gzip
import io
import json
import os
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from click.testing import CliRunner
from conftest import ROOT, sentence

from dedupe import io as dio
from dedupe.cli import main

SAMPLES = ROOT / "corpus_samples"
ARTICLE = [
    "Menu line for the outlet",
    "Caption of the picture shown at the top of the page",
    "Caption of the picture shown at the top of the page",
    "The first paragraph of the story has enough words to be content and is not repeated anywhere.",
    "Read more: Another story with a different headline",
]


def invoke(*args: str, input: bytes | None = None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def write_jsonl(path: Path, records: list, raw_lines: list[bytes] = ()) -> Path:
    data = b"".join(json.dumps(r).encode() + b"\n" for r in records) + b"".join(raw_lines)
    if path.name.endswith(".gz"):
        data = gzip.compress(data)
    elif path.name.endswith(".zst"):
        data = zstandard.ZstdCompressor().compress(data)
    path.write_bytes(data)
    return path


def records(n: int = 3) -> list[dict]:
    """Articles that share a menu, a caption pair and a link line, each with its own body."""
    out = []
    for i in range(n):
        rng = random.Random(i)
        body = [sentence(rng, 25) for _ in range(4)]
        caption = f"Caption {i}: " + sentence(rng, 10)
        lines = [ARTICLE[0], caption, caption, *body, f"Read more: another headline {i}"]
        out.append({"id": f"r{i}", "text": "\n".join(lines), "source": "site", "extra": i})
    return out


def test_audit_corpus_samples_reports_json_and_findings_jsonl(tmp_path):
    report, findings, streamed = tmp_path / "r.json", tmp_path / "f.jsonl", tmp_path / "s.json"
    result = invoke("audit", str(SAMPLES), "--report", str(report))
    assert result.exit_code == 0
    assert invoke("audit", str(SAMPLES), "--report", str(streamed), "--findings", str(findings)).exit_code == 0
    assert json.loads(streamed.read_text())["findings_file"] == "f.jsonl"
    data = json.loads(report.read_text())
    assert data["schema_version"] == "1.0"
    assert data["summary"]["documents"] == 17  # 4 + 4 + 3 + 6 files and records in the four samples
    assert {"repeat", "boilerplate", "template", "syndicated", "duplicate_document"} <= {
        c for c, v in data["summary"]["categories"].items() if v["findings"]}
    lines = findings.read_text().splitlines()
    assert len(lines) == len(data["findings"]) and json.loads(lines[0]) == data["findings"][0]
    assert "duplicated share" in result.output


def test_clean_folder_mirrors_tree_and_formats(tmp_path):
    out = tmp_path / "out"
    assert invoke("clean", str(SAMPLES), "-o", str(out), "--quiet").exit_code == 0
    cleaned = (out / "gallery-outlet" / "harbour-fire.txt").read_text()
    assert "Read more:" not in cleaned and "Fire tears through Wrenfield harbour" in cleaned
    rows = [json.loads(line) for line in (out / "wire-story" / "articles.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["np-20260310-halvern-bridge", "vh-20260308-orchard-frost",
                                       "md-20260312-bridge-detour", "md-20260313-library-fines"]
    assert set(rows[0]) == {"id", "source", "date", "title", "text"}


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz", ".jsonl.zst"])
def test_clean_jsonl_keeps_fields_and_compression(tmp_path, suffix):
    source = write_jsonl(tmp_path / f"in{suffix}", records())
    out = tmp_path / f"out{suffix}"
    result = invoke("clean", str(source), "-o", str(out), "--keep-original-field", "raw", "--quiet")
    assert result.exit_code == 0
    rows = list(dio.read(dio.discover([str(out)]), dio.Config(text_field="text")))
    assert [r.id for r in rows] == ["r0", "r1", "r2"]
    assert rows[0].meta["extra"] == 0 and rows[0].meta["raw"].startswith("Menu line")
    assert "Read more" not in rows[0].text and rows[0].text.count("Caption 0:") == 1
    assert ARTICLE[0] not in rows[0].text


def test_keep_original_field_never_overwrites_a_field(tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", records())
    out = tmp_path / "out.jsonl"
    for name in ("id", "source"):  # fields the config names
        result = invoke("clean", str(source), "-o", str(out), "--keep-original-field", name, "--quiet")
        assert result.exit_code == 2 and f"must differ from {name}_field" in result.output
    result = invoke("clean", str(source), "-o", str(out), "--keep-original-field", "extra", "--quiet")
    assert result.exit_code == 2 and "in.jsonl:1: the record already has a field 'extra'" in result.output
    parquet = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist(records()), parquet)  # "extra" is an int64 column there
    result = invoke("clean", str(parquet), "-o", str(tmp_path / "out.parquet"), "--keep-original-field", "extra",
                    "--quiet")
    assert result.exit_code == 2 and "has a column 'extra'" in result.output
    assert not out.exists() and not (tmp_path / "out.parquet").exists()
    # audit writes no record: a config shared with clean does not stop it
    for path in (source, parquet):
        assert invoke("audit", str(path), "--keep-original-field", "extra", "--quiet").exit_code == 0


def test_a_parquet_file_without_the_text_column_is_one_skip_that_names_its_columns(tmp_path):
    source = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist([{"body": "x", "n": i} for i in range(500)]), source)
    result = invoke("audit", str(source), "--report", str(tmp_path / "r.json"))
    skipped = json.loads((tmp_path / "r.json").read_text())["summary"]["skipped"]
    assert skipped["count"] == 1 and skipped["items"][0]["location"] == str(source)
    assert skipped["reasons"] == {"missing_text_column": 1}
    assert "its 500 rows; its columns: body, n" in skipped["items"][0]["detail"]
    assert "e.g. " in result.output and "warning: no documents were read (1 skipped" in result.output
    assert result.exit_code == 0


def test_a_parquet_row_with_a_date_python_cannot_hold_is_a_skip_and_the_other_rows_are_read(tmp_path):
    source = tmp_path / "in.parquet"
    texts = [f"Story {i} on the harbour works.\nRead more: the ferry timetable" for i in range(3)]
    dates = pa.array([19_000, 3_000_000, 19_001], type=pa.date32())  # the second is in the year 10183
    pq.write_table(pa.table({"id": ["a", "b", "c"], "text": texts, "date": dates}), source)
    result = invoke("audit", str(source), "--report", str(tmp_path / "r.json"), "--quiet")
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "r.json").read_text())["summary"]
    assert summary["documents"] == 2 and summary["skipped"]["count"] == 1
    item = summary["skipped"]["items"][0]
    assert (item["location"], item["reason"]) == (f"{source}:2", "bad_value")
    assert "out of range" in item["detail"]


def test_clean_parquet_keeps_schema(tmp_path):
    source = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist(records()), source)
    out = tmp_path / "out.parquet"
    assert invoke("clean", str(source), "-o", str(out), "--quiet").exit_code == 0
    table = pq.read_table(out)
    assert table.schema == pq.read_schema(source)
    assert table.column("extra").to_pylist() == [0, 1, 2]
    assert all("Read more" not in t for t in table.column("text").to_pylist())


def test_stdin_to_stdout(tmp_path):
    data = b"".join(json.dumps(r).encode() + b"\n" for r in records())
    result = invoke("clean", "-", "-o", "-", "--quiet", input=data)
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in rows] == ["r0", "r1", "r2"]


def test_custom_field_names(tmp_path):
    rows = [{"key": f"k{i}", "body": r["text"], "site": "s"} for i, r in enumerate(records())]
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    report = tmp_path / "r.json"
    result = invoke("audit", str(source), "--text-field", "body", "--id-field", "key", "--source-field", "site",
                    "--report", str(report), "--quiet")
    assert result.exit_code == 0
    findings = json.loads(report.read_text())["findings"]
    assert {f["doc_id"] for f in findings} == {"k0", "k1", "k2"}


def test_bad_input_is_counted_and_reported(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text("\n".join(ARTICLE))
    (folder / "latin1.txt").write_bytes("caf\xe9 au lait".encode("latin-1"))
    (folder / "binary.txt").write_bytes(b"\x89PNG\x00\x00\x01")
    (folder / "empty.txt").write_text("  \n\n")
    (folder / "windows.txt").write_bytes("a page saved as UTF-16".encode("utf-16"))
    (folder / "huge.txt").write_text("word " * 3000)
    write_jsonl(folder / "rows.jsonl", [{"id": "ok", "text": "A fine document text"}, {"id": "no-text"},
                                        {"id": "num", "text": 42}, {"id": "ok", "text": "Duplicate id here"}],
                [b"{not json\n", b"[1, 2]\n", b"\xff\xfe{}\n"])
    report = tmp_path / "r.json"
    result = invoke("audit", str(folder), "--report", str(report), "--max-document-chars", "10000", "--quiet")
    assert result.exit_code == 0
    summary = json.loads(report.read_text())["summary"]
    assert summary["documents"] == 2
    assert summary["skipped"]["reasons"] == {
        "binary": 1, "document_too_large": 1, "duplicate_id": 1, "empty_document": 1, "invalid_utf8": 3,
        "malformed_json": 2, "missing_text": 1, "text_not_string": 1}
    locations = {item["location"] for item in summary["skipped"]["items"]}
    assert str(folder / "rows.jsonl") + ":5" in locations
    details = {item["location"]: item["detail"] for item in summary["skipped"]["items"]}
    assert "UTF-16" in details[str(folder / "windows.txt")]
    # Even with --quiet, input that is missing from the output is announced (and where it is listed).
    assert "dedupe: warning: skipped inputs: 11 (binary: 1, document_too_large: 1" in result.output
    assert "see summary.skipped in the report" in result.output
    bare = invoke("audit", str(folder), "--max-document-chars", "10000", "--quiet")
    assert "skipped inputs: 11" in bare.output and "pass --report to list them" in bare.output


def test_strict_mode_fails_with_exit_3_and_writes_nothing(tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", records(), [b"{broken\n"])
    out = tmp_path / "out.jsonl"
    result = invoke("clean", str(source), "-o", str(out), "--strict", "--quiet")
    assert result.exit_code == 3
    assert "malformed_json" in result.output and not out.exists()


@pytest.mark.parametrize("suffix", [".gz", ".zst"])
def test_truncated_compressed_file_is_a_reported_skip_and_fails_strict(tmp_path, suffix):
    lines = b"".join(json.dumps(r).encode() + b"\n" for r in records(50))
    if suffix == ".gz":
        data = gzip.compress(lines)
    else:  # two frames: cut in the second, after a whole first frame (zstandard's stream reader saw no error)
        data = zstandard.ZstdCompressor().compress(lines[:2000]) + zstandard.ZstdCompressor().compress(lines[2000:])
    source = tmp_path / f"cut.jsonl{suffix}"
    source.write_bytes(data[: len(data) - 20])
    report = tmp_path / "r.json"
    assert invoke("audit", str(source), "--report", str(report), "--quiet").exit_code == 0
    assert json.loads(report.read_text())["summary"]["skipped"]["reasons"] == {"unreadable_file": 1}
    out = tmp_path / f"out.jsonl{suffix}"
    assert invoke("clean", str(source), "-o", str(out), "--strict", "--quiet").exit_code == 3 and not out.exists()


def test_usage_errors_exit_2(tmp_path):
    assert invoke("audit", str(tmp_path / "missing")).exit_code == 2
    assert invoke("audit", str(SAMPLES), "--threshold", "1.5").exit_code == 2
    assert invoke("audit", str(SAMPLES), "--action", "repeat=delete").exit_code == 2
    bad = tmp_path / "bad.toml"
    bad.write_text("nonsense_key = 3\n")
    result = invoke("audit", str(SAMPLES), "--config", str(bad))
    assert result.exit_code == 2 and "nonsense_key" in result.output


def test_fail_above_exits_5_only_above_the_rate():
    assert invoke("audit", str(SAMPLES), "--fail-above", "0.9", "--quiet").exit_code == 0
    result = invoke("audit", str(SAMPLES), "--fail-above", "0.05", "--quiet")
    assert result.exit_code == 5 and "above --fail-above" in result.output


def test_config_file_sets_rules_and_actions(tmp_path):
    config = tmp_path / "dedupe.toml"
    config.write_text('min_docs = 5\n[actions]\ntemplate = "flag-only"\n'
                      '[rules]\ndisable = ["byline"]\n[rules.add]\nmenu = "Menu line for the outlet"\n')
    source = write_jsonl(tmp_path / "in.jsonl", records())
    report = tmp_path / "r.json"
    assert invoke("audit", str(source), "--config", str(config), "--report", str(report), "--quiet").exit_code == 0
    data = json.loads(report.read_text())
    params = data["summary"]["parameters"]
    assert params["min_docs"] == 5 and params["disabled_rules"] == ["byline"]
    menu = [f for f in data["findings"] if f["cluster_id"] == "rule:menu"]
    assert len(menu) == 3 and {f["action"] for f in menu} == {"flagged"}


def test_flags_override_the_config_file_before_it_is_checked(tmp_path):
    # A rule named like a built-in one is refused, unless built-in rules are off: in the file or by the flag.
    config = tmp_path / "c.toml"
    config.write_text('[rules.add]\nbyline = "(?i)^by the desk$"\n')
    report = tmp_path / "r.json"
    refused = invoke("audit", str(SAMPLES), "--config", str(config), "--quiet", "--report", str(report))
    assert refused.exit_code == 2 and "built-in rule's name" in refused.output
    allowed = invoke("audit", str(SAMPLES), "--config", str(config), "--no-builtin-rules", "--quiet",
                     "--report", str(report))
    assert allowed.exit_code == 0


def test_failed_write_leaves_previous_output(tmp_path, monkeypatch):
    source = write_jsonl(tmp_path / "in.jsonl", records())
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n")

    def explode(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(dio._Sink, "write", explode)
    result = invoke("clean", str(source), "-o", str(out), "--quiet")
    assert result.exit_code == 4 and "disk full" in result.output
    assert out.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]


def test_output_is_byte_identical_for_any_jobs(tmp_path, generated_docs):
    source = write_jsonl(tmp_path / "in.jsonl", generated_docs)
    outputs = []
    for jobs in ("1", "2", "3"):
        out, findings = tmp_path / f"out{jobs}.jsonl", tmp_path / f"f{jobs}.jsonl"
        report = tmp_path / f"r{jobs}.json"
        result = invoke("clean", str(source), "-o", str(out), "--jobs", jobs, "--findings", str(findings),
                        "--report", str(report), "--quiet")
        assert result.exit_code == 0
        data = json.loads(report.read_text())
        data["summary"].pop("wall_time_s")
        assert set(data["summary"].pop("timings")) == {"read_and_sign_s", "index_and_cluster_s", "decide_s",
                                                      "clean_and_report_s"}
        data.pop("findings_file")
        outputs.append((out.read_bytes(), findings.read_bytes(), data))
    assert outputs[0] == outputs[1] == outputs[2]
    categories = outputs[0][2]["summary"]["categories"]
    assert all(categories[c]["findings"] > 0 for c in ("repeat", "boilerplate", "template", "syndicated"))
    audits = []
    for jobs in ("1", "3"):  # an audit renders without reading the input again
        report = tmp_path / f"audit{jobs}.json"
        assert invoke("audit", str(source), "--jobs", jobs, "--report", str(report), "--quiet").exit_code == 0
        data = json.loads(report.read_text())
        del data["summary"]["wall_time_s"], data["summary"]["timings"]
        audits.append(data)
    assert audits[0] == audits[1] and len(audits[0]["findings"]) == len(findings.read_bytes().splitlines())


def test_single_txt_file_gives_a_txt_file(tmp_path):
    source = tmp_path / "page.txt"
    source.write_text("Caption here for the photo\nCaption here for the photo\nBody line of the article.\n")
    out = tmp_path / "clean.txt"
    assert invoke("clean", str(source), "-o", str(out), "--quiet").exit_code == 0
    assert out.read_text() == "Caption here for the photo\nBody line of the article.\n"
    result = invoke("clean", str(source), "-o", str(tmp_path / "clean.jsonl"), "--quiet")
    assert result.exit_code == 2 and "format" in result.output  # refused before any work: a usage error


def test_tree_output_mirrors_mixed_formats_and_keeps_empty_files(tmp_path, generated_docs):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    write_jsonl(folder / "a.jsonl.gz", generated_docs[:40])
    pq.write_table(pa.Table.from_pylist(generated_docs[40:80]), folder / "sub" / "b.parquet")
    (folder / "sub" / "c.txt").write_text(generated_docs[80]["text"])
    write_jsonl(folder / "empty.jsonl", [])
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.md").write_text("the user's own file")
    assert invoke("clean", str(folder), "-o", str(out), "--quiet").exit_code == 0
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "a.jsonl.gz", "empty.jsonl", "notes.md", "sub/b.parquet", "sub/c.txt"]
    assert (out / "notes.md").read_text() == "the user's own file"
    rows = [json.loads(line) for line in gzip.decompress((out / "a.jsonl.gz").read_bytes()).splitlines()]
    assert len(rows) == 40 and all("Read more:" not in r["text"] for r in rows)
    assert pq.read_table(out / "sub" / "b.parquet").num_rows == 40
    assert (out / "empty.jsonl").read_bytes() == b""


def test_second_pass_refuses_changed_input():
    from dedupe import Config
    from dedupe.pipeline import InputError, analyse_corpus, render_again

    config = Config()
    docs = [{"id": "a", "text": "one line here"}, {"id": "b", "text": "another line"}]
    analysis = analyse_corpus(docs, config)
    with pytest.raises(InputError, match="changed between the two passes"):
        list(render_again(analysis, [{"id": "x", "text": "different"}])(True, False, True))
    edited = [{"id": "a", "text": "one line here, edited"}, docs[1]]  # same ids, another text
    for changed in (docs[:1], docs + [{"id": "c", "text": "one more"}], edited):
        analysis = analyse_corpus(docs, config)
        with pytest.raises(InputError, match="changed between the two passes"):
            list(render_again(analysis, changed)(True, False, True))
    analysis = analyse_corpus(docs, config)
    render = render_again(analysis, docs)
    assert [len(batch.texts) for _, batch in render(True, False, False)] == [0]  # no texts asked for
    with pytest.raises(ValueError, match="has run already"):
        list(render(True, False, True))


def test_outputs_get_ordinary_permissions(tmp_path):
    import os
    import stat

    source = write_jsonl(tmp_path / "in.jsonl", records())
    out, report = tmp_path / "out.jsonl", tmp_path / "r.json"
    old = os.umask(0o022)
    try:
        assert invoke("clean", str(source), "-o", str(out), "--report", str(report), "--quiet").exit_code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    assert stat.S_IMODE(report.stat().st_mode) == 0o644


def test_outputs_never_overwrite_inputs(tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", records())
    result = invoke("clean", str(source), "-o", str(source), "--quiet")
    assert result.exit_code == 2 and "overwrite the input" in result.output
    assert invoke("audit", str(source), "--report", str(source), "--quiet").exit_code == 2
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("some text here")
    assert invoke("clean", str(folder), "-o", str(folder), "--quiet").exit_code == 2
    assert (folder / "a.txt").read_text() == "some text here"
    assert source.read_bytes().startswith(b'{"id": "r0"')


def test_outputs_that_a_later_run_would_read_as_input_are_refused(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    write_jsonl(folder / "a.jsonl", records())
    result = invoke("clean", str(folder), "-o", str(folder / "cleaned"), "--quiet")
    assert result.exit_code == 2 and "inside the input folder" in result.output
    result = invoke("audit", str(folder), "--findings", str(folder / "f.jsonl"), "--quiet")
    assert result.exit_code == 2 and "inside the input folder" in result.output
    assert sorted(p.name for p in folder.iterdir()) == ["a.jsonl"]
    # A report is not an input format, and a single input file may have its output beside it.
    assert invoke("audit", str(folder), "--report", str(folder / "r.json"), "--quiet").exit_code == 0
    assert invoke("clean", str(folder / "a.jsonl"), "-o", str(folder / "b.jsonl"), "--quiet").exit_code == 0


def test_an_output_folder_that_cannot_be_written_is_refused_before_any_work(tmp_path, monkeypatch):
    from dedupe import io

    assert io.unwritable(tmp_path) is None and io.unwritable(tmp_path / "missing") == "No such file or directory"
    if Path("/proc").is_dir():  # a folder that takes no file says so, not "No such file or directory"
        assert io.unwritable(Path("/proc")) not in (None, "No such file or directory")
    source = write_jsonl(tmp_path / "in.jsonl", records())
    locked = tmp_path / "locked"
    locked.mkdir()
    real = io.unwritable
    monkeypatch.setattr(io, "unwritable", lambda folder: "Read-only file system" if folder == locked else real(folder))
    for args in (("audit", "--report", str(locked / "r.json")), ("audit", "--html", str(locked / "r.html")),
                 ("clean", "-o", str(locked / "out.jsonl"))):
        result = invoke(args[0], str(source), *args[1:], "--quiet")
        assert result.exit_code == 2 and "Read-only file system" in result.output, args
    assert list(locked.iterdir()) == []


def test_unusable_report_paths_fail_before_any_work(tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", records())
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    result = invoke("audit", str(source), "--findings", str(blocker / "f.jsonl"), "--quiet")
    assert result.exit_code == 2 and f"{blocker} is a file, not a folder" in result.output
    result = invoke("clean", str(source), "-o", str(blocker / "sub" / "out.jsonl"), "--quiet")
    assert result.exit_code == 2 and f"{blocker} is a file, not a folder" in result.output
    assert invoke("audit", str(source), "--findings", str(tmp_path / "f.csv"), "--quiet").exit_code == 2
    assert invoke("audit", str(source), "--report", str(tmp_path), "--quiet").exit_code == 2


def test_odd_records_are_skipped_not_fatal(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_bytes(b'\xef\xbb\xbf{"id": "bom", "text": "first record after a byte order mark"}\n'
                       b'{"id": "sur", "text": "broken emoji \\ud800 here"}\n'
                       b'{"id": "id\\ud800", "source": "s", "text": "fine text, broken id"}\n'
                       b'{"id": "src", "source": "s\\udfff", "text": "fine text, broken source"}\n'
                       b'{"id": "null", "text": null}\n')
    report = tmp_path / "r.json"
    result = invoke("clean", str(source), "-o", str(tmp_path / "out.jsonl"), "--report", str(report), "--quiet")
    assert result.exit_code == 0, result.output
    summary = json.loads(report.read_text())["summary"]
    assert summary["documents"] == 1
    assert summary["skipped"]["reasons"] == {"invalid_unicode": 3, "missing_text": 1}
    assert "lone surrogate U+D800 in the id" in report.read_text()


def test_corrupt_zstd_and_unmatchable_corpus(tmp_path):
    data = zstandard.ZstdCompressor().compress(b"".join(json.dumps(r).encode() + b"\n" for r in records(30)))
    corrupt = tmp_path / "c.jsonl.zst"
    corrupt.write_bytes(data[:40] + bytes(len(data) - 80) + data[-40:])
    report = tmp_path / "r.json"
    assert invoke("audit", str(corrupt), "--report", str(report), "--quiet").exit_code == 0
    assert "unreadable_file" in json.loads(report.read_text())["summary"]["skipped"]["reasons"]
    long = tmp_path / "long.txt"
    long.write_text("word " * 5000)
    assert invoke("audit", str(long), "--report", str(report), "--quiet").exit_code == 0
    assert json.loads(report.read_text())["summary"]["units_too_long_to_match"] == 1


def test_report_command_reads_a_streamed_findings_file(tmp_path):
    report, findings, page = tmp_path / "r.json", tmp_path / "f.jsonl", tmp_path / "p.html"
    assert invoke("audit", str(SAMPLES), "--report", str(report), "--findings", str(findings),
                  "--quiet").exit_code == 0
    assert invoke("report", str(report), "--html", str(page), "--input", str(SAMPLES)).exit_code == 0
    rows = [json.loads(line) for line in findings.read_text().splitlines()]
    html_text = page.read_text()
    assert html_text.count("data-start=") == len(rows)
    assert f'data-start="{rows[0]["start"]}" data-end="{rows[0]["end"]}"' in html_text


@pytest.mark.parametrize("sig,code,jobs", [("SIGINT", 130, "1"), ("SIGTERM", 143, "1"), ("SIGTERM", 143, "2")])
def test_interrupted_run_leaves_no_temporary_files(tmp_path, generated_docs, sig, code, jobs):
    import signal
    import subprocess
    import sys
    import time

    many = [dict(doc, id=f"{doc['id']}-{k}") for k in range(6) for doc in generated_docs]
    source = write_jsonl(tmp_path / "in.jsonl", many)
    out = tmp_path / "out" / "clean.jsonl.gz"
    out.parent.mkdir()
    out.write_bytes(b"previous")
    command = [sys.executable, "-m", "dedupe", "clean", str(source), "-o", str(out), "--findings",
               str(out.parent / "f.parquet"), "--quiet", "--jobs", jobs]
    scratch = tmp_path / "tmp"  # where the run's spools (and the workers' signature files) live
    scratch.mkdir()
    process = subprocess.Popen(command, stderr=subprocess.PIPE, env={**os.environ, "TMPDIR": str(scratch)})
    deadline = time.monotonic() + 30
    while process.poll() is None and time.monotonic() < deadline and \
            not any(p.name.startswith(".") for p in out.parent.iterdir()):
        time.sleep(0.02)  # wait until the run has started writing (its staging folder exists)
    process.send_signal(getattr(signal, sig))
    _, err = process.communicate(timeout=60)
    if process.returncode == 0:
        pytest.skip("the run finished before the signal arrived")
    assert process.returncode == code, err
    assert err.decode().count("dedupe:") == 1, err  # one message, from the parent only
    assert sorted(p.name for p in out.parent.iterdir()) == ["clean.jsonl.gz"]
    assert out.read_bytes() == b"previous"
    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize("jobs", ["1", "2"])  # with 2, a worker cannot write the signatures it made
def test_a_full_temporary_disk_is_named_as_such(tmp_path, generated_docs, jobs):
    import resource
    import subprocess
    import sys

    source = write_jsonl(tmp_path / "in.jsonl", generated_docs)
    limit = 64 * 1024  # bytes any one written file may hold: the signatures need more (Python ignores SIGXFSZ)

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    command = [sys.executable, "-m", "dedupe", "audit", str(source), "--report", str(tmp_path / "r.json"), "--quiet",
               "--jobs", jobs]
    done = subprocess.run(command, capture_output=True, text=True, preexec_fn=small_files, timeout=120)
    assert done.returncode == 4, done.stderr
    assert "TMPDIR" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "r.json").exists()


def test_report_command_errors_are_clean(tmp_path):
    partial = tmp_path / "partial.json"
    partial.write_text('{"summary": {}}')
    result = invoke("report", str(partial), "--html", str(tmp_path / "p.html"))
    assert result.exit_code == 2 and "lacks" in result.output
    report = tmp_path / "r.json"
    assert invoke("audit", str(SAMPLES / "wire-story"), "--report", str(report), "--quiet").exit_code == 0
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    result = invoke("report", str(report), "--html", str(blocker / "p.html"))
    assert result.exit_code == 4 and "cannot write" in result.output


def test_rules_are_checked_even_when_nothing_is_read(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert invoke("audit", str(empty), "--disable-rule", "nosuch", "--quiet").exit_code == 2
    config = tmp_path / "c.toml"
    config.write_text('[rules]\ndisable = [1]\n')
    assert invoke("audit", str(empty), "--config", str(config), "--quiet").exit_code == 2
    config.write_text('[rules.add]\nbroken = "(unclosed"\n')
    result = invoke("audit", str(empty), "--config", str(config), "--quiet")
    assert result.exit_code == 2 and "not a valid regular expression" in result.output


def test_clean_with_an_unreadable_parquet_input_writes_the_rest(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "bad.parquet").write_bytes(b"not parquet at all")
    write_jsonl(folder / "good.jsonl", records())
    out, findings = tmp_path / "out", tmp_path / "f.jsonl"
    result = invoke("clean", str(folder), "-o", str(out), "--findings", str(findings), "--quiet")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["good.jsonl"]
    assert findings.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_audit_and_clean_count_the_documents_they_leave_empty(tmp_path):
    menu = ["Home", "World news", "Contact the newsroom"]
    docs = [{"id": f"d{i}", "text": "\n".join(menu + [f"Story {i} about the harbour, told once."])} for i in range(4)]
    docs.append({"id": "chrome-only", "text": "\n".join(menu)})
    source, report = write_jsonl(tmp_path / "in.jsonl", docs), tmp_path / "r.json"
    for args in (("audit",), ("clean", "-o", str(tmp_path / "out.jsonl"))):
        result = invoke(args[0], str(source), *args[1:], "--report", str(report))
        assert result.exit_code == 0 and "emptied: 1" in result.output
        assert json.loads(report.read_text())["summary"]["documents_emptied"] == 1


def test_clean_writes_no_output_for_inputs_it_could_not_read(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    data = gzip.compress(b"".join(json.dumps(r).encode() + b"\n" for r in records(50)))
    (folder / "cut.jsonl.gz").write_bytes(data[:30])  # cut inside the gzip header: not one line read
    (folder / "half.jsonl.gz").write_bytes(data[: len(data) // 2])  # lines up to the cut are read
    pq.write_table(pa.table({"id": ["x"], "body": ["no text column"]}), folder / "notext.parquet")
    write_jsonl(folder / "junk.jsonl", [], [b"{broken\n", b"[1, 2]\n"])  # read to the end, every line skipped
    write_jsonl(folder / "good.jsonl", records())
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["clean", str(folder), "-o", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["good.jsonl", "half.jsonl.gz", "junk.jsonl"]
    assert (out / "junk.jsonl").read_bytes() == b""
    assert "no cleaned output for 2 input file(s)" in result.stderr
    assert str(folder / "cut.jsonl.gz") in result.stderr and str(folder / "notext.parquet") in result.stderr
    single = tmp_path / "single.parquet"
    result = CliRunner().invoke(main, ["clean", str(folder / "notext.parquet"), "-o", str(single), "--quiet"])
    assert result.exit_code == 0 and not single.exists() and "no cleaned output for 1" in result.stderr
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("stage", ["segment", "render_batch"])  # called in workers of the first, second pass
def test_a_dead_worker_is_reported_and_nothing_is_written(tmp_path, generated_docs, monkeypatch, stage):
    import os

    from dedupe import pipeline

    def die(*args, **kwargs):
        os._exit(9)  # as the out-of-memory killer ends a process

    source = write_jsonl(tmp_path / "in.jsonl", generated_docs[:600])
    monkeypatch.setattr(pipeline, stage, die)  # forked workers inherit it; with --jobs 2 this process never calls it
    out = tmp_path / "out.jsonl"
    result = invoke("clean", str(source), "-o", str(out), "--jobs", "2", "--quiet")
    assert result.exit_code == 7 and "worker process died or could not start" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_clean_makes_jsonl_records_from_spooled_lines_as_the_api_would(tmp_path, generated_docs, jobs):
    """`clean` writes each JSONL record from the input line the first pass spooled, without reading the
    input again; the bytes are those of the Python API's cleaned documents, whatever else the file holds."""
    from dedupe import Config
    from dedupe.pipeline import run

    docs = [dict(d, extra={"n": i, "odd": "é\u2028😀\"\\"}, title=None) for i, d in enumerate(generated_docs[:300])]
    docs[5] = dict(docs[4], id="copy-of-4", extra=[1, 2])  # a whole duplicate document: dropped
    lines = [json.dumps(d, ensure_ascii=i % 2 == 0).encode() + b"\n" for i, d in enumerate(docs)]
    lines[10:10] = [b"\n", b"{not json\n", b'{"id": "no-text", "text": null}\n']
    lines.insert(30, json.dumps(dict(docs[40], text="Another text under a repeated id.", extra=0)).encode() + b"\n")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.jsonl").write_bytes(b"\xef\xbb\xbf" + b"".join(lines) + b"\n  \n")
    (folder / "b.txt").write_text(generated_docs[300]["text"])
    write_jsonl(folder / "c.jsonl.gz", docs[:50])  # not seekable: the store keeps a copy of its lines
    out = tmp_path / "out"
    result = invoke("clean", str(folder), "-o", str(out), "--keep-original-field", "raw", "--jobs", jobs, "--quiet")
    assert result.exit_code == 0, result.output

    config = Config(keep_original_field="raw")
    cleaned = run(dio.read(dio.discover([str(folder)]), config)).documents
    kept = [c for c in cleaned if not c.dropped]
    assert len(kept) < len(cleaned) and any(c.text != c.document.text for c in kept)
    for name in ("a.jsonl", "c.jsonl.gz"):
        expected = b"".join(dio.jsonl_line(dio.output_record(c, config)) for c in kept
                            if c.document.path.endswith(name))
        assert dio.open_binary(out / name).read() == expected
    assert (out / "b.txt").read_text() == next(c.text for c in kept if c.document.path.endswith("b.txt"))
    assert (out / "b.txt").read_text() != generated_docs[300]["text"]


@pytest.mark.parametrize("where", ["file", "stdin"])
def test_second_pass_makes_records_from_stored_lines_without_reading_the_input(tmp_path, where):
    from dedupe import Config
    from dedupe.pipeline import InputError, analyse_corpus, render_again, second_pass

    config = Config()
    data = b"".join(json.dumps(r).encode() + b"\n" for r in records(4))
    source = tmp_path / "in.jsonl"
    source.write_bytes(data)
    inputs = dio.discover([str(source)]) if where == "file" else dio.Inputs([], [], True, None)

    def analysed():
        return analyse_corpus(dio.read(inputs, config, stdin=io.BytesIO(data), raw=True), config)

    analysis = analysed()
    out: list = []
    second_pass(analysis, render_again(analysis, None), out.append)
    assert [json.loads(c.record)["id"] for c in out] == ["r0", "r1", "r2", "r3"]
    assert all(c.text == "" and "Read more" not in json.loads(c.record)["text"] for c in out)
    if where == "file":  # lines stay in the input file, which must not change before the second pass
        analysis = analysed()
        source.write_bytes(data.replace(b"Read more", b"Read on"))
        with pytest.raises(InputError, match="changed between the two passes"):
            second_pass(analysis, render_again(analysis, None), out.append)


def test_every_config_flag_has_its_own_help_and_enumerations_are_choices():
    import dataclasses

    from dedupe.config import FIELD_CHOICES, FIELD_HELP, Config

    scalar = {f.name for f in dataclasses.fields(Config) if f.name not in ("actions", "disabled_rules", "extra_rules")}
    assert scalar == set(FIELD_HELP)  # a new field needs its line of help
    text = invoke("clean", "--help").output
    assert "Config field" not in text and "[line|paragraph|sentence]" in text and "[auto|bands|datasketch]" in text
    result = invoke("audit", "x", "--unit", "word")
    assert result.exit_code == 2 and "'word' is not one of" in result.output
    assert set(FIELD_CHOICES) <= scalar


def test_a_rerun_into_an_output_folder_tells_what_it_left_there(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    rng = random.Random(5)
    story = "\n".join(sentence(rng, 14) for _ in range(6))
    (folder / "a.txt").write_text(story)
    (folder / "b.txt").write_text("\n".join(sentence(rng, 14) for _ in range(6)))
    out = tmp_path / "out"
    out.mkdir()  # for the report, written there
    report = out / "report.json"
    args = ["clean", str(folder), "-o", str(out), "--quiet", "--report", str(report)]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    assert sorted(p.name for p in out.iterdir()) == ["a.txt", "b.txt", "report.json"]
    assert "not written by this run" not in first.stderr
    (folder / "b.txt").write_text(story)  # now a duplicate of a.txt: dropped, so no b.txt is written
    second = CliRunner().invoke(main, args)
    assert second.exit_code == 0, second.output
    assert "1 file(s) in" in second.stderr and "left as they were" in second.stderr
    assert "b.txt" in second.stderr and "report.json" not in second.stderr  # the run's own report is its output
    assert (out / "b.txt").read_text() != story  # untouched: the first run's cleaned text


def test_parquet_values_beyond_json_types_are_written_as_json_text(tmp_path):
    import datetime
    import decimal

    source = tmp_path / "in.parquet"
    pq.write_table(pa.table({
        "id": [1, 2], "text": ["A first story with its own words.", "Another story, other words again."],
        "date": [datetime.date(2026, 3, 9), None], "at": [datetime.datetime(2026, 3, 9, 1, 2, 3), None],
        "price": pa.array([decimal.Decimal("1.10"), None], pa.decimal128(5, 2)), "blob": [b"\x00\x01", None]}),
        source)
    result = CliRunner().invoke(main, ["clean", str(source), "-o", "-", "--quiet"])
    assert result.exit_code == 0, result.output
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first == {"id": 1, "text": "A first story with its own words.", "date": "2026-03-09",
                     "at": "2026-03-09T01:02:03", "price": "1.10", "blob": "AAE="}
    assert second["date"] is None and second["blob"] is None


def test_gzip_output_names_no_temporary_file(tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", records())
    out = tmp_path / "out.jsonl.gz"
    assert invoke("clean", str(source), "-o", str(out), "--quiet").exit_code == 0
    header = out.read_bytes()[:10]
    assert header[:2] == b"\x1f\x8b" and not header[3] & 0x08  # FLG.FNAME unset: no file name recorded
    assert [json.loads(line)["id"] for line in gzip.decompress(out.read_bytes()).splitlines()] == ["r0", "r1", "r2"]


@pytest.mark.parametrize("compress", [gzip.compress, lambda data: zstandard.ZstdCompressor().compress(data)])
def test_compressed_jsonl_on_stdin_is_read_as_jsonl(tmp_path, compress):
    plain = b"".join(json.dumps(r).encode() + b"\n" for r in records())
    expected = invoke("clean", "-", "-o", "-", "--quiet", input=plain)
    got = invoke("clean", "-", "-o", "-", "--quiet", input=compress(plain))
    assert got.exit_code == 0 and got.stdout == expected.stdout and got.stdout.count("\n") == 3


def test_keep_original_field_on_txt_input_says_it_is_ignored(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("A story of its own, with words.\n")
    result = invoke("clean", str(folder), "-o", str(tmp_path / "out"), "--keep-original-field", "raw", "--quiet")
    assert result.exit_code == 0 and "--keep-original-field is ignored for .txt inputs" in result.stderr
    assert (tmp_path / "out" / "a.txt").read_text() == "A story of its own, with words.\n"
    jsonl = write_jsonl(tmp_path / "in.jsonl", records())
    result = invoke("clean", str(jsonl), "-o", str(tmp_path / "o.jsonl"), "--keep-original-field", "raw", "--quiet")
    assert result.exit_code == 0 and "ignored" not in result.stderr


def test_missing_folders_of_every_output_are_made(tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", records())
    new = tmp_path / "new"
    paths = [new / "a" / "out.jsonl", new / "b" / "r.json", new / "c" / "f.jsonl", new / "d" / "r.html"]
    result = invoke("clean", str(source), "-o", str(paths[0]), "--report", str(paths[1]), "--findings",
                    str(paths[2]), "--html", str(paths[3]), "--quiet")
    assert result.exit_code == 0, result.output
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)

"""Command line: `dedupe audit`, `dedupe clean` and `dedupe report`, over the pipeline's two passes.

Options are generated from the `Config` dataclass, so every knob of the
Python API has a flag with the same name. What lives here is what only a
command line needs: reading files twice, streaming outputs, exit codes.

Exit codes: the `EXIT_*` constants below, listed for people in `main`'s help
(`dedupe --help`) and in README; a crash would be 1.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import sys
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, NamedTuple

import click

from dedupe import html
from dedupe.config import ACTIONS, CATEGORIES, FIELD_CHOICES, FIELD_HELP, Config, ConfigError
from dedupe.document import CleanedDocument, Document
from dedupe.io import (
    InputChanged,
    Inputs,
    OutputError,
    OutputRefused,
    OutputWriter,
    discover,
    inside_input,
    kind_of,
    made_folder,
    read,
    spooled_stdin,
)
from dedupe.pipeline import Analysis, InputError, Render, analyse_corpus, render_again, second_pass
from dedupe.report import FindingsFile, FindingsSpool, Report, skip_reasons, summary_lines, top_boilerplate

EXIT_USAGE, EXIT_INPUT, EXIT_OUTPUT, EXIT_FAIL_ABOVE, EXIT_SPARK, EXIT_WORKER = 2, 3, 4, 5, 6, 7
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143
FINDINGS_SUFFIXES = (".jsonl", ".jsonl.gz", ".jsonl.zst", ".parquet")

_SKIP_FIELDS = {"actions", "disabled_rules", "extra_rules"}


def config_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add one option per scalar Config field (None default: only given flags override)."""
    for f in reversed(dataclasses.fields(Config)):
        if f.name in _SKIP_FIELDS:
            continue
        flag = f.name.replace("_", "-")
        kind = str(f.type)
        help_text = f"{FIELD_HELP[f.name]} [default: {'none' if f.default is None else f.default}]"
        if kind == "bool":
            func = click.option(f"--{flag}/--no-{flag}", f.name, default=None, help=help_text)(func)
        else:
            kinds: dict[str, Any] = {"int": int, "float": float}
            choices = FIELD_CHOICES.get(f.name)
            kind_of_value = click.Choice(choices) if choices else kinds.get(kind, str)
            func = click.option(f"--{flag}", f.name, type=kind_of_value, default=None, help=help_text)(func)
    return func


def html_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The HTML report's options, shared by audit, clean and report."""
    options = [
        click.option("--html", "html_path", type=click.Path(dir_okay=False),
                     help="Write a self-contained HTML report here (opens offline)."),
        click.option("--html-max-docs", type=click.IntRange(0), default=html.DEFAULT_MAX_DOCS, show_default=True,
                     help="Documents shown in full in the HTML report."),
        click.option("--html-max-clusters", type=click.IntRange(1), default=html.DEFAULT_MAX_CLUSTERS,
                     show_default=True, help="Rows per table and syndication clusters in the HTML report."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def common_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.argument("inputs", nargs=-1, required=True),
        click.option("--config", "config_file", type=click.Path(dir_okay=False), help="TOML configuration file."),
        click.option("--action", "actions", multiple=True, metavar="CATEGORY=ACTION",
                     help=f"Policy per category; actions: {', '.join(ACTIONS)}."),
        click.option("--disable-rule", "disabled", multiple=True, metavar="NAME", help="Turn a template rule off."),
        click.option("--report", "report_path", type=click.Path(dir_okay=False), help="Write the JSON report here."),
        click.option("--findings", "findings_path", type=click.Path(dir_okay=False),
                     help="Write findings one per line (.jsonl, .jsonl.gz, .jsonl.zst) or row (.parquet)."),
        click.option("--fail-above", type=click.FloatRange(0, 1), help="Exit 5 if the duplicated share exceeds this."),
        click.option("--jobs", type=click.IntRange(1, 256), default=1, show_default=True,
                     help="Worker processes for signatures (output is the same for any value)."),
        click.option("--quiet", is_flag=True, help="No summary and no progress bar."),
        click.option("--engine", type=click.Choice(["local", "spark"]), default="local", show_default=True,
                     help="Run on this machine, or on Apache Spark (pip install 'dedupe-news[spark]')."),
        click.option("--spark-master", metavar="URL", help="Spark master (default: local[*], or spark-submit's)."),
        click.option("--partitions", type=click.IntRange(0), default=0,
                     help="Spark partitions (0: the cluster's default parallelism)."),
        click.option("--spark-conf", multiple=True, metavar="KEY=VALUE",
                     help="A Spark setting, e.g. spark.driver.memory=8g (repeatable)."),
    ]
    for option in reversed(options):
        func = option(func)
    return config_options(html_options(func))


def _warn_ignored(engine: _Engine) -> None:
    if engine.name == "spark" and engine.jobs != 1:
        click.echo("dedupe: --jobs is for the local engine; Spark's parallelism is --partitions", err=True)
    if engine.name == "local" and (engine.master or engine.partitions or engine.spark_conf):
        click.echo("dedupe: --spark-master, --partitions and --spark-conf need --engine spark; ignored", err=True)


def _key_value(item: str, option: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"{option} {item!r}: expected KEY=VALUE")
    return key.strip(), value.strip()


def _config(config_file: str | None, actions: tuple[str, ...], disabled: tuple[str, ...],
            overrides: dict[str, Any]) -> Config:
    parsed: dict[str, str] = {}
    for item in actions:
        category, _, action = item.partition("=")
        if category not in CATEGORIES or action not in ACTIONS:
            raise ConfigError(f"--action {item!r}: expected CATEGORY=ACTION with CATEGORY in {', '.join(CATEGORIES)}"
                              f" and ACTION in {', '.join(ACTIONS)}")
        parsed[category] = action
    given = {k: v for k, v in overrides.items() if v is not None}  # flags win over the file, checked with it
    base = Config.from_toml(config_file, **given) if config_file else Config(**given)
    data = dataclasses.asdict(base)
    data["actions"] = {**base.actions, **parsed}
    data["disabled_rules"] = sorted(set(base.disabled_rules) | set(disabled))
    return Config(**data)


def _execute(inputs: tuple[str, ...], out: str | None, config_file: str | None, actions: tuple[str, ...],
             disabled: tuple[str, ...], report_path: str | None, findings_path: str | None,
             fail_above: float | None, jobs: int, quiet: bool, overrides: dict[str, Any],
             html_path: str | None, html_max_docs: int, html_max_clusters: int) -> None:
    spark_conf = overrides.pop("spark_conf")
    try:
        engine = _Engine(overrides.pop("engine"), overrides.pop("spark_master"), overrides.pop("partitions"), jobs,
                         dict(_key_value(item, "--spark-conf") for item in spark_conf))
        config = _config(config_file, actions, disabled, overrides)
        if out is None:  # audit writes no record, so no record's field can clash with the original's
            config = dataclasses.replace(config, keep_original_field=None)
        _warn_ignored(engine)
        found = discover(inputs)
        if config.keep_original_field and any(item.kind == "txt" for item in found.files):
            click.echo("dedupe: warning: --keep-original-field is ignored for .txt inputs: their cleaned .txt "
                       "files have no field to keep the original in", err=True)
        if engine.name == "spark":  # before stdin is spooled
            from dedupe import spark

            spark.check_inputs(found)
        _check_paths(found, [p for p in (report_path, findings_path, html_path) if p], findings_path)
    except (ConfigError, FileNotFoundError) as error:
        click.echo(f"dedupe: {error}", err=True)
        sys.exit(EXIT_USAGE)
    signal.signal(signal.SIGTERM, _terminated)
    try:
        with spooled_stdin(found) as found:
            report, documents = _two_passes(found, config, out, findings_path, engine,
                                            not quiet and sys.stderr.isatty(), keep_texts=bool(html_path),
                                            json_report=bool(report_path), others=(report_path, html_path))
        if report_path:
            if findings_path:  # the report names its findings file relative to itself
                here = Path(report_path).resolve().parent
                report.findings_file = os.path.relpath(Path(findings_path).resolve(), here)
            try:
                report.write_json(report_path)
            finally:
                if report.spool is not None:
                    report.spool.close()
                    report.spool = None
        if html_path:
            html.write_html(html_path, report, documents, html_max_docs, html_max_clusters)
    except ConfigError as error:
        click.echo(f"dedupe: {error}", err=True)
        sys.exit(EXIT_USAGE)
    except InputError as error:
        click.echo(f"dedupe: bad input{'' if isinstance(error, InputChanged) else ' (--strict)'}: {error}", err=True)
        sys.exit(EXIT_INPUT)
    except OutputRefused as error:  # before any work
        click.echo(f"dedupe: {error}", err=True)
        sys.exit(EXIT_USAGE)
    except (OutputError, OSError) as error:
        click.echo(f"dedupe: cannot write output: {error}", err=True)
        sys.exit(EXIT_OUTPUT)
    except BrokenProcessPool as error:
        click.echo(f"dedupe: a worker process died or could not start ({error}; perhaps out of memory); nothing "
                   f"was written; try fewer --jobs than {engine.jobs}", err=True)
        sys.exit(EXIT_WORKER)
    except Exception as error:
        if engine.name != "spark":
            raise
        from dedupe.spark import is_spark_error, reason

        if is_spark_error(error):  # in either pass: the second streams from Spark
            click.echo(f"dedupe: the Spark engine failed: {reason(error)}", err=True)
            sys.exit(EXIT_SPARK)
        raise
    except KeyboardInterrupt:
        click.echo("dedupe: interrupted; outputs were left as they were before the run", err=True)
        sys.exit(EXIT_INTERRUPTED)
    if not quiet:
        print_summary(report, found.ignored, report_path)
    if report.summary["documents"] == 0:  # even with --quiet: an empty run is most often a wrong path or field
        skipped = report.summary["skipped"]["count"]
        click.echo(f"dedupe: warning: no documents were read ({skipped} skipped, {len(found.ignored)} file(s) "
                   "ignored); check the input paths and --text-field", err=True)
    elif quiet and report.summary["skipped"]["count"]:  # even with --quiet: skipped input is missing from the output
        click.echo(f"dedupe: warning: {_skipped_line(report.summary['skipped'], report_path)}", err=True)
    if fail_above is not None and report.duplicated_share > fail_above:
        click.echo(f"dedupe: duplicated share {report.duplicated_share:.2%} is above "
                   f"--fail-above {fail_above:.2%}", err=True)
        sys.exit(EXIT_FAIL_ABOVE)


def _terminated(signum: int, frame: Any) -> None:
    """SIGTERM unwinds like Ctrl-C, so temporary files are removed and outputs stay as they were."""
    click.echo("dedupe: terminated; outputs were left as they were before the run", err=True)
    raise SystemExit(EXIT_TERMINATED)


def _check_paths(found: Inputs, outputs: list[str], findings_path: str | None) -> None:
    """Refuse, before any work, report files that would overwrite an input or cannot be written."""
    sources = {item.file.resolve() for item in found.files}
    for path in outputs:
        target = Path(path).resolve()
        if target in sources:
            raise FileNotFoundError(f"{path} is an input; choose another output path")
        if target.is_dir():
            raise FileNotFoundError(f"{path} is a folder, not a file")
        folder = inside_input(target, found) if kind_of(target) else None  # a file a later run would read
        if folder is not None:
            raise FileNotFoundError(f"{path} is inside the input folder {folder}, where the next run would read "
                                    "it as input; choose a path outside it")
    if findings_path and not findings_path.lower().endswith(FINDINGS_SUFFIXES):
        raise FileNotFoundError(f"--findings {findings_path}: use one of {', '.join(FINDINGS_SUFFIXES)}")
    for path in outputs:  # last, so that a path refused above leaves no folder made for it
        parent = Path(path).resolve().parent
        problem = made_folder(parent)  # missing folders are made, as for -o
        if problem is not None:
            raise FileNotFoundError(f"{path}: cannot write to {parent}: {problem}")


def _two_passes(found: Inputs, config: Config, out: str | None, findings_path: str | None, engine: _Engine,
                show: bool, keep_texts: bool = False, json_report: bool = False,
                others: tuple[str | None, ...] = ()) -> tuple[Report, list[Document] | None]:
    """Read the inputs twice: signatures and decisions first, then cleaned text and findings, streamed.
    (`others`: the run's other output files, which an output folder may hold.)

    With `keep_texts` (for the HTML report) the documents and all findings are also kept in memory.
    Otherwise findings are not held: they go to the findings file, or to a spool on disk for the JSON
    report (`json_report`), or, when neither is written, only into the report's counters.
    """
    writer = OutputWriter(found, out, config) if out is not None else None
    # Parquet rows are written from their fields, read again; JSONL records from their lines in the store.
    records = writer is not None and not keep_texts and all(item.kind != "parquet" for item in found.files)
    try:
        analysis, render = _first_pass(found, config, engine, show, records)
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    sink = FindingsFile(findings_path) if findings_path else None
    spool = FindingsSpool() if json_report and sink is None and not keep_texts else None
    documents: list[Document] | None = [] if keep_texts else None

    def on_cleaned(cleaned: CleanedDocument) -> None:
        if documents is not None:
            documents.append(cleaned.document)
        if writer is not None:
            writer.write(cleaned)

    try:
        if sink is not None:
            sink.__enter__()
        report = second_pass(analysis, render, on_cleaned, keep_findings=keep_texts, sink=sink or spool,
                             findings_file=findings_path, texts=writer is not None or keep_texts)
        report.spool = spool
        if writer is not None:
            writer.commit(analysis.skips.files)
            if writer.omitted:
                click.echo(f"dedupe: warning: no cleaned output for {len(writer.omitted)} input file(s) that could "
                           f"not be read (see summary.skipped): {', '.join(writer.omitted[:5])}"
                           f"{', ...' if len(writer.omitted) > 5 else ''}", err=True)
            ours = {Path(p).resolve() for p in (findings_path, *others) if p}
            if left := [str(p.relative_to(writer.target)) for p in writer.left if p not in ours]:
                click.echo(f"dedupe: warning: {len(left)} file(s) in {out} were not written by this run and were "
                           f"left as they were (an earlier run's output?): {', '.join(left[:5])}"
                           f"{', ...' if len(left) > 5 else ''}", err=True)
            writer = None
    except BaseException as error:
        if writer is not None:
            writer.abort()
        if sink is not None:
            sink.__exit__(type(error), error, None)
        if spool is not None:
            spool.close()
        analysis.release()  # when the second pass did not start (it deletes the spools itself)
        raise
    if sink is not None:
        sink.__exit__(None, None, None)
    return report, documents


class _Engine(NamedTuple):
    """Where the first pass runs: `--engine`, `--spark-master`, `--partitions`, `--jobs`, `--spark-conf`."""

    name: str
    master: str | None
    partitions: int
    jobs: int
    spark_conf: dict[str, str]


def _first_pass(found: Inputs, config: Config, engine: _Engine, show: bool, records: bool
                ) -> tuple[Analysis, Render]:
    """The first pass, and the engine's second pass to run after it (which reads the documents again, or,
    locally with `records`, makes the output records from the input lines in the document store)."""
    if engine.name == "spark":
        from dedupe import spark

        try:
            return spark.first_pass(found, config, engine.master, engine.partitions, engine.spark_conf)
        except spark.SparkUnavailable as error:
            raise ConfigError(str(error)) from error
    documents = read(found, config, raw=True)  # the workers parse the JSON
    if not show:
        analysis = analyse_corpus(documents, config, engine.jobs)
    else:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        with Progress(SpinnerColumn(), TextColumn("signing {task.completed} documents"), TimeElapsedColumn(),
                      transient=True, console=_console()) as bar:
            task = bar.add_task("sign", total=None)
            analysis = analyse_corpus(documents, config, engine.jobs, progress=lambda n: bar.advance(task, n))
    return analysis, render_again(analysis, None if records else read(found, config), engine.jobs)


def _console() -> Any:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)  # a piped summary keeps its lines whole


def _skipped_line(skipped: dict[str, Any], report_path: str | None) -> str:
    """How many inputs were skipped and why, and where they are listed."""
    where = "see summary.skipped in the report" if report_path else "pass --report to list them"
    return f"skipped inputs: {skipped['count']} ({skip_reasons(skipped)}); {where}"


def print_summary(report: Report, ignored: list[str], report_path: str | None) -> None:
    """A compact table on stderr: per category counts and characters, top boilerplate, time."""
    from rich.table import Table

    console = _console()
    s = report.summary
    table = Table(title=f"dedupe: {s['documents']:,} documents, {s['units']:,} units, "
                        f"{s['characters']:,} characters", title_justify="left")
    for column in ("category", "findings", "characters", "documents"):
        table.add_column(column, justify="left" if column == "category" else "right")
    for category, findings, chars, docs in summary_lines(report):
        table.add_row(category, f"{findings:,}", f"{chars:,}", f"{docs:,}")
    console.print(table)
    console.print(f"duplicated share of characters: {s['duplicated_share']:.2%}   "
                  f"removed: {s['characters_removed']:,}   documents dropped: {s['duplicate_documents_dropped']}   "
                  + (f"emptied: {s['documents_emptied']}   " if s.get("documents_emptied") else "")
                  + f"time: {s['wall_time_s']:.2f} s")
    top = top_boilerplate(report)
    if top:
        console.print("top boilerplate and template lines:")
        for text, size, docs in top:
            console.print(f"  {size:>5} x in {docs:>4} docs  {text[:80]}", markup=False)
    skipped = s["skipped"]
    if skipped["count"]:
        console.print(_skipped_line(skipped, report_path), markup=False)
        if skipped["items"]:
            first = skipped["items"][0]
            console.print(f"  e.g. {first['location']}: {first['detail']}", markup=False)
    if ignored:
        console.print(f"ignored {len(ignored)} file(s) that are not .txt/JSONL/Parquet, e.g. {ignored[0]}")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(package_name="dedupe-news", prog_name="dedupe")
def main() -> None:
    """Find repeats, boilerplate, templates, syndicated copy and duplicate documents in scraped text.

    \b
    Exit codes: 0 done; 2 usage or configuration error, missing input, or an
    output refused before any work; 3 bad input under --strict; 4 an output
    could not be written; 5 --fail-above exceeded; 6 the Spark engine failed;
    7 a worker process died; 130 interrupted; 143 terminated.
    """


@main.command()
@common_options
def audit(inputs: tuple[str, ...], config_file: str | None, actions: tuple[str, ...], disabled: tuple[str, ...],
          report_path: str | None, findings_path: str | None, html_path: str | None, html_max_docs: int,
          html_max_clusters: int, fail_above: float | None, jobs: int, quiet: bool, **overrides: Any) -> None:
    """Read INPUTS (folders of .txt, JSONL(.gz/.zst), Parquet, - for stdin) and report; write no text."""
    _execute(inputs, None, config_file, actions, disabled, report_path, findings_path, fail_above, jobs, quiet,
             overrides, html_path, html_max_docs, html_max_clusters)


@main.command()
@common_options
@click.option("-o", "--output", "out", required=True,
              help="Output: a file for one input file, a folder for folders or several inputs, - for stdout.")
def clean(inputs: tuple[str, ...], out: str, config_file: str | None, actions: tuple[str, ...],
          disabled: tuple[str, ...], report_path: str | None, findings_path: str | None, html_path: str | None,
          html_max_docs: int, html_max_clusters: int, fail_above: float | None, jobs: int, quiet: bool,
          **overrides: Any) -> None:
    """Write INPUTS without their boilerplate and repeats to OUTPUT, in the same format."""
    _execute(inputs, out, config_file, actions, disabled, report_path, findings_path, fail_above, jobs, quiet,
             overrides, html_path, html_max_docs, html_max_clusters)


@main.command("report")
@click.argument("report_file", metavar="REPORT.json", type=click.Path(dir_okay=False))
@click.option("--input", "inputs", multiple=True, metavar="INPUT",
              help="Re-read the texts the report was made from (repeatable), for the per-document view.")
@html_options
def report_command(report_file: str, inputs: tuple[str, ...], html_path: str | None, html_max_docs: int,
                   html_max_clusters: int) -> None:
    """Render REPORT.json (from --report) as a self-contained HTML page (--html is required)."""
    if not html_path:
        raise click.UsageError("--html OUT.html is required (the only output for now).")
    try:
        report = html.load_report(report_file)
        documents = html.read_documents(inputs, report) if inputs else None
    except (ValueError, FileNotFoundError) as error:  # ConfigError is a ValueError
        click.echo(f"dedupe: {error}", err=True)
        sys.exit(EXIT_USAGE)
    if documents is not None and (mismatch := html.texts_mismatch(report, {d.id for d in documents})):
        click.echo(f"dedupe: warning: {mismatch} (is --input what the report was made from?)", err=True)
    try:
        html.write_html(html_path, report, documents, html_max_docs, html_max_clusters)
    except (OutputError, OSError) as error:
        click.echo(f"dedupe: cannot write output: {error}", err=True)
        sys.exit(EXIT_OUTPUT)

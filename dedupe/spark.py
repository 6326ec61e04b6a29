"""The same detection on Apache Spark, for corpora that outgrow one machine.

Spark runs every stage that grows with the corpus text, each with the local
engine's own functions applied per partition:

- reading, each input file in one task (`io.read_file`; a big plain JSONL
  file in line-aligned ranges, `io.read_range`), and
  admission (`pipeline.checked`; duplicate ids by a group-by);
- `pipeline.analyse` (segment, normalise, rules, shingle, sign) on batches of
  `BATCH_DOCS` consecutive documents;
- distinct signatures by a group-by on their 64-bit key, numbered in order of
  first appearance like `index.distinct_keys`;
- LSH band keys (`index.row_keys`), hash-partitioned by (band, key) so that
  each bucket is whole in one task, and its candidate pairs by
  `index.bucket_pairs` over the sorted partition, bucket cap included;
- verification (`cluster.verify`) and connected components by the
  large-star/small-star algorithm (Kiveris et al., 2014): no edge is
  collected to the driver, and every component is labelled by its smallest
  node, as `cluster.components` does.

Every document gets a stable order key when it is read (file rank, range of
the file, position in the range), so canonical choices never depend on
partitioning. Each range's units then become one table where they were
analysed (`ExecutorUnits`), with its per-document sums and template
statistics. `decide`'s stages run on the executors too (`ExecutorDecisions`),
each calling the local engine's stage functions on a partition that holds
what the stage needs whole: the interesting units (members of clusters of
two or more, rule and learned-template matches) stay a DataFrame; the content
clusters' families and targets and the rules' targets are found per
partition of whole clusters or rules; they are joined into each range's
marks, with which the range's task finds its zones, headline scores and
outcomes; headlines are chosen per partition of whole cross groups, then of
whole documents; duplicate documents and surviving copies are found per
partition of whole clusters again, and each range's plans are made in its
task. The driver holds sums per site, the near-duplicate pairs of documents
and the documents they name, never a unit, a signature, a text or a table
of every document. The second pass runs on the executors again
(`render_on_executors`): each range of documents is cleaned and its findings
made by `render.render_batch` with its plans (an RDD zipped with the
ranges); the driver merges the report's counters, receives the findings
(and the cleaned documents only when it writes them) and spools the
clusters' report entries, made on the executors, to a temporary file
(`SpooledClusters`). The output is therefore the local engine's, byte for
byte, for any number of partitions (tested with 1, 2 and 7).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import operator
import os
import pickle
import shutil
import struct
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from dedupe import cluster, index, rules
from dedupe.config import Config, ConfigError
from dedupe.decide import (
    _BIT,
    _CHROME,
    PRECEDENCE,
    Decisions,
    DocumentTexts,
    Judge,
    Marks,
    Range,
    RangeOutcomes,
    Targets,
    _coverage_pairs,
    _distinct_docs,
    _groups,
    _keep_a_surviving_copy,
    _outcomes,
    _policy,
    _template_targets,
    cluster_targets,
    contested,
    dropped_documents,
    family_rows,
    headline_carriers,
    headline_choice,
    headline_proposals,
    opening_alone,
    range_facts,
    range_outcomes,
    range_scores,
    reprint_candidates,
    text_judge,
    too_long,
    unit_hits,
    unit_keys,
    unmatched_chars,
)
from dedupe.document import (
    FILE_REASONS,
    SKIPS_LISTED,
    CleanedDocument,
    Document,
    Skip,
    Skips,
    SomeDocuments,
    UnitTable,
)
from dedupe.io import (
    Inputs,
    count_lines,
    line_ranges,
    output_record,
    read_range,
    record_to_document,
)
from dedupe.pipeline import (
    BATCH_DOCS,
    DUPLICATE_ID,
    Analysis,
    Render,
    analyse,
    checked,
    duplicate_detail,
    record_origin,
    rule_codes,
    second_pass,
    skip_of,
    strict_error,
    template_stats,
)
from dedupe.render import DuplicateNotes, Note, Rendered, assemble, flag_rows, render_batch, without_texts
from dedupe.report import TOP_LINES, FindingsSpool, Report, Tally, compact, member_list

if TYPE_CHECKING:
    import pandas as pd
    from pyspark import RDD
    from pyspark.sql import DataFrame, SparkSession

# A node (distinct signature) is numbered by its first unit, document order * START_SPAN + start: ordered
# like index.distinct_keys' numbering (first appearance), so bucket caps pick the same star centres and every
# component has the same smallest member. Documents must be shorter than START_SPAN characters.
START_SPAN = 1 << 26
MAX_ROUNDS = 100  # large-star/small-star needs O(log^2 n) rounds; this is far beyond any real graph
# The (band, key) rows of the candidate-pair stage are spread over enough partitions that each holds about this
# many or fewer: a task sorts its rows in memory, at its peak about 100 bytes a row besides the rows
# themselves (101 for 4 million random rows, measured with tracemalloc).
PAIR_ROWS = 4_000_000
RANGE_CHARS = 32_000_000  # admitted documents are cut into ranges of consecutive documents of about this size
# The report's cluster entries are sorted into partitions of about this many characters of members or fewer
# (more partitions than --partitions when needed): the driver reads them one partition at a time.
ENTRY_CHARS = 16_000_000

# Arrow batches keep Spark's default size (10,000 rows): smaller ones cost more in the pair stages than they
# save in the signing stage, which cuts its batches to BATCH_DOCS documents anyway.
ARROW = {"spark.sql.execution.arrow.pyspark.enabled": "true"}
UNIT_COLUMNS = ("doc", "start", "end", "words", "mode", "rule", "tprefix", "ttail", "title", "sentence_end",
                "label_line")
UNIT_SCHEMA = ("kind byte, doc long, start long, end long, words int, mode byte, sigkey long, rule string, "
               "tprefix string, ttail string, title boolean, sentence_end boolean, label_line boolean, sig binary, "
               "units int")


class SparkUnavailable(Exception):
    """Spark cannot start here (pyspark not installed, or no Java); the message says what to install."""


def session(master: str | None = None, partitions: int = 0, conf: dict[str, str] | None = None,
            app: str = "dedupe") -> SparkSession:
    """A Spark session whose Python workers run this interpreter (local[*] unless a master is given).

    `partitions` also sets the shuffle partitions (Spark's default of 200 is
    slow for small inputs: 2.5x on one document); without it, a session that
    this starts shuffles over the default parallelism unless `conf` sets the
    shuffle partitions. `conf` sets any Spark setting. In local mode the
    driver is also the executor, so unless `conf` says otherwise it gets half
    of this machine's memory (at most 8 GiB) instead of Spark's 1 GiB. The
    driver's log prints errors only (`_quiet_logging`, for any master). These
    and the master only take effect when this starts the JVM, and are left
    alone when a JVM runs already (under spark-submit, its --conf stands).
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as err:
        raise SparkUnavailable("the Spark engine needs pyspark: pip install 'dedupe-news[spark]'") from err
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        raise SparkUnavailable("the Spark engine needs Java 17 or newer (java on PATH or JAVA_HOME); none found")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    settings = {**ARROW, "spark.ui.showConsoleProgress": "false"}
    if partitions:
        settings["spark.sql.shuffle.partitions"] = str(partitions)
    from pyspark import SparkContext

    # With a JVM already running (another session, or spark-submit's), its driver settings are fixed: setting
    # them again would only make the session's conf misreport them.
    running = SparkContext._active_spark_context is not None or "PYSPARK_GATEWAY_PORT" in os.environ
    if not running:  # this process starts the driver's JVM: its log prints errors only, whatever the master
        settings["spark.driver.extraJavaOptions"] = f"-Dlog4j2.configurationFile=file:{_quiet_logging()}"
    if not running and (master or "local").startswith("local"):
        half = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2 >> 20
        settings["spark.driver.memory"] = f"{max(1024, min(half, 8192))}m"
    settings.update(conf or {})
    builder = SparkSession.builder.appName(app)
    for key, value in settings.items():
        builder = builder.config(key, value)
    if master:
        builder = builder.master(master)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    if not running and not spark.sparkContext.getConf().contains("spark.sql.shuffle.partitions"):
        spark.conf.set("spark.sql.shuffle.partitions", str(spark.sparkContext.defaultParallelism))
    return spark


def is_spark_error(error: BaseException) -> bool:
    """True for failures raised by Spark or its Java gateway (not for dedupe's own exceptions)."""
    if "pyspark" not in sys.modules:
        return False
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException

    return isinstance(error, (Py4JError, PySparkException))


# Only errors, on stderr. Spark's own loggers get the root's level explicitly: a shell (PySpark's gateway counts
# as one) whose logger has no level of its own is set to WARN, with two lines on stderr saying so.
_QUIET_LOG4J2 = (
    "rootLogger.level = error\nrootLogger.appenderRef.stderr.ref = stderr\n"
    "logger.spark.name = org.apache.spark\nlogger.spark.level = error\n"
    "appender.console.type = Console\nappender.console.name = stderr\n"
    "appender.console.target = SYSTEM_ERR\nappender.console.layout.type = PatternLayout\n"
    "appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n\n"
)


def _quiet_logging() -> str:
    """The path of a log4j2 configuration that prints only errors (`_QUIET_LOG4J2`), written once per content:
    Spark's start-up warnings are not the user's business."""
    digest = hashlib.sha1(_QUIET_LOG4J2.encode()).hexdigest()[:12]
    path = os.path.join(tempfile.gettempdir(), f"dedupe-{os.getuid()}-log4j2-{digest}.properties")
    if not os.path.exists(path):
        with open(path + f".{os.getpid()}", "w", encoding="utf-8") as out:
            out.write(_QUIET_LOG4J2)
        os.replace(path + f".{os.getpid()}", path)
    return path


def reason(error: BaseException) -> str:
    """The line of a Spark failure that says why (the Java or Python exception), not its stack."""
    lines = [line.strip(" \t:") for line in str(error).splitlines()]
    causes = [line for line in lines if not line.startswith(("at ", "An error occurred"))
              and ("Error" in line or "Exception" in line)]
    found = (causes[0] if causes else next((line for line in lines if line), type(error).__name__))[:500]
    if "OutOfMemoryError" in str(error):
        found += " (give Spark more memory, e.g. --spark-conf spark.driver.memory=16g, or more partitions)"
    elif "stopped SparkContext" in str(error):  # what is left to say once a master never answered
        found += " (Spark stopped the application: is the master in --spark-master reachable? see the log above)"
    return found


# ---------------------------------------------------------------- documents in


def keyed_files(spark: SparkSession, inputs: Inputs, config: Config, partitions: int) -> RDD:
    """(order key, Document or Skip) for every record of the input files, in input order.

    Each file is read by one task with the local engine's reader, except plain
    JSONL files over RANGE_CHARS bytes: they are cut at line starts into
    ranges that tasks read on their own (`io.line_ranges`, `io.read_range`),
    after a first job has counted each range's lines, so that records keep
    their line numbers. The key is (file rank, range, position in the range).
    The executors must see the same paths as the driver (a shared
    filesystem); a file they cannot open is an `unreadable_file` skip, which
    `--strict` turns into an error. For HDFS or object stores, read with
    Spark and call `clean_frame`.
    """
    context = spark.sparkContext
    pieces = [(rank, part, item, start, end) for rank, item in enumerate(inputs.files)
              for part, (start, end) in enumerate(line_ranges(item, RANGE_CHARS))]
    cut = [piece for piece in pieces if piece[4] >= 0]
    lines = context.parallelize(cut, max(1, min(len(cut), partitions))).map(
        lambda piece: count_lines(piece[2], piece[3], piece[4])).collect() if cut else []
    first_line, seen = {}, {}
    for (rank, part, *_), count in zip(cut, lines):
        first_line[(rank, part)] = 1 + seen.get(rank, 0)
        seen[rank] = seen.get(rank, 0) + count
    work = [(rank, part, item, start, end, first_line.get((rank, part), 1)) for rank, part, item, start, end in pieces]
    rdd = context.parallelize(work, max(1, min(len(work), partitions)))
    return rdd.flatMap(lambda piece: _read_piece(piece, config))


# A skip reason that only the Spark readers give: a ConfigError that a record raised in a task (one that already
# has the `keep_original_field` field), carried to the driver as data and raised there by `admit`, in input
# order as the local engine would raise it, without a task failure and its logged traceback.
REFUSED = "refused"


def _read_piece(piece: tuple[int, int, Any, int, int, int], config: Config
                ) -> Iterator[tuple[tuple[int, int, int], Document | Skip]]:
    """(order key, record) of one file or line range of a file (`keyed_files`)."""
    rank, part, item, start, end, first = piece
    pos = -1
    try:
        for pos, record in enumerate(read_range(item, start, end, first, config)):
            yield (rank, part, pos), record
    except ConfigError as err:
        yield (rank, part, pos + 1), Skip(str(item.file), REFUSED, str(err))


def keyed_frame(frame: DataFrame, config: Config) -> RDD:
    """(order key, Document or Skip) for every row of a DataFrame, in its row order.

    That order is the input order which breaks ties between undated copies.
    A frame read from files may order its rows differently on another
    cluster (file splits depend on its settings); sort it by a column first
    (`frame.orderBy("url")`) when the canonical copy must not depend on that.
    """
    def to_document(row_index: tuple[Any, int]) -> tuple[tuple[int, int, int], Document | Skip]:
        row, position = row_index
        origin = record_origin(position)
        try:
            return (0, 0, position), record_to_document(row.asDict(recursive=True), config, origin)
        except ConfigError as err:
            return (0, 0, position), Skip(origin, REFUSED, str(err))

    return frame.rdd.zipWithIndex().map(to_document)


def admit(keyed: RDD, config: Config, partitions: int) -> tuple[RDD, Skips]:
    """Admitted documents as (order, Document), and the skips (`document.Skips`: counted, the first listed).

    `keyed` must list its records in input order (both readers above do).
    The local engine's checks, per record; a repeated id keeps its first copy
    in input order (`_later_copies`: only ids and keys are shuffled for that).
    Orders are dense (0, 1, 2...) like the local engine's, and the documents
    are spread over contiguous ranges of order, sorted within each:
    `partitions` of them, or more, so that none holds much over RANGE_CHARS
    characters. The driver gets the skips' counts per reason, the first
    SKIPS_LISTED and those of whole files, never every skip.
    """
    from pyspark import StorageLevel

    def check(pair: tuple[Any, Document | Skip]) -> tuple[Any, Document | Skip]:
        key, item = pair
        return key, checked(item, 0, config)

    records = keyed.map(check).persist(StorageLevel.MEMORY_AND_DISK)
    # Cached once zipped (the zip makes PySpark pickle every record again), then read by every job below.
    flagged = records.zip(_later_copies(records)).persist(StorageLevel.MEMORY_AND_DISK)

    def skipped(pair: tuple[tuple[Any, Document | Skip], bool]) -> bool:
        return isinstance(pair[0][1], Skip) or pair[1]

    def as_skip(pair: tuple[tuple[Any, Document | Skip], bool]) -> tuple[Any, Skip]:
        key, item = pair[0]
        if isinstance(item, Skip):
            return key, item
        return key, skip_of(item, (DUPLICATE_ID, duplicate_detail(item)))

    found = flagged.filter(skipped).map(as_skip).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        reasons = dict(found.map(lambda pair: pair[1].reason).countByValue())
        records.unpersist()  # `flagged` holds them now
        skips = Skips(reasons,
                      [skip for _, skip in found.takeOrdered(SKIPS_LISTED, key=lambda pair: pair[0])],
                      [skip for _, skip in sorted(found.filter(lambda pair: pair[1].reason in FILE_REASONS).collect(),
                                                  key=lambda pair: pair[0])])
        first = skips.first[0] if skips.first and config.strict else None
        if first is None and REFUSED in skips.reasons:
            first = found.filter(lambda pair: pair[1].reason == REFUSED).takeOrdered(1, key=lambda pair: pair[0])[0][1]
    finally:
        found.unpersist()
    if first is not None:  # what stops the local engine's reading first
        flagged.unpersist()
        raise ConfigError(first.detail) if first.reason == REFUSED else strict_error(first)
    kept = flagged.filter(lambda pair: not skipped(pair)).map(lambda pair: pair[0])
    count, chars = kept.map(lambda pair: (1, len(pair[1].text))).fold((0, 0), lambda a, b: (a[0] + b[0], a[1] + b[1]))
    total = max(1, count)
    # Ranges of about RANGE_CHARS, so that a task of the second pass (and the driver, when cleaned documents
    # come back) holds one range at a time.
    ranges = max(partitions, -(-chars // RANGE_CHARS))
    docs = kept.zipWithIndex().map(lambda pair: (pair[1], replace(pair[0][1], order=pair[1])))
    docs = docs.repartitionAndSortWithinPartitions(ranges, lambda order: _range_of(order, ranges, total))
    docs = docs.persist(StorageLevel.MEMORY_AND_DISK)
    docs.count()
    flagged.unpersist()
    return docs, skips


def _later_copies(records: RDD) -> RDD:
    """Per record of `records`, partitioned and ordered as they are (for `zip`): whether it is a document
    whose id an earlier document (by order key) already has. Only (place, key, id) rows are shuffled, never a
    text, and nothing comes to the driver."""
    def placed(index: int, part: Iterator[tuple[Any, Document | Skip]]) -> Iterator[tuple[tuple[int, int], Any]]:
        for pos, (key, item) in enumerate(part):
            yield (index, pos), (key, item.id if isinstance(item, Document) else None)

    places = records.mapPartitionsWithIndex(placed)
    copies = places.filter(lambda pair: pair[1][1] is not None).map(
        lambda pair: (pair[1][1], (pair[1][0], pair[0]))).groupByKey().flatMap(
        lambda pair: [(place, True) for _, place in sorted(pair[1])[1:]])
    flags = places.mapValues(lambda _: False).union(copies).reduceByKey(
        operator.or_, records.getNumPartitions(), partitionFunc=lambda place: place[0])
    return flags.mapPartitions(lambda part: [flag for _, flag in sorted(part)], True)


# ---------------------------------------------------------------- units and signatures


def _analysed(frames: Iterator[pd.DataFrame], config: Config) -> Iterator[pd.DataFrame]:
    """`pipeline.analyse` on batches of consecutive documents: a row per unit and per distinct signature."""
    import pandas as pd

    for frame in frames:
        for at in range(0, len(frame), BATCH_DOCS):
            batch = frame.iloc[at:at + BATCH_DOCS]
            orders = batch["order"].to_numpy(np.int64)
            table = analyse(batch["text"].tolist(), _strings(batch["title"]), config)
            keys = table.sig_keys.view(np.int64)
            matched = table.sig_row >= 0
            doc = orders[table.doc]
            n = len(table)
            sigkey = np.zeros(n, dtype=np.int64)
            sigkey[matched] = keys[table.sig_row[matched]]
            units = pd.DataFrame({
                "kind": np.zeros(n, np.int8), "doc": doc, "start": table.start, "end": table.end,
                "words": table.words, "mode": table.mode, "sigkey": pd.arrays.IntegerArray(sigkey, ~matched),
                "rule": table.rule, "tprefix": [k[0] if k else None for k in table.template],
                "ttail": [k[1] if k else None for k in table.template], "title": table.title,
                "sentence_end": table.sentence_end, "label_line": table.label_line, "sig": [None] * n,
                "units": np.zeros(n, np.int32),
            })
            rows, first = np.unique(table.sig_row[matched], return_index=True)
            at_unit = np.flatnonzero(matched)[first]
            most = np.zeros(len(table.sigs), dtype=np.int32)
            np.maximum.at(most, table.sig_row[matched], table.words[matched])
            signatures = pd.DataFrame({
                "kind": np.ones(len(rows), np.int8), "doc": doc[at_unit], "start": table.start[at_unit],
                "end": table.end[at_unit], "words": most[rows], "mode": table.mode[at_unit],
                "sigkey": keys[rows], "rule": [table.rule[u] for u in at_unit.tolist()], "tprefix": None, "ttail": None,
                "title": False, "sentence_end": False, "label_line": False,
                "sig": [table.sigs[r].tobytes() for r in rows],
                "units": np.bincount(table.sig_row[matched])[rows].astype(np.int32),
            })
            yield pd.concat([units, signatures], ignore_index=True)


def _strings(column: pd.Series) -> list[str | None]:
    """A string column as str-or-None, "" as None too (rule names, template prefixes and titles are never
    empty; pandas gives None or NaN for a missing value, depending on its version)."""
    return [v if isinstance(v, str) and v else None for v in column.tolist()]


def _signatures(frame: pd.DataFrame, num_perm: int) -> np.ndarray:
    """The (rows, num_perm) uint32 matrix of a frame's `sig` column (each row's bytes, as `_analysed` wrote them)."""
    return np.frombuffer(b"".join(frame["sig"].tolist()), dtype=np.uint32).reshape(-1, num_perm)


def _pair_signatures(frame: pd.DataFrame, num_perm: int) -> np.ndarray:
    """The signatures of a frame of pairs (`sig_a`, `sig_b` columns): rows 0..k-1 the a sides, k..2k-1 the b
    sides, so that row i pairs with row k + i."""
    return np.concatenate([_signatures(frame.rename(columns={side: "sig"}), num_perm) for side in ("sig_a", "sig_b")])


def _band_keys(frames: Iterator[pd.DataFrame], config: Config) -> Iterator[pd.DataFrame]:
    """(band, key, node, grp) for every band of every node: `index.band_keys`, as locally,
    and the node's rule group (`pipeline.rule_codes`)."""
    import pandas as pd

    bands, rows = index.lsh_params(config.lsh_threshold, config.num_perm)
    for frame in frames:
        sigs = _signatures(frame, config.num_perm)
        nodes = frame["node"].to_numpy(np.int64)
        groups = rule_codes(_strings(frame["rule"]), config)
        for band, keys in enumerate(index.band_keys(sigs, bands, rows)):
            keys = keys.view(np.int64)
            yield pd.DataFrame({"band": np.full(len(nodes), band, np.int32), "key": keys, "node": nodes,
                                "grp": groups})


def _whole(frames: Iterator[pd.DataFrame]) -> pd.DataFrame | None:
    """A partition's Arrow batches as one frame (what is whole in the partition may span batches); None for
    no rows."""
    import pandas as pd

    batches = [frame for frame in frames if len(frame)]
    return pd.concat(batches, ignore_index=True) if batches else None


def _bucket_pairs(frames: Iterator[pd.DataFrame], cap: int) -> Iterator[pd.DataFrame]:
    """Candidate pairs (a < b) of a partition of (band, key, node, grp) rows that holds whole buckets: the
    rows sorted by (band, key, node), each bucket's pairs by `index.bucket_pairs` with the bucket cap and
    the rule groups, distinct within the partition."""
    import pandas as pd

    frame = _whole(frames)  # a bucket may span Arrow batches
    if frame is None:
        return
    band, key, node, grp = (frame[c].to_numpy(np.int64) for c in ("band", "key", "node", "grp"))
    order = np.lexsort((node, key, band))
    band, key, node, grp = band[order], key[order], node[order], grp[order]
    starts = np.flatnonzero(np.concatenate(([True], (band[1:] != band[:-1]) | (key[1:] != key[:-1]))))
    sizes = np.diff(np.append(starts, len(node)))
    # Members are numbered in node order, so a capped bucket's star centre is its smallest node, as locally.
    pairs = index.bucket_pairs(np.arange(len(node)), starts, sizes, cap, grp)
    pairs = np.unique(node[pairs], axis=0) if len(pairs) else pairs
    yield pd.DataFrame({"a": pairs[:, 0], "b": pairs[:, 1]})


def _verified(frames: Iterator[pd.DataFrame], config: Config) -> Iterator[pd.DataFrame]:
    """The candidate pairs that `cluster.verify` keeps, each row carrying both signatures and word counts."""
    import pandas as pd

    for frame in frames:
        k = len(frame)
        sigs = _pair_signatures(frame, config.num_perm)
        words = np.concatenate([frame["words_a"].to_numpy(), frame["words_b"].to_numpy()])
        thresholds = np.where(words >= config.syndicated_min_words, config.long_threshold, config.threshold)
        local = np.column_stack((np.arange(k), np.arange(k, 2 * k))).astype(np.int64)
        edges, _ = cluster.verify(sigs, local, thresholds)
        kept = edges[:, 0]
        yield pd.DataFrame({"a": frame["a"].to_numpy()[kept], "b": frame["b"].to_numpy()[kept]})


def components(edges: DataFrame) -> DataFrame:
    """(node, label) for every node of the edges: the smallest node of its connected component.

    Alternates large-star and small-star (Kiveris et al., "Connected
    Components in MapReduce and Beyond", 2014) until the edge set stops
    changing; the graph then is one star per component around its smallest
    node. Each round is a few joins and group-bys; nothing goes to the driver
    but a count.
    """
    from pyspark.sql import functions as F

    def normalised(frame: DataFrame) -> DataFrame:
        return frame.where(F.col("a") != F.col("b")).select(
            F.greatest("a", "b").alias("a"), F.least("a", "b").alias("b")).distinct()

    def large_star(frame: DataFrame) -> DataFrame:
        both = frame.union(frame.select(F.col("b").alias("a"), F.col("a").alias("b")))
        low = both.groupBy("a").agg(F.least(F.min("b"), F.col("a")).alias("m"))
        return normalised(both.join(low, "a").where(F.col("b") > F.col("a")).select(
            F.col("b").alias("a"), F.col("m").alias("b")))

    def small_star(frame: DataFrame) -> DataFrame:  # rows are (larger, smaller)
        low = frame.groupBy("a").agg(F.min("b").alias("m"))
        linked = frame.join(low, "a")
        return normalised(linked.select(F.col("b").alias("a"), F.col("m").alias("b")).union(
            linked.select(F.col("a"), F.col("m").alias("b"))))

    current = normalised(edges).localCheckpoint()
    for _ in range(MAX_ROUNDS):
        following = small_star(large_star(current)).localCheckpoint()
        if following.exceptAll(current).isEmpty() and current.exceptAll(following).isEmpty():
            break
        current = following
    else:
        raise RuntimeError(f"connected components did not converge in {MAX_ROUNDS} rounds")
    return current.select(F.col("a").alias("node"), F.col("b").alias("label")).union(
        current.select(F.col("b").alias("node"), F.col("b").alias("label"))).distinct()


# ---------------------------------------------------------------- the first pass


def analyse_corpus(spark: SparkSession, keyed: RDD, config: Config, partitions: int) -> tuple[Analysis, RDD, RDD]:
    """The first pass on Spark: the `Analysis` (the decisions about documents; see `ExecutorDecisions`), the
    admitted documents as an RDD of (order, Document) in input order, and each range's plans (one element
    per range of the documents, persisted), for the second pass (`render_on_executors`)."""
    from pyspark import StorageLevel

    if config.max_document_chars >= START_SPAN:
        raise ConfigError(f"the Spark engine needs max_document_chars below {START_SPAN:,}")
    partitions = partitions or spark.sparkContext.defaultParallelism
    clock = _Clock()
    docs, skips = admit(keyed, config, partitions)
    clock.lap("spark_read_and_admit_s")
    rows = nodes = where = clustered = interesting = None
    try:
        frame = spark.createDataFrame(docs.map(lambda pair: (pair[0], pair[1].text, pair[1].title or "")),
                                      "order long, text string, title string")
        rows = frame.mapInPandas(lambda frames: _analysed(frames, config), UNIT_SCHEMA).persist(
            StorageLevel.MEMORY_AND_DISK)
        rows.count()  # materialise the stage
        clock.lap("spark_sign_s")
        nodes = distinct_nodes(rows).persist(StorageLevel.MEMORY_AND_DISK)
        count = nodes.count()  # materialise the stage
        clock.lap("spark_distinct_s")
        edges = candidate_edges(nodes, config, partitions, count).localCheckpoint()
        clock.lap("spark_pairs_and_verify_s")  # localCheckpoint is eager: the stage has run
        labels = components(edges).localCheckpoint()
        clock.lap("spark_components_s")
        total = docs.count()
        where = ExecutorUnits(docs, rows, total, config)  # the units, as tables per range of documents
        clock.lap("spark_range_units_s")
        clustered = clustered_nodes(nodes, labels).persist(StorageLevel.MEMORY_AND_DISK)
        interesting = interesting_units(rows, clustered, where.learned).persist(StorageLevel.MEMORY_AND_DISK)
        interesting.count()  # materialise them before their rows go
        rows.unpersist()  # the range tables and the interesting units hold what the decisions need
        clock.lap("spark_interesting_units_s")
        analysis, plans = ExecutorDecisions(docs, where, interesting, total, config, partitions, clock).conclude(
            nodes, skips)
        return analysis, docs, plans
    except BaseException:
        docs.unpersist()  # the caller unpersists them after the second pass
        raise
    finally:
        for cached in (rows, nodes, clustered, interesting):
            if cached is not None:
                cached.unpersist()
        if where is not None:
            where.release()


_FACTS = "doc long, id string, site string, title string, k0 int, k1 double, k2 string, chars long"


def _document_facts(pair: tuple[int, Document]) -> tuple[Any, ...]:
    """A document's row of `document_table`'s facts: its source ("" for none), its title stripped (None when
    blank), the parts of its `Document.sort_key` and its length."""
    order, doc = pair
    k0, k1, k2, _ = doc.sort_key()
    return order, doc.id, doc.source or "", (doc.title or "").strip() or None, k0, k1, k2, len(doc.text)


def document_table(docs: RDD, unmatched: DataFrame) -> tuple[DataFrame, np.ndarray, int]:
    """Every document's (doc, id, site, title, chars, rank, source, unmatched), made on the executors and persisted;
    the documents per source; the corpus's characters. The driver holds per source, never per document.

    `rank` is the canonical order (`decide.doc_ranks`: `Document.sort_key`, by a distributed sort), `source`
    numbers the sites in order of first appearance (`decide.source_codes`), `site` is the source's name ("" for
    none), `title` the stripped title (null when blank) and `unmatched` the characters that no rule matches
    (`ExecutorUnits.unmatched`)."""
    import pandas as pd
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    spark = unmatched.sparkSession
    facts = spark.createDataFrame(docs.map(_document_facts), _FACTS)
    ordered = facts.select("doc", "k0", "k1", "k2").orderBy("k0", "k1", "k2", "doc")
    ranks = spark.createDataFrame(ordered.rdd.map(lambda row: row[0]).zipWithIndex(), "doc long, rank long")
    sites = facts.groupBy("site").agg(F.min("doc").alias("first"), F.count("doc").alias("docs"),
                                      F.sum("chars").alias("chars")).toPandas().sort_values("first")
    codes = spark.createDataFrame(pd.DataFrame({"site": sites["site"].astype(object),
                                                "source": np.arange(len(sites), dtype=np.int64)}),
                                  "site string, source long")
    table = facts.select("doc", "id", "site", "title", "chars").join(ranks, "doc").join(codes, "site").join(
        unmatched, "doc", "left").select("doc", "id", "site", "title", "chars", "rank", "source",
                                         F.coalesce("unmatched", F.lit(0)).cast("long").alias("unmatched"))
    table.persist(StorageLevel.MEMORY_AND_DISK).count()
    return table, sites["docs"].to_numpy(np.int64), int(sites["chars"].sum())


def chrome_documents(documents: DataFrame, family: DataFrame, config: Config) -> DataFrame:
    """(doc) of the documents whose title is their site's chrome (`decide.site_titles`): the same title on
    `min_docs` families or more of one known site. `family` holds (doc, family) of every document."""
    from pyspark.sql import functions as F

    keyed = documents.where((F.col("site") != "") & F.col("title").isNotNull()).select("doc", "site", "title").join(
        family, "doc")
    common = keyed.groupBy("site", "title").agg(F.countDistinct("family").alias("families")).where(
        F.col("families") >= config.min_docs)
    return keyed.join(common.select("site", "title"), ["site", "title"]).select("doc")


def _cluster_partition(frames: Iterator[pd.DataFrame]
                       ) -> tuple[pd.DataFrame, UnitTable, np.ndarray, list[np.ndarray], np.ndarray, np.ndarray] | None:
    """A partition of whole clusters (rows of `ExecutorClusters.members` with their documents' ranks):
    the rows in unit order, as a table whose documents are numbered from 0 here, the local documents'
    ranks, the groups (`decide._groups`), each local document's order and each row's `decide.unit_keys`.
    None for an empty partition."""

    frame = _whole(frames)  # a cluster may span Arrow batches
    if frame is None:
        return None
    frame = frame.iloc[np.lexsort((frame["start"].to_numpy(np.int64), frame["doc"].to_numpy(np.int64)))]
    frame = frame.reset_index(drop=True)
    orders, doc = np.unique(frame["doc"].to_numpy(np.int64), return_inverse=True)
    table = _spans(frame["doc"].to_numpy(np.int64), frame["start"].to_numpy(np.int64), frame["end"].to_numpy(np.int64),
                   frame["words"].to_numpy(np.int32), frame["sentence_end"].to_numpy(bool))
    keys = unit_keys(table)
    table = replace(table, doc=doc.astype(np.int64))
    ranks = np.zeros(len(orders), dtype=np.int64)
    ranks[doc] = frame["rank"].to_numpy(np.int64)
    return frame, table, ranks, _groups(frame["label"].to_numpy(np.int64), ranks, table), orders, keys


def _spans(doc: np.ndarray, start: np.ndarray, end: np.ndarray, words: np.ndarray, sentence_end: np.ndarray
           ) -> UnitTable:
    """A table of units known by their spans, words and sentence ends only (no signature, rule or template), as
    the stages on whole clusters and the headline candidates need them."""
    n = len(doc)
    return UnitTable(doc=doc, start=start, end=end, words=words, mode=np.zeros(n, np.int8),
                     sig_row=np.full(n, -1, dtype=np.int64), sigs=np.zeros((0, 1), dtype=np.uint32), rule=[None] * n,
                     template=[None] * n, title=np.zeros(n, dtype=bool), sentence_end=sentence_end,
                     label_line=np.zeros(n, dtype=bool))


def _family_partition(frames: Iterator[pd.DataFrame], config: Config) -> Iterator[pd.DataFrame]:
    """Step 1 of `ExecutorClusters`: rows (kind, a, b, n) of the partition's coverage pairs (0: d, e, shared
    characters), characters left out of content (1: document, -, characters) and reprint candidates (2: unit
    key), documents as their orders."""
    import pandas as pd

    found = _cluster_partition(frames)
    if found is None:
        return
    frame, table, ranks, groups, orders, keys = found
    ndocs = _distinct_docs(table, groups)
    (d, e, shared), (doc, chars) = family_rows(table, groups, ndocs, frame["rule_hit"].to_numpy(bool), ranks)
    excluded = np.bincount(doc, weights=chars, minlength=len(orders)).astype(np.int64)
    has = np.flatnonzero(excluded)
    keys = keys[reprint_candidates(table, groups, ndocs, config)]
    zeros = np.zeros(len(keys), dtype=np.int64)
    yield pd.DataFrame({"kind": np.repeat(np.array([0, 1, 2], np.int8), [len(d), len(has), len(keys)]),
                        "a": np.concatenate((orders[d], orders[has], keys)),
                        "b": np.concatenate((orders[e], np.zeros(len(has), np.int64), zeros)),
                        "n": np.concatenate((shared, excluded[has], zeros))})


def _dropped_of(frame: pd.DataFrame, config: Config, chains: bool) -> pd.DataFrame:
    """`decide.dropped_documents` of pair rows (d, e, shared, rank_d, rank_e, content_d), the documents they
    name numbered from 0 here: (d, e, coverage, rank_d) of the dropped documents, in document order."""
    import pandas as pd

    d, e = frame["d"].to_numpy(np.int64), frame["e"].to_numpy(np.int64)
    orders, local = np.unique(np.concatenate((d, e)), return_inverse=True)
    ranks = np.zeros(len(orders), dtype=np.int64)
    ranks[local] = np.concatenate((frame["rank_d"].to_numpy(np.int64), frame["rank_e"].to_numpy(np.int64)))
    content = np.zeros(len(orders))
    content[local[:len(d)]] = frame["content_d"].to_numpy(np.float64)
    dropped = dropped_documents(local[:len(d)], local[len(d):], frame["shared"].to_numpy(np.int64), content, ranks,
                                config, chains)
    at = np.array(list(dropped), dtype=np.int64)
    return pd.DataFrame({"d": orders[at], "e": orders[np.array([e for e, _ in dropped.values()], dtype=np.int64)],
                         "coverage": np.array([c for _, c in dropped.values()], dtype=np.float64),
                         "rank_d": ranks[at]})


def _dropped_partition(frames: Iterator[pd.DataFrame], config: Config) -> Iterator[pd.DataFrame]:
    """Step 2 of `content_targets` on a partition of whole documents' pair rows (`_dropped_of`): (d, e,
    coverage, rank_d) of the documents `decide.dropped_documents` drops with chains."""
    frame = _whole(frames)
    if frame is not None:
        yield _dropped_of(frame, config, chains=True)


class _TextsAtHand:
    """`decide.Reprints` for a task whose rows carry the texts that its reprint checks compare."""

    def __init__(self, text_of: dict[int, str]) -> None:
        self.text_of = text_of

    @contextlib.contextmanager
    def judge(self, units: UnitTable, wanted: np.ndarray, config: Config) -> Iterator[Judge]:
        if not set(wanted.tolist()) <= self.text_of.keys():
            raise RuntimeError("a reprint check's paragraph is not among the candidates' texts")
        yield text_judge(self.text_of, config)


def _targets_partition(frames: Iterator[pd.DataFrame], per_source: np.ndarray, config: Config
                       ) -> Iterator[pd.DataFrame]:
    """Step 3 of `ExecutorClusters`: `decide.cluster_targets` of a partition's clusters, as rows (category,
    unit key, matched unit key or -1, kept copy), the category numbered as in `decide.PRECEDENCE`."""
    import pandas as pd

    found = _cluster_partition(frames)
    if found is None:
        return
    frame, table, ranks, groups, orders, keys = found
    family, family_source = np.zeros(len(orders), np.int64), np.zeros(len(orders), np.int64)
    family[table.doc] = frame["family"].to_numpy(np.int64)
    family_source[table.doc] = frame["family_source"].to_numpy(np.int64)
    text = frame["text"].tolist()
    texts = _TextsAtHand({u: t for u, t in enumerate(text) if isinstance(t, str)})
    targets = cluster_targets(table, groups, _distinct_docs(table, groups), family, family_source, per_source, texts,
                              config)
    for category, t in targets.items():
        yield pd.DataFrame({"category": np.full(len(t.unit), PRECEDENCE.index(category), np.int8),
                            "key": keys[t.unit], "match": np.where(t.match >= 0, keys[np.maximum(t.match, 0)], -1),
                            "first": t.first})


class ExecutorUnits:
    """Each range's units, where its documents are: the per-document stages of `decide` run range by range
    (`on_ranges`), each task with its range's units, its marks and, for a function that reads them, its
    documents; the results stay on the executors.

    `rows` were analysed partition by partition from `docs` (a narrow map): each partition holds the units of
    one range of documents, so each range's table is made where it is (`_range_table`), with no shuffle, and
    persisted with its counts and template statistics, which the driver collects at once (the learned
    templates, from the ranges' merged statistics `rules.merge_prefix_stats`, are `learned`), and its
    documents' characters that no rule matches (`unmatched`), which stay on the executors.
    """

    def __init__(self, docs: RDD, rows: DataFrame, total: int, config: Config) -> None:
        from pyspark import StorageLevel
        from pyspark.sql import functions as F

        self.docs, self.total, self.num_perm = docs, total, config.num_perm
        # A unit without a signature has no sigkey: a flag, since a null would make pandas store the keys as float64.
        units = rows.where(F.col("kind") == 0).select(
            *UNIT_COLUMNS, F.col("sigkey").isNotNull().alias("signed"), F.coalesce("sigkey", F.lit(0)).alias("sigkey"))
        tables = units.mapInPandas(lambda frames: _range_table(frames, config),
                                   "table binary, summary binary, unmatched binary")
        # Exactly one element per partition (None for a range without units), as `zip` needs.
        self.units = tables.rdd.mapPartitions(
            lambda part: [next(((row.table, row.summary, row.unmatched) for row in part), None)], True
        ).persist(StorageLevel.MEMORY_AND_DISK)
        try:
            if self.units.getNumPartitions() != docs.getNumPartitions():
                raise RuntimeError("the units are not partitioned like their documents")
            summaries = [pickle.loads(item) for item in self.units.map(lambda item: item and item[1]).collect()
                         if item]
        except BaseException:
            self.release()
            raise
        self.counts = (sum(s[0] for s in summaries), sum(s[1] for s in summaries))  # units, and units too long
        self.learned = rules.learned_prefixes(rules.merge_prefix_stats(summary[2] for summary in summaries),
                                              config.min_docs) if config.learn_templates else set()

    def unmatched(self, spark: SparkSession) -> DataFrame:
        """(doc, unmatched) of the documents with units: their characters that no rule matches."""
        return from_ranges(spark, self.units.map(lambda item: pickle.loads(item[2]) if item is not None else {}),
                           "doc long, unmatched double")

    def on_ranges(self, fn: Callable[[Range, Any, Marks], Any], marks: RDD, texts: bool = False) -> RDD:
        """fn(range, texts, marks) of every range, kept on the executors: an RDD with one result per range
        (partition), given one pickled `Marks` per range (`range_marks`)."""
        ranges = self.docs.glom() if texts else self.units.map(lambda _: None)
        return ranges.zip(self.units).zip(marks).mapPartitions(_ranged(fn, texts), True)

    def release(self) -> None:
        self.units.unpersist()


RangeUnits = tuple[bytes, bytes, bytes]  # a range's pickled table, summary and unmatched characters (`_range_table`)
RangeItem = tuple[tuple[list[tuple[int, Document]] | None, RangeUnits | None], bytes]


def _ranged(fn: Callable[[Range, Any, Marks], Any], texts: bool) -> Callable[[Iterator[RangeItem]], Iterator[Any]]:
    """A range function over zipped (documents or None, range table, pickled marks) elements."""
    def mapped(items: Iterator[RangeItem]) -> Iterator[Any]:
        for (keyed, item), pickled in items:
            units = pickle.loads(item[0])[0] if item is not None else _EMPTY_RANGE
            by_order = {order: doc.text for order, doc in keyed} if keyed is not None else {}
            if keyed is not None and not set(np.unique(units.doc).tolist()) <= by_order.keys():
                raise RuntimeError("a range's units are not those of its documents")
            yield fn(Range(units), DocumentTexts(by_order) if texts else None, pickle.loads(pickled))

    return mapped


_EMPTY_RANGE = UnitTable(*(np.zeros(0, dtype=np.int64),) * 3, np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int8),
                         np.zeros(0, dtype=np.int64), np.zeros((0, 1), dtype=np.uint32), [], [],
                         np.zeros(0, dtype=bool), np.zeros(0, dtype=bool), np.zeros(0, dtype=bool))


def _range_table(frames: Iterator[pd.DataFrame], config: Config) -> Iterator[pd.DataFrame]:
    """A partition's units as a pickled (`UnitTable` in unit order without signatures, signature keys, signed
    flags), its summary (units, units too long, `pipeline.template_stats`) and its documents' characters that
    no rule matches (`Columns` doc, unmatched)."""
    import pandas as pd

    frame = _whole(frames)
    if frame is None:
        return
    frame = frame.iloc[np.lexsort((frame["start"].to_numpy(np.int64), frame["doc"].to_numpy(np.int64)))]
    table = _unit_table(frame)
    docs, local = np.unique(table.doc, return_inverse=True)
    rule_hit, _ = unit_hits(table, set())
    summary = (len(table), too_long(table, config), template_stats(table) if config.learn_templates else {})
    unmatched = {"doc": docs, "unmatched": unmatched_chars(replace(table, doc=local), rule_hit, len(docs))}
    yield pd.DataFrame({
        "table": [pickle.dumps((table, frame["sigkey"].to_numpy(np.int64), frame["signed"].to_numpy(bool)),
                               pickle.HIGHEST_PROTOCOL)],
        "summary": [pickle.dumps(summary, pickle.HIGHEST_PROTOCOL)],
        "unmatched": [pickle.dumps(unmatched, pickle.HIGHEST_PROTOCOL)]})


# ---------------------------------------------------------------- decisions on the executors


def interesting_units(rows: DataFrame, clustered: DataFrame, learned: set[str]) -> DataFrame:
    """The units that `decide`'s cross-document stages look at (`decide.interesting`: members of the clusters,
    units that a rule or a learned template matches), kept on the executors: each with its key
    (`decide.unit_keys`), its unit columns, its node and cluster label (-1: none) and whether a learned
    template, and no rule, matches it. Every label has two units or more (`clustered_nodes`)."""
    from pyspark.sql import functions as F

    units = rows.where(F.col("kind") == 0).join(clustered.select("sigkey", "node", "label"), "sigkey", "left")
    learned_hit = F.lit(False)
    if learned:
        known = rows.sparkSession.createDataFrame([(p, True) for p in sorted(learned)], "tprefix string, known boolean")
        units = units.join(F.broadcast(known), "tprefix", "left")
        learned_hit = F.col("known").isNotNull() & F.col("rule").isNull()
    return units.where(F.col("label").isNotNull() | F.col("rule").isNotNull() | learned_hit).select(
        F.shiftleft("doc", 32).bitwiseOR(F.col("start")).alias("key"), *UNIT_COLUMNS,
        F.coalesce("node", F.lit(-1)).alias("node"), F.coalesce("label", F.lit(-1)).alias("label"),
        learned_hit.alias("learned"))


def template_targets(interesting: DataFrame, documents: DataFrame, partitions: int) -> DataFrame:
    """(key, name, first) of the units that a rule or a learned template matches: `decide._template_targets`
    per partition of whole rules and templates (`name`: `rule:...` or `template:...`), so that each one's
    kept copy is the local engine's."""
    from pyspark.sql import functions as F

    name = F.when(F.col("rule").isNotNull(), F.concat(F.lit("rule:"), "rule")).otherwise(
        F.concat(F.lit("template:"), "tprefix"))
    hits = interesting.where(F.col("rule").isNotNull() | F.col("learned")).select(
        "key", *UNIT_COLUMNS, name.alias("name"))
    return hits.join(documents.select("doc", "rank"), "doc").repartition(partitions, "name").mapInPandas(
        _template_partition, "key long, name string, first boolean")


def _template_partition(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """`template_targets` on a partition of whole rules and templates."""
    import pandas as pd

    frame = _whole(frames)
    if frame is None:
        return
    table = _unit_table(frame)
    orders, doc = np.unique(table.doc, return_inverse=True)
    ranks = np.zeros(len(orders), dtype=np.int64)
    ranks[doc] = frame["rank"].to_numpy(np.int64)
    table = replace(table, doc=doc.astype(np.int64))
    targets, members = _template_targets(table, ranks, np.ones(len(table), dtype=bool), 0)
    names = np.array(list(members), dtype=object)
    yield pd.DataFrame({"key": frame["key"].to_numpy(np.int64)[targets.unit], "name": names[targets.cluster],
                        "first": targets.first})


def content_targets(members: DataFrame, documents: DataFrame, docs: RDD, config: Config, partitions: int,
                    per_source: np.ndarray) -> tuple[DataFrame, DataFrame]:
    """The content clusters' targets (rows of category, unit key, matched key or -1, kept copy; the category
    numbered as in `decide.PRECEDENCE`) and each document's family (`decide._families`: rows of doc, family),
    both kept on the executors.

    `members` (the interesting units with a label) are repartitioned by label so that every cluster is
    whole in one task, and the stage runs as
    1. per partition: `decide.family_rows` and `decide.reprint_candidates` of its clusters;
    2. families: the coverage pairs summed by pair of documents, each with its documents' ranks and the
       later one's content characters, and `decide.dropped_documents` with chains, per document (whose choice
       depends on its own rows only); `decide.family_roots` by pointer jumping (`executor_roots`);
    3. per partition again, with each member's family and its source joined, and the texts of the reprint
       candidates (sliced where their documents are): `decide.cluster_targets`, whose reprint checks are
       judged in the task.
    Each partition function renumbers its documents and calls the local engine's functions on its clusters,
    so the targets are the local engine's for any partitioning. `documents` holds (doc, rank, unmatched,
    source) of every document (`document_table`), and `per_source` the documents per source.
    """
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    clusters = members.select("key", "doc", "start", "end", "words", "sentence_end",
                              F.col("rule").isNotNull().alias("rule_hit"), "label").join(
        documents.select("doc", "rank"), "doc").repartition(partitions, "label").persist(StorageLevel.MEMORY_AND_DISK)
    slices = None
    try:
        rows = clusters.mapInPandas(lambda frames: _family_partition(frames, config),
                                    "kind byte, a long, b long, n long").localCheckpoint()
        rooted = executor_roots(_family_dropped(rows, documents, config))
        family = documents.select("doc").join(rooted, "doc", "left").select(
            "doc", F.coalesce("root", "doc").alias("family")).localCheckpoint()
        joined = clusters.join(family.join(documents.select(F.col("doc").alias("family"),
                                                            F.col("source").alias("family_source")), "family"), "doc")
        if config.quote_share > 0 or config.own_sentence_share > 0:
            wanted = rows.where(F.col("kind") == 2).select(F.col("a").alias("key"))
            slices = executor_slices(docs, clusters.join(wanted, "key").select("doc", "start", "end")).persist(
                StorageLevel.MEMORY_AND_DISK)
            joined = joined.join(slices, ["doc", "start"], "left")
        else:
            joined = joined.withColumn("text", F.lit(None).cast("string"))
        # Joins that are not broadcast shuffle by their keys: whole clusters again, for step 3.
        found = joined.repartition(partitions, "label").mapInPandas(
            lambda frames: _targets_partition(frames, per_source, config),
            "category byte, key long, match long, first boolean").localCheckpoint()
    finally:
        clusters.unpersist()
        if slices is not None:
            slices.unpersist()
    return found, family


def _family_dropped(rows: DataFrame, documents: DataFrame, config: Config) -> DataFrame:
    """Step 2 of `content_targets`: (d, e) of the documents dropped with chains (`decide.dropped_documents`)."""
    from pyspark.sql import functions as F

    pairs = rows.where(F.col("kind") == 0).groupBy(F.col("a").alias("d"), F.col("b").alias("e")).agg(
        F.sum("n").alias("shared"))
    excluded = rows.where(F.col("kind") == 1).groupBy(F.col("a").alias("doc")).agg(F.sum("n").alias("excluded"))
    content = documents.join(excluded, "doc", "left").select(
        "doc", (F.col("unmatched") - F.coalesce("excluded", F.lit(0))).alias("content_d"))
    joined = _pair_rows(pairs, content, documents.select("doc", "rank")).repartition("d")
    return joined.mapInPandas(lambda frames: _dropped_partition(frames, config),
                              "d long, e long, coverage double, rank_d long").select("d", "e")


def executor_roots(dropped: DataFrame) -> DataFrame:
    """`decide.family_roots` on the executors: (doc, root) of every document dropped with chains (`dropped`: d,
    e), the end of its chain of earlier documents. Pointer jumping: each round moves every document's root to
    its root's root, so a chain of n documents takes about log2(n) rounds, each a join of dropped documents."""
    from pyspark.sql import functions as F

    roots = dropped.select(F.col("d").alias("doc"), F.col("e").alias("root")).localCheckpoint()
    while True:
        step = roots.join(roots.select(F.col("doc").alias("root"), F.col("root").alias("next")), "root", "left")
        if step.where(F.col("next").isNotNull()).isEmpty():
            return roots
        roots = step.select("doc", F.coalesce("next", "root").alias("root")).localCheckpoint()


# The pairs of near-duplicate documents left to decide that the driver decides at once, with the local engine's
# `decide.dropped_documents` (`executor_dropped`): a few MB, and no more rounds of Spark jobs.
DRIVER_PAIRS = 50_000


def executor_dropped(near: DataFrame, config: Config) -> DataFrame:
    """`decide.dropped_documents` without chains, on the executors: (d, e, coverage, rank_d) of the documents
    dropped as duplicates, from the pairs of documents (d, e, shared, rank_d, rank_e, content_d; `_pair_rows`).

    The greedy choice (each document, in canonical order, dropped for its best candidate that stays) is made
    in rounds over the pairs that cover enough: a document whose best remaining candidate has no pair left
    (it stays) is dropped for it; then its own pairs go, and so do the pairs that name it as the earlier one
    (a candidate that is dropped is passed over). A document whose pairs have all gone stays. The earliest
    document with pairs is decided in every round, so the rounds end, in as many as the longest chain of
    documents covering each other; once DRIVER_PAIRS pairs or fewer are left, the driver decides them with
    `decide.dropped_documents` (the candidates they name without a pair of their own stay, as there)."""
    from pyspark.sql import functions as F

    spark = near.sparkSession
    schema = "d long, e long, coverage double, rank_d long"
    pairs = near.select("d", "e", "shared", "content_d", "rank_d", "rank_e",
                        (F.col("shared") / F.col("content_d")).alias("coverage")).where(
        F.col("coverage") >= config.duplicate_doc_coverage)  # as `dropped_documents` divides and compares
    found = []
    while True:
        pairs = pairs.localCheckpoint()
        if pairs.count() <= DRIVER_PAIRS:
            found.append(spark.createDataFrame(_dropped_of(pairs.toPandas(), config, chains=False), schema))
            break
        best = pairs.groupBy("d").agg(F.min(F.struct((-F.col("coverage")).alias("c"), "rank_e", "e", "coverage",
                                                     "rank_d")).alias("b"))
        now = best.select("d", "b.e", F.least("b.coverage", F.lit(1.0)).alias("coverage"), "b.rank_d").join(
            pairs.select(F.col("d").alias("e")).distinct(), "e", "left_anti").select("d", "e", "coverage", "rank_d")
        now = now.localCheckpoint()
        found.append(now)
        pairs = pairs.join(now.select("d"), "d", "left_anti").join(now.select(F.col("d").alias("e")), "e", "left_anti")
    out = found[0]
    for more in found[1:]:
        out = out.unionByName(more)
    return out


def executor_leaving(dropped: DataFrame, config: Config) -> DataFrame:
    """`decide._leaving` of the dropped documents (d, e, coverage, rank_d): (d, e, coverage) of the documents
    that leave the output, each with the document and coverage its finding names: none (flag-only), the
    dropped ones (keep-first), or those and every kept document they duplicate, which names its earliest
    duplicate (remove-all)."""
    from pyspark.sql import functions as F

    rows = dropped.select("d", "e", "coverage")
    action = config.actions["duplicate_document"]
    if action == "flag-only":
        return rows.limit(0)
    if action == "remove-all":
        first = dropped.groupBy("e").agg(F.min(F.struct("rank_d", "d", "coverage")).alias("m"))
        rows = rows.unionByName(first.select(F.col("e").alias("d"), F.col("m.d").alias("e"),
                                             F.col("m.coverage").alias("coverage")))
    return rows


def _pair_rows(pairs: DataFrame, content: DataFrame, ranked: DataFrame) -> DataFrame:
    """`_dropped_of`'s rows: pairs of documents (d, e, shared) with the later one's content characters
    (`content`: doc, content_d) and both ones' ranks (`ranked`: doc, rank)."""
    from pyspark.sql import functions as F

    later = content.join(ranked, "doc").select(F.col("doc").alias("d"), "content_d", F.col("rank").alias("rank_d"))
    return pairs.join(later, "d").join(ranked.select(F.col("doc").alias("e"), F.col("rank").alias("rank_e")), "e")


Columns = dict[str, np.ndarray]  # a table as numpy columns, as it travels between DataFrames and ranges


def to_ranges(frame: DataFrame, ranges: int, total: int, by: str = "key") -> RDD:
    """The rows of `frame` as one `Columns` per range of the documents (one element per partition, in range
    order, rows sorted by `by`: a unit key, or a document's order with `by="doc"`). Each task packs its Arrow
    batches into a few pickled chunks per range, so no row crosses into Python as a `Row`."""
    import pandas as pd

    names, whole = frame.columns, max(1, total)

    def chunks(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for part in frames:
            if not len(part):
                continue
            at = part[by].to_numpy(np.int64)
            where = _range_of(at >> 32 if by == "key" else at, ranges, whole)
            found = np.unique(where)
            yield pd.DataFrame({"range": found.astype(np.int32), "chunk": [
                pickle.dumps({c: part[c].to_numpy()[where == r] for c in names}, pickle.HIGHEST_PROTOCOL)
                for r in found.tolist()]})

    packed = frame.mapInPandas(chunks, "range int, chunk binary").rdd.map(lambda row: (row[0], row[1]))
    return packed.partitionBy(ranges, lambda r: r).mapPartitions(lambda pairs: [_merged(pairs, names, by)], True)


def _merged(pairs: Iterator[tuple[int, bytes]], names: list[str], by: str) -> Columns:
    """A range's chunks (`to_ranges`) as one `Columns`, sorted by `by`; {} when it has none."""
    parts = [pickle.loads(chunk) for _, chunk in pairs]
    if not parts:
        return {}
    columns = {c: np.concatenate([p[c] for p in parts]) for c in names}
    order = np.argsort(columns[by], kind="stable")
    return {c: v[order] for c, v in columns.items()}


def from_ranges(spark: SparkSession, tables: RDD, schema: str) -> DataFrame:
    """A DataFrame of `tables` (an RDD of `Columns`, named as in `schema`), each moved as one pickled chunk."""
    import pandas as pd

    def unpacked(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for frame in frames:
            for chunk in frame["chunk"].tolist():
                columns = pickle.loads(chunk)
                if columns and len(next(iter(columns.values()))):
                    yield pd.DataFrame(columns)

    packed = spark.createDataFrame(tables.map(lambda columns: (pickle.dumps(columns, pickle.HIGHEST_PROTOCOL),)),
                                   "chunk binary")
    return packed.mapInPandas(unpacked, schema)


def _column(columns: Columns, name: str, dtype: Any) -> np.ndarray:
    """A column of a range's `Columns`, empty for a range without rows."""
    return columns[name].astype(dtype) if columns else np.zeros(0, dtype=dtype)


def executor_slices(docs: RDD, spans: DataFrame) -> DataFrame:
    """(doc, start, text) of `spans` (doc, start, end), sliced on the executors: each span goes to the range of
    `docs` that holds its document, and each range's task slices its own."""
    ranges = docs.getNumPartitions()

    def sliced(pair: tuple[list[tuple[int, Document]], Columns]) -> Columns:
        keyed, wanted = pair
        by_order = dict(keyed)
        doc, start, end = (_column(wanted, c, np.int64) for c in ("doc", "start", "end"))
        if not set(doc.tolist()) <= by_order.keys():
            raise RuntimeError("a range does not hold the documents its spans name")
        return {"doc": doc, "start": start, "text": np.array(
            [by_order[d].text[a:b] for d, a, b in zip(doc.tolist(), start.tolist(), end.tolist())], dtype=object)}

    placed = to_ranges(spans.select("doc", "start", "end"), ranges, docs.count(), by="doc")
    return from_ranges(spans.sparkSession, docs.glom().zip(placed).map(sliced), "doc long, start long, text string")


def range_marks(interesting: DataFrame, content: DataFrame, templates: DataFrame, ranges: int, total: int) -> RDD:
    """`decide.Marks` of each range's interesting units (one pickled `Marks` per partition, as the ranges of
    the documents are partitioned): the categories that target each unit and those whose kept copy it is
    (content and template targets), its cluster (its label: any number that tells clusters apart will do),
    whether that cluster spans two documents or more, and the earlier copy of its document that it repeats."""
    from pyspark.sql import functions as F

    bit = F.expr("shiftleft(1, cast(category as int))")
    rows = content.select("key", bit.alias("bit"), F.when(F.col("first"), bit).otherwise(0).alias("firstbit"),
                          F.when(F.col("category") == PRECEDENCE.index("repeat"), F.col("match")).otherwise(-1)
                          .alias("copy"))
    template = 1 << PRECEDENCE.index("template")
    rows = rows.unionByName(templates.select("key", F.lit(template).alias("bit"),
                                             F.when(F.col("first"), template).otherwise(0).alias("firstbit"),
                                             F.lit(-1).cast("long").alias("copy")))
    marked = rows.groupBy("key").agg(F.bit_or("bit").alias("bits"), F.bit_or("firstbit").alias("firsts"),
                                     F.max("copy").alias("copy"))
    spread = interesting.where(F.col("label") >= 0).groupBy("label").agg(F.countDistinct("doc").alias("ndocs"))
    every = interesting.select("key", "doc", "label").join(marked, "key", "left").join(spread, "label", "left")
    columns = every.select("key", F.coalesce("bits", F.lit(0)).alias("bits"),
                           F.coalesce("firsts", F.lit(0)).alias("firsts"),
                           F.coalesce(F.col("ndocs") > 1, F.lit(False)).alias("shared"), F.col("label").alias("group"),
                           F.coalesce("copy", F.lit(-1)).alias("copy"))
    return to_ranges(columns, ranges, total).map(_marks_of)


def _marks_of(columns: Columns) -> bytes:
    """One range's `Marks`, pickled, from its `Columns` (key, bits, firsts, shared, group, copy)."""
    arrays = [_column(columns, c, t) for c, t in (("key", np.int64), ("bits", np.uint8), ("firsts", np.uint8),
                                                  ("shared", bool), ("group", np.int64), ("copy", np.int64))]
    n = len(arrays[0])
    return pickle.dumps(Marks(*arrays, np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)), pickle.HIGHEST_PROTOCOL)


def _marked(marks: RDD, keys: RDD, field: str) -> RDD:
    """`marks` (one pickled `Marks` per range) with `field` ("headline" or "ask") set for the units whose keys
    `keys` holds (one `Columns` per range with a column "key", `to_ranges`)."""
    def setting(pair: tuple[bytes, Columns]) -> bytes:
        pickled, columns = pair
        got, mine = pickle.loads(pickled), _column(columns, "key", np.int64)
        flag = np.zeros(len(got.key), dtype=bool)
        at = np.searchsorted(got.key, mine)
        if len(mine) and (at.max() >= len(got.key) or (got.key[at] != mine).any()):
            raise RuntimeError("a range was sent marks for units it does not hold")
        flag[at] = True
        return pickle.dumps(replace(got, **{field: flag}), pickle.HIGHEST_PROTOCOL)

    return marks.zip(keys).map(setting)


class ExecutorDecisions:
    """`decide`'s stages with their per-unit and per-document state kept on the executors (the documents'
    ranks, sources, families, titles and duplicates in DataFrames). The driver holds the documents per source
    and per pair of sources, never the interesting units, a table of every document or its duplicates."""

    def __init__(self, docs: RDD, where: ExecutorUnits, interesting: DataFrame, total: int, config: Config,
                 partitions: int, clock: _Clock) -> None:
        self.docs, self.where, self.interesting, self.total, self.clock = docs, where, interesting, total, clock
        self.config, self.partitions = config, partitions
        self.spark = interesting.sparkSession
        self.ranges = docs.getNumPartitions()
        self.starts = _range_starts(docs, total)
        self.persisted: list[Any] = []  # what `conclude` releases, whatever happens

    def run(self) -> RDD:
        """The range outcomes (`decide.RangeOutcomes`, one per range), persisted."""
        from pyspark import StorageLevel
        from pyspark.sql import functions as F

        config, where = self.config, self.where
        documents, per_source, self.characters = document_table(self.docs, where.unmatched(self.spark))
        self.persisted.append(documents)
        self.lap("documents")
        self.members = members = self.interesting.where(F.col("label") >= 0).persist(StorageLevel.MEMORY_AND_DISK)
        self.persisted.append(members)
        self.ranked = documents.select("doc", "rank")
        self.ids = documents.select("doc", "id", F.col("site").alias("source"), "chars")
        labels = members.select("label").distinct().rdd.map(lambda row: row[0]).sortBy(lambda label: label)
        # Content clusters are named in order of their first unit, as `decide._content_names` names them: their
        # labels (smallest nodes, numbered by first unit) are in that order.
        self.names = self.spark.createDataFrame(labels.zipWithIndex().map(lambda pair: (pair[0], f"c{pair[1] + 1}")),
                                                "label long, name string").localCheckpoint()
        self.lap("names")
        self.content, family = content_targets(members, documents, self.docs, config, self.partitions, per_source)
        self.lap("content_clusters")
        self.templates = template_targets(self.interesting, documents, self.partitions).localCheckpoint()
        self.lap("templates")
        marks = range_marks(self.interesting, self.content, self.templates, self.ranges, self.total).persist(
            StorageLevel.MEMORY_AND_DISK)
        self.persisted.append(marks)
        marks.count()
        self.lap("marks")
        chrome = chrome_documents(documents, family, config).localCheckpoint()
        headlines = _marked(marks, to_ranges(self._headlines(marks, documents, chrome), self.ranges, self.total),
                            "headline")
        marked = headlines.zip(to_ranges(chrome, self.ranges, self.total, by="doc")).map(
            lambda pair: pickle.dumps((pickle.loads(pair[0]), _column(pair[1], "doc", np.int64)),
                                      pickle.HIGHEST_PROTOCOL)).persist(StorageLevel.MEMORY_AND_DISK)
        self.persisted.append(marked)
        marked.count()
        self.lap("headlines")
        outcomes = where.on_ranges(partial(_range_outcomes, learned=where.learned, config=config), marked)
        outcomes.persist(StorageLevel.MEMORY_AND_DISK).count()
        marks.unpersist()
        self.lap("outcomes")
        return outcomes

    def lap(self, step: str) -> None:
        """Time a step of the decisions (`summary.timings`: spark_decide_<step>_s; their sum is decide_s)."""
        self.clock.lap(f"spark_decide_{step}_s")

    def _headlines(self, marks: RDD, documents: DataFrame, chrome: DataFrame) -> DataFrame:
        """(key) of the headlines that `decide._headlines` chooses, its three stages run on the executors: the
        facts of every range's marked units (`decide.range_facts`) are laid out in partitions of whole cross
        groups, where `decide.opening_alone` and `decide.headline_carriers` find the carriers; the lines they
        ask about are scored in the tasks of their ranges (`_scores`); `decide.headline_proposals` runs per
        partition of whole groups again, and `decide.headline_choice` per partition of whole documents, once
        the proposals of documents with several (`decide.contested`) have scores. A document's title gives its
        headline unless `chrome` lists it (`decide.titled`)."""
        from pyspark.sql import functions as F

        titled = documents.join(chrome.select("doc", F.lit(True).alias("chrome")), "doc", "left").select(
            "doc", F.col("rank").alias("doc_rank"), (F.col("title").isNotNull() & F.col("chrome").isNull())
            .alias("titled"))
        if titled.where(~F.col("titled")).isEmpty():  # no document to look for a headline in
            return self.spark.createDataFrame([], "key long")
        facts = self.where.on_ranges(partial(_headline_facts, learned=self.where.learned), marks)
        units = from_ranges(self.spark, facts, "key long, doc long, start long, words int, label long, cross boolean, "
                            "learned boolean, threatened long, before long, rank long").join(titled, "doc")
        # A group's rows go to one partition; lines of no group spread by key.
        carriers = units.where((F.col("before") > 0) & (F.col("cross") | F.col("learned"))).repartition(
            self.partitions, F.when(F.col("cross"), F.col("label")).otherwise(F.col("key"))).mapInPandas(
            _carrier_partition, "key long, doc long, rank long, grp long, direct boolean").localCheckpoint()
        proposals = carriers.join(self._scores(marks, carriers.where(~F.col("direct")).select("key")), "key", "left")
        proposals = proposals.repartition(self.partitions, F.when(F.col("grp") >= 0, F.col("grp")).otherwise(
            F.col("key"))).mapInPandas(_proposal_partition, "key long, doc long, rank long, score double")
        proposals = proposals.localCheckpoint()
        again = self._scores(marks, proposals.repartition(self.partitions, "doc").mapInPandas(
            _contested_partition, "key long"))
        return proposals.join(again.select("key", F.col("score").alias("again")), "key", "left").select(
            "doc", "rank", "key", F.coalesce("again", "score").alias("score")).repartition(
            self.partitions, "doc").mapInPandas(_choice_partition, "key long")

    def _scores(self, marks: RDD, asked: DataFrame) -> DataFrame:
        """(key, score) of the lines whose keys `asked` holds, each scored against its own document's text in
        its range's task (`decide.range_scores`); no pass over the documents when it holds none."""
        asked = asked.localCheckpoint()
        if asked.isEmpty():
            return self.spark.createDataFrame([], "key long, score double")
        flagged = _marked(marks, to_ranges(asked, self.ranges, self.total), "ask")
        scored = self.where.on_ranges(partial(_range_scores, learned=self.where.learned), flagged, texts=True)
        return from_ranges(self.spark, scored, "key long, score double").localCheckpoint()

    def documents_decided(self, outcomes: RDD) -> tuple[DataFrame, DataFrame]:
        """The duplicate documents (`decide._duplicate_documents`: rows of d, e, coverage, rank_d) and those
        that leave the output (`executor_leaving`), kept on the executors: the coverage pairs of the content
        units (those no boilerplate or template outcome flags) are made per partition of whole clusters and
        summed per pair of documents, and those covering enough of the later document decided in rounds
        (`executor_dropped`)."""
        from pyspark import StorageLevel
        from pyspark.sql import functions as F

        config = self.config
        chars = from_ranges(self.spark, outcomes.map(lambda o: {
            "doc": np.arange(o.first_doc, o.first_doc + len(o.content_chars), dtype=np.int64),
            "content_d": o.content_chars.astype(np.float64)}), "doc long, content_d double")
        flagged = from_ranges(self.spark, outcomes.map(lambda o: {"key": o.flagged, "kept": o.kept.astype(np.int32)}),
                              "key long, kept int")
        units = self.members.join(flagged, "key", "left").select(
            "key", "doc", "start", "end", "words", "sentence_end", "label",
            ((F.coalesce("kept", F.lit(0)).bitwiseAND(_CHROME)) == 0).alias("content")).join(self.ranked, "doc")
        pairs = units.repartition(self.partitions, "label").mapInPandas(_coverage_partition,
                                                                        "d long, e long, shared long")
        enough = F.col("shared") >= F.col("content_d") * (config.duplicate_doc_coverage * 0.999)
        near = _pair_rows(pairs.groupBy("d", "e").agg(F.sum("shared").alias("shared")), chars, self.ranked).where(
            (F.col("content_d") > 0) & enough)
        dropped = executor_dropped(near, config).persist(StorageLevel.MEMORY_AND_DISK)
        self.persisted.append(dropped)
        gone = executor_leaving(dropped, config).persist(StorageLevel.MEMORY_AND_DISK)
        self.persisted.append(gone)
        return dropped, gone

    def duplicate_notes(self, dropped: DataFrame, gone: DataFrame) -> RDD:
        """The rows each range makes its duplicates' notes of (`_range_notes`; one `Columns` per range): a
        dropped document's (kind 0) with it and with the kept document it duplicates (which the report quotes
        the opening of), a leaving document's (kind 1) with it; each with both documents' ids and lengths."""
        from pyspark.sql import functions as F

        rows = dropped.select("d", "e", "coverage", F.lit(0).alias("kind"))
        rows = rows.withColumn("doc", F.col("d")).unionByName(rows.withColumn("doc", F.col("e"))).unionByName(
            gone.select("d", "e", "coverage", F.lit(1).alias("kind"), F.col("d").alias("doc")))
        for side in ("d", "e"):
            rows = rows.join(self.ids.select(F.col("doc").alias(side), F.col("id").alias(f"id_{side}"),
                                             F.col("chars").alias(f"chars_{side}")), side)
        return to_ranges(rows, self.ranges, self.total, by="doc")

    def surviving_copies(self, gone: DataFrame) -> DataFrame | None:
        """(key, cleared, match) of the syndicated targets that `decide._keep_a_surviving_copy` changes when
        documents leave the output (`gone`: d): each partition of whole clusters holds every member of its
        clusters, the syndicated targets' kept flags and matches, and whether their documents leave, joined
        in. None when it changes nothing."""
        from pyspark.sql import functions as F

        if _policy("syndicated", self.config) != "keep-first" or gone.isEmpty():
            return None
        syndicated = self.content.where(F.col("category") == PRECEDENCE.index("syndicated")).select(
            "key", F.col("match").alias("syn_match"), F.col("first").alias("syn_first"))
        leaving = gone.select(F.col("d").alias("doc"), F.lit(True).alias("leaving"))
        units = self.members.select("key", "doc", "start", "end", "words", "sentence_end", "label").join(
            syndicated, "key", "left").join(self.ranked, "doc").join(leaving, "doc", "left")
        config = self.config
        return units.repartition(self.partitions, "label").mapInPandas(
            lambda frames: _surviving_partition(frames, config), "key long, cleared boolean, match long")

    def range_decisions(self, outcomes: RDD, surviving: DataFrame | None) -> RDD:
        """Per range (one element per partition): its flagged units' keys, their categories (`decide._outcomes`),
        the cluster and matched key of the category that names each finding (`decide._primary`) and whether it
        is removed. Each range's task gets the targets of its own units (content clusters named as
        `decide._content_names` names them, in order of their first unit; rules and templates; the context
        rule's), with the surviving copies' changes joined in."""
        from pyspark.sql import functions as F

        syndicated = F.col("category") == PRECEDENCE.index("syndicated")
        content = self.content.join(self.members.select("key", "label"), "key").join(self.names, "label")
        if surviving is None:
            content = content.select("key", "category", "name", "match", F.lit(False).alias("cleared"))
        else:
            content = content.join(surviving.select("key", F.col("match").alias("moved"), F.col("cleared").alias("c")),
                                   "key", "left").select(
                "key", "category", "name", F.when(syndicated & F.col("moved").isNotNull(), F.col("moved"))
                .otherwise(F.col("match")).alias("match"),
                (syndicated & F.coalesce("c", F.lit(False))).alias("cleared"))
        template = PRECEDENCE.index("template")
        rows = content.unionByName(self.templates.select("key", F.lit(template).cast("byte").alias("category"), "name",
                                                         F.lit(-1).cast("long").alias("match"),
                                                         F.lit(False).alias("cleared")))
        config = self.config
        return outcomes.zip(to_ranges(rows, self.ranges, self.total)).map(lambda pair: _range_decided(*pair, config))

    def plans(self, decided: RDD, nodes: DataFrame, notes: RDD, context_first: int) -> RDD:
        """Each range's plans (`render.Plan`s, pickled, one element per range), made in its task
        (`render.assemble`) from its decisions and units: the copy each finding matches (its end, its document's
        id and source) and the similarity of their signatures are joined on the executors (the signatures stay
        in `nodes`), and so are the first members of the clusters, which the report quotes, and the rows of
        its duplicates' notes (`notes`, `duplicate_notes`). The driver sends each range the key of the context
        rule's first unit (`context_first`, -1 for none), which the range holding it quotes."""
        from pyspark import StorageLevel
        from pyspark.sql import functions as F

        spark, num_perm = self.spark, self.config.num_perm
        pairs = from_ranges(spark, decided.map(lambda d: {"key": d[0][d[3] >= 0], "match": d[3][d[3] >= 0]}),
                            "key long, match long")
        units = self.interesting.select("key", "doc", "end", "node")
        ids = self.ids
        matched = pairs.join(units.select("key", F.col("node").alias("a")), "key").join(
            units.select(F.col("key").alias("match"), F.col("doc").alias("match_doc"), F.col("end").alias("match_end"),
                         F.col("node").alias("b")), "match").join(
            ids.select(F.col("doc").alias("match_doc"), F.col("id").alias("match_id"),
                       F.col("source").alias("match_source")), "match_doc").persist(StorageLevel.MEMORY_AND_DISK)
        try:
            signed = nodes.select("node", "sig")
            distinct = matched.select("a", "b").distinct()
            scored = distinct.join(signed.select(F.col("node").alias("a"), F.col("sig").alias("sig_a")), "a").join(
                signed.select(F.col("node").alias("b"), F.col("sig").alias("sig_b")), "b").mapInPandas(
                lambda frames: _pair_similarities(frames, num_perm), "a long, b long, s double")
            flagged = matched.join(scored, ["a", "b"]).select("key", "match_end", "match_id", "match_source", "s")
            firsts = self.members.join(self.ranked, "doc").groupBy("label").agg(
                F.min(F.struct("rank", "start", "key")).getField("key").alias("key"))
            reps = firsts.select("key").unionByName(self.templates.where(F.col("first")).select("key"))
            nothing = (F.lit(-1).cast("long"), F.lit("").alias("match_id"), F.lit(""), F.lit(float("nan")))
            rows = flagged.unionByName(reps.select("key", *(c.alias(n) for c, n in zip(
                nothing, ("match_end", "match_id", "match_source", "s")))))
            placed = to_ranges(rows, self.ranges, self.total)
            items = [(a, b - a, context_first) for a, b in zip(self.starts[:-1], self.starts[1:])]
            plans = _with_items(decided.zip(self.where.units).zip(placed).zip(notes), items).map(_range_plans).persist(
                StorageLevel.MEMORY_AND_DISK)
            plans.count()  # made now: what they are made of is released after
            return plans
        finally:
            matched.unpersist()

    def conclude(self, nodes: DataFrame, skips: Skips) -> tuple[Analysis, RDD]:
        """The decisions, as `pipeline.conclude` makes them but kept on the executors: the `Analysis` holds the
        per-document decisions only (duplicates, characters), its clusters are spooled on the driver's disk
        (`SpooledClusters`), and each range's plans are returned, persisted, for the second pass."""
        from pyspark import StorageLevel

        persisted = self.persisted
        try:
            outcomes = self.run()
            persisted.append(outcomes)
            dropped, gone = self.documents_decided(outcomes)
            self.lap("duplicates")
            surviving = self.surviving_copies(gone)
            decided = self.range_decisions(outcomes, surviving).persist(StorageLevel.MEMORY_AND_DISK)
            persisted.append(decided)
            decided.count()
            self.lap("findings")
            context = from_ranges(self.spark, outcomes.zip(self.where.units).map(_context_units),
                                  "key long, doc long, start long, end long").persist(StorageLevel.MEMORY_AND_DISK)
            persisted.append(context)
            firsts = context.agg({"key": "min"}).collect()[0][0]  # the context rule's cluster opens at it
            plans = self.plans(decided, nodes, self.duplicate_notes(dropped, gone),
                               -1 if firsts is None else int(firsts))
            self.lap("plans")
            main, representatives, top = self.report_aggregates(plans)
            self.lap("report_aggregates")
            spooled = SpooledClusters(self.cluster_rows(context, main, representatives, dropped))
            self.lap("clusters")
        except BaseException:
            for cached in persisted:
                cached.unpersist()
            raise
        for cached in persisted:
            cached.unpersist()
        laps = self.clock.laps
        laps["decide_s"] = sum(v for k, v in laps.items() if k.startswith("spark_decide_"))
        analysis = Analysis(SomeDocuments(self.total, {}), _EMPTY_RANGE, self.where.counts, self.characters,
                            _of_documents({}, {}), skips, self.config,
                            self.clock.began, laps, aggregates=ExecutorAggregates(spooled, top))
        return analysis, plans

    def report_aggregates(self, plans: RDD) -> tuple[DataFrame, DataFrame, list[tuple[str, int, int]]]:
        """`report_aggregates` of each range's `report.Tally`, counted in the range's task (`_range_tally`)."""
        from pyspark import StorageLevel

        tallies = plans.zip(self.docs.glom()).map(_range_tally).persist(StorageLevel.MEMORY_AND_DISK)
        self.persisted.append(tallies)
        return report_aggregates(self.spark, tallies)

    def cluster_rows(self, context: DataFrame, main: DataFrame, representatives: DataFrame, dropped: DataFrame
                     ) -> Iterator[tuple[str, str, int, int, int, str, str]]:
        """Every rule and content cluster with findings, then every duplicate group, as (name, main category,
        size, documents, sources, representative, members as JSON), in the report's order (`decide`'s: content
        clusters by first unit, then rules and templates by first match, then the context rule's; duplicate
        groups by their first dropped document, as `report.UnitClusters`), each made in a task that holds the
        whole cluster, its members in canonical order (the context rule's in unit order; a group's kept
        document, then the dropped ones in document order). The entries are sorted into partitions of about
        ENTRY_CHARS characters of members, which the driver reads one at a time. `context` holds the context
        rule's units; `main` and `representatives` are `report_aggregates`'; `dropped` the duplicate documents
        (d, e)."""
        from pyspark.sql import functions as F

        columns = ("key", "doc", "start", "end")
        content = self.members.join(self.names, "label").select(
            F.lit(0).alias("kind"), F.col("label").alias("order"), "name", *columns)
        first_match = self.templates.groupBy("name").agg(F.min("key").alias("order"))
        templates = self.templates.join(self.interesting.select(*columns), "key").join(first_match, "name").select(
            F.lit(1).alias("kind"), "order", "name", *columns)
        rule = context.select(F.lit(2).alias("kind"), F.lit(0).cast("long").alias("order"),
                              F.lit("context").alias("name"), *columns)
        within = F.when(F.col("kind") == 2, F.col("doc")).otherwise(F.col("rank")).alias("within")
        rows = content.unionByName(templates).unionByName(rule).join(main, "name").join(self.ranked, "doc").join(
            self.ids, "doc").select("kind", "order", "name", "category", *columns, "id", "source", within)
        made = rows.unionByName(self._duplicate_groups(dropped)).repartition(self.partitions, "name").\
            sortWithinPartitions("kind", "order", "within", "start").mapInPandas(
            _cluster_json, "kind int, order long, name string, category string, size long, documents long, "
            "sources long, first long, members string").join(representatives, "first", "left").localCheckpoint()
        chars = made.agg(F.sum(F.length("members"))).first()[0] or 0
        ordered = made.repartitionByRange(max(self.partitions, -(-chars // ENTRY_CHARS)), "kind", "order").\
            sortWithinPartitions("kind", "order")
        rdd = _computed(ordered.select("name", "category", "size", "documents", "sources",
                                       F.coalesce("representative", F.lit("")), "members").rdd)
        try:
            for row in rdd.toLocalIterator():
                yield tuple(row)
        finally:
            rdd.unpersist()

    def _duplicate_groups(self, dropped: DataFrame) -> DataFrame:
        """`cluster_rows`' rows of the duplicate groups (kind 3): each kept document (key -1 - it, the key its
        opening is quoted by; within -1, first) with the documents dropped for it, each spanning its text."""
        from pyspark.sql import functions as F

        groups = dropped.groupBy(F.col("e").alias("root")).agg(F.min("d").alias("order"))
        members = dropped.select(F.col("e").alias("root"), F.col("d").alias("doc")).unionByName(
            groups.select("root", F.col("root").alias("doc")))
        kept = F.col("doc") == F.col("root")
        return members.join(groups, "root").join(self.ids, "doc").join(
            self.ids.select(F.col("doc").alias("root"), F.col("id").alias("root_id")), "root").select(
            F.lit(3).alias("kind"), "order", F.concat(F.lit("doc:"), "root_id").alias("name"),
            F.lit("duplicate_document").alias("category"),
            F.when(kept, -1 - F.col("root")).otherwise(-1 - F.col("doc")).alias("key"), "doc",
            F.lit(0).cast("long").alias("start"), F.col("chars").alias("end"), "id", "source",
            F.when(kept, F.lit(-1).cast("long")).otherwise(F.col("doc")).alias("within"))


def _range_outcomes(part: Range, texts: Any, marked: tuple[Marks, np.ndarray], learned: set[str], config: Config
                    ) -> RangeOutcomes:
    """`decide.range_outcomes` of a range, given its marks and its documents whose title is chrome (sorted)."""
    marks, chrome_titles = marked
    return range_outcomes(part, texts, marks, learned, config, chrome_titles)


def _headline_facts(part: Range, texts: Any, marks: Marks, learned: set[str]) -> Columns:
    """`decide.range_facts` of a range's marked units that are threatened or above their document's text, with
    what `ExecutorDecisions._headlines` asks of them: document, start, words, cluster, whether the cluster
    spans documents (`Marks.shared`) and whether a learned template matches them."""
    facts = range_facts(part, texts, marks, learned)
    _, mine, learned_hit = part.zones(learned, marks)  # kept by the range from `range_facts`
    keep = (facts[1] > 0) | (facts[2] > 0)
    rows = np.flatnonzero(mine.hit)[keep]
    units = part.units
    return {"key": facts[0][keep], "doc": units.doc[rows], "start": units.start[rows], "words": units.words[rows],
            "label": mine.group[rows], "cross": mine.shared[rows], "learned": learned_hit[rows],
            "threatened": facts[1][keep], "before": facts[2][keep], "rank": facts[3][keep]}


def _range_scores(part: Range, texts: Any, marks: Marks, learned: set[str]) -> Columns:
    """`decide.range_scores` of a range as `Columns` (key, score)."""
    pairs = range_scores(part, texts, marks, learned)
    return {"key": np.array([k for k, _ in pairs], dtype=np.int64),
            "score": np.array([v for _, v in pairs], dtype=np.float64)}


def _carrier_partition(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """`decide.headline_carriers` of a partition of whole cross groups (their units above their documents' text,
    with `_headline_facts`' columns, the documents' ranks and titled flags) and of lines that a learned
    template matches: (key, doc, rank, grp, direct) per carrier, grp the group's label or -1."""
    import pandas as pd

    frame = _whole(frames)
    if frame is None:
        return
    doc, start, label = (frame[c].to_numpy(np.int64) for c in ("doc", "start", "label"))
    cross = frame["cross"].to_numpy(bool)
    orders, local = np.unique(doc, return_inverse=True)
    ranks = np.zeros(len(orders), dtype=np.int64)
    ranks[local] = frame["doc_rank"].to_numpy(np.int64)
    table = _spans(local.astype(np.int64), start, start, frame["words"].to_numpy(np.int32),
                   np.zeros(len(frame), dtype=bool))
    groups = _groups(np.where(cross, label, -1), ranks, table, least=1)
    found = headline_carriers(table, groups, opening_alone(table, groups, np.ones(len(frame), dtype=bool)),
                              frame["threatened"].to_numpy(np.int64) > 0, ~frame["titled"].to_numpy(bool),
                              frame["learned"].to_numpy(bool), label[[g[0] for g in groups]] if groups else label[:0])
    yield pd.DataFrame({"key": frame["key"].to_numpy(np.int64)[found.unit], "doc": doc[found.unit],
                        "rank": frame["rank"].to_numpy(np.int64)[found.unit], "grp": found.group,
                        "direct": found.direct})


def _proposal_partition(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """`decide.headline_proposals` of a partition of whole groups of carriers with their scores (null: not
    asked): (key, doc, rank, score) of the proposals."""
    frame = _whole(frames)
    if frame is not None:
        proposed = headline_proposals(frame["grp"].to_numpy(np.int64), frame["direct"].to_numpy(bool),
                                      frame["score"].to_numpy(np.float64))
        yield frame.loc[proposed, ["key", "doc", "rank", "score"]]


def _contested_partition(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """(key) of the proposals without a score of documents with several (`decide.contested`), in a partition
    of whole documents."""
    frame = _whole(frames)
    if frame is not None:
        again = contested(frame["doc"].to_numpy(np.int64)) & frame["score"].isna().to_numpy()
        yield frame.loc[again, ["key"]]


def _choice_partition(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """(key) of each document's headline (`decide.headline_choice`), in a partition of whole documents."""
    frame = _whole(frames)
    if frame is not None:
        chosen = headline_choice(frame["doc"].to_numpy(np.int64), frame["rank"].to_numpy(np.int64),
                                 frame["score"].to_numpy(np.float64))
        yield frame.iloc[chosen][["key"]]


def _coverage_partition(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """`decide._coverage_pairs` of a partition of whole clusters whose rows say which units are content:
    (d, e, shared characters) with documents as their orders."""
    import pandas as pd

    found = _cluster_partition(frames)
    if found is None:
        return
    frame, table, ranks, groups, orders, _ = found
    d, e, shared = _coverage_pairs(table, groups, frame["content"].to_numpy(bool), ranks)
    yield pd.DataFrame({"d": orders[d], "e": orders[e], "shared": shared})


def _surviving_partition(frames: Iterator[pd.DataFrame], config: Config) -> Iterator[pd.DataFrame]:
    """`decide._keep_a_surviving_copy` on a partition of whole clusters (`ExecutorDecisions.surviving_copies`):
    rows (key, cleared, match key) of the syndicated targets whose syndicated flag it clears or whose match
    it moves."""
    import pandas as pd

    found = _cluster_partition(frames)
    if found is None:
        return
    frame, table, ranks, groups, _, keys = found
    rows = np.flatnonzero(frame["syn_first"].notna().to_numpy())
    if len(rows) == 0:
        return
    copy = frame["syn_match"].to_numpy(np.float64)[rows].astype(np.int64)
    match = np.where(copy >= 0, np.searchsorted(keys, np.maximum(copy, 0)), -1)
    syndicated = Targets.of(rows, frame["label"].to_numpy(np.int64)[rows], match,
                            frame["syn_first"].to_numpy(object)[rows].astype(bool))
    before = syndicated.match.copy()
    kept = np.full(len(table), 0xFF, dtype=np.uint8)
    gone = dict.fromkeys(np.unique(table.doc[frame["leaving"].notna().to_numpy()]).tolist(), (0, 0.0))
    _keep_a_surviving_copy(syndicated, kept, table, gone, ranks, config)
    changed = (kept[rows] != 0xFF) | (syndicated.match != before)
    now = syndicated.match[changed]
    yield pd.DataFrame({"key": keys[rows[changed]], "cleared": kept[rows[changed]] != 0xFF,
                        "match": np.where(now >= 0, keys[np.maximum(now, 0)], -1)})


def _range_decided(outcome: RangeOutcomes, rows: Columns, config: Config
                   ) -> tuple[np.ndarray, list[tuple[str, ...]], list[str], np.ndarray, np.ndarray]:
    """`ExecutorDecisions.range_decisions` for one range: its outcomes and the targets of its units (key,
    category, cluster name, matched key, syndicated flag cleared)."""
    key, category, match = (_column(rows, c, np.int64) for c in ("key", "category", "match"))
    name, cleared = _column(rows, "name", object).tolist(), _column(rows, "cleared", bool)
    kept = outcome.kept.copy()
    lost = np.searchsorted(outcome.flagged, key[cleared])
    kept[lost] &= np.uint8(0xFF ^ _BIT["syndicated"])
    flagged = np.flatnonzero(kept)
    keys, kept = outcome.flagged[flagged], kept[flagged]
    removed, table = _outcomes(kept, config)
    categories = table[kept].tolist()
    primary = np.array([PRECEDENCE.index(c[0]) for c in categories], dtype=np.int64)
    base = outcome.first_doc << 32  # (key - base) * 4 + category fits in an int64: a range has few documents
    wanted = (key - base) * len(PRECEDENCE) + category
    order = np.argsort(wanted, kind="stable")
    at = np.minimum(np.searchsorted(wanted[order], (keys - base) * len(PRECEDENCE) + primary), max(len(order) - 1, 0))
    found = order[at] if len(order) else np.zeros(len(keys), dtype=np.int64)
    hit = (key[found] == keys) & (category[found] == primary) if len(order) else np.zeros(len(keys), dtype=bool)
    context = np.isin(keys, outcome.context) & (primary == PRECEDENCE.index("boilerplate")) & ~hit
    if not (hit | context).all():
        raise RuntimeError("a flagged unit has no target of its category")
    names = [name[f] if h else "context" for f, h in zip(found.tolist(), hit.tolist())]
    return keys, categories, names, np.where(hit, match[found], -1), removed


Zipped = tuple[tuple[tuple[tuple[Any, ...], RangeUnits | None], Columns], Columns]


def _range_notes(rows: Columns, first: int, count: int) -> dict[int, Note]:
    """`render.DuplicateNotes` of documents first, ..., first + count - 1, made from the rows that concern
    them (`ExecutorDecisions.duplicate_notes`): the dropped and leaving documents they name, as decisions,
    and the ids and lengths of their documents."""
    d, e, kind = (_column(rows, c, np.int64) for c in ("d", "e", "kind"))
    coverage = _column(rows, "coverage", np.float64)
    named = [{a: (b, c) for a, b, c in zip(d[kind == k].tolist(), e[kind == k].tolist(), coverage[kind == k].tolist())}
             for k in (0, 1)]
    known = {}
    for side, docs in (("d", d), ("e", e)):
        for doc, i, n in zip(docs.tolist(), _column(rows, f"id_{side}", object).tolist(),
                             _column(rows, f"chars_{side}", np.int64).tolist()):
            known[doc] = Document(id=i, text="", chars=n)
    return DuplicateNotes(SomeDocuments(len(known), known), _of_documents(*named)).notes(first, count)


def _of_documents(dropped: dict[int, tuple[int, float]], gone: dict[int, tuple[int, float]]) -> Decisions:
    """`decide.Decisions` about documents only, without a unit: what the driver's analysis holds (nothing),
    or what a range's notes need (its duplicates)."""
    none = np.zeros(0, dtype=np.int64)
    return Decisions(none, [], none, np.zeros(0, dtype=bool), [], dropped, gone)


def _range_plans(pair: tuple[Zipped, tuple[int, int, int]]) -> tuple[int, bytes]:
    """`ExecutorDecisions.plans` of one range: (its first document, its plans pickled)."""
    (((decided, item), rows), noted), (first, count, context_first) = pair
    notes = _range_notes(noted, first, count)
    keys, categories, names, match, removed = decided
    table = pickle.loads(item[0])[0] if item is not None else _EMPTY_RANGE
    units = unit_keys(table)
    key, copy_end = _column(rows, "key", np.int64), _column(rows, "match_end", np.int64)
    rep = key[copy_end < 0]  # the clusters' first members; the other rows are the findings' copies
    if context_first >> 32 in range(first, first + count):
        rep = np.union1d(rep, [context_first])
    copy = copy_end >= 0
    found, at = key[copy], np.searchsorted(key[copy], keys)
    known = match >= 0
    if len(found):
        known &= (at < len(found)) & (found[np.minimum(at, len(found) - 1)] == keys)
    else:
        known &= False
    if ((match >= 0) & ~known).any():
        raise RuntimeError("a finding's matched copy did not reach its range")
    take = np.where(known, at, 0)
    ids, sources = _column(rows, "match_id", object)[copy], _column(rows, "match_source", object)[copy]
    similarity = np.where(known, np.round(_column(rows, "s", np.float64)[copy][take] if len(found) else 0.0, 4), np.nan)
    flags = flag_rows((keys & 0xFFFFFFFF).tolist(), table.end[np.searchsorted(units, keys)].tolist(), categories,
                      names, removed.tolist(), similarity.tolist(),
                      [ids[t] if k else None for t, k in zip(take.tolist(), known.tolist())],
                      (match & 0xFFFFFFFF).tolist(), np.where(known, copy_end[copy][take] if len(found) else -1,
                                                              -1).tolist(),
                      [sources[t] if k else "" for t, k in zip(take.tolist(), known.tolist())])
    at = np.searchsorted(units, rep)
    spans = list(zip(rep.tolist(), table.start[at].tolist(), table.end[at].tolist()))
    bounds = np.arange(first, first + count + 1)
    plans = assemble(first, count, np.searchsorted(keys >> 32, bounds).tolist(), flags,
                     np.searchsorted(rep >> 32, bounds).tolist(), spans, notes)
    return first, pickle.dumps(plans, pickle.HIGHEST_PROTOCOL)


def report_aggregates(spark: SparkSession, tallies: RDD
                      ) -> tuple[DataFrame, DataFrame, list[tuple[str, int, int]]]:
    """The report's aggregates (`report.Aggregates`) from (first document, `report.Tally`) of each range, in
    input order: (name, category) of each cluster with findings, the category its main one
    (`Tally.main_categories`: most findings, then the first counted), (first, representative) of the texts the
    report quotes by unit key (a duplicate group's by -1 - its kept document), and the top lines, which alone
    come to the driver."""
    from pyspark.sql import functions as F

    counts = spark.createDataFrame(tallies.flatMap(lambda t: [
        (name, category, n, t[0], i) for i, ((name, category), n) in enumerate(t[1].cluster_categories.items())]),
        "name string, category string, n long, range long, at long")
    # Per (cluster, category): its findings, and where it was counted first (range, then place in the range's tally).
    totals = counts.groupBy("name", "category").agg(F.sum("n").alias("n"), F.min(F.struct("range", "at")).alias("at"))
    most = F.struct("n", (-F.col("at.range")).alias("range"), (-F.col("at.at")).alias("at"), "category")
    main = totals.groupBy("name").agg(F.max(most).getField("category").alias("category"))
    representatives = spark.createDataFrame(tallies.flatMap(lambda t: list(t[1].representatives.items())),
                                            "first long, representative string")
    lines = spark.createDataFrame(tallies.flatMap(
        lambda t: [(text, n, t[1].line_docs[text]) for text, n in t[1].lines.items()]),
        "text string, findings long, documents long")
    top = lines.groupBy("text").agg(F.sum("findings").alias("findings"), F.sum("documents").alias("documents")
                                    ).orderBy(F.desc("documents"), F.desc("findings"), "text").limit(TOP_LINES)
    return main, representatives, [(row[0], int(row[1]), int(row[2])) for row in top.collect()]


def _range_tally(pair: tuple[tuple[int, bytes], list[tuple[int, Document]]]) -> tuple[int, Tally]:
    """(first document, `report.Tally`) of a range, its documents rendered by their plans without texts."""
    (first, pickled), keyed = pair
    return first, render_batch([doc for _, doc in keyed], pickle.loads(pickled), False, False, False).tally


def _context_units(pair: tuple[RangeOutcomes, RangeUnits | None]) -> Columns:
    """(key, doc, start, end) of a range's units that the context rule makes boilerplate."""
    outcome, item = pair
    if item is None or not len(outcome.context):
        return {}
    table = pickle.loads(item[0])[0]
    at = np.searchsorted(unit_keys(table), outcome.context)
    return {"key": outcome.context, "doc": table.doc[at], "start": table.start[at], "end": table.end[at]}


def _cluster_json(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """`ExecutorDecisions.cluster_rows` of a partition of whole clusters, sorted by cluster, then members."""
    import pandas as pd

    frame = _whole(frames)
    if frame is None:
        return
    order = frame["order"].to_numpy(np.int64)
    kind = frame["kind"].to_numpy(np.int64)
    cuts = np.flatnonzero(np.concatenate(([True], (order[1:] != order[:-1]) | (kind[1:] != kind[:-1]))))
    ends = np.append(cuts[1:], len(frame)).tolist()
    ids = [compact(i) for i in frame["id"].tolist()]
    doc, start, end = (frame[c].to_numpy(np.int64) for c in ("doc", "start", "end"))
    source, key, name = frame["source"].tolist(), frame["key"].to_numpy(np.int64), frame["name"].tolist()
    category = frame["category"].tolist()
    out = []
    for a, b in zip(cuts.tolist(), ends):
        distinct = set(doc[a:b].tolist())
        named = {source[i] for i in range(a, b) if source[i]}
        out.append((int(kind[a]), int(order[a]), name[a], category[a], b - a, len(distinct), len(named), int(key[a]),
                    member_list(zip(ids[a:b], start[a:b].tolist(), end[a:b].tolist()))))
    yield pd.DataFrame(out, columns=["kind", "order", "name", "category", "size", "documents", "sources", "first",
                                     "members"])


class SpooledClusters:
    """`report.NamedClusters` that the executors made (`ExecutorDecisions.cluster_rows`), read back in the
    report's order into an anonymous temporary file, each entry behind its sizes. The driver keeps the offset
    of every BLOCK-th entry only, not one per cluster: reading an entry scans from its block's first, or from
    the last entry read when that is on the way (the report reads them in order, head then members)."""

    BLOCK = 256
    SIZES = struct.Struct("<IQ")  # an entry's head and members, in bytes

    def __init__(self, rows: Iterator[tuple[str, str, int, int, int, str, str]]) -> None:
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 - it lives as long as the report reads it
        starts, offset, count = [], 0, 0
        for *fields, members in rows:
            head, body = json.dumps(fields).encode(), members.encode("utf-8")
            if count % self.BLOCK == 0:
                starts.append(offset)
            self.file.write(self.SIZES.pack(len(head), len(body)) + head + body)
            offset += self.SIZES.size + len(head) + len(body)
            count += 1
        self.file.flush()
        self.count, self.starts = count, np.array(starts, dtype=np.int64)
        self.cursor = (-1, 0)  # the last entry located, and its offset

    def __len__(self) -> int:
        return self.count

    def head(self, i: int) -> tuple[str, str, int, int, int, str]:
        at, size, _ = self._entry(i)
        return tuple(json.loads(os.pread(self.file.fileno(), size, at)))  # type: ignore[return-value]

    def members_json(self, i: int) -> str:
        at, head, size = self._entry(i)
        return os.pread(self.file.fileno(), size, at + head).decode("utf-8")

    def _entry(self, i: int) -> tuple[int, int, int]:
        """Where entry i's head starts, and the sizes of its head and members."""
        if not 0 <= i < self.count:
            raise IndexError("cluster index out of range")
        j, offset = self.cursor
        if not i - i % self.BLOCK <= j <= i:
            j, offset = i - i % self.BLOCK, int(self.starts[i // self.BLOCK])
        while True:
            head, body = self.SIZES.unpack(os.pread(self.file.fileno(), self.SIZES.size, offset))
            if j == i:
                self.cursor = (i, offset)
                return offset + self.SIZES.size, head, body
            offset += self.SIZES.size + head + body
            j += 1


@dataclass
class ExecutorAggregates:
    """`report.Aggregates` that the executors made (`ExecutorDecisions.report_aggregates`)."""

    spooled: SpooledClusters
    top: list[tuple[str, int, int]]

    def clusters(self) -> SpooledClusters:
        return self.spooled

    def top_lines(self) -> list[tuple[str, int, int]]:
        return self.top


def distinct_nodes(rows: DataFrame) -> DataFrame:
    """(sigkey, node, words, sig, rule, units) per distinct signature: `node` is its first unit's code (see
    START_SPAN), `words` the most words of its units, as `pipeline.cluster_units` counts them, `rule` the
    rule that matches its first unit (`pipeline.rule_groups`), and `units` how many units have it."""
    from pyspark.sql import functions as F

    code = F.col("doc") * START_SPAN + F.col("start")
    return (rows.where(F.col("kind") == 1).groupBy("sigkey")
            .agg(F.min(code).alias("node"), F.max("words").alias("words"), F.min_by("sig", code).alias("sig"),
                 F.min_by("rule", code).alias("rule"), F.sum("units").alias("units")))


def candidate_edges(nodes: DataFrame, config: Config, partitions: int, count: int) -> DataFrame:
    """Verified pairs (a, b) of the `count` nodes: band keys, hash-partitioned by (band, key) so that every
    bucket is whole in one partition (at least `partitions`, and enough that none holds much over PAIR_ROWS
    rows), `index.bucket_pairs` with the nodes' rule groups (as `pipeline.rule_groups`) in each partition,
    then `cluster.verify` on each pair joined with both signatures."""
    from pyspark.sql import functions as F

    bands, _ = index.lsh_params(config.lsh_threshold, config.num_perm)

    keys = nodes.select("node", "sig", "rule").mapInPandas(lambda frames: _band_keys(frames, config),
                                                             "band int, key long, node long, grp long")
    cap = 0 if config.lsh_index == "datasketch" else config.bucket_cap  # as index.candidate_pairs does
    buckets = keys.repartition(max(partitions, -(-count * bands // PAIR_ROWS)), "band", "key")
    pairs = buckets.mapInPandas(lambda frames: _bucket_pairs(frames, cap), "a long, b long").distinct()
    side = {s: nodes.select(F.col("node").alias(s), F.col("sig").alias(f"sig_{s}"), F.col("words").alias(f"words_{s}"))
            for s in ("a", "b")}
    candidates = pairs.join(side["a"], "a").join(side["b"], "b").select(
        "a", "b", "sig_a", "sig_b", "words_a", "words_b")
    return candidates.mapInPandas(lambda frames: _verified(frames, config), "a long, b long")


def clustered_nodes(nodes: DataFrame, labels: DataFrame) -> DataFrame:
    """(sigkey, node, label) of the clustered nodes: those whose component has other nodes (they have a label)
    or whose signature has other units. Their signatures stay on the executors (`similarities`)."""
    from pyspark.sql import functions as F

    clustered = F.col("label").isNotNull() | (F.col("units") >= 2)
    return nodes.join(labels, "node", "left").where(clustered).select(
        "sigkey", "node", F.coalesce("label", "node").alias("label"))


def _pair_similarities(frames: Iterator[pd.DataFrame], num_perm: int) -> Iterator[pd.DataFrame]:
    """(a, b, `cluster.similarity`) of rows of nodes a and b that carry both signatures."""
    import pandas as pd

    for frame in frames:
        k = len(frame)
        sigs = _pair_signatures(frame, num_perm)
        yield pd.DataFrame({"a": frame["a"].to_numpy(np.int64), "b": frame["b"].to_numpy(np.int64),
                            "s": cluster.similarity(sigs, np.arange(k), np.arange(k, 2 * k))})


class _Clock:
    """Seconds per Spark stage; each lap ends when an action has materialised the stage."""

    def __init__(self) -> None:
        self.began = self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = now - self.last
        self.last = now


def _unit_table(units: pd.DataFrame) -> UnitTable:
    """A frame of `UNIT_COLUMNS` as a table, without signatures (`sig_row` -1)."""
    tails = [t if isinstance(t, str) else "" for t in units["ttail"].tolist()]
    template = [None if p is None else (p, t) for p, t in zip(_strings(units["tprefix"]), tails)]
    return UnitTable(
        doc=units["doc"].to_numpy(np.int64), start=units["start"].to_numpy(np.int64),
        end=units["end"].to_numpy(np.int64), words=units["words"].to_numpy(np.int32),
        mode=units["mode"].to_numpy(np.int8), sig_row=np.full(len(units), -1, dtype=np.int64),
        sigs=np.zeros((0, 1), dtype=np.uint32), rule=_strings(units["rule"]), template=template,
        title=units["title"].to_numpy(bool), sentence_end=units["sentence_end"].to_numpy(bool),
        label_line=units["label_line"].to_numpy(bool),
    )


def first_pass(inputs: Inputs, config: Config, master: str | None = None, partitions: int = 0,
               conf: dict[str, str] | None = None) -> tuple[Analysis, Render]:
    """The CLI's first pass on Spark, and its second pass (`render_on_executors`)."""
    check_inputs(inputs)
    spark = session(master, partitions, conf)
    partitions = partitions or spark.sparkContext.defaultParallelism
    analysis, docs, plans = analyse_corpus(spark, keyed_files(spark, inputs, config, partitions), config,
                                           partitions)

    def render(keep: bool, encode: bool, texts: bool) -> Iterator[tuple[list[Document], Rendered]]:
        rendered = None
        try:
            rendered = render_on_executors(plans, docs, keep, encode, texts)
            yield from _computed(rendered).toLocalIterator()
        finally:
            docs.unpersist()
            plans.unpersist()
            if rendered is not None:
                rendered.unpersist()

    return analysis, render


def check_inputs(inputs: Inputs) -> None:
    """Refuse, before anything is read, the input that the Spark engine cannot read: stdin (executors cannot
    see it)."""
    if inputs.stdin:
        raise ConfigError("the Spark engine reads files and folders, not stdin (-)")


def _computed(rdd: RDD) -> RDD:
    """`rdd` persisted and computed by all executors at once, for the driver to read in order: its
    `toLocalIterator` alone would run one job per partition, one partition at a time."""
    from pyspark import StorageLevel

    rdd.persist(StorageLevel.MEMORY_AND_DISK).count()
    return rdd


def _range_of(order: Any, ranges: int, total: int) -> Any:
    """The range (partition) of the admitted documents that holds document `order` (an int or an array)."""
    return order * ranges // total


def _range_starts(docs: RDD, total: int) -> list[int]:
    """The first document of each range of `docs`, and `total` at the end."""
    ranges = docs.getNumPartitions()
    return np.searchsorted(_range_of(np.arange(total), ranges, max(1, total)), np.arange(ranges + 1)).tolist()


def _with_items(ranges: RDD, items: list[Any]) -> RDD:
    """Each element of `ranges` (one per partition) paired with `items[partition]`: the driver's work for
    a range travels to that range's task only."""
    return ranges.zip(ranges.context.parallelize(items, len(items)))


def render_on_executors(plans: RDD, docs: RDD, keep: bool, encode: bool, texts: bool) -> RDD:
    """The second pass on the executors: (documents, `render.Rendered`) per batch, in input order.

    Each range of `docs` (consecutive documents, see `admit`) is rendered by `render.render_batch` with
    the plans of its documents, made in that range's task (`ExecutorDecisions.plans`): `plans` holds one
    element per range, (first document, pickled plans), zipped with the ranges. Documents and cleaned
    texts are kept only with `texts`; otherwise only counters and findings come back. The counters leave out
    what `ExecutorDecisions.report_aggregates` made (`report.Tally.without_aggregates`).
    """
    def rendered(pair: tuple[list[tuple[int, Document]], tuple[int, bytes]]
                 ) -> Iterator[tuple[list[Document], Rendered]]:
        keyed, (start, pickled) = pair
        batch, plans = [doc for _, doc in keyed], pickle.loads(pickled)
        if len(batch) != len(plans) or any(doc.order != start + i for i, doc in enumerate(batch)):
            raise RuntimeError(f"the documents of the range at {start} do not match its plans")
        for at in range(0, len(batch), BATCH_DOCS):
            part = batch[at:at + BATCH_DOCS]
            rendered = render_batch(part, plans[at:at + BATCH_DOCS], keep, encode, texts)
            yield (part if texts else []), replace(rendered, tally=rendered.tally.without_aggregates())

    return docs.glom().zip(plans).flatMap(rendered)


# ---------------------------------------------------------------- the pipeline step


def clean_frame(frame: DataFrame, config: Config | None = None, partitions: int = 0) -> tuple[DataFrame, Report]:
    """The pipeline step on Spark: the documents that are kept, with cleaned text, and the report.

    Takes a DataFrame of records (fields named as in the config) and returns
    one with the same columns, in input order, without the documents dropped
    as duplicates, like `dedupe.clean_documents`. Texts are cleaned and
    findings made on the executors (`render_on_executors`); the driver only
    merges the report's counters and spools the findings (`Report.spool`).
    The frame's row order is the input order (see `keyed_frame`); the
    rendered documents stay persisted behind the returned frame.
    """
    from pyspark.sql import types as T

    config = config or Config()
    spark = frame.sparkSession
    for key, value in ARROW.items():
        spark.conf.set(key, value)
    partitions = partitions or spark.sparkContext.defaultParallelism
    analysis, docs, plans = analyse_corpus(spark, keyed_frame(frame, config), config, partitions)
    kept: list[RDD] = []

    def render(keep: bool, encode: bool, texts: bool) -> Iterator[tuple[list[Document], Rendered]]:
        batches = render_on_executors(plans, docs, keep, encode, True)
        kept.append(batches)  # named before it is computed, so that a failure unpersists it
        _computed(batches)
        yield from batches.map(lambda pair: ([], without_texts(pair[1]))).toLocalIterator()

    spool = FindingsSpool()
    try:
        report = second_pass(analysis, render, lambda cleaned: None, keep_findings=False, sink=spool)
    except BaseException:
        spool.close()
        for batches in kept:
            batches.unpersist()
        raise
    finally:
        docs.unpersist()
        plans.unpersist()
    report.spool = spool
    fields = list(frame.schema.fields)
    if config.keep_original_field and config.keep_original_field not in frame.columns:
        fields.append(T.StructField(config.keep_original_field, T.StringType()))
    schema = T.StructType(fields)
    names = schema.fieldNames()
    records = kept[0].flatMap(lambda pair: [
        tuple(output_record(CleanedDocument(doc, text), config).get(name) for name in names)
        for doc, text, dropped in zip(pair[0], pair[1].texts, pair[1].dropped) if not dropped])
    return spark.createDataFrame(records, schema), report

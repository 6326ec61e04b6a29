"""The audit report as one self-contained HTML page that people can open from disk.

Everything is computed here, in Python, at render time: the charts are inline
SVG (no chart library, nothing to fetch, nothing that can break offline), the
word-level edits of syndicated copies come from `difflib`, and the page's
small script only sorts, filters and moves the keyboard focus. A
Content-Security-Policy forbids every network request, so the page behaves the
same on an air-gapped laptop as online.

Large corpora: the page embeds at most `max_docs` document views and
`max_clusters` rows per table (and side-by-side views), and says what it left
out, so 100,000 documents stay a file of a few megabytes.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from html import escape
from pathlib import Path
from typing import Any

from dedupe.config import CATEGORIES, Config
from dedupe.document import Document
from dedupe.report import Finding, Report, briefly

DEFAULT_MAX_DOCS = 200
DEFAULT_MAX_CLUSTERS = 100
COPIES_SHOWN = 4  # copies of one syndication cluster beside the kept copy
SOURCES_SHOWN = 30  # sources in the per-source chart and the source matrix
SKIPS_SHOWN = 50  # skipped inputs listed by location
DOC_CHARS_SHOWN = 50_000  # characters of one document's text view
PREVIEW_CHARS = 120  # characters of a matching copy quoted in a tooltip

CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"
COLOURS = {  # Okabe-Ito: distinguishable with the common colour-vision deficiencies
    "repeat": "#E69F00", "boilerplate": "#56B4E9", "template": "#009E73", "syndicated": "#CC79A7",
    "duplicate_document": "#D55E00",
}


# ---------------------------------------------------------------- inputs


REQUIRED_SUMMARY = {"documents", "units", "characters", "duplicated_share", "categories", "skipped"}


def as_report(data: Report | Mapping[str, Any]) -> Report:
    """A Report from a Report or from its JSON dict (as written by `Report.write_json`)."""
    if isinstance(data, Report):
        return data
    names = [f.name for f in dataclasses.fields(Finding)]
    try:
        findings = [Finding(**{n: f.get(n) for n in names}) for f in data.get("findings") or []]
        report = Report(dict(data["summary"]), findings, list(data.get("clusters") or []),
                        dict(data.get("syndication") or {"sources": [], "pairs": [], "matrix": []}))
    except (KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"not a dedupe report: {error}") from error
    missing = sorted(REQUIRED_SUMMARY - set(report.summary))
    if missing:
        raise ValueError(f"not a dedupe report: its summary lacks {', '.join(missing)}")
    return report


def load_report(path: str | Path) -> Report:
    """Read a JSON report; ValueError (with the reason) when it is not one."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: cannot read the report: {error}") from error
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a dedupe report (a JSON {type(data).__name__})")
    if data.get("findings_file") and "findings" not in data:
        data["findings"] = _read_findings(Path(path).parent / data["findings_file"])
    return as_report(data)


def _read_findings(path: Path) -> list[dict[str, Any]]:
    """Findings streamed to a file by `--findings` (JSONL, optionally compressed, or Parquet)."""
    from dedupe.io import open_binary

    try:
        if path.name.lower().endswith(".parquet"):
            import pyarrow.parquet as pq

            rows = pq.read_table(path).to_pylist()
            for row in rows:
                row["match"] = json.loads(row["match"]) if row["match"] else None
            return rows
        with open_binary(path) as stream:
            return [json.loads(line) for line in stream if line.strip()]
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot read the findings file {path} named by the report: {error}") from error


def read_documents(inputs: Sequence[str], report: Report) -> list[Document]:
    """Re-read the documents a report was made from, with the report's field names and limits.

    The same admission as `run` (skips, duplicate ids) is applied, so the
    documents are the ones the report counted. Raises ConfigError or
    FileNotFoundError for unusable parameters or paths.
    """
    from dedupe.io import discover, read
    from dedupe.pipeline import Admission

    known = {f.name for f in dataclasses.fields(Config)}
    params = {k: v for k, v in (report.summary.get("parameters") or {}).items() if k in known}
    config = Config.from_dict({**params, "strict": False})
    return list(Admission(config).admit(read(discover(inputs), config)))


def texts_mismatch(report: Report, ids: Collection[str]) -> str | None:
    """How the documents given to render a report (their `ids`) differ from those it counts, or None."""
    flagged = {f.doc_id for f in report.findings}
    missing = sum(1 for d in flagged if d not in ids)
    if not missing and len(ids) == report.summary["documents"]:
        return None
    return (f"The texts given hold {len(ids):,} documents; the report counts {report.summary['documents']:,}, "
            f"and {missing:,} documents with findings have no text")


@dataclass
class _Corpus:
    """Texts, sources and dates by document id, in input order."""

    texts: dict[str, str]
    sources: dict[str, str | None]
    dates: dict[str, str | None]


def _corpus(documents: Mapping[str, str] | Iterable[Document] | None) -> _Corpus | None:
    if documents is None:
        return None
    if isinstance(documents, Mapping):
        return _Corpus(dict(documents), dict.fromkeys(documents), dict.fromkeys(documents))
    corpus = _Corpus({}, {}, {})
    for doc in documents:
        corpus.texts.setdefault(doc.id, doc.text)
        corpus.sources.setdefault(doc.id, doc.source)
        corpus.dates.setdefault(doc.id, doc.date)
    return corpus


# ---------------------------------------------------------------- the model of the page


@dataclass
class _Page:
    """What the sections share: findings by document, anchors, and notes on what was capped."""

    report: Report
    corpus: _Corpus | None
    max_docs: int
    max_clusters: int
    by_doc: dict[str, list[Finding]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    anchors: dict[str, str] = field(default_factory=dict)  # doc id -> element id of its view
    notes: list[str] = field(default_factory=list)

    def link(self, doc_id: str, finding: Finding | None = None) -> str:
        """The document id, as a link to its view (or to one finding in it) when the view is embedded."""
        anchor = self.anchors.get(doc_id)
        if anchor is None:
            return f"<code>{escape(doc_id)}</code>"
        target = f"{anchor}-{finding.start}" if finding is not None else anchor
        return f'<a href="#{target}"><code>{escape(doc_id)}</code></a>'

    def rate(self, doc_id: str) -> float:
        """Share of a document's characters that were flagged."""
        text = self.corpus.texts[doc_id] if self.corpus else ""
        flagged = sum(f.end - f.start for f in self.by_doc.get(doc_id, ()))
        return min(1.0, flagged / len(text)) if text else 0.0


def render_html(report: Report | Mapping[str, Any], documents: Mapping[str, str] | Iterable[Document] | None = None,
                max_docs: int = DEFAULT_MAX_DOCS, max_clusters: int = DEFAULT_MAX_CLUSTERS) -> str:
    """The whole page as a string.

    `documents` (id -> text, or Document objects, which also give sources)
    enables the per-document view, the duplication-rate charts and full
    texts in the syndication view; without them the page says what is missing.
    """
    page = _Page(as_report(report), _corpus(documents), max(0, max_docs), max(1, max_clusters))
    for f in page.report.findings:
        page.by_doc.setdefault(f.doc_id, []).append(f)
    page.order = list(page.corpus.texts) if page.corpus else list(page.by_doc)
    boiler = _boilerplate_rows(page)
    syndicated = _syndication_clusters(page)
    duplicates = [f for f in page.report.findings if f.category == "duplicate_document"]
    _choose_documents(page, boiler, syndicated, duplicates)
    body = [
        _summary_section(page),
        _charts_section(page),
        _boilerplate_section(page, boiler),
        _syndication_section(page, syndicated, duplicates),
        _documents_section(page),
    ]
    notes = "".join(f"<li>{n}</li>" for n in page.notes)
    summary = page.report.summary
    head = (f"<p class=lede>dedupe {escape(str(summary.get('dedupe_version', '')))} audit of "
            f"{summary['documents']:,} documents, made in {summary.get('wall_time_s', 0):.2f} s. "
            "Every flagged span carries its category as a word, not only as a colour.</p>")
    page_html = (
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>dedupe report: {summary['documents']:,} documents</title><style>{_CSS}</style></head><body>"
        '<a class=skip href="#main">Skip to the report</a>'
        "<header><h1>dedupe audit report</h1><nav aria-label=Sections><a href=#summary>Summary</a>"
        "<a href=#charts>Charts</a><a href=#lines>Boilerplate and templates</a><a href=#syndication>Syndication</a>"
        f"<a href=#documents>Documents</a></nav></header><main id=main>{head}"
        + (f'<section aria-label="What this page leaves out" class=notes><ul>{notes}</ul></section>' if notes else "")
        + "".join(body) + f"</main><script>{_JS}</script></body></html>\n"
    )
    # Lone surrogates (legal in JSON strings) cannot be written as UTF-8.
    return page_html.encode("utf-8", "replace").decode("utf-8")


def write_html(path: str | Path, report: Report | Mapping[str, Any],
               documents: Mapping[str, str] | Iterable[Document] | None = None,
               max_docs: int = DEFAULT_MAX_DOCS, max_clusters: int = DEFAULT_MAX_CLUSTERS) -> None:
    """Render and write atomically: a failed write leaves the previous file, or none."""
    from dedupe.io import write_text

    write_text(Path(path), render_html(report, documents, max_docs, max_clusters))


# ---------------------------------------------------------------- choosing what to embed


@dataclass
class _Row:
    """One boilerplate line or template: a cluster of boilerplate/template findings."""

    cluster: str
    category: str
    findings: list[Finding]
    documents: int
    sources: int | None


def _boilerplate_rows(page: _Page) -> list[_Row]:
    groups: dict[str, list[Finding]] = defaultdict(list)
    for f in page.report.findings:
        if f.category in ("boilerplate", "template"):
            groups[f.cluster_id].append(f)
    sources = {c["id"]: c.get("sources") for c in briefly(page.report.clusters)}
    rows = [_Row(name, Counter(f.category for f in fs).most_common(1)[0][0], fs, len({f.doc_id for f in fs}),
                 sources.get(name)) for name, fs in groups.items()]
    rows.sort(key=lambda r: (-r.documents, -len(r.findings), r.cluster))
    if len(rows) > page.max_clusters:
        page.notes.append(f"Boilerplate and templates: the {page.max_clusters:,} most widespread of "
                          f"{len(rows):,} clusters are listed (<code>--html-max-clusters</code>).")
    return rows[:page.max_clusters]


@dataclass
class _Syndicated:
    """A syndication cluster: the kept copy and the removed ones."""

    cluster: dict[str, Any]
    kept: dict[str, Any] | None  # doc_id, start, end
    copies: list[Finding]


def _syndication_clusters(page: _Page) -> list[_Syndicated]:
    copies: dict[str, list[Finding]] = defaultdict(list)
    for f in page.report.findings:
        if f.category == "syndicated":
            copies[f.cluster_id].append(f)
    out = []
    for at, cluster in enumerate(briefly(page.report.clusters)):
        found = copies.get(cluster["id"])
        if not found:
            continue
        kept = Counter(json.dumps(f.match, sort_keys=True) for f in found if f.match).most_common(1)
        out.append((at, _Syndicated(cluster, json.loads(kept[0][0]) if kept else None, found)))
    out.sort(key=lambda s: (-s[1].cluster.get("documents", 0), -s[1].cluster.get("size", 0), s[1].cluster["id"]))
    if len(out) > page.max_clusters:
        page.notes.append(f"Syndication: the {page.max_clusters:,} largest of {len(out):,} clusters are shown "
                          "(<code>--html-max-clusters</code>).")
    return [replace(s, cluster=page.report.clusters[at]) for at, s in out[:page.max_clusters]]  # with members


def _choose_documents(page: _Page, boiler: list[_Row], syndicated: list[_Syndicated],
                      duplicates: list[Finding]) -> None:
    """Pick the document views: those the tables link to, then the most duplicated, then a spread."""
    if page.corpus is None:
        page.notes.append("Texts were not given (a report rendered from JSON without <code>--input</code>): the "
                          "per-document view, the duplication-rate histogram and the per-source chart are left "
                          "out, and the syndication view quotes the report's texts, cut at 200 characters.")
        return
    texts = page.corpus.texts
    if (mismatch := texts_mismatch(page.report, texts.keys())) is not None:
        page.notes.append(f"{mismatch}: the charts use the texts given.")
    wanted: list[str] = [r.findings[0].doc_id for r in boiler]
    for s in syndicated:
        wanted += ([s.kept["doc_id"]] if s.kept else []) + [f.doc_id for f in s.copies[:COPIES_SHOWN]]
    for f in duplicates[:page.max_clusters]:
        wanted += [f.doc_id] + ([f.match["doc_id"]] if f.match else [])
    chosen = dict.fromkeys(d for d in wanted if d in texts)
    ranked = sorted((d for d in texts if d in page.by_doc), key=lambda d: -page.rate(d))
    room = page.max_docs - len(chosen)
    chosen.update(dict.fromkeys(ranked[:max(0, room - room // 2)]))
    rest = [d for d in page.order if d not in chosen]
    room = page.max_docs - len(chosen)
    if room > 0 and rest:
        step = max(1, len(rest) / room)
        chosen.update(dict.fromkeys(rest[int(i * step)] for i in range(min(room, len(rest)))))
    keep = set(list(chosen)[:page.max_docs])
    position = {d: i for i, d in enumerate(page.order)}
    for d in sorted(keep, key=position.__getitem__):
        page.anchors[d] = f"doc-{position[d]}"
    if len(keep) < len(texts):
        page.notes.append(f"Documents: {len(keep):,} of {len(texts):,} are shown in full (those the tables link "
                          "to, then the most duplicated, then a spread through the input; "
                          "<code>--html-max-docs</code>).")


# ---------------------------------------------------------------- sections


def _label(category: str) -> str:
    return f'<span class="lbl l-{category}">{category.replace("_", " ")}</span>'


def _noun(count: int, word: str) -> str:
    return word if count == 1 else word + "s"


def _card(label: str, key: str, value: float, shown: str, extra: str = "") -> str:
    return (f'<div class=card><div class=k>{label}</div>'
            f'<div class=v data-key="{key}" data-value="{value}">{shown}</div>{extra}</div>')


def _summary_section(page: _Page) -> str:
    s = page.report.summary
    actions = (s.get("parameters") or {}).get("actions", {})
    cards = [
        _card("documents", "documents", s["documents"], f"{s['documents']:,}"),
        _card("units", "units", s["units"], f"{s['units']:,}"),
        _card("characters", "characters", s["characters"], f"{s['characters']:,}"),
        _card("duplicated share of characters", "duplicated_share", s["duplicated_share"],
              f"{s['duplicated_share']:.2%}",
              f"<div class=sub>{s.get('characters_flagged', 0):,} characters flagged</div>"),
        _card("characters removed", "characters_removed", s.get("characters_removed", 0),
              f"{s.get('characters_removed', 0):,}"),
        _card("documents affected", "documents_affected", s.get("documents_affected", 0),
              f"{s.get('documents_affected', 0):,}"),
        _card("duplicate documents dropped", "duplicate_documents_dropped", s.get("duplicate_documents_dropped", 0),
              f"{s.get('duplicate_documents_dropped', 0):,}"),
        _card("documents left empty", "documents_emptied", s.get("documents_emptied", 0),
              f"{s.get('documents_emptied', 0):,}"),
    ]
    per = []
    for c in CATEGORIES:
        v = s["categories"].get(c, {"findings": 0, "characters": 0, "documents": 0})
        action = actions.get(c, "")
        verb = "flagged, kept" if action == "flag-only" else "removed"
        per.append(
            f'<div class="card cat c-{c}">{_label(c)}'
            f'<div class=v data-key="categories.{c}.findings" data-value="{v["findings"]}">{v["findings"]:,}</div>'
            f'<div class=sub>{_noun(v["findings"], "finding")} in '
            f'<span data-key="categories.{c}.documents" data-value="{v["documents"]}">{v["documents"]:,}</span> '
            f'{_noun(v["documents"], "document")}</div>'
            f'<div class=sub><span data-key="categories.{c}.characters" data-value="{v["characters"]}">'
            f'{v["characters"]:,}</span> characters {verb}</div>'
            f"<div class=sub>action: {escape(action)}</div></div>")
    skipped = s.get("skipped") or {"count": 0, "reasons": {}, "items": []}
    skip_html = (f'<h3>Skipped inputs: <span data-key="skipped.count" data-value="{skipped["count"]}">'
                 f'{skipped["count"]:,}</span></h3>')
    if skipped["count"]:
        reasons = "".join(f"<tr><td>{escape(k)}</td><td class=n>{n:,}</td></tr>"
                          for k, n in skipped["reasons"].items())
        items = "".join(f"<tr><td><code>{escape(i['location'])}</code></td><td>{escape(i['reason'])}</td>"
                        f"<td>{escape(i['detail'])}</td></tr>" for i in skipped["items"][:SKIPS_SHOWN])
        more = (f"<p>The first {SKIPS_SHOWN} of {skipped['count']:,} are listed; the report lists up to 1,000.</p>"
                if skipped["count"] > SKIPS_SHOWN else "")
        skip_html += (f"<table><caption>Reasons</caption><thead><tr><th scope=col>reason</th><th scope=col>inputs"
                      f"</th></tr></thead><tbody>{reasons}</tbody></table>"
                      f"<table><caption>Skipped inputs</caption><thead><tr><th scope=col>location</th>"
                      f"<th scope=col>reason</th><th scope=col>detail</th></tr></thead><tbody>{items}</tbody></table>"
                      + more)
    else:
        skip_html += "<p>Every input was read.</p>"
    params = escape(json.dumps(s.get("parameters") or {}, ensure_ascii=False, indent=1))
    return (f"<section id=summary><h2>Summary</h2><div class=cards>{''.join(cards)}</div>"
            f"<h3>Per category</h3><div class=cards>{''.join(per)}</div>{skip_html}"
            f"<details><summary>Parameters of the run</summary><pre>{params}</pre></details></section>")


def _bars(chart_id: str, title: str, rows: list[tuple[str, float, str, str]]) -> str:
    """A horizontal bar chart: rows of (label, value in 0..1 of the axis, value text, colour)."""
    width, label_w, bar_w, row_h = 720, 190, 300, 28
    height = row_h * len(rows) + 10
    parts = [f'<svg id="{chart_id}" class=chart role=img aria-labelledby="{chart_id}-t" viewBox="0 0 {width} '
             f'{height}" width="{width}" height="{height}"><title id="{chart_id}-t">{escape(title)}</title>']
    for i, (label, value, text, colour) in enumerate(rows):
        y = 5 + i * row_h
        w = max(0.0, min(1.0, value)) * bar_w
        parts.append(f'<text x="{label_w - 8}" y="{y + 18}" text-anchor=end>{escape(label)}</text>'
                     f'<rect class=track x="{label_w}" y="{y + 4}" width="{bar_w}" height="{row_h - 8}"/>'
                     f'<rect class=bar x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" '
                     f'fill="{colour}"><title>{escape(label)}: {escape(text)}</title></rect>'
                     f'<text x="{label_w + bar_w + 8}" y="{y + 18}">{escape(text)}</text>')
    return "".join(parts) + "</svg>"


def _columns(chart_id: str, title: str, rows: list[tuple[str, int]], x_label: str, log: bool = False) -> str:
    """A vertical bar chart of counts; `log` scales heights by log10(1 + count) with decade gridlines."""
    width, height, left, bottom, top = 720, 260, 60, 50, 16
    plot_h, n = height - bottom - top, max(1, len(rows))
    slot = (width - left - 10) / n
    peak = max([v for _, v in rows] + [1])

    def scale(v: float) -> float:
        return (math.log10(1 + v) / math.log10(1 + peak) if log else v / peak) * plot_h

    parts = [f'<svg id="{chart_id}" class=chart role=img aria-labelledby="{chart_id}-t" viewBox="0 0 {width} '
             f'{height}" width="{width}" height="{height}"><title id="{chart_id}-t">{escape(title)}</title>']
    if log:
        ticks = [10 ** k for k in range(int(math.log10(peak)) + 1)]
    else:
        unit = 10 ** int(math.log10(peak))
        step = next(unit * m for m in (0.1, 0.2, 0.5, 1, 2) if unit * m >= 1 and peak / (unit * m) <= 5)
        ticks = [int(step * k) for k in range(1, int(peak / step) + 1)]
    for t in sorted(set(ticks)):
        y = top + plot_h - scale(t)
        parts.append(f'<line class=grid x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor=end>{t:,}</text>')
    for i, (label, value) in enumerate(rows):
        h = scale(value)
        x = left + i * slot + slot * 0.15
        parts.append(f'<rect class="bar col" x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{slot * 0.7:.1f}" '
                     f'height="{h:.1f}"><title>{escape(label)}: {value:,}</title></rect>'
                     f'<text x="{x + slot * 0.35:.1f}" y="{top + plot_h - h - 4:.1f}" text-anchor=middle '
                     f'class=small>{value:,}</text>'
                     f'<text x="{x + slot * 0.35:.1f}" y="{top + plot_h + 16}" text-anchor=middle '
                     f'class=small>{escape(label)}</text>')
    parts.append(f'<line class=axis x1="{left}" x2="{width - 10}" y1="{top + plot_h}" y2="{top + plot_h}"/>'
                 f'<text x="{left + (width - left) / 2:.0f}" y="{height - 8}" text-anchor=middle>'
                 f"{escape(x_label)}</text>")
    return "".join(parts) + "</svg>"


def _figure(title: str, svg: str, caption: str) -> str:
    return f"<figure><h3>{escape(title)}</h3>{svg}<figcaption>{caption}</figcaption></figure>"


def _charts_section(page: _Page) -> str:
    s = page.report.summary
    total = s["characters"] or 1
    shares = [(c.replace("_", " "), s["categories"][c]["characters"] / total,
               f"{s['categories'][c]['characters'] / total:.2%} ({s['categories'][c]['characters']:,} chars)",
               COLOURS[c]) for c in CATEGORIES]
    shares.append(("all flagged", s["duplicated_share"], f"{s['duplicated_share']:.2%}", "#555"))
    axis = max(0.1, math.ceil(s["duplicated_share"] * 10) / 10)
    shares = [(label, value / axis, text, colour) for label, value, text, colour in shares]
    figures = [_figure("Share of the corpus per category",
                       _bars("chart-categories", "Share of the corpus's characters per category", shares),
                       f"Share of the corpus's characters flagged, per deciding category; the axis runs from 0 "
                       f"to {axis:.0%}.")]
    if page.corpus is not None:
        rates = Counter()
        for d in page.corpus.texts:
            r = page.rate(d)
            rates[0 if r == 0 else min(10, math.ceil(r * 10))] += 1
        labels = ["0"] + [f"{10 * (k - 1)}–{10 * k}" for k in range(1, 11)]
        figures.append(_figure("Duplication rate per document",
                               _columns("chart-rates", "Documents by duplication rate",
                                        [(labels[k], rates[k]) for k in range(11)], "duplicated share (%)"),
                               "Documents by the share of their characters flagged (0: nothing flagged; "
                               "10–20: more than 10% up to 20%)."))
        figures.append(_sources_chart(page))
    sizes = Counter()
    for c in briefly(page.report.clusters):
        sizes[max(1, math.ceil(math.log2(max(2, c.get("size", 2)))))] += 1
    bins = [(_short(2 ** k), sizes[k]) for k in range(1, max(sizes, default=1) + 1)]
    figures.append(_figure("Cluster sizes",
                           _columns("chart-clusters", "Clusters by size", bins, "units in the cluster, up to",
                                    log=True),
                           "Clusters by size: each bar counts the clusters of more units than the bar before, up "
                           "to its label (5 to 8 for 8); bar heights on a log scale."))
    return f"<section id=charts><h2>Charts</h2><div class=figures>{''.join(figures)}</div></section>"


def _short(n: int) -> str:
    """A power of two for an axis: 512, 1k, 2k ... 1M."""
    return f"{n >> 20}M" if n >= 1 << 20 else f"{n >> 10}k" if n >= 1 << 10 else str(n)


def _sources_chart(page: _Page) -> str:
    assert page.corpus is not None
    chars: Counter = Counter()
    flagged: Counter = Counter()
    docs: Counter = Counter()
    for d, text in page.corpus.texts.items():
        source = page.corpus.sources[d]
        if source is None:
            continue
        chars[source] += len(text)
        docs[source] += 1
        flagged[source] += sum(f.end - f.start for f in page.by_doc.get(d, ()))
    if not chars:
        return ("<figure><h3>Duplication rate per source</h3><p>The documents have no <code>source</code>, so "
                "there is no per-source chart.</p></figure>")
    top = sorted(chars, key=lambda x: (-docs[x], x))[:SOURCES_SHOWN]
    rows = [(f"{x} ({docs[x]:,} docs)", flagged[x] / chars[x], f"{flagged[x] / chars[x]:.2%}", "#3b6ea5")
            for x in sorted(top, key=lambda x: (-flagged[x] / chars[x], x))]
    capped = f" The {SOURCES_SHOWN} sources with most documents of {len(chars):,}." if len(chars) > len(top) else ""
    return _figure("Duplication rate per source", _bars("chart-sources", "Duplication rate per source", rows),
                   f"Share of each source's characters flagged.{capped}")


def _table(table_id: str, caption: str, columns: list[str], rows: list[list[tuple[str, Any]]]) -> str:
    """A table that the page's script can filter and sort (headers are buttons, rows take the focus).

    A cell is (html, sort key); a None key sorts by the cell's text.
    """
    head = "".join(f'<th scope=col aria-sort=none><button type=button data-col="{i}">{escape(c)}</button></th>'
                   for i, c in enumerate(columns))
    body = "".join("<tr tabindex=0>" + "".join(
        f'<td data-v="{escape(str(key))}">{cell}</td>' if key is not None else f"<td>{cell}</td>"
        for cell, key in row) + "</tr>" for row in rows)
    return (f'<div class=tablebox><label>Search <input type=search data-filter="{table_id}" '
            f'aria-controls="{table_id}"></label> <span id="{table_id}-count" class=count aria-live=polite>'
            f'{len(rows):,} rows</span><table id="{table_id}" class=sortable><caption>{escape(caption)}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")


def _boilerplate_section(page: _Page, rows: list[_Row]) -> str:
    cells = []
    for r in rows:
        example = r.findings[0]
        cells.append([
            (escape(example.text), None),
            (_label(r.category), r.category),
            (f"<code>{escape(r.cluster)}</code>", r.cluster),
            (f"{len(r.findings):,}", len(r.findings)),
            (f"{r.documents:,}", r.documents),
            ("" if r.sources is None else f"{r.sources:,}", r.sources if r.sources is not None else -1),
            (page.link(example.doc_id, example), None),
        ])
    table = (_table("tbl-lines", "Top boilerplate lines and templates",
                    ["example", "category", "cluster", "count", "documents", "sources", "example in"], cells)
             if cells else "<p>No boilerplate or template lines were found.</p>")
    return (f"<section id=lines><h2>Boilerplate lines and templates</h2><p>One row per cluster: a near-duplicate "
            f"line, a rule (<code>rule:NAME</code>), a learned template (<code>template:PREFIX</code>), or "
            f"<code>context</code>: unrelated short lines that sit among chrome (the context rule). For a rule, a "
            f"template or <code>context</code>, the example is one line of many. "
            f"Use the arrow keys to move between rows and Enter to open the example.</p>{table}</section>")


def _text_of(page: _Page, member: Mapping[str, Any], finding: Finding | None, cluster: Mapping[str, Any]) -> str:
    """A member's text: from the documents, else the report's (cut) finding text or cluster representative."""
    if page.corpus is not None and member["doc_id"] in page.corpus.texts:
        return page.corpus.texts[member["doc_id"]][member["start"]:member["end"]]
    if finding is not None:
        return finding.text
    first = (cluster.get("members") or [{}])[0]
    if (first.get("doc_id"), first.get("start")) == (member["doc_id"], member["start"]):
        return str(cluster.get("representative", ""))
    return ""


def _redline(old: str, new: str) -> str:
    """`new` with the words it changed from `old` marked: <del> for removed, <ins> for added."""
    a = [(m.start(), m.end()) for m in re.finditer(r"\S+", old)]
    b = [(m.start(), m.end()) for m in re.finditer(r"\S+", new)]
    matcher = difflib.SequenceMatcher(None, [old[s:e] for s, e in a], [new[s:e] for s, e in b], autojunk=False)
    out: list[str] = []
    pos, tail = 0, " "  # tail: the last character shown, "" right after a <del> or <ins>
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        start, end = (b[j1][0], b[j2 - 1][1]) if j2 > j1 else (pos, pos)
        if tag == "equal":
            chunk = new[pos:end]
            out.append(("" if tail or chunk[:1].isspace() else " ") + escape(chunk))
            tail = chunk[-1:] or tail
        else:
            out.append(escape(new[pos:start]))
            tail = new[pos:start][-1:] or tail
            for words, element in ((old[a[i1][0]:a[i2 - 1][1]] if i2 > i1 else "", "del"),
                                   (new[start:end], "ins")):
                if words:
                    out.append(("" if tail.isspace() else " ") + f"<{element}>{escape(words)}</{element}>")
                    tail = ""
        pos = end
    return "".join(out) + escape(new[pos:])


def _syndication_section(page: _Page, clusters: list[_Syndicated], duplicates: list[Finding]) -> str:
    parts = ["<section id=syndication><h2>Syndication</h2>"]
    if not clusters:
        parts.append("<p>No syndicated copy was found.</p>")
    else:
        rows = [[(f'<a href="#syn-{escape(s.cluster["id"])}"><code>{escape(s.cluster["id"])}</code></a>',
                  s.cluster["id"]),
                 (f"{s.cluster.get('size', 0):,}", s.cluster.get("size", 0)),
                 (f"{s.cluster.get('documents', 0):,}", s.cluster.get("documents", 0)),
                 (f"{s.cluster.get('sources', 0):,}", s.cluster.get("sources", 0)),
                 (f"{len(s.copies):,}", len(s.copies)),
                 (page.link(s.kept["doc_id"]) if s.kept else "", None),
                 (escape(str(s.cluster.get("representative", ""))), None)] for s in clusters]
        parts.append(_table("tbl-syndication", "Top syndication clusters",
                            ["cluster", "units", "documents", "sources", "copies removed", "kept copy in",
                             "representative"], rows))
    parts.append(_matrix(page))
    if clusters:
        parts.append("<h3>Copies side by side</h3><p class=legend>Each copy is compared word by word with the kept "
                     "copy: <del>struck-through words</del> are in the kept copy only, <ins>underlined words</ins> "
                     f"are in this copy only. At most {COPIES_SHOWN} copies per cluster are shown.</p>")
        parts += [_side_by_side(page, s) for s in clusters]
    if len(duplicates) > page.max_clusters:
        page.notes.append(f"Duplicate documents: {page.max_clusters:,} of {len(duplicates):,} are listed "
                          "(<code>--html-max-clusters</code>).")
    if duplicates:
        rows = [[(page.link(f.doc_id, f), f.doc_id),
                 (page.link(f.match["doc_id"]) if f.match else "", f.match["doc_id"] if f.match else ""),
                 (f"{f.similarity:.0%}" if f.similarity is not None else "", f.similarity or 0),
                 (f"{f.end - f.start:,}", f.end - f.start), (escape(f.action), f.action)]
                for f in duplicates[:page.max_clusters]]
        parts.append(_table("tbl-duplicates", "Duplicate documents",
                            ["document", "duplicates", "coverage", "characters", "action"], rows))
    return "".join(parts) + "</section>"


def _side_by_side(page: _Page, s: _Syndicated) -> str:
    cluster = s.cluster
    members = {(m["doc_id"], m["start"]): m for m in cluster.get("members") or []}
    kept_text = _text_of(page, s.kept, None, cluster) if s.kept else ""
    columns = []
    if s.kept:
        columns.append(f'<div class="copy kept"><h4>kept copy {_source_of(page, s.kept["doc_id"])}</h4>'
                       f'<p>{page.link(s.kept["doc_id"])} [{s.kept["start"]}:{s.kept["end"]}]</p>'
                       f'<div class=unit>{escape(kept_text) or "<em>text not in the report</em>"}</div></div>')
    for f in s.copies[:COPIES_SHOWN]:
        member = members.get((f.doc_id, f.start), {"doc_id": f.doc_id, "start": f.start, "end": f.end})
        text = _text_of(page, member, f, cluster)
        body = _redline(kept_text, text) if kept_text else escape(text)
        similarity = f"similarity {f.similarity:.2f}" if f.similarity is not None else ""
        columns.append(f'<div class=copy><h4>copy {_source_of(page, f.doc_id)}</h4>'
                       f'<p>{page.link(f.doc_id, f)} [{f.start}:{f.end}] {similarity}</p>'
                       f"<div class=unit>{body}</div></div>")
    more = (f"<p>{len(s.copies) - COPIES_SHOWN:,} more copies are not shown.</p>"
            if len(s.copies) > COPIES_SHOWN else "")
    listed = {(f.doc_id, f.start) for f in s.copies} | ({(s.kept["doc_id"], s.kept["start"])} if s.kept else set())
    others = [m for key, m in members.items() if key not in listed]
    if others:
        more += ("<p>Other members (in a dropped duplicate document, or decided by another category): "
                 + ", ".join(f'{page.link(m["doc_id"])} [{m["start"]}:{m["end"]}]' for m in others[:COPIES_SHOWN])
                 + (f" and {len(others) - COPIES_SHOWN:,} more" if len(others) > COPIES_SHOWN else "") + ".</p>")
    cid = escape(cluster["id"])
    return (f'<section class=cluster id="syn-{cid}" aria-label="Cluster {cid}"><h4>Cluster <code>{cid}</code>: '
            f'{cluster.get("size", 0):,} units in {cluster.get("documents", 0):,} documents</h4>'
            f'<div class=side>{"".join(columns)}</div>{more}</section>')


def _source_of(page: _Page, doc_id: str) -> str:
    if page.corpus is None:
        return ""
    bits = [b for b in (page.corpus.sources.get(doc_id), page.corpus.dates.get(doc_id)) if b]
    return f"<small>{escape(' · '.join(bits))}</small>" if bits else ""


def _matrix(page: _Page) -> str:
    syn = page.report.syndication
    sources, matrix = syn.get("sources") or [], syn.get("matrix") or []
    if not sources:
        return "<p>No source shares content with another (or the documents have no <code>source</code>).</p>"
    weight = {s: sum(matrix[i]) + sum(row[i] for row in matrix) for i, s in enumerate(sources)}
    keep = sorted(range(len(sources)), key=lambda i: (-weight[sources[i]], sources[i]))[:SOURCES_SHOWN]
    keep.sort()
    peak = max([v for row in matrix for v in row] + [1])
    head = "".join(f"<th scope=col>{escape(sources[j])}</th>" for j in keep)
    body = "".join(
        f"<tr><th scope=row>{escape(sources[i])}</th>" + "".join(
            f'<td class=n style="background:rgba(204,121,167,{0.08 + 0.6 * matrix[i][j] / peak:.2f})">'
            f"{matrix[i][j]:,}</td>" if matrix[i][j] else "<td class=n>·</td>" for j in keep) + "</tr>"
        for i in keep)
    capped = (f" The {SOURCES_SHOWN} sources that share most, of {len(sources):,}."
              if len(sources) > len(keep) else "")
    return (f"<h3>Sources that share content</h3><div class=scroll><table class=matrix><caption>Syndicated units "
            f"that the row's source reprints from the column's source (the kept copy).{capped}</caption>"
            f"<thead><tr><th scope=col>copy \\ kept</th>{head}</tr></thead><tbody>{body}</tbody></table></div>")


# ---------------------------------------------------------------- documents


def _same(finding: Finding, text: str) -> bool:
    """Whether a text agrees with the report's (possibly cut) text of a finding."""
    unit = text[finding.start:finding.end]
    if finding.end > len(text) or finding.start < 0:
        return False
    cut = finding.text.endswith("…") and unit.startswith(finding.text[:-1])
    return unit == finding.text or cut


def _title(page: _Page, f: Finding) -> str:
    bits = [f.category if f.categories == [f.category] else f"{f.category} (also {', '.join(f.categories[1:])})",
            f"cluster {f.cluster_id}",
            f"similarity {f.similarity:.2f}" if f.similarity is not None else "matched by a rule"]
    if f.match:
        quote = ""
        text = page.corpus.texts.get(f.match["doc_id"]) if page.corpus else None
        if text is not None:
            quote = text[f.match["start"]:f.match["end"]]
            quote = ": " + (quote if len(quote) <= PREVIEW_CHARS else quote[:PREVIEW_CHARS - 1] + "…")
        bits.append(f"matches {f.match['doc_id']} [{f.match['start']}:{f.match['end']}]{quote}")
    bits.append(f.action)
    return " · ".join(bits)


def _highlight(page: _Page, doc_id: str, text: str, findings: list[Finding]) -> tuple[str, list[Finding]]:
    """The text with every finding marked (category label, then the exact span); returns those not marked."""
    anchor = page.anchors[doc_id]
    out, pos, unmarked = [], 0, []
    for f in sorted(findings, key=lambda f: (f.start, f.end)):
        if f.start < pos or f.end > len(text):
            unmarked.append(f)
            continue
        out.append(_escape_text(text[pos:f.start]))
        out.append(f'{_label(f.category)}<mark id="{anchor}-{f.start}" class="c-{f.category}" tabindex=0 '
                   f'data-category="{f.category}" data-start="{f.start}" data-end="{f.end}" '
                   f'title="{escape(_title(page, f))}">{_escape_text(text[f.start:f.end])}</mark>')
        pos = f.end
    out.append(_escape_text(text[pos:]))
    return "".join(out), unmarked


def _escape_text(text: str) -> str:
    """HTML-escape, keeping carriage returns (the HTML parser would turn a raw CR into LF)."""
    return escape(text, quote=False).replace("\r", "&#13;")


def _documents_section(page: _Page) -> str:
    if page.corpus is None:
        return ("<section id=documents><h2>Documents</h2><p>No document texts in this page. Render with the "
                "texts (<code>dedupe audit --html</code>, or <code>dedupe report REPORT.json --html OUT.html "
                "--input INPUT...</code>) to see every flagged span in place.</p></section>")
    if not page.anchors:
        return ("<section id=documents><h2>Documents</h2><p>No document is shown "
                "(<code>--html-max-docs 0</code>).</p></section>")
    texts = page.corpus.texts
    index_rows = []
    views = []
    for d, anchor in page.anchors.items():
        findings = page.by_doc.get(d, [])
        rate = page.rate(d)
        index_rows.append([(f'<a href="#{anchor}"><code>{escape(d)}</code></a>', d),
                           (escape(page.corpus.sources.get(d) or ""), None),
                           (f"{len(texts[d]):,}", len(texts[d])), (f"{len(findings):,}", len(findings)),
                           (f"{rate:.1%}", rate)])
        views.append(_document_view(page, d, texts[d], findings, rate))
    legend = " ".join(_label(c) + f'<mark class="c-{c}">{c.replace("_", " ")} span</mark>' for c in CATEGORIES)
    return ("<section id=documents><h2>Documents</h2>"
            + _table("tbl-documents", "Documents shown", ["document", "source", "characters", "findings",
                                                          "duplicated share"], index_rows)
            + f"<p class=legend>Flagged spans: {legend}. Hover or focus a span for its cluster, similarity and "
            f"matching copy; each document lists its findings below the text.</p>{''.join(views)}</section>")


def _document_view(page: _Page, doc_id: str, text: str, findings: list[Finding], rate: float) -> str:
    anchor = page.anchors[doc_id]
    head = (f'<h3 id="{anchor}-h"><code>{escape(doc_id)}</code> {_source_of(page, doc_id)}</h3>'
            f"<p class=meta>{len(text):,} characters · {len(findings):,} findings · {rate:.1%} flagged</p>")
    if not all(_same(f, text) for f in findings):
        return (f'<article class=doc id="{anchor}" aria-labelledby="{anchor}-h">{head}<p class=warn>The text given '
                "for this document does not match the report's findings (a different input?), so it is not "
                "highlighted.</p></article>")
    note = ""
    if len(text) > DOC_CHARS_SHOWN:
        note = (f"<p class=warn>Only the first {DOC_CHARS_SHOWN:,} of {len(text):,} characters are shown; "
                "findings beyond are listed below.</p>")
        text = text[:DOC_CHARS_SHOWN]
    marked, unmarked = _highlight(page, doc_id, text, findings)
    skipped = {id(f) for f in unmarked}
    rows = "".join(
        f"<tr><td>{_span_cell(anchor, f, id(f) not in skipped)}</td><td>{_label(f.category)}</td>"
        f"<td><code>{escape(f.cluster_id)}</code></td>"
        f'<td class=n>{"" if f.similarity is None else f"{f.similarity:.2f}"}</td><td>{escape(f.action)}</td>'
        f"<td>{_match_cell(page, f)}</td><td>{escape(f.text)}</td></tr>" for f in findings)
    listing = (f"<details><summary>{len(findings):,} findings</summary><table class=findings><thead><tr>"
               "<th scope=col>span</th><th scope=col>category</th><th scope=col>cluster</th>"
               "<th scope=col>similarity</th><th scope=col>action</th><th scope=col>matches</th>"
               f"<th scope=col>text</th></tr></thead><tbody>{rows}</tbody></table></details>") if findings else ""
    return (f'<article class=doc id="{anchor}" aria-labelledby="{anchor}-h">{head}{note}'
            f"<div class=text>{marked}</div>{listing}<p><a href=#documents>Back to the documents</a></p></article>")


def _span_cell(anchor: str, f: Finding, marked: bool) -> str:
    span = f"{f.start}:{f.end}"
    return f'<a href="#{anchor}-{f.start}">{span}</a>' if marked else f"{span} (not highlighted)"


def _match_cell(page: _Page, f: Finding) -> str:
    if not f.match:
        return ""
    return f"{page.link(f.match['doc_id'])} [{f.match['start']}:{f.match['end']}]"


_CSS = """
:root{--ink:#1d2330;--muted:#5b6475;--line:#d8dce4;--bg:#f6f7f9;--card:#fff;--accent:#2456a6}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;color:var(--ink);
 background:var(--bg)}
header{background:#1d2330;color:#fff;padding:.8rem 1.5rem;display:flex;flex-wrap:wrap;gap:1rem 2rem;
 align-items:baseline;position:sticky;top:0;z-index:2}
header h1{font-size:1.2rem;margin:0}
header nav a{color:#cfe0ff;margin-right:1.1rem;text-decoration:none}
header nav a:hover,header nav a:focus{text-decoration:underline}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.4rem;z-index:3}
main{max-width:1240px;margin:0 auto;padding:1rem 1.5rem 4rem}
section{margin:1.5rem 0}
h2{font-size:1.35rem;border-bottom:2px solid var(--line);padding-bottom:.3rem;scroll-margin-top:4rem}
h3{font-size:1.08rem;margin:1.2rem 0 .5rem;scroll-margin-top:4rem}
h4{font-size:.95rem;margin:.2rem 0}
.lede{color:var(--muted)}
.notes ul{background:#fff8e1;border:1px solid #e6c65c;border-radius:6px;padding:.6rem 1rem .6rem 2rem;margin:0}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(185px,1fr));gap:.7rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.7rem .9rem}
.card .k{color:var(--muted);font-size:.85rem}
.card .v{font-size:1.6rem;font-weight:650;font-variant-numeric:tabular-nums}
.card .sub{color:var(--muted);font-size:.85rem}
.card.cat{border-top-width:5px}
.c-repeat.cat{border-top-color:#E69F00}.c-boilerplate.cat{border-top-color:#56B4E9}
.c-template.cat{border-top-color:#009E73}.c-syndicated.cat{border-top-color:#CC79A7}
.c-duplicate_document.cat{border-top-color:#D55E00}
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:1rem;align-items:start}
figure{margin:0;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.6rem;overflow-x:auto}
figcaption{color:var(--muted);font-size:.85rem;margin-top:.3rem}
.chart{max-width:100%;height:auto;font-size:14px}
.chart text{fill:var(--ink)}.chart .small{font-size:12px}
.chart .track{fill:#eef0f4}.chart .col{fill:#3b6ea5}.chart .grid{stroke:#e3e6ec}.chart .axis{stroke:#888}
.tablebox{margin:.6rem 0 1rem}
.tablebox input{font:inherit;padding:.25rem .4rem;border:1px solid #99a;border-radius:4px;width:18rem}
.count{color:var(--muted);font-size:.85rem}
table{border-collapse:collapse;background:var(--card);margin:.4rem 0;font-size:.9rem;width:100%}
caption{text-align:left;font-weight:600;padding:.3rem 0}
th,td{border:1px solid var(--line);padding:.3rem .5rem;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
td[data-v]{font-variant-numeric:tabular-nums}
th button{font:inherit;font-weight:600;background:none;border:0;padding:0;cursor:pointer;color:var(--ink)}
th[aria-sort=ascending] button::after{content:" \\25B2"}th[aria-sort=descending] button::after{content:" \\25BC"}
tbody tr:focus{outline:3px solid var(--accent);outline-offset:-3px}
tbody tr:hover{background:#f3f6fb}
a{color:var(--accent)}
a:focus,button:focus,mark:focus,input:focus{outline:3px solid var(--accent);outline-offset:2px}
code{font-size:.88em;word-break:break-all}
.lbl{display:inline-block;font-size:.7rem;font-weight:700;text-transform:uppercase;letter-spacing:.03em;
 border:1px solid currentColor;border-radius:3px;padding:0 .25rem;margin-right:.25rem;line-height:1.35;
 vertical-align:1px;user-select:none;white-space:nowrap;background:#fff}
.l-repeat{color:#8a5a00}.l-boilerplate{color:#1a5f86}.l-template{color:#006246}.l-syndicated{color:#8c3f6d}
.l-duplicate_document{color:#9c3d00}
mark{color:inherit;border-radius:2px;padding:0 1px}
mark.c-repeat{background:#fbe3b3;border-bottom:3px double #E69F00}
mark.c-boilerplate{background:#d5ecfa;border-bottom:2px dotted #1a5f86}
mark.c-template{background:#c8ecdf;border-bottom:2px dashed #006246}
mark.c-syndicated{background:#f3d9e8;border-bottom:2px solid #8c3f6d}
mark.c-duplicate_document{background:#fbe0d0;border-bottom:1px solid #9c3d00}
mark:target{outline:3px solid var(--accent)}
.legend mark{margin-right:.8rem}
.doc{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.6rem 1rem;margin:1rem 0;
 scroll-margin-top:4rem}
.doc .meta{color:var(--muted);margin:.1rem 0 .5rem}
.text{white-space:pre-wrap;overflow-wrap:anywhere;font-size:.95rem;line-height:1.65;border-left:3px solid var(--line);
 padding-left:.8rem}
.warn{background:#fdecea;border:1px solid #e0a39c;padding:.3rem .6rem;border-radius:4px}
.side{display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:.6rem}
.cluster{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.6rem;scroll-margin-top:4rem}
.copy{border:1px solid var(--line);border-radius:6px;padding:.5rem;background:#fcfcfd}
.copy.kept{border-color:#8c3f6d;border-width:2px}
.copy p{margin:.1rem 0 .4rem;font-size:.85rem}
.unit{white-space:pre-wrap;overflow-wrap:anywhere}
ins{background:#d9f2dd;text-decoration:underline 2px}del{background:#fadcdc;text-decoration:line-through 2px}
.scroll{overflow-x:auto}
.matrix{width:auto}.matrix td{min-width:3.5rem}
pre{background:#fff;border:1px solid var(--line);padding:.6rem;overflow:auto;font-size:.8rem;max-height:24rem}
small{color:var(--muted);font-weight:400}
"""

_JS = """
(function () {
  function key(cell) {
    var v = cell.getAttribute('data-v');
    if (v === null) return cell.textContent.trim().toLowerCase();
    return v !== '' && !isNaN(+v) ? +v : v.toLowerCase();
  }
  document.querySelectorAll('th button[data-col]').forEach(function (button) {
    button.addEventListener('click', function () {
      var th = button.parentNode, table = th.closest('table'), body = table.tBodies[0];
      var col = +button.getAttribute('data-col'), up = th.getAttribute('aria-sort') !== 'ascending';
      table.querySelectorAll('th[aria-sort]').forEach(function (h) { h.setAttribute('aria-sort', 'none'); });
      th.setAttribute('aria-sort', up ? 'ascending' : 'descending');
      Array.prototype.slice.call(body.rows).sort(function (r, s) {
        var a = key(r.cells[col]), b = key(s.cells[col]);
        return (a < b ? -1 : a > b ? 1 : 0) * (up ? 1 : -1);
      }).forEach(function (row) { body.appendChild(row); });
    });
  });
  document.querySelectorAll('input[data-filter]').forEach(function (input) {
    var id = input.getAttribute('data-filter'), table = document.getElementById(id);
    var count = document.getElementById(id + '-count');
    input.addEventListener('input', function () {
      var q = input.value.toLowerCase(), rows = table.tBodies[0].rows, shown = 0;
      for (var i = 0; i < rows.length; i++) {
        rows[i].hidden = rows[i].textContent.toLowerCase().indexOf(q) < 0;
        if (!rows[i].hidden) shown++;
      }
      count.textContent = shown + ' of ' + rows.length + ' rows';
    });
  });
  document.addEventListener('keydown', function (e) {
    var row = e.target;
    if (!row.matches || !row.matches('tr[tabindex]')) return;
    if (e.key === 'Enter') {
      var link = row.querySelector('a[href]');
      if (link) { link.click(); e.preventDefault(); }
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      var next = row;
      do { next = e.key === 'ArrowDown' ? next.nextElementSibling : next.previousElementSibling; }
      while (next && next.hidden);
      if (next) { next.focus(); e.preventDefault(); }
    }
  });
})();
"""

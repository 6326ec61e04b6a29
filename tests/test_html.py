"""The HTML report: what the page says (pure Python), and what a real browser draws from it (Chromium)."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner
from conftest import ROOT

from dedupe import Config, run
from dedupe.cli import main
from dedupe.config import CATEGORIES
from dedupe.html import _redline, render_html, write_html
from dedupe.io import discover, read

SAMPLES = ROOT / "corpus_samples"


class Page(HTMLParser):
    """What the tests read back from a page: cards, marks (with their text), articles, links, tags."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.cards: dict[str, str] = {}
        self.marks: list[dict] = []  # doc anchor, start, end, category, text
        self.articles: list[str] = []
        self.urls: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self._article = ""
        self._open: list[dict] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        self.urls += [a[k] for k in ("src", "href") if a.get(k)]
        if "data-key" in a:
            self.cards[a["data-key"]] = a["data-value"]
        if tag == "article":
            self._article = a["id"]
            self.articles.append(a["id"])
        if tag == "mark" and "data-start" in a:
            mark = {"doc": self._article, "start": int(a["data-start"]), "end": int(a["data-end"]),
                    "category": a["data-category"], "title": a["title"], "text": ""}
            self.marks.append(mark)
            self._open.append(mark)

    def handle_endtag(self, tag: str) -> None:
        if tag == "mark" and self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for mark in self._open:
            mark["text"] += data


@pytest.fixture(scope="module")
def samples():
    """The sample corpora's run, and their documents (id -> Document)."""
    config = Config()
    docs = [d for d in read(discover([str(SAMPLES)]), config) if not hasattr(d, "reason")]
    result = run(docs, config)
    return result, {d.id: d for d in docs}


def anchors_of(page: Page, result) -> dict[str, str]:
    """Document id -> article id, from the documents table's links."""
    ids = [d.document.id for d in result.documents]
    return {doc_id: f"doc-{i}" for i, doc_id in enumerate(ids) if f"doc-{i}" in page.articles}


def test_cards_equal_the_report_summary(samples):
    result, docs = samples
    page = Page(render_html(result.report, docs.values()))
    s = result.report.summary
    for key in ("documents", "units", "characters", "duplicated_share", "characters_removed", "documents_affected",
                "duplicate_documents_dropped", "documents_emptied"):
        assert float(page.cards[key]) == s[key], key
    for c in CATEGORIES:
        for field in ("findings", "characters", "documents"):
            assert int(page.cards[f"categories.{c}.{field}"]) == s["categories"][c][field]
    assert int(page.cards["skipped.count"]) == s["skipped"]["count"]


def test_every_finding_is_a_highlighted_span_with_its_exact_text(samples):
    result, docs = samples
    page = Page(render_html(result.report, docs.values()))
    anchors = anchors_of(page, result)
    assert len(anchors) == len(docs) == 17  # the default cap shows every sample document
    marked = {(m["doc"], m["start"], m["end"], m["category"]): m for m in page.marks}
    for f in result.report.findings:
        mark = marked.pop((anchors[f.doc_id], f.start, f.end, f.category))
        assert mark["text"] == docs[f.doc_id].text[f.start:f.end]
        assert f.cluster_id in mark["title"]
        if f.match:
            assert f.match["doc_id"] in mark["title"] and f"{f.similarity:.2f}" in mark["title"]
    assert not marked


def test_text_is_escaped_and_kept_exact(tmp_path):
    nasty = '<script>alert("x")</script> & <b>bold</b> "quoted" \'single\''
    rows = [{"id": f'd{i}<img src=x onerror=alert(1)>', "source": '<i>site</i>',
             "text": f"Menu & <nav>\r\nOwn line {i} with some words of its own\r\n{nasty}\r\n"} for i in range(4)]
    result = run(rows, Config())
    page_html = render_html(result.report, [c.document for c in result.documents])
    assert "<script>alert" not in page_html and "<img src=x" not in page_html and "<i>site</i>" not in page_html
    assert "&lt;script&gt;alert(" in page_html
    page = Page(page_html)
    assert [t for t, _ in page.tags].count("script") == 1  # the page's own
    texts = {c.document.id: c.document.text for c in result.documents}
    by_anchor = {f"doc-{i}": c.document.id for i, c in enumerate(result.documents)}
    assert page.marks and len(page.marks) == len(result.report.findings)
    for mark in page.marks:
        assert mark["text"] == texts[by_anchor[mark["doc"]]][mark["start"]:mark["end"]]
    assert any("&lt;nav&gt;" in m["text"] or "<nav>" in m["text"] for m in page.marks)
    out = tmp_path / "r.html"
    write_html(out, {**result.report.to_dict(), "findings": []}, {"x": "lone \ud800 surrogate"})
    assert "lone ? surrogate" in out.read_text(encoding="utf-8")


def test_no_external_resources_and_a_strict_csp(samples):
    result, docs = samples
    page_html = render_html(result.report, docs.values())
    page = Page(page_html)
    assert page.urls and all(u.startswith("#") for u in page.urls)
    assert not re.search(r"""(src|href|url)\s*[=(]\s*["']?\s*(https?:)?//""", page_html, re.I)
    csp = [a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp == ["default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"]


def test_links_point_at_elements_of_the_page(samples):
    result, docs = samples
    page = Page(render_html(result.report, docs.values()))
    ids = {a["id"] for _, a in page.tags if "id" in a}
    assert {u[1:] for u in page.urls} <= ids


def test_caps_limit_what_is_embedded_and_say_so(generated_docs):
    result = run(generated_docs, Config())
    documents = [c.document for c in result.documents]
    page_html = render_html(result.report, documents, max_docs=10, max_clusters=3)
    page = Page(page_html)
    assert len(page.articles) == 10
    for table in ("tbl-lines", "tbl-syndication"):
        body = page_html.split(f'id="{table}"')[1].split("</tbody>")[0]
        assert body.count("<tr tabindex=0>") == 3
    assert page_html.count("class=cluster ") == 3
    assert "Documents: 10 of 600 are shown" in page_html and "--html-max-docs" in page_html
    assert "the 3 most widespread of" in page_html and "--html-max-clusters" in page_html
    full = render_html(result.report, documents)
    assert len(page_html) < len(full)


def test_dict_and_report_render_the_same_page(samples):
    result, docs = samples
    from_json = json.loads(result.report.to_json())
    assert render_html(from_json, docs.values()) == render_html(result.report, docs.values())


def test_without_texts_the_page_says_what_is_missing(samples):
    result, _ = samples
    page_html = render_html(json.loads(result.report.to_json()))
    page = Page(page_html)
    assert not page.articles and not page.marks
    assert "Texts were not given" in page_html and 'id="chart-rates"' not in page_html
    assert 'id="chart-categories"' in page_html and 'id="chart-clusters"' in page_html
    assert int(page.cards["categories.syndicated.findings"]) == result.report.summary["categories"]["syndicated"][
        "findings"]


def test_texts_that_do_not_match_the_report_are_not_highlighted(samples):
    result, docs = samples
    wrong = {doc_id: "x" + d.text for doc_id, d in docs.items()}
    page_html = render_html(result.report, wrong)
    assert not Page(page_html).marks and "does not match the report" in page_html


def test_redline_marks_word_edits():
    kept = "Drivers face a diversion of roughly 24km via the crossing."
    copy = "Drivers face a diversion of roughly 24 kilometres via the crossing."
    assert _redline(kept, copy) == ("Drivers face a diversion of roughly <del>24km</del> <ins>24 kilometres</ins> "
                                    "via the crossing.")
    assert _redline("one two three", "one three") == "one <del>two</del> three"
    assert _redline("a <b>", "a <b> c") == "a &lt;b&gt; <ins>c</ins>"
    assert _redline("one two", "two") == "<del>one</del> two"
    assert _redline("two", "one two") == "<ins>one</ins> two"


def test_cli_audit_html_and_report_command_give_the_same_page(tmp_path):
    runner = CliRunner()
    report, first, second = tmp_path / "r.json", tmp_path / "a.html", tmp_path / "b.html"
    result = runner.invoke(main, ["audit", str(SAMPLES), "--report", str(report), "--html", str(first), "--quiet"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["report", str(report), "--html", str(second), "--input", str(SAMPLES)])
    assert result.exit_code == 0, result.output
    assert first.read_bytes() == second.read_bytes() and "warning" not in result.stderr
    other = tmp_path / "other"  # texts that are not what the report was made from: said on stderr too
    other.mkdir()
    (other / "a.txt").write_text("Some other text entirely.\n")
    result = runner.invoke(main, ["report", str(report), "--html", str(tmp_path / "o.html"), "--input", str(other)])
    assert result.exit_code == 0 and "warning: The texts given hold 1 documents" in result.stderr
    bare = tmp_path / "c.html"
    assert runner.invoke(main, ["report", str(report), "--html", str(bare)]).exit_code == 0
    assert "Texts were not given" in bare.read_text()
    clean_html = tmp_path / "clean.html"
    result = runner.invoke(main, ["clean", str(SAMPLES), "-o", str(tmp_path / "out"), "--html", str(clean_html),
                                  "--html-max-docs", "3", "--quiet"])
    assert result.exit_code == 0 and len(Page(clean_html.read_text()).articles) == 3


def test_cli_report_errors(tmp_path):
    runner = CliRunner()
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    assert runner.invoke(main, ["report", str(bad), "--html", str(tmp_path / "x.html")]).exit_code == 2
    assert runner.invoke(main, ["report", str(tmp_path / "missing.json"), "--html", "x.html"]).exit_code == 2
    good = tmp_path / "r.json"
    assert runner.invoke(main, ["audit", str(SAMPLES), "--report", str(good), "--quiet"]).exit_code == 0
    assert runner.invoke(main, ["report", str(good)]).exit_code == 2  # --html is required
    result = runner.invoke(main, ["report", str(good), "--html", str(tmp_path / "x.html"), "--input", "nowhere"])
    assert result.exit_code == 2 and "nowhere" in result.output
    assert not (tmp_path / "x.html").exists()


# ---------------------------------------------------------------- in a real browser

DOM_FACTS = """(() => {
  const number = el => el.textContent.trim();
  const cards = {};
  document.querySelectorAll('[data-key]').forEach(el => { cards[el.dataset.key] = number(el); });
  const charts = {};
  document.querySelectorAll('svg.chart').forEach(svg => {
    charts[svg.id] = [...svg.querySelectorAll('rect.bar')].filter(r => {
      const box = r.getBoundingClientRect(); return box.width > 0 && box.height > 0; }).length;
  });
  const marks = [...document.querySelectorAll('article.doc mark')].map(m => ({
    doc: m.closest('article').id, start: +m.dataset.start, end: +m.dataset.end, category: m.dataset.category,
    text: m.textContent, label: m.previousElementSibling ? m.previousElementSibling.textContent : '',
    visible: m.getBoundingClientRect().height > 0, title: m.title}));
  return {cards, charts, marks, scripts: document.scripts.length};
})()"""


@pytest.fixture(scope="module")
def browser():
    import chromium

    executable = chromium.find()
    if executable is None:
        pytest.skip("Chromium is not installed and could not be (.ci/run installs Debian's chromium with apt-get)")
    with chromium.Browser(executable) as b:
        yield b


def test_report_in_headless_chromium(tmp_path_factory, browser, capsys):
    folder = tmp_path_factory.mktemp("html-report")
    report, page_file = folder / "report.json", folder / "report.html"
    result = CliRunner().invoke(main, ["audit", str(SAMPLES), "--report", str(report), "--html", str(page_file),
                                       "--quiet"])
    assert result.exit_code == 0, result.output
    data = json.loads(report.read_text())
    texts = {d.id: d.text for d in read(discover([str(SAMPLES)]), Config())}

    browser.load(page_file)
    facts = browser.evaluate(DOM_FACTS)
    # No request but the page itself: nothing fetched, nothing sent.
    assert browser.requests() == [page_file.resolve().as_uri()]

    s = data["summary"]
    shown = {key: value.replace(",", "") for key, value in facts["cards"].items()}
    for key in ("documents", "units", "characters", "characters_removed", "documents_affected",
                "duplicate_documents_dropped", "documents_emptied"):
        assert int(shown[key]) == s[key], key
    assert shown["duplicated_share"] == f"{s['duplicated_share']:.2%}"
    for c in CATEGORIES:
        for field in ("findings", "characters", "documents"):
            assert int(shown[f"categories.{c}.{field}"]) == s["categories"][c][field]

    assert set(facts["charts"]) == {"chart-categories", "chart-rates", "chart-sources", "chart-clusters"}
    assert facts["charts"]["chart-categories"] == len(CATEGORIES) + 1
    assert all(n > 0 for n in facts["charts"].values())

    ids = sorted({f["doc_id"] for f in data["findings"]}, key=list(texts).index)
    anchor = {doc_id: f"doc-{list(texts).index(doc_id)}" for doc_id in ids}
    expected = sorted((anchor[f["doc_id"]], f["start"], f["end"], f["category"]) for f in data["findings"])
    assert sorted((m["doc"], m["start"], m["end"], m["category"]) for m in facts["marks"]) == expected
    doc_of = {a: d for d, a in anchor.items()}
    for mark in facts["marks"]:
        assert mark["text"] == texts[doc_of[mark["doc"]]][mark["start"]:mark["end"]]
        assert mark["label"] == mark["category"].replace("_", " ") and mark["visible"]

    # The tables work with the keyboard: focus the first row, Enter follows its example link.
    browser.evaluate("document.querySelector('#tbl-lines tbody tr').focus()")
    browser.call("Input.dispatchKeyEvent", type="keyDown", key="Enter", code="Enter", windowsVirtualKeyCode=13,
                 session=True)
    assert re.fullmatch(r"#doc-\d+-\d+", browser.evaluate("location.hash"))
    browser.evaluate("document.querySelector('#tbl-lines th:nth-child(4) button').click()")
    counts = browser.evaluate("[...document.querySelectorAll('#tbl-lines tbody tr')].map(r => +r.cells[3].dataset.v)")
    assert counts == sorted(counts)
    browser.evaluate("const i = document.querySelector('input[data-filter=tbl-lines]'); i.value = 'read more';"
                     "i.dispatchEvent(new Event('input'))")
    assert browser.evaluate("document.getElementById('tbl-lines-count').textContent").startswith("1 of ")

    browser.evaluate("location.hash = ''; window.scrollTo(0, 0)")
    shot = folder / "report.png"
    browser.screenshot(shot)
    assert shot.stat().st_size > 10_000
    with capsys.disabled():
        print(f"\nscreenshot of the HTML report: {shot}")

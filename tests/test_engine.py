"""End to end through the Python API: categories, policies, offsets, seeds, samples."""

from __future__ import annotations

import json

import pytest
from conftest import SEEDS
from samples import NAMES, SAMPLES, expected_path, findings_of

from dedupe import Config, Document, clean, run
from dedupe.io import discover, read
from dedupe.rules import RuleSet, learn_templates


@pytest.mark.parametrize("sample", NAMES)
def test_corpus_samples_give_exactly_the_expected_findings(sample):
    expected = json.loads(expected_path(sample).read_text(encoding="utf-8"))["findings"]
    assert findings_of(sample) == expected


@pytest.mark.parametrize("sample", NAMES)
def test_finding_offsets_locate_the_flagged_text(sample):
    config = Config()
    docs = {}
    items = list(read(discover([str(SAMPLES / sample)]), config))
    for item in items:
        docs[item.id] = item.text
    result = run(items, config)
    assert result.report.findings
    for f in result.report.findings:
        flagged = docs[f.doc_id][f.start:f.end]
        assert flagged == f.text or (f.text.endswith("…") and flagged.startswith(f.text[:-1]))
        if f.match:
            assert f.match["end"] <= len(docs[f.match["doc_id"]])


@pytest.fixture(scope="module")
def seeds():
    if not SEEDS.is_dir():
        pytest.skip("../shared/seeds is not beside the repository")
    config = Config()
    items = list(read(discover([str(SEEDS)]), config))
    return items, run(items, config)


def test_seed_captions_read_more_and_updated_lines(seeds):
    items, result = seeds
    first, second = items
    found = [(f.doc_id, f.category, f.text) for f in result.report.findings]
    caption = first.text.split("\n")[0]
    assert [x for x in found if x[2] == caption] == [(first.id, "repeat", caption)] * 3
    assert result.documents[0].text.count(caption) == 1
    gallery = [line.strip(" •") for line in first.text.split("\n") if line.startswith("    ")]
    assert len(gallery) == 9
    for line in gallery:
        assert result.documents[0].text.count(line) == 1
        assert (first.id, "repeat", line) in found
    read_more = [f for f in result.report.findings if f.doc_id == second.id and f.text.startswith("Read more:")]
    assert len(read_more) == 5 and sum("repeat" in f.categories for f in read_more) == 2
    assert all(f.category == "template" for f in read_more)
    updated = [f for f in result.report.findings if "Updated:" in f.text]
    assert len(updated) == 2 and {f.category for f in updated} == {"template"}


def test_seed_body_sentences_are_all_kept(seeds):
    items, result = seeds
    for doc, cleaned in zip(items, result.documents):
        lines = [line.strip() for line in doc.text.split("\n") if len(line.split()) >= 12]
        body = [line for line in lines if lines.count(line) == 1 and not line.startswith(("Read more", "A ", "Liz"))]
        assert len(body) > 10
        for line in body:
            assert line in cleaned.text


def test_repeat_keeps_first_occurrence_and_flag_only_keeps_text():
    docs = [{"id": "a", "text": "Caption one two three four five\nCaption one two three four five\nBody text here ok"}]
    result = run(docs, Config())
    assert result.documents[0].text == "Caption one two three four five\nBody text here ok"
    flagged = run(docs, Config(actions={"repeat": "flag-only"}))
    assert flagged.documents[0].text == docs[0]["text"]
    assert [f.action for f in flagged.report.findings] == ["flagged"]


def test_boilerplate_needs_min_docs_and_removes_every_copy():
    chrome = "Subscribe to the print edition today"
    docs = [{"id": str(i), "text": f"{chrome}\nUnique story number {i} about {'x' * i} things here"} for i in range(3)]
    result = run(docs, Config())
    assert all(chrome not in d.text for d in result.documents)
    assert {f.category for f in result.report.findings} == {"boilerplate"}
    two = run(docs[:2], Config())
    assert all(chrome in d.text for d in two.documents)
    kept = run(docs, Config(min_docs=4))
    assert not kept.report.findings


OWN = {
    "a": "Harbour pilots in Ashby said the tide tables would force them to cancel two sailings on Friday night",
    "b": "Shopkeepers along the Bexley parade reported that takings fell by a third while the road stayed shut",
    "c": "The county school transport office has hired four extra coaches and moved pick-up times forward",
}


def _wire(edit: str) -> str:
    return ("The regional authority closed the river bridge on Monday after divers found deep cracks in two "
            f"support columns during a routine {edit} survey, officials said in a statement")


def test_syndicated_copies_keep_the_canonical_earliest_document():
    docs = [
        {"id": "late", "date": "2026-03-12", "source": "b",
         "text": f"Motorists in Bexley queue for hours\n{OWN['b']}\n{_wire('underwater')}"},
        {"id": "early", "date": "2026-03-10", "source": "a",
         "text": f"Ferry operators add extra crossings at dawn\n{OWN['a']}\n{_wire('underwater')}"},
        {"id": "edited", "date": "2026-03-11", "source": "c",
         "text": f"Schools warn parents about late buses\n{OWN['c']}\n{_wire('subsea')}"},
    ]
    result = run(docs, Config())
    by_id = {c.document.id: c.text for c in result.documents}
    assert _wire("underwater") in by_id["early"]
    assert _wire("underwater") not in by_id["late"] and _wire("subsea") not in by_id["edited"]
    synd = [f for f in result.report.findings if f.category == "syndicated"]
    assert {f.doc_id for f in synd} == {"late", "edited"}
    assert all(f.match["doc_id"] == "early" for f in synd)
    assert result.report.syndication["sources"] == ["a", "b", "c"]


def test_duplicate_document_is_dropped_and_reported_once():
    text = "\n".join(f"Paragraph {i} of the article says something distinct about topic {i * 7}" for i in range(8))
    docs = [{"id": "one", "text": text}, {"id": "two", "text": text + "\n3 comments"}]
    result = run(docs, Config())
    assert [c.dropped for c in result.documents] == [False, True]
    dup = [f for f in result.report.findings if f.category == "duplicate_document"]
    assert len(dup) == 1 and dup[0].doc_id == "two" and dup[0].match["doc_id"] == "one"
    assert 0.95 < dup[0].similarity < 1.0
    assert [c.document.id for c in clean(docs)] == ["one"]


def test_own_headline_survives_teaser_dedup_by_title_field():
    headline = "Fire tears through the harbour sheds overnight"
    docs = [{"id": "own", "title": headline,
             "text": f"{headline}\nThe fire started at two in the morning, crews said."}]
    docs += [{"id": f"o{i}", "text": f"Story {i} body text is here and unique {i}\nMost read\n{headline}"}
             for i in range(3)]
    result = run(docs, Config())
    texts = {c.document.id: c.text for c in result.documents}
    assert headline in texts["own"]
    assert all(headline not in texts[f"o{i}"] for i in range(3))


def test_remove_all_wins_over_keep_first_and_report_lists_both():
    line = "Read more: Council approves the new budget"
    docs = [{"id": "a", "text": f"Body of the article one\n{line}\n{line}"}]
    findings = run(docs, Config()).report.findings
    assert [f.categories for f in findings] == [["template"], ["template", "repeat"]]


def test_rules_can_be_disabled_added_and_must_compile():
    config = Config(disabled_rules=["byline"], extra_rules={"promo": r"(?i)promo code \w+"})
    rules = RuleSet.from_config(config)
    assert rules.match("By Will Taylor") is None
    assert rules.match("Promo code SAVE10") == "promo"
    assert RuleSet.from_config(Config()).match("By Will Taylor") == "byline"
    with pytest.raises(ValueError, match="not a valid regular expression"):
        RuleSet.from_config(Config(extra_rules={"bad": "(unclosed"}))
    with pytest.raises(ValueError, match="unknown rule"):
        RuleSet.from_config(Config(disabled_rules=["nope"]))


@pytest.mark.parametrize("line,rule", [
    ("Updated: January 29, 2022, 11:30 AM", "stamp"),
    ("20 January 2022, 15:23 | Updated: 20 January 2022, 22:35", "stamp"),
    ("Picture: Alamy", "picture_credit"),
    ("Read more: UK sends troops to the region", "read_more"),
    ("Share this article", "share_follow"),
    ("Sign up to our daily newsletter", "newsletter"),
    ("Arabic", "language_menu"),
    ("Tuesday, 14 March 2026, 09:12", "date_line"),
])
def test_builtin_rules_match_news_chrome(line, rule):
    assert RuleSet.from_config(Config()).match(line) == rule


@pytest.mark.parametrize("line", [
    "Published in 2019, the report found that most councils had overspent on roads.",
    "He said the bridge would reopen next week after repairs.",
    "Britain has supplied defensive weapons and training personnel to Ukraine.",
])
def test_builtin_rules_leave_body_sentences_alone(line):
    assert RuleSet.from_config(Config()).match(line) is None


def test_learned_templates_need_min_docs_varying_tails_and_no_quotes():
    obs = [("watch", f"clip {i}", i, False) for i in range(3)]
    assert learn_templates(obs, 3) == {"watch"}
    assert learn_templates(obs[:2], 3) == set()
    same_tail = [("watch", "clip", i, False) for i in range(3)]
    assert learn_templates(same_tail, 3) == set()
    quotes = [("he said", f"we will win {i}", i, True) for i in range(5)]
    assert learn_templates(quotes, 3) == set()


def test_documents_may_be_dataclasses_and_order_is_by_date_then_input():
    text = ("Same paragraph of reasonable length repeated across two different outlets in this case study today "
            "with enough words to count as content")
    docs = [Document(id="x", text=f"{text}\n{OWN['a']}", date=None),
            Document(id="y", text=f"{text}\n{OWN['b']}", date="2026-01-01")]
    result = run(docs, Config())
    assert [f.doc_id for f in result.report.findings if f.category == "syndicated"] == ["x"]


def test_report_json_round_trips_to_the_same_data():
    docs = [{"id": str(i), "source": "s", "text": f"Shared menu line\nOwn line number {i} of text, said \"x\".\n"}
            for i in range(3)]
    report = run(docs, Config()).report
    assert json.loads(report.to_json()) == json.loads(json.dumps(report.to_dict()))
    assert report.findings and json.loads(report.to_json())["findings"][0]["doc_id"] == "0"


def test_rule_prefilter_never_hides_a_match():
    from conftest import ROOT

    from dedupe.io import discover, read

    rules = RuleSet.from_config(Config())
    lines = [line.strip(" •") for doc in read(discover([str(ROOT / "corpus_samples")]), Config())
             if not hasattr(doc, "reason") for line in doc.text.split("\n")]
    lines += ["Read more: " + "a long headline about the council budget and the harbour " * 2,
              "14 March 2026, 09:12 | Updated: 14 March 2026, 17:40 with a long trailing note about the edit made",
              "=" * 120, "By\u00a0Staff Reporter with a long list of contributors and editors who worked on this story",
              "Copyright 2005 The Associated Press. All rights reserved. This material may not be published, broadcast"]
    assert sum(len(line) > 100 for line in lines) > 20
    for line in lines:
        assert rules.match(line) == rules.match(line, prefilter=False), line
    assert rules.match(lines[-1]) == "copyright" and rules.match(lines[-5]) == "read_more"
    assert rules.match(lines[-3]) == "separator"


@pytest.mark.parametrize("bad", [{"seed": -1}, {"seed": 2**32}, {"threshold": "0.5"},
                                 {"extra_rules": {"x": 5}}, {"keep_original_field": "text"}])
def test_config_rejects_bad_values_with_config_error(bad):
    from dedupe import ConfigError

    with pytest.raises(ConfigError):
        Config(**bad)


def test_run_refuses_records_of_the_wrong_type():
    with pytest.raises(TypeError, match="dicts or dedupe.Document"):
        run(["a bare string"])

"""Pure stages: segment, normalise, shingle, signature, index, cluster, clean."""

from __future__ import annotations

import contextlib
import json

import numpy as np
import pytest
from conftest import spy_on
from datasketch import MinHash, MinHashLSH

from dedupe import cluster, index, shingle, signature
from dedupe.clean import clean_text
from dedupe.document import Document, UnitTable
from dedupe.normalize import normalize, normalize_batch, profile
from dedupe.pipeline import analyse, cluster_units, clustered_only, rule_groups
from dedupe.segment import segment


def test_line_units_skip_bullets_indentation_and_trailing_space():
    text = "Title\n\n  • English\n    caption here \r\n- item one\n-5 degrees\n2. second\n"
    units = [text[s:e] for s, e in segment(text, "line")]
    assert units == ["Title", "English", "caption here", "item one", "-5 degrees", "second"]


def test_paragraph_and_sentence_units():
    text = "First line.\nSame paragraph!\n\n\nSecond one? Yes. Done"
    paragraphs = ["First line.\nSame paragraph!", "Second one? Yes. Done"]
    assert [text[s:e] for s, e in segment(text, "paragraph")] == paragraphs
    assert [text[s:e] for s, e in segment(text, "sentence")] == [
        "First line.", "Same paragraph!", "Second one?", "Yes.", "Done"]


WRAPPED = ("Harbour Ferries Co said\n"
           "it would add two boats to the island route from May, raising\n"
           "capacity by a third before the summer season.\n"
           "    The company said the boats, built in Norway, would cost\n"
           "40 mln dlrs and would run on the early and late crossings\n"
           "from the first week of June, a spokesman said.\n"
           "    1. Boats\n"
           "    Shr 1.20 dlrs vs 95 cts\n"
           "    Net 4.1 mln vs 3.2 mln\n"
           " Reuter\n")


def test_hard_wrapped_lines_are_joined_into_paragraphs():
    units = [WRAPPED[s:e] for s, e in segment(WRAPPED, "line", unwrap=True)]
    assert units == [
        "Harbour Ferries Co said\nit would add two boats to the island route from May, raising\n"
        "capacity by a third before the summer season.",
        "The company said the boats, built in Norway, would cost\n40 mln dlrs and would run on the early and late "
        "crossings\nfrom the first week of June, a spokesman said.",  # a line may start with a number; a list item
        # ("1. ") opens a new unit
        "Boats", "Shr 1.20 dlrs vs 95 cts", "Net 4.1 mln vs 3.2 mln", "Reuter"]
    assert len(segment(WRAPPED, "line")) == 10  # without unwrap: a unit per line
    sentences = [WRAPPED[s:e] for s, e in segment(WRAPPED, "sentence", unwrap=True)]
    assert sentences[0] == units[0] and sentences[1] == units[1]


@pytest.mark.parametrize("text", [
    # scraped text: a paragraph per line, some of them long
    "Ferries return\nHome\nNews\nThe island route gets two more boats from May, the operator said on "
    "Tuesday, raising capacity by a third.\nRead more: timetable\nPassengers welcomed the news.",
    # a menu of short lines and a separator, in a document whose widths look wrapped
    "Politics\nInternational\nTechnology\n----------------\nShare this article\nLatest headlines from the "
    "harbour desk today",
    # lines of the same width that each end a sentence and start with capitals (a list of teasers)
    "Council approves the harbour budget for next year.\nFerry operator adds two boats to island route.\n"
    "Museum reopens its doors after a long repair.\nSchools close early as the storm reaches the coast.",
])
def test_text_that_is_not_hard_wrapped_keeps_a_unit_per_line(text):
    assert segment(text, "line", unwrap=True) == segment(text, "line")


def test_normalize_folds_case_width_punctuation_and_optionally_digits():
    assert normalize("  Ｒead MORE: «Straße»… 2026!") == "read more strasse 2026"
    assert normalize("Updated 11:30", fold_digits=True) == "updated 00 00"
    assert normalize("Привет, МИР!") == "привет мир"


@pytest.mark.parametrize("fold", [False, True])
def test_single_and_batch_normalisation_agree(fold):
    texts = ["  Ｒead MORE: «Straße»… 2026!", "", "---", "日本語のテキストです", "a\nb", "x\u200by", " , a , ",
             "Updated 11:30", "Привет, МИР!", "tab\tand\u00a0nbsp", "ﬁne ½"]
    assert [normalize(t, fold) for t in texts] == normalize_batch(texts, fold)


@pytest.mark.parametrize("fold", [False, True])
def test_batch_normalisation_agrees_on_random_unicode(fold):
    rng = np.random.default_rng(5)
    pool = [chr(c) for c in [*range(0x250), *range(0x2000, 0x2070), *range(0x3000, 0x3010), 0x1F600, 0xFEFF,
                             0x0660, 0x0966, 0xFF10, 0x10FFFF]]
    texts = ["".join(rng.choice(pool, rng.integers(0, 12))) for _ in range(3000)]
    assert [normalize(t, fold) for t in texts] == normalize_batch(texts, fold)


@pytest.mark.parametrize("fold", [False, True])
def test_batch_normalisation_folds_case_by_table_as_casefold_does(fold):
    """Batches whose every code point casefolds to one are folded by `_case_folds` in the compiled pass."""
    from dedupe.normalize import MANY, _case_folds

    ranges = [(0x41, 0x250), (0x370, 0x530), (0x10A0, 0x1100), (0x13A0, 0x13FF), (0x1E00, 0x2000),
              (0x2C00, 0x2D30), (0xA640, 0xA800), (0xFF00, 0xFF70), (0x10400, 0x10450), (0x1E900, 0x1E960)]
    pool = [chr(c) for a, b in ranges for c in range(a, b) if _case_folds()[c] != MANY] + [" ", "-", "5"]
    rng = np.random.default_rng(9)
    texts = ["".join(rng.choice(pool, rng.integers(0, 12))) for _ in range(3000)]
    assert [normalize(t, fold) for t in texts] == normalize_batch(texts, fold)
    assert normalize_batch(["Ǆemal ΣΑΣ Ꭰ 𐐀"], fold) == [normalize("Ǆemal ΣΑΣ Ꭰ 𐐀", fold)] == ["džemal σασ Ꭰ 𐐨"]


def test_unspaced_scripts_and_word_counts():
    texts = ["日本語のテキストです", "English text", "one, two three", "日本語のテキスト", ""]
    result = profile(normalize_batch(texts))
    assert result.unspaced.tolist() == [True, False, False, True, False]
    assert result.words.tolist() == [5, 2, 3, 4, 0]


def _profile_by_hand(norm: str) -> tuple[int, int, bool]:
    """`profile` of one unit written plainly: characters, words, unspaced."""
    from dedupe.normalize import _UNSPACED_RANGES

    def unspaced_char(c: str) -> bool:
        cp = min(ord(c), 0x2FFFF)  # beyond the table: counted as its last entry (in the last range)
        return any(low <= cp <= high for low, high in _UNSPACED_RANGES.tolist())

    spaces = norm.count(" ")
    letters = len(norm) - spaces
    unspaced = bool(norm) and 2 * sum(unspaced_char(c) for c in norm if c != " ") > letters
    words = max(1, letters // 2) if unspaced else (spaces + 1 if norm else 0)
    return len(norm), words, unspaced


@pytest.mark.parametrize("fold", [False, True])
def test_normalize_profiled_gives_the_batch_and_its_profile(fold):
    from dedupe.normalize import normalize_profiled

    rng = np.random.default_rng(11)
    pieces = ["abc DEF", "東京の写真", "ภาษาไทย", "Straße İ", "  ", "\n", "𠀀𠀁", "\U00030001\U0003ffff", "12:30",
              "—", "\u200b", "x"]
    for _ in range(300):
        texts = ["".join(rng.choice(pieces, rng.integers(0, 6))) for _ in range(rng.integers(0, 10))]
        norms, found = normalize_profiled(texts, fold)
        assert norms == normalize_batch(texts, fold)
        expected = [_profile_by_hand(n) for n in norms]
        assert list(zip(found.chars.tolist(), found.words.tolist(), found.unspaced.tolist())) == expected
        again = profile(norms)
        assert all(np.array_equal(getattr(again, k), getattr(found, k)) for k in ("chars", "words", "unspaced"))


def _reference(norm: str, mode: int, n: int, num_perm: int, seed: int) -> np.ndarray:
    minhash = MinHash(num_perm=num_perm, seed=seed)
    minhash.update_batch([s.encode("utf-8") for s in shingle._strings(norm, mode, n)])
    return minhash.hashvalues


@pytest.mark.parametrize("num_perm,seed", [(128, 1), (64, 42)])
def test_datasketch_scheme_is_bit_identical_to_datasketch_minhash(num_perm, seed):
    texts = ["The prime minister will speak to the president in the coming days",
             "Short", "日本語のテキストです", "two words", ""]
    norms = [normalize(t) for t in texts]
    modes = np.array([shingle.WORD, shingle.CHAR, shingle.CHAR, shingle.WORD, 0])
    sizes = np.array([2, 5, 5, 3, 2])
    sigs = signature.minhash(shingle.shingle(norms, modes, sizes, "datasketch"), num_perm, seed)
    for i, norm in enumerate(norms[:4]):
        assert np.array_equal(sigs[i], _reference(norm, int(modes[i]), int(sizes[i]), num_perm, seed))
    assert (sigs[4] == signature.EMPTY).all()


@pytest.mark.parametrize("num_perm,seed", [(16, 0), (128, 1), (200, 7), (1024, 2**32 - 1)])
def test_permutations_are_drawn_as_datasketch_draws_them(num_perm, seed):
    a, b = signature.permutations(num_perm, seed)
    theirs = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
    assert a.dtype == b.dtype == np.uint32
    assert np.array_equal(a, theirs[0]) and np.array_equal(b, theirs[1])


@pytest.mark.parametrize("num_perm", [16, 50, 128, 256])
def test_lsh_params_are_those_that_datasketchs_optimiser_picks(num_perm):
    for threshold in (0.05, 0.2, 0.33, 0.5, 0.6, 0.7, 0.72, 0.8, 0.85, 0.9, 0.95, 1.0):
        ours = index.lsh_params(threshold, num_perm)
        try:
            lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        except ValueError:  # datasketch refuses one band (so does Config)
            assert ours[0] == 1, (num_perm, threshold)
            continue
        assert ours == (lsh.b, lsh.r), (num_perm, threshold)


def test_fast_scheme_has_the_same_shingle_counts_and_estimates_jaccard():
    rng = np.random.default_rng(0)
    vocab = [f"w{i}" for i in range(3000)]
    base = list(rng.choice(vocab, 200))
    edited = base[:150] + list(rng.choice(vocab, 50))
    norms = [" ".join(base), " ".join(edited)]
    modes, sizes = np.array([shingle.WORD] * 2), np.array([2, 2])
    fast = shingle.shingle(norms, modes, sizes, "fast")
    slow = shingle.shingle(norms, modes, sizes, "datasketch")
    assert np.array_equal(fast.offsets, slow.offsets)
    a = {" ".join(base[i:i + 2]) for i in range(199)}
    b = {" ".join(edited[i:i + 2]) for i in range(199)}
    true = len(a & b) / len(a | b)
    sigs = signature.minhash(fast, 256, 1)
    assert abs(cluster.similarity(sigs, np.array([0]), np.array([1]))[0] - true) < 0.08


def _fmix64(h: int) -> int:
    mask = (1 << 64) - 1
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & mask
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & mask
    return h ^ (h >> 33)


def _poly(values: list[int], base: int) -> int:
    return sum(v * pow(base, k, 1 << 64) for k, v in enumerate(values)) % (1 << 64)


def _fast_reference(norm: str, mode: int, n: int) -> list[int]:
    """The fast scheme from its definition, with Python integers: hashes must never change between
    versions (a kept index compares them across crawls)."""
    p, q = 0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F
    if mode == shingle.CHAR:
        items, base = [ord(c) + 1 for c in norm], p
    else:
        items, base = [_fmix64(_poly([ord(c) + 1 for c in word], p)) for word in norm.split(" ")], q
    size = min(n, len(items))
    return [_fmix64(_poly(items[i:i + size], base)) >> 32 for i in range(max(len(items) - n + 1, 1))]


def test_fast_scheme_hashes_follow_their_definition():
    norms = ["the prime minister will speak", "x", "日本語のテキストです", "a b", "𝔘𝔫𝔦 code points", "", "one two"]
    modes = np.array([shingle.WORD, shingle.WORD, shingle.CHAR, shingle.CHAR, shingle.WORD, shingle.WORD, 0])
    sizes = np.array([2, 3, 5, 5, 1, 2, 2])
    out = shingle.shingle(norms, modes, sizes, "fast")
    for i, norm in enumerate(norms):
        expected = _fast_reference(norm, int(modes[i]), int(sizes[i])) if modes[i] and norm else []
        assert out.hashes[out.offsets[i]:out.offsets[i + 1]].tolist() == expected


def test_a_units_signature_does_not_depend_on_its_batch():
    rng = np.random.default_rng(1)
    norms = [" ".join(f"t{x}" for x in rng.integers(0, 500, rng.integers(1, 3000))) for _ in range(60)]
    modes, sizes = np.full(60, shingle.WORD), np.full(60, 2)
    together = signature.minhash(shingle.shingle(norms, modes, sizes), 32, 3)
    for i in (0, 17, 59):
        alone = signature.minhash(shingle.shingle([norms[i]], modes[:1], sizes[:1]), 32, 3)
        assert np.array_equal(together[i], alone[0])


def test_lean_minhash_rows_work_with_datasketch_lsh():
    norms = [normalize(t) for t in ("a quick brown fox jumps over the lazy dog today",
                                    "a quick brown fox jumps over the lazy dog tonight",
                                    "completely different words about council budgets")]
    sigs = signature.minhash(shingle.shingle(norms, np.full(3, shingle.WORD), np.full(3, 2)), 128, 1)
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    for i, row in enumerate(sigs):
        lsh.insert(i, signature.to_lean(row, 1))
    assert sorted(lsh.query(signature.to_lean(sigs[0], 1))) == [0, 1]


def test_candidate_pairs_equal_brute_force_lsh_queries():
    rng = np.random.default_rng(2)
    base = rng.integers(0, 2**32, (30, 128), dtype=np.uint64).astype(np.uint32)
    sigs = np.concatenate([base, base[:10]])
    sigs[30:, :40] = rng.integers(0, 2**32, (10, 40), dtype=np.uint64).astype(np.uint32)
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    for i, row in enumerate(sigs):
        lsh.insert(i, signature.to_lean(row, 1))
    brute = sorted((i, j) for i in range(len(sigs)) for j in lsh.query(signature.to_lean(sigs[i], 1)) if j > i)
    assert len(brute) >= 10
    for backend in ("bands", "datasketch"):
        pairs = index.candidate_pairs(sigs, 0.5, 1, backend)
        assert [tuple(p) for p in pairs.tolist()] == brute


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_band_index_gives_datasketch_pairs_on_real_units(generated_docs, threads):
    from dedupe import Config

    units = analyse([d["text"] for d in generated_docs[:200]], [None] * 200, Config())
    keys = units.sigs
    bands = index.candidate_pairs(keys, 0.5, 1, "bands", threads=threads)
    reference = index.candidate_pairs(keys, 0.5, 1, "datasketch")
    assert len(reference) > 100
    assert np.array_equal(bands, reference)
    groups = rule_groups(units, Config())
    grouped = index.candidate_pairs(keys, 0.5, 1, "bands", groups=groups, threads=threads)
    assert 0 < len(grouped) < len(bands)  # the generated stamps and read-more lines pair up without groups
    assert np.array_equal(grouped, index.candidate_pairs(keys, 0.5, 1, "datasketch", groups=groups))


@pytest.mark.parametrize("cap", [0, 2, 4])
def test_bucket_pairs_leave_out_same_group_pairs_only(cap):
    import itertools

    rng = np.random.default_rng(cap)
    for _ in range(200):
        n = int(rng.integers(1, 40))
        keys = rng.integers(0, int(rng.integers(1, 8)), n)
        groups = rng.integers(0, 3, n) * (rng.random() < 0.7)
        order = np.argsort(keys, kind="stable")
        starts = np.flatnonzero(np.concatenate(([True], keys[order][1:] != keys[order][:-1])))
        sizes = np.diff(np.append(starts, n))
        expected = set()
        for key in set(keys.tolist()):
            members = np.flatnonzero(keys == key).tolist()
            pairs = [(members[0], m) for m in members[1:]] if 0 < cap < len(members) else \
                itertools.combinations(members, 2)
            expected |= {(a, b) for a, b in pairs if groups[a] == 0 or groups[a] != groups[b]}
        found = [tuple(p) for p in index.bucket_pairs(order, starts, sizes, cap, groups).tolist()]
        assert len(found) == len(set(found)) and set(found) == expected


def test_lines_of_one_rule_cluster_only_when_equal_but_still_meet_other_lines():
    from dedupe import Config

    promo = "Subscribe to the Harbour Times newsletter for the best local stories every "
    texts = [promo + "morning\nRead more: Council approves the new harbour budget plan for the coming year",
             promo + "evening\nCouncil approves the new harbour budget plan for the coming year",
             promo + "morning"]
    config = Config(lsh_index="bands")
    units = analyse(texts, [None] * 3, config)
    assert units.rule[:4] == ["newsletter", "read_more", "newsletter", None]
    assert cluster.similarity(units.sigs, np.array([0]), np.array([2]))[0] > 0.8  # a pair, were it not one rule
    labels = cluster_units(units, config)
    assert labels[0] == labels[4] != labels[2]  # equal lines share a signature; the one-word variant is not paired
    assert labels[1] == labels[3]  # a read-more line still meets the headline it teases
    ungrouped = index.candidate_pairs(units.sigs, 0.5, 1, "bands")
    assert [0, 2] in ungrouped.tolist() and [0, 2] not in index.candidate_pairs(
        units.sigs, 0.5, 1, "bands", groups=rule_groups(units, config)).tolist()


def test_bucket_cap_links_big_buckets_to_their_smallest_member():
    sigs = np.tile(np.arange(128, dtype=np.uint32), (6, 1))
    sigs[:, -1] = np.arange(6)  # distinct rows, all in the same bucket of most bands
    capped = index.candidate_pairs(sigs, 0.5, 1, "bands", bucket_cap=3)
    assert capped.tolist() == [[0, j] for j in range(1, 6)]
    assert len(index.candidate_pairs(sigs, 0.5, 1, "bands")) == 15


def test_distinct_numbers_rows_in_order_of_first_appearance():
    sigs = np.array([[5, 5], [1, 1], [5, 5], [3, 3], [1, 1]], dtype=np.uint32)
    first, ids = index.distinct_keys(index.row_keys(sigs))
    assert first.tolist() == [0, 1, 3]
    assert ids.tolist() == [0, 1, 0, 2, 1]


def test_verify_drops_pairs_below_each_rows_threshold():
    sigs = np.array([[1, 2, 3, 4], [1, 2, 3, 9], [1, 2, 8, 9]], dtype=np.uint32)
    pairs = np.array([[0, 1], [0, 2]])
    kept, sims = cluster.verify(sigs, pairs, np.array([0.7, 0.7, 0.7]))
    assert kept.tolist() == [[0, 1]] and sims.tolist() == [0.75]
    kept, _ = cluster.verify(sigs, pairs, np.array([0.5, 0.5, 0.5]))
    assert len(kept) == 2


def test_components_label_by_smallest_member_whatever_the_edge_order():
    edges = np.array([[5, 6], [1, 2], [6, 7], [2, 5], [8, 9]])
    expected = [0, 1, 1, 3, 4, 1, 1, 1, 8, 8]
    assert cluster.components(10, edges).tolist() == expected
    assert cluster.components(10, edges[::-1]).tolist() == expected


def test_clustered_only_keeps_the_signatures_of_units_in_clusters_of_two_or_more():
    sigs = np.arange(8, dtype=np.uint32).reshape(4, 2)
    sig_row = np.array([0, 1, 2, 1, -1, 3])  # units 1 and 3 share a signature; unit 4 is not matched
    labels = np.array([0, 1, 0, 1, -1, 3])  # cluster 0: rows 0 and 2; row 1 twice; row 3 alone
    units = UnitTable(np.zeros(6, dtype=np.int64), np.arange(6), np.arange(6) + 1, np.ones(6, dtype=np.int32),
                      np.ones(6, dtype=np.int8), sig_row, sigs, [None] * 6, [None] * 6, np.zeros(6, bool),
                      np.zeros(6, bool), np.zeros(6, bool))
    kept = clustered_only(units, labels)
    assert kept.sig_row.tolist() == [0, 1, 2, 1, -1, -1]
    assert kept.sigs.tolist() == sigs[[0, 1, 2]].tolist()


@pytest.mark.parametrize("text,spans,expected", [
    ("A\n\nR\n\nB", [(3, 4)], "A\n\nB"),
    ("A\nR\nB\n", [(2, 3)], "A\nB\n"),
    ("A\n\nR", [(3, 4)], "A"),
    ("Cap\nCap\nCap\n\nHead\n", [(4, 7), (8, 11)], "Cap\n\nHead\n"),
    ("  • English\n  • Arabic\n\nBody  text\r\n", [(4, 11), (16, 22)], "Body  text\r\n"),
    ("R\n\nA", [(0, 1)], "A"),
    ("One. Two. Three.\n", [(5, 9)], "One. Three.\n"),
    ("only\n", [(0, 4)], ""),
])
def test_clean_text_removes_units_without_holes(text, spans, expected):
    assert clean_text(text, spans) == expected


def test_array_spool_reads_rows_and_stripes_back_as_written():
    from dedupe.io import ArraySpool

    rng = np.random.default_rng(3)
    blocks = [rng.integers(0, 2**32, (k, 4), dtype=np.uint64).astype(np.uint32) for k in (5, 0, 1, 7)]
    whole = np.concatenate(blocks)
    with ArraySpool("test", np.uint32, 4) as spool:
        for block in blocks:
            spool.append(block)
        assert len(spool) == 13 and spool.blocks == 4
        rows = np.array([12, 0, 5, 5, 7, 3])  # any order, repeats, the one-row block
        assert np.array_equal(spool.take(rows), whole[rows])
        assert spool.take(np.zeros(0, dtype=np.int64)).shape == (0, 4)
    with ArraySpool("test", np.uint64) as spool:
        for block in blocks:
            spool.append(block.T.astype(np.uint64))  # transposed: a stripe is one column of the whole
        assert np.array_equal(spool.stripe(2), whole[:, 2])


def test_document_store_reads_texts_and_lines_back_as_written(tmp_path):
    from dedupe.io import DocumentStore, InputChanged

    texts = ["one", "naïve 東京 text", "x" * 5000, "last", "in a file", "\u2028 and more", "spooled line"]
    records = [{"id": i, "body": text} for i, text in enumerate(texts)]
    lines = [json.dumps(r, ensure_ascii=i % 2 == 0).encode() + b"\n" for i, r in enumerate(records)]
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"\n" + lines[3] + lines[4] + b"{junk}\n" + lines[5])
    with contextlib.closing(DocumentStore("body")) as store:
        for text in texts[:3]:
            store.add_text(text)
        store.add_line(lines[3], 1, str(source), len(texts[3]))
        store.add_line(lines[4], 1 + len(lines[3]), str(source), len(texts[4]))
        store.add_line(lines[5], 1 + len(lines[3]) + len(lines[4]) + 7, str(source), len(texts[5]))
        store.add_line(lines[6], -1, "<stdin>", len(texts[6]))
        assert store.texts(0, 7) == texts and store.texts(2, 3) == texts[2:5] and store.texts(7, 0) == []
        assert [r for _, r in store.records(0, 7)] == [None] * 3 + records[3:]
        assert [store[d] for d in [5, 0, 3, 6, 4, 1]] == [texts[d] for d in [5, 0, 3, 6, 4, 1]]
        with pytest.raises(IndexError):
            store.texts(5, 3)
        source.write_bytes(source.read_bytes().replace(b"in a file", b"in a fil!"))
        assert store[4] == "in a fil!"  # an edit that keeps the length is not seen: only lengths are checked
        source.write_bytes(source.read_bytes().replace(b"in a fil!", b"in a fil"))
        with pytest.raises(InputChanged, match="changed between the two passes"):
            store.texts(3, 2)
        source.write_bytes(lines[3])
        with pytest.raises(InputChanged, match="shorter"):
            store[5]


def test_spooled_signatures_give_the_in_memory_pairs_and_rows(generated_docs):
    from dedupe import Config
    from dedupe.document import UnitTable
    from dedupe.io import ArraySpool

    config = Config()
    texts = [d["text"] for d in generated_docs[:300]]
    batches = [analyse(texts[at:at + 64], [None] * len(texts[at:at + 64]), config) for at in range(0, 300, 64)]
    whole = analyse(texts, [None] * 300, config)
    with ArraySpool("signatures", np.uint32, config.num_perm) as spool:
        units = UnitTable.concat(iter(batches), config.num_perm, spool)
        assert len(units.sigs) == len(whole.sigs) < len(spool)  # batches share rows; the table has each once
        assert np.array_equal(units.sig_row, whole.sig_row)
        ids = np.array([len(whole.sigs) - 1, 0, 17])
        assert np.array_equal(units.sigs[ids], whole.sigs[ids])
        for backend in ("bands", "datasketch"):
            assert np.array_equal(index.candidate_pairs(units.sigs, 0.5, 1, backend),
                                  index.candidate_pairs(whole.sigs, 0.5, 1, backend))
        bands, rows = index.lsh_params(0.5, config.num_perm)
        for threads in (1, 3):  # the spool's blocks are keyed `threads` at a time
            spooled = list(index.band_keys(units.sigs, bands, rows, threads))
            assert len(spooled) == bands
            assert all(np.array_equal(a, b) for a, b in zip(spooled, index.band_keys(whole.sigs, bands, rows)))
            assert np.array_equal(cluster_units(units, config, threads), cluster_units(whole, config))


def test_array_spool_adopts_the_blocks_that_processes_store_in_its_folder(tmp_path):
    import os
    import subprocess
    import sys

    from dedupe import io as dio

    rng = np.random.default_rng(5)
    blocks = [rng.integers(0, 2**32, (k, 3), dtype=np.uint64).astype(np.uint32) for k in (4, 0, 6, 2, 5)]
    whole = np.concatenate(blocks)
    np.savez(tmp_path / "blocks.npz", *blocks[:3])
    # Another process (started afresh: forking this one, which may hold Spark's threads, is not safe) stores
    # three blocks in each folder and says where they are.
    worker = ("import dataclasses, json, sys, numpy as np\nfrom dedupe import io\n"
              "blocks = list(np.load(sys.argv[1]).values())\n"
              "print(json.dumps([[dataclasses.asdict(io.store_block(folder, b if k == 0 else b.T.astype(np.uint64)))"
              " for b in blocks] for k, folder in enumerate(sys.argv[2:])]))\n")
    with dio.ArraySpool("test", np.uint32, 3, shared=True) as spool, \
            dio.ArraySpool("keys", np.uint64, shared=True) as keys:
        folder = spool.folder
        done = subprocess.run([sys.executable, "-c", worker, str(tmp_path / "blocks.npz"), folder, keys.folder],
                              capture_output=True, text=True, check=True)
        stored, stored_keys = ([dio.StoredBlock(**fields) for fields in part] for part in json.loads(done.stdout))
        mine = dio.store_block(folder, blocks[4])
        for block in [*stored, blocks[3], mine]:  # workers', one in memory, this process's
            spool.append(block)
        for block in [*stored_keys, blocks[3].T, blocks[4].T]:
            keys.append(block)
        assert mine.path not in {block.path for block in stored} and len({b.path for b in stored}) == 1  # per process
        assert os.listdir(folder) == []  # each unlinked once the spool holds it open: a killed run leaves none
        assert len(spool) == 17 and spool.blocks == 5
        rows = np.array([16, 0, 9, 9, 3, 11, 12])
        assert np.array_equal(spool.take(rows), whole[rows])
        assert np.array_equal(keys.stripe(1), whole[:, 1])
        later = dio.store_block(folder, blocks[2][::-1])  # this process goes on appending to its unlinked file
        assert later.path == mine.path and np.array_equal(spool.load(later), blocks[2][::-1])
        assert np.array_equal(spool.load(stored[2]), blocks[2]) and len(spool) == 17  # load does not append
        with pytest.raises(ValueError, match="uint32"):
            keys.append(stored[0])
    assert not os.path.exists(folder) and folder not in dio._BLOCK_FILES


@pytest.mark.parametrize("jobs", [1, 2])
def test_band_keys_that_the_workers_store_are_those_of_the_signatures(generated_docs, monkeypatch, jobs):
    from dedupe import Config, pipeline

    config = Config(lsh_index="bands")
    docs = generated_docs[:300]
    again = dict(docs[3], text="A document under an id already read. " * 5)  # dropped: its batch is renumbered
    seen = {}

    bands, rows = index.lsh_params(config.lsh_threshold, config.num_perm)

    def clustering(units, config, jobs):  # the spools are open only until the decisions are made
        seen["keyed"], seen["sig_row"] = units.sigs.keyed, units.sig_row
        seen["stored"] = list(index.band_keys(units.sigs, bands, rows))
        return cluster_units(units, config, jobs)

    monkeypatch.setattr(pipeline, "cluster_units", clustering)
    pipeline.analyse_corpus([*docs[:100], again, *docs[100:]], config, jobs)
    whole = analyse([d["text"] for d in docs], [d.get("title") for d in docs], config)
    assert seen["keyed"] is not None and seen["keyed"][1:] == (bands, rows)
    assert np.array_equal(seen["sig_row"], whole.sig_row)
    stored = seen["stored"]
    assert len(stored) == bands
    assert all(np.array_equal(a, b) for a, b in zip(stored, index.band_keys(whole.sigs, bands, rows)))


def test_array_spool_refuses_rows_it_does_not_hold():
    from dedupe.io import ArraySpool

    with ArraySpool("test", np.uint32, 2) as spool:
        spool.append(np.ones((3, 2), dtype=np.uint32))
        for rows in ([3], [-1], [0, 5]):
            with pytest.raises(IndexError):
                spool.take(np.array(rows))


def _covered_by_loops(doc, length, groups, content, ranks, share, most_docs, chains):
    """The duplicate-document rule written plainly, one group and one pair at a time."""
    content_chars = [0] * len(ranks)
    for u in range(len(doc)):
        if content[u]:
            content_chars[doc[u]] += length[u]
    shared = {}
    for group in groups:
        per_doc = {}
        for u in group:
            if content[u]:
                per_doc[doc[u]] = per_doc.get(doc[u], 0) + length[u]
        if 1 < len(per_doc) <= most_docs:
            for d, chars in per_doc.items():
                for e in per_doc:
                    if ranks[e] < ranks[d]:
                        shared[(d, e)] = shared.get((d, e), 0) + chars
    dropped = {}
    for d in sorted(range(len(ranks)), key=lambda d: ranks[d]):  # earlier documents are decided first
        best = None
        for e in sorted(range(len(ranks)), key=lambda e: ranks[e]):
            chars = shared.get((d, e), 0)
            coverage = chars / content_chars[d] if content_chars[d] else 0.0
            if (chains or e not in dropped) and chars and coverage >= share and (best is None or coverage > best[1]):
                best = (e, min(coverage, 1.0))
        if best is not None:
            dropped[d] = best
    return dict(sorted(dropped.items()))


@pytest.mark.parametrize("seed", range(40))
def test_duplicate_documents_match_the_rule_written_with_loops(seed):
    from dedupe import Config
    from dedupe.decide import MAX_DOCS_FOR_COVERAGE, _distinct_docs, _duplicate_documents

    rng = np.random.default_rng(seed)
    n_docs = int(rng.integers(1, 12))
    doc = np.sort(rng.integers(0, n_docs, int(rng.integers(1, 80))))
    start = np.zeros(len(doc), dtype=np.int64)
    length = rng.choice([5, 10, 40], len(doc))
    units = UnitTable(doc=doc, start=start, end=start + length, words=np.ones(len(doc), dtype=np.int32),
                      mode=np.zeros(len(doc), dtype=np.int8), sig_row=np.full(len(doc), -1), sigs=np.zeros((0, 4)),
                      rule=[None] * len(doc), template=[None] * len(doc), title=np.zeros(len(doc), dtype=bool),
                      sentence_end=np.zeros(len(doc), dtype=bool), label_line=np.zeros(len(doc), dtype=bool))
    labels = rng.integers(0, max(1, len(doc) // 3), len(doc))
    groups = [g for g in (np.flatnonzero(labels == k) for k in range(labels.max() + 1)) if len(g) > 1]
    content = rng.random(len(doc)) < 0.8
    ranks = rng.permutation(n_docs)
    share = float(rng.choice([0.3, 0.5, 0.8]))
    content_chars = np.bincount(doc[content], weights=length[content], minlength=n_docs)
    for chains in (False, True):
        expected = _covered_by_loops(doc.tolist(), length.tolist(), [g.tolist() for g in groups], content, ranks,
                                     share, MAX_DOCS_FOR_COVERAGE, chains)
        assert _duplicate_documents(units, groups, content, content_chars, ranks,
                                    Config(duplicate_doc_coverage=share), chains) == expected
    assert _distinct_docs(units, groups).tolist() == [len(set(doc[g].tolist())) for g in groups]
    assert _distinct_docs(units, groups, content).tolist() == [len(set(doc[g[content[g]]].tolist())) for g in groups]


def _content_targets_by_loops(units, groups, family, sources, texts, config):
    """The content-cluster rule written plainly, one cluster and one member at a time:
    {unit: {category: (cluster, match, first)}}."""
    from dedupe.decide import CHROME_MAJORITY, SITE_MAJORITY, reprints

    per_source = {}
    for s in sources:
        per_source[s] = per_source.get(s, 0) + 1
    targets = {}
    for number, group in enumerate(groups):
        members = group.tolist()
        docs = units.doc[group].tolist()
        first_in_doc = {}
        for u, d in zip(members, docs):
            first_in_doc.setdefault(d, u)
        doc_list = list(first_in_doc)
        families = list(dict.fromkeys(family[d] for d in doc_list))
        most = max(units.words[group].tolist())
        ends = sum(units.sentence_end[group].tolist())
        long = most >= config.syndicated_min_words or (most >= config.prose_min_words and 2 * ends > len(group))
        boiler = len(families) >= config.min_docs
        if boiler and long:
            counts = {}
            for d in families:
                counts[sources[d]] = counts.get(sources[d], 0) + 1
            repeating = sum(c for c in counts.values() if c >= config.min_docs)  # on sites that repeat it
            if most < config.syndicated_min_words and repeating and repeating >= CHROME_MAJORITY * len(families):
                long = False
            else:
                share = config.boilerplate_site_share
                wide = sum(c for s, c in counts.items()  # families on the sites where it is site-wide
                           if c >= config.long_boilerplate_min_docs and c >= share * per_source[s])
                boiler = wide > 0 and wide >= SITE_MAJORITY * len(families)
        for u, d in zip(members, docs):
            first = first_in_doc[d]
            mine = targets.setdefault(u, {})
            if u != first:
                mine["repeat"] = (number, first, False)
            if boiler:
                mine["boilerplate"] = (number, members[0] if u != members[0] else members[1], u == members[0])
            elif long and len(doc_list) > 1 and u == first:
                if d == doc_list[0]:
                    mine["syndicated"] = (number, first_in_doc[doc_list[1]], True)
                else:
                    earlier = [first_in_doc[e] for e in doc_list[:doc_list.index(d)]]
                    def text(v):
                        return texts[units.doc[v]][units.start[v]:units.end[v]]

                    match = earlier[0] if config.quote_share <= 0 and config.own_sentence_share <= 0 else \
                        next((v for v in earlier if reprints(text(u), text(v), config)), None)
                    if match is not None:
                        mine["syndicated"] = (number, match, False)
    return {u: t for u, t in targets.items() if t}


_PARAGRAPHS = [
    "The minister said the plan would cut costs across the region by next spring",
    'The minister said "the plan will cut costs across the region by next spring"',
    '"The plan will cut costs across the region by next spring," a spokesman told reporters on Monday',
    "Share this article",
    "Officials said the bridge would reopen after repairs to the damaged section were complete today",
    "Officials said the bridge would reopen after repairs were complete. Drivers on the coast road must wait "
    "another month for the second lane to open again",  # a sentence of its own
]


@pytest.mark.parametrize("seed", range(40))
def test_content_cluster_targets_match_the_rule_written_with_loops(seed):
    from dedupe import Config
    from dedupe.decide import DocumentTexts, _distinct_docs, _groups, cluster_targets, source_codes

    rng = np.random.default_rng(seed)
    n_docs = int(rng.integers(1, 14))
    doc = np.sort(rng.integers(0, n_docs, int(rng.integers(1, 120))))
    pick = rng.integers(0, len(_PARAGRAPHS), len(doc))
    start, end, texts = np.zeros(len(doc), dtype=np.int64), np.zeros(len(doc), dtype=np.int64), [""] * n_docs
    for u, (d, p) in enumerate(zip(doc.tolist(), pick.tolist())):
        start[u] = len(texts[d])
        texts[d] += _PARAGRAPHS[p]
        end[u] = len(texts[d])
        texts[d] += "\n"
    units = UnitTable(doc=doc, start=start, end=end, words=rng.choice([3, 9, 25], len(doc)).astype(np.int32),
                      mode=np.zeros(len(doc), dtype=np.int8), sig_row=np.full(len(doc), -1), sigs=np.zeros((0, 4)),
                      rule=[None] * len(doc), template=[None] * len(doc), title=np.zeros(len(doc), dtype=bool),
                      sentence_end=rng.random(len(doc)) < 0.6, label_line=np.zeros(len(doc), dtype=bool))
    labels = np.where(rng.random(len(doc)) < 0.8, rng.integers(0, max(1, len(doc) // 4), len(doc)), -1)
    ranks = rng.permutation(n_docs)
    groups = _groups(labels, ranks, units)
    family = np.arange(n_docs)
    for d in range(n_docs):  # some documents belong to an earlier document's family
        if rng.random() < 0.2:
            earlier = [e for e in range(n_docs) if ranks[e] < ranks[d] and family[e] == e]
            family[d] = earlier[0] if earlier else d
    docs = [Document(id=str(d), text=texts[d], source=str(rng.choice(["a", "b", "c", ""]))) for d in range(n_docs)]
    config = Config(min_docs=int(rng.choice([2, 3])), long_boilerplate_min_docs=int(rng.choice([2, 5])),
                    boilerplate_site_share=float(rng.choice([0.1, 0.6])), syndicated_min_words=int(rng.choice([9, 20])),
                    quote_share=float(rng.choice([0.0, 0.5])), own_sentence_share=float(rng.choice([0.0, 0.5])))
    expected = _content_targets_by_loops(units, groups, family, [d.source or "" for d in docs], texts, config)
    found = {}
    source = source_codes(docs)
    for category, t in cluster_targets(units, groups, _distinct_docs(units, groups), family, source[family],
                                       np.bincount(source), DocumentTexts(texts), config).items():
        for u, number, match, first in zip(t.unit.tolist(), t.cluster.tolist(), t.match.tolist(), t.first.tolist()):
            found.setdefault(u, {})[category] = (number, match, first)
    assert found == expected


@pytest.mark.parametrize("seed", range(4))
def test_the_first_reprinted_copy_is_the_one_a_scan_that_stops_at_the_first_finds(seed):
    from dedupe.decide import first_reprinted

    rng = np.random.default_rng(seed)
    copies = np.arange(100, 140)
    earlier = [rng.choice(100, int(rng.integers(0, 40)), replace=False) for _ in copies]
    ok = rng.random((140, 100)) < float(rng.choice([0.02, 0.2, 0.9]))  # does copy u reprint earlier copy v
    judged = []

    def judge(pairs):
        assert pairs.shape[1] == 2 and len(pairs)  # never asked for nothing
        judged.extend(map(tuple, pairs.tolist()))
        return ok[pairs[:, 0], pairs[:, 1]]

    found = first_reprinted(copies, earlier, judge)
    expected = [next((v for v in e.tolist() if ok[u, v]), -1) for u, e in zip(copies.tolist(), earlier)]
    assert found.tolist() == expected
    assert len(judged) == len(set(judged))  # no pair judged twice
    # At most four times the pairs that a scan stopping at the first reprinted copy judges.
    scanned = sum(e.tolist().index(f) + 1 if f >= 0 else len(e) for e, f in zip(earlier, expected))
    assert len(judged) <= 4 * scanned


def test_row_keys_fold_each_row_as_their_definition_says():
    rng = np.random.default_rng(4)
    block = rng.integers(0, 2**32, (6, 12), dtype=np.uint64).astype(np.uint32)
    mask, mix = (1 << 64) - 1, index._MIX.tolist()

    def by_hand(row: list[int]) -> int:
        key = 0
        for column, value in enumerate(row):
            key = ((key ^ value) * mix[column]) & mask
        for shift, multiplier in ((33, 0xFF51AFD7ED558CCD), (33, 0xC4CEB9FE1A85EC53)):
            key = ((key ^ (key >> shift)) * multiplier) & mask
        return key ^ (key >> 33)

    for part in (block, block[:, 4:9], block[::2]):  # contiguous, a band's columns, every other row
        assert index.row_keys(part).tolist() == [by_hand(row) for row in part.tolist()]
    assert index.row_keys(block[:0]).shape == (0,)


@pytest.mark.parametrize("seed", range(6))
def test_grouped_puts_equal_keys_together_even_when_only_their_low_bits_differ(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 3000))
    bits = max(1, (n - 1).bit_length())  # the bits that index.grouped packs the row number into
    high = rng.integers(0, 4, n).astype(np.uint64) << np.uint64(40)
    keys = high | rng.integers(0, 1 << bits, n).astype(np.uint64)  # many keys differ in the low bits only
    keys[rng.integers(0, max(n, 1), n // 2)] = keys[rng.integers(0, max(n, 1), n // 2)]  # and repeats
    order, ordered = index.grouped(keys)
    assert sorted(order.tolist()) == list(range(n))
    assert np.array_equal(ordered, keys[order])
    change = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1]))) if n else []
    assert len(change) == len(np.unique(keys))  # each distinct key is one run
    for run in np.split(order, change[1:]) if n else []:
        assert np.all(np.diff(run) > 0)  # with its rows in increasing order


@pytest.mark.parametrize("seed", range(6))
def test_distinct_keys_number_signatures_in_order_of_first_appearance(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 2000))
    spread = rng.integers(0, max(1, n // 3), n).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    close = (rng.integers(0, 3, n).astype(np.uint64) << np.uint64(40)) | rng.integers(0, 8, n).astype(np.uint64)
    for keys in (spread, close):  # keys that differ in the low bits only take `grouped`'s second sort
        first, ids = index.distinct_keys(keys)
        seen: dict[int, int] = {}
        expected = [seen.setdefault(k, len(seen)) for k in keys.tolist()]
        assert ids.tolist() == expected
        assert first.tolist() == [expected.index(i) for i in range(len(seen))]


def test_ordered_takes_results_in_input_order_with_a_bounded_window():
    from concurrent.futures import Future, ThreadPoolExecutor

    from dedupe.parallel import ordered

    submitted, most = [], [0]
    with ThreadPoolExecutor(3) as pool:
        def submit(item: int) -> Future:
            submitted.append(item)
            most[0] = max(most[0], len(submitted) - len(taken))
            return pool.submit(lambda: item * item)  # later items may well finish first

        taken: list[tuple[str, int]] = []
        for key, result in ordered(submit, ((f"k{i}", i) for i in range(20)), 4):
            taken.append((key, result))
    assert taken == [(f"k{i}", i * i) for i in range(20)]
    assert most[0] == 4


def test_a_worker_that_cannot_be_started_is_a_broken_pool(monkeypatch):
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    from dedupe import pipeline

    def refuse(self, *args, **kwargs):
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(ProcessPoolExecutor, "submit", refuse)
    with pytest.raises(BrokenProcessPool, match="cannot start a worker process"):
        list(pipeline.in_order(len, [(0, ("ab",))], 2))


def test_decide_hands_its_cross_document_stages_only_the_interesting_units(generated_docs, monkeypatch):
    # The contract that lets an engine keep the other units where their documents are: the cluster, headline
    # and duplicate-document stages see members of clusters of two or more and rule or template matches only.
    from dedupe import Config, decide, pipeline, run

    seen: dict[str, list] = {}
    for module, name in [(pipeline, "local_inputs"), (pipeline, "decide"), (decide, "_clusters_and_templates"),
                         (decide, "_headlines"), (decide, "_duplicate_documents")]:
        spy_on(monkeypatch, module, name, lambda args, _, name=name: seen.setdefault(name, []).append(args))
    result = run(generated_docs[:300], Config())
    units, labels = seen["local_inputs"][0][:2]
    part, learned = seen["decide"][0][0], seen["decide"][0][3]
    counts = np.bincount(labels[labels >= 0])
    in_cluster = (labels >= 0) & (counts[np.maximum(labels, 0)] > 1)
    matched = np.array([r is not None or (t is not None and t[0] in learned)
                        for r, t in zip(units.rule, units.template)])
    expected = np.flatnonzero(in_cluster | matched)
    assert 0 < len(expected) < 0.8 * len(units)  # the stages below see fewer units than the corpus has
    for sub in (part.units, seen["_clusters_and_templates"][0][0], seen["_headlines"][0][0]):
        assert list(zip(sub.doc.tolist(), sub.start.tolist())) == list(zip(units.doc[expected].tolist(),
                                                                           units.start[expected].tolist()))
    assert all(len(call[0]) == len(expected) for call in seen["_duplicate_documents"])
    assert result.report.summary["documents"] == 300 and len(result.report.findings) > 0


def _document_chunks(units, pieces, rng):
    """Rows of `units` cut into `pieces` runs of whole documents."""
    docs = np.unique(units.doc)
    cuts = np.sort(rng.choice(np.arange(1, len(docs)), pieces - 1, replace=False))
    bounds = np.searchsorted(units.doc, docs[cuts])
    return np.split(np.arange(len(units)), bounds)


@pytest.mark.parametrize("seed", range(6))
def test_the_per_document_stages_give_the_same_on_any_cut_into_whole_documents(generated_docs, seed):
    # What an engine relies on to run `_zones` and `_document_outcomes` on partitions of documents.
    from dedupe import Config
    from dedupe.decide import _BIT, PRECEDENCE, Targets, _document_outcomes, _zones

    rng = np.random.default_rng(seed)
    count = 60
    units = analyse([d["text"] for d in generated_docs[:count]], [d.get("title") for d in generated_docs[:count]],
                    Config())
    n = len(units)
    rule_hit, learned_hit = rng.random(n) < 0.15, rng.random(n) < 0.05
    chrome, shared = rng.random(n) < 0.3, rng.random(n) < 0.3
    bits = (rng.integers(0, 1 << len(PRECEDENCE), n) * (rng.random(n) < 0.4)).astype(np.uint8)
    bits[(units.words < 8) & (rng.random(n) < 0.5)] |= _BIT["boilerplate"]  # short chrome lines, for the context rule
    bits[(units.words < 8) & (rng.random(n) < 0.3)] = 0
    firsts = bits & rng.integers(0, 256, n).astype(np.uint8) & (rng.random(n) < 0.3).astype(np.uint8) * 0xFF
    headlines = rng.random(n) < 0.02
    later = np.flatnonzero((np.arange(n) > 0) & (np.append(-1, units.doc[:-1]) == units.doc) & (rng.random(n) < 0.2))
    copy = later - 1 - (rng.random(len(later)) < 0.5) * (units.doc[np.maximum(later - 2, 0)] == units.doc[later])
    repeat = Targets.of(later, np.zeros(len(later)), copy, np.zeros(len(later), bool))
    config = Config(context_max_words=8)
    whole = _zones(units, rule_hit, learned_hit, chrome, shared, count)
    zone = whole.zone & (rng.random(n) < 0.3)  # most of the short lines of these documents are in the zone
    whole_outcomes = _document_outcomes(units, bits.copy(), firsts, headlines, zone, repeat, learned_hit, config)
    assert whole.zone.any() and whole.threatened.any() and len(whole_outcomes[1]) > 0  # the cases are exercised
    for rows in _document_chunks(units, 3, rng):
        part = units.take(rows)
        zones = _zones(part, rule_hit[rows], learned_hit[rows], chrome[rows], shared[rows], count)
        for name in ("zone", "before", "threatened", "rank", "own"):
            assert np.array_equal(getattr(zones, name), getattr(whole, name)[rows]), name
        mine = np.unique(part.doc)
        assert np.array_equal(zones.body_start[mine], whole.body_start[mine])
        inside = np.isin(repeat.unit, rows)
        local = Targets.of(np.searchsorted(rows, repeat.unit[inside]), repeat.cluster[inside],
                           np.searchsorted(rows, repeat.match[inside]), repeat.first[inside])
        protected, context, kept = _document_outcomes(part, bits[rows].copy(), firsts[rows], headlines[rows],
                                                      zone[rows], local, learned_hit[rows], config)
        assert np.array_equal(protected, whole_outcomes[0][rows])
        assert np.array_equal(rows[context], whole_outcomes[1][np.isin(whole_outcomes[1], rows)])
        assert np.array_equal(kept, whole_outcomes[2][rows])
    assert (whole_outcomes[2] & _BIT["boilerplate"]).any()


@pytest.mark.parametrize("seed", range(6))
def test_the_headline_stages_give_the_same_on_any_cut_into_whole_groups_and_whole_documents(generated_docs, seed):
    # What an engine relies on to run `_headlines`' stages where their rows are: carriers and proposals per
    # partition of whole cross groups (lines of no group anywhere), the choice per partition of whole documents.
    from dedupe import Config
    from dedupe.decide import _groups, contested, headline_carriers, headline_choice, headline_proposals

    rng = np.random.default_rng(seed)
    count = 60
    units = analyse([d["text"] for d in generated_docs[:count]], [None] * count, Config())
    n = len(units)
    labels = np.where(rng.random(n) < 0.6, rng.integers(0, 200, n), -1)
    cross = _groups(labels, rng.permutation(count), units)
    alone = rng.random(len(cross)) < 0.4
    threatened, untitled, learned_hit = rng.random(n) < 0.5, rng.random(units.doc[-1] + 1)[units.doc] < 0.8, \
        rng.random(n) < 0.2
    whole = headline_carriers(units, cross, alone, threatened, untitled, learned_hit)
    assert whole.direct.any() and (~whole.direct & (whole.group >= 0)).any() and (whole.group < 0).any()
    # Scores with ties and values at the thresholds; the same for a line whatever partition asks for it.
    score_of = rng.choice([0.0, 0.1, 0.2, 0.25, 0.4, 0.5, 0.6, 1.0], n, p=[.3, .15, .1, .1, .15, .1, .05, .05])
    value = np.where(whole.direct, np.nan, score_of[whole.unit])
    proposed = headline_proposals(whole.group, whole.direct, value)
    doc, rank = units.doc[whole.unit[proposed]], rng.permutation(n)[whole.unit[proposed]]
    scored = score_of[whole.unit[proposed]]
    chosen = whole.unit[proposed][headline_choice(doc, rank, scored)]
    assert contested(doc).any() and 0 < len(chosen) < proposed.sum()
    assert (proposed & (value < 0.5)).any()  # a group's clear best below HEADLINE_OVERLAP is proposed too

    pieces = rng.integers(0, 3, len(cross))
    member = np.zeros(n, dtype=bool)
    member[np.concatenate(cross)] = True
    elsewhere = rng.integers(0, 3, n)  # where each line of no cross group goes
    found = []
    for p in range(3):
        mine = np.flatnonzero(pieces == p)
        rows = np.zeros(n, dtype=bool)
        rows[np.concatenate([cross[g] for g in mine.tolist()] or [np.zeros(0, np.int64)])] = True
        rows |= ~member & (elsewhere == p)
        part = headline_carriers(units, [cross[g] for g in mine.tolist()], alone[mine], threatened & rows, untitled,
                                 learned_hit, ids=mine)
        found += list(zip(part.unit.tolist(), part.group.tolist(), part.direct.tolist()))
    assert sorted(found) == sorted(zip(whole.unit.tolist(), whole.group.tolist(), whole.direct.tolist()))
    spread = np.where(whole.group >= 0, whole.group, whole.unit) % 3
    again = np.zeros(len(whole.unit), dtype=bool)
    for p in range(3):
        rows = np.flatnonzero(spread == p)
        again[rows] = headline_proposals(whole.group[rows], whole.direct[rows], value[rows])
    assert np.array_equal(again, proposed)
    picked = []
    for p in range(3):
        rows = np.flatnonzero(doc % 3 == p)
        picked += whole.unit[proposed][rows][headline_choice(doc[rows], rank[rows], scored[rows])].tolist()
    assert sorted(picked) == sorted(chosen.tolist())


def test_interesting_units_are_cluster_members_and_matches_whatever_the_label_numbers():
    from dedupe.decide import interesting

    labels = np.array([5 * 10**11, -1, 5 * 10**11, 7, 9, -1])  # Spark labels units by node numbers
    matched = np.array([False, False, False, False, False, True])
    assert interesting(labels, matched).tolist() == [0, 2, 5]
    assert interesting(np.full(3, -1), np.zeros(3, bool)).tolist() == []


class _DocumentRanges:
    """`decide.Units` as an engine that keeps documents in ranges would run it: each range function sees one
    range of whole documents and only the marks of its units."""

    def __init__(self, units, texts, cuts):
        from dedupe.decide import Range

        self.texts = texts
        bounds = [0, *np.searchsorted(units.doc, cuts).tolist(), len(units)]
        self.parts = [Range(units.take(np.arange(a, b))) for a, b in zip(bounds, bounds[1:]) if b > a]
        self.calls = 0

    def map_ranges(self, fn, marks, texts=False):
        from dedupe.decide import unit_keys

        out = []
        for part in self.parts:
            keys = unit_keys(part.units)
            mine = marks.part(int(keys[0]), int(keys[-1]) + 1)
            if texts and not mine.ask.any():  # as an engine may: no lines to read about here
                continue
            out.append(fn(part, self.texts if texts else None, mine))
        self.calls += 1
        return out


@pytest.mark.parametrize("pieces", [2, 5, 17])
def test_decide_gives_the_same_decisions_whatever_ranges_run_its_per_document_stages(generated_docs, pieces,
                                                                                     monkeypatch):
    # What an engine relies on to run stages 2 to 4 where its documents are, range by range.
    from dedupe import Config, decide, pipeline, run

    captured = {}
    real_inputs, real_decide = pipeline.local_inputs, pipeline.decide

    def inputs(units, labels, texts, ndocs, config):
        captured.update(units=units, labels=labels)
        return real_inputs(units, labels, texts, ndocs, config)

    def capture(part, docs, texts, learned, config, where):
        captured.update(docs=docs, learned=learned)
        return real_decide(part, docs, texts, learned, config, where)

    monkeypatch.setattr(pipeline, "local_inputs", inputs)
    monkeypatch.setattr(pipeline, "decide", capture)
    from samples import SAMPLES

    from dedupe.document import Document
    from dedupe.io import discover, read

    config = Config(context_max_words=6)
    samples = [d for d in read(discover([str(SAMPLES)]), config) if isinstance(d, Document)]  # headlines, context
    def footed(i):  # a one-off line between a site's footer lines: the context rule
        body = [line for line in generated_docs[i]["text"].split("\n") if len(line.split()) >= 15][:4]
        one_off = ["Weather", "Crossword", "Obituaries", "Puzzles"][i]
        lines = [f"Story {i} headline about the harbour works", *body, "About us", one_off, "Contact", "Careers"]
        return Document(f"foot{i}", "\n".join(lines), source="foot")

    footers = [footed(i) for i in range(4)]
    documents = samples + footers + [Document(d["id"], d["text"], source=d["source"]) for d in generated_docs[:200]]
    run(documents, config)
    units, texts = captured["units"], decide.DocumentTexts([d.text for d in documents])
    docs, learned = captured["docs"], captured["learned"]
    part, one_range = decide.in_memory(units, captured["labels"], texts, learned, len(docs), config)
    table, whole = decide.decide(part, docs, texts, learned, config, one_range)
    rng = np.random.default_rng(pieces)
    cuts = np.sort(rng.choice(np.arange(1, len(documents)), pieces - 1, replace=False))
    where = _DocumentRanges(units, texts, cuts)
    ranged_table, ranged = decide.decide(part, docs, texts, learned, config, where)
    assert where.calls >= 3 and len(where.parts) == pieces  # facts, one or two rounds of scores, outcomes
    # The decisions refer to the interesting units plus the context rule's and the title headlines.
    assert len(part.units) < len(table) < len(units)
    for column in ("doc", "start", "end", "sig_row"):
        assert np.array_equal(getattr(ranged_table, column), getattr(table, column)), column
    for name in ("flagged", "match", "removed", "protected"):
        assert np.array_equal(getattr(ranged, name), getattr(whole, name)), name
    assert (ranged.cluster, ranged.categories, ranged.dropped) == (whole.cluster, whole.categories, whole.dropped)
    assert {k: v.tolist() for k, v in ranged.cluster_members.items()} == \
        {k: v.tolist() for k, v in whole.cluster_members.items()}
    assert whole.protected.any() and "context" in whole.cluster_members and len(whole.flagged) > 0


def test_decide_takes_an_engine_with_no_range_and_spread_marks_copy_and_refuse_unknown_names():
    import copy

    from dedupe import Config
    from dedupe.decide import DocumentTexts, Interesting, Marks, decide

    class NoRanges:
        def map_ranges(self, fn, marks, texts=False):
            return []

    empty = UnitTable(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int32),
                      np.zeros(0, np.int8), np.zeros(0, np.int64), np.zeros((0, 4)), [], [], np.zeros(0, bool),
                      np.zeros(0, bool), np.zeros(0, bool))
    part = Interesting(empty, np.zeros(0, np.int64), np.zeros(0), 0, 0)
    table, decisions = decide(part, [], DocumentTexts([]), set(), Config(), NoRanges())
    assert len(table) == 0 and len(decisions.flagged) == 0 and decisions.dropped == {}
    marks = Marks(np.array([5]), np.array([1], np.uint8), np.array([0], np.uint8), np.array([True]), np.array([3]),
                  np.array([-1]), np.array([False]), np.array([False]))
    units = UnitTable(np.zeros(2, np.int64), np.array([5, 9]), np.array([8, 12]), np.ones(2, np.int32),
                      np.ones(2, np.int8), np.full(2, -1), np.zeros((0, 4)), [None] * 2, [None] * 2, np.zeros(2, bool),
                      np.zeros(2, bool), np.zeros(2, bool))
    spread = copy.deepcopy(marks.spread(units))
    assert spread.group.tolist() == [3, -1] and spread.bits.tolist() == [1, 0]
    with pytest.raises(AttributeError):
        spread.part  # noqa: B018  (a Marks method, not a mark)


def test_dates_order_documents_as_instants_whatever_their_format():
    from dedupe.document import Document, date_seconds

    day = 86400
    assert date_seconds("10 March 2026") - date_seconds("9 March 2026") == day  # as text, "10" sorts first
    assert date_seconds("2026-03-09") == date_seconds("March 9, 2026") == date_seconds("Mar. 9 2026") \
        == date_seconds("Monday, 9 Mar 2026") == date_seconds("20260309") == date_seconds("1773014400")
    assert date_seconds("2026-03-10T23:00:00-05:00") - date_seconds("2026-03-11T01:00:00+00:00") == 3 * 3600
    assert date_seconds("Mon, 09 Mar 2026 01:02:03 GMT") == date_seconds("2026-03-09T01:02:03Z")
    assert date_seconds("1-MAR-1987 15:01:01.79") > date_seconds("26-FEB-1987 15:01:01.79")
    assert date_seconds("1773014400000") == date_seconds("1773014400")
    for unread in ("garbage", "31 February 2026", "Mayo 9, 2026", "2026"):
        assert date_seconds(unread) is None
    docs = [Document("late", "", date="10 March 2026", order=0), Document("text-b", "", date="b", order=1),
            Document("undated", "", order=2), Document("early", "", date="9 March 2026", order=3),
            Document("text-a", "", date="a", order=4), Document("zoned", "", date="2026-03-09T23:00:00-05:00",
                                                                 order=5)]
    # Read dates first, by instant; then dates it cannot read, as text; undated last.
    assert [d.id for d in sorted(docs, key=Document.sort_key)] == ["early", "late", "zoned", "text-a", "text-b",
                                                                   "undated"]

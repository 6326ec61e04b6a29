"""Normalise unit text for matching (never for output).

Two spellings of one line should meet: Unicode compatibility forms (NFKC),
case (casefold, which also handles ß and Greek sigma), punctuation, symbols
and runs of whitespace are folded; digits optionally become 0 so that date
and score variants match. `regex` gives Unicode classes for every script.

`normalize_batch` does the same for many units at once: the units are
joined with newlines, NFKC runs once over the joined string, and case and
classes are folded in one compiled pass over its code points (casefolding
maps almost every code point to one code point; a batch with one of the
hundred that become two, such as ß, is casefolded as a string instead).
`normalize_profiled` also counts each unit's characters, spaces and
unspaced-script characters (`profile`) on those code points, in another
compiled pass.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from dedupe.jit import jit

KEEP, SPACE, DROP, DIGIT = 0, 1, 2, 3
_TABLE_SIZE = 0x30000


@lru_cache(maxsize=1)
def _classes() -> np.ndarray:
    """Class of every code point below U+30000: punctuation, symbols and spaces fold to a space,
    format and control characters are dropped, decimal digits may fold to 0 (above: kept)."""
    table = np.zeros(_TABLE_SIZE, dtype=np.uint8)
    for cp in range(_TABLE_SIZE):
        category = unicodedata.category(chr(cp))
        if category[0] in "PSZ" or chr(cp).isspace():
            table[cp] = SPACE
        elif category in ("Cf", "Cc", "Cs"):
            table[cp] = DROP
        elif category == "Nd":
            table[cp] = DIGIT
    table[10] = KEEP  # the newline that separates units in a batch
    return table


MANY = np.uint32(0xFFFFFFFF)  # in `_case_folds`: the code point casefolds to more than one


@lru_cache(maxsize=1)
def _case_folds() -> np.ndarray:
    """What `str.casefold` makes of every code point below U+30000 (none above has case), MANY where that is
    more than one code point."""
    folded = [chr(cp).casefold() for cp in range(_TABLE_SIZE)]
    return np.array([ord(f) if len(f) == 1 else MANY for f in folded], dtype=np.uint32)


# Scripts written without spaces between words (Han, kana, Thai, Lao, Tibetan, Myanmar, Khmer): code point ranges.
_UNSPACED_RANGES = np.array([
    (0x0E00, 0x0EFF), (0x0F00, 0x0FFF), (0x1000, 0x109F), (0x1780, 0x17FF), (0x3040, 0x30FF),
    (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2FFFF),
], dtype=np.uint32)


def normalize(text: str, fold_digits: bool = False) -> str:
    """Return the matching form of `text`: words separated by single spaces (one string; see normalize_batch)."""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_translation(fold_digits))
    return " ".join(word for word in folded.split(" ") if word)


@lru_cache(maxsize=2)
def _translation(fold_digits: bool) -> dict[int, str | None]:
    """The class table as a str.translate mapping (newlines fold to spaces here)."""
    classes = _classes()
    table: dict[int, str | None] = {cp: " " for cp in np.flatnonzero(classes == SPACE).tolist()}
    table.update({cp: None for cp in np.flatnonzero(classes == DROP).tolist()})
    if fold_digits:
        table.update({cp: "0" for cp in np.flatnonzero(classes == DIGIT).tolist()})
    table[10] = " "
    return table


def normalize_batch(texts: list[str], fold_digits: bool = False) -> list[str]:
    """`normalize` of every text, computed over the joined batch with a code point class table."""
    return _split(_folded(texts, fold_digits)) if texts else []


def normalize_profiled(texts: list[str], fold_digits: bool = False) -> tuple[list[str], Profile]:
    """`normalize_batch` and the `profile` of what it returns, counted on the folded code points themselves
    rather than on the strings encoded again."""
    if not texts:
        return [], profile([])
    out = _folded(texts, fold_digits)
    breaks = np.flatnonzero(out == 10)  # the newlines between units
    return _split(out), _profile(out, np.concatenate(([0], breaks + 1)), np.append(breaks, len(out)))


def _folded(texts: list[str], fold_digits: bool) -> np.ndarray:
    """The code points of the normalised texts, joined by newlines."""
    joined = "\n".join(t.replace("\n", " ") for t in texts)
    joined = unicodedata.normalize("NFKC", joined)
    cp = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    out = _fold(cp, _classes(), _case_folds(), fold_digits)
    if len(out) and out[0] == MANY:  # a code point that casefolds to several: casefold the string
        cp = np.frombuffer(joined.casefold().encode("utf-32-le"), dtype=np.uint32)
        out = _fold(cp, _classes(), np.arange(0, dtype=np.uint32), fold_digits)
    return out


def _split(out: np.ndarray) -> list[str]:
    return out.tobytes().decode("utf-32-le").split("\n")


@jit
def _fold(cp: np.ndarray, classes: np.ndarray, case: np.ndarray, fold_digits: bool) -> np.ndarray:
    """The code points of newline-separated units casefolded (by the `case` table; [MANY] alone when one
    needs more than one code point) and with each class folded (`_classes`): spaces only between words, one
    each; none at a unit's start or end."""
    out = np.empty(len(cp), dtype=np.uint32)
    n = 0
    space = False  # a space is pending: written only if a word follows on the same line
    for c in cp:
        if c < len(case):
            c = case[c]
            if c == MANY:
                out[0] = MANY
                return out[:1]
        kind = classes[c] if c < len(classes) else KEEP
        if kind == DROP:
            continue
        if kind == SPACE:
            space = True
            continue
        if c == 10:
            space = False
        elif space:
            if n > 0 and out[n - 1] != 10:
                out[n] = 32
                n += 1
            space = False
        out[n] = 48 if kind == DIGIT and fold_digits else c  # "0"
        n += 1
    return out[:n]


@dataclass(frozen=True)
class Profile:
    """Per normalised unit: characters, words, and whether its script has no word spaces."""

    chars: np.ndarray
    words: np.ndarray
    unspaced: np.ndarray


def profile(norms: list[str]) -> Profile:
    """Length, word count and script kind of each normalised unit, vectorised over code points.

    Words are space-separated tokens; a unit mostly in an unspaced script is
    counted as one word per two characters, so "content length" means about
    the same in Japanese as in English.
    """
    chars = np.fromiter((len(s) for s in norms), dtype=np.int64, count=len(norms))
    cp = np.frombuffer("".join(norms).encode("utf-32-le"), dtype=np.uint32)
    ends = np.cumsum(chars)
    return _profile(cp, ends - chars, ends)


def _profile(cp: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> Profile:
    """`profile` of the units cp[starts[i]:ends[i]]."""
    chars = (ends - starts).astype(np.int64)
    spaces, unspaced_chars = _counts(cp, starts.astype(np.int64), ends.astype(np.int64), _unspaced_table())
    letters = chars - spaces
    unspaced = (unspaced_chars * 2 > letters) & (chars > 0)
    words = np.where(chars == 0, 0, spaces + 1)
    words = np.where(unspaced, np.maximum(1, letters // 2), words)
    return Profile(chars, words, unspaced)


@jit
def _counts(cp: np.ndarray, starts: np.ndarray, ends: np.ndarray, table: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    """Per unit, its spaces and its code points of unspaced scripts (by `table`; a code point beyond the
    table counts as its last entry, a supplementary ideograph)."""
    spaces = np.zeros(len(starts), dtype=np.int64)
    unspaced = np.zeros(len(starts), dtype=np.int64)
    last = len(table) - 1
    for i in range(len(starts)):
        for k in range(starts[i], ends[i]):
            c = cp[k]
            if c == 32:
                spaces[i] += 1
            else:
                unspaced[i] += table[min(c, last)]
    return spaces, unspaced


@lru_cache(maxsize=1)
def _unspaced_table() -> np.ndarray:
    table = np.zeros(_TABLE_SIZE, dtype=np.uint8)
    for low, high in _UNSPACED_RANGES:
        table[low:min(high, _TABLE_SIZE - 1) + 1] = 1
    return table

"""Normalise unit text for matching (never for output).

Two spellings of one line should meet: Unicode compatibility forms (NFKC),
case (casefold, which also handles ß and Greek sigma), punctuation, symbols
and runs of whitespace are folded; digits optionally become 0 so that date
and score variants match. `regex` gives Unicode classes for every script.
"""

from __future__ import annotations

import unicodedata

import regex

_DROP = regex.compile(r"[\p{Cf}\p{Cc}]+")
_PUNCT = regex.compile(r"[\p{P}\p{S}\s]+")
_DIGIT = regex.compile(r"\d")
# Scripts written without spaces between words: matched on characters.
_UNSPACED = regex.compile(
    r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\p{Tibetan}]"
)


def normalize(text: str, fold_digits: bool = False) -> str:
    """Return the matching form of `text`: words separated by single spaces."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _DROP.sub("", text)
    text = _PUNCT.sub(" ", text).strip()
    if fold_digits:
        text = _DIGIT.sub("0", text)
    return text


def is_unspaced(norm: str) -> bool:
    """True when most of the text is in a script without word spaces (CJK, Thai...)."""
    if not norm:
        return False
    return len(_UNSPACED.findall(norm)) * 2 > len(norm) - norm.count(" ")


def word_count(norm: str) -> int:
    """Words in a normalised text; for unspaced scripts, two characters count as a word."""
    if is_unspaced(norm):
        return max(1, (len(norm) - norm.count(" ")) // 2)
    return norm.count(" ") + 1 if norm else 0

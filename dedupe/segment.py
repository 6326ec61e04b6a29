"""Cut a document into units with character offsets into the original text.

A unit's span leaves out indentation, list bullets and trailing spaces, so
that `text[start:end]` is exactly the words that were judged, and the same
caption printed as `  • caption` and `    caption` is one repeated unit.
"""

from __future__ import annotations

from collections.abc import Iterator

import regex

# Leading indentation and list markers; a dash, star, plus or number needs a
# space after it so that "-5 degrees" or "2026 was" keep their first token.
_LEAD = regex.compile(
    r"[^\S\n]*(?:(?:[•·◦▪▫‣⁃●○■□➤►▶–—]|[-*+>](?=\s)|\d{1,3}[.)](?=\s))[^\S\n]*)*"
)
_SENTENCE = regex.compile(r"[^.!?。！？\n]+(?:[.!?。！？]+[\"'”’)\]]*|$)", regex.MULTILINE)


def trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) past leading markers and trailing whitespace."""
    start = _LEAD.match(text, start, end).end()
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def lines(text: str) -> Iterator[tuple[int, int]]:
    """Yield (start, end) of each line, without its line terminator."""
    pos = 0
    length = len(text)
    while pos <= length:
        nl = text.find("\n", pos)
        end = length if nl < 0 else nl
        yield pos, end
        if nl < 0:
            return
        pos = nl + 1


_MARKS = frozenset("•·◦▪▫‣⁃●○■□➤►▶–—-*+>0123456789")


def _line_units(text: str) -> Iterator[tuple[int, int]]:
    pos = 0
    for line in text.split("\n"):
        end = pos + len(line)
        if line and (line[0] in _MARKS or line[0].isspace()):
            s, e = trim(text, pos, end)
        else:  # the common case: no indentation or bullet, only trailing space to cut
            s, e = pos, pos + len(line.rstrip())
        if e > s:
            yield s, e
        pos = end + 1


def _paragraph_units(text: str) -> Iterator[tuple[int, int]]:
    block_start = None
    block_end = 0
    for start, end in lines(text):
        if text[start:end].strip():
            if block_start is None:
                block_start = start
            block_end = end
        elif block_start is not None:
            s, e = trim(text, block_start, block_end)
            if e > s:
                yield s, e
            block_start = None
    if block_start is not None:
        s, e = trim(text, block_start, block_end)
        if e > s:
            yield s, e


def _sentence_units(text: str) -> Iterator[tuple[int, int]]:
    for start, end in _line_units(text):
        for match in _SENTENCE.finditer(text, start, end):
            s, e = trim(text, match.start(), match.end())
            if e > s:
                yield s, e


_KINDS = {"line": _line_units, "paragraph": _paragraph_units, "sentence": _sentence_units}


def segment(text: str, kind: str = "line") -> list[tuple[int, int]]:
    """Return the units of `text` as (start, end) spans, in order."""
    return list(_KINDS[kind](text))

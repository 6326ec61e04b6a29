"""Rebuild a document's text without its removed units.

Kept lines are copied byte for byte. A line that loses all of its words
(what is left is indentation or a bullet) goes entirely, and the blank lines
around removed lines collapse so that no holes are left: between two kept
lines the longest of the original blank runs between them stays.
"""

from __future__ import annotations

from collections.abc import Sequence

from dedupe.segment import trim

CONTENT, BLANK, REMOVED = 0, 1, 2


def _cut(text: str, start: int, end: int, spans: Sequence[tuple[int, int]]) -> str | None:
    """The line [start, end) without the spans (and the spaces after them); None if no words remain."""
    kept, pos = [], start
    for s, e in spans:
        s, e = max(s, start), min(e, end)
        if s >= e:
            continue
        kept.append(text[pos:max(pos, s)])
        pos = max(pos, e)
        while pos < end and text[pos] in " \t":
            pos += 1
    kept.append(text[pos:end])
    line = "".join(kept)
    s, e = trim(line, 0, len(line))
    return line if e > s else None


def clean_text(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """Return `text` without the (start, end) spans, keeping the rest of its structure."""
    if not spans:
        return text
    spans = sorted(spans)
    pieces = text.split("\n")
    kinds, out_pieces = [], []
    pos, k = 0, 0
    for piece in pieces:
        start, end = pos, pos + len(piece)
        pos = end + 1
        while k < len(spans) and spans[k][1] <= start:
            k += 1
        touching = []
        j = k
        while j < len(spans) and spans[j][0] < end:  # spans are sorted and do not overlap
            touching.append(spans[j])
            j += 1
        if not piece.strip():
            kinds.append(BLANK)
            out_pieces.append(piece)
        elif touching:
            left = _cut(text, start, end, touching)
            kinds.append(REMOVED if left is None else CONTENT)
            out_pieces.append(left or "")
        else:
            kinds.append(CONTENT)
            out_pieces.append(piece)
    return _join(kinds, out_pieces)


def _join(kinds: list[int], pieces: list[str]) -> str:
    nonblank = [i for i, kind in enumerate(kinds) if kind != BLANK]
    kept = [i for i, kind in enumerate(kinds) if kind == CONTENT]
    if not kept:
        return ""
    out = pieces[: nonblank[0]]
    for a, b in zip(kept, kept[1:]):
        out.append(pieces[a])
        runs, run = [], []
        for i in range(a + 1, b):
            if kinds[i] == BLANK:
                run.append(pieces[i])
            else:
                runs.append(run)
                run = []
        runs.append(run)
        out.extend(max(runs, key=len))
    out.append(pieces[kept[-1]])
    out.extend(pieces[nonblank[-1] + 1:])
    return "\n".join(out)

"""Cut a document into units with character offsets into the original text.

A unit's span leaves out indentation, list bullets and trailing spaces, so
that `text[start:end]` is exactly the words that were judged, and the same
caption printed as `  • caption` and `    caption` is one repeated unit.

Scraped text has a paragraph per line, but fixed-width text (wire archives,
e-mail, plain-text dumps) breaks every paragraph into lines of about the
same width. A line of such text is a fragment of a sentence, and fragments
such as `Inc said it` recur across documents without being boilerplate; so,
with `unwrap`, a document that looks hard-wrapped (`_joins`) has its
wrapped lines joined into one unit per paragraph.
"""

from __future__ import annotations

from collections.abc import Iterator

import regex

# Leading indentation and list markers; a dash, star, plus or number needs a
# space after it so that "-5 degrees" or "2026 was" keep their first token.
_LEAD = regex.compile(
    r"[^\S\n]*(?:(?:[•·◦▪▫‣⁃●○■□➤►▶–—]|[-*+>](?=\s)|\d{1,3}[.)](?=\s))[^\S\n]*)*"
)
# What ends a sentence, and the closing quotes and brackets that may follow it: the one spelling of both that
# cutting sentences here, the first pass's `sentence_end` flag and `decide`'s sentence split share.
SENTENCE_ENDS = ".!?。！？"
CLOSERS = "\"'”’)]"
_ENDS, _CLOSE = f"[{regex.escape(SENTENCE_ENDS)}]", f"[{regex.escape(CLOSERS)}]"
_SENTENCE = regex.compile(rf"[^{regex.escape(SENTENCE_ENDS)}]+(?:{_ENDS}+{_CLOSE}*|$)", regex.MULTILINE)


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


def _line_units(text: str, unwrap: bool = False) -> Iterator[tuple[int, int]]:
    pos, spans, raw = 0, [], text.split("\n")
    for line in raw:
        end = pos + len(line)
        if line and (line[0] in _MARKS or line[0].isspace()):
            s, e = trim(text, pos, end)
        else:  # the common case: no indentation or bullet, only trailing space to cut
            s, e = pos, pos + len(line.rstrip())
        spans.append((s, e))
        pos = end + 1
    joins = _joins(raw) if unwrap else None
    start = None
    for i, (s, e) in enumerate(spans):
        if e > s:
            start = s if start is None else start
            if joins is None or not joins[i]:
                yield start, e
                start = None


# A hard-wrapped document: its lines are cut at a width between these (90th percentile of line lengths)...
WRAP_WIDTHS = (40, 100)
# ... a line that reaches this share of the width runs on into the next (unless that one opens a paragraph) ...
WRAP_FULL = 0.6
# ... and at least this share of its lines are full lines whose next line goes on in lower case.
WRAP_EVIDENCE = 0.2
_TERMINAL = tuple(".!?:;" + CLOSERS)  # a wrapped line that ends so does not run on (ASCII ends only)


def _joins(raw: list[str]) -> list[bool] | None:
    """Per line of a hard-wrapped document, whether it runs on into the next line (None if not wrapped).

    A line runs on into a next line that is not blank, indented or a list item (a new paragraph) when it is
    full, or when it opens a paragraph, does not end a sentence and the next line is full (a first line cut
    short by a dateline). Short lines in a row (a menu) and separators stay apart."""
    lengths = [len(line.rstrip()) for line in raw]
    filled = sorted(n for n in lengths if n)
    if len(filled) < 3:
        return None
    width = filled[int(0.9 * (len(filled) - 1))]
    if not WRAP_WIDTHS[0] <= width <= WRAP_WIDTHS[1]:
        return None
    joins, evidence = [False] * len(raw), 0
    for i in range(len(raw) - 1):
        line, after = raw[i].rstrip(), raw[i + 1]
        if not line or not after.strip() or _LEAD.match(after).end():  # a new paragraph or list item
            continue
        full = len(line) >= WRAP_FULL * width
        opens = i == 0 or not raw[i - 1].strip() or _LEAD.match(line).end() > 0
        joins[i] = any(c.isalnum() for c in line) and (full or (
            opens and not line.endswith(_TERMINAL) and len(after.rstrip()) >= WRAP_FULL * width))
        evidence += full and after[0].islower()
    return joins if evidence >= max(2, WRAP_EVIDENCE * len(filled)) else None


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


def _sentence_units(text: str, unwrap: bool = False) -> Iterator[tuple[int, int]]:
    for start, end in _line_units(text, unwrap):
        for match in _SENTENCE.finditer(text, start, end):
            s, e = trim(text, match.start(), match.end())
            if e > s:
                yield s, e


_KINDS = {"line": _line_units, "paragraph": lambda text, _unwrap: _paragraph_units(text), "sentence": _sentence_units}


def segment(text: str, kind: str = "line", unwrap: bool = False) -> list[tuple[int, int]]:
    """Return the units of `text` as (start, end) spans, in order; with `unwrap`, the lines of a hard-wrapped
    document are joined into paragraphs (line and sentence units)."""
    return list(_KINDS[kind](text, unwrap))

"""Word-level differences between two texts, as character-offset edits."""

from __future__ import annotations

from difflib import SequenceMatcher
from typing import Callable

from .result import Edit
from .text import Token, tokenize

# score_span(target_start, target_end) -> confidence of the target characters in that range
SpanScorer = Callable[[int, int], float]


def word_edits(source: str, target: str, score_span: SpanScorer | None = None) -> list[Edit]:
    """The edits that turn ``source`` into ``target``, at word granularity.

    Offsets index ``source``. Applying the edits to ``source`` gives ``target`` word for word; where
    the two differ only in the whitespace between unchanged words, the source's whitespace is kept,
    because layout belongs to the input.
    """
    src, tgt = tokenize(source), tokenize(target)
    matcher = SequenceMatcher(a=[t.text for t in src], b=[t.text for t in tgt], autojunk=False)
    edits = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        start, end = _source_range(source, src, i1, i2)
        after_start, after_end = _source_range(target, tgt, j1, j2)
        if i1 == i2 or j1 == j2:
            # Pure insertion or deletion: take the separating space along so spacing stays right.
            start, end, after_start, after_end = _widen(source, target, src, tgt, i1, i2, j1, j2)
        score = score_span(after_start, after_end) if score_span else 1.0
        edits.append(Edit(start, end, source[start:end], target[after_start:after_end], score))
    return edits


def _source_range(text: str, tokens: list[Token], i1: int, i2: int) -> tuple[int, int]:
    if i1 < i2:
        return tokens[i1].start, tokens[i2 - 1].end
    position = tokens[i1].start if i1 < len(tokens) else len(text.rstrip())
    return position, position


def _widen(source: str, target: str, src: list[Token], tgt: list[Token], i1: int, i2: int, j1: int, j2: int):
    """Extend an insertion/deletion to the start of the following token (or from the end of the
    previous one at the end of the text), on both sides, so whitespace moves with the words."""
    if i2 < len(src) and j2 < len(tgt):
        # Up to the next token, so "a b" -> "b" deletes "a " rather than "a".
        start = src[i1].start if i1 < i2 else src[i2].start
        after_start = tgt[j1].start if j1 < j2 else tgt[j2].start
        return start, src[i2].start, after_start, tgt[j2].start
    start = src[i1 - 1].end if i1 > 0 else 0
    end = src[i2 - 1].end if i2 > 0 else start
    after_start = tgt[j1 - 1].end if j1 > 0 else 0
    after_end = tgt[j2 - 1].end if j2 > 0 else after_start
    return start, end, after_start, after_end


def render_diff(source: str, edits: list[Edit]) -> str:
    """``source`` with each edit shown as ``[-before-]{+after+}`` (the wdiff convention)."""
    pieces, position = [], 0
    for edit in sorted(edits, key=lambda e: e.start):
        pieces.append(source[position:edit.start])
        if edit.before:
            pieces.append(f"[-{edit.before}-]")
        if edit.after:
            pieces.append(f"{{+{edit.after}+}}")
        position = edit.end
    pieces.append(source[position:])
    return "".join(pieces)

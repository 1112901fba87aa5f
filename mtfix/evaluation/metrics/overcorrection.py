"""Over-correction: how much a repairer changes text that needs no repair.

The clean reference itself is given to the repairer as input; every word it changes is damage.
``compute`` takes those repaired references as ``hypotheses`` and the first reference stream as the
text that was repaired (``sources`` is not used):

* "words" are the tokens of :func:`mtfix.text.words` (punctuation marks count as tokens too),
  aligned with ``difflib.SequenceMatcher``;
* changed words = input tokens inside a ``replace`` or ``delete`` opcode + output tokens inside an
  ``insert`` opcode;
* the score is ``100 * changed words / input words`` (0 is perfect; it can pass 100 only if the
  repairer inserts more tokens than the input has). ``details`` also gives the share of segments
  changed at all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from difflib import SequenceMatcher

from mtfix.evaluation.metrics.base import Metric, MetricResult, check_aligned
from mtfix.text import words

RepairFunction = Callable[[list[str]], list[str]]


def changed_words(before: str, after: str) -> int:
    """Words of ``before`` replaced or deleted, plus words inserted, on the way to ``after``."""
    before_words = words(before)
    after_words = words(after)
    matcher = SequenceMatcher(None, before_words, after_words, autojunk=False)
    changed = 0
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            changed += i2 - i1
        if tag == "insert":
            changed += j2 - j1
    return changed


class OverCorrection(Metric):
    name = "Over-correction"
    higher_is_better = False

    def compute(
        self,
        sources: Sequence[str],
        hypotheses: Sequence[str],
        references: Sequence[Sequence[str]],
    ) -> MetricResult:
        check_aligned(sources, hypotheses, references)
        clean = references[0]
        total_words = sum(len(words(text)) for text in clean)
        changes = [changed_words(text, repaired) for text, repaired in zip(clean, hypotheses)]
        changed = sum(changes)
        segments_changed = sum(1 for count in changes if count > 0)
        return MetricResult(
            name=self.name,
            score=100 * changed / total_words if total_words else 0.0,
            signature=self.signature(),
            higher_is_better=False,
            details={
                "words": total_words,
                "changed_words": changed,
                "segments": len(clean),
                "changed_segments": segments_changed,
                "changed_segments_percent": 100 * segments_changed / len(clean),
            },
        )

    def signature(self) -> str:
        return "input:reference1|tok:mtfix.text.words|align:difflib|unit:word"

"""Word-level edit precision, recall and F0.5.

The repairs a system makes are compared with the repairs the reference makes, both read off the
source:

* Segments are split into tokens with :func:`mtfix.text.words` (the project's one tokeniser).
* ``difflib.SequenceMatcher`` (``autojunk=False``) aligns source tokens with output tokens. Every
  opcode that is not ``equal`` is one **edit** ``(start, end, replacement)``: the source tokens
  ``start:end`` are replaced by the tuple of output tokens ``replacement`` (an insertion has
  ``start == end``, a deletion an empty replacement).
* **Exact match**: a system edit is correct (a true positive) only if the reference edits of the same
  segment contain the identical triple: same source span, same replacement tokens, same case. Fixing
  one word of a two-word reference edit, or a right word over a different span, earns nothing and
  counts as a false positive; each reference edit the system does not reproduce is a false negative.
* With several reference streams, each segment is scored against the reference that gives the most
  true positives (ties: the fewest false positives plus false negatives, then the first).
* Counts are summed over the corpus (micro average): ``P = TP / (TP + FP)``, ``R = TP / (TP + FN)``,
  ``F0.5 = 1.25 P R / (0.25 P + R)``, precision weighted twice as much as recall. As in ERRANT, P is
  1 when the system proposes no edit and R is 1 when the references contain none; F0.5 is 0 when
  P + R is 0. Scores are reported on a 0-100 scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from mtfix.evaluation.metrics.base import Metric, MetricResult, check_aligned
from mtfix.text import words

WordEdit = tuple[int, int, tuple[str, ...]]


def word_edits(source: str, target: str) -> set[WordEdit]:
    """The edits that turn the words of ``source`` into the words of ``target``."""
    source_words = words(source)
    target_words = words(target)
    matcher = SequenceMatcher(None, source_words, target_words, autojunk=False)
    return {
        (i1, i2, tuple(target_words[j1:j2]))
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    }


@dataclass(frozen=True)
class EditCounts:
    true_positives: int
    false_positives: int
    false_negatives: int

    def __add__(self, other: "EditCounts") -> "EditCounts":
        return EditCounts(
            self.true_positives + other.true_positives,
            self.false_positives + other.false_positives,
            self.false_negatives + other.false_negatives,
        )


def segment_counts(source: str, hypothesis: str, references: Sequence[str]) -> EditCounts:
    """Counts for one segment, against the best-matching of its references (see module docstring)."""
    proposed = word_edits(source, hypothesis)
    candidates = []
    for reference in references:
        gold = word_edits(source, reference)
        correct = len(proposed & gold)
        candidates.append(EditCounts(correct, len(proposed) - correct, len(gold) - correct))
    # max() keeps the first of equally good candidates.
    return max(candidates, key=lambda c: (c.true_positives, -(c.false_positives + c.false_negatives)))


def precision_recall_f(counts: EditCounts, beta: float = 0.5) -> tuple[float, float, float]:
    """Precision, recall and F-beta as fractions (0-1), with ERRANT's conventions for empty sets."""
    proposed = counts.true_positives + counts.false_positives
    gold = counts.true_positives + counts.false_negatives
    precision = counts.true_positives / proposed if proposed else 1.0
    recall = counts.true_positives / gold if gold else 1.0
    if precision + recall == 0:
        return precision, recall, 0.0
    f_beta = (1 + beta**2) * precision * recall / (beta**2 * precision + recall)
    return precision, recall, f_beta


class EditF05(Metric):
    """Edit F0.5 (the score); precision, recall and the counts are in ``details``."""

    name = "Edit F0.5"
    higher_is_better = True

    def compute(
        self,
        sources: Sequence[str],
        hypotheses: Sequence[str],
        references: Sequence[Sequence[str]],
    ) -> MetricResult:
        check_aligned(sources, hypotheses, references)
        total = EditCounts(0, 0, 0)
        for index, (source, hypothesis) in enumerate(zip(sources, hypotheses)):
            total = total + segment_counts(source, hypothesis, [stream[index] for stream in references])
        precision, recall, f_05 = precision_recall_f(total)
        return MetricResult(
            name=self.name,
            score=100 * f_05,
            signature=self.signature(),
            higher_is_better=True,
            details={
                "precision": 100 * precision,
                "recall": 100 * recall,
                "f0.5": 100 * f_05,
                "true_positives": total.true_positives,
                "false_positives": total.false_positives,
                "false_negatives": total.false_negatives,
                "nrefs": len(references),
            },
        )

    def signature(self) -> str:
        return "tok:mtfix.text.words|align:difflib|match:exact|beta:0.5|avg:micro"

"""chrF++ (character 6-grams plus word bigrams, beta 2), computed by sacrebleu."""

from __future__ import annotations

import sacrebleu.metrics

from mtfix.evaluation.metrics.base import SacrebleuMetric


class ChrF(SacrebleuMetric):
    name = "chrF++"
    higher_is_better = True

    def __init__(self) -> None:
        super().__init__(sacrebleu.metrics.CHRF(word_order=2))

"""Corpus BLEU, computed by sacrebleu with its defaults (13a tokenisation, exp smoothing)."""

from __future__ import annotations

import sacrebleu.metrics

from mtfix.evaluation.metrics.base import SacrebleuMetric


class BLEU(SacrebleuMetric):
    name = "BLEU"
    higher_is_better = True

    def __init__(self) -> None:
        super().__init__(sacrebleu.metrics.BLEU())

"""Translation edit rate, computed by sacrebleu with its defaults. Lower is better."""

from __future__ import annotations

import sacrebleu.metrics

from mtfix.evaluation.metrics.base import SacrebleuMetric


class TER(SacrebleuMetric):
    name = "TER"
    higher_is_better = False

    def __init__(self) -> None:
        super().__init__(sacrebleu.metrics.TER())

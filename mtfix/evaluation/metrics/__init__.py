"""The metrics of the eval report: one class a file, all implementing :class:`mtfix.evaluation.metrics.base.Metric`."""

from mtfix.evaluation.metrics.base import Metric, MetricResult, SacrebleuMetric
from mtfix.evaluation.metrics.bleu import BLEU
from mtfix.evaluation.metrics.chrf import ChrF
from mtfix.evaluation.metrics.edits import EditF05
from mtfix.evaluation.metrics.overcorrection import OverCorrection
from mtfix.evaluation.metrics.preservation import Preservation
from mtfix.evaluation.metrics.ter import TER

__all__ = [
    "BLEU",
    "ChrF",
    "EditF05",
    "Metric",
    "MetricResult",
    "OverCorrection",
    "Preservation",
    "SacrebleuMetric",
    "TER",
]

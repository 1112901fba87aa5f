"""The metrics of the eval report: one class a file, all implementing :class:`eval.metrics.base.Metric`."""

from eval.metrics.base import Metric, MetricResult, SacrebleuMetric
from eval.metrics.bleu import BLEU
from eval.metrics.chrf import ChrF
from eval.metrics.edits import EditF05
from eval.metrics.overcorrection import OverCorrection
from eval.metrics.preservation import Preservation
from eval.metrics.ter import TER

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

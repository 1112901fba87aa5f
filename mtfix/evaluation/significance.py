"""System minus identity baseline, with a 95% confidence interval from sacrebleu's paired bootstrap.

sacrebleu's ``PairedTest(test_type="bs")`` resamples the corpus and reports a p-value for the system
and a 95% interval around each system's own mean, but no interval around the *difference* from the
baseline, and it keeps none of the per-resample scores it computes. So we run the same procedure
with sacrebleu's own pieces, reading each corpus once:

* per-segment statistics from the metric's ``_extract_corpus_statistics`` (what ``PairedTest`` uses);
* the resamples of ``sacrebleu.significance._paired_bs_test``: the same seed rule
  (``SACREBLEU_SEED``, 12345 by default, ``none`` for no fixed seed) and the same index draw;
* each resample scored with the metric's ``_compute_score_from_stats``;
* ``sacrebleu.significance.estimate_ci`` on the paired differences (mean +- the half-width of the
  2.5-97.5 percentile range) and ``_compute_p_value`` for the p-value, exactly as ``PairedTest``.

``tests/test_eval_report.py`` checks that the p-value and the system's bootstrap mean equal what
``PairedTest`` itself reports, so a change in sacrebleu cannot go unnoticed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sacrebleu.significance import _compute_p_value, estimate_ci

from mtfix.evaluation.metrics.base import SacrebleuMetric, check_aligned


@dataclass(frozen=True)
class Comparison:
    """One metric, system against the identity baseline (scores on sacrebleu's 0-100 scale)."""

    name: str
    signature: str
    higher_is_better: bool
    identity: float
    system: float
    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    system_bootstrap_mean: float
    bootstrap: str

    @property
    def improved(self) -> bool:
        """True when the whole 95% interval lies on the better side of zero."""
        return self.ci_low > 0 if self.higher_is_better else self.ci_high < 0

    @property
    def worsened(self) -> bool:
        return self.ci_high < 0 if self.higher_is_better else self.ci_low > 0


def sacrebleu_seed() -> int | None:
    """The seed ``PairedTest`` uses: ``SACREBLEU_SEED`` (default 12345), None for ``none``."""
    seed = os.environ.get("SACREBLEU_SEED", "12345")
    return None if seed.lower() == "none" else int(seed)


def segment_statistics(
    metric: SacrebleuMetric, hypotheses: Sequence[str], references: Sequence[Sequence[str]]
) -> list[list[float]]:
    """sacrebleu's sufficient statistics of each segment (one row a segment)."""
    return metric.sacrebleu_metric._extract_corpus_statistics(list(hypotheses), [list(r) for r in references])


def _resampled_scores(metric: SacrebleuMetric, stats: list[list[float]], indices: np.ndarray) -> np.ndarray:
    """The corpus score of each resample (one row of ``indices``), as ``_paired_bs_test`` computes it."""
    rows = np.array(stats, dtype="float32")
    compute = metric.sacrebleu_metric._compute_score_from_stats
    return np.array([compute(sample.sum(0)).score for sample in rows[indices]])


def compare_to_identity(
    metric: SacrebleuMetric,
    identity_stats: list[list[float]],
    system_stats: list[list[float]],
    n_samples: int = 1000,
) -> Comparison:
    """Corpus scores of both systems and the bootstrap interval of their difference.

    The statistics come from :func:`segment_statistics` on the same references (which also fixes the
    number of references in the metric's signature).
    """
    if len(identity_stats) != len(system_stats) or not system_stats:
        raise ValueError(f"{len(identity_stats)} identity segments but {len(system_stats)} system segments")
    sacrebleu_metric = metric.sacrebleu_metric
    identity = sacrebleu_metric._aggregate_and_compute(identity_stats).score
    system = sacrebleu_metric._aggregate_and_compute(system_stats).score

    seed = sacrebleu_seed()
    rng = np.random.default_rng(seed if seed else None)  # as PairedTest hands the seed to _paired_bs_test
    indices = rng.choice(len(system_stats), size=(n_samples, len(system_stats)), replace=True)
    identity_scores = _resampled_scores(metric, identity_stats, indices)
    system_scores = _resampled_scores(metric, system_stats, indices)

    system_mean, _ = estimate_ci(system_scores)
    absolute_differences = np.abs(system_scores - identity_scores)
    p_value = _compute_p_value(absolute_differences - absolute_differences.mean(), abs(system - identity))
    difference_mean, half_width = estimate_ci(system_scores - identity_scores)
    return Comparison(
        name=metric.name,
        signature=metric.signature(),
        higher_is_better=metric.higher_is_better,
        identity=float(identity),
        system=float(system),
        difference=float(system - identity),
        ci_low=float(difference_mean - half_width),
        ci_high=float(difference_mean + half_width),
        p_value=float(p_value),
        system_bootstrap_mean=float(system_mean),
        bootstrap=f"test:paired-bs|bs:{n_samples}|seed:{str(seed).lower()}",
    )


def compare_texts(
    metric: SacrebleuMetric,
    identity: Sequence[str],
    system: Sequence[str],
    references: Sequence[Sequence[str]],
    n_samples: int = 1000,
) -> Comparison:
    """:func:`compare_to_identity` straight from the texts."""
    check_aligned(identity, system, references)
    return compare_to_identity(
        metric,
        segment_statistics(metric, identity, references),
        segment_statistics(metric, system, references),
        n_samples,
    )

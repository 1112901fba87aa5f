"""System minus identity baseline, with a 95% confidence interval from sacrebleu's paired bootstrap.

sacrebleu's ``PairedTest(test_type="bs")`` resamples the corpus (1000 times, seed ``SACREBLEU_SEED``,
12345 by default) and reports, for the system, a p-value and a 95% interval around its own mean, but
not an interval around the *difference* from the baseline. We run that test for the p-value, then
rebuild the identical resamples (same seed, same index draw, same per-segment statistics from the
metric's own ``_extract_corpus_statistics``) to score baseline and system on each resample, and apply
sacrebleu's ``estimate_ci`` to the paired differences. The rebuilt system mean is checked against
the one sacrebleu reports, so a change in sacrebleu's resampling cannot go unnoticed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sacrebleu.significance import PairedTest, estimate_ci

from eval.metrics.base import SacrebleuMetric


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
    bootstrap: str

    @property
    def improved(self) -> bool:
        """True when the whole 95% interval lies on the better side of zero."""
        return self.ci_low > 0 if self.higher_is_better else self.ci_high < 0

    @property
    def worsened(self) -> bool:
        return self.ci_high < 0 if self.higher_is_better else self.ci_low > 0


def compare_to_identity(
    metric: SacrebleuMetric,
    identity: Sequence[str],
    system: Sequence[str],
    references: Sequence[Sequence[str]],
    n_samples: int = 1000,
) -> Comparison:
    """Score ``system`` and the ``identity`` baseline and bootstrap their difference."""
    references = [list(stream) for stream in references]
    identity_score = metric.compute(identity, identity, references)
    system_score = metric.compute(identity, system, references)
    sacrebleu_metric = metric.sacrebleu_metric

    test = PairedTest(
        [("identity", list(identity)), ("system", list(system))],
        {metric.name: sacrebleu_metric},
        references,
        test_type="bs",
        n_samples=n_samples,
    )
    signatures, results = test()
    (score_name,) = signatures
    system_result = results[score_name][1]

    # The resamples of sacrebleu.significance._paired_bs_test: same seed handling, same draw.
    rng = np.random.default_rng(test._seed if test._seed else None)
    indices = rng.choice(len(system), size=(test.n_samples, len(system)), replace=True)
    identity_stats = np.array(sacrebleu_metric._extract_corpus_statistics(list(identity), references), "float32")
    system_stats = np.array(sacrebleu_metric._extract_corpus_statistics(list(system), references), "float32")
    identity_scores = np.array([sacrebleu_metric._compute_score_from_stats(s.sum(0)).score for s in identity_stats[indices]])
    system_scores = np.array([sacrebleu_metric._compute_score_from_stats(s.sum(0)).score for s in system_stats[indices]])
    system_mean, _ = estimate_ci(system_scores)
    if not math.isclose(system_mean, system_result.mean, rel_tol=1e-9, abs_tol=1e-9):
        raise RuntimeError(
            f"rebuilt bootstrap mean {system_mean} differs from sacrebleu's {system_result.mean}: "
            "sacrebleu's paired bootstrap has changed; update eval/significance.py"
        )
    difference_mean, difference_half_width = estimate_ci(system_scores - identity_scores)
    return Comparison(
        name=metric.name,
        signature=system_score.signature,
        higher_is_better=metric.higher_is_better,
        identity=identity_score.score,
        system=system_score.score,
        difference=system_score.score - identity_score.score,
        ci_low=float(difference_mean - difference_half_width),
        ci_high=float(difference_mean + difference_half_width),
        p_value=float(system_result.p_value),
        bootstrap=f"test:paired-bs|bs:{test.n_samples}|seed:{str(test._seed).lower()}",
    )

"""The one small abstraction every evaluation metric implements.

A metric scores a corpus of aligned segments. It receives three aligned inputs, in the spirit of
sacrebleu's ``Metric``:

* ``sources``: the spun input segments, one string a segment;
* ``hypotheses``: what the repairer produced for each source segment;
* ``references``: a list of reference *streams* (sacrebleu's layout): ``references[k][i]`` is the
  k-th reference of segment ``i``. Most test sets have exactly one stream.

A metric that does not need one of the inputs ignores it. Every score is on a 0-100 scale, like
sacrebleu's, and comes with a signature string that says how it was computed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field

import sacrebleu.metrics.base


@dataclass(frozen=True)
class MetricResult:
    """One corpus-level score. ``details`` holds the counts behind it (or sacrebleu's breakdown)."""

    name: str
    score: float
    signature: str
    higher_is_better: bool = True
    details: dict[str, float | int | str] = field(default_factory=dict)


class Metric(ABC):
    """A corpus-level metric over aligned sources, hypotheses and reference streams."""

    name: str = ""
    higher_is_better: bool = True

    @abstractmethod
    def compute(
        self,
        sources: Sequence[str],
        hypotheses: Sequence[str],
        references: Sequence[Sequence[str]],
    ) -> MetricResult:
        """Score ``hypotheses`` (aligned with ``sources`` and each reference stream)."""

    @abstractmethod
    def signature(self) -> str:
        """A short ``key:value|key:value`` string that identifies how the score was computed."""


def check_aligned(
    sources: Sequence[str], hypotheses: Sequence[str], references: Sequence[Sequence[str]]
) -> None:
    """Raise ``ValueError`` unless the inputs are non-empty and have one entry per segment."""
    if not hypotheses:
        raise ValueError("no segments to score")
    if len(sources) != len(hypotheses):
        raise ValueError(f"{len(sources)} sources but {len(hypotheses)} hypotheses")
    if not references:
        raise ValueError("no reference stream given")
    for number, stream in enumerate(references, 1):
        if len(stream) != len(hypotheses):
            raise ValueError(f"reference stream {number} has {len(stream)} segments, not {len(hypotheses)}")


class SacrebleuMetric(Metric):
    """A metric computed by one of sacrebleu's metric objects, with sacrebleu's own signature.

    Subclasses only build the sacrebleu object; ``sacrebleu_metric`` is exposed so that the paired
    bootstrap test (``mtfix.evaluation.significance``) resamples exactly the statistics behind the score.
    """

    def __init__(self, metric: sacrebleu.metrics.base.Metric) -> None:
        self.sacrebleu_metric = metric

    def compute(
        self,
        sources: Sequence[str],
        hypotheses: Sequence[str],
        references: Sequence[Sequence[str]],
    ) -> MetricResult:
        check_aligned(sources, hypotheses, references)
        score = self.sacrebleu_metric.corpus_score(list(hypotheses), [list(stream) for stream in references])
        return MetricResult(
            name=self.name,
            score=float(score.score),
            signature=self.signature(),
            higher_is_better=self.higher_is_better,
            details={"sacrebleu": score.format(width=4, score_only=False)},
        )

    def signature(self) -> str:
        """sacrebleu's signature. It names the number of references, so it exists only after ``compute``."""
        return self.sacrebleu_metric.get_signature().format()

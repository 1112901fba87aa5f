"""Preservation: the share of the source's numbers and capitalised names kept in the output.

Repairs must never touch facts. From each source segment we collect, with
:func:`mtfix.text.words`:

* **numbers**: tokens for which :func:`mtfix.text.is_number` holds (``13``, ``3.5``, ``2019-06-13``);
* **names**: tokens starting with an upper-case letter that are not sentence-initial. A word is
  sentence-initial when no word precedes it in the segment or the last token before it (quotes and
  brackets skipped) is ``.``, ``!``, ``?`` or ``:``.

Possessive endings are ignored on both sides (``Syria's`` and ``Syria`` are the same name), since
restoring a possessive the spinner broke ("Syria s" -> "Syria's") keeps the name. An item counts as
kept when the output segment contains it as a token, as often as the source does (multiset
intersection, case-sensitive, anywhere in the segment). The score is
``100 * kept / items`` over the corpus, numbers and names together (100 when there are none);
``details`` gives each kind separately. References are not used.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from mtfix.evaluation.metrics.base import Metric, MetricResult, check_aligned
from mtfix.text import is_number, words

_SENTENCE_END = frozenset(".!?:")
_TRANSPARENT = frozenset("\"'“”‘’«»()[]")
_POSSESSIVE_RE = re.compile(r"['’]s?$")


def _without_possessive(token: str) -> str:
    return _POSSESSIVE_RE.sub("", token) or token


def protected_items(text: str) -> tuple[Counter[str], Counter[str]]:
    """The numbers and the non-initial capitalised names of ``text``, as multisets."""
    numbers: Counter[str] = Counter()
    names: Counter[str] = Counter()
    at_sentence_start = True
    for token in map(_without_possessive, words(text)):
        if token in _TRANSPARENT:
            continue
        if token in _SENTENCE_END:
            at_sentence_start = True
            continue
        if is_number(token):
            numbers[token] += 1
        elif token[:1].isupper() and not at_sentence_start:
            names[token] += 1
        at_sentence_start = False
    return numbers, names


def _kept(items: Counter[str], output: Counter[str]) -> int:
    return sum(min(count, output[item]) for item, count in items.items())


class Preservation(Metric):
    name = "Preservation"
    higher_is_better = True

    def compute(
        self,
        sources: Sequence[str],
        hypotheses: Sequence[str],
        references: Sequence[Sequence[str]],
    ) -> MetricResult:
        if len(sources) != len(hypotheses) or not sources:
            raise ValueError(f"{len(sources)} sources but {len(hypotheses)} hypotheses")
        numbers_total = numbers_kept = names_total = names_kept = 0
        for source, hypothesis in zip(sources, hypotheses):
            numbers, names = protected_items(source)
            output = Counter(map(_without_possessive, words(hypothesis)))
            numbers_total += sum(numbers.values())
            numbers_kept += _kept(numbers, output)
            names_total += sum(names.values())
            names_kept += _kept(names, output)
        total = numbers_total + names_total
        kept = numbers_kept + names_kept
        return MetricResult(
            name=self.name,
            score=100 * kept / total if total else 100.0,
            signature=self.signature(),
            higher_is_better=True,
            details={
                "numbers": numbers_total,
                "numbers_kept": numbers_kept,
                "names": names_total,
                "names_kept": names_kept,
            },
        )

    def signature(self) -> str:
        return "tok:mtfix.text.words|items:numbers+names|names:capitalised,not-initial|match:multiset"

"""Over-correction: words changed when the clean reference itself is repaired."""

from __future__ import annotations

import pytest

from mtfix.evaluation.inputs import make_eval_set
from mtfix.evaluation.metrics import OverCorrection
from mtfix.evaluation.metrics.overcorrection import changed_words
from mtfix.evaluation.report import build_report

CLEAN = [
    "Cavusoglu said a ceasefire had not been secured.",  # 9 tokens (the full stop is one)
    "Russia launched a military intervention in 2015.",  # 8 tokens
]


def test_changed_words_counts_replacements_deletions_and_insertions():
    assert changed_words("he said it", "he said it") == 0
    assert changed_words("he said it", "he stated it") == 1
    assert changed_words("carried out four strikes", "finished 4 moves") == 4  # 4 input words replaced
    assert changed_words("he said it", "he it") == 1
    assert changed_words("he said it", "he said that it") == 1


def test_share_of_words_changed():
    repaired = [CLEAN[0].replace("said", "stated"), CLEAN[1]]
    result = OverCorrection().compute(CLEAN, repaired, [CLEAN])
    assert result.details["words"] == 17
    assert result.details["changed_words"] == 1
    assert result.score == pytest.approx(100 / 17)
    assert result.details["changed_segments"] == 1
    assert result.details["changed_segments_percent"] == pytest.approx(50.0)
    assert result.higher_is_better is False


def test_untouched_references_score_zero():
    assert OverCorrection().compute(CLEAN, CLEAN, [CLEAN]).score == 0.0


def test_the_first_reference_stream_is_the_input():
    other = ["Something else entirely.", "And more."]
    result = OverCorrection().compute(CLEAN, CLEAN, [CLEAN, other])
    assert result.score == 0.0


def test_report_repairs_the_references_with_the_repair_function():
    # A repairer that "corrects" said -> stated: on the clean reference that is pure damage.
    calls = []

    def repair(texts: list[str]) -> list[str]:
        calls.append(list(texts))
        return [text.replace(" said ", " stated ") for text in texts]

    spun = ["Cavusoglu stated a ceasefire had not been secured.", "", "Russia released a navy intervention in 2015."]
    clean = [CLEAN[0], "", CLEAN[1]]
    eval_set = make_eval_set("toy", spun, [clean], "spun", ["clean"])
    report = build_report(eval_set, repair=repair, system_label="toy repairer")
    assert calls[1] == CLEAN  # the non-blank reference lines were repaired
    assert report.overcorrection is not None
    assert report.overcorrection.details["changed_words"] == 1
    assert report.throughput is not None and report.throughput.sentences == 2


def test_without_a_repair_function_over_correction_is_not_measured():
    eval_set = make_eval_set("toy", list(CLEAN), [list(CLEAN)], "spun", ["clean"])
    report = build_report(eval_set, hypotheses=list(CLEAN))
    assert report.overcorrection is None
    assert report.throughput is None

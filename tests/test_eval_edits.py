"""Edit precision / recall / F0.5 on small hand-checked examples."""

from __future__ import annotations

import pytest

from mtfix.evaluation.metrics import EditF05
from mtfix.evaluation.metrics.edits import EditCounts, precision_recall_f, segment_counts, word_edits

SOURCE = "rocket fireplace and air moves"
REFERENCE = "rocket fire and air strikes"


def score(sources, hypotheses, references):
    details = EditF05().compute(sources, hypotheses, references).details
    return details["precision"], details["recall"], details["f0.5"]


def test_edits_are_source_spans_with_replacement_tokens():
    assert word_edits(SOURCE, REFERENCE) == {(1, 2, ("fire",)), (4, 5, ("strikes",))}
    assert word_edits("Syria s province", "Syria's province") == {(0, 2, ("Syria's",))}
    assert word_edits("a b c", "a c") == {(1, 2, ())}  # deletion
    assert word_edits("a c", "a b c") == {(1, 1, ("b",))}  # insertion
    assert word_edits("same text", "same text") == set()


def test_half_of_the_edits_all_correct():
    # 1 of 2 reference edits made, nothing wrong: P = 1, R = 1/2, F0.5 = 1.25 * 0.5 / (0.25 + 0.5) = 5/6.
    assert segment_counts(SOURCE, "rocket fire and air moves", [REFERENCE]) == EditCounts(1, 0, 1)
    precision, recall, f = score([SOURCE], ["rocket fire and air moves"], [[REFERENCE]])
    assert (precision, recall) == (100.0, 50.0)
    assert f == pytest.approx(100 * 5 / 6)


def test_one_right_one_wrong_edit():
    # fire is right, sky is wrong, strikes is missed: P = R = F0.5 = 1/2.
    assert score([SOURCE], ["rocket fire and sky moves"], [[REFERENCE]]) == pytest.approx((50.0, 50.0, 50.0))


def test_exact_match_gives_no_credit_for_half_of_a_multiword_edit():
    # The reference replaces the two-word span "commentary submit"; fixing one word of it earns nothing.
    source = "a Turkish commentary submit in Idlib"
    reference = "a Turkish observation post in Idlib"
    assert word_edits(source, reference) == {(2, 4, ("observation", "post"))}
    assert segment_counts(source, "a Turkish observation submit in Idlib", [reference]) == EditCounts(0, 1, 1)
    assert score([source], ["a Turkish observation submit in Idlib"], [[reference]]) == (0.0, 0.0, 0.0)


def test_edits_are_case_sensitive():
    source = "Turkish foreign Minister"
    assert score([source], ["Turkish Foreign Minister"], [["Turkish Foreign Minister"]]) == (100.0, 100.0, 100.0)
    assert score([source], ["Turkish FOREIGN Minister"], [["Turkish Foreign Minister"]]) == (0.0, 0.0, 0.0)


def test_errant_conventions_for_empty_edit_sets():
    # No edit proposed: precision 1, recall 0, F 0. Clean sentence left clean: all 1.
    assert score([SOURCE], [SOURCE], [[REFERENCE]]) == (100.0, 0.0, 0.0)
    assert score([REFERENCE], [REFERENCE], [[REFERENCE]]) == (100.0, 100.0, 100.0)
    # An edit on a sentence that needed none: precision 0, recall 1, F0.5 0.
    assert score([REFERENCE], ["rocket fire and sky strikes"], [[REFERENCE]]) == (0.0, 100.0, 0.0)
    assert precision_recall_f(EditCounts(0, 0, 0)) == (1.0, 1.0, 1.0)


def test_counts_are_summed_over_the_corpus():
    # Segment 1: TP 1, FN 1. Segment 2: TP 0, FP 1. Totals: TP 1, FP 1, FN 1 -> P = R = F = 1/2.
    result = EditF05().compute(
        [SOURCE, "the big dog"],
        ["rocket fire and air moves", "the large dog"],
        [[REFERENCE, "the big dog"]],
    )
    counts = [result.details[key] for key in ("true_positives", "false_positives", "false_negatives")]
    assert counts == [1, 1, 1]
    assert result.score == pytest.approx(50.0)


def test_each_segment_uses_its_best_reference():
    hypothesis = "rocket fire and air raids"
    other = "rocket fire and air raids"
    assert score([SOURCE], [hypothesis], [[REFERENCE]]) == pytest.approx((50.0, 50.0, 50.0))
    assert score([SOURCE], [hypothesis], [[REFERENCE], [other]]) == (100.0, 100.0, 100.0)


def test_misaligned_input_is_refused():
    with pytest.raises(ValueError):
        EditF05().compute([SOURCE], [SOURCE, SOURCE], [[REFERENCE]])

from mtfix.evaluation.check_quality import span_scores


def test_span_scores_count_overlaps_both_ways():
    gold = [(0, 5), (10, 15), (20, 25)]
    flagged = [(1, 3), (12, 18), (30, 35)]
    assert span_scores(gold, flagged) == (2, 3, 2, 3)
    assert span_scores([], flagged) == (0, 3, 0, 0)

"""Preservation of the source's numbers and capitalised (not sentence-initial) names."""

from __future__ import annotations

from collections import Counter

import pytest

from mtfix.evaluation.metrics import Preservation
from mtfix.evaluation.metrics.preservation import protected_items

SOURCE = "ANKARA (AFP) - Turkish Minister Cavusoglu said 3 soldiers were hurt on June 13."


def test_numbers_and_non_initial_names_are_collected():
    numbers, names = protected_items(SOURCE)
    assert numbers == Counter({"3": 1, "13": 1})
    assert names == Counter({"AFP": 1, "Turkish": 1, "Minister": 1, "Cavusoglu": 1, "June": 1})  # not ANKARA


def test_sentence_initial_words_are_not_names():
    numbers, names = protected_items('"We are working hard," he said. Moscow agreed: Both sides... Then Iran')
    # "We" opens the segment (after a quote), "Moscow" follows a full stop, "Both" a colon, "Then" "...";
    # "Iran" follows a word, so it is a name.
    assert names == Counter({"Iran": 1})
    assert numbers == Counter()
    assert protected_items("he met Le Drian in Ankara")[1] == Counter({"Le": 1, "Drian": 1, "Ankara": 1})


def test_possessives_do_not_count_as_a_lost_name():
    numbers, names = protected_items("troops in Syria s northwest")
    assert names == Counter({"Syria": 1})
    result = Preservation().compute(["troops in Syria s northwest"], ["troops in Syria's northwest"], [])
    assert result.score == 100.0


def test_share_kept_over_the_corpus():
    # 7 items: numbers 3, 13; names AFP, Turkish, Minister, Cavusoglu, June.
    # The output writes "three" and renames Cavusoglu: 5 of 7 kept.
    output = "ANKARA (AFP) - Turkish Minister Cavusoglou said three soldiers were hurt on June 13."
    result = Preservation().compute([SOURCE], [output], [[output]])
    assert result.details == {"numbers": 2, "numbers_kept": 1, "names": 5, "names_kept": 4}
    assert result.score == pytest.approx(100 * 5 / 7)


def test_counts_are_multisets():
    # The source has "3" twice; keeping it once keeps one of two.
    result = Preservation().compute(["he saw 3 and then 3 more"], ["he saw 3 and then three more"], [])
    assert (result.details["numbers"], result.details["numbers_kept"]) == (2, 1)


def test_nothing_to_preserve_scores_100():
    assert Preservation().compute(["he said so"], ["she stated that"], []).score == 100.0

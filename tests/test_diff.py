import pytest

from mtfix.diff import render_diff, word_edits
from mtfix.result import Edit, apply_edits

CASES = [
    ("rocket fireplace and air moves.", "rocket fire and air strikes."),
    ("a b c", "a c"),
    ("a b c", "b c"),
    ("a b c", "a b"),
    ("a b c", "a b c d"),
    ("Syria\u00a0s war", "Syria's war"),
    ("", "x"),
    ("a b", ""),
]


@pytest.mark.parametrize("source,target", CASES)
def test_edits_rebuild_the_target_exactly(source, target):
    edits = word_edits(source, target)
    assert apply_edits(source, edits) == target
    for edit in edits:
        assert source[edit.start:edit.end] == edit.before


def test_edits_are_word_level():
    edits = word_edits("rocket fireplace and air moves.", "rocket fire and air strikes.")
    assert [(e.before, e.after) for e in edits] == [("fireplace", "fire"), ("moves", "strikes")]


def test_render_diff_marks_changes():
    source = "air moves now"
    assert render_diff(source, word_edits(source, "air strikes now")) == "air [-moves-]{+strikes+} now"


def test_overlapping_edits_are_rejected():
    with pytest.raises(ValueError):
        apply_edits("abcdef", [Edit(0, 3, "abc", "x", 1.0), Edit(2, 4, "cd", "y", 1.0)])


def test_whitespace_between_unchanged_words_stays_the_sources():
    source = "two  spaces and fireplace"
    assert apply_edits(source, word_edits(source, "two spaces and fire")) == "two  spaces and fire"

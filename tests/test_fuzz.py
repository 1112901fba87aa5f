"""Properties of the repair on generated inputs (hypothesis): no exception; every byte outside the edits
kept; clean text a fixed point; code and JSON unchanged. The Repairer is loaded once for the module."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mtfix import DEFAULT_MODEL_DIR, Repairer
from mtfix.result import apply_edits

# Spun words the bundled model restores next to plain ones, so that generated text has edits to check.
WORDS = ["navy", "help", "intervention", "rocket", "fireplace", "air", "moves", "released", "Russia", "Assad",
         "the", "a", "an", "of", "in", "said", "struggle", "reveal", "combatants", "assaults", "ceasefire",
         "Idlib", "three", "soldiers", "Monday", "void", "main", "return", "null", "true", "int", "x"]
PUNCTUATION = [".", ",", ";", ":", "!", "?", "...", "-", "--", "(", ")", "[", "]", "{", "}", "'", "'s",
               "\"", "\u201c", "\u201d", "\u2019", "/", "//", "#", "$", "=", "==", "->", "`"]
LAYOUT = [" ", " ", " ", "  ", "\t", "\n", "\n\n", "\r\n", "\f", "\u00a0"]
ODD = ["\ud800", "\udfff", "\x00", "\x07", "\x1b", "\x7f", "\x85", "\u2028", "\ufeff", "\u200b", "é", "ß", "Ω",
       "д", "中", "🙂", "\u0301"]
DIGITS = st.integers(min_value=0, max_value=100_000).map(str) | st.sampled_from(["3.5", "1,000", "2015", "7/8"])

token = st.one_of(st.sampled_from(WORDS), st.sampled_from(WORDS), st.sampled_from(PUNCTUATION), DIGITS,
                  st.sampled_from(ODD), st.text(min_size=1, max_size=6))
text = st.lists(st.tuples(token, st.sampled_from(LAYOUT)), max_size=40).map(
    lambda pairs: "".join(t + gap for t, gap in pairs))
# Lines a spinner never writes (code, shell, data), with spun words inside where they fit.
code_line = st.sampled_from([
    "int main(void) {", "    return 0; // the navy help", "}", "def fix(text):", "    return text.strip()",
    "$ grep -r 'navy help' /var/log", "x = compute(rocket, fireplace)", "printf(\"%d\\n\", x);",
    "if (a == b && c) {", "import os", "from pathlib import Path", "    # the navy help released",
])
code_block = st.lists(code_line, min_size=1, max_size=8).map("\n".join)
json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.sampled_from(WORDS) | st.lists(st.sampled_from(WORDS), max_size=8).map(" ".join),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(WORDS), children, max_size=4),
    max_leaves=12)
json_document = st.dictionaries(st.sampled_from(WORDS + ["navy help", "rocket fireplace"]), json_value,
                                min_size=1, max_size=5)
# Clean sentences from wire copy: the model must leave them as they are.
CLEAN = [
    "The central bank said on Monday it would keep interest rates unchanged.",
    "Turkish Foreign Minister Mevlut Cavusoglu said on Thursday that talks were continuing.",
    "The company said its net profit rose 12 pct to 4.5 mln dlrs in the first quarter.",
    "Officials said three people were killed and 12 wounded in the attack.",
    "The meeting ended without agreement, a spokesman said.",
    "Prices fell sharply in early trading after the report was published.",
]

FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                        HealthCheck.too_slow])


@pytest.fixture(scope="module")
def repairer():
    if not (DEFAULT_MODEL_DIR / "config.json").is_file():
        pytest.fail(f"the bundled default model is missing in {DEFAULT_MODEL_DIR}")
    return Repairer(device="cpu")


def _check_edits(source: str, result) -> None:
    assert apply_edits(source, result.edits) == result.text
    for edit in result.edits:
        assert source[edit.start:edit.end] == edit.before
        # An edit replaces words: it never takes in layout other than a plain space, nor changes case alone.
        assert not any(c in edit.before for c in "\t\n\r\f\v\u2028\u0085")
        assert edit.after.lower() != edit.before.lower()


@FUZZ
@given(source=text)
def test_any_text_is_repaired_without_error_and_only_inside_edits(repairer, source):
    result = repairer.repair_with_edits(source)
    _check_edits(source, result)
    for suspicion in repairer.check(source):
        assert source[suspicion.start:suspicion.end] == suspicion.text


@FUZZ
@given(sources=st.lists(text, min_size=1, max_size=4))
def test_many_texts_at_once_are_repaired_as_one_at_a_time(repairer, sources):
    together = repairer.repair_many_with_edits(sources)
    for source, result in zip(sources, together):
        _check_edits(source, result)
        assert result.text == repairer.repair(source)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(picked=st.lists(st.sampled_from(CLEAN), min_size=1, max_size=4), gap=st.sampled_from([" ", "\n", "\n\n"]))
def test_clean_text_is_a_fixed_point(repairer, picked, gap):
    source = gap.join(picked)
    repaired = repairer.repair(source)
    assert repaired == source
    assert repairer.repair(repaired) == repaired


@FUZZ
@given(block=code_block, prose=st.sampled_from(["", "Russia released a navy intervention in help of Assad.\n\n"]))
def test_code_is_unchanged(repairer, block, prose):
    source = prose + block + "\n"
    repaired = repairer.repair(source)
    assert repaired.endswith(block + "\n")


@FUZZ
@given(document=json_document, indent=st.sampled_from([None, 2]))
def test_json_is_unchanged(repairer, document, indent):
    source = json.dumps(document, indent=indent)
    assert repairer.repair(source) == source

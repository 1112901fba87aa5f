"""Broken news collocations (mtfix/collocations.py): found from the news LM's bigrams and related words,
offered by the candidate generator as one restoration, and restored by the bundled model."""

from __future__ import annotations

import math
import re

import pytest

from mtfix import DEFAULT_MODEL_DIR, Repairer
from mtfix.candidates import CandidateGenerator, ChannelRates
from mtfix.collocations import Collocations
from mtfix.lm import NgramLM
from mtfix.text import tokenize

from conftest import SEED_SPUN

RELATED = {"commentary": ["note", "observation", "report"], "submit": ["state", "post", "say"]}


@pytest.fixture(scope="module")
def lm() -> NgramLM:
    return NgramLM.load(DEFAULT_MODEL_DIR / "lm.safetensors")


@pytest.fixture(scope="module")
def collocations(lm) -> Collocations:
    return Collocations(lm, related=lambda word: RELATED.get(word, []))


def test_a_word_is_related_to_the_words_it_is_built_from(collocations):
    assert collocations.parts("fireplace") == ("fire", "place")
    assert collocations.parts("war") == ()  # too short to hold a word of three letters and leave three


def test_a_broken_collocation_is_restored_from_related_words(collocations):
    restored = collocations.restorations("commentary", "submit")
    assert restored[0][:2] == ("observation", "post")
    assert all(p == pytest.approx(q) for (_, _, p), q in zip(restored, sorted((r[2] for r in restored), reverse=True)))
    # "report say": two frequent words, one after the other no more often than apart; no collocation
    assert ("report", "say") not in [r[:2] for r in restored]


def test_one_word_of_a_pair_may_stay(collocations):
    assert ("rocket", "fire") in [r[:2] for r in collocations.restorations("rocket", "fireplace")]


def test_reach_narrows_what_each_word_may_become(collocations):
    from mtfix.collocations import ANY, NONE, PARTS

    assert any(r[0] != "commentary" for r in collocations.restorations("commentary", "submit"))
    assert all(r[0] == "commentary" for r in collocations.restorations("commentary", "submit", NONE, ANY))
    assert ("rocket", "fire") in [r[:2] for r in collocations.restorations("rocket", "fireplace", NONE, ANY)]
    assert collocations.restorations("rocket", "fireplace", NONE, PARTS)[0][:2] == ("rocket", "fire")
    assert all(r[1] in ("fireplace", "fire", "place") for r in collocations.restorations("rocket", "fireplace", ANY, PARTS))
    assert collocations.restorations("commentary", "submit", NONE, NONE) == ()
    pairs = [("commentary", "submit", ANY, ANY), ("rocket", "fireplace", NONE, PARTS), ("air", "strikes", ANY, ANY)]
    assert collocations.restorations_of(pairs) == [collocations.restorations(*pair) for pair in pairs]


def test_a_bigram_the_lm_knows_is_left_alone(collocations):
    assert collocations.restorations("air", "strikes") == ()
    assert collocations.restorations("observation", "post") == ()


def test_thresholds_decide(lm):
    related = lambda word: RELATED.get(word, [])  # noqa: E731
    assert Collocations(lm, related, margin=20.0).restorations("commentary", "submit") == ()
    assert Collocations(lm, related, min_association=20.0).restorations("commentary", "submit") == ()
    assert Collocations(lm, related, max_observed=-20.0).restorations("commentary", "submit") == ()


def _collocation_candidates(generator, sentence, suspects=frozenset(), unsuspected=frozenset()):
    tokens = tokenize(sentence)
    return [c for c in generator.columns(sentence, tokens, suspects, unsuspected).rows() if c.kind == "collocation"]


@pytest.fixture(scope="module")
def generator(lm) -> CandidateGenerator:
    return CandidateGenerator(rates=ChannelRates(collocation=0.1), language_model=lm)


def test_generator_offers_a_restored_pair_as_one_candidate(generator):
    sentence = "A Turkish commentary submit was shelled."
    found = {(c.start, c.end, c.words): c.channel for c in _collocation_candidates(generator, sentence)}
    assert found[(2, 4, ("observation", "post"))] == pytest.approx(2 * math.log(0.1))
    # one word kept: only the other is a candidate, at one word's rate
    rocket = {(c.start, c.end, c.words): c.channel for c in _collocation_candidates(generator, "Rocket fireplace hit it.")}
    assert rocket[(1, 2, ("fire",))] == pytest.approx(math.log(0.1))
    assert CandidateGenerator(rates=ChannelRates(collocation=0.0), language_model=generator.collocations.lm).collocations is None


def test_detector_decides_which_words_may_change(generator):
    sentence = "A Turkish commentary submit was shelled."
    pair = (2, 4, ("observation", "post"))
    spans = lambda **sets: {(c.start, c.end, c.words) for c in _collocation_candidates(generator, sentence, **sets)}  # noqa: E731
    assert pair in spans(suspects=frozenset({2, 3}))
    assert pair not in spans(suspects=frozenset({3}))  # both words change only where both are suspected
    assert not any(s <= 3 < e for s, e, _ in spans(unsuspected=frozenset({3})))  # a cleared word never changes


def test_names_numbers_and_function_words_start_no_collocation(generator):
    assert _collocation_candidates(generator, "Paris submit and 3 submit of the submit.") == []


@pytest.fixture(scope="module")
def bundled() -> Repairer:
    return Repairer(device="cpu", workers=1)


def test_bundled_model_restores_the_seeds_collocations(bundled):
    repaired = bundled.repair(SEED_SPUN.read_text(encoding="utf-8"))
    assert "rocket fire and air strikes" in repaired and "observation post" in repaired


@pytest.mark.parametrize("spun, restored", [
    ("A Turkish commentary submit was shelled on Tuesday.", "observation post"),
    ("Troops came under rocket fireplace near the border.", "rocket fire"),
    ("Villages were hit by rocket fireplace and air moves overnight.", "rocket fire and air strikes"),
])
def test_bundled_model_restores_them_in_new_sentences(bundled, spun, restored):
    assert re.search(rf"\b{restored}\b", bundled.repair(spun))


# Known misses (strict: a change that fixes one fails here, so the note in the README is updated with it). The
# candidate is offered in the first; the sentence's gain stays under min_sentence_gain (4.8 < 5). In the second
# the detector's P(spun) for "commentary" is 0.44, under the 0.5 at which both words of a pair may change.
@pytest.mark.xfail(strict=True, reason="collocation restorations still missed in some contexts")
@pytest.mark.parametrize("spun", [
    "A Turkish commentary submit in Idlib was hit on Tuesday.",
    "The Turkish army said its commentary submit near Idlib was attacked.",
])
def test_known_misses_of_the_bundled_model(bundled, spun):
    assert "observation post" in bundled.repair(spun)

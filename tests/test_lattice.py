"""The lattice decoder restores spun phrasing that a news LM knows, and leaves clean text alone."""

import pytest

from mtfix.candidates import CandidateGenerator
from mtfix.constrained import LatticeBackend
from mtfix.lattice import LatticeWeights
from mtfix.text import lm_form, words
from training.build_lm import train_lm

NEWS = [
    "Russia launched a military intervention in support of Assad in 2015.",
    "The army launched a military operation in support of the rebels.",
    "Syrian forces kept up rocket fire and air strikes on the town.",
    "Weeks of rocket fire and air strikes killed dozens of people.",
    "The talks have not made progress since late April, according to officials.",
    "He said the ceasefire had not been fully secured despite an announcement by Moscow.",
    "Officials said the attack was the work of militants.",
    "The group said three soldiers were injured in the attack.",
    "Turkey's defence ministry said it had responded with air strikes.",
    "The ministry said the report was false.",
    "The government said it would support the plan.",
    "Police said two people were killed in the blast.",
]


@pytest.fixture(scope="module")
def backend():
    corpus = [[lm_form(w) for w in words(s)] for s in NEWS * 3]
    lm = train_lm(corpus, order=3)
    return LatticeBackend(lm, LatticeWeights(change_penalty=2.0), thesaurus=CandidateGenerator().thesaurus)


def test_restores_what_the_lm_knows(backend):
    assert backend.repair_sentences(["Russia released a navy intervention in help of Assad in 2015."]) == [
        "Russia launched a military intervention in support of Assad in 2015."]
    assert backend.repair_sentences(["Officials stated the assault was the work of militants."]) == [
        "Officials said the attack was the work of militants."]


def test_restores_phrase_swaps_and_damage(backend):
    out = backend.repair_sentences(["The talks have not made progress considering the fact that late April, consistent with officials."])
    assert out == ["The talks have not made progress since late April, according to officials."]
    assert backend.repair_sentences(["Turkey\u00a0s defence ministry stated it had responded with air strikes."]) == [
        "Turkey's defence ministry said it had responded with air strikes."]


def test_clean_sentences_are_left_alone(backend):
    for sentence in NEWS:
        assert backend.repair_sentences([sentence]) == [sentence]


def test_lower_cased_start_is_capitalised(backend):
    assert backend.repair_sentences(["the ministry stated the report was false."]) == ["The ministry said the report was false."]


def test_edits_carry_confidences_and_check_explains_them(backend):
    sentence = "Russia released a navy intervention in help of Assad in 2015."
    edits = backend.propose([sentence])[0]
    assert edits and all(0.5 <= e.score <= 1.0 for e in edits)
    assert all(sentence[e.start:e.end] == e.before for e in edits)
    suspicions = backend.check([sentence])[0]
    assert {s.text for s in suspicions} >= {"released", "navy"}
    assert all(s.alternatives is not None for s in suspicions)


def test_heavier_keep_prior_changes_less(backend):
    strict = LatticeBackend(backend.decoder.lm, LatticeWeights(change_penalty=50.0), thesaurus=backend.thesaurus)
    sentence = "Russia released a navy intervention in help of Assad in 2015."
    assert strict.repair_sentences([sentence]) == [sentence]

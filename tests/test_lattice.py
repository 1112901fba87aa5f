"""The lattice decoder restores spun phrasing that a news LM knows, and leaves clean text alone."""

import math
from dataclasses import replace

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


def test_a_lower_cased_start_keeps_its_case_and_a_capitalised_one_its_capital(backend):
    # A piece may start after a hard wrap or an abbreviation: only the Repairer, which sees the whole
    # text, capitalises an edit at a true sentence start.
    assert backend.repair_sentences(["the ministry stated the report was false."]) == ["the ministry said the report was false."]
    assert backend.repair_sentences(["Consistent with officials, the talks have not made progress since late April."]) == [
        "According to officials, the talks have not made progress since late April."]


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


def test_min_sentence_gain_leaves_weakly_supported_sentences_alone(backend):
    sentence = "Russia released a navy intervention in help of Assad in 2015."
    decoder = backend.decoder
    tokens, paths, _ = decoder.nbest(sentence)
    identity = [c for c in decoder.candidates(sentence)[1] if c.is_keep]
    gain = decoder.scores_of([paths[0].candidates])[0] - decoder.scores_of([identity])[0]
    assert gain > 0
    lm, thesaurus = decoder.lm, backend.thesaurus
    below = LatticeBackend(lm, LatticeWeights(change_penalty=2.0, min_sentence_gain=gain - 0.01), thesaurus=thesaurus)
    above = LatticeBackend(lm, LatticeWeights(change_penalty=2.0, min_sentence_gain=gain + 0.01), thesaurus=thesaurus)
    assert below.repair_sentences([sentence]) == backend.repair_sentences([sentence]) != [sentence]
    assert above.repair_sentences([sentence]) == [sentence]
    # check() still lists what the threshold held back: those spans do look spun.
    assert {s.text for s in above.check([sentence])[0]} >= {"released", "navy", "help"}


def test_channel_rates_come_from_the_model_settings():
    from mtfix.candidates import ChannelRates

    assert ChannelRates.from_settings({}) == ChannelRates()
    rates = ChannelRates.from_settings({"channel_rates": {"phrase": 0.85, "damage": "0.9", "unknown": 1}})
    assert (rates.synonym, rates.phrase, rates.damage) == (ChannelRates().synonym, 0.85, 0.9)


def test_context_weight_uses_the_word_vectors(backend):
    import numpy as np

    from mtfix.context import WordVectors

    # Vectors that put "navy" off the topic of the sentence and "military" on it.
    vocab = ["russia", "launched", "military", "navy", "intervention", "support", "assad", "released", "help"]
    vectors = np.array([[1, 0]] * len(vocab), dtype=np.float32)
    vectors[vocab.index("navy")] = [0, 1]
    topical = WordVectors(vocab, vectors)
    sentence = "Russia released a navy intervention in help of Assad in 2015."
    lm, thesaurus = backend.decoder.lm, backend.thesaurus
    plain = LatticeBackend(lm, LatticeWeights(change_penalty=2.0), thesaurus=thesaurus, vectors=topical)
    weighted = LatticeBackend(lm, LatticeWeights(change_penalty=2.0, context=3.0), thesaurus=thesaurus, vectors=topical)
    plain_military = [c for c in plain.decoder.candidates(sentence)[1] if c.words == ("military",)]
    weighted_military = [c for c in weighted.decoder.candidates(sentence)[1] if c.words == ("military",)]
    assert plain_military and all(c.context == 0 for c in plain_military)  # weight 0: vectors not consulted
    assert weighted_military and all(c.context > 0.5 for c in weighted_military)


class _MarkedWords:
    """A stand-in spin detector that is sure about some words and doubts the rest; with ``originals``
    (observed word -> the original it favours) it has an original-word head too."""

    def __init__(self, spun: set[str], originals: dict[str, str] | None = None):
        self.spun = spun
        self.originals = originals
        self.has_original_words = originals is not None
        self._favoured: list[str | None] = []  # a token's "state" is its row here
        self._classes: dict[str, int] = {}

    def read(self, sentences, tokens):
        import numpy as np

        from mtfix.detector import Reading

        readings = []
        for sentence_tokens in tokens:
            spun = np.array([0.99 if t.text in self.spun else 0.05 for t in sentence_tokens])
            states = None
            if self.originals is not None:
                states = np.arange(len(self._favoured), len(self._favoured) + len(sentence_tokens))[:, None]
                self._favoured.extend(self.originals.get(t.text) for t in sentence_tokens)
            readings.append(Reading(spun, states))
        return readings

    def original_rows(self, candidate_words):  # the head's "class" of a word: its index in _classes
        import numpy as np

        return np.array([self._classes.setdefault(words[0], len(self._classes)) for words in candidate_words], dtype=np.int64)

    def original_logits_of_rows(self, states, rows):
        import numpy as np

        word_of = {row: word for word, row in self._classes.items()}
        return np.array([5.0 if word_of[row] == self._favoured[int(state[0])] else 0.0 for state, row in zip(states, rows.tolist())])


def test_detector_weight_adds_its_log_odds_to_changes(backend):
    lm, thesaurus = backend.decoder.lm, backend.thesaurus
    sentence = "Officials said the attack was the work of militants."  # clean: the lattice leaves it alone
    detector = _MarkedWords({"attack"})
    plain = LatticeBackend(lm, LatticeWeights(change_penalty=2.0), thesaurus=thesaurus, detector=detector)
    trusting = LatticeBackend(lm, LatticeWeights(change_penalty=2.0, detector=3.0), thesaurus=thesaurus, detector=detector)
    assert plain.repair_sentences([sentence]) == [sentence]  # weight 0: the detector is not consulted
    changes = [c for c in trusting.decoder.candidates(sentence)[1] if not c.is_keep]
    on_attack = [c for c in changes if c.start == 3]
    assert on_attack and all(c.spun > 4 for c in on_attack)  # ln(0.99 / 0.01)
    assert all(c.spun < -2 for c in changes if c.start != 3 and c.end - c.start == 1)  # ln(0.05 / 0.95)
    # A path's score gains exactly weight x log-odds for each change it makes.
    tokens, candidates = trusting.decoder.candidates(sentence)
    keep = [c for c in candidates if c.is_keep]
    change = max(on_attack, key=lambda c: c.channel)
    path = keep[:3] + [change] + keep[4:]
    gained = trusting.decoder.scores_of([path])[0] - plain.decoder.scores_of([path])[0]
    assert gained == pytest.approx(3.0 * change.spun)
    assert trusting.decoder.scores_of([keep]) == plain.decoder.scores_of([keep])


def test_detector_floor_drops_changes_the_detector_rules_out(backend):
    lm, thesaurus = backend.decoder.lm, backend.thesaurus
    sentence = "Officials said the attack was the work of militants."
    detector = _MarkedWords({"attack"})  # log-odds +4.6 for "attack", -2.9 for every other word
    every = LatticeBackend(lm, LatticeWeights(detector=1.0), thesaurus=thesaurus, detector=detector)
    floored = LatticeBackend(lm, LatticeWeights(detector=1.0, detector_floor=-2.0), thesaurus=thesaurus, detector=detector)
    all_changes = [c for c in every.decoder.candidates(sentence)[1] if not c.is_keep]
    kept_changes = [c for c in floored.decoder.candidates(sentence)[1] if not c.is_keep]
    assert {c.start for c in all_changes} > {3}
    assert kept_changes and all(c.spun >= -2.0 for c in kept_changes)
    assert {c.start for c in kept_changes} == {3}  # only the word the detector suspects
    assert len([c for c in floored.decoder.candidates(sentence)[1] if c.is_keep]) == len(sentence.split()) + 1  # "." too


def _synonyms(candidates, index):
    """The single-word originals offered for token ``index``."""
    return [c for c in candidates if c.kind == "synonym" and c.start == index and c.end == index + 1]


def test_candidates_per_word_sets_the_breadth_of_the_search(backend):
    weights = LatticeWeights.from_settings({"lattice": {"candidates_per_word": 4, "change_penalty": 2.0}})
    narrow = LatticeBackend(backend.decoder.lm, weights, thesaurus=backend.thesaurus)
    sentence = "The army released a navy operation."
    _, wide_candidates = backend.decoder.candidates(sentence)
    _, narrow_candidates = narrow.decoder.candidates(sentence)

    assert len(_synonyms(narrow_candidates, 2)) == 4 < len(_synonyms(wide_candidates, 2)) <= 32
    # the narrow list is the head of the wide one (same ranking, cut earlier)
    wide_words = {c.words for c in _synonyms(wide_candidates, 2)}
    assert {c.words for c in _synonyms(narrow_candidates, 2)} <= wide_words
    with pytest.raises(ValueError, match="candidates_per_word"):
        LatticeWeights(candidates_per_word=0)


def test_words_the_detector_flags_get_more_candidates(backend):
    from mtfix.text import tokenize

    generator = CandidateGenerator(backend.thesaurus, max_candidates=4, max_candidates_suspect=12)
    sentence = "The army released a navy operation."
    tokens = tokenize(sentence)

    _, plain = generator.candidates(sentence)
    _, flagged = generator.candidates(sentence, tokens, suspects=frozenset({2}))
    assert len(_synonyms(plain, 2)) == 4 and len(_synonyms(flagged, 2)) == 12
    assert _synonyms(flagged, 4) == _synonyms(plain, 4)  # unflagged words keep the narrow list
    assert {c.words for c in _synonyms(plain, 2)} <= {c.words for c in _synonyms(flagged, 2)}  # the same ranking, cut later


def test_choice_weight_follows_the_original_word_head(backend):
    lm, thesaurus = backend.decoder.lm, backend.thesaurus
    sentence = "Officials said the attack was the work of militants."
    detector = _MarkedWords({"attack"}, originals={"attack": "assault"})
    weights = LatticeWeights(change_penalty=0.0, detector=1.0, detector_floor=-2.0)
    plain = LatticeBackend(lm, weights, thesaurus=thesaurus, detector=detector)
    choosing = LatticeBackend(lm, replace(weights, choice=6.0), thesaurus=thesaurus, detector=detector)
    changes = [c for c in choosing.decoder.candidates(sentence)[1] if not c.is_keep]
    on_attack = [c for c in changes if c.start == 3 and c.end == 4]
    assert len(on_attack) > 1 and {c.words for c in on_attack} >= {("assault",)}
    # ln P(word | the changes there) + ln(their number): a softmax over the changes at the token, centred
    # on the uniform choice; the favoured word gets the most, every other the same
    probabilities = [math.exp(c.choice) / len(on_attack) for c in on_attack]
    assert sum(probabilities) == pytest.approx(1.0)
    best = max(on_attack, key=lambda c: c.choice)
    assert best.words == ("assault",) and best.choice > 0 > max(c.choice for c in on_attack if c is not best)
    assert all(c.choice == 0 for c in plain.decoder.candidates(sentence)[1])  # weight 0: the head is not read
    # a path gains exactly weight x choice for its change
    _, candidates = choosing.decoder.candidates(sentence)
    keep = [c for c in candidates if c.is_keep]
    path = keep[:3] + [best] + keep[4:]
    assert choosing.decoder.scores_of([path])[0] - plain.decoder.scores_of([path])[0] == pytest.approx(6.0 * best.choice)
    assert choosing.repair_sentences([sentence]) == ["Officials said the assault was the work of militants."]


def test_a_choice_weight_needs_a_detector_with_the_head(tmp_path):
    import json
    import shutil

    from mtfix.model import DEFAULT_MODEL_DIR, ModelLoadError, load_model

    model_dir = tmp_path / "model"
    shutil.copytree(DEFAULT_MODEL_DIR, model_dir, ignore=shutil.ignore_patterns("ct2-*"))
    settings = json.loads((model_dir / "mtfix.json").read_text())
    has_head = (model_dir / "detector" / "originals.txt").is_file()
    settings["lattice"]["choice"] = 1.0
    (model_dir / "mtfix.json").write_text(json.dumps(settings))
    if has_head:
        (model_dir / "detector" / "originals.txt").unlink()
    with pytest.raises(ModelLoadError, match="original"):
        LatticeBackend.from_model(load_model(model_dir, device="cpu"))

"""The candidate generator proposes the inverse of each spinner family, and nothing for names or numbers."""

import numpy as np
import pytest

from mtfix.candidates import Candidate, CandidateGenerator, CandidateWords
from mtfix.text import tokenize


@pytest.fixture(scope="module")
def generator():
    return CandidateGenerator()


def _proposals(generator, sentence):
    tokens, candidates = generator.candidates(sentence)
    found = {}
    for c in candidates:
        if not c.is_keep:
            observed = " ".join(t.text for t in tokens[c.start:c.end])
            found.setdefault(observed, []).append(" ".join(c.words))
    return found


@pytest.mark.parametrize("observed,original", [
    ("convention", "conference"), ("navy", "military"), ("released", "launched"), ("help", "support"),
    ("combatants", "fighters"), ("assaults", "attacks"), ("furnished", "provided"), ("huge", "large"),
])
def test_thesaurus_inverse_holds_the_original(generator, observed, original):
    assert original in _proposals(generator, f"They said the {observed} was there.").get(observed, [])


@pytest.mark.parametrize("observed,original", [
    ("demanded", "called for"), ("viable", "of interest"), ("informed", "aware of"), ("longed", "wanted to"),
])
def test_multi_word_originals_of_a_word_are_inflected_like_it(generator, observed, original):
    assert original in _proposals(generator, f"They {observed} the plan.").get(observed, [])


def test_phrase_originals_are_inflected_only_into_real_words(generator):
    originals = _proposals(generator, "They longed for peace.").get("longed", [])
    assert originals and not any(o.split()[0] in {"anded", "forred", "yenned"} for o in originals)


@pytest.mark.parametrize("observed,original", [
    ("considering the fact that", "since"), ("consistent with", "according to"), ("stated", "said"),
    ("notwithstanding", "despite"), ("due to the fact that", "because"), ("because of the fact that", "because"),
])
def test_phrase_swaps_are_inverted(generator, observed, original):
    assert original in _proposals(generator, f"It rose {observed} the report.").get(observed, [])


def test_thesaurus_phrases_stay_short_while_swap_phrases_may_be_longer(generator):
    tokens, candidates = generator.candidates("They left due to the fact that the big red brown fox ran off.")
    longest = max(c.end - c.start for c in candidates if c.kind == "phrase")
    assert longest == 5
    assert max(c.end - c.start for c in candidates if c.kind == "synonym") <= generator.max_phrase_tokens


def test_damage_fixes(generator):
    found = _proposals(generator, "Syria\u00a0s army hurt 3 soldiers in an attack.")
    assert "Syria's" in found["Syria s"]
    assert "3" not in found  # clean copy writes "my 2 daughters" too: digits stay unless asked
    assert "a" in found["an"]
    asked = _proposals(CandidateGenerator(generator.thesaurus, spell_out_numbers=True), "Syria army hurt 3 soldiers.")
    assert asked["3"] == ["three"]


@pytest.mark.parametrize("sentence, number", [("They raised tens of trillions of dollars.", "tens"),
                                              ("Only five of the nine judges agreed.", "five"),
                                              ("Prices rose by half to 7.7 million dlrs.", "million")])
def test_number_words_get_no_candidates(generator, sentence, number):
    found = _proposals(generator, sentence)
    assert not any(number in key.split() for key in found), found


def test_no_phrase_spans_a_tab_a_line_break_or_two_spaces(generator):
    """A phrase's words are joined by one space when written: over other gaps the edit would swallow layout."""
    assert "due to the fact that" in _proposals(generator, "They left due to the fact that we won.")
    for gap in ("\t", "\n", "  "):
        found = _proposals(generator, f"They left due to the{gap}fact that we won.")
        assert not any(key.startswith("due to the fact") for key in found), repr(gap)


def test_restored_possessive_matches_the_texts_apostrophes(generator):
    curly = _proposals(generator, "“We won,” Syria s army said.")
    assert curly["Syria s"] == ["Syria’s"]
    straight = _proposals(generator, "\"We won,\" Syria s army said.")
    assert straight["Syria s"] == ["Syria's"]


def test_names_numbers_and_urls_get_no_candidates(generator):
    found = _proposals(generator, "Officials in Ankara said 2015 was at http://example.com/news today.")
    assert "Ankara" not in found and "2015" not in found
    assert not any("example" in key for key in found)


def test_sentence_initial_name_gets_no_candidates(generator):
    assert "Turkey" not in _proposals(generator, "Turkey denied the report.")


def test_numbers_before_units_and_dates_stay_digits(generator):
    found = _proposals(generator, "Prices rose 5 pct on June 3 to 7 million.")
    assert "5" not in found and "3" not in found and "7" not in found


def _deduplicated_by_hand(generator, sentence, suspects=frozenset(), unsuspected=frozenset()):
    """The candidate list spelled out one tuple at a time: every family, then one per (span, lower-cased
    words) with the best channel score (the first among equals, in its first place), none repeating the
    input, stably sorted by (start, end, keep first, best channel first)."""
    tokens = tokenize(sentence)
    protected = generator._protected_indices(sentence, tokens)
    found = [Candidate(i, i + 1, (t.text,), 0.0, "keep") for i, t in enumerate(tokens)]
    for i, token in enumerate(tokens):
        if i in protected or not token.is_word or i in unsuspected:
            continue
        limit = generator.max_candidates_suspect if i in suspects else generator.max_candidates
        found += [Candidate(i, i + 1, words, logprob, "synonym") for words, logprob in generator._options_of_token(token.text)[:limit]]
    found += generator._phrase_candidates(tokens, protected) + generator._damage_candidates(sentence, tokens, protected)
    observed = [t.text.lower() for t in tokens]
    best: dict[tuple, Candidate] = {}
    for c in found:
        words = " ".join(c.words).lower()
        if not c.is_keep and words == " ".join(observed[c.start:c.end]):
            continue
        key = (c.start, c.end, words)
        if key not in best or (c.channel > best[key].channel and not best[key].is_keep):
            best[key] = c
    return sorted(best.values(), key=lambda c: (c.start, c.end, not c.is_keep, -c.channel))


@pytest.mark.parametrize("sentence", [
    "Syria\u00a0s navy released an assault in help of Assad consistent with officials.",
    "It rose due to the fact that the convention was huge, the minister stated on 3 occasions.",
    "A rocket fireplace and air moves hit the town.",
    "",
])
def test_columns_hold_the_same_candidates_as_building_them_one_by_one(generator, sentence):
    tokens = tokenize(sentence)
    suspects = frozenset(range(0, len(tokens), 3))
    unsuspected = frozenset(range(1, len(tokens), 4))
    assert generator.columns(sentence, tokens, suspects, unsuspected).rows() == _deduplicated_by_hand(
        generator, sentence, suspects, unsuspected)
    assert generator.candidates(sentence)[1] == _deduplicated_by_hand(generator, sentence)


def test_a_phrase_swap_beats_a_weaker_thesaurus_original_of_the_same_word(generator):
    """'stated' has 'said' from both the swap table and the thesaurus: one candidate, the better channel."""
    said = [c for c in generator.candidates("He stated it.")[1] if c.words == ("said",)]
    assert len(said) == 1 and said[0].kind == "phrase"


def test_candidate_words_compute_a_feature_once_per_number():
    words = CandidateWords()
    calls = []

    def lengths(tuples):  # as wide as the longest tuple added
        calls.append(len(tuples))
        return np.array([[len(w)] * max(map(len, tuples)) for w in tuples])

    first = np.array([words.number(("a",)), words.number(("b",)), words.number(("a",))])
    assert first.tolist() == [0, 1, 0] and len(words) == 2
    assert words.feature("n", lengths, first, fill=-1).tolist() == [[1], [1], [1]]
    two = words.number(("c", "d"))
    assert words.feature("n", lengths, np.array([two, 0]), fill=-1).tolist() == [[2, 2], [1, -1]]  # widened
    assert words.feature("n", lengths, np.array([1]), fill=-1).tolist() == [[1, -1]]
    assert calls == [2, 1]


def test_forgetting_the_numbering_gives_the_same_candidates(generator):
    sentence = "Russia released a navy intervention in help of Assad."
    before = generator.candidates(sentence)[1]
    generator.forget_if_over(limit=0)
    assert len(generator.words) == 0
    assert generator.candidates(sentence)[1] == before


def test_multi_word_synonyms_are_found_through_their_tails(generator):
    """Phrases whose tail ends no multi-word synonym are skipped unasked: nothing they could give is lost."""
    sentence = "The human beings were taken into account as a matter of fact by the officials."
    tokens = tokenize(sentence)
    lowered = [t.text.lower() for t in tokens]
    asked_everywhere = {(i, j, original) for i in range(len(tokens)) for j in range(i + 2, min(len(tokens), i + 4) + 1)
                        for original, _ in generator._multiword_originals(" ".join(lowered[i:j]))}
    proposed = {(c.start, c.end, " ".join(c.words).lower()) for c in generator._phrase_candidates(tokens, set())
                if c.kind == "synonym"}
    assert asked_everywhere and asked_everywhere == proposed
    assert "beings" in generator.thesaurus.multiword_tails


def test_pivot_paraphrases_offer_originals_the_thesaurus_lacks():
    """Bilingual pivoting pairs "fireplace" with "fire" (Spanish "fuego"/"hogar"...), which neither Moby nor
    WordNet does: with a pivot rate the lattice is offered it, without one (the bundled default) it is not."""
    from mtfix.candidates import ChannelRates

    sentence = "The rocket fireplace went on all night."
    def originals(rates):
        tokens, candidates = CandidateGenerator(rates=rates).candidates(sentence)
        return {" ".join(c.words).lower() for c in candidates if tokens[c.start].text == "fireplace"}

    assert "fire" not in originals(ChannelRates())
    assert "fire" in originals(ChannelRates(pivot=0.05))


def test_plain_originals_of_formal_phrases_are_offered_only_at_their_rate():
    import math

    from mtfix.candidates import CandidateGenerator, ChannelRates

    sentence = "Prior to the vote, officials possess the power to act."
    plain = [c for c in CandidateGenerator(rates=ChannelRates(plain=0.2)).candidates(sentence)[1] if c.kind == "phrase"]
    assert (0, 2, ("Before",)) in [(c.start, c.end, c.words) for c in plain]
    channel = {c.words: c.channel for c in plain if c.start == 6}
    assert math.isclose(channel[("have",)], math.log(0.2) + math.log(0.5))
    default = CandidateGenerator().candidates(sentence)[1]
    assert ("Before",) not in [c.words for c in default if (c.start, c.end) == (0, 2)]

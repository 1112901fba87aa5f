"""The candidate generator proposes the inverse of each spinner family, and nothing for names or numbers."""

import pytest

from mtfix.candidates import CandidateGenerator


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
    assert found["3"] == ["three"]
    assert "a" in found["an"]


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

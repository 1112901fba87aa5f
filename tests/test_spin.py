"""The spinner noise model: each family, alignment, determinism, and the seed's substitution types."""

from __future__ import annotations

import re

from mtfix.lexicon import PHRASE_SWAPS, Thesaurus
from mtfix.morph import inflect
from mtfix.spin import NBSP, SEED_DIR, SpinRates, Spinner, changed_words_per_100, seed_density

ONLY_SYNONYM = SpinRates(synonym=1.0, phrase=0.0, damage=0.0)
ONLY_PHRASE = SpinRates(synonym=0.0, phrase=1.0, damage=0.0)
ONLY_DAMAGE = SpinRates(synonym=0.0, phrase=0.0, damage=1.0)
EVERYTHING = SpinRates(synonym=1.0, phrase=1.0, damage=1.0)

REFERENCE = (SEED_DIR / "idlib_ceasefire_reference.txt").read_text(encoding="utf-8")


def spins(text: str, rates: SpinRates, seeds: range) -> list[str]:
    return [Spinner(rates=rates, seed=seed).spin(text).text for seed in seeds]


def test_synonym_family_keeps_inflection():
    thesaurus = Thesaurus.load()
    text = "The strikes hit the town."
    allowed = {inflect(s, "s") for s in thesaurus.synonyms("strike")}
    for seed in range(10):
        result = Spinner(rates=ONLY_SYNONYM, seed=seed).spin(text)
        assert result.spans and all(span.family == "synonym" for span in result.spans)
        first = next(span for span in result.spans if span.before == "strikes")
        assert first.after in allowed


def test_synonym_family_swaps_multiword_headwords():
    outputs = spins("Russian planes carried out four strikes.", ONLY_SYNONYM, range(40))
    assert any("carried out" not in out and "carried" not in out for out in outputs)


def test_phrase_family_uses_the_table():
    text = "They told him it was not possible, according to officials."
    seen: dict[str, set[str]] = {}
    for seed in range(20):
        result = Spinner(rates=ONLY_PHRASE, seed=seed).spin(text)
        assert all(span.family == "phrase" for span in result.spans)
        for span in result.spans:
            seen.setdefault(span.before, set()).add(span.after)
    assert set(seen) == {"told", "not", "according to"}
    for original, variants in seen.items():
        assert variants <= set(PHRASE_SWAPS[original])
    assert seen["not"] == {"no longer"}


def test_damage_family():
    result = Spinner(rates=ONLY_DAMAGE, seed=0).spin("Syria's army said three soldiers died.")
    assert result.text == f"Syria{NBSP}s army said 3 soldiers died."
    assert {span.family for span in result.spans} == {"damage"}


def test_sentence_start_is_lower_cased_after_a_swap():
    text = "But the talks failed. We are seeing more attacks."
    result = Spinner(rates=SpinRates(synonym=0.0, phrase=1.0, damage=1.0), seed=0).spin(text)
    assert result.text.startswith("however the talks failed. we're seeing")
    kept = Spinner(rates=ONLY_PHRASE, seed=0).spin(text)
    assert kept.text.startswith("However the talks failed. We're seeing")


def test_article_is_left_for_the_old_noun():
    outputs = spins("Moscow issued an announcement on Monday.", ONLY_SYNONYM, range(30))
    assert any(re.search(r"\ban [b-df-hj-np-tv-z]", out) for out in outputs)


def test_names_and_numbers_are_untouched():
    text = "Cavusoglu met Lavrov in Ankara on 12 June 2019, and 360 civilians saw Syrian President Assad."
    protected = ["Cavusoglu", "Lavrov", "Ankara", "12", "June", "2019", "360", "Syrian", "President", "Assad"]
    for out in spins(text, SpinRates(synonym=1.0, phrase=1.0, damage=0.0), range(20)):
        for word in protected:
            assert re.search(rf"\b{word}\b", out), (word, out)


def test_spans_align_and_restore_the_original():
    for seed in range(5):
        result = Spinner(seed=seed).spin(REFERENCE)
        assert result.restore() == REFERENCE
        for span in result.spans:
            assert result.text[span.start:span.end] == span.after
            assert span.before != span.after
        starts = [span.start for span in result.spans]
        assert starts == sorted(starts)
    # Layout (blank lines, line breaks) is copied through.
    assert result.text.count("\n") == REFERENCE.count("\n")


def test_deterministic_per_seed_and_text():
    spinner = Spinner(seed=7)
    first = spinner.spin(REFERENCE)
    spinner.spin("Something else entirely happened in between.")
    assert spinner.spin(REFERENCE) == first
    assert Spinner(seed=7).spin(REFERENCE) == first
    assert Spinner(seed=8).spin(REFERENCE).text != first.text


def test_default_density_matches_the_seed_article():
    seed = seed_density()
    assert 18 < seed < 26
    densities = [changed_words_per_100(REFERENCE, Spinner(seed=s).spin(REFERENCE).text) for s in range(10)]
    assert abs(sum(densities) / len(densities) - seed) < 3.0


# (original in a carrier sentence, what the spun text must show, the family's rates)
SUBSTITUTION_TYPES = [
    ("after weeks of rocket fire and air strikes.", "air moves", ONLY_SYNONYM),
    ("Rebel fighters attacked the town.", "combatants", ONLY_SYNONYM),
    ("Rebel fighters attacked the town.", "riot", ONLY_SYNONYM),
    ("It was a long war in the north.", "struggle", ONLY_SYNONYM),
    ("They launched an attack in the north.", "released", ONLY_SYNONYM),
    ("They launched an attack in the north.", "assault", ONLY_SYNONYM),
    ("who support the government in the north.", "help", ONLY_SYNONYM),
    ("to reclaim large parts of the country.", "elements", ONLY_SYNONYM),
    ("a military intervention in the north.", "navy", ONLY_SYNONYM),
    ("He said it was quiet.", "stated", ONLY_PHRASE),
    ("Cavusoglu told a news conference.", "instructed", ONLY_PHRASE),
    ("It had not been secured.", "no longer", ONLY_PHRASE),
    ("The bombing since late April.", "considering the fact that", ONLY_PHRASE),
    ("It was calm, according to the monitor.", "consistent with", ONLY_PHRASE),
    ("a military rather than a peaceful solution.", "as opposed to", ONLY_PHRASE),
    ("The priority must be calm.", "have to", ONLY_PHRASE),
    ("We call on the regime to stop.", "name on", ONLY_PHRASE),
    ("attacks against civilians in the north.", "towards", ONLY_PHRASE),
    ("an announcement by Moscow on Monday.", "via", ONLY_PHRASE),
    ("It came despite an announcement.", "notwithstanding", ONLY_PHRASE),
    ("If it continues, we will act.", "are able to", ONLY_PHRASE),
    ("They said we are working hard.", "we're", ONLY_PHRASE),
    ("But it was never fully implemented.", "changed into in no way", ONLY_PHRASE),
    ("the bombing in Syria's northwestern province.", f"Syria{NBSP}s", ONLY_DAMAGE),
    ("injuring three soldiers in the attack.", "3 soldiers", ONLY_DAMAGE),
]


def test_produces_at_least_15_substitution_types_of_the_seed():
    produced = []
    for text, expected, rates in SUBSTITUTION_TYPES:
        if any(expected in out for out in spins(text, rates, range(60))):
            produced.append(expected)
    assert len(produced) >= 15, produced
    # The phrase and damage types are deterministic table entries: every one of them must show.
    fixed = [expected for _, expected, rates in SUBSTITUTION_TYPES if rates is not ONLY_SYNONYM]
    assert set(fixed) <= set(produced), set(fixed) - set(produced)

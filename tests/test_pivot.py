"""Bilingual-pivot paraphrases: the pivot itself on hand-made entries, and the shipped table."""

from __future__ import annotations

import math

import pytest

from mtfix.morph import ADJ, NOUN, VERB
from mtfix.pivot import DEFAULT_PATH, PivotParaphrases
from training.build_pivot import PAIRS, combine, pivot, split_form, transducer_paths

# Hand-made dictionary entries (English lemma, part of speech, foreign lemma with its tag).
SPANISH = [
    ("war", NOUN, "guerra<n>"), ("warfare", NOUN, "guerra<n>"), ("warlike", ADJ, "guerra<n>"),
    ("war", NOUN, "conflicto<n>"), ("conflict", NOUN, "conflicto<n>"), ("clash", NOUN, "conflicto<n>"),
    ("war", VERB, "guerrear<vblex>"), ("fight", VERB, "guerrear<vblex>"),
]
CATALAN = [("war", NOUN, "guerra<n>"), ("warfare", NOUN, "guerra<n>")]


def test_a_shared_translation_makes_a_paraphrase_of_the_same_part_of_speech():
    table = pivot(SPANISH)
    row = table["war", NOUN]
    # p(guerra | war) = p(conflicto | war) = 1/2; guerra -> {war, warfare, warlike}, conflicto -> three nouns.
    assert math.isclose(row["warfare"], 1 / 2 * 1 / 3)
    assert math.isclose(row["conflict"], 1 / 2 * 1 / 3)
    assert "warlike" not in row and "fight" not in row  # other parts of speech
    assert table["war", VERB] == {"war": 0.5, "fight": 0.5}


def test_combine_averages_languages_drops_the_word_itself_and_normalises():
    table = combine([pivot(SPANISH), pivot(CATALAN)], max_paraphrases=10, min_prob=0.0)
    row = table["war", NOUN]
    assert "war" not in row
    assert math.isclose(sum(row.values()), 1.0)
    assert row["warfare"] > row["conflict"]  # Catalan adds evidence for warfare only
    assert all(math.isclose(sum(r.values()), 1.0) for r in table.values())


def test_combine_prunes_and_renormalises():
    table = combine([pivot(SPANISH)], max_paraphrases=1, min_prob=0.0)
    assert len(table["war", NOUN]) == 1 and math.isclose(sum(table["war", NOUN].values()), 1.0)
    assert ("war", NOUN) not in combine([pivot(SPANISH)], max_paraphrases=10, min_prob=0.9)


def test_apertium_forms_and_transducer_paths():
    assert split_form("take# out<vblex><pres>") == ("take out", "vblex")
    assert split_form("guerra<n><f>") == ("guerra", "n")
    assert split_form("no tags") is None
    # war<n> -> guerra<n><f> with epsilons; a number, an upper-case entry and a loop are never followed,
    # nor the smaller section.
    att = "\n".join([
        "0\t1\tw\tg\t0.0", "1\t2\ta\tu\t0.0", "2\t3\tr\te\t0.0", "3\t4\tε\tr\t0.0", "4\t5\tε\tr\t0.0",
        "5\t6\tε\ta\t0.0", "6\t7\t<n>\t<n>\t0.0", "7\t8\tε\t<f>\t0.0", "8\t0.0",
        "0\t9\t1\t1\t0.0", "9\t9\t2\t2\t0.0", "9\t8\t<num>\t<num>\t0.0",
        "0\t10\tU\tU\t0.0", "10\t8\t<np>\t<np>\t0.0",
        "0\t11\tx\tx\t0.0", "11\t11\ty\ty\t0.0", "11\t8\t<n>\t<n>\t0.0",
        "--", "0\t1\tI\tI\t0.0", "1\t0.0",
    ])
    assert list(transducer_paths(att)) == [("war<n>", "guerra<n><f>")]


@pytest.fixture(scope="module")
def shipped() -> PivotParaphrases:
    return PivotParaphrases.load()


def test_shipped_file_is_small_cached_and_records_its_sources(shipped):
    assert DEFAULT_PATH.stat().st_size < 5 * 1024 * 1024
    assert PivotParaphrases.load() is shipped
    assert len(shipped) > 10_000
    assert set(shipped.meta["packages"]) >= {pair.package for pair in PAIRS}
    assert not any("en-gl" in name for name in shipped.meta["dictionaries"])  # the held-out MT pair


def test_shipped_paraphrases_are_distributions_of_lower_case_lemmas(shipped):
    row = shipped.paraphrases("war", NOUN)
    assert "warfare" in row and "war" not in row
    assert math.isclose(sum(row.values()), 1.0, rel_tol=1e-5)
    assert shipped.paraphrases("War") == shipped.paraphrases("war")
    assert all(w == w.lower() for w in shipped.paraphrases("launch"))
    assert shipped.paraphrases("qwertyuiop") == {} and shipped.inverse("qwertyuiop") == []


def test_shipped_parts_of_speech_and_phrases(shipped):
    assert "initiate" in shipped.paraphrases("launch", VERB)
    assert "initiate" not in shipped.paraphrases("launch", NOUN)
    assert "implement" in shipped.paraphrases("carry out")
    assert "walkout" in shipped.paraphrases("strike", NOUN)


def test_inverse_reads_the_table_backwards(shipped):
    inverse = shipped.inverse("warfare")
    assert inverse[0] == ("war", shipped.paraphrases("war", NOUN)["warfare"])
    probabilities = [p for _, p in inverse]
    assert probabilities == sorted(probabilities, reverse=True)
    assert dict(shipped.inverse("initiate", VERB))["launch"] == shipped.paraphrases("launch", VERB)["initiate"]
    assert "launch" not in dict(shipped.inverse("initiate", NOUN))

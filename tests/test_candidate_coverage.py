"""training.candidate_coverage: which candidate source holds the original of each spun span."""

from mtfix.candidates import CandidateGenerator, ChannelRates
from mtfix.pivot import PivotParaphrases
from mtfix.text import tokenize
from training.candidate_coverage import changed_spans, markdown, measure


def test_spans_are_the_replacements_and_each_source_is_counted_on_its_own():
    spun = "Prior to the vote, the navy help arrived in excess of schedule."
    ref = "Before the vote, the military aid arrived ahead of schedule."
    spans, skipped = changed_spans(tokenize(spun), tokenize(ref), 4)
    assert [(s.start, s.end, s.original) for s in spans] == [
        (0, 2, ("before",)), (6, 8, ("military", "aid")), (9, 11, ("ahead",))]
    assert skipped == 0
    result = measure([(spun, ref)], CandidateGenerator(), PivotParaphrases.load(), 4,
                     CandidateGenerator(rates=ChannelRates(plain=1.0)))
    hits = result["hits"]["all"]
    assert hits["spans"] == 3
    assert hits["generator"] == 1  # navy help -> military aid, two thesaurus swaps
    assert hits["plain"] == 2  # and "prior to" -> "before" from the plain words
    assert hits["union"] >= hits["plain"]
    assert "| all | 3 | 33.3% | 66.7% |" in markdown("test", result)


def test_collocation_and_vector_columns_count_their_own_restorations():
    import numpy as np

    from mtfix.context import WordVectors
    from mtfix.lm import NgramLM
    from mtfix.model import DEFAULT_MODEL_DIR

    spun = "Villages came under rocket fireplace and the struggle ended."
    ref = "Villages came under rocket fire and the war ended."
    vectors = WordVectors(["struggle", "war", "banana"], np.array([[1.0, 0.2, 0], [1.0, 0.1, 0], [0, 0, 1.0]]))
    lm = NgramLM.load(DEFAULT_MODEL_DIR / "lm.safetensors")
    result = measure([(spun, ref)], CandidateGenerator(), PivotParaphrases.load(), 4,
                     CandidateGenerator(rates=ChannelRates(plain=1.0)),
                     CandidateGenerator(rates=ChannelRates(plain=1.0, collocation=1.0), language_model=lm), vectors)
    hits = result["hits"]["all"]
    assert hits["spans"] == 2
    assert hits["plain"] < hits["collocation"]  # "rocket fireplace" -> "rocket fire": only the collocations have it
    assert hits["vectors"] == 1  # struggle -> war, its nearest neighbour
    assert hits["union"] == 2

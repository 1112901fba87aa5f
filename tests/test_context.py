"""The topical context score of lattice candidates (mtfix.context) and its trainer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mtfix.candidates import Candidate
from mtfix.context import VECTORS_FILE, WordVectors
from mtfix.text import tokenize

BUNDLED = Path(__file__).resolve().parent.parent / "mtfix" / "models" / "default" / VECTORS_FILE

# Two topics on two axes: war words on x, home words on y.
TOY = WordVectors(
    ["rocket", "fire", "fireplace", "strikes", "rebels", "sofa", "the", "and"],
    np.array([[1, 0.1], [0.9, 0.3], [0.1, 1], [1, 0], [0.95, 0.05], [0, 1], [0.6, 0.6], [0.6, 0.6]]),
)


def candidate(tokens, index: int, word: str) -> Candidate:
    return Candidate(index, index + 1, (word,), -5.0, "synonym")


def test_on_topic_original_scores_above_off_topic_observed_word():
    tokens = tokenize("rebels and rocket fireplace strikes")
    fire, sofa = candidate(tokens, 3, "fire"), candidate(tokens, 3, "sofa")
    keep = Candidate(3, 4, ("fireplace",), 0.0, "keep")
    scored = TOY.with_context(tokens, [keep, fire, sofa])
    assert scored[0] == keep  # keeps are never scored
    assert scored[1].context > 0.3
    assert scored[2].context < scored[1].context
    assert scored[1].channel == fire.channel and scored[1].words == fire.words
    rest = sum(TOY.vectors[TOY.index[w]] for w in ("rebels", "and", "rocket", "strikes"))
    direction = rest / np.linalg.norm(rest)
    expected = TOY.vectors[TOY.index["fire"]] @ direction - TOY.vectors[TOY.index["fireplace"]] @ direction
    assert scored[1].context == pytest.approx(expected, abs=1e-5)


def test_multi_word_spans_use_the_mean_of_their_words():
    tokens = tokenize("rebels rocket fireplace sofa strikes")
    phrase = Candidate(2, 4, ("fire",), -3.0, "phrase")
    scored = TOY.with_context(tokens, [phrase])[0]
    rest = sum(TOY.vectors[TOY.index[w]] for w in ("rebels", "rocket", "strikes"))
    direction = rest / np.linalg.norm(rest)
    observed = (TOY.vectors[TOY.index["fireplace"]] + TOY.vectors[TOY.index["sofa"]]) @ direction / 2
    assert scored.context == pytest.approx(TOY.vectors[TOY.index["fire"]] @ direction - observed, abs=1e-5)


def test_no_score_without_vectors_on_either_side():
    tokens = tokenize("rocket zzzword strikes")
    unknown_observed = candidate(tokens, 1, "fire")
    unknown_original = candidate(tokens, 0, "qqqword")
    scored = TOY.with_context(tokens, [unknown_observed, unknown_original])
    assert [c.context for c in scored] == [0.0, 0.0]
    lone = tokenize("fireplace")
    assert TOY.with_context(lone, [candidate(lone, 0, "fire")])[0].context == 0.0


def test_save_load_round_trip_keeps_words_and_cosines(tmp_path):
    path = tmp_path / VECTORS_FILE
    TOY.save(path)
    loaded = WordVectors.load(path)
    assert loaded.words == TOY.words
    assert np.abs(loaded.vectors @ loaded.vectors.T - TOY.vectors @ TOY.vectors.T).max() < 0.02


def test_load_rejects_a_foreign_file(tmp_path):
    from safetensors.numpy import save_file

    path = tmp_path / "other.safetensors"
    save_file({"codes": np.zeros((2, 2), dtype=np.int8)}, str(path))
    with pytest.raises(ValueError, match="not an mtfix word-vector file"):
        WordVectors.load(path)


def test_mismatched_sizes_are_an_error():
    with pytest.raises(ValueError, match="2 words but 1 vectors"):
        WordVectors(["a", "b"], np.ones((1, 3)))


@pytest.mark.skipif(not BUNDLED.is_file(), reason="bundled vectors not built")
def test_bundled_vectors_prefer_the_seed_restorations():
    vectors = WordVectors.load(BUNDLED)
    assert len(vectors.words) >= 20000
    sentence = "Moscow announced a ceasefire after weeks of escalating rocket fireplace and air moves by the Syrian regime."
    tokens = tokenize(sentence)
    index = [t.text for t in tokens].index("moves")
    strikes, keep = candidate(tokens, index, "strikes"), Candidate(index, index + 1, ("moves",), 0.0, "keep")
    scored = vectors.with_context(tokens, [keep, strikes])
    assert scored[0] is keep and scored[1].context > 0.05


def test_build_vectors_trains_a_loadable_file(tmp_path):
    pytest.importorskip("gensim")
    from training.build_vectors import main

    text = tmp_path / "news.txt"
    lines = ["Rebels fired rockets at the army base near the border.", "The army answered with air strikes on rebel towns.",
             "Shares rose on the stock market as investors bought banks.", "The bank said its shares and profits rose."]
    text.write_text("\n".join(lines * 50) + "\n", encoding="utf-8")
    out = tmp_path / VECTORS_FILE
    built = main(["--text", str(text), "--out", str(out), "--dim", "16", "--min-count", "2", "--epochs", "2"])
    loaded = WordVectors.load(out)
    assert loaded.words == built.words and {"army", "shares", "rose"} <= set(loaded.words)
    assert loaded.vectors.shape == (len(built.words), 16)

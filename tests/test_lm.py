"""The n-gram language model: Kneser-Ney estimates, backoff, batching, the file format.

Every model here is trained in milliseconds on a toy corpus; the shipped model is only checked (size,
loading, the seed's spun phrases) when it has been built.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from mtfix.lm import BOS_ID, EOS_ID, NO_WORD, UNK_ID, NgramLM
from mtfix.text import lm_form, words
from training.build_lm import (
    Interner,
    choose_vocab,
    count_ngrams,
    estimate,
    kn_discounts,
    preference_table,
    sentence_stream,
    train_lm,
)

WORDS = "the a cat dog sat on mat log red big ran saw and of to in it was is very".split()


def toy_corpus(sentences: int = 300, seed: int = 0) -> list[list[str]]:
    """Sentences from a seeded Markov chain with skewed transitions, so that the count-of-counts
    (and with them the discounts) come from real estimates rather than the fallback."""
    chain = random.Random(0)  # the same language for every seed
    successors = {w: chain.sample(WORDS, 5) for w in WORDS}
    rng = random.Random(seed)
    corpus = []
    for _ in range(sentences):
        word = rng.choice(WORDS[:6])
        sentence = [word]
        for _ in range(rng.randint(2, 9)):
            word = rng.choices(successors[word], weights=[8, 4, 2, 1, 1])[0]
            sentence.append(word)
        corpus.append(sentence)
    return corpus


@pytest.fixture(scope="module")
def corpus() -> list[list[str]]:
    return toy_corpus()


@pytest.fixture(scope="module")
def lm3(corpus) -> NgramLM:
    return train_lm(corpus, order=3)


@pytest.fixture(scope="module")
def lm4_pruned(corpus) -> NgramLM:
    return train_lm(corpus, order=4, max_vocab=18, prune=[1, 1, 2])


def predicted_ids(model: NgramLM) -> np.ndarray:
    """Every id a model can predict: the vocabulary and </s>, not <s>."""
    return np.array([i for i in range(model.vocab_size) if i != BOS_ID], dtype=np.int32)


def all_contexts(model: NgramLM) -> list[tuple[int, ...]]:
    """Each stored n-gram (below the top order) as a context, left-padded with <s> at a sentence start
    and otherwise with <unk> (a history the toy corpora never saw), plus a few unseen histories."""
    width = model.order - 1
    contexts = set()
    for n in range(1, model.order):
        ids, _, _ = model.ngrams(n)
        for row in ids.tolist():
            if BOS_ID in row[1:] or EOS_ID in row:
                continue  # never a context in running text
            pad = BOS_ID if row[0] == BOS_ID else UNK_ID
            contexts.add(tuple([pad] * (width - n) + row))
    contexts.add(tuple([BOS_ID] * width))
    contexts.add(tuple([NO_WORD] * width))
    contexts.add(tuple([UNK_ID] * width))
    contexts.add(tuple([model.vocab_size - 1] * width))
    return sorted(contexts)


# ---------------------------------------------------------------------------------------------------
# Probabilities


@pytest.mark.parametrize("name", ["lm3", "lm4_pruned"])
def test_every_distribution_sums_to_one(name, request):
    model: NgramLM = request.getfixturevalue(name)
    targets = predicted_ids(model)
    contexts = all_contexts(model)
    assert len(contexts) > 30
    for context in contexts:
        rows = np.tile(np.array(context, dtype=np.int32), (len(targets), 1))
        total = np.exp(model.score_batch(rows, targets).astype(np.float64)).sum()
        assert total == pytest.approx(1.0, abs=1e-4), context


def reference_kneser_ney(sentences: list[list[str]], order: int):
    """Interpolated modified Kneser-Ney written out the slow, obvious way (dicts, recursion), with the
    same conventions as the builder: n-grams starting with <s> keep raw counts, unigrams interpolate
    with the uniform distribution over every word but <s>, an unseen context passes straight through."""
    raw = [Counter() for _ in range(order)]
    for sentence in sentences:
        padded = ["<s>", *sentence, "</s>"]
        for n in range(1, order + 1):
            for i in range(len(padded) - n + 1):
                raw[n - 1][tuple(padded[i : i + n])] += 1
    del raw[0][("<s>",)]
    adjusted = [Counter() for _ in range(order)]
    adjusted[-1] = raw[-1]
    for n in range(1, order):
        for gram in raw[n]:
            adjusted[n - 1][gram[1:]] += 1
        for gram, count in raw[n - 1].items():
            if gram[0] == "<s>":
                adjusted[n - 1][gram] = count
    vocab = {w for s in sentences for w in s} | {"</s>", "<unk>"}
    discounts = []
    for n in range(order):
        counts = np.array(list(adjusted[n].values()), dtype=np.int64)
        discounts.append(kn_discounts(counts))
    extensions = [dict() for _ in range(order)]  # context -> [total, discount mass]
    for n in range(order):
        for gram, count in adjusted[n].items():
            entry = extensions[n].setdefault(gram[:-1], [0.0, 0.0])
            entry[0] += count
            entry[1] += discounts[n][min(count, 3)]

    @lru_cache(maxsize=None)
    def probability(word: str, context: tuple[str, ...]) -> float:
        n = len(context) + 1
        if n == 1:
            total, mass = extensions[0][()]
            count = adjusted[0].get((word,), 0)
            return (count - discounts[0][min(count, 3)]) / total + mass / total / (len(vocab))
        if context not in extensions[n - 1]:
            return probability(word, context[1:])
        total, mass = extensions[n - 1][context]
        count = adjusted[n - 1].get((*context, word), 0)
        discounted = (count - discounts[n - 1][min(count, 3)]) / total if count else 0.0
        return discounted + mass / total * probability(word, context[1:])

    return probability


@pytest.mark.parametrize("order", [2, 3, 4])
def test_matches_slow_reference(corpus, order):
    model = train_lm(corpus, order=order)
    reference = reference_kneser_ney(corpus, order)
    targets = predicted_ids(model)
    checked = 0
    for context in all_contexts(model):
        if NO_WORD in context:
            continue  # the reference has no notion of an unknown history
        rows = np.tile(np.array(context, dtype=np.int32), (len(targets), 1))
        scores = model.score_batch(rows, targets)
        # <s> padding means "sentence start": the reference sees only the real <s> at the front.
        names = [model.vocab[i] for i in context]
        while len(names) > 1 and names[1] == "<s>":
            names = names[1:]
        for target, score in zip(targets.tolist(), scores.tolist()):
            expected = reference(model.vocab[target], tuple(names))
            assert score == pytest.approx(math.log(expected), abs=1e-5), (names, model.vocab[target])
            checked += 1
    assert checked > 400


def test_discounts_are_estimated_on_the_toy_corpus_not_the_fallback(corpus):
    vocab, stream = _vocab_and_stream(corpus)
    _, stats = estimate(count_ngrams(stream, 3, len(vocab)), vocab)
    assert stats["discounts"][2] != [0.5, 1.0, 1.5]
    for d1, d2, d3 in stats["discounts"]:
        assert 0 < d1 < 1 and 0 < d2 < 2 and 0 < d3 < 3


def test_backoff_of_unseen_and_pruned_ngrams(corpus):
    full = train_lm(corpus, order=3)
    pruned = train_lm(corpus, order=3, prune=[0, 2])
    ids, _, _ = full.ngrams(3)
    kept = {tuple(row) for row in pruned.ngrams(3)[0].tolist()}
    bigram_ids, _, bigram_backoffs = pruned.ngrams(2)
    bigram_backoff = {tuple(row): b for row, b in zip(bigram_ids.tolist(), bigram_backoffs.tolist())}
    dropped = [tuple(row) for row in ids.tolist() if tuple(row) not in kept and row[0] != BOS_ID]
    assert dropped, "the toy corpus should have trigrams seen at most twice"
    for a, b, c in dropped[:50]:
        trigram = pruned.score_batch(np.array([[a, b]]), np.array([c]))[0]
        bigram = pruned.score_batch(np.array([[NO_WORD, b]]), np.array([c]))[0]
        assert trigram == pytest.approx(bigram + bigram_backoff[(a, b)], abs=1e-5)
    # A word never seen after a context scores as the shorter context plus the backoff weight.
    context = ids[0, :2]
    seen = set(ids[(ids[:, 0] == context[0]) & (ids[:, 1] == context[1]), 2].tolist())
    unseen = next(w for w in predicted_ids(full).tolist() if w not in seen)
    full_bigram_ids, _, full_backoffs = full.ngrams(2)
    row = np.flatnonzero((full_bigram_ids[:, 0] == context[0]) & (full_bigram_ids[:, 1] == context[1]))[0]
    longer = full.score_batch(context[None, :], np.array([unseen]))[0]
    shorter = full.score_batch(np.array([[NO_WORD, context[1]]]), np.array([unseen]))[0]
    assert full_backoffs[row] < 0
    assert longer == pytest.approx(shorter + full_backoffs[row], abs=1e-5)


def test_fluent_text_scores_better_than_scrambled(corpus, lm3):
    held_out = toy_corpus(sentences=50, seed=1)
    rng = random.Random(2)
    scrambled = [rng.sample(s, len(s)) for s in held_out]
    assert lm3.perplexity(held_out) < 0.8 * lm3.perplexity(scrambled)
    assert 1.0 < lm3.perplexity(held_out) < len(WORDS)


def test_unknown_words_and_unk_per_type():
    corpus = [["the", "cat", "sat"], ["the", "dog", "sat"], ["a", "cat", "ran"], ["a", "zebra", "ran"], ["the", "yak", "sat"]]
    model = train_lm(corpus, order=2, max_vocab=9)  # room for 6 words: zebra and yak become <unk>
    assert model.vocab[:3] == ["<unk>", "<s>", "</s>"]
    assert model.unk_types == 2
    assert model.ids(["the", "zebra", "never-seen"]).tolist() == [model.vocab.index("the"), UNK_ID, UNK_ID]
    context = np.array([[model.vocab.index("the")]] * 2)
    target = np.array([UNK_ID, UNK_ID])
    whole_class = model.score_batch(context, target)
    per_type = model.score_batch(context, target, unk_per_type=True)
    assert per_type == pytest.approx(whole_class - math.log(2))


# ---------------------------------------------------------------------------------------------------
# Batching and sentences


def test_score_batch_equals_one_at_a_time(lm4_pruned):
    rng = np.random.default_rng(0)
    count = 400
    contexts = rng.integers(0, lm4_pruned.vocab_size, size=(count, 3)).astype(np.int32)
    contexts[::7, 0] = BOS_ID
    contexts[::11, :2] = BOS_ID
    contexts[::13, :] = NO_WORD
    targets = rng.integers(0, lm4_pruned.vocab_size, size=count).astype(np.int32)
    batch = lm4_pruned.score_batch(contexts, targets)
    assert batch.dtype == np.float32 and batch.shape == (count,)
    single = [lm4_pruned.score_batch(contexts[i : i + 1], targets[i : i + 1])[0] for i in range(count)]
    np.testing.assert_array_equal(batch, np.array(single, dtype=np.float32))
    assert lm4_pruned.score_batch(np.zeros((0, 3), np.int32), np.zeros(0, np.int32)).shape == (0,)


def test_score_batch_rejects_bad_shapes_and_ids(lm3):
    with pytest.raises(ValueError, match="shape"):
        lm3.score_batch(np.zeros((2, 3), np.int32), np.zeros(2, np.int32))
    with pytest.raises(ValueError, match="word ids"):
        lm3.score_batch(np.zeros((1, 2), np.int32), np.array([lm3.vocab_size]))
    with pytest.raises(ValueError, match="context ids"):
        lm3.score_batch(np.array([[-1, 3]]), np.array([3]))


def test_sentence_logprob_is_the_sum_of_its_words(lm3, corpus):
    sentence = corpus[0]
    ids = lm3.ids(sentence).tolist() + [EOS_ID]
    history = [BOS_ID, BOS_ID]
    total = 0.0
    for word in ids:
        total += float(lm3.score_batch(np.array([history[-2:]]), np.array([word]))[0])
        history.append(word)
    assert lm3.sentence_logprob(sentence) == pytest.approx(total, abs=1e-4)
    # A fragment (no <s>, no </s>) starts from an unknown history: its first word scores as a unigram.
    fragment = lm3.sentence_logprob(sentence[:1], bos=False, eos=False)
    assert fragment == pytest.approx(float(lm3.ngrams(1)[1][lm3.ids(sentence[:1])[0]]), abs=1e-6)


def test_training_tokens_are_lm_forms_of_the_shared_tokeniser():
    interner = Interner()
    interner.add_text("Syria's 3 ceasefires held in 2019, the U.S. said.")
    ids, lengths = interner.arrays()
    expected = [lm_form(w) for w in words("Syria's 3 ceasefires held in 2019, the U.S. said.")]
    assert [interner.forms[i] for i in ids] == expected
    assert expected[:2] == ["syria's", "0"] and "0000" in expected and "u.s" in expected
    assert lengths.tolist() == [len(expected)]


def test_counts_never_cross_sentence_boundaries():
    vocab, to_vocab, unk_types = choose_vocab(["x", "y"], np.array([0, 1, 0]), max_vocab=10)
    stream = sentence_stream(to_vocab[np.array([0, 1, 0])], np.array([2, 1]))  # "x y" and "x"
    x, y = vocab.index("x"), vocab.index("y")
    assert stream.tolist() == [BOS_ID, x, y, EOS_ID, BOS_ID, x, EOS_ID]
    counts = count_ngrams(stream, 3, len(vocab))
    bigrams = {tuple(k): c for k, c in zip(_unpack(counts[1][0], 2), counts[1][1].tolist())}
    assert bigrams == {(BOS_ID, x): 2, (x, y): 1, (y, EOS_ID): 1, (x, EOS_ID): 1}
    trigrams = {tuple(k) for k in _unpack(counts[2][0], 3)}
    assert trigrams == {(BOS_ID, x, y), (x, y, EOS_ID), (BOS_ID, x, EOS_ID)}
    assert counts[0][1][BOS_ID] == 0 and counts[0][1][x] == 2 and unk_types == 0


def _unpack(keys: np.ndarray, n: int) -> list[list[int]]:
    from mtfix.lm import unpack_keys

    return unpack_keys(keys, n).tolist()


def _vocab_and_stream(corpus: list[list[str]]) -> tuple[list[str], np.ndarray]:
    interner = Interner()
    for sentence in corpus:
        interner.add_forms(sentence)
    ids, lengths = interner.arrays()
    vocab, to_vocab, _ = choose_vocab(interner.forms, ids, 1000)
    return vocab, sentence_stream(to_vocab[ids], lengths)


# ---------------------------------------------------------------------------------------------------
# File format


def _all_scores(model: NgramLM) -> np.ndarray:
    targets = predicted_ids(model)
    rows = [np.tile(np.array(c, dtype=np.int32), (len(targets), 1)) for c in all_contexts(model)]
    return model.score_batch(np.concatenate(rows), np.tile(targets, len(rows)))


def test_save_load_round_trip(lm4_pruned, tmp_path):
    before = _all_scores(lm4_pruned)
    exact = tmp_path / "exact.safetensors"
    lm4_pruned.save(exact, bits=32)
    loaded = NgramLM.load(exact)
    assert loaded.order == 4 and loaded.vocab == lm4_pruned.vocab and loaded.unk_types == lm4_pruned.unk_types
    assert loaded.ngram_counts() == lm4_pruned.ngram_counts()
    np.testing.assert_array_equal(_all_scores(loaded), before)
    for bits, tolerance in ((16, 1e-3), (8, 0.15)):
        path = tmp_path / f"q{bits}.safetensors"
        lm4_pruned.save(path, bits=bits)
        quantised = NgramLM.load(path)
        assert np.abs(_all_scores(quantised) - before).max() < tolerance


def test_load_errors_name_the_file(lm3, tmp_path):
    missing = tmp_path / "nope.safetensors"
    with pytest.raises(FileNotFoundError, match="nope.safetensors"):
        NgramLM.load(missing)

    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not json at all!")
    with pytest.raises(ValueError, match="garbage.safetensors"):
        NgramLM.load(garbage)

    good = tmp_path / "good.safetensors"
    lm3.save(good)
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(good.read_bytes()[:-100])
    with pytest.raises(ValueError, match="truncated.safetensors"):
        NgramLM.load(truncated)

    from safetensors.numpy import load_file, save_file
    from safetensors import safe_open

    with safe_open(str(good), framework="np") as handle:
        metadata = handle.metadata()
    tensors = load_file(str(good))
    incomplete = tmp_path / "incomplete.safetensors"
    save_file({k: v for k, v in tensors.items() if k != "3.word"}, str(incomplete), metadata=metadata)
    with pytest.raises(ValueError, match=r"incomplete\.safetensors.*'3\.word'"):
        NgramLM.load(incomplete)

    inconsistent = tmp_path / "inconsistent.safetensors"
    tensors["2.children"] = tensors["2.children"] + np.uint16(1)
    save_file(tensors, str(inconsistent), metadata=metadata)
    with pytest.raises(ValueError, match="inconsistent.safetensors"):
        NgramLM.load(inconsistent)

    foreign = tmp_path / "foreign.safetensors"
    save_file({"weight": np.zeros(3, np.float32)}, str(foreign))
    with pytest.raises(ValueError, match="foreign.safetensors.*format"):
        NgramLM.load(foreign)


def test_kenlm_reads_the_same_model_from_arpa(lm4_pruned, corpus, tmp_path):
    """KenLM's ARPA reader is an independent implementation of backoff scoring."""
    kenlm = pytest.importorskip("kenlm")
    lines = ["\\data\\"] + [f"ngram {n}={c}" for n, c in enumerate(lm4_pruned.ngram_counts(), start=1)]
    to_log10 = 1 / math.log(10)
    for n in range(1, lm4_pruned.order + 1):
        ids, logprobs, backoffs = lm4_pruned.ngrams(n)
        lines += ["", f"\\{n}-grams:"]
        for i, row in enumerate(ids.tolist()):
            text = " ".join(lm4_pruned.vocab[w] for w in row)
            line = f"{logprobs[i] * to_log10:.7f}\t{text}"
            if backoffs is not None:
                line += f"\t{backoffs[i] * to_log10:.7f}"
            lines.append(line)
    lines += ["", "\\end\\", ""]
    arpa = tmp_path / "toy.arpa"
    arpa.write_text("\n".join(lines), encoding="utf-8")
    reference = kenlm.Model(str(arpa))
    for sentence in corpus[:40] + [["the", "unseen-word", "cat"]]:
        expected = reference.score(" ".join(sentence), bos=True, eos=True) / to_log10
        assert lm4_pruned.sentence_logprob(sentence) == pytest.approx(expected, abs=1e-3)


SHIPPED = Path(__file__).resolve().parent.parent / "mtfix" / "models" / "default" / "lm.safetensors"


@pytest.mark.skipif(not SHIPPED.is_file(), reason="the shipped language model is not built")
def test_shipped_model_fits_the_budget_and_prefers_the_originals():
    assert SHIPPED.stat().st_size <= 30_000_000
    model = NgramLM.load(SHIPPED)
    assert model.order == 4 and model.vocab_size > 60_000
    rows = preference_table(model)
    assert all(original > spun for _, _, original, spun in rows), rows


def test_stored_bigram_logprobs_are_the_stored_bigrams_and_nothing_else(lm3):
    ids, logprobs, _ = lm3.ngrams(2)
    got = lm3.stored_bigram_logprobs(ids[:50, 0], ids[:50, 1])
    assert np.allclose(got, logprobs[:50])
    unstored = [(a, b) for a in range(3, 40) for b in range(3, 40)
                if not ((ids[:, 0] == a) & (ids[:, 1] == b)).any()][:5]
    assert unstored and np.isneginf(lm3.stored_bigram_logprobs(*map(np.array, zip(*unstored)))).all()

"""The batched lattice search gives every sentence exactly what searching it alone gives.

Uses the bundled default model's LM and tuned weights (no seq2seq: its lattice weight is 0) on
spun and clean sentences of tests/data.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mtfix import DEFAULT_MODEL_DIR
from mtfix.constrained import LM_FILE, LatticeBackend
from mtfix.lattice import LatticeWeights
from mtfix.lm import NgramLM
from mtfix.model import read_settings

DATA = Path(__file__).resolve().parent / "data"
EDGE_CASES = [
    "",
    "...",
    "Syria\u00a0s defence ministry stated 3 soldiers were wounded.",
    "The talks have not made progress considering the fact that late April, consistent with officials.",
    "however the minister stated the talks had failed.",
]


@pytest.fixture(scope="module")
def backend():
    if not (DEFAULT_MODEL_DIR / LM_FILE).is_file():
        pytest.fail(f"the bundled default model is missing in {DEFAULT_MODEL_DIR}")
    return LatticeBackend(NgramLM.load(DEFAULT_MODEL_DIR / LM_FILE), LatticeWeights.from_settings(read_settings(DEFAULT_MODEL_DIR)))


@pytest.fixture(scope="module")
def sentences():
    rows = [json.loads(line) for line in (DATA / "synthetic_test_sample.jsonl").read_text(encoding="utf-8").splitlines()]
    clean = [line for line in (DATA / "clean_test_sample.txt").read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["source"] for r in rows[:30]] + clean[:15] + EDGE_CASES


def _summary(decoded, weights: LatticeWeights):
    """What a search result says: the tokens, and per path its candidates and scores."""
    tokens, paths, candidates = decoded
    return ([(t.text, t.start, t.end) for t in tokens],
            [(p.candidates, p.total(weights), p.lm_score, p.channel_score, p.context_score) for p in paths], candidates.rows())


def _assert_same(batched, alone, weights: LatticeWeights):
    tokens, paths, candidates = _summary(batched, weights)
    tokens_alone, paths_alone, candidates_alone = _summary(alone, weights)
    assert tokens == tokens_alone and candidates == candidates_alone
    assert [p[0] for p in paths] == [p[0] for p in paths_alone]
    for scores, scores_alone in zip(paths, paths_alone):
        np.testing.assert_allclose(scores[1:], scores_alone[1:], rtol=0, atol=1e-6)


def test_a_batch_decodes_each_sentence_as_alone(backend, sentences):
    decoder = backend.decoder
    batched = decoder.nbest_many(sentences)
    assert len(batched) == len(sentences)
    for sentence, result in zip(sentences, batched):
        _assert_same(result, decoder.nbest_many([sentence])[0], decoder.weights)
    assert any(paths and paths[0].changes for _, paths, _ in batched)  # the sample does get repaired
    assert all(len(paths) <= decoder.weights.nbest for _, paths, _ in batched)


def test_batch_order_does_not_matter(backend, sentences):
    decoder = backend.decoder
    forward = decoder.nbest_many(sentences)
    backward = decoder.nbest_many(sentences[::-1])[::-1]
    for one, other in zip(forward, backward):
        _assert_same(one, other, decoder.weights)


def test_empty_batch_and_empty_sentence(backend):
    assert backend.decoder.nbest_many([]) == []
    tokens, paths, candidates = backend.decoder.nbest("")
    assert tokens == [] and len(candidates) == 0 and len(paths) == 1 and paths[0].candidates == []


def test_batched_edits_and_checks_match_one_at_a_time(backend, sentences):
    sample = sentences[:20] + EDGE_CASES
    assert backend.propose(sample) == [backend.propose([s])[0] for s in sample]
    assert backend.check(sample) == [backend.check([s])[0] for s in sample]


def test_path_scores_match_the_search(backend, sentences):
    """Rescoring a best path (as edit confidences do) gives the score the search gave it."""
    decoder = backend.decoder
    best = [paths[0] for _, paths, _ in decoder.nbest_many(sentences) if paths]
    rescored = decoder.path_lm_scores([p.candidates for p in best])
    np.testing.assert_allclose(rescored, [p.lm_score for p in best], rtol=0, atol=1e-6)


def test_lm_scores_contexts_in_runs_as_one_at_a_time(backend):
    """A beam-search LM batch repeats each hypothesis's context over its candidates (see lm._find_in_runs)."""
    lm = backend.decoder.lm
    rng = np.random.default_rng(0)
    ids = lm.ids("the minister said the talks had failed and the army launched a new attack .".split())
    contexts = np.repeat(np.lib.stride_tricks.sliding_window_view(ids, lm.order - 1), 5, axis=0)
    contexts[rng.random(len(contexts)) < 0.1, 0] = lm.no_word_id
    words = rng.choice(np.append(ids, [lm.unk_id, lm.eos_id]), size=len(contexts)).astype(np.int32)
    batch = lm.score_batch(contexts, words, unk_per_type=True)
    alone = [lm.score_batch(contexts[i:i + 1], words[i:i + 1], unk_per_type=True)[0] for i in range(len(words))]
    assert batch.tolist() == alone


def test_asking_for_fewer_paths_keeps_the_best_ones(backend, sentences):
    decoder = backend.decoder
    full, single = decoder.nbest_many(sentences), decoder.nbest_many(sentences, paths=1)
    for (_, paths, _), (_, best, _) in zip(full, single):
        assert len(best) == min(len(paths), 1)
        assert [p.candidates for p in best] == [p.candidates for p in paths[:1]]


def test_replacement_scores_match_scoring_whole_paths(backend, sentences):
    """check() rescores only the words around a replaced stretch; that equals scoring the whole variant path."""
    from mtfix.lattice import keep_candidates

    decoder = backend.decoder
    checked = 0
    for sentence in sentences[:25]:
        tokens, paths, columns = decoder.nbest(sentence)
        if not paths or not tokens:
            continue
        best, candidates = paths[0].candidates, columns.rows()
        keep_at = {c.start: p for p, c in enumerate(best) if c.is_keep}
        replacements = [(0, 0, []), (0, 1, [best[0]]), (len(best) - 1, len(best), [best[-1]])]
        replacements += [(keep_at[c.start], keep_at[c.end - 1] + 1, [c]) for c in candidates
                         if not c.is_keep and all(t in keep_at for t in range(c.start, c.end))][:40]
        replacements += [(p, p + 1, keep_candidates(tokens, c.start, c.end)) for p, c in enumerate(best) if not c.is_keep]
        whole = decoder.scores_of([best[:p] + replacing + best[q:] for p, q, replacing in replacements])
        np.testing.assert_allclose(decoder.replacement_scores(best, replacements), whole, rtol=0, atol=1e-6)
        checked += len(replacements)
    assert checked > 100

"""training.tune_rewrite replays recorded rewrite proposals through Repairer: a gate's replay must give what the
Repairer itself gives with that gate, or the grid it prints measures something no model does."""

from dataclasses import replace

import sacrebleu

from mtfix import Repairer
from mtfix.evaluation.inputs import load_garbled
from training.tune_rewrite import Gate, measure, record_sentences


def test_replaying_a_gate_gives_what_the_repairer_gives_with_it():
    garbled = load_garbled()
    sources, references = garbled.sources[:48], garbled.references[0][:48]
    sets = {"garbled": (sources, references)}
    repairer = Repairer(device="cpu", mode="lattice")
    backend = repairer.backend
    recorded = record_sentences(repairer, sources)
    assert sum(entry.rewrite_edits is not None for entry in recorded.values()) >= 5  # the T5 rewrites this text

    def bleu() -> float:
        return round(sacrebleu.corpus_bleu(repairer.repair_many(sources), [references]).score, 6)

    for gate in (Gate(1, 0.0), Gate(2, 6.0), Gate(3, -1e6)):
        backend.weights = replace(backend.weights, rewrite_min_postedits=gate.min_postedits,
                                  rewrite_min_lm_gain=gate.min_lm_gain)
        assert round(measure(repairer, recorded, gate, sets)["garbled_bleu"], 6) == bleu(), gate
    # no gate: the lattice alone
    backend.rewriter, rewriter = None, backend.rewriter
    alone = bleu()
    backend.rewriter = rewriter
    assert round(measure(repairer, recorded, None, sets)["garbled_bleu"], 6) == alone

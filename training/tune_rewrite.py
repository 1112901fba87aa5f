"""Choose the gate of the rewrite pass (``LatticeWeights.rewrite_*``): which sentences the seq2seq rewrites.

    python -m training.tune_rewrite --model-dir mtfix/models/default --roundtrip work_data/roundtrip \\
        --pairs work_data/pairs [--samples 250] [--clean-samples 1000] [--spun-samples 400] [--write]

On the *validation* splits only (never test, never the held-out pair ``en-gl``): round trips of each training
pair (``--samples`` a pair; BLEU), clean validation sentences (words changed in 100, `mtfix eval`'s
over-correction count) and our spinner's validation pairs (BLEU).

The lattice runs once over every sentence, recording its edits and, for each sentence whose best path takes at
least the smallest ``--min-postedits`` post-editing rewrites, the seq2seq's rewrite proposal with its LM gain
(``LatticeBackend.rewrite_proposals``). Every gate of the grid (fewest rewrites, least LM gain) is then replayed through ``Repairer`` (its confidence threshold, guards and leave-alone
rules) without decoding again. The chosen gate has the best garbled BLEU among those that change clean words no
more than ``--max-overcorrection-rise`` above the lattice alone and keep the spun BLEU within
``--max-spun-loss`` of it (ties: the fewest sentences rewritten).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import sacrebleu

from mtfix import Repairer
from mtfix.diff import word_edits
from mtfix.evaluation.metrics.overcorrection import changed_words
from mtfix.model import SETTINGS_FILE, write_manifest
from mtfix.result import Edit
from mtfix.text import words
from training.tune_lattice import load_validation
from training.tune_postedit import garbled_sample


@dataclass
class Recorded:
    """One sentence as the lattice left it, and the seq2seq's rewrite proposal where it made one."""
    lattice_edits: list[Edit]
    postedits: int = 0
    rewrite_edits: list[Edit] | None = None
    lm_gain: float = 0.0


@dataclass(frozen=True)
class Gate:
    min_postedits: int
    min_lm_gain: float

    def passes(self, record: Recorded) -> bool:
        return (record.rewrite_edits is not None and record.postedits >= self.min_postedits
                and record.lm_gain >= self.min_lm_gain)


def record_sentences(repairer: Repairer, texts: list[str], min_postedits: int = 1) -> dict[str, Recorded]:
    """Run the lattice over ``texts`` (through ``repairer``, so over the same pieces) and record each piece, with
    the rewrite proposal of those whose best path takes at least ``min_postedits`` post-editing rewrites."""
    backend = repairer.backend
    recorded: dict[str, Recorded] = {}

    def record(sentences, results, rewrites) -> None:
        for sentence, (edits, _), count in zip(sentences, results, rewrites):
            recorded[sentence] = Recorded(edits, count)
        flagged = [i for i, count in enumerate(rewrites) if count >= min_postedits]
        for proposal in backend.rewrite_proposals(sentences, [results[i][0] for i in flagged], flagged):
            entry = recorded[sentences[proposal.index]]
            entry.rewrite_edits = word_edits(sentences[proposal.index], proposal.rewrite)
            entry.lm_gain = proposal.lm_gain

    backend._rewrite_garbled = record  # the pass decides nothing here: _Replay does, per gate
    try:
        repairer.repair_many(texts)
    finally:
        del backend._rewrite_garbled
    return recorded


class _Replay:
    """A backend that proposes what ``record_sentences`` saw, with the rewrite where ``gate`` passes it."""
    rescorer = None
    rewriter = None

    def __init__(self, recorded: dict[str, Recorded], gate: Gate | None):
        self.recorded, self.gate = recorded, gate

    def propose(self, sentences: list[str], batch_size: int | None = None) -> list[list[Edit]]:
        # batch_size: the lattice's signature, which the repairer calls in lattice mode; a replay has no search
        entries = [self.recorded[sentence] for sentence in sentences]
        return [entry.rewrite_edits if self.gate is not None and self.gate.passes(entry) else entry.lattice_edits
                for entry in entries]


def measure(repairer: Repairer, recorded: dict[str, Recorded], gate: Gate | None,
            sets: dict[str, tuple[list[str], list[str]]]) -> dict[str, float]:
    """Garbled and spun BLEU and clean words changed in 100 with ``gate`` (None: the lattice alone)."""
    lattice_backend = repairer.backend
    repairer.backend = _Replay(recorded, gate)
    try:
        row: dict[str, float] = {}
        for name, (sources, targets) in sets.items():
            outputs = repairer.repair_many(sources)
            if name == "clean":
                changed = sum(changed_words(s, o) for s, o in zip(sources, outputs))
                row["clean_words_changed_per_100"] = 100 * changed / max(sum(len(words(s)) for s in sources), 1)
            else:
                row[f"{name}_bleu"] = sacrebleu.corpus_bleu(outputs, [targets]).score
        row["rewritten_pieces"] = sum(gate is not None and gate.passes(e) for e in recorded.values())
        return row
    finally:
        repairer.backend = lattice_backend


def numbers(text: str, kind=float) -> list:
    return [kind(value) for value in text.split(",")]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", type=Path, default=Path("mtfix/models/default"))
    parser.add_argument("--roundtrip", type=Path, default=Path("work_data/roundtrip"))
    parser.add_argument("--pairs", type=Path, default=Path("work_data/pairs"))
    parser.add_argument("--samples", type=int, default=250, help="garbled validation sentences a language pair")
    parser.add_argument("--clean-samples", type=int, default=1000)
    parser.add_argument("--spun-samples", type=int, default=400)
    parser.add_argument("--min-postedits", default="1,2,3")
    parser.add_argument("--min-lm-gains", default="2,4,6,8,10,12")
    parser.add_argument("--max-overcorrection-rise", type=float, default=0.0, help="clean words changed per 100")
    parser.add_argument("--max-spun-loss", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)

    spun_sources, spun_targets, _ = load_validation(args.pairs, args.spun_samples, args.seed)
    _, _, clean = load_validation(args.pairs, args.clean_samples, args.seed)
    sets = {"garbled": garbled_sample(args.roundtrip, "validation", args.samples, args.seed),
            "spun": (spun_sources, spun_targets), "clean": (clean, clean)}
    repairer = Repairer(args.model_dir, mode="lattice")
    if repairer.backend.rewriter is None:
        sys.exit("the model's rewrite pass is off (rewrite_min_postedits 0): nothing to tune")
    grid = list(itertools.product(numbers(args.min_postedits, int), numbers(args.min_lm_gains)))
    recorded = record_sentences(repairer, [s for sources, _ in sets.values() for s in sources],
                                min_postedits=min(k for k, _ in grid))
    print(f"recorded {len(recorded)} pieces, {sum(e.rewrite_edits is not None for e in recorded.values())} "
          "with a rewrite proposal", file=sys.stderr)

    baseline = measure(repairer, recorded, None, sets)
    print(json.dumps({"gate": None, **baseline}), file=sys.stderr, flush=True)
    trials = []
    for k, gain in grid:
        row = {"rewrite_min_postedits": k, "rewrite_min_lm_gain": gain, **measure(repairer, recorded, Gate(k, gain), sets)}
        trials.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    allowed = [t for t in trials
               if t["clean_words_changed_per_100"] <= baseline["clean_words_changed_per_100"] + args.max_overcorrection_rise
               and t["spun_bleu"] >= baseline["spun_bleu"] - args.max_spun_loss]
    best = max(allowed, key=lambda t: (t["garbled_bleu"], -t["rewritten_pieces"]))
    print(json.dumps({"chosen": best, "baseline": baseline}, indent=2))
    if args.write:
        settings_path = args.model_dir / SETTINGS_FILE
        settings = json.loads(settings_path.read_text(encoding="utf-8"))
        settings.setdefault("lattice", {}).update({k: v for k, v in best.items() if k.startswith("rewrite_")})
        settings["rewrite_tuning"] = {
            "garbled_validation_pairs": len(sets["garbled"][0]), "clean_sentences": len(clean),
            "spun_validation_pairs": len(spun_sources),
            "chosen_by": "training.tune_rewrite: garbled validation BLEU of the trained pairs, clean validation words "
                         f"changed at most {args.max_overcorrection_rise} above the lattice alone, spun validation "
                         f"BLEU at most {args.max_spun_loss} below it",
            **{k: round(v, 3) for k, v in best.items() if not k.startswith("rewrite_")},
            **{f"{k}_without": round(v, 3) for k, v in baseline.items() if k != "rewritten_pieces"}}
        settings_path.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
        write_manifest(args.model_dir)
    return best


if __name__ == "__main__":
    main()

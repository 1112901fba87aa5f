"""Choose the channel rate of the post-editing phrase table (``channel_rates.postedit``).

    python -m training.tune_postedit --model-dir MODEL --roundtrip work_data/roundtrip --pairs work_data/pairs \\
        [--rates 0,0.03,0.1,0.3,1] [--samples 100] [--write]

For each rate (and each ``--min-changes``: the fewest rewrites a sentence must take to keep any, unless they
gain at least one of ``--min-gains`` over its best path without the table), on samples of the *validation* splits (never test, never the held-out pair ``en-gl``):

- garbled text: round trips of each training pair (``--samples`` a pair), BLEU against the clean side;
- spun text: our spinner's validation pairs, BLEU;
- clean text: clean validation sentences, words changed in 100 (the over-correction bound).

The chosen rate is the one with the best garbled BLEU among those that keep the spun BLEU within
``--max-spun-loss`` of the rate-0 run and the clean damage at most ``--max-overcorrection-rise`` words in
100 above it. ``--write``
stores it in MODEL/mtfix.json (and refreshes the manifest). The model directory must hold
``postedit.tsv.gz``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

import sacrebleu

from mtfix.constrained import PHRASE_TABLE_FILE, LatticeBackend
from mtfix.evaluation.metrics.overcorrection import changed_words
from mtfix.model import SETTINGS_FILE, load_model, write_manifest
from mtfix.phrase_table import PhraseTable
from mtfix.text import words
from training.roundtrip import TRAINING_PAIRS, iter_pairs
from training.tune_lattice import load_validation


def garbled_sample(roundtrip: Path, split: str, samples: int, seed: int,
                   pairs: tuple[str, ...] = TRAINING_PAIRS) -> tuple[list[str], list[str]]:
    """``samples`` random (garbled, clean) pairs of each language pair's ``split``, pair after pair."""
    sources, targets = [], []
    for pair in pairs:
        records = list(iter_pairs(roundtrip, pair, split))
        for record in random.Random(seed).sample(records, min(samples, len(records))):
            sources.append(record["source"])
            targets.append(record["target"])
    return sources, targets


def measure(backend: LatticeBackend, sets: dict[str, tuple[list[str], list[str]]]) -> dict[str, float]:
    row: dict[str, float] = {}
    started = time.perf_counter()
    for name, (sources, targets) in sets.items():
        outputs = backend.repair_sentences(sources)
        if name == "clean":
            changed = sum(changed_words(s, o) for s, o in zip(sources, outputs))
            row["clean_words_changed_per_100"] = 100 * changed / max(sum(len(words(s)) for s in sources), 1)
        else:
            row[f"{name}_bleu"] = sacrebleu.corpus_bleu(outputs, [targets]).score
    row["seconds"] = time.perf_counter() - started
    return row


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--roundtrip", type=Path, default=Path("work_data/roundtrip"))
    parser.add_argument("--pairs", type=Path, default=Path("work_data/pairs"))
    parser.add_argument("--rates", default="0,0.03,0.1,0.3,1")
    parser.add_argument("--min-changes", default="2", help="values of the lattice's min_postedit_changes to try")
    parser.add_argument("--min-gains", default="0", help="values of the lattice's min_postedit_gain to try")
    parser.add_argument("--samples", type=int, default=100, help="garbled sentences a language pair")
    parser.add_argument("--spun-samples", type=int, default=300)
    parser.add_argument("--max-spun-loss", type=float, default=0.3)
    parser.add_argument("--max-overcorrection-rise", type=float, default=0.1, help="clean words changed per 100")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)

    loaded = load_model(args.model_dir, device="cpu")
    backend = LatticeBackend.from_model(loaded)
    if backend.decoder.generator.phrase_table is None:  # from_model loads it only for a model whose rate is above 0
        backend.decoder.generator.phrase_table = PhraseTable.load(args.model_dir / PHRASE_TABLE_FILE)
    spun_sources, spun_targets, clean = load_validation(args.pairs, args.spun_samples, args.seed)
    sets = {"garbled": garbled_sample(args.roundtrip, "validation", args.samples, args.seed),
            "spun": (spun_sources, spun_targets), "clean": (clean, clean)}
    trials = []
    generator = backend.decoder.generator
    for rate in map(float, args.rates.split(",")):
        gates = ([(m, g) for m in map(int, args.min_changes.split(",")) for g in map(float, args.min_gains.split(","))]
                 if rate > 0 else [(backend.weights.min_postedit_changes, backend.weights.min_postedit_gain)])
        for min_changes, min_gain in gates:
            generator.rates = replace(generator.rates, postedit=rate)
            backend.weights = backend.decoder.weights = replace(backend.weights, min_postedit_changes=min_changes,
                                                                min_postedit_gain=min_gain)
            row = {"postedit": rate, "min_postedit_changes": min_changes, "min_postedit_gain": min_gain,
                   **measure(backend, sets)}
            trials.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    baseline = next((t for t in trials if t["postedit"] == 0), trials[0])
    allowed = [t for t in trials if t["spun_bleu"] >= baseline["spun_bleu"] - args.max_spun_loss
               and t["clean_words_changed_per_100"] <= baseline["clean_words_changed_per_100"] + args.max_overcorrection_rise]
    best = max(allowed, key=lambda t: t["garbled_bleu"])
    print(json.dumps({"chosen": best, "baseline": baseline}, indent=2))
    if args.write:
        settings_path = args.model_dir / SETTINGS_FILE
        settings = json.loads(settings_path.read_text(encoding="utf-8"))
        settings.setdefault("channel_rates", {})["postedit"] = best["postedit"]
        settings.setdefault("lattice", {})["min_postedit_changes"] = best["min_postedit_changes"]
        settings["lattice"]["min_postedit_gain"] = best["min_postedit_gain"]
        settings["postedit_tuning"] = {"garbled_validation_pairs": len(sets["garbled"][0]),
                                       "spun_validation_pairs": len(spun_sources), "clean_sentences": len(clean),
                                       **{k: round(v, 3) for k, v in best.items() if k not in ("postedit", "min_postedit_changes", "min_postedit_gain")}}
        settings_path.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
        write_manifest(args.model_dir)
    return best


if __name__ == "__main__":
    main()

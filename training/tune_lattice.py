"""Tune the lattice decoder's weights on the validation split and store them with the model.

    python -m training.tune_lattice --model-dir mtfix/models/default --pairs work_data/pairs

The objective is corpus BLEU on spun validation pairs, subject to a ceiling on over-correction
(the share of words changed when clean validation sentences are the input). The chosen weights go
into ``mtfix.json`` of the model directory, with the scores that chose them.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import time
from dataclasses import asdict, replace
from pathlib import Path

import sacrebleu

from mtfix.evaluation.metrics.overcorrection import changed_words
from mtfix.candidates import ChannelRates
from mtfix.constrained import LM_FILE, LatticeBackend
from mtfix.context import VECTORS_FILE, WordVectors
from mtfix.detector import DETECTOR_DIR, SpinDetector
from mtfix.lattice import LatticeWeights
from mtfix.lm import NgramLM
from mtfix.model import SETTINGS_FILE, check_model_dir, load_model, read_settings
from mtfix.text import words


def load_validation(pairs_dir: Path, samples: int, seed: int) -> tuple[list[str], list[str], list[str]]:
    from datasets import load_from_disk

    validation = load_from_disk(str(pairs_dir))["validation"]
    rng = random.Random(seed)
    indices = rng.sample(range(len(validation)), min(samples, len(validation)))
    rows = validation.select(sorted(indices))
    clean = [line.rstrip("\n") for line in (pairs_dir / "clean_validation.txt").open(encoding="utf-8") if line.strip()]
    clean = rng.sample(clean, min(samples, len(clean)))
    return list(rows["source"]), list(rows["target"]), clean


def evaluate(backend: LatticeBackend, sources, targets, clean) -> dict:
    started = time.perf_counter()
    outputs = backend.repair_sentences(sources)
    repaired_clean = backend.repair_sentences(clean)
    seconds = time.perf_counter() - started
    changed = sum(changed_words(c, r) for c, r in zip(clean, repaired_clean))
    total = sum(len(words(c)) for c in clean)
    return {
        "bleu": sacrebleu.corpus_bleu(outputs, [targets]).score,
        "identity_bleu": sacrebleu.corpus_bleu(sources, [targets]).score,
        "clean_words_changed_per_100": 100 * changed / max(total, 1),
        "sentences_per_second": (len(sources) + len(clean)) / seconds,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", type=Path, default=Path("mtfix/models/default"))
    parser.add_argument("--lm", type=Path, help="LM file (default: MODEL_DIR/lm.safetensors)")
    parser.add_argument("--pairs", type=Path, default=Path("work_data/pairs"))
    parser.add_argument("--samples", type=int, default=400)
    parser.add_argument("--max-overcorrection", type=float, default=0.8, help="words changed per 100 clean words")
    parser.add_argument("--penalties", default="0,0.5,1,2")
    parser.add_argument("--channel-weights", default="1.0")
    parser.add_argument("--seq2seq-weights", default="0,0.1,0.25,0.5,1.0")
    parser.add_argument("--context-weights", default="0,2,4", help="weights of the word-vector context score")
    parser.add_argument("--min-sentence-gains", default="0,2,3,4")
    parser.add_argument("--detector-weights", default="0,0.5,1,2",
                        help="weights of the spin detector's log-odds (when MODEL_DIR/detector exists)")
    parser.add_argument("--choice-weights", default="0,0.5,1",
                        help="weights of the detector's original-word head (when it has one)")
    parser.add_argument("--detector-floor", type=float, default=-3.0,
                        help="changes with detector log-odds below this are not searched (speed; -3 cost no BLEU)")
    parser.add_argument("--channel-rates", default="0.1,0.85,0.85",
                        help="synonym,phrase,damage[,pivot]: how often the spinner applies each family (stored with "
                             "the weights; pivot 0, the default, offers no pivot paraphrases)")
    parser.add_argument("--candidates-per-word", type=int, default=32,
                        help="single-word originals offered per input word (breadth against speed; not gridded)")
    parser.add_argument("--candidates-per-suspect-word", type=int, default=128,
                        help="the same for words the spin detector flags (not gridded)")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)

    sources, targets, clean = load_validation(args.pairs, args.samples, args.seed)
    lm = NgramLM.load(args.lm or args.model_dir / LM_FILE)
    rescorer = None
    try:
        rescorer = load_model(check_model_dir(args.model_dir), device="cpu")
    except (FileNotFoundError, ValueError) as error:
        print(f"no seq2seq rescorer ({error}); tuning the lattice alone")

    vectors_path = args.model_dir / VECTORS_FILE
    vectors = WordVectors.load(vectors_path) if vectors_path.is_file() else None
    context_weights = [float(x) for x in args.context_weights.split(",")] if vectors else [0.0]
    detector = SpinDetector.load(args.model_dir / DETECTOR_DIR) if (args.model_dir / DETECTOR_DIR).is_dir() else None
    detector_weights = [float(x) for x in args.detector_weights.split(",")] if detector else [0.0]
    choice_weights = [float(x) for x in args.choice_weights.split(",")] if detector and detector.has_original_words else [0.0]
    rates = ChannelRates(*(float(x) for x in args.channel_rates.split(",")))

    trials = []
    base = LatticeWeights(detector_floor=args.detector_floor, candidates_per_word=args.candidates_per_word,
                          candidates_per_suspect_word=args.candidates_per_suspect_word)
    backend = LatticeBackend(lm, base, vectors=vectors, rates=rates, detector=detector)
    grid = itertools.product(map(float, args.penalties.split(",")), map(float, args.channel_weights.split(",")),
                             context_weights, map(float, args.min_sentence_gains.split(",")), detector_weights,
                             choice_weights)
    for penalty, channel, context, min_gain, detector_weight, choice in grid:
        weights = replace(base, change_penalty=penalty, channel=channel, context=context, min_sentence_gain=min_gain,
                          detector=detector_weight, choice=choice, seq2seq=0.0)
        backend.weights = backend.decoder.weights = weights
        scores = evaluate(backend, sources, targets, clean)
        trials.append((weights, scores))
        print(json.dumps({**weights.to_dict(), **scores}))
    best_weights, best_scores = _pick(trials, args.max_overcorrection)

    if rescorer is not None:
        for seq2seq in map(float, args.seq2seq_weights.split(",")):
            if seq2seq == 0:
                continue
            for penalty in (best_weights.change_penalty, best_weights.change_penalty + 1):
                weights = replace(best_weights, seq2seq=seq2seq, change_penalty=penalty)
                scores = evaluate(LatticeBackend(lm, weights, rescorer, vectors=vectors, rates=rates, detector=detector),
                                  sources, targets, clean)
                trials.append((weights, scores))
                print(json.dumps({**weights.to_dict(), **scores}))
        best_weights, best_scores = _pick(trials, args.max_overcorrection)

    settings_path = args.model_dir / SETTINGS_FILE
    settings = read_settings(args.model_dir) if settings_path.is_file() else {}
    settings["lattice"] = best_weights.to_dict()
    settings["channel_rates"] = asdict(rates)
    settings["lattice_tuning"] = {"validation_pairs": len(sources), "clean_sentences": len(clean),
                                  "max_overcorrection": args.max_overcorrection, **best_scores}
    args.model_dir.mkdir(parents=True, exist_ok=True)
    settings_path.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    print("chosen:", json.dumps(settings["lattice"]), json.dumps(settings["lattice_tuning"]))
    return settings


def _pick(trials, ceiling: float):
    allowed = [t for t in trials if t[1]["clean_words_changed_per_100"] <= ceiling] or \
        [min(trials, key=lambda t: t[1]["clean_words_changed_per_100"])]
    return max(allowed, key=lambda t: t[1]["bleu"])


if __name__ == "__main__":
    main()

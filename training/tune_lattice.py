"""Tune the lattice decoder's weights on the validation split and the ood dev set, and store them with the model.

    python -m training.tune_lattice --model-dir mtfix/models/default --pairs work_data/pairs \
        [--ood-dir ../shared/data/ood_dev --ood-weight 0.5] [--pivot-rates 0,0.03,0.1] [--penalties ...]

The objective is joint: the BLEU gain (over the unrepaired input) on spun validation pairs of our own
spinner and on the hand-spun ood dev set (another "spinner", ``--ood-dir``; development only, never
training), ``(1 - ood_weight) * validation gain + ood_weight * ood gain``, subject to a ceiling on
over-correction (the share of words changed when clean validation sentences are the input). Without an
ood set the objective is the validation gain alone. Weights the grid does not vary (the post-editing gate,
the detector floor, ...) and the channel rates it does not vary are the model's own (``mtfix.json``); the
model's phrase table is loaded when its post-editing rate is above 0. With ``--write`` the chosen weights
go into ``mtfix.json`` of the model directory, with the scores that chose them; without it the grid is only
reported (a measurement must not change the bundled model).
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

from mtfix.candidates import ChannelRates
from mtfix.constrained import LM_FILE, PHRASE_TABLE_FILE, LatticeBackend
from mtfix.evaluation.inputs import DEFAULT_OOD_DIR, load_ood
from mtfix.evaluation.metrics.overcorrection import changed_words
from mtfix.context import VECTORS_FILE, WordVectors
from mtfix.detector import DETECTOR_DIR, SpinDetector
from mtfix.lattice import LatticeWeights
from mtfix.lm import NgramLM
from mtfix.model import SETTINGS_FILE, check_model_dir, load_model, read_settings
from mtfix.phrase_table import PhraseTable
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


def evaluate(backend: LatticeBackend, sources, targets, clean, ood: tuple[list[str], list[str]] | None = None,
             ood_weight: float = 0.0) -> dict:
    """BLEU on the validation pairs (and the ood set), clean damage, and the joint objective."""
    started = time.perf_counter()
    outputs = backend.repair_sentences(sources)
    repaired_clean = backend.repair_sentences(clean)
    ood_outputs = backend.repair_sentences(ood[0]) if ood else []
    seconds = time.perf_counter() - started
    changed = sum(changed_words(c, r) for c, r in zip(clean, repaired_clean))
    total = sum(len(words(c)) for c in clean)
    scores = {
        "bleu": sacrebleu.corpus_bleu(outputs, [targets]).score,
        "identity_bleu": sacrebleu.corpus_bleu(sources, [targets]).score,
        "clean_words_changed_per_100": 100 * changed / max(total, 1),
    }
    scores["objective"] = scores["bleu"] - scores["identity_bleu"]
    if ood:
        scores["ood_bleu"] = sacrebleu.corpus_bleu(ood_outputs, [ood[1]]).score
        scores["ood_identity_bleu"] = sacrebleu.corpus_bleu(ood[0], [ood[1]]).score
        scores["objective"] = ((1 - ood_weight) * scores["objective"]
                               + ood_weight * (scores["ood_bleu"] - scores["ood_identity_bleu"]))
    scores["sentences_per_second"] = (len(sources) + len(clean) + len(ood_outputs)) / seconds
    return scores


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
    parser.add_argument("--ood-dir", type=Path, default=DEFAULT_OOD_DIR,
                        help="the hand-spun ood dev set (spun.txt, ref.txt); tuned on jointly when it is there")
    parser.add_argument("--ood-weight", type=float, default=0.5, help="share of the ood gain in the objective")
    parser.add_argument("--pivot-rates", default=None,
                        help="channel rates of pivot paraphrases to try (default: the model's)")
    parser.add_argument("--channel-rates", default=None,
                        help="synonym,phrase,damage: how often the spinner applies each family (stored with the "
                             "weights; default: the model's)")
    parser.add_argument("--candidates-per-word", type=int, default=None,
                        help="single-word originals offered per input word (breadth against speed; not gridded; "
                             "default: the model's)")
    parser.add_argument("--candidates-per-suspect-word", type=int, default=None,
                        help="the same for words the spin detector flags (not gridded)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--write", action="store_true",
                        help="store the chosen weights in MODEL_DIR/mtfix.json (without it the grid is only reported)")
    args = parser.parse_args(argv)

    sources, targets, clean = load_validation(args.pairs, args.samples, args.seed)
    ood = None
    if (args.ood_dir / "spun.txt").is_file():
        ood_set = load_ood(args.ood_dir)
        ood = (list(ood_set.sources), list(ood_set.references[0]))
    else:
        print(f"no ood set in {args.ood_dir}: tuning on the validation pairs alone")
    settings_path = args.model_dir / SETTINGS_FILE
    settings = read_settings(args.model_dir) if settings_path.is_file() else {}
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
    rates = ChannelRates.from_settings(settings)
    if args.channel_rates:
        rates = replace(rates, **dict(zip(("synonym", "phrase", "damage"), map(float, args.channel_rates.split(",")))))
    pivot_rates = [float(x) for x in args.pivot_rates.split(",")] if args.pivot_rates else [rates.pivot]
    phrase_table = PhraseTable.load(args.model_dir / PHRASE_TABLE_FILE) if rates.postedit > 0 else None

    trials = []
    base = replace(LatticeWeights.from_settings(settings), detector_floor=args.detector_floor)
    if args.candidates_per_word:
        base = replace(base, candidates_per_word=args.candidates_per_word)
    if args.candidates_per_suspect_word:
        base = replace(base, candidates_per_suspect_word=args.candidates_per_suspect_word)
    backends: dict[float, LatticeBackend] = {}  # one per pivot rate: candidate caches hold the channel rates
    grid = itertools.product(pivot_rates, map(float, args.penalties.split(",")),
                             map(float, args.channel_weights.split(",")), context_weights,
                             map(float, args.min_sentence_gains.split(",")), detector_weights, choice_weights)
    for pivot, penalty, channel, context, min_gain, detector_weight, choice in grid:
        if pivot not in backends:
            backends = {pivot: LatticeBackend(lm, base, vectors=vectors, rates=replace(rates, pivot=pivot),
                                              detector=detector, phrase_table=phrase_table)}
        backend = backends[pivot]
        weights = replace(base, change_penalty=penalty, channel=channel, context=context, min_sentence_gain=min_gain,
                          detector=detector_weight, choice=choice, seq2seq=0.0)
        backend.weights = backend.decoder.weights = weights
        scores = {"pivot": pivot, **evaluate(backend, sources, targets, clean, ood, args.ood_weight)}
        trials.append((weights, scores))
        print(json.dumps({**weights.to_dict(), **scores}), flush=True)
    best_weights, best_scores = _pick(trials, args.max_overcorrection)

    if rescorer is not None:
        for seq2seq in map(float, args.seq2seq_weights.split(",")):
            if seq2seq == 0:
                continue
            for penalty in (best_weights.change_penalty, best_weights.change_penalty + 1):
                weights = replace(best_weights, seq2seq=seq2seq, change_penalty=penalty)
                rescoring = LatticeBackend(lm, weights, rescorer, vectors=vectors, detector=detector,
                                           rates=replace(rates, pivot=best_scores["pivot"]), phrase_table=phrase_table)
                scores = {"pivot": best_scores["pivot"],
                          **evaluate(rescoring, sources, targets, clean, ood, args.ood_weight)}
                trials.append((weights, scores))
                print(json.dumps({**weights.to_dict(), **scores}))
        best_weights, best_scores = _pick(trials, args.max_overcorrection)

    settings["lattice"] = best_weights.to_dict()
    settings["channel_rates"] = asdict(replace(rates, pivot=best_scores.pop("pivot")))
    settings["lattice_tuning"] = {"validation_pairs": len(sources), "clean_sentences": len(clean),
                                  "ood_sentences": len(ood[0]) if ood else 0, "ood_weight": args.ood_weight if ood else 0,
                                  "max_overcorrection": args.max_overcorrection,
                                  **{k: round(v, 3) for k, v in best_scores.items()}}
    if args.write:
        args.model_dir.mkdir(parents=True, exist_ok=True)
        settings_path.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    print("chosen:" if args.write else "best (not stored; --write stores it):", json.dumps(settings["lattice"]), json.dumps(settings["lattice_tuning"]))
    return settings


def _pick(trials, ceiling: float):
    allowed = [t for t in trials if t[1]["clean_words_changed_per_100"] <= ceiling] or \
        [min(trials, key=lambda t: t[1]["clean_words_changed_per_100"])]
    return max(allowed, key=lambda t: t[1]["objective"])


if __name__ == "__main__":
    main()

"""The ablation table of the repair path: what each part of the system adds, on three input sets.

    python -m mtfix.evaluation.ablation [--model DIR] [--pairs work_data/pairs] [--samples 500] [-o table.md]

Systems: the identity baseline (input left as is), free seq2seq generation, the candidate lattice
scored by channel + news LM, the same with the word-vector context score, then with the spin
detector's log-odds (when the model has one) and its original-word head's choice, and the full system with seq2seq n-best rescoring
(when its weight is above 0, or ``--seq2seq-weight``). Input
sets: the synthetic test split (spun by our spinner), the seed article (spun by a real spinner we
never imitated directly) and clean test sentences given as input (over-correction).
"""

from __future__ import annotations

import argparse
import random
import time
from dataclasses import replace
from pathlib import Path

import sacrebleu

from mtfix.evaluation.inputs import DEFAULT_SYNTHETIC_DIR, split_lines
from mtfix.evaluation.metrics.overcorrection import changed_words
from mtfix import Repairer
from mtfix.evaluation.report import run_repair
from mtfix.text import words

SEEDS = Path(__file__).resolve().parent / "testsets"


def load_sets(pairs_dir: Path, samples: int, seed: int) -> dict[str, tuple[list[str], list[str]]]:
    spun = [line for line in split_lines((SEEDS / "idlib_ceasefire_spun.txt").read_text(encoding="utf-8")) if line.strip()]
    reference = [line for line in split_lines((SEEDS / "idlib_ceasefire_reference.txt").read_text(encoding="utf-8")) if line.strip()]
    sets = {"seed article": (spun, reference)}
    if (pairs_dir / "dataset_dict.json").is_file():
        from datasets import load_from_disk

        test = load_from_disk(str(pairs_dir))["test"]
        rng = random.Random(seed)
        rows = test.select(sorted(rng.sample(range(len(test)), min(samples, len(test)))))
        sets["synthetic test"] = (list(rows["source"]), list(rows["target"]))
        clean = [l.strip() for l in (pairs_dir / "clean_test.txt").read_text(encoding="utf-8").splitlines() if l.strip()]
        clean = rng.sample(clean, min(samples, len(clean)))
        sets["clean input"] = (clean, clean)
    return sets


def lattice_variant(model: str | None, **weights) -> Repairer:
    """The bundled lattice with some of its tuned weights replaced (e.g. context=0)."""
    repairer = Repairer(model, device="cpu", mode="lattice", min_confidence=0.0)
    backend = repairer.backend
    backend.weights = backend.decoder.weights = replace(backend.weights, **weights)
    if backend.weights.seq2seq > 0 and backend.rescorer is None:
        backend.rescorer = repairer.engine  # the model's own seq2seq (CTranslate2 or torch)
    return repairer


def get_systems(model: str | None, seq2seq_weight: float | None) -> dict[str, Repairer | None]:
    default = Repairer(model, device="cpu", mode="lattice", min_confidence=0.0)
    systems: dict[str, Repairer | None] = {
        "identity": None,
        "free seq2seq": Repairer(model, device="cpu", mode="free", min_confidence=0.0),
        "lattice: channel + LM": lattice_variant(model, context=0.0, detector=0.0, choice=0.0, seq2seq=0.0),
        "lattice: channel + LM + context vectors": lattice_variant(model, detector=0.0, choice=0.0, seq2seq=0.0),
    }
    if default.backend.decoder.detector is not None:  # the model has a spin detector with a weight above 0
        systems["lattice: + spin detector"] = lattice_variant(model, choice=0.0, seq2seq=0.0)
    if default.backend.weights.choice > 0:
        systems["lattice: + its original-word head"] = lattice_variant(model, seq2seq=0.0)
    weight = default.backend.weights.seq2seq if seq2seq_weight is None else seq2seq_weight
    if weight > 0:  # the stored weight is 0 when rescoring did not pay; --seq2seq-weight shows it anyway
        systems[f"full: + seq2seq n-best rescoring (weight {weight:g})"] = lattice_variant(model, seq2seq=weight)
    return systems


def score(sources: list[str], outputs: list[str], references: list[str], clean: bool) -> str:
    if clean:
        changed = sum(changed_words(s, o) for s, o in zip(sources, outputs))
        return f"{100 * changed / max(sum(len(words(s)) for s in sources), 1):.2f} words/100 changed"
    return f"BLEU {sacrebleu.corpus_bleu(outputs, [references]).score:.1f}"


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="model directory (default: the bundled model)")
    parser.add_argument("--pairs", type=Path, default=DEFAULT_SYNTHETIC_DIR)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--seq2seq-weight", type=float, default=None,
                        help="rescoring weight of the full system (default: the model's tuned weight)")
    parser.add_argument("-o", "--output", type=Path)
    args = parser.parse_args(argv)

    sets = load_sets(args.pairs, args.samples, args.seed)
    systems = get_systems(args.model, args.seq2seq_weight)
    header = "| system | " + " | ".join(sets) + " | sentences/s |"
    lines = [header, "|" + "---|" * (len(sets) + 2)]
    for name, repairer in systems.items():
        cells, sentences, seconds = [], 0, 0.0
        for set_name, (sources, references) in sets.items():
            started = time.perf_counter()
            if repairer is None:
                outputs = list(sources)
            elif set_name == "seed article":  # one article: repaired whole, as mtfix repair reads it
                outputs, _ = run_repair(repairer.repair_many, sources, documents=[0] * len(sources))
            else:
                outputs = repairer.repair_many(sources)
            seconds += time.perf_counter() - started
            sentences += len(sources)
            cells.append(score(sources, outputs, references, clean=set_name == "clean input"))
        speed = "-" if repairer is None else f"{sentences / seconds:.0f}"
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {speed} |")
        print(lines[-1], flush=True)
    table = "\n".join(lines) + "\n"
    if args.output:
        args.output.write_text(table, encoding="utf-8")
    print(table)
    return table


if __name__ == "__main__":
    main()

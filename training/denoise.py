"""Denoising pairs for pre-training the T5 on clean text before it sees spun pairs.

    python -m training.denoise work_data/pairs work_data/denoise      # from the pairs' clean targets

Text infilling as in BART, with T5's span lengths: about 15% of the words of each clean sentence are
masked in spans of mean length 3, each span replaced by one ``<unk>`` (the tokenizer has no sentinel
tokens, and ``<unk>`` never occurs otherwise thanks to byte fallback); the target is the sentence itself.
The model learns to copy and to fill in news phrasing from context, the two skills repair needs, before
fine-tuning (``training.train --init_from <denoise run>/model``). Reads a saved DatasetDict or a directory
of ``{split}.jsonl`` (``training.train.read_pairs``) and writes ``{split}.jsonl`` that ``train.py`` reads.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from training.train import SPLITS, read_pairs

MASK = "<unk>"


def infill_noise(sentence: str, rng: random.Random, rate: float = 0.15, mean_span: float = 3.0) -> str:
    """``sentence`` with spans of words (about ``rate`` of them) each replaced by one ``MASK``."""
    words = sentence.split(" ")
    budget = max(1, round(rate * len(words))) if len(words) > 2 else 0
    masked: set[int] = set()
    for _ in range(4 * budget):  # a few tries: spans may overlap
        if len(masked) >= budget:
            break
        length = min(budget - len(masked), max(1, round(rng.expovariate(1 / mean_span))))
        start = rng.randrange(len(words))
        masked.update(range(start, min(start + length, len(words))))
    out: list[str] = []
    for i, word in enumerate(words):
        if i not in masked:
            out.append(word)
        elif not out or out[-1] != MASK:
            out.append(MASK)
    return " ".join(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pairs_dir", help="pairs whose clean targets are noised")
    parser.add_argument("out_dir")
    parser.add_argument("--rate", type=float, default=0.15, help="share of words masked")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    pairs = read_pairs(args.pairs_dir)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    for split in SPLITS:
        with open(out_dir / f"{split}.jsonl", "w", encoding="utf-8") as out:
            for target in pairs[split]["target"]:
                noised = infill_noise(target, rng, args.rate)
                out.write(json.dumps({"source": noised, "target": target}, ensure_ascii=False) + "\n")
        print(f"{split}: {len(pairs[split])} pairs", flush=True)


if __name__ == "__main__":
    main()

"""Save the seq2seq's training pairs for both kinds of damage: MT round trips and spun sentences.

    python -m training.garbled_pairs --roundtrip work_data/roundtrip --pairs work_data/pairs \\
        --out work_data/mixed_pairs [--spun-share 0.5] [--validation 1000] [--test 2000]

A ``datasets.DatasetDict`` (``source``, ``target``, ``kind``: "garbled" or "spun") that ``training.train``
reads with ``--dataset_dir``: every train round trip of the training pairs (the held-out pair ``en-gl`` is
never read), shuffled with ``--spun-share`` of as many spun train pairs (so that one model repairs both,
as the default model must) and ``--clean-share`` of as many clean sentences paired with themselves (kind
"clean": without them every training source needs a change, and the model rewrites clean copy too); validation and test: garbled pairs of the training pairs' splits only, since
that is what the seq2seq is fine-tuned for (its spun quality is measured by ``mtfix eval``).
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from datasets import Dataset, DatasetDict, concatenate_datasets, load_from_disk

from training.roundtrip import TRAINING_PAIRS, iter_pairs


def garbled_split(roundtrip: Path, split: str, limit: int | None, seed: int) -> Dataset:
    rows = [(" ".join(r["source"].split()), " ".join(r["target"].split()))
            for pair in TRAINING_PAIRS for r in iter_pairs(roundtrip, pair, split)]
    rows = [(s, t) for s, t in rows if s and t]
    random.Random(seed).shuffle(rows)
    rows = rows[:limit] if limit else rows
    return Dataset.from_dict({"source": [s for s, _ in rows], "target": [t for _, t in rows],
                              "kind": ["garbled"] * len(rows)})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--roundtrip", type=Path, default=Path("work_data/roundtrip"))
    parser.add_argument("--pairs", type=Path, default=Path("work_data/pairs"))
    parser.add_argument("--out", type=Path, default=Path("work_data/mixed_pairs"))
    parser.add_argument("--spun-share", type=float, default=0.5, help="spun pairs per garbled pair in train")
    parser.add_argument("--clean-share", type=float, default=0.0,
                        help="clean train sentences, as identity pairs, per garbled pair in train")
    parser.add_argument("--validation", type=int, default=1000)
    parser.add_argument("--test", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    garbled = garbled_split(args.roundtrip, "train", None, args.seed)
    spun = load_from_disk(str(args.pairs))["train"].shuffle(seed=args.seed)
    spun = spun.select(range(min(len(spun), int(len(garbled) * args.spun_share))))
    spun = spun.select_columns(["source", "target"]).add_column("kind", ["spun"] * len(spun))
    parts = [garbled, spun]
    if args.clean_share > 0:
        # The wire side of spun train pairs not already taken, so no sentence is both a spun and a clean example.
        rest = load_from_disk(str(args.pairs))["train"].shuffle(seed=args.seed + 1)
        rest = rest.select(range(min(len(rest), int(len(garbled) * args.clean_share))))
        parts.append(Dataset.from_dict({"source": rest["target"], "target": rest["target"],
                                        "kind": ["clean"] * len(rest)}))
    train = concatenate_datasets(parts).shuffle(seed=args.seed)
    splits = DatasetDict(train=train, validation=garbled_split(args.roundtrip, "validation", args.validation, args.seed),
                         test=garbled_split(args.roundtrip, "test", args.test, args.seed))
    splits.save_to_disk(str(args.out))
    print({name: len(split) for name, split in splits.items()})


if __name__ == "__main__":
    main()

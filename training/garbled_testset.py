"""Write the bundled garbled test set: a sample of the held-out pair's test split (``en-gl`` round trips).

    python -m training.garbled_testset --roundtrip work_data/roundtrip [--pair en-gl] [--sentences 1000]

Writes ``mtfix/evaluation/testsets/garbled_<pair>.garbled.txt`` and ``.clean.txt``, one sentence a line
(whitespace collapsed), in the order of the split: ``mtfix eval --test-set garbled`` reads them. The
held-out pair is never trained or tuned on, so this is the out-of-distribution measure of
machine-translation repair; ``--data-dir work_data/roundtrip`` reports on the trained pairs' test split.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from training.roundtrip import HELD_OUT_PAIR, iter_pairs

TESTSETS = Path(__file__).resolve().parent.parent / "mtfix" / "evaluation" / "testsets"


def one_line(text: str) -> str:
    return " ".join(text.split())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--roundtrip", type=Path, default=Path("work_data/roundtrip"))
    parser.add_argument("--pair", default=HELD_OUT_PAIR)
    parser.add_argument("--sentences", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=TESTSETS)
    args = parser.parse_args(argv)
    records = list(iter_pairs(args.roundtrip, args.pair, "test"))
    if not records:
        parser.error(f"no test split of {args.pair} under {args.roundtrip}; build it with training.roundtrip")
    chosen = sorted(random.Random(args.seed).sample(range(len(records)), min(args.sentences, len(records))))
    for side, field in (("garbled", "source"), ("clean", "target")):
        path = args.out / f"garbled_{args.pair}.{side}.txt"
        path.write_text("".join(one_line(records[i][field]) + "\n" for i in chosen), encoding="utf-8")
        print(f"{path}: {len(chosen)} lines")


if __name__ == "__main__":
    main()

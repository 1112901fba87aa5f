"""Build rate of the spun/clean pair builder, and the density of what it builds against the seed article.

    python benchmarks/build_rate.py [--corpora bbc abc] [--max-sentences 20000] [--num-proc 2]

Builds a sample into a temporary directory (nothing is kept) and prints one table row per run:
pairs per second end to end (corpus reading, spinning, Arrow writing), and the words changed per 100
of the built spun pairs next to the seed article's (``seeds/idlib_ceasefire_spun.txt`` against its
reference).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mtfix.spin import Spinner, changed_words_per_100, seed_density  # noqa: E402
from training.build_data import BuildArgs, build  # noqa: E402
from training.corpus import CORPORA  # noqa: E402


def spinner_density_on_seed(seeds: int = 20) -> float:
    """The default spinner's density on the seed article's reference text, averaged over seeds."""
    reference = (Path(__file__).resolve().parent.parent / "seeds" / "idlib_ceasefire_reference.txt").read_text(
        encoding="utf-8")
    return sum(changed_words_per_100(reference, Spinner(seed=s).spin(reference).text) for s in range(seeds)) / seeds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", nargs="+", default=["bbc", "abc"], choices=CORPORA)
    parser.add_argument("--max-sentences", type=int, default=20_000)
    parser.add_argument("--spins-per-sentence", type=int, default=2)
    parser.add_argument("--num-proc", type=int, nargs="+", default=[2])
    args = parser.parse_args()

    rows = []
    for num_proc in args.num_proc:
        with tempfile.TemporaryDirectory() as out:
            summary = build(BuildArgs(
                out=Path(out), corpora=tuple(args.corpora), max_sentences=args.max_sentences,
                spins_per_sentence=args.spins_per_sentence, num_proc=num_proc,
            ))
        rows.append((num_proc, summary))

    seed = seed_density()
    on_seed = spinner_density_on_seed()
    print()
    print(f"{'corpora':<16}{'procs':>6}{'sentences':>11}{'pairs':>9}{'seconds':>9}{'pairs/s':>9}"
          f"{'changed/100':>13}{'seed/100':>10}{'spinner on seed/100':>21}")
    for num_proc, summary in rows:
        sentences = sum(s.sentences for s in summary.splits.values())
        print(f"{'+'.join(args.corpora):<16}{num_proc:>6}{sentences:>11}{summary.pairs:>9}{summary.seconds:>9.1f}"
              f"{summary.pairs / summary.seconds:>9.0f}{summary.density:>13.1f}{seed:>10.1f}{on_seed:>21.1f}")


if __name__ == "__main__":
    main()

"""How well `mtfix check` finds what a spinner changed: precision and recall of the flagged spans
against the word diff between a spun text and its restored reference.

    python -m mtfix.evaluation.check_quality [--model DIR] [--source seeds/...spun.txt --reference seeds/...reference.txt]

A flagged span counts as correct when it overlaps a changed span of the diff; a changed span counts
as found when some flagged span overlaps it. Line by line, so the two files must be aligned.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mtfix import Repairer
from mtfix.diff import word_edits

TESTSETS = Path(__file__).resolve().parent / "testsets"


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def span_scores(gold: list[tuple[int, int]], flagged: list[tuple[int, int]]) -> tuple[int, int, int, int]:
    """(correct flagged, flagged, found gold, gold)."""
    correct = sum(1 for f in flagged if any(overlaps(f, g) for g in gold))
    found = sum(1 for g in gold if any(overlaps(f, g) for f in flagged))
    return correct, len(flagged), found, len(gold)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None)
    parser.add_argument("--source", type=Path, default=TESTSETS / "idlib_ceasefire_spun.txt")
    parser.add_argument("--reference", type=Path, default=TESTSETS / "idlib_ceasefire_reference.txt")
    parser.add_argument("--min-score", type=float, default=None, help="as `mtfix check --min-score` (default 0.2)")
    args = parser.parse_args(argv)
    repairer = Repairer(args.model, device="cpu", mode="lattice")
    totals = [0, 0, 0, 0]
    spun_lines = args.source.read_text(encoding="utf-8").split("\n")
    reference_lines = args.reference.read_text(encoding="utf-8").split("\n")
    if len(spun_lines) != len(reference_lines):
        raise SystemExit(f"{args.source} and {args.reference} have different line counts")
    # The article is checked whole, as `mtfix check FILE` does (quotations are judged on the document), and
    # its spans are scored line by line against the word diff to the reference.
    suspicions = repairer.check("\n".join(spun_lines), min_score=args.min_score)
    line_start = 0
    for spun, reference in zip(spun_lines, reference_lines):
        line_end = line_start + len(spun)
        gold = [(e.start, e.end) for e in word_edits(spun, reference) if e.start < e.end]
        flagged = [(s.start - line_start, s.end - line_start) for s in suspicions if line_start <= s.start < line_end]
        totals = [t + s for t, s in zip(totals, span_scores(gold, flagged))]
        line_start = line_end + 1
    correct, flagged, found, gold = totals
    result = {"flagged": flagged, "precision": 100 * correct / max(flagged, 1),
              "changed_spans": gold, "recall": 100 * found / max(gold, 1)}
    print(f"flagged {flagged} spans: precision {result['precision']:.1f}% ({correct} overlap a real change), "
          f"recall {result['recall']:.1f}% ({found} of {gold} changed spans found)")
    return result


if __name__ == "__main__":
    main()

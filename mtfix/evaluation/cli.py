"""``mtfix eval`` (also ``python -m mtfix.evaluation``): score repairs against reference wire copy.

Examples::

    mtfix eval --test-set seed --hypothesis repaired.txt --format html -o report.html
    mtfix eval --source spun.txt --reference ref.txt --model default

Exit status: 0 on success, 2 on bad arguments or unusable input (one line on stderr, nothing written),
1 when the report cannot be written (one line on stderr).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path

from mtfix.evaluation.inputs import DEFAULT_OOD_DIR, DEFAULT_SYNTHETIC_DIR, TEST_SETS, EvalInputError, EvalSet, load_files, load_test_set, read_lines
from mtfix.evaluation.report import RENDERERS, RepairFunction, build_report
from mtfix.cli import CommandError, write_output

PROG = "mtfix eval"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Score repaired text against references, next to the unrepaired source "
        "(BLEU, chrF++, TER with bootstrap intervals, edit P/R/F0.5, over-correction, preservation).",
    )
    data = parser.add_argument_group("what to evaluate on (files, or a named test set)")
    data.add_argument("--source", type=Path, help="the spun input, one segment a line (UTF-8)")
    data.add_argument(
        "--reference", type=Path, action="append", default=[], help="a reference aligned with SOURCE (repeatable)"
    )
    data.add_argument(
        "--test-set", choices=TEST_SETS,
        help="seed: the bundled AFP article; synthetic: the built test split; ood: sentences spun by hand "
             "by another 'spinner' (../shared/data/ood_dev beside a checkout); garbled: news round-tripped "
             "through machine translation (the bundled en-gl sample, a pair held out of training)"
    )
    data.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help=f"where the test set lies: the pairs training/build_data.py saved (default: {DEFAULT_SYNTHETIC_DIR}), "
             f"the ood folder (default: {DEFAULT_OOD_DIR}), or the round trips training/roundtrip.py built "
             f"(a folder of pairs, or one pair's; default: the bundled en-gl sample)",
    )
    system = parser.add_mutually_exclusive_group(required=True)
    system.add_argument("--hypothesis", type=Path, help="the repaired output to score, aligned with SOURCE")
    system.add_argument("--model", help="a model directory to run, or 'default' for the bundled model")
    parser.add_argument("--format", choices=sorted(RENDERERS), default="md", help="report format (default: md)")
    parser.add_argument("-o", "--output", type=Path, help="write the report here (default: standard output)")
    parser.add_argument("--batch-size", type=int, help="sentences per model batch (with --model)")
    parser.add_argument(
        "--each-line", action="store_true",
        help="with --model, repair each line on its own, also in the test sets made of documents (the seed is one "
             "article, the synthetic split's sentences belong to articles; by default the lines of a document are "
             "repaired as one text, as mtfix repair reads a file)")
    parser.add_argument("--top", type=int, default=5, help="how many most improved/damaged sentences (default: 5)")
    return parser


def load_eval_set(args: argparse.Namespace, parser: argparse.ArgumentParser) -> EvalSet:
    if args.test_set:
        if args.source or args.reference:
            parser.error("--test-set replaces --source/--reference; give one or the other")
        return load_test_set(args.test_set, args.data_dir)
    if not args.source or not args.reference:
        parser.error("give --source and at least one --reference, or --test-set")
    return load_files(args.source, args.reference)


def load_repairer(model: str, batch_size: int | None) -> RepairFunction:
    """The repair function of an mtfix ``Repairer``, with a progress bar on stderr."""
    from mtfix import Repairer  # imports torch: only when a model is asked for

    options = {} if batch_size is None else {"batch_size": batch_size}
    try:
        repairer = Repairer(model=None if model == "default" else model, **options)
    except (OSError, ValueError) as error:
        raise EvalInputError(f"cannot load the model {model!r}: {error}") from None

    def repair(texts: list[str]) -> list[str]:
        return repairer.repair_many(texts, progress=True)

    return repair


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.batch_size is not None and args.batch_size < 1:
        parser.error("--batch-size must be at least 1")
    if args.top < 0:
        parser.error("--top must not be negative")
    if args.output is not None and not args.output.parent.is_dir():
        parser.error(f"the folder of --output does not exist: {args.output.parent}")
    try:
        eval_set = load_eval_set(args, parser)
        if args.each_line:
            eval_set = dataclasses.replace(eval_set, documents=None)
        if args.hypothesis is not None:
            report = build_report(
                eval_set, hypotheses=read_lines(args.hypothesis), system_label=str(args.hypothesis), top=args.top
            )
        else:
            repair = load_repairer(args.model, args.batch_size)
            report = build_report(eval_set, repair=repair, system_label=f"model:{args.model}", top=args.top)
    except EvalInputError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    text = RENDERERS[args.format](report)
    try:
        write_output(text, None if args.output is None else str(args.output))
    except CommandError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 1
    if args.output is not None:
        print(f"{PROG}: wrote {args.output}", file=sys.stderr)
    return 0

"""The ``mtfix`` command line: ``mtfix repair``, ``mtfix check``, ``mtfix eval``."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from . import __version__

# Inputs longer than this many characters get a progress bar (when stderr is a terminal).
_PROGRESS_MIN_CHARS = 20_000


class CommandError(Exception):
    """An error reported to the user as one line, with a non-zero exit."""


def read_inputs(paths: list[str]) -> list[tuple[str, str]]:
    """(name, text) for each path; "-" (or no path) reads standard input."""
    inputs = []
    for path in paths or ["-"]:
        if path == "-":
            data, name = sys.stdin.buffer.read(), "<stdin>"
        else:
            try:
                data, name = Path(path).read_bytes(), path
            except OSError as error:
                raise CommandError(f"cannot read {path}: {error.strerror or error}") from error
        try:
            inputs.append((name, data.decode("utf-8")))
        except UnicodeDecodeError as error:
            raise CommandError(f"{name} is not UTF-8 text (byte {error.start}); convert it first, e.g. iconv -t UTF-8") from error
    return inputs


def write_output(text: str, path: str | None) -> None:
    """Write to ``path`` atomically (a half-written file is never left behind), or to stdout."""
    if path is None or path == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(target, text)


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder, so it is all or nothing."""
    folder = path.parent if str(path.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _workers(value: str) -> int:
    """A --workers value: a positive count, or "auto": one per usable core (at most 8) on Linux, where
    forking a process that holds numpy is routine, and one elsewhere."""
    if value == "auto":
        if not sys.platform.startswith("linux"):
            return 1
        return max(1, min(len(os.sched_getaffinity(0)), 8))
    try:
        count = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of processes or 'auto', got {value!r}") from None
    if count < 1:
        raise argparse.ArgumentTypeError(f"workers must be at least 1, got {count}")
    return count


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="*", metavar="FILE", help="input files; '-' or none reads stdin")
    parser.add_argument("-o", "--output", metavar="OUT", help="write here instead of stdout")
    parser.add_argument("--model", metavar="DIR", help="model directory (default: the bundled model)")
    parser.add_argument("--batch-size", type=int, default=32, metavar="N")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")
    parser.add_argument("--min-confidence", type=float, default=None, metavar="P",
                        help="do not apply edits the model is less sure of (0-1)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mtfix", description="Repair spun or garbled news text.")
    parser.add_argument("--version", action="version", version=f"mtfix {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    repair = commands.add_parser("repair", help="repair text (stdin to stdout by default)")
    _add_model_options(repair)
    shown = repair.add_mutually_exclusive_group()
    shown.add_argument("--diff", action="store_true", help="show word-level changes as [-old-]{+new+}")
    shown.add_argument("--json", action="store_true", help="emit one JSON object per input with its edits")
    repair.add_argument("--num-beams", type=int, default=1, metavar="N")
    repair.add_argument("--mode", default="auto", help="auto (the model's default path) or free")
    repair.add_argument("--backend", default="auto", choices=["auto", "ctranslate2", "torch"],
                        help="what runs the seq2seq model; auto: ctranslate2 when installed (mtfix[fast]), else torch")
    repair.add_argument("--workers", type=_workers, default="auto", metavar="N",
                        help="processes repairing batches side by side (lattice mode; an input of one batch stays in "
                             "this process); default auto: on Linux one per core this process may use, at most 8")

    check = commands.add_parser("check", help="list the spans that look spun, with suggestions")
    _add_model_options(check)
    check_shown = check.add_mutually_exclusive_group()
    check_shown.add_argument("--json", action="store_true", help="a JSON list of {start, end, text, suggestion, score, alternatives}")
    check_shown.add_argument("--html", action="store_true", help="one HTML page with the spans highlighted")
    check.add_argument("--min-score", type=float, default=None,
                       help="list spans scoring at least this (0-1; default 0.2: changes score >= 0.5, near misses less)")

    commands.add_parser("eval", help="score repairs against references (see `mtfix eval --help`)", add_help=False)
    return parser


def _make_repairer(args: argparse.Namespace, total_chars: int):
    from .repairer import Repairer

    options = {"model": args.model, "device": args.device, "batch_size": args.batch_size,
               "progress": sys.stderr.isatty() and total_chars >= _PROGRESS_MIN_CHARS}
    if args.min_confidence is not None:
        options["min_confidence"] = args.min_confidence
    for name in ("num_beams", "mode", "backend", "workers"):
        if hasattr(args, name):
            options[name] = getattr(args, name)
    return Repairer(**options)


def run_repair(args: argparse.Namespace) -> None:
    from .diff import render_diff

    inputs = read_inputs(args.files)
    repairer = _make_repairer(args, sum(len(text) for _, text in inputs))
    results = repairer.repair_many_with_edits([text for _, text in inputs])
    if args.json:
        lines = [json.dumps({"file": name, **result.to_dict()}, ensure_ascii=False) for (name, _), result in zip(inputs, results)]
        write_output("\n".join(lines) + "\n", args.output)
    elif args.diff:
        write_output("".join(render_diff(result.source, result.edits) for result in results), args.output)
    else:
        write_output("".join(result.text for result in results), args.output)


def run_check(args: argparse.Namespace) -> None:
    from .highlight import render_check_html

    inputs = read_inputs(args.files)
    if len(inputs) != 1:
        raise CommandError("mtfix check takes one input at a time")
    name, text = inputs[0]
    args.mode = "lattice"
    if args.min_score is not None and not 0 <= args.min_score <= 1:
        raise CommandError(f"--min-score must be between 0 and 1, got {args.min_score}")
    suspicions = _make_repairer(args, len(text)).check(text, min_score=args.min_score)
    if args.json:
        write_output(json.dumps([s.to_dict() for s in suspicions], ensure_ascii=False, indent=1) + "\n", args.output)
    elif args.html:
        write_output(render_check_html(text, suspicions, title=f"mtfix check: {name}"), args.output)
    else:
        lines = [f"{s.start}-{s.end}\t{s.text!r} -> {s.suggestion!r}\t{s.score:.2f}\t{', '.join(s.alternatives)}" for s in suspicions]
        write_output("".join(line + "\n" for line in lines), args.output)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["eval"]:
        from eval.cli import main as eval_main

        return eval_main(argv[1:])
    args = build_parser().parse_args(argv)
    from .model import ModelLoadError, ModelNotFoundError

    try:
        if args.command == "repair":
            run_repair(args)
        elif args.command == "check":
            run_check(args)
    except (CommandError, ModelNotFoundError, ModelLoadError, ValueError) as error:
        print(f"mtfix: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())

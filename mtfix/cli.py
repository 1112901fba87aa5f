"""The ``mtfix`` command line: ``mtfix repair``, ``mtfix check``, ``mtfix eval``, ``mtfix verify-model``.

Exit status: 0 on success, 1 on any error (one line on stderr, ``mtfix: error: ...``), 2 on a usage
error (argparse's), 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, TextIO

from . import __version__
from .passthrough import QUOTE_POLICIES

# `mtfix repair` reads, repairs and writes a stream in chunks of about this many bytes, cut at blank lines:
# about 650 news sentences, a few seconds of work, so output starts early and memory stays bounded.
CHUNK_BYTES = 100_000
# A stretch without a blank line (outside fenced code) is cut anyway once it is this long.
MAX_CHUNK_BYTES = 4 * CHUNK_BYTES
_READ_BYTES = 1 << 16

_BLANK_LINE = re.compile(rb"\n\r?\n")
_FENCE = re.compile(rb"^[ \t]*(?:```|~~~)", re.MULTILINE)
_SENTENCE_END_AT_LINE_END = re.compile(rb"[.!?][\"')\]\xe2\x80\x9d\xe2\x80\x99]*\r?\n")
_LINE_END = re.compile(rb"\n")
_SENTENCE_END = re.compile(rb"[.!?][\"')\]]*[ \t]+")


class CommandError(Exception):
    """An error reported to the user as one line, with a non-zero exit."""


# -- reading ---------------------------------------------------------------------------------------

def _decode(data: bytes, name: str, offset: int) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CommandError(f"{name} is not UTF-8 text (byte {offset + error.start}); "
                           "convert it first, e.g. iconv -t UTF-8") from error


def _open_input(path: str) -> tuple[str, BinaryIO]:
    """(name, binary stream) of a path; "-" is standard input."""
    if path == "-":
        if sys.stdin is None:
            raise CommandError("cannot read standard input: it is closed")
        return "<stdin>", sys.stdin.buffer
    try:
        return path, open(path, "rb")  # noqa: SIM115 - closed by the caller's ExitStack
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror or error}") from error


def read_inputs(paths: list[str]) -> list[tuple[str, str]]:
    """(name, text) for each path; "-" (or no path) reads standard input."""
    inputs = []
    for path in paths or ["-"]:
        name, stream = _open_input(path)
        try:
            data = stream.read()
        except OSError as error:
            raise CommandError(f"cannot read {name}: {error.strerror or error}") from error
        finally:
            if path != "-":
                stream.close()
        inputs.append((name, _decode(data, name, 0)))
    return inputs


def _outside_fence(buffer: bytes, position: int) -> bool:
    """Whether ``position`` lies outside fenced code (``` or ~~~), counting fences from the buffer's start
    (every chunk starts outside one)."""
    return len(_FENCE.findall(buffer, 0, position)) % 2 == 0


def _cut_point(buffer: bytes, at_eof: bool) -> int | None:
    """Where the next chunk ends in ``buffer``, or None to read more first.

    The first blank line past CHUNK_BYTES that is not inside fenced code: a sentence never spans a blank
    line, so each chunk segments and repairs exactly as it does inside the whole text. A stretch longer
    than MAX_CHUNK_BYTES without one is cut after the last line that ends a sentence, else after the
    last line break, else after the last sentence end inside a line (one long line).
    """
    for blank in _BLANK_LINE.finditer(buffer, max(0, CHUNK_BYTES - 2), MAX_CHUNK_BYTES):
        if _outside_fence(buffer, blank.start()):
            return blank.end()
    if at_eof and len(buffer) <= MAX_CHUNK_BYTES:
        return len(buffer) if buffer else None
    if len(buffer) <= MAX_CHUNK_BYTES:
        return None
    for pattern in (_SENTENCE_END_AT_LINE_END, _LINE_END, _SENTENCE_END):
        ends = [match.end() for match in pattern.finditer(buffer, 0, MAX_CHUNK_BYTES)]
        if ends:
            return ends[-1]
    cut = MAX_CHUNK_BYTES
    while cut > 0 and buffer[cut] & 0xC0 == 0x80:  # a UTF-8 continuation byte: not a character's start
        cut -= 1
    return cut or MAX_CHUNK_BYTES


def read_chunks(name: str, stream: BinaryIO) -> Iterator[str]:
    """The text of ``stream`` in chunks of about CHUNK_BYTES, cut at blank lines (see :func:`_cut_point`)."""
    buffer, offset = b"", 0
    read = getattr(stream, "read1", stream.read)  # what a pipe has now, not a full block: output keeps up with input
    while True:
        try:
            block = read(_READ_BYTES)
        except OSError as error:
            raise CommandError(f"cannot read {name}: {error.strerror or error}") from error
        buffer += block
        while (cut := _cut_point(buffer, at_eof=not block)) is not None:
            yield _decode(buffer[:cut], name, offset)
            buffer, offset = buffer[cut:], offset + cut
        if not block:
            return


# -- writing ---------------------------------------------------------------------------------------

def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def open_output(path: str | None) -> Iterator[TextIO]:
    """A text stream to write to: standard output, or for a path a temporary file in the same folder that
    replaces ``path`` only when the block ends without an error, so a half-written file is never left
    behind. The file gets the mode a new file gets under the umask (mkstemp's is 0600)."""
    if path is None or path == "-":
        if sys.stdout is None:
            raise CommandError("cannot write standard output: it is closed")
        yield sys.stdout
        return
    target = Path(path)
    if target.is_dir():
        raise CommandError(f"cannot write {path}: it is a directory")
    blocking = next((folder for folder in target.parents if folder.exists() and not folder.is_dir()), None)
    if blocking is not None:  # mkdir would only say "File exists"
        raise CommandError(f"cannot write {path}: {blocking} is a file, not a directory")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as error:
        raise CommandError(f"cannot write {path}: {error.strerror or error}") from error
    file = os.fdopen(handle, "w", encoding="utf-8", newline="")
    try:
        yield file
        try:
            file.close()
            os.chmod(temporary, 0o666 & ~_umask())
            os.replace(temporary, target)
        except OSError as error:
            raise CommandError(f"cannot write {path}: {error.strerror or error}") from error
    finally:
        with contextlib.suppress(OSError):
            file.close()
        Path(temporary).unlink(missing_ok=True)  # after the rename there is nothing left to remove


def _write(out: TextIO, text: str) -> None:
    """Write and flush, so the output appears as it goes."""
    try:
        out.write(text)
        out.flush()
    except BrokenPipeError:
        raise
    except OSError as error:
        if out is sys.stdout:
            _silence_stdout()
        where = "standard output" if out is sys.stdout else "the output file"
        raise CommandError(f"cannot write {where}: {error.strerror or error}") from error


def write_output(text: str, path: str | None) -> None:
    """Write ``text`` to ``path`` atomically (see :func:`open_output`), or to stdout."""
    with open_output(path) as out:
        _write(out, text)


# -- the parser ------------------------------------------------------------------------------------

def usable_cores(cgroup_cpu_max: str = "/sys/fs/cgroup/cpu.max") -> int:
    """The cores this process may use: those it may run on, capped by a container's CPU quota (cgroup v2),
    which the affinity mask does not show (a container limited to 2 cores of a 64-core host sees 64)."""
    cores = len(os.sched_getaffinity(0))
    try:
        quota, period = open(cgroup_cpu_max, encoding="ascii").read().split()
        if quota != "max":
            cores = min(cores, max(1, -(-int(quota) // int(period))))
    except (OSError, ValueError):  # no cgroup v2, or a file we do not understand: the affinity mask alone
        pass
    return cores


def _workers(value: str) -> int:
    """A --workers value: a positive count, or "auto": one per usable core (at most 8) on Linux, where
    forking a process that holds numpy is routine, and one elsewhere."""
    if value == "auto":
        if not sys.platform.startswith("linux"):
            return 1
        return max(1, min(usable_cores(), 8))
    try:
        count = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of processes or 'auto', got {value!r}") from None
    if count < 1:
        raise argparse.ArgumentTypeError(f"workers must be at least 1, got {count}")
    return count


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", metavar="OUT", help="write here instead of stdout")
    parser.add_argument("--model", metavar="DIR", help="model directory (default: the bundled model)")
    parser.add_argument("--batch-size", type=int, default=32, metavar="N")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")
    parser.add_argument("--min-confidence", type=float, default=None, metavar="P",
                        help="do not apply edits the model is less sure of (0-1)")
    add_policy_options(parser)


def add_policy_options(parser: argparse.ArgumentParser) -> None:
    """What a repair may touch besides spun prose: quotations and digits."""
    parser.add_argument("--quotes", choices=QUOTE_POLICIES, default="auto",
                        help="inside quotation marks: keep, repair, or auto (default: repair them only in "
                             "text that is evidently spun)")
    parser.add_argument("--number-words", action="store_true",
                        help="let a repair spell out digits where wire style wants a word (3 soldiers -> three)")


def policy_options(args: argparse.Namespace) -> dict:
    """The :class:`mtfix.Repairer` keywords of :func:`add_policy_options`."""
    return {"quotes": args.quotes, "restore_number_words": args.number_words}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mtfix", description="Repair spun or garbled news text.",
                                     epilog="Exit status: 0 ok, 1 error (one line on stderr), 2 usage error.")
    parser.add_argument("--version", action="version", version=f"mtfix {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    repair = commands.add_parser("repair", help="repair text (stdin to stdout by default)",
                                 description="Repair text, reading and writing in chunks of paragraphs as it goes.")
    repair.add_argument("files", nargs="*", metavar="FILE", help="input files; '-' or none reads stdin")
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
    bar = repair.add_mutually_exclusive_group()
    bar.add_argument("--progress", action="store_true", default=None,
                     help="show a progress bar in sentences on stderr (default: when stderr is a terminal)")
    bar.add_argument("--quiet", dest="progress", action="store_false", help="no progress bar")
    repair.set_defaults(progress=None)

    check = commands.add_parser("check", help="list the spans that look spun, with suggestions")
    check.add_argument("file", nargs="?", default="-", metavar="FILE", help="the input; '-' or none reads stdin")
    _add_model_options(check)
    check_shown = check.add_mutually_exclusive_group()
    check_shown.add_argument("--json", action="store_true", help="a JSON list of {start, end, text, suggestion, score, alternatives}")
    check_shown.add_argument("--html", action="store_true", help="one HTML page with the spans highlighted")
    check.add_argument("--min-score", type=float, default=None,
                       help="list spans scoring at least this (0-1; default 0.2: changes score >= 0.5, near misses less)")

    verify = commands.add_parser("verify-model", help="check a model directory against the manifest in its mtfix.json",
                                 description="Check every file of a model directory: present, of the size and "
                                             "SHA-256 its mtfix.json records. Exit status 1 names what is wrong.")
    verify.add_argument("model_dir", metavar="DIR", help="the model directory ('default': the bundled model)")
    verify.add_argument("--write", action="store_true",
                        help="record the files as they are now (after training or replacing files) instead of checking")

    commands.add_parser("eval", help="score repairs against references (see `mtfix eval --help`)", add_help=False)
    from .dataset_cli import add_parser as add_dataset_parser

    add_dataset_parser(commands, _workers)
    return parser


# -- the commands ----------------------------------------------------------------------------------

def _make_repairer(args: argparse.Namespace):
    from .repairer import Repairer

    options = {"model": args.model, "device": args.device, "batch_size": args.batch_size, **policy_options(args)}
    if args.min_confidence is not None:
        options["min_confidence"] = args.min_confidence
    for name in ("num_beams", "mode", "backend", "workers"):
        if hasattr(args, name):
            options[name] = getattr(args, name)
    return Repairer(**options)


def run_repair(args: argparse.Namespace) -> None:
    """Each input is read, repaired and written chunk by chunk; with --json, one object per input is
    written when its last chunk is done, with offsets into the whole input."""
    from tqdm import tqdm

    from .diff import render_diff

    with contextlib.ExitStack() as stack:
        inputs = [_open_input(path) for path in args.files or ["-"]]
        for path, (_, stream) in zip(args.files, inputs):
            if path != "-":
                stack.callback(stream.close)
        out = stack.enter_context(open_output(args.output))
        repairer = stack.enter_context(_make_repairer(args).keep_workers())
        shown = sys.stderr is not None and sys.stderr.isatty() if args.progress is None else args.progress
        bar = stack.enter_context(tqdm(desc="repairing", unit=" sentences", disable=not shown, file=sys.stderr))
        for name, stream in inputs:
            source, text, edits, offset = [], [], [], 0
            for chunk in read_chunks(name, stream):
                result = repairer.repair_many_with_edits([chunk], progress=bar.update)[0]
                if args.json:
                    source.append(chunk)
                    text.append(result.text)
                    edits.extend(edit.shifted(offset).to_dict() for edit in result.edits)
                    offset += len(chunk)
                else:
                    _write(out, render_diff(chunk, result.edits) if args.diff else result.text)
            if args.json:
                record = {"file": name, "source": "".join(source), "text": "".join(text), "edits": edits}
                _write(out, json.dumps(record, ensure_ascii=False) + "\n")


def run_check(args: argparse.Namespace) -> None:
    from .highlight import render_check_html

    [(name, text)] = read_inputs([args.file])
    args.mode = "lattice"
    if args.min_score is not None and not 0 <= args.min_score <= 1:
        raise CommandError(f"--min-score must be between 0 and 1, got {args.min_score}")
    with open_output(args.output) as out:
        suspicions = _make_repairer(args).check(text, min_score=args.min_score)
        if args.json:
            _write(out, json.dumps([s.to_dict() for s in suspicions], ensure_ascii=False, indent=1) + "\n")
        elif args.html:
            _write(out, render_check_html(text, suspicions, title=f"mtfix check: {name}"))
        else:
            lines = [f"{s.start}-{s.end}\t{s.text!r} -> {s.suggestion!r}\t{s.score:.2f}\t{', '.join(s.alternatives)}" for s in suspicions]
            _write(out, "".join(line + "\n" for line in lines))


def run_verify_model(args: argparse.Namespace) -> None:
    from .model import DEFAULT_MODEL_DIR, check_model_dir, verify_model, write_manifest

    path = check_model_dir(DEFAULT_MODEL_DIR if args.model_dir == "default" else args.model_dir)
    if args.write:
        manifest = write_manifest(path)
        print(f"{path}: recorded {len(manifest)} files in mtfix.json")
        return
    checked, problems = verify_model(path)
    if problems:
        raise CommandError(f"{path} fails verification: {'; '.join(problems)}")
    print(f"{path}: {checked} files verified (sizes and SHA-256)")


def _silence_stdout() -> None:
    """After stdout failed (a closed pipe, a full disk), point it at /dev/null so that the interpreter's
    last flush at exit cannot print a second error."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):  # no stdout, or one without a descriptor (a test's capture)
        pass


class _Terminated(BaseException):  # like KeyboardInterrupt: no `except Exception` swallows it
    """SIGTERM, raised where the program is, so that a half-written output file is removed as on Ctrl-C."""


def _raise_terminated(signum, frame) -> None:
    raise _Terminated


def _forked_children_die_on_sigterm() -> None:
    """A forked child (a worker of ours or of ``datasets.map``) takes the default action on SIGTERM, not
    this handler: its pool sends SIGTERM to close it, and a Python handler in a child whose main thread
    waits on a lock may never run (see :func:`mtfix.repairer._start_worker`)."""
    if signal.getsignal(signal.SIGTERM) is _raise_terminated:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forked_children_die_on_sigterm)


def main(argv: list[str] | None = None) -> int:
    on_main_thread = threading.current_thread() is threading.main_thread()  # only it may set handlers
    previous = signal.signal(signal.SIGTERM, _raise_terminated) if on_main_thread else None
    try:
        return _main(argv)
    except _Terminated:
        return 128 + signal.SIGTERM
    finally:
        if on_main_thread:
            signal.signal(signal.SIGTERM, previous)


def _main(argv: list[str] | None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["eval"]:
        from .evaluation.cli import main as eval_main

        return eval_main(argv[1:])
    args = build_parser().parse_args(argv)
    # transformers draws a bar while it loads weights: noise on stderr, which is kept for errors and progress
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    from .model import ModelLoadError, ModelNotFoundError

    try:
        if args.command == "repair":
            run_repair(args)
        elif args.command == "check":
            run_check(args)
        elif args.command == "verify-model":
            run_verify_model(args)
        elif args.command == "repair-dataset":
            from .dataset_cli import run as run_repair_dataset

            run_repair_dataset(args)
    except (CommandError, ModelNotFoundError, ModelLoadError, ValueError) as error:
        print(f"mtfix: error: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `mtfix repair big.txt | head`: the reader has what it wanted
        _silence_stdout()
        return 0
    except OSError as error:  # anything else the system refused: one line, not a traceback
        where = f"{error.filename}: " if error.filename else ""
        print(f"mtfix: error: {where}{error.strerror or error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

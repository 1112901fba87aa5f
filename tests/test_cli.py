"""The mtfix command line, run as a real subprocess where it matters."""

import json
import subprocess
import sys

import pytest

import mtfix
import mtfix.diff
from mtfix.cli import main
from mtfix.result import apply_edits
from mtfix.text import with_apostrophe

from conftest import SEED_SPUN


def run(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "mtfix", *args], input=stdin, capture_output=True, text=True, timeout=300)


def test_version():
    result = run("--version")
    assert result.returncode == 0 and mtfix.__version__ in result.stdout


def test_stdin_to_stdout_keeps_paragraphs(tiny_model_dir):
    text = SEED_SPUN.read_text(encoding="utf-8")
    result = run("repair", "-", "--model", str(tiny_model_dir), stdin=text)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n\n")[0].startswith("ANKARA (AFP)")
    assert [len(p) > 0 for p in result.stdout.split("\n")] == [len(p) > 0 for p in text.split("\n")]


def test_files_output_json_and_diff(tiny_model_dir, tmp_path, capsys):
    source = tmp_path / "in.txt"
    source.write_text("The minister stated the talks had failed.\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["repair", str(source), "--model", str(tiny_model_dir), "--json", "-o", str(out)]) == 0
    record = json.loads(out.read_text(encoding="utf-8"))
    assert record["file"] == str(source) and "edits" in record and record["source"].startswith("The minister")
    assert main(["repair", str(source), "--model", str(tiny_model_dir), "--diff"]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith("The minister")


def test_unreadable_file_is_a_one_line_error(tmp_path):
    result = run("repair", str(tmp_path / "missing.txt"))
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0 and "missing.txt" in result.stderr


def test_non_utf8_file_is_a_one_line_error(tmp_path, tiny_model_dir):
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("caf\xe9 au lait".encode("latin-1"))
    result = run("repair", str(bad), "--model", str(tiny_model_dir))
    assert result.returncode != 0 and "UTF-8" in result.stderr and result.stderr.strip().count("\n") == 0


def test_missing_model_is_a_one_line_error(tmp_path):
    result = run("repair", "-", "--model", str(tmp_path / "nomodel"), stdin="text")
    assert result.returncode != 0 and "nomodel" in result.stderr


def test_workers_option_takes_a_count_or_auto():
    import os

    from mtfix.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["repair", "--workers", "3"]).workers == 3
    auto = parser.parse_args(["repair"]).workers
    assert 1 <= auto <= 8 and auto <= (os.cpu_count() or 1)
    for wrong in ("0", "many"):
        with pytest.raises(SystemExit):
            parser.parse_args(["repair", "--workers", wrong])


@pytest.mark.skipif(not hasattr(__import__("os"), "sched_getaffinity"), reason="needs os.sched_getaffinity")
@pytest.mark.parametrize("cpu_max, expected", [("max 100000", None), ("200000 100000", 2), ("150000 100000", 2),
                                               ("50000 100000", 1), ("junk", None)])
def test_usable_cores_follow_a_containers_cpu_quota(tmp_path, cpu_max, expected):
    import os

    from mtfix.cli import usable_cores

    affinity = len(os.sched_getaffinity(0))
    (tmp_path / "cpu.max").write_text(cpu_max + "\n", encoding="ascii")
    assert usable_cores(str(tmp_path / "cpu.max")) == (affinity if expected is None else min(affinity, expected))
    assert usable_cores(str(tmp_path / "missing")) == affinity


# ---------------------------------------------------------------------------------------------
# Streaming: `mtfix repair` works in chunks of paragraphs and writes the same text as a whole-file run

DATA = SEED_SPUN.parent.parent / "tests" / "data"


def multi_paragraph_text() -> str:
    """The seed article, then test sentences in paragraphs of three, some hard-wrapped, some with
    Windows line ends, and fenced code holding a blank line (never a place to cut)."""
    rows = [json.loads(line)["source"] for line in (DATA / "synthetic_test_sample.jsonl").read_text(encoding="utf-8").splitlines()]
    paragraphs = [" ".join(rows[i:i + 3]) for i in range(0, 120, 3)]
    paragraphs[5] = paragraphs[5].replace(" the ", "\nthe ", 2)
    paragraphs[9] = paragraphs[9].replace(". ", ".\r\n") + "\r\n"
    paragraphs.insert(12, "```\nthe navy help\n\nreturn 0; // the navy help\n```")
    return SEED_SPUN.read_text(encoding="utf-8") + "\n" + "\n\n".join(paragraphs) + "\n"


@pytest.fixture(scope="module")
def bundled_repairer():
    from mtfix import Repairer

    return Repairer(device="cpu")


@pytest.mark.parametrize("workers", ["1", "2"])
def test_streamed_repair_equals_the_whole_file_repair(bundled_repairer, tmp_path, monkeypatch, capsys, workers):
    import mtfix.cli

    monkeypatch.setattr(mtfix.cli, "CHUNK_BYTES", 1_000)
    monkeypatch.setattr(mtfix.cli, "MAX_CHUNK_BYTES", 4_000)
    chunks_read = []
    read_chunks = mtfix.cli.read_chunks
    monkeypatch.setattr(mtfix.cli, "read_chunks", lambda *a: (chunks_read.append(c) or c for c in read_chunks(*a)))
    for text in (SEED_SPUN.read_text(encoding="utf-8"), multi_paragraph_text()):
        source = tmp_path / "in.txt"
        source.write_bytes(text.encode("utf-8"))
        whole = bundled_repairer.repair_with_edits(text)
        chunks_read.clear()
        assert main(["repair", str(source), "--device", "cpu", "--workers", workers, "--quiet"]) == 0
        streamed = capsys.readouterr().out
        assert len(chunks_read) > 2 and "".join(chunks_read) == text
        assert not any(chunk.count("```") % 2 for chunk in chunks_read)  # never cut inside fenced code
        # A chunk is repaired as it is inside the whole text, but for one thing decided per text repaired: the
        # style of the apostrophes a repair restores (the chunks here are tiny, of mixed typography).
        offsets = [sum(map(len, chunks_read[:k])) for k in range(len(chunks_read))]
        edits = [edit.shifted(offset) for chunk, offset in zip(chunks_read, offsets)
                 for edit in bundled_repairer.repair_with_edits(chunk).edits]
        assert [(e.start, e.end, with_apostrophe(e.after, "'")) for e in edits] == \
            [(e.start, e.end, with_apostrophe(e.after, "'")) for e in whole.edits]
        whole = mtfix.Repair(text, apply_edits(text, edits), edits)
        assert streamed == whole.text
        out = tmp_path / "out.jsonl"
        assert main(["repair", str(source), str(source), "--device", "cpu", "--workers", workers, "--json", "-o", str(out)]) == 0
        records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert len(records) == 2  # one object per input file, its edits' offsets into the whole input
        assert records[0]["source"] == text and records[0]["text"] == whole.text
        # the same edits; a score may differ in the last digits, as batches hold other sentences
        assert records[0]["edits"] == [{**edit.to_dict(), "score": pytest.approx(edit.score, abs=1e-9)} for edit in whole.edits]
        assert main(["repair", str(source), "--device", "cpu", "--workers", workers, "--diff"]) == 0
        assert capsys.readouterr().out == mtfix.diff.render_diff(text, whole.edits)


def test_chunks_are_cut_at_blank_lines_and_bounded_without_them(monkeypatch):
    import io

    import mtfix.cli

    monkeypatch.setattr(mtfix.cli, "CHUNK_BYTES", 100)
    monkeypatch.setattr(mtfix.cli, "MAX_CHUNK_BYTES", 400)
    paragraphs = "\n\n".join(f"Paragraph {i} has a sentence. And a second one in it." for i in range(40)) + "\n"
    chunks = list(mtfix.cli.read_chunks("x", io.BytesIO(paragraphs.encode())))
    assert "".join(chunks) == paragraphs and len(chunks) > 5
    assert all(chunk.endswith("\n\n") for chunk in chunks[:-1])
    one_line = "Ünïcode sentence number one is here. " * 200  # no line break at all
    chunks = list(mtfix.cli.read_chunks("x", io.BytesIO(one_line.encode())))
    assert "".join(chunks) == one_line and max(len(c.encode()) for c in chunks) <= 400
    assert all(chunk.endswith(". ") for chunk in chunks)
    wrapped = "".join(f"a hard-wrapped line {i} without an end\n" for i in range(100))
    chunks = list(mtfix.cli.read_chunks("x", io.BytesIO(wrapped.encode())))
    assert "".join(chunks) == wrapped and all(chunk.endswith("\n") for chunk in chunks) and len(chunks) > 1


def test_progress_bar_counts_sentences_when_forced(tiny_model_dir, tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("The minister stated the talks had failed.\n\nHe said so. She did too.\n", encoding="utf-8")
    forced = run("repair", str(source), "--model", str(tiny_model_dir), "--progress")
    assert forced.returncode == 0 and "3 sentences" in forced.stderr
    quiet = run("repair", str(source), "--model", str(tiny_model_dir), "--quiet")
    assert quiet.returncode == 0 and "sentences" not in quiet.stderr and quiet.stdout == forced.stdout
    assert run("repair", "--progress", "--quiet").returncode == 2


def test_output_file_gets_the_umask_mode(tiny_model_dir, tmp_path):
    import os

    source = tmp_path / "in.txt"
    source.write_text("The minister stated the talks had failed.\n", encoding="utf-8")
    old = os.umask(0o022)
    try:
        assert main(["repair", str(source), "--model", str(tiny_model_dir), "-o", str(tmp_path / "out.txt")]) == 0
    finally:
        os.umask(old)
    assert (tmp_path / "out.txt").stat().st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["in.txt", "out.txt"] or sorted(p.name for p in tmp_path.iterdir()) == ["in.txt", "out.txt"]


def test_check_takes_one_file():
    from mtfix.cli import build_parser

    help_text = build_parser()._subparsers._group_actions[0].choices["check"].format_usage()
    assert "[FILE]" in help_text and "FILE ..." not in help_text
    assert run("check", "a.txt", "b.txt").returncode == 2


def test_quote_and_number_policies_reach_the_repairer(tmp_path, capsys):
    text = 'Russia released a navy intervention in help of Assad, "a navy intervention in help of Assad", with 3 jets.\n'
    source = tmp_path / "in.txt"
    source.write_text(text, encoding="utf-8")
    assert main(["repair", str(source), "--device", "cpu", "--quotes", "keep", "--quiet"]) == 0
    kept = capsys.readouterr().out
    assert '"a navy intervention in help of Assad"' in kept and "military" in kept and "3 jets" in kept
    assert main(["repair", str(source), "--device", "cpu", "--quotes", "repair", "--quiet"]) == 0
    assert '"a military intervention in support of Assad"' in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit:
        main(["repair", str(source), "--quotes", "sometimes"])
    assert exit.value.code == 2


def _sigterm_is_default() -> bool:
    import signal

    return signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


@pytest.mark.skipif(not hasattr(__import__("os"), "register_at_fork"), reason="needs os.register_at_fork")
def test_forked_children_of_the_command_do_not_inherit_its_sigterm_handler():
    """Pools that are not ours (``datasets.map(num_proc=...)``) close their workers with SIGTERM too."""
    import multiprocessing
    import signal

    import mtfix.cli

    previous = signal.signal(signal.SIGTERM, mtfix.cli._raise_terminated)
    try:
        with multiprocessing.get_context("fork").Pool(1) as pool:
            assert pool.apply(_sigterm_is_default)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert signal.getsignal(signal.SIGTERM) is previous


def test_a_terminated_repair_leaves_no_file_and_no_traceback(tmp_path):
    import signal
    import time

    source = tmp_path / "big.txt"
    source.write_text("\n\n".join([SEED_SPUN.read_text(encoding="utf-8")] * 200), encoding="utf-8")
    target = tmp_path / "out.txt"
    process = subprocess.Popen([sys.executable, "-m", "mtfix", "repair", str(source), "-o", str(target), "--quiet",
                                "--workers", "2"], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".out.txt.*.tmp")) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert process.poll() is None, "the repair ended before it could be stopped"
    time.sleep(1)  # into the repair, workers started
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM
    assert "Traceback" not in stderr, stderr
    assert not target.exists() and not list(tmp_path.glob(".out.txt.*"))  # the temporary file is gone too

"""The mtfix command line, run as a real subprocess where it matters."""

import json
import subprocess
import sys

import pytest

import mtfix
from mtfix.cli import main

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

"""Every bad setting and every I/O failure of the command line is one line on stderr,
``mtfix: error: ...``, with exit status 1 (2 for usage errors), and never a traceback."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from mtfix import DEFAULT_MODEL_DIR, ModelLoadError, Repairer
from mtfix.cli import main

from conftest import SEED_SPUN

TEXT = "The minister stated the talks had failed.\n"


def run(*args, stdin=TEXT, shell_redirect=""):
    """``python -m mtfix ARGS`` with ``shell_redirect`` (e.g. ``0<&-``, ``>/dev/full``) applied by a shell."""
    command = " ".join(["exec", sys.executable, "-m", "mtfix", *(f"'{a}'" for a in args), shell_redirect])
    return subprocess.run(["sh", "-c", command], input=stdin, capture_output=True, text=True, timeout=300)


def assert_one_line_error(result, *words, status=1):
    assert result.returncode == status, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mtfix: error: "), result.stderr
    for word in words:
        assert word in lines[0]


def model_copy(tmp_path, **changed_files):
    """The bundled model in tmp_path/model: links to its files, except those given (name -> bytes)."""
    copy = tmp_path / "model"
    for file in DEFAULT_MODEL_DIR.rglob("*"):
        target = copy / file.relative_to(DEFAULT_MODEL_DIR)
        if file.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            name = file.relative_to(DEFAULT_MODEL_DIR).as_posix()
            if name in changed_files:
                target.write_bytes(changed_files[name])
            elif name == "mtfix.json":
                shutil.copy(file, target)
            else:
                target.symlink_to(file)
    return copy


# -- input and output ------------------------------------------------------------------------------

def test_closed_stdin():
    assert_one_line_error(run("repair", "--quiet", stdin=None, shell_redirect="0<&-"), "standard input", "closed")


def test_closed_stdout():
    assert_one_line_error(run("repair", "--quiet", str(SEED_SPUN), shell_redirect=">&-"), "standard output", "closed")


def test_stdout_on_a_full_device():
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    result = run("repair", "--quiet", str(SEED_SPUN), shell_redirect=">/dev/full")
    assert_one_line_error(result, "standard output", "No space left")


def test_output_into_a_path_whose_parent_is_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    assert_one_line_error(run("repair", "-o", str(tmp_path / "file" / "out.txt")), "out.txt", "not a directory")


def test_output_is_a_directory(tmp_path, capsys):
    assert main(["repair", "-o", str(tmp_path)]) == 1
    assert capsys.readouterr().err.strip() == f"mtfix: error: cannot write {tmp_path}: it is a directory"
    assert main(["check", "-o", str(tmp_path)]) == 1  # every subcommand that writes


def test_output_into_an_unwritable_place(tmp_path):
    target = "/sys/mtfix-out.txt"  # refused even to root, unlike a chmod-ed folder
    if os.access("/sys", os.W_OK) and os.geteuid() != 0:
        pytest.skip("/sys is writable here")
    assert_one_line_error(run("repair", "-o", target), "mtfix-out.txt")
    assert not os.path.exists(target)


def test_verify_model_of_a_missing_directory(tmp_path):
    assert_one_line_error(run("verify-model", str(tmp_path / "none")), "none")


def test_usage_errors_are_status_2():
    result = run("repair", "--batch-size", "many")
    assert result.returncode == 2 and "Traceback" not in result.stderr


# -- the model directory ---------------------------------------------------------------------------

def test_truncated_model_file_is_a_load_error_and_verify_model_names_it(tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(DEFAULT_MODEL_DIR, copy, ignore=shutil.ignore_patterns("ct2-*"))
    assert main(["verify-model", str(copy)]) == 0
    vectors = copy / "vectors.safetensors"
    vectors.write_bytes(vectors.read_bytes()[:100_000])
    with pytest.raises(ModelLoadError, match="vectors.safetensors"):
        Repairer(copy, device="cpu")
    assert_one_line_error(run("repair", "--model", str(copy)), "vectors.safetensors", "truncated")
    assert_one_line_error(run("verify-model", str(copy)), "vectors.safetensors")


@pytest.mark.parametrize("name", ["model.safetensors", "config.json"])
def test_truncated_seq2seq_file(tmp_path, name):
    copy = model_copy(tmp_path, **{name: (DEFAULT_MODEL_DIR / name).read_bytes()[:200]})
    assert_one_line_error(run("repair", "--mode", "free", "--model", str(copy)), name)
    assert_one_line_error(run("verify-model", str(copy)), name)


def test_changed_file_of_the_same_size_fails_only_the_full_verification(tmp_path, capsys):
    config = (DEFAULT_MODEL_DIR / "config.json").read_bytes()
    copy = model_copy(tmp_path, **{"config.json": config.replace(b"{", b" ", 1)[:-1] + b"}"})
    assert main(["verify-model", str(copy)]) == 1
    assert "config.json" in capsys.readouterr().err


def test_verify_model_write_records_a_rebuilt_file(tmp_path, capsys):
    copy = model_copy(tmp_path, **{"detector/originals.txt": b"navy\n"})
    assert main(["verify-model", str(copy)]) == 1
    settings = json.loads((copy / "mtfix.json").read_text(encoding="utf-8"))
    assert main(["verify-model", "--write", str(copy)]) == 0
    rewritten = json.loads((copy / "mtfix.json").read_text(encoding="utf-8"))
    assert {k: v for k, v in rewritten.items() if k != "files"} == {k: v for k, v in settings.items() if k != "files"}
    assert rewritten["files"]["detector/originals.txt"]["size"] == 5
    assert main(["verify-model", str(copy)]) == 0


@pytest.mark.parametrize("settings, words", [
    ("null", ["JSON object"]),
    ("[]", ["JSON object"]),
    ('{"lattice": {"beam_size": "eight"}}', ["beam_size", "whole number"]),
    ('{"lattice": {"beam_size": 8.5}}', ["beam_size"]),
    ('{"channel_rates": {"synonym": null}}', ["synonym"]),
    ('{"lattice": []}', ["lattice"]),
    ('{"max_source_length": 0}', ["max_source_length"]),
    ("{not json", ["not valid JSON"]),
    ('{"files": {"lm.safetensors": {"size": "big"}}}', ["'files'", "size and sha256"]),
])
def test_bad_settings(tmp_path, settings, words):
    copy = model_copy(tmp_path, **{"mtfix.json": settings.encode()})
    assert_one_line_error(run("repair", "--model", str(copy)), "mtfix.json", *words)
    assert_one_line_error(run("check", "--model", str(copy)), "mtfix.json")


def test_eval_report_to_a_full_device_or_a_directory(tmp_path):
    reference = SEED_SPUN.parent / "idlib_ceasefire_reference.txt"
    args = ["eval", "--test-set", "seed", "--hypothesis", str(reference)]
    if os.path.exists("/dev/full"):
        result = run(*args, shell_redirect=">/dev/full")
        assert result.returncode == 1 and result.stderr.strip() == "mtfix eval: error: cannot write standard output: No space left on device"
    assert main([*args, "-o", str(tmp_path)]) == 1

"""chrF++ equals what the sacrebleu command line prints (``-m chrf --chrf-word-order 2``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mtfix.evaluation.inputs import load_files
from mtfix.evaluation.metrics import ChrF

REPO = Path(__file__).resolve().parent.parent
SPUN = REPO / "seeds" / "idlib_ceasefire_spun.txt"
REFERENCE = REPO / "seeds" / "idlib_ceasefire_reference.txt"
SACREBLEU = str(Path(sys.executable).parent / "sacrebleu")


def sacrebleu_cli(hypothesis: Path, reference: Path) -> dict:
    command = [
        SACREBLEU, str(reference), "-i", str(hypothesis),
        "-m", "chrf", "--chrf-word-order", "2", "-w", "6", "-f", "json",
    ]
    return json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)


def ours(hypothesis: Path, reference: Path) -> float:
    eval_set = load_files(hypothesis, [reference])
    lines = eval_set.scored_lines
    hypotheses = [eval_set.sources[i] for i in lines]
    return ChrF().compute(hypotheses, hypotheses, [[eval_set.references[0][i] for i in lines]])


def test_chrf_of_the_spun_seed_equals_the_cli():
    expected = sacrebleu_cli(SPUN, REFERENCE)
    result = ours(SPUN, REFERENCE)
    assert result.score == pytest.approx(expected["score"], abs=1e-6)
    assert result.signature == expected["signature"]
    assert "nw:2" in result.signature  # chrF++, not plain chrF


def test_chrf_of_a_partly_repaired_text_equals_the_cli(tmp_path):
    spun = SPUN.read_text(encoding="utf-8").split("\n")
    reference = REFERENCE.read_text(encoding="utf-8").split("\n")
    partly = [ref if number % 3 == 0 else src for number, (src, ref) in enumerate(zip(spun, reference))]
    hypothesis = tmp_path / "partly.txt"
    hypothesis.write_text("\n".join(partly), encoding="utf-8")
    expected = sacrebleu_cli(hypothesis, REFERENCE)
    result = ours(hypothesis, REFERENCE)
    assert result.score == pytest.approx(expected["score"], abs=1e-6)
    assert result.score > ours(SPUN, REFERENCE).score


def test_a_perfect_repair_scores_100():
    result = ours(REFERENCE, REFERENCE)
    assert result.score == pytest.approx(100.0)

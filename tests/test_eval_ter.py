"""TER equals what the sacrebleu command line prints; lower is better."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mtfix.evaluation.inputs import load_files
from mtfix.evaluation.metrics import TER

REPO = Path(__file__).resolve().parent.parent
SPUN = REPO / "seeds" / "idlib_ceasefire_spun.txt"
REFERENCE = REPO / "seeds" / "idlib_ceasefire_reference.txt"
SACREBLEU = str(Path(sys.executable).parent / "sacrebleu")


def sacrebleu_cli(hypothesis: Path, reference: Path) -> dict:
    command = [SACREBLEU, str(reference), "-i", str(hypothesis), "-m", "ter", "-w", "6", "-f", "json"]
    return json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)


def ours(hypothesis: Path, reference: Path):
    eval_set = load_files(hypothesis, [reference])
    lines = eval_set.scored_lines
    hypotheses = [eval_set.sources[i] for i in lines]
    return TER().compute(hypotheses, hypotheses, [[eval_set.references[0][i] for i in lines]])


def test_ter_of_the_spun_seed_equals_the_cli():
    expected = sacrebleu_cli(SPUN, REFERENCE)
    result = ours(SPUN, REFERENCE)
    assert result.score == pytest.approx(expected["score"], abs=1e-6)
    assert result.signature == expected["signature"]
    assert result.higher_is_better is False


def test_ter_of_a_hand_made_pair_equals_the_cli_and_hand_count(tmp_path):
    # One substitution in a 5-word reference: TER = 1 / 5 = 20.
    (tmp_path / "hyp.txt").write_text("rocket fire and air moves\n", encoding="utf-8")
    (tmp_path / "ref.txt").write_text("rocket fire and air strikes\n", encoding="utf-8")
    expected = sacrebleu_cli(tmp_path / "hyp.txt", tmp_path / "ref.txt")
    result = ours(tmp_path / "hyp.txt", tmp_path / "ref.txt")
    assert result.score == pytest.approx(expected["score"], abs=1e-6)
    assert result.score == pytest.approx(20.0)

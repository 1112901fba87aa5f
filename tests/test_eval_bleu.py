"""BLEU equals what the sacrebleu command line prints for the same files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mtfix.evaluation.inputs import load_files
from mtfix.evaluation.metrics import BLEU

REPO = Path(__file__).resolve().parent.parent
SPUN = REPO / "seeds" / "idlib_ceasefire_spun.txt"
REFERENCE = REPO / "seeds" / "idlib_ceasefire_reference.txt"
SACREBLEU = str(Path(sys.executable).parent / "sacrebleu")


def sacrebleu_cli(hypothesis: Path, references: list[Path]) -> dict:
    """The JSON that ``sacrebleu REF... -i HYP -m bleu`` prints, at six decimals."""
    command = [SACREBLEU, *map(str, references), "-i", str(hypothesis), "-m", "bleu", "-w", "6", "-f", "json"]
    return json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)


def ours(hypothesis: Path, references: list[Path]):
    """Our BLEU on the same files, read the way ``mtfix eval`` reads them (blank lines skipped)."""
    eval_set = load_files(hypothesis, references)
    lines = eval_set.scored_lines
    hypotheses = [eval_set.sources[i] for i in lines]
    streams = [[stream[i] for i in lines] for stream in eval_set.references]
    metric = BLEU()
    return metric.compute(hypotheses, hypotheses, streams), metric


def test_bleu_of_the_spun_seed_equals_the_cli():
    expected = sacrebleu_cli(SPUN, [REFERENCE])
    result, metric = ours(SPUN, [REFERENCE])
    assert result.score == pytest.approx(expected["score"], abs=1e-6)
    assert result.signature == expected["signature"] == metric.signature()
    assert 40 < result.score < 80  # the spun article is far from, but related to, its reference


def test_bleu_with_two_references_equals_the_cli(tmp_path):
    # A second reference that words three sentences differently: nrefs becomes 2 and the score changes.
    second = REFERENCE.read_text(encoding="utf-8").replace(" said ", " stated ").replace("attacks", "assaults")
    second_path = tmp_path / "reference2.txt"
    second_path.write_text(second, encoding="utf-8")
    expected = sacrebleu_cli(SPUN, [REFERENCE, second_path])
    result, _ = ours(SPUN, [REFERENCE, second_path])
    single, _ = ours(SPUN, [REFERENCE])
    assert result.score == pytest.approx(expected["score"], abs=1e-6)
    assert result.signature == expected["signature"]
    assert "nrefs:2" in result.signature
    assert result.score > single.score


def test_signature_needs_a_computed_score():
    with pytest.raises(ValueError):
        BLEU().signature()

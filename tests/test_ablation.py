"""The ablation table (mtfix/evaluation/ablation.py, also `python -m eval.ablation`) on the seed article with the bundled model."""

from __future__ import annotations

import re

from mtfix.evaluation.ablation import main


def test_ablation_table_has_every_system_and_the_lattice_beats_identity(tmp_path):
    out = tmp_path / "ablation.md"
    table = main(["--pairs", str(tmp_path / "no-pairs"), "-o", str(out)])
    assert out.read_text(encoding="utf-8") == table
    rows = {line.split("|")[1].strip(): line for line in table.splitlines()[2:]}
    assert list(rows) == ["identity", "free seq2seq", "lattice: channel + LM", "lattice: channel + LM + context vectors",
                          "lattice: + spin detector", "lattice: + its original-word head"]
    bleu = {name: float(re.search(r"BLEU ([\d.]+)", row).group(1)) for name, row in rows.items()}
    assert bleu["lattice: + its original-word head"] >= bleu["identity"] + 15
    assert re.search(r"\| \d+ \|$", rows["lattice: channel + LM"])  # sentences per second

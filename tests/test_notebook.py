"""The quickstart notebook: its stored outputs are the bundled model's (refresh them with
`python notebooks/execute.py`, which runs it in place), show no local path, and it still runs."""

import importlib.util
import json
import re
from pathlib import Path

import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOK = NOTEBOOK_DIR / "quickstart.ipynb"


def executor():
    spec = importlib.util.spec_from_file_location("notebook_execute", NOTEBOOK_DIR / "execute.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stored_text() -> str:
    notebook = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    outputs = [o for cell in notebook["cells"] if cell["cell_type"] == "code" for o in cell.get("outputs", [])]
    return "".join("".join(o.get("text", "")) for o in outputs)


def test_stored_outputs_match_the_bundled_model():
    from mtfix import Repairer
    from mtfix.evaluation.inputs import load_seed, split_lines
    from mtfix.evaluation.report import build_report

    spun = (NOTEBOOK_DIR.parent / "seeds" / "idlib_ceasefire_spun.txt").read_text(encoding="utf-8")
    repairer = Repairer(device="cpu")
    result = repairer.repair_with_edits(spun)  # what the notebook's cells do
    report = build_report(load_seed(), hypotheses=split_lines(result.text), repair=repairer.repair_many, system_label="mtfix")
    bleu = next(row for row in report.corpus if row.name == "BLEU")
    text = stored_text()
    assert re.search(r"\n(\d+) edits", text).group(1) == str(len(result.edits)), "run: python notebooks/execute.py"
    stored_bleu = re.search(r"\| BLEU ↑ \| ([\d.]+) \| ([\d.]+) \|", text)
    assert stored_bleu.groups() == (f"{bleu.identity:.1f}", f"{bleu.system:.1f}"), "run: python notebooks/execute.py"
    assert result.text[:600] in text


def test_stored_outputs_show_no_local_path():
    notebook = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    assert executor().local_paths(type("Notebook", (), {"cells": notebook["cells"]})) == []
    assert "/site-packages/" not in NOTEBOOK.read_text(encoding="utf-8")


@pytest.mark.slow
def test_quickstart_notebook_runs_and_shows_the_repair():
    pytest.importorskip("nbclient")
    from mtfix import DEFAULT_MODEL_DIR

    if not (DEFAULT_MODEL_DIR / "config.json").is_file():
        pytest.fail(f"the bundled model is missing in {DEFAULT_MODEL_DIR}")
    notebook = executor().execute(NOTEBOOK)
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join(o.get("text", "") for o in outputs)
    assert "ANKARA (AFP)" in text and "edits" in text and "BLEU" in text
    assert any("image/svg+xml" in o.get("data", {}) for o in outputs)
    assert executor().local_paths(notebook) == []

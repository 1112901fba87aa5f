"""The quickstart notebook is executed, so it cannot rot; its stored outputs are refreshed by
`python tests/test_notebook.py` (which runs it in place)."""

import sys
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "quickstart.ipynb"


def execute(path: Path):
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    return notebook


@pytest.mark.slow
def test_quickstart_notebook_runs_and_shows_the_repair():
    pytest.importorskip("nbclient")
    from mtfix import DEFAULT_MODEL_DIR

    if not (DEFAULT_MODEL_DIR / "config.json").is_file():
        pytest.fail(f"the bundled model is missing in {DEFAULT_MODEL_DIR}")
    notebook = execute(NOTEBOOK)
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join(o.get("text", "") for o in outputs)
    assert "ANKARA (AFP)" in text and "edits" in text and "BLEU" in text
    assert any("image/svg+xml" in o.get("data", {}) for o in outputs)


if __name__ == "__main__":
    import nbformat

    nbformat.write(execute(NOTEBOOK), NOTEBOOK)
    print(f"executed {NOTEBOOK}", file=sys.stderr)

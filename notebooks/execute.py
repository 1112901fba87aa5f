"""Re-execute the quickstart notebook in place, so that its stored outputs are the bundled model's:

    python notebooks/execute.py

Run it after a change to the repairs, the bundled model or the eval report (tests/test_notebook.py
fails while the stored numbers are stale). Outputs that show a path of this machine are refused.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

NOTEBOOK = Path(__file__).resolve().parent / "quickstart.ipynb"
REPO = NOTEBOOK.parent.parent


def execute(path: Path = NOTEBOOK):
    """The notebook at ``path``, run top to bottom in a fresh kernel from its own folder."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    # record_timing=False: no timestamps in the stored cells, so a re-run changes only what changed
    NotebookClient(notebook, timeout=600, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return notebook


def local_paths(notebook) -> list[str]:
    """The local paths the notebook's outputs show (the checkout, the home folder, installed packages)."""
    shown = json.dumps([cell.get("outputs", []) for cell in notebook.cells])
    return [marker for marker in (str(REPO), str(Path.home()), "site-packages") if marker in shown]


def main() -> int:
    import nbformat

    notebook = execute()
    leaks = local_paths(notebook)
    if leaks:
        print(f"not stored: the outputs show local paths ({', '.join(leaks)})", file=sys.stderr)
        return 1
    nbformat.write(notebook, NOTEBOOK)
    print(f"executed {NOTEBOOK.relative_to(REPO)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

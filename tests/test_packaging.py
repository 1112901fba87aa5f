"""What an install gets: only the `mtfix` package (the eval harness inside it as mtfix.evaluation, with
the seed test set as package data), its LICENSE, py.typed, and a version from the package metadata."""

import importlib.metadata
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import mtfix

REPO = Path(__file__).resolve().parent.parent


def test_version_comes_from_the_package_metadata():
    assert mtfix.__version__ == importlib.metadata.version("mtfix")
    assert 'version = "' + mtfix.__version__ + '"' in (REPO / "pyproject.toml").read_text(encoding="utf-8")


def test_public_names():
    from mtfix.lattice import Suspicion

    assert mtfix.Suspicion is Suspicion and "Suspicion" in mtfix.__all__


def test_seed_files_live_once_in_seeds():
    """mtfix/evaluation/testsets holds links to seeds/, so there is one copy to edit."""
    for name in ("idlib_ceasefire_spun.txt", "idlib_ceasefire_reference.txt"):
        shipped = REPO / "mtfix" / "evaluation" / "testsets" / name
        assert shipped.is_symlink() and shipped.resolve() == (REPO / "seeds" / name).resolve()


@pytest.mark.slow
def test_the_wheel_installs_only_mtfix_with_its_data(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path)], check=True, capture_output=True, timeout=600)
    [wheel] = tmp_path.glob("mtfix-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert {name.split("/")[0] for name in names} == {"mtfix", f"mtfix-{mtfix.__version__}.dist-info"}
        assert "mtfix/py.typed" in names and "mtfix/evaluation/cli.py" in names
        assert any(name.endswith("dist-info/licenses/LICENSE") for name in names)
        for name in ("idlib_ceasefire_spun.txt", "idlib_ceasefire_reference.txt"):  # the files, not links
            assert archive.read(f"mtfix/evaluation/testsets/{name}") == (REPO / "seeds" / name).read_bytes()

"""Shared fixtures. No test touches the network: models are trained here, in seconds, or shipped."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

REPO = Path(__file__).resolve().parent.parent
SEED_SPUN = REPO / "seeds" / "idlib_ceasefire_spun.txt"
SEED_REFERENCE = REPO / "seeds" / "idlib_ceasefire_reference.txt"


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A real T5 (the `tiny` preset) trained for a few seconds on a toy swap-restoring task."""
    from training.tiny import train_tiny_model

    return train_tiny_model(tmp_path_factory.mktemp("tiny_model"))


@pytest.fixture(scope="session")
def tiny_repairer(tiny_model_dir):
    from mtfix import Repairer

    return Repairer(tiny_model_dir, device="cpu", min_confidence=0.0)

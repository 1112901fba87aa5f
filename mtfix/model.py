"""Loading an mtfix model directory.

A model directory is an ordinary Hugging Face seq2seq directory (config.json, model.safetensors,
SentencePiece tokenizer files), so ``AutoModelForSeq2SeqLM.from_pretrained`` loads it too, plus
optional mtfix files: ``mtfix.json`` (repair settings and tuned weights) and the resources of the
candidate-lattice path (see :mod:`mtfix.lattice`). Weights are read from safetensors only: a pickle
checkpoint can run arbitrary code when loaded, so one is refused.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "models" / "default"
SETTINGS_FILE = "mtfix.json"
_TOKENIZER_FILES = ("spiece.model", "tokenizer.json")
_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json")


class ModelNotFoundError(FileNotFoundError):
    """The model directory, or a file it needs, is missing."""


class ModelLoadError(ValueError):
    """The model directory is there but cannot be loaded (corrupt or unsupported files)."""


@dataclass
class LoadedModel:
    path: Path
    model: Any
    tokenizer: Any
    settings: dict = field(default_factory=dict)

    @property
    def max_source_length(self) -> int:
        return int(self.settings.get("max_source_length", 128))


def check_model_dir(path: str | os.PathLike) -> Path:
    """Raise a clear error naming ``path`` and what is missing; return the resolved path."""
    path = Path(path).expanduser()
    if not path.is_dir():
        hint = ""
        if path.resolve() == DEFAULT_MODEL_DIR:
            hint = (" The bundled default model is not installed: reinstall mtfix from a checkout that has "
                    "mtfix/models/default, or train one with `python -m training.train` and pass model=DIR.")
        raise ModelNotFoundError(f"mtfix model directory not found: {path}.{hint}")
    missing = []
    if not (path / "config.json").is_file():
        missing.append("config.json")
    if not any((path / name).is_file() for name in _WEIGHT_FILES):
        pickles = [p.name for p in path.glob("*.bin")] + [p.name for p in path.glob("*.pt*")]
        note = f" (found {', '.join(pickles)}: pickle weights are not loaded, convert them to safetensors)" if pickles else ""
        missing.append(f"model.safetensors{note}")
    if not any((path / name).is_file() for name in _TOKENIZER_FILES):
        missing.append("a tokenizer (spiece.model or tokenizer.json)")
    if missing:
        raise ModelNotFoundError(f"mtfix model directory {path} is missing: {'; '.join(missing)}")
    return path


def resolve_model_dir(path: str | os.PathLike | None) -> Path:
    """``path`` checked (see :func:`check_model_dir`), or the bundled default model when it is None."""
    return check_model_dir(DEFAULT_MODEL_DIR if path is None else path)


def read_settings(path: Path) -> dict:
    settings_path = path / SETTINGS_FILE
    if not settings_path.is_file():
        return {}
    try:
        return json.loads(settings_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ModelLoadError(f"{settings_path} is not valid JSON: {error}") from error


def resolve_device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_model(path: str | os.PathLike | None = None, device: str = "auto") -> LoadedModel:
    """Load a model directory (the bundled default when ``path`` is None) for inference."""
    path = resolve_model_dir(path)
    settings = read_settings(path)
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        # The bundled weights are stored in bfloat16 to halve their size; CPUs without bf16 units run
        # float32 many times faster, so compute in float32 there.
        device = resolve_device(device)
        dtype = torch.float32 if device == "cpu" else "auto"
        model = AutoModelForSeq2SeqLM.from_pretrained(path, local_files_only=True, use_safetensors=True, dtype=dtype)
    except Exception as error:  # safetensors, sentencepiece and json all raise their own types
        raise ModelLoadError(f"cannot load the mtfix model in {path}: {type(error).__name__}: {error}") from error
    model.to(device)
    model.eval()
    return LoadedModel(path=path, model=model, tokenizer=tokenizer, settings=settings)

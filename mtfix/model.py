"""Loading an mtfix model directory.

A model directory is an ordinary Hugging Face seq2seq directory (config.json, model.safetensors,
SentencePiece tokenizer files), so ``AutoModelForSeq2SeqLM.from_pretrained`` loads it too, plus
optional mtfix files: ``mtfix.json`` (repair settings and tuned weights) and the resources of the
candidate-lattice path (see :mod:`mtfix.lattice`). Weights are read from safetensors only: a pickle
checkpoint can run arbitrary code when loaded, so one is refused.

``mtfix.json`` may hold a manifest, ``"files": {"lm.safetensors": {"size": ..., "sha256": ...}, ...}``,
of every other file of the directory (write it with :func:`write_manifest`, or
``mtfix verify-model --write DIR``, after training or copying in new files). Loading compares the sizes
of the files the chosen mode reads (:func:`check_file_sizes`: a stat each, so a truncated copy is one
clear error); :func:`verify_model` (``mtfix verify-model DIR``) also compares every file's SHA-256,
which takes 0.04-0.07 s for the bundled model's 56 MB when the files are in the page cache (more from a
cold disk) and is left out of every load.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "models" / "default"
SETTINGS_FILE = "mtfix.json"
_TOKENIZER_FILES = ("spiece.model", "tokenizer.json")
_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json")
MANIFEST_KEY = "files"
# The files every mode reads, and those only the lattice reads; the rest of the manifest is the seq2seq's
# (config, weights, generation settings).
_ALWAYS_READ = ("tokenizer.json", "tokenizer_config.json", "spiece.model", "special_tokens_map.json")
_LATTICE_FILES = ("lm.safetensors", "vectors.safetensors", "detector/", "postedit.tsv.gz")
# Settings read as whole numbers; every other value of these sections is any number.
_WHOLE_NUMBERS = {"beam_size", "nbest", "candidates_per_word", "candidates_per_suspect_word", "min_postedit_changes",
                  "rewrite_min_postedits"}


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
    """The settings in ``mtfix.json`` ({} without one), checked so that a wrong value is one clear error
    here rather than a crash deep inside a repair."""
    settings_path = path / SETTINGS_FILE
    if not settings_path.is_file():
        return {}
    try:
        settings = json.loads(settings_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ModelLoadError(f"{settings_path} is not valid JSON: {error}") from error
    except OSError as error:
        raise ModelLoadError(f"cannot read {settings_path}: {error.strerror or error}") from error
    _check_settings(settings, settings_path)
    return settings


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_settings(settings: object, settings_path: Path) -> None:
    if not isinstance(settings, dict):
        raise ModelLoadError(f"{settings_path} must hold a JSON object of settings, not {json.dumps(settings)[:40]}")
    for section in ("lattice", "channel_rates"):
        values = settings.get(section, {})
        if not isinstance(values, dict):
            raise ModelLoadError(f"{settings_path}: {section!r} must be an object of numbers, not {json.dumps(values)[:40]}")
        for key, value in values.items():
            if not _is_number(value) or (key in _WHOLE_NUMBERS and value != int(value)):
                kind = "a whole number" if key in _WHOLE_NUMBERS else "a number"
                raise ModelLoadError(f"{settings_path}: {section}.{key} must be {kind}, not {json.dumps(value)}")
    if "max_source_length" in settings:
        length = settings["max_source_length"]
        # A window of a few tokens cannot hold a word: sentences would be split without end.
        if not _is_number(length) or length != int(length) or length < 8:
            raise ModelLoadError(f"{settings_path}: max_source_length must be a whole number of tokens, "
                                 f"at least 8, not {json.dumps(length)}")
    manifest = settings.get(MANIFEST_KEY, {})
    if not isinstance(manifest, dict) or not all(
            isinstance(entry, dict) and isinstance(entry.get("size"), int) and isinstance(entry.get("sha256"), str)
            for entry in manifest.values()):
        raise ModelLoadError(f"{settings_path}: {MANIFEST_KEY!r} must map each file to its size and sha256 "
                             f"(rewrite it with: mtfix verify-model --write {settings_path.parent})")


# -- the manifest ----------------------------------------------------------------------------------

def _model_files(path: Path) -> list[str]:
    """The files of a model directory that the manifest covers, as relative POSIX paths: all but mtfix.json
    itself, documentation (*.md, edited freely), hidden files and converted caches (ct2-*)."""
    names = []
    for file in sorted(path.rglob("*")):
        relative = file.relative_to(path)
        if (file.is_file() and relative.as_posix() != SETTINGS_FILE and file.suffix != ".md"
                and not any(part.startswith((".", "ct2-")) for part in relative.parts)):
            names.append(relative.as_posix())
    return names


def file_sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with open(file, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(path: str | os.PathLike) -> dict:
    """Record the size and SHA-256 of every file of the model directory in its ``mtfix.json`` (the other
    settings are kept as they are); return the manifest."""
    path = Path(path)
    settings_path = path / SETTINGS_FILE
    settings = read_settings(path)
    manifest = {name: {"size": (path / name).stat().st_size, "sha256": file_sha256(path / name)}
                for name in _model_files(path)}
    settings[MANIFEST_KEY] = manifest
    settings_path.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    return manifest


def _needed(name: str, lattice: bool, seq2seq: bool) -> bool:
    if name in _ALWAYS_READ:
        return True
    if name.startswith(_LATTICE_FILES):
        return lattice
    return seq2seq


def check_file_sizes(path: Path, lattice: bool, seq2seq: bool) -> None:
    """Compare the size of each file a mode reads with the manifest (nothing to do without one). Missing
    files are left to the loaders, which say what each one is for."""
    manifest = read_settings(path).get(MANIFEST_KEY, {})
    for name, entry in manifest.items():
        file = path / name
        if not _needed(name, lattice, seq2seq) or not file.is_file():
            continue
        size = file.stat().st_size
        if size != entry.get("size"):
            raise ModelLoadError(f"{file} has {size:,} bytes but the model's manifest says {entry.get('size'):,}: "
                                 f"it is truncated or was replaced; copy the model again (or, if you rebuilt it "
                                 f"on purpose, record it with: mtfix verify-model --write {path})")


def verify_model(path: str | os.PathLike) -> tuple[int, list[str]]:
    """Check every file of the manifest: present, of its size, of its SHA-256. Returns (files checked,
    problems); a model without a manifest is one problem."""
    path = check_model_dir(path)
    manifest = read_settings(path).get(MANIFEST_KEY)
    if not manifest:
        return 0, [f"{path / SETTINGS_FILE} has no manifest of the model's files (write one with: mtfix verify-model --write {path})"]
    problems = []
    for name, entry in manifest.items():
        file = path / name
        if not file.is_file():
            problems.append(f"{name} is missing")
        elif file.stat().st_size != entry.get("size"):
            problems.append(f"{name} has {file.stat().st_size:,} bytes, the manifest says {entry.get('size'):,}")
        elif file_sha256(file) != entry.get("sha256"):
            problems.append(f"{name} has another SHA-256 than the manifest's (changed or corrupt)")
    return len(manifest), problems


def resolve_device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_model(path: str | os.PathLike | None = None, device: str = "auto") -> LoadedModel:
    """Load a model directory (the bundled default when ``path`` is None) for inference."""
    path = resolve_model_dir(path)
    settings = read_settings(path)
    check_file_sizes(path, lattice=False, seq2seq=True)
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

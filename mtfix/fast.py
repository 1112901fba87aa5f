"""Inference engines: CTranslate2 (fast on CPU, ``pip install mtfix[fast]``) and plain torch.

Both engines offer the two calls the repair paths need:

- ``generate(sentences, num_beams)``: free generation, each output with per-token probabilities
  (:class:`mtfix.generate.Generated`);
- ``sequence_logprobs(sources, targets)``: teacher-forced ln P(target | source), the lattice path's
  n-best rescorer.

A model directory is converted to CTranslate2 once (:func:`convert`); the converted files are cached
in ``<model_dir>/ct2-<quantization>/``, or under ``~/.cache/mtfix/`` when the model directory is
read-only (an installed package, say). Loading a converted model reads only the tokenizer and the
CTranslate2 files: the torch weights are not loaded, and torch is not even imported.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
import warnings
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .model import LoadedModel, ModelLoadError, check_model_dir, load_model, read_settings

if TYPE_CHECKING:
    from .generate import Generated

BACKENDS = ("auto", "torch", "ctranslate2")
QUANTIZATIONS = ("int8", "int8_float32", "int16", "float32")
_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json")
_CT2_WEIGHTS = "model.bin"
# Teacher-forced scoring makes a (target length x vocabulary) logit matrix per pair, so big batches spill
# out of the CPU caches: on the 2-core dev machine (small preset, 8k vocabulary, lattice path on test
# sentences, batch size 64) scoring in chunks of 8 pairs took the whole repair from 11.9 to 18.8
# sentences/s. (Chunking the torch scorer alike made it 3x slower, so torch scores a batch at once.)
_CT2_SCORE_CHUNK = 8


class Engine(Protocol):
    """What the repair paths need from a seq2seq model, whatever runs it."""

    def generate(self, sentences: list[str], num_beams: int = 1) -> list[Generated]: ...

    def sequence_logprobs(self, sources: list[str], targets: list[str]) -> list[float]: ...


def ctranslate2_available() -> bool:
    try:
        import ctranslate2  # noqa: F401
    except ImportError:
        return False
    return True


# -- conversion -----------------------------------------------------------------------------------


def _weights_file(model_dir: Path) -> Path:
    for name in _WEIGHT_FILES:
        if (model_dir / name).is_file():
            return model_dir / name
    raise ModelLoadError(f"cannot convert {model_dir}: it has no model.safetensors")


def cache_root() -> Path:
    """Where conversions of read-only model directories go: ``$XDG_CACHE_HOME/mtfix`` or ``~/.cache/mtfix``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mtfix"


def _cache_dir(model_dir: Path, weights: Path, quantization: str) -> Path:
    key = f"{model_dir.resolve()}:{weights.stat().st_mtime_ns}"
    return cache_root() / hashlib.sha256(key.encode("utf-8")).hexdigest()[:16] / f"ct2-{quantization}"


def _is_fresh(ct2_dir: Path, weights: Path) -> bool:
    converted = ct2_dir / _CT2_WEIGHTS
    return converted.is_file() and converted.stat().st_mtime >= weights.stat().st_mtime


def _writable(directory: Path) -> bool:
    return os.access(directory, os.W_OK | os.X_OK)


def converted_dir(model_dir: str | os.PathLike, quantization: str = "int8") -> Path | None:
    """The up-to-date conversion of ``model_dir``, or None when it has not been converted yet."""
    model_dir = Path(model_dir)
    weights = _weights_file(model_dir)
    for candidate in (model_dir / f"ct2-{quantization}", _cache_dir(model_dir, weights, quantization)):
        if _is_fresh(candidate, weights):
            return candidate
    return None


def convert(model_dir: str | os.PathLike, quantization: str = "int8") -> Path:
    """Convert a model directory to CTranslate2 once; return the converted directory.

    A conversion is reused while it is newer than the model's weights. It is written beside the model
    (``<model_dir>/ct2-<quantization>/``), or under :func:`cache_root` when the model directory is
    read-only. The files are written to a temporary directory and renamed into place, so a reader never
    sees a half-written conversion, and two processes converting at once both end with a good one.
    """
    if quantization not in QUANTIZATIONS:
        raise ValueError(f"quantization must be one of {', '.join(QUANTIZATIONS)}, got {quantization!r}")
    model_dir = check_model_dir(model_dir)
    existing = converted_dir(model_dir, quantization)
    if existing is not None:
        return existing
    weights = _weights_file(model_dir)
    target = model_dir / f"ct2-{quantization}"
    if not _writable(model_dir):
        target = _cache_dir(model_dir, weights, quantization)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        _run_converter(model_dir, staging, quantization)
        if target.exists() and not _is_fresh(target, weights):
            shutil.rmtree(target)  # a stale conversion of older weights
        try:
            os.rename(staging, target)
        except OSError:
            if not _is_fresh(target, weights):
                raise
            # else another process renamed its fresh conversion into place first: use that one
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _run_converter(model_dir: Path, out_dir: Path, quantization: str) -> None:
    from ctranslate2.converters import TransformersConverter
    from transformers.utils import logging as hf_logging

    # The rest of the weights is stored as float32: CTranslate2 would keep bfloat16 weights (the bundled
    # model's) as int8_bfloat16, which CPUs without bf16 units convert again at every load, with a warning.
    stored = "int8_float32" if quantization == "int8" else quantization
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        TransformersConverter(str(model_dir), low_cpu_mem_usage=True).convert(
            str(out_dir), quantization=stored, force=True)
    except Exception as error:  # the converter raises ValueError, KeyError, OSError, ...
        raise ModelLoadError(f"cannot convert {model_dir} to CTranslate2: {type(error).__name__}: {error}") from error
    finally:
        if bars:
            hf_logging.enable_progress_bar()


# -- the CTranslate2 engine -----------------------------------------------------------------------


def load_tokenizer(model_dir: Path) -> Any:
    """The model's Hugging Face tokenizer. A ``tokenizer.json`` is loaded as a PreTrainedTokenizerFast,
    which does not import torch (AutoTokenizer does, which costs seconds); else AutoTokenizer."""
    try:
        if (model_dir / "tokenizer.json").is_file():
            from transformers import PreTrainedTokenizerFast

            return PreTrainedTokenizerFast.from_pretrained(model_dir, local_files_only=True)
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    except Exception as error:  # tokenizers, sentencepiece and json all raise their own types
        raise ModelLoadError(f"cannot load the tokenizer in {model_dir}: {type(error).__name__}: {error}") from error


def _ct2_device(device: str) -> tuple[str, int]:
    """mtfix's device string ("auto", "cpu", "cuda", "cuda:1") as CTranslate2's (device, index)."""
    import ctranslate2

    if device == "auto":
        return ("cuda", 0) if ctranslate2.get_cuda_device_count() > 0 else ("cpu", 0)
    name, _, index = device.partition(":")
    if name not in ("cpu", "cuda"):
        raise ValueError(f"the ctranslate2 backend runs on cpu or cuda, not {device!r}")
    return name, int(index or 0)


# CTranslate2 4.8 aborts the process at exit ("terminate called without an active exception") when a
# Translator that ran a step callback is destroyed during interpreter shutdown. Dropping the translators
# from an atexit hook, while the interpreter is still whole, avoids it (8 of 8 clean exits, against 6
# of 6 aborts without it).
_LIVE_MODELS: weakref.WeakSet[Ct2Model] = weakref.WeakSet()
# The process that started a CTranslate2 translator, if any: this one, or the parent a child was forked from.
_TRANSLATOR_PID: int | None = None


def translator_started_here() -> bool:
    """Whether this process, or the process it was forked from, has started a CTranslate2 translator: a
    process forked from such a one blocks when it starts its own."""
    return _TRANSLATOR_PID is not None


def _forked_after_a_translator() -> bool:
    return _TRANSLATOR_PID is not None and _TRANSLATOR_PID != os.getpid()


_FORKED = False  # this process is a forked child (torch's OpenMP pool of the parent is not there)


def _mark_forked() -> None:
    global _FORKED
    _FORKED = True


os.register_at_fork(after_in_child=_mark_forked)


@atexit.register
def _release_translators() -> None:
    for model in list(_LIVE_MODELS):
        model._translator = None


class Ct2Model:
    """A model directory run by CTranslate2; tokenised by the model's own Hugging Face tokenizer.

    Args:
        model_dir: an mtfix model directory (converted on first use, see :func:`convert`).
        quantization: "int8" (the fast default on CPU) or "float32" (the torch model's exact numbers), ...
        device: "auto", "cpu", "cuda", "cuda:N".
        intra_threads: threads per call; default: the machine's CPU count. A translator not started yet
            takes the value of the ``intra_threads`` attribute when it starts.
        lazy: start the CTranslate2 translator on first use, not now.
    """

    def __init__(self, model_dir: str | os.PathLike, quantization: str = "int8", device: str = "cpu",
                 intra_threads: int | None = None, lazy: bool = False):
        self.path = check_model_dir(model_dir)
        self.settings = read_settings(self.path)
        self.tokenizer = load_tokenizer(self.path)
        self.ct2_path = convert(self.path, quantization)
        self._device = device
        self.intra_threads = intra_threads if intra_threads is not None else (os.cpu_count() or 1)
        self._translator = None
        self._torch: TorchEngine | None = None  # only in a child forked after a translator started
        self._special_ids = frozenset(self.tokenizer.all_special_ids)
        _LIVE_MODELS.add(self)
        if not lazy:
            self.translator  # noqa: B018 -- start it now, so that a broken model fails at load

    @property
    def translator(self):
        """The CTranslate2 translator, started on first use. Lattice-only repairers never start one: a
        process forked (``datasets.map(num_proc=...)``) from one that ran a translator blocks while
        starting its own."""
        global _TRANSLATOR_PID
        if self._translator is None:
            import ctranslate2

            _TRANSLATOR_PID = os.getpid()
            device_name, device_index = _ct2_device(self._device)
            self._translator = ctranslate2.Translator(str(self.ct2_path), device=device_name,
                                                      device_index=device_index, compute_type="default",
                                                      intra_threads=self.intra_threads)
        return self._translator

    @property
    def max_source_length(self) -> int:
        return int(self.settings.get("max_source_length", 128))

    @property
    def loaded(self) -> LoadedModel:
        """Path, tokenizer and settings as a :class:`LoadedModel`; its ``model`` is None (no torch weights)."""
        return LoadedModel(path=self.path, model=None, tokenizer=self.tokenizer, settings=self.settings)

    def generate(self, sentences: list[str], num_beams: int = 1) -> list[Generated]:
        """Rewrite each sentence (greedy, or beam search with ``num_beams``), with per-token probabilities.

        The output length limit is torch's (1.5 times the longest input of the call, plus 8 tokens).
        """
        from .generate import generated_from_ids

        if not sentences:
            return []
        if self._translator is None and _forked_after_a_translator():
            # A child forked (datasets.map(num_proc=...)) from a process that ran a translator cannot start
            # one: it would block. Torch runs the same weights (in float32, so a rare output differs).
            return self._torch_in_fork().generate(sentences, num_beams)
        source = self._source_tokens(sentences)
        limit = int(max(len(tokens) for tokens in source) * 1.5) + 8
        if num_beams == 1:
            # Greedy: the per-token log probabilities come from the step callback, at no extra cost.
            step_logprobs: list[list[float]] = [[] for _ in sentences]

            def record(step) -> bool:
                step_logprobs[step.batch_id].append(step.log_prob)
                return False

            results = self.translator.translate_batch(source, beam_size=1, max_decoding_length=limit, max_input_length=0,
                                                      return_scores=True, callback=record)  # scores: log_prob
            hypotheses = [result.hypotheses[0] for result in results]
            logprobs = [steps[:len(hyp)] for steps, hyp in zip(step_logprobs, hypotheses)]
        else:
            # Beam search: the token scores of the chosen hypotheses, by one teacher-forced pass.
            # patience=2 comes closer to the stopping rule of transformers' beam search (early_stopping=False):
            # with it, 100 of 100 tiny-model outputs equal torch's at 3 beams in float32, 86 without.
            results = self.translator.translate_batch(source, beam_size=num_beams, patience=2,
                                                      max_decoding_length=limit, max_input_length=0)
            hypotheses = [result.hypotheses[0] for result in results]
            scored = self.translator.score_batch(source, hypotheses, max_input_length=0, max_batch_size=_CT2_SCORE_CHUNK)
            logprobs = [result.log_probs[:len(hyp)] for result, hyp in zip(scored, hypotheses)]
        return [generated_from_ids(self.tokenizer, self.tokenizer.convert_tokens_to_ids(hyp), lps, self._special_ids)
                for hyp, lps in zip(hypotheses, logprobs)]

    def sequence_logprobs(self, sources: list[str], targets: list[str]) -> list[float]:
        """ln P(target | source) for each pair (end-of-sequence token included), as the torch version."""
        if not sources:
            return []
        if self._translator is None and _forked_after_a_translator():
            return self._torch_in_fork().sequence_logprobs(sources, targets)
        unique_sources = list(dict.fromkeys(sources))
        tokens_of = dict(zip(unique_sources, self._source_tokens(unique_sources)))
        target_ids = self.tokenizer(text_target=targets, truncation=True,
                                    max_length=int(self.max_source_length * 1.5))["input_ids"]
        eos = self.tokenizer.eos_token_id
        # CTranslate2 adds the decoder start and end tokens itself.
        target_tokens = [self.tokenizer.convert_ids_to_tokens(ids[:-1] if ids and ids[-1] == eos else ids)
                         for ids in target_ids]
        # max_batch_size: CTranslate2 sorts the pairs by length and scores them in chunks of this many.
        results = self.translator.score_batch([tokens_of[s] for s in sources], target_tokens, max_input_length=0,
                                              max_batch_size=_CT2_SCORE_CHUNK)
        return [float(sum(result.log_probs)) for result in results]

    def _torch_in_fork(self) -> "TorchEngine":
        if self._torch is None:
            self._torch = TorchEngine(path=self.path, device="cpu")
        return self._torch

    def _source_tokens(self, sentences: list[str]) -> list[list[str]]:
        ids = self.tokenizer(sentences, truncation=True, max_length=self.max_source_length)["input_ids"]
        return [self.tokenizer.convert_ids_to_tokens(row) for row in ids]


# -- the torch engine and the choice between them -------------------------------------------------


class TorchEngine:
    """The :class:`Engine` calls on a torch model loaded by :func:`mtfix.model.load_model`.

    Given a ``path`` instead of a loaded model, the weights are loaded on the first call: the lattice
    path without seq2seq rescoring never makes one, and importing torch and transformers and reading
    the weights is most of a plain install's start-up time.
    """

    def __init__(self, loaded: LoadedModel | None = None, *, path: str | os.PathLike | None = None,
                 device: str = "auto"):
        if (loaded is None) == (path is None):
            raise ValueError("TorchEngine needs a loaded model or a path, not both")
        self._loaded, self._path, self._device = loaded, path, device

    @property
    def loaded(self) -> LoadedModel:
        if self._loaded is None:
            if _FORKED:
                # A forked child waits forever on the parent's OpenMP threads, which it does not have, once torch
                # runs a parallel region (as torch's own DataLoader workers do, it runs one thread).
                import torch

                torch.set_num_threads(1)
            self._loaded = load_model(self._path, device=self._device)
        return self._loaded

    @property
    def is_loaded(self) -> bool:
        return self._loaded is not None

    def generate(self, sentences: list[str], num_beams: int = 1) -> list[Generated]:
        from .generate import FreeGenerator

        return FreeGenerator(self.loaded, num_beams=num_beams).generate(sentences)

    def sequence_logprobs(self, sources: list[str], targets: list[str]) -> list[float]:
        from .generate import sequence_logprobs

        return sequence_logprobs(self.loaded, sources, targets)


def load_engine(model: str | os.PathLike | None, backend: str = "auto", device: str = "auto",
                quantization: str = "int8", lazy: bool = False) -> tuple[LoadedModel, Engine]:
    """Load a model directory (None: the bundled default) with the chosen backend.

    "auto" uses CTranslate2 when it is installed and the model converts, else torch (with a warning
    when the conversion failed); "ctranslate2" raises instead of falling back. With ``lazy`` the torch
    weights, or the CTranslate2 translator, are loaded only when the engine is first called (the returned
    LoadedModel then has the tokenizer and settings, and ``model`` None).
    """
    from .model import resolve_model_dir

    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(repr(b) for b in BACKENDS)}, got {backend!r}")
    path = resolve_model_dir(model)
    if backend == "ctranslate2" and not ctranslate2_available():
        raise ModelLoadError("backend='ctranslate2' needs the ctranslate2 package: pip install mtfix[fast]")
    if backend in ("auto", "ctranslate2") and ctranslate2_available():
        try:
            engine = Ct2Model(path, quantization=quantization, device=device, lazy=lazy)
            return engine.loaded, engine
        except (ModelLoadError, OSError, RuntimeError, ValueError) as error:
            if backend == "ctranslate2":
                raise
            warnings.warn(f"mtfix: using torch, as the CTranslate2 engine is unavailable: {error}", stacklevel=2)
    if lazy:
        return (LoadedModel(path=path, model=None, tokenizer=load_tokenizer(path), settings=read_settings(path)),
                TorchEngine(path=path, device=device))
    loaded = load_model(path, device=device)
    return loaded, TorchEngine(loaded)

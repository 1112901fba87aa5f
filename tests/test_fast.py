"""The CTranslate2 engine against torch on the tiny model: conversion cache, generation, scoring, Repairer."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

pytest.importorskip("ctranslate2")

from mtfix import Repairer  # noqa: E402
from mtfix.fast import Ct2Model, TorchEngine, cache_root, convert, load_engine, load_tokenizer  # noqa: E402
from mtfix.model import ModelLoadError, load_model  # noqa: E402
from training.tiny import HELD_OUT_FRAMES, toy_pairs  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
PAIRS = toy_pairs(12, seed=11) + toy_pairs(12, HELD_OUT_FRAMES, seed=12)
SOURCES = [source for source, _ in PAIRS]
TARGETS = [target for _, target in PAIRS]


@pytest.fixture(scope="module")
def model_copy(tiny_model_dir, tmp_path_factory) -> Path:
    """A copy of the tiny model, so that conversions made here do not touch the shared fixture."""
    copy = tmp_path_factory.mktemp("fast") / "model"
    shutil.copytree(tiny_model_dir, copy, ignore=shutil.ignore_patterns("ct2-*"))
    return copy


@pytest.fixture(scope="module")
def torch_engine(model_copy) -> TorchEngine:
    return TorchEngine(load_model(model_copy, device="cpu"))


@pytest.fixture(scope="module")
def ct2_float32(model_copy) -> Ct2Model:
    return Ct2Model(model_copy, quantization="float32", intra_threads=1)


@pytest.fixture(scope="module")
def ct2_int8(model_copy) -> Ct2Model:
    return Ct2Model(model_copy, quantization="int8", intra_threads=1)


def test_conversion_is_cached_beside_the_model_and_redone_for_newer_weights(model_copy):
    converted = convert(model_copy, "int8")
    assert converted == model_copy / "ct2-int8"
    assert (converted / "model.bin").is_file()
    written = (converted / "model.bin").stat().st_mtime_ns
    assert convert(model_copy, "int8") == converted
    assert (converted / "model.bin").stat().st_mtime_ns == written  # reused, not rewritten
    assert not list(model_copy.glob(".ct2-*"))  # no staging directory left behind

    weights = model_copy / "model.safetensors"
    earlier = weights.stat().st_mtime - 60
    os.utime(converted / "model.bin", (earlier, earlier))  # the model was retrained after the conversion
    assert convert(model_copy, "int8") == converted
    assert (converted / "model.bin").stat().st_mtime >= weights.stat().st_mtime


def test_read_only_model_dir_converts_into_the_user_cache(model_copy, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    # Tests run as root here, for whom every directory is writable: stand in a read-only one.
    monkeypatch.setattr("mtfix.fast._writable", lambda directory: False)
    converted = convert(model_copy, "int16")
    assert converted.is_relative_to(cache_root()) and converted.name == "ct2-int16"
    assert (converted / "model.bin").is_file()
    assert not (model_copy / "ct2-int16").exists()
    assert convert(model_copy, "int16") == converted


def test_bfloat16_weights_convert_to_int8_with_float32_compute(model_copy, tmp_path):
    import torch
    from transformers import AutoModelForSeq2SeqLM

    bf16_dir = tmp_path / "bf16"
    shutil.copytree(model_copy, bf16_dir, ignore=shutil.ignore_patterns("ct2-*", "model.safetensors"))
    AutoModelForSeq2SeqLM.from_pretrained(model_copy).to(torch.bfloat16).save_pretrained(bf16_dir)
    model = Ct2Model(bf16_dir, quantization="int8", intra_threads=1)
    assert model.translator.compute_type == "int8_float32"  # not int8_bfloat16, re-converted at each load
    assert model.generate(SOURCES[:2])[0].text


def test_tokenizer_without_torch_matches_autotokenizer(model_copy, torch_engine):
    fast = load_tokenizer(model_copy)
    assert fast(SOURCES)["input_ids"] == torch_engine.loaded.tokenizer(SOURCES)["input_ids"]


def test_float32_greedy_generation_equals_torch(torch_engine, ct2_float32):
    expected, got = torch_engine.generate(SOURCES), ct2_float32.generate(SOURCES)
    assert [g.text for g in got] == [e.text for e in expected]
    for e, g in zip(expected, got):
        assert [end for end, _ in g.token_probs] == [end for end, _ in e.token_probs]
        # Tolerance: probabilities within 0.01 (float32 kernels differ in summation order).
        assert all(abs(p - q) < 0.01 for (_, p), (_, q) in zip(e.token_probs, g.token_probs))


def test_int8_greedy_generation_mostly_equals_torch(torch_engine, ct2_int8):
    expected, got = torch_engine.generate(SOURCES), ct2_int8.generate(SOURCES)
    same = sum(e.text == g.text for e, g in zip(expected, got))
    # int8 weights change a few outputs of this 0.6M-parameter model (97 of 100 toy sentences agree).
    assert same >= 0.8 * len(SOURCES)


def test_beam_search_equals_torch_in_float32(torch_engine, ct2_float32):
    assert [g.text for g in ct2_float32.generate(SOURCES, num_beams=3)] == \
        [g.text for g in torch_engine.generate(SOURCES, num_beams=3)]


def test_sequence_logprobs_agree_with_torch(torch_engine, ct2_float32, ct2_int8):
    expected = torch_engine.sequence_logprobs(SOURCES, TARGETS)
    # Tolerance: 1e-3 nats per sequence in float32.
    assert ct2_float32.sequence_logprobs(SOURCES, TARGETS) == pytest.approx(expected, abs=1e-3)
    # int8 moves the numbers (by up to a few nats on this tiny model) but keeps the order that matters
    # to the rescorer: the restored sentence scores above the spun input.
    restored, spun = ct2_int8.sequence_logprobs(SOURCES, TARGETS), ct2_int8.sequence_logprobs(SOURCES, SOURCES)
    changed = [i for i, (s, t) in enumerate(PAIRS) if s != t]
    assert changed and all(restored[i] > spun[i] for i in changed)
    assert ct2_float32.sequence_logprobs([], []) == []


def test_repairer_with_ctranslate2_free_generation(model_copy):
    repairer = Repairer(model_copy, device="cpu", backend="ctranslate2", mode="free", min_confidence=0.0)
    assert isinstance(repairer.engine, Ct2Model) and repairer.loaded.model is None
    text = "The minister stated the talks had failed. Police stated the fireplace was out."
    result = repairer.repair_with_edits(text)
    assert "said" in result.text and result.text.count(".") == 2
    assert all(text[e.start:e.end] == e.before for e in result.edits)


def test_repairer_lattice_rescores_with_ctranslate2(model_copy, tmp_path):
    from mtfix.text import lm_form, words
    from training.build_lm import train_lm

    lattice_dir = tmp_path / "lattice_model"
    shutil.copytree(model_copy, lattice_dir)
    lm = train_lm([[lm_form(w) for w in words(target)] for _, target in toy_pairs(400, seed=3)], order=3)
    lm.save(lattice_dir / "lm.safetensors")
    (lattice_dir / "mtfix.json").write_text(json.dumps({"max_source_length": 32, "lattice": {"seq2seq": 0.5}}))
    fast = Repairer(lattice_dir, device="cpu", backend="ctranslate2", min_confidence=0.0)
    slow = Repairer(lattice_dir, device="cpu", backend="torch", min_confidence=0.0)
    assert fast.mode == "lattice" and fast.backend.rescorer is fast.engine
    texts = ["Police stated the talks had failed near Aleppo.", "The army instructed reporters the sector was calm."]
    repaired = fast.repair_many(texts)
    assert repaired[0] == "Police said the talks had failed near Aleppo."
    assert repaired == slow.repair_many(texts)


def test_auto_backend_falls_back_to_torch_when_conversion_fails(model_copy, monkeypatch):
    def broken(*args, **kwargs):
        raise ModelLoadError("cannot convert: unsupported")

    monkeypatch.setattr("mtfix.fast.convert", broken)
    with pytest.warns(UserWarning, match="using torch"):
        loaded, engine = load_engine(model_copy, backend="auto", device="cpu")
    assert isinstance(engine, TorchEngine) and loaded.model is not None
    with pytest.raises(ModelLoadError, match="unsupported"):
        load_engine(model_copy, backend="ctranslate2", device="cpu")
    with pytest.raises(ValueError, match="backend"):
        Repairer(model_copy, backend="onnx")


def test_auto_backend_picks_ctranslate2(model_copy):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, engine = load_engine(model_copy, backend="auto", device="cpu")
    assert isinstance(engine, Ct2Model)


def test_ctranslate2_repair_does_not_import_torch(model_copy):
    convert(model_copy, "int8")
    code = (
        "import sys; from mtfix import Repairer; "
        f"r = Repairer({str(model_copy)!r}, device='cpu', backend='ctranslate2', mode='free'); "
        "r.repair('The minister stated the talks had failed.'); "
        "print('torch' in sys.modules)"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_lazy_engine_starts_its_translator_on_first_use(model_copy):
    # Lattice-only repairers load lazily and never start a translator: forked workers of a process that ran
    # one (datasets.map(num_proc=2)) block while starting their own.
    _, engine = load_engine(model_copy, backend="ctranslate2", device="cpu", lazy=True)
    assert isinstance(engine, Ct2Model) and engine._translator is None
    assert engine.generate(["Police stated the talks had failed."])[0].text
    assert engine._translator is not None
    _, eager = load_engine(model_copy, backend="ctranslate2", device="cpu")
    assert eager._translator is not None

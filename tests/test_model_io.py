"""Model directories: Hugging Face compatible, safetensors only, clear errors."""

import shutil

import pytest
from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

import mtfix
from mtfix import ModelLoadError, ModelNotFoundError, load_model


def test_a_model_dir_loads_with_mtfix_and_with_transformers(tiny_model_dir):
    loaded = load_model(tiny_model_dir, device="cpu")
    assert loaded.model.config.is_encoder_decoder
    assert AutoModelForSeq2SeqLM.from_pretrained(tiny_model_dir) is not None
    assert AutoTokenizer.from_pretrained(tiny_model_dir) is not None
    assert (tiny_model_dir / "model.safetensors").is_file()
    assert not list(tiny_model_dir.glob("*.bin"))


def test_missing_directory_names_the_path(tmp_path):
    with pytest.raises(ModelNotFoundError, match=str(tmp_path / "nowhere")):
        load_model(tmp_path / "nowhere")


@pytest.mark.parametrize("missing", ["config.json", "model.safetensors", "tokenizer"])
def test_missing_files_are_named(tiny_model_dir, tmp_path, missing):
    broken = tmp_path / "model"
    shutil.copytree(tiny_model_dir, broken)
    if missing == "tokenizer":
        for name in ("spiece.model", "tokenizer.json"):
            (broken / name).unlink(missing_ok=True)
    else:
        (broken / missing).unlink()
    with pytest.raises(ModelNotFoundError, match=missing):
        load_model(broken)


def test_pickle_weights_are_refused(tiny_model_dir, tmp_path):
    broken = tmp_path / "model"
    shutil.copytree(tiny_model_dir, broken)
    (broken / "model.safetensors").rename(broken / "pytorch_model.bin")
    with pytest.raises(ModelNotFoundError, match="pickle"):
        load_model(broken)


def test_corrupt_weights_raise_a_load_error_naming_the_path(tiny_model_dir, tmp_path):
    broken = tmp_path / "model"
    shutil.copytree(tiny_model_dir, broken)
    (broken / "model.safetensors").write_bytes(b"this is not a safetensors file")
    with pytest.raises(ModelLoadError, match=str(broken)):
        load_model(broken)


def test_repair_without_a_bundled_model_says_how_to_get_one(monkeypatch, tmp_path):
    monkeypatch.setattr("mtfix.model.DEFAULT_MODEL_DIR", tmp_path / "absent")
    mtfix.repairer._cached_repairer.cache_clear()
    with pytest.raises(ModelNotFoundError, match="train"):
        mtfix.repair("Russia released a navy intervention.")

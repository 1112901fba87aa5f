"""End-to-end training on CPU: the tiny preset through training.train.main, resume, export, the tiny model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import sacrebleu
import torch
from datasets import Dataset, DatasetDict, load_from_disk
from safetensors import safe_open
from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

from training.presets import PRESETS, get_config
from training.tiny import HELD_OUT_FRAMES, restored_swaps, toy_pairs, train_tiny_model
from training.train import PREDICTIONS_FILE, SUMMARY_FILE, export_model, generate, main

SAVED_FILES = {"model.safetensors", "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json"}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models gain nothing from more threads, and on a busy machine a second thread is much slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _dataset(pairs: list[tuple[str, str]]) -> Dataset:
    return Dataset.from_dict({"source": [s for s, _ in pairs], "target": [t for _, t in pairs]})


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pairs")
    pairs = toy_pairs(260)
    splits = {"train": pairs[:220], "validation": pairs[220:240], "test": pairs[240:]}
    DatasetDict({name: _dataset(split) for name, split in splits.items()}).save_to_disk(path)
    return path


def _args(dataset_dir: Path, output_dir: Path, max_steps: int, *extra: str) -> list[str]:
    return [
        "--preset", "tiny",
        "--dataset_dir", str(dataset_dir),
        "--output_dir", str(output_dir),
        "--max_source_length", "64",  # no truncation: the spun words are many pieces with a target tokenizer
        "--max_target_length", "64",
        "--max_steps", str(max_steps),
        "--per_device_train_batch_size", "16",
        "--per_device_eval_batch_size", "20",
        "--eval_steps", "2",
        "--save_steps", "2",
        "--save_total_limit", "2",
        "--logging_steps", "2",
        "--torch_threads", "1",
        "--disable_tqdm", "true",
        "--log_level", "warning",
        *extra,
    ]  # fmt: skip


@pytest.fixture(scope="module")
def trained(dataset_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An output dir after 4 steps with validation and checkpoints every 2."""
    output_dir = tmp_path_factory.mktemp("run")
    main(_args(dataset_dir, output_dir, 4))
    return output_dir


def test_presets_have_the_documented_sizes() -> None:
    from transformers import T5ForConditionalGeneration

    sizes = {name: T5ForConditionalGeneration(get_config(name, 8192)).num_parameters() for name in ("tiny", "small")}
    assert sizes["tiny"] < 1e6
    assert 9e6 < sizes["small"] < 10e6
    assert set(PRESETS) >= {"tiny", "small", "base"}
    with pytest.raises(ValueError, match="unknown preset"):
        get_config("huge", 8192)


def test_saved_model_dir_loads_and_generates(trained: Path, dataset_dir: Path) -> None:
    model_dir = trained / "model"
    assert SAVED_FILES <= {p.name for p in model_dir.iterdir()}
    assert not list(trained.rglob("pytorch_model*.bin"))
    model = AutoModelForSeq2SeqLM.from_pretrained(model_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    assert model.config.vocab_size >= len(tokenizer)
    assert model.generation_config.max_length == 65
    out = generate(model, tokenizer, ["Police stated fireplace in Idlib.", ""])
    assert len(out) == 2 and all(isinstance(text, str) for text in out)


def test_outputs_of_a_run(trained: Path, dataset_dir: Path) -> None:
    test = load_from_disk(str(dataset_dir))["test"]
    predictions = (trained / PREDICTIONS_FILE).read_text(encoding="utf-8").splitlines()
    assert len(predictions) == len(test)
    summary = json.loads((trained / SUMMARY_FILE).read_text(encoding="utf-8"))
    assert summary["steps"] == 4 and summary["resumed_from"] is None
    assert summary["tokens_per_second"] > 0 and summary["device"].startswith("cpu")
    # validation logged the model and the identity baseline; the best checkpoint was kept
    assert {"eval_bleu", "eval_chrf", "eval_ter", "eval_identity_bleu", "eval_bleu_gain"} <= set(summary["validation"])
    # the saved model is the best checkpoint's
    best = AutoModelForSeq2SeqLM.from_pretrained(summary["best_checkpoint"]).state_dict()
    final = AutoModelForSeq2SeqLM.from_pretrained(trained / "model").state_dict()
    assert all(torch.equal(best[name], final[name]) for name in final)
    # the identity baseline is the sources scored as they are; validation decodes them back from token ids in
    # the length-grouped order, which must keep each source with its reference
    validation = load_from_disk(str(dataset_dir))["validation"]
    identity = sacrebleu.corpus_bleu(validation["source"], [validation["target"]]).score
    assert summary["validation"]["eval_identity_bleu"] == pytest.approx(identity, abs=1e-3)
    identity = sacrebleu.corpus_bleu(test["source"], [test["target"]]).score
    assert summary["test"]["identity_bleu"] == pytest.approx(identity, abs=1e-3)
    assert sorted(p.name for p in trained.glob("checkpoint-*")) == ["checkpoint-2", "checkpoint-4"]


def test_resume_continues_from_the_last_checkpoint(trained: Path, dataset_dir: Path, tmp_path: Path) -> None:
    run = shutil.copytree(trained, tmp_path / "run")
    with pytest.raises(ValueError, match="--resume"):
        main(_args(dataset_dir, run, 6))
    main(_args(dataset_dir, run, 6, "--resume", "true"))
    summary = json.loads((run / SUMMARY_FILE).read_text(encoding="utf-8"))
    assert summary["resumed_from"].endswith("checkpoint-4")
    assert summary["steps"] == 6


def test_resume_without_checkpoint_starts_fresh(dataset_dir: Path, tmp_path: Path) -> None:
    torch.set_num_threads(2)  # the one_thread fixture restores the session's count afterwards
    main(_args(dataset_dir, tmp_path, 1, "--resume", "true", "--eval_strategy", "no", "--save_strategy", "no"))
    summary = json.loads((tmp_path / SUMMARY_FILE).read_text(encoding="utf-8"))
    assert summary["steps"] == 1 and summary["resumed_from"] is None and summary["validation"] == {}
    assert torch.get_num_threads() == 2  # --torch_threads 1 applied to the run only


def test_init_from_a_local_model(trained: Path, dataset_dir: Path, tmp_path: Path) -> None:
    start = trained / "model"
    args = _args(dataset_dir, tmp_path, 1, "--init_from", str(start), "--eval_strategy", "no", "--warmup_steps", "0")
    model_dir = main(args)
    assert not (tmp_path / "tokenizer").exists()  # the checkpoint's own tokenizer was used
    assert AutoTokenizer.from_pretrained(model_dir).get_vocab() == AutoTokenizer.from_pretrained(start).get_vocab()
    before = AutoModelForSeq2SeqLM.from_pretrained(start).shared.weight
    after = AutoModelForSeq2SeqLM.from_pretrained(model_dir).shared.weight
    assert before.shape == after.shape and not torch.equal(before, after)  # trained on from there


def test_init_from_a_bfloat16_export_trains_in_float32(trained: Path, dataset_dir: Path, tmp_path: Path) -> None:
    exported = export_model(trained / "model", tmp_path / "bf16", dtype="bfloat16")
    args = _args(dataset_dir, tmp_path / "run", 1, "--init_from", str(exported), "--eval_strategy", "no",
                 "--warmup_steps", "0")
    model_dir = main(args)
    with safe_open(model_dir / "model.safetensors", framework="pt") as weights:
        assert {weights.get_tensor(name).dtype for name in weights.keys()} == {torch.float32}


def test_bad_arguments_are_refused(dataset_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="preset"):
        main(_args(dataset_dir, tmp_path, 1, "--preset", "huge"))
    bad = tmp_path / "bad"
    DatasetDict(train=_dataset([("a", "b")])).save_to_disk(bad)
    with pytest.raises(ValueError, match="validation"):
        main(_args(bad, tmp_path / "out", 1))


def test_export_halves_the_weights(trained: Path, tmp_path: Path) -> None:
    model_dir = trained / "model"
    exported = export_model(model_dir, tmp_path / "bf16", dtype="bfloat16")
    size, full = (exported / "model.safetensors").stat().st_size, (model_dir / "model.safetensors").stat().st_size
    assert size < 0.6 * full
    with safe_open(exported / "model.safetensors", framework="pt") as weights:
        assert {weights.get_tensor(name).dtype for name in weights.keys()} == {torch.bfloat16}
    model = AutoModelForSeq2SeqLM.from_pretrained(exported, dtype=torch.float32)
    reference = AutoModelForSeq2SeqLM.from_pretrained(model_dir)
    assert torch.allclose(model.shared.weight, reference.shared.weight, rtol=1e-2, atol=1e-3)
    tokenizer = AutoTokenizer.from_pretrained(exported)
    assert len(generate(model, tokenizer, ["Police stated fireplace."])) == 1
    with pytest.raises(ValueError, match="dtype"):
        export_model(model_dir, tmp_path / "fp16", dtype="float16")


def test_train_tiny_model_on_given_pairs(tmp_path: Path) -> None:
    pairs = toy_pairs(30, seed=5)
    model_dir = train_tiny_model(tmp_path / "given", pairs=pairs, steps=2)
    data = load_from_disk(str(tmp_path / "given" / "data"))
    assert data["test"]["source"] == [source for source, _ in pairs[:3]]  # one in ten held out
    assert len(data["train"]) == 27
    assert AutoModelForSeq2SeqLM.from_pretrained(model_dir).config.d_model == 64


@pytest.mark.slow
def test_tiny_model_learns_swaps(tiny_model_dir: Path) -> None:
    """conftest's session model: train_tiny_model with its defaults."""
    model_dir = tiny_model_dir
    model = AutoModelForSeq2SeqLM.from_pretrained(model_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    held_out = toy_pairs(30, HELD_OUT_FRAMES, seed=123)  # word orders it never saw
    sources = [source for source, _ in held_out]
    restored = restored_swaps(sources, generate(model, tokenizer, sources))
    assert len(restored) >= 3, restored
    # on unseen slot combinations of the training word orders it beats copying the input
    summary = json.loads((model_dir.parent / SUMMARY_FILE).read_text(encoding="utf-8"))
    assert summary["test"]["bleu"] > summary["test"]["identity_bleu"]

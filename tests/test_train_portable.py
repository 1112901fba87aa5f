"""Training away from the build machine: pairs as xz JSON lines, a wall-clock budget, the lent-GPU script."""

from __future__ import annotations

import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from datasets import Dataset, DatasetDict
from transformers import TrainerControl

from training.export_pairs import main as export_pairs
from training.export_pairs import unpack
from training.train import TrainingArguments, WallClockBudget, main, read_pairs, use_time_budget

PAIRS = [
    ("Police stated fireplace.", "Police said fire.", [{"start": 7, "end": 13}, {"start": 14, "end": 23}]),
    ("Rocket fireplace hit.", "Rocket fire hit.", [{"start": 7, "end": 16}]),
    ("The talks ended.", "The talks ended.", []),
]


def _pairs(n: int) -> Dataset:
    rows = [PAIRS[i % len(PAIRS)] for i in range(n)]
    edits = [[{**edit, "before": "x", "after": "y", "family": "synonym"} for edit in e] for _, _, e in rows]
    return Dataset.from_dict({"id": [str(i) for i in range(n)], "source": [s for s, _, _ in rows],
                              "target": [t for _, t, _ in rows], "edits": edits})


@pytest.fixture()
def saved_pairs(tmp_path: Path) -> Path:
    path = tmp_path / "pairs"
    DatasetDict(train=_pairs(30), validation=_pairs(6), test=_pairs(3)).save_to_disk(path)
    return path


def test_exported_pairs_read_back_as_saved(saved_pairs: Path, tmp_path: Path) -> None:
    export_pairs([str(saved_pairs), str(tmp_path / "xz")])
    pairs = read_pairs(unpack(tmp_path / "xz", tmp_path / "jsonl"))
    saved = read_pairs(saved_pairs)
    for split in ("train", "validation", "test"):
        assert pairs[split]["source"] == saved[split]["source"]
        assert pairs[split]["target"] == saved[split]["target"]
        assert [[(e["start"], e["end"]) for e in edits] for edits in pairs[split]["edits"]] == \
            [[(e["start"], e["end"]) for e in edits] for edits in saved[split]["edits"]]


def test_export_samples_the_train_split(saved_pairs: Path, tmp_path: Path) -> None:
    export_pairs([str(saved_pairs), str(tmp_path / "xz"), "--max-train-pairs", "7"])
    pairs = read_pairs(unpack(tmp_path / "xz", tmp_path / "jsonl"))
    assert (len(pairs["train"]), len(pairs["validation"])) == (7, 6)


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_wall_clock_budget_decays_the_rate_and_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = _Clock()
    monkeypatch.setattr("training.train.time.monotonic", clock)
    budget = WallClockBudget(minutes=2)
    args, state = SimpleNamespace(eval_strategy="steps"), SimpleNamespace()
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    control = TrainerControl()
    budget.on_train_begin(args, state, control)
    clock.now += 30  # a quarter of the budget gone
    budget.on_step_end(args, state, control, optimizer=optimizer)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.75)
    assert not control.should_training_stop
    clock.now += 100
    budget.on_step_end(args, state, control, optimizer=optimizer)
    assert optimizer.param_groups[0]["lr"] == 0.0
    assert control.should_training_stop and control.should_save and control.should_evaluate
    with pytest.raises(ValueError, match="positive"):
        WallClockBudget(0)


def test_time_budget_needs_warmup_in_steps(tmp_path: Path) -> None:
    args = TrainingArguments(output_dir=str(tmp_path), max_train_minutes=1.5, warmup_steps=100)
    assert args.max_steps >= 10**9 and args.lr_scheduler_type == "constant_with_warmup"
    with pytest.raises(ValueError, match="warmup_steps"):
        TrainingArguments(output_dir=str(tmp_path), max_train_minutes=1.5, warmup_steps=0.02)
    with pytest.raises(ValueError, match="positive"):
        use_time_budget(SimpleNamespace(max_train_minutes=-1, warmup_steps=0))


def test_training_within_a_time_budget_saves_the_model(saved_pairs: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    main(["--preset", "tiny", "--dataset_dir", str(saved_pairs), "--output_dir", str(out), "--max_train_minutes",
          "0.02", "--warmup_steps", "1", "--eval_steps", "1000", "--save_steps", "1000", "--per_device_train_batch_size",
          "4", "--torch_threads", "1", "--disable_tqdm", "true", "--log_level", "warning", "--tokenizer_dir",
          "mtfix/models/default"])
    summary = (out / "train_summary.json").read_text(encoding="utf-8")
    assert (out / "model" / "model.safetensors").is_file() and '"steps"' in summary


def test_gpu_script_parses() -> None:
    assert subprocess.run(["bash", "-n", "training/gpu_run.sh"], capture_output=True).returncode == 0

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


def test_round_trips_export_without_edits_and_keep_their_kind(tmp_path: Path) -> None:
    """Machine-translation pairs (training.garbled_pairs) have no spinner edits: they travel with their kind."""
    rows = Dataset.from_dict({"source": ["He said the Thursday.", "Rocket fire hit."], "target": ["He said on Thursday.",
                              "Rocket fire hit."], "kind": ["garbled", "clean"]})
    path = tmp_path / "mixed"
    DatasetDict(train=rows, validation=rows, test=rows).save_to_disk(path)
    export_pairs([str(path), str(tmp_path / "xz")])
    pairs = read_pairs(unpack(tmp_path / "xz", tmp_path / "jsonl"))
    assert pairs["train"].column_names == ["source", "target", "kind"]
    assert pairs["train"]["kind"] == ["garbled", "clean"] and pairs["test"]["target"][0] == "He said on Thursday."


def test_garbled_pairs_mix_round_trips_spun_and_clean_identity_pairs(saved_pairs: Path, tmp_path: Path) -> None:
    import json

    from training.garbled_pairs import main as garbled_pairs
    from training.roundtrip import HELD_OUT_PAIR, TRAINING_PAIRS

    roundtrip = tmp_path / "roundtrip"
    for pair in (*TRAINING_PAIRS, HELD_OUT_PAIR):
        for split in ("train", "validation", "test"):
            folder = roundtrip / pair / split
            folder.mkdir(parents=True)
            records = [{"source": f"{pair} {split} {i} the Thursday", "target": f"{pair} {split} {i} on Thursday"}
                       for i in range(5)]
            (folder / "shard-00000.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
            (folder / "shard-00000.json").write_text("{}")  # marks the shard finished
    out = tmp_path / "mixed"
    garbled_pairs(["--roundtrip", str(roundtrip), "--pairs", str(saved_pairs), "--out", str(out),
                   "--spun-share", "0.4", "--clean-share", "0.2", "--validation", "3", "--test", "4"])
    mixed = read_pairs(out)
    kinds = mixed["train"]["kind"]
    garbled = 5 * len(TRAINING_PAIRS)
    assert (kinds.count("garbled"), kinds.count("spun"), kinds.count("clean")) == (garbled, int(garbled * 0.4), int(garbled * 0.2))
    assert not any(HELD_OUT_PAIR in s for s in list(mixed["train"]["source"]) + list(mixed["validation"]["source"]))
    clean = [(s, t) for s, t, k in zip(mixed["train"]["source"], mixed["train"]["target"], kinds) if k == "clean"]
    assert all(s == t for s, t in clean)
    assert (len(mixed["validation"]), len(mixed["test"])) == (3, 4)

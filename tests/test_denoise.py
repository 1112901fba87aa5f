"""Denoising pairs for pre-training: text infilling with <unk> spans."""

from __future__ import annotations

import json
import random
from pathlib import Path

from datasets import Dataset, DatasetDict

from training.denoise import MASK, infill_noise, main

SENTENCE = ("Syrian forces kept up rocket fire and air strikes on the town for a third day on Thursday, "
            "a Britain-based war monitor said.")


def test_infill_masks_about_the_rate_in_spans():
    rng = random.Random(1)
    words = SENTENCE.split(" ")
    for _ in range(50):
        noised = infill_noise(SENTENCE, rng).split(" ")
        kept = [w for w in noised if w != MASK]
        assert MASK in noised and f"{MASK} {MASK}" not in " ".join(noised)  # one mask per span
        assert 0.75 * len(words) <= len(kept) < len(words)
        # the kept words are the sentence's, in order
        it = iter(words)
        assert all(any(w == x for x in it) for w in kept)


def test_infill_is_seeded_and_leaves_tiny_sentences_alone():
    assert infill_noise(SENTENCE, random.Random(3)) == infill_noise(SENTENCE, random.Random(3))
    assert infill_noise("Markets closed.", random.Random(0)) == "Markets closed."


def test_cli_writes_pairs_train_reads(tmp_path: Path):
    rows = {"source": ["Police stated fireplace."] * 4, "target": [SENTENCE] * 4}
    DatasetDict({split: Dataset.from_dict(rows) for split in ("train", "validation", "test")}).save_to_disk(tmp_path / "pairs")
    main([str(tmp_path / "pairs"), str(tmp_path / "denoise")])
    lines = [json.loads(line) for line in (tmp_path / "denoise" / "train.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 4 and all(line["target"] == SENTENCE and MASK in line["source"] for line in lines)

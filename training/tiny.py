"""A tiny real repair model for tests, trained in seconds on a toy word-swap task.

The toy task is the project's task in miniature: wire sentences (built from clause frames with varied names,
places and days) whose words were swapped for spinner synonyms ("said" -> "stated", "fire" -> "fireplace").
The model learns to copy the sentence and swap the words back. Held-out frames measure whether it learned the
swaps rather than whole sentences.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

from datasets import Dataset, DatasetDict, disable_progress_bars, enable_progress_bars, is_progress_bar_enabled

# wire word -> the spun word that replaces it in the source
SWAPS: dict[str, str] = {
    "said": "stated",
    "fire": "fireplace",
    "strikes": "moves",
    "told": "instructed",
    "midnight": "nighttime",
    "zone": "sector",
    "conference": "convention",
    "despite": "notwithstanding",
}

SUBJECTS = [
    "The minister", "Police", "The army", "Rebels", "Officials", "The spokesman", "Witnesses", "The ministry",
    "Mr Cavusoglu", "The agency", "Mrs Lopez", "The governor", "Diplomats", "The president", "Doctors",
    "The company", "Local residents", "The commander", "Analysts", "The mayor",
]
PLACES = [
    "Idlib", "Ankara", "Aleppo", "Damascus", "Moscow", "Beirut", "Hama", "Homs", "Baghdad", "Cairo", "Paris",
    "Geneva", "Tehran", "Amman", "Kabul", "Tripoli", "Mosul", "Raqqa", "Sanaa", "Doha",
]
DAYS = ["on Monday", "on Tuesday", "on Wednesday", "on Thursday", "on Friday", "on Saturday", "on Sunday", "today"]

TRAIN_FRAMES = [
    "{subj} said {day} that the fire in {place} was out.",
    "{subj} told reporters in {place} that air strikes had stopped.",
    "Air strikes hit the {place} zone {day}, {subj} said.",
    "{subj} said the conference in {place} would go ahead despite the fire.",
    "The ceasefire in {place} began at midnight, {subj} told the conference.",
    "Rocket fire and air strikes continued in the {place} zone {day}.",
    "{subj} told the agency {day} that {place} was calm despite the strikes.",
    "{subj} met officials in {place} {day}.",
    "A fire broke out near {place} at midnight, {subj} said.",
    "{subj} left the conference in {place} {day}.",
    "Despite the talks, strikes hit {place} {day}.",
    "{subj} told a news conference in {place} that the zone was safe.",
]
# Frames never seen in training: restoring swaps here means the swaps were learned, not the sentences.
HELD_OUT_FRAMES = [
    "Despite the fire, {subj} said {day} that {place} was safe.",
    "{subj} told the conference that strikes hit the zone near {place}.",
    "At midnight {subj} said air strikes hit {place}.",
    "{subj} said {day} that the {place} conference was over.",
]

_SWAP_RE = re.compile(r"\b(" + "|".join(SWAPS) + r")\b", re.IGNORECASE)


def spin(sentence: str) -> str:
    """Replace every wire word of :data:`SWAPS` by its spun synonym, keeping an initial capital."""

    def replace(match: re.Match) -> str:
        word = match.group()
        spun = SWAPS[word.lower()]
        return spun.capitalize() if word[0].isupper() else spun

    return _SWAP_RE.sub(replace, sentence)


def toy_pairs(n: int, frames: list[str] = TRAIN_FRAMES, seed: int = 0) -> list[tuple[str, str]]:
    """``n`` (spun, wire) sentence pairs from ``frames``."""
    rng = random.Random(seed)
    pairs = []
    for _ in range(n):
        target = rng.choice(frames).format(subj=rng.choice(SUBJECTS), place=rng.choice(PLACES), day=rng.choice(DAYS))
        pairs.append((spin(target), target))
    return pairs


def _split(pairs: list[tuple[str, str]]) -> Dataset:
    return Dataset.from_dict({"source": [s for s, _ in pairs], "target": [t for _, t in pairs]})


def train_tiny_model(
    out_dir: str | Path,
    pairs: list[tuple[str, str]] | None = None,
    steps: int = 400,
    seed: int = 0,
) -> Path:
    """Train the ``tiny`` preset on ``pairs`` (default: the toy swap task) and return the saved model dir.

    With given ``pairs``, one in ten (at least one) is held out for validation and test.
    """
    from training.train import main  # imported here: the toy data helpers need no Trainer

    out_dir = Path(out_dir)
    if pairs is None:
        train, held_out = toy_pairs(3000, seed=seed), toy_pairs(40, HELD_OUT_FRAMES, seed=seed + 1)
    else:
        n_held_out = max(1, len(pairs) // 10)
        train, held_out = pairs[n_held_out:] or pairs, pairs[:n_held_out]
    data_dir = out_dir / "data"
    bars = is_progress_bar_enabled()
    disable_progress_bars()
    try:
        DatasetDict(train=_split(train), validation=_split(held_out), test=_split(held_out)).save_to_disk(data_dir)
        return main(
            [
                "--preset", "tiny",
                "--dataset_dir", str(data_dir),
                "--output_dir", str(out_dir),
                "--vocab_size", "1000",
                "--max_source_length", "64",
                "--max_target_length", "64",
                "--max_steps", str(steps),
                "--learning_rate", "3e-3",
                "--warmup_steps", "0.05",
                "--per_device_train_batch_size", "32",
                "--eval_strategy", "no",
                "--save_strategy", "no",
                "--logging_steps", str(max(1, steps // 4)),
                "--seed", str(seed),
                "--bf16", "false",
                "--disable_tqdm", "true",
                "--log_level", "warning",
            ]
        )  # fmt: skip
    finally:
        if bars:
            enable_progress_bars()

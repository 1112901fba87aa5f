"""A tiny real repair model for tests, trained in seconds on a toy word-swap task.

The toy task is the project's task in miniature: short wire clauses (varied subjects, verbs, objects, places and
days) whose words were swapped for spinner synonyms ("said" -> "stated", "fire" -> "fireplace").
The model learns to copy the sentence and swap the words back. Held-out word orders measure whether it learned the
swaps rather than whole sentences. The slots vary so much that the model must learn to copy.
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

# Short news clauses: the slots vary widely, so a model can only lower its loss by copying its input.
SUBJECTS = [
    "Police", "Rebels", "Officials", "The army", "Turkey", "Russia", "Witnesses", "The minister", "Doctors",
    "The agency", "Diplomats", "Mr Cavusoglu", "The ministry", "Residents", "Analysts", "The mayor",
]
VERBS = ["said", "told reporters", "reported", "denied", "confirmed", "announced", "told us", "said again"]
OBJECTS = ["fire", "strikes", "air strikes", "the zone", "a conference", "talks", "the ceasefire", "rocket fire"]
PLACES = [
    "Idlib", "Ankara", "Aleppo", "Damascus", "Moscow", "Beirut", "Hama", "Homs", "Baghdad", "Cairo", "Paris",
    "Geneva", "Tehran", "Amman", "Kabul", "Tripoli",
]
DAYS = ["on Monday", "on Tuesday", "on Wednesday", "on Thursday", "on Friday", "at midnight", "today"]
TAILS = [f"{prep} {place}" for prep in ("in", "near") for place in PLACES] + DAYS + ["despite talks", "despite fire"]

TRAIN_FRAMES = ["{subj} {verb} {obj} {tail}.", "{subj} {verb} {obj}.", "{obj} {tail}.", "{subj} {verb} {tail}."]
# Word orders never seen in training: restoring swaps here means the swaps were learned, not the sentences.
HELD_OUT_FRAMES = ["{tail}, {subj} {verb} {obj}.", "{obj} {tail}, {subj} {verb}."]

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
        frame = rng.choice(frames)
        target = frame.format(
            subj=rng.choice(SUBJECTS), verb=rng.choice(VERBS), obj=rng.choice(OBJECTS), tail=rng.choice(TAILS)
        )
        target = target[0].upper() + target[1:]
        pairs.append((spin(target), target))
    return pairs


def restored_swaps(sources: list[str], predictions: list[str]) -> dict[str, int]:
    """How often each swap was undone: the source has the spun word, the prediction the wire word, not the spun one."""
    counts: dict[str, int] = {}
    for source, prediction in zip(sources, predictions):
        for wire, spun in SWAPS.items():
            if _has_word(source, spun) and _has_word(prediction, wire) and not _has_word(prediction, spun):
                counts[wire] = counts.get(wire, 0) + 1
    return counts


def _has_word(text: str, word: str) -> bool:
    return re.search(rf"\b{word}\b", text, re.IGNORECASE) is not None


def _split(pairs: list[tuple[str, str]]) -> Dataset:
    return Dataset.from_dict({"source": [s for s, _ in pairs], "target": [t for _, t in pairs]})


def train_tiny_model(
    out_dir: str | Path,
    pairs: list[tuple[str, str]] | None = None,
    steps: int = 200,
    seed: int = 0,
) -> Path:
    """Train the ``tiny`` preset on ``pairs`` (default: the toy swap task) and return the saved model dir.

    With given ``pairs``, one in ten (at least one) is held out for validation and test. The tokenizer is trained
    on both sides, so that spun words are single pieces too. 200 steps take 15-20 s on one busy core.
    """
    from training.train import main  # imported here: the toy data helpers need no Trainer

    out_dir = Path(out_dir)
    if pairs is None:
        # validation: unseen word orders; test: unseen slot combinations of the training word orders
        train, validation = toy_pairs(5000, seed=seed), toy_pairs(40, HELD_OUT_FRAMES, seed=seed + 1)
        test = toy_pairs(40, TRAIN_FRAMES, seed=seed + 2)
    else:
        n_held_out = max(1, len(pairs) // 10)
        train, validation = pairs[n_held_out:] or pairs, pairs[:n_held_out]
        test = validation
    data_dir = out_dir / "data"
    bars = is_progress_bar_enabled()
    disable_progress_bars()
    try:
        DatasetDict(train=_split(train), validation=_split(validation), test=_split(test)).save_to_disk(data_dir)
        corpus = data_dir / "tokenizer_corpus.txt"
        corpus.write_text("".join(f"{text}\n" for pair in train for text in pair), encoding="utf-8")
        return main(
            [
                "--preset", "tiny",
                "--dataset_dir", str(data_dir),
                "--output_dir", str(out_dir),
                "--corpus_for_tokenizer", str(corpus),
                "--vocab_size", "1000",
                "--max_source_length", "64",
                "--max_target_length", "64",
                "--max_steps", str(steps),
                "--learning_rate", "3e-3",
                "--warmup_steps", "0.05",
                "--per_device_train_batch_size", "64",
                "--eval_strategy", "no",
                "--save_strategy", "no",
                "--logging_steps", str(max(1, steps // 4)),
                "--seed", str(seed),
                "--bf16", "false",
                "--torch_threads", "1",  # a model this small gains nothing from a second thread
                "--disable_tqdm", "true",
                "--log_level", "warning",
            ]
        )  # fmt: skip
    finally:
        if bars:
            enable_progress_bars()

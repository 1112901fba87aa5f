"""What the small BERT encoders trained here share: their arguments, the start of a run, the data splits.

``train_detector.py`` (the spin detector) and ``train_mlm.py`` (the masked LM) both train a BERT encoder
with ``Trainer`` on the repair model's tokenizer and the spun pairs; each script subclasses these
dataclasses with its own defaults and fields.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field

import torch
from datasets import Dataset
from transformers import TrainingArguments as HfTrainingArguments
from transformers import set_seed

from training.train import find_checkpoint, read_pairs, use_time_budget


@dataclass
class EncoderArguments:
    dataset_dir: str = field(default="work_data/pairs", metadata={"help": "DatasetDict of spun pairs (source, target, edits)."})
    tokenizer_dir: str = field(default="mtfix/models/default", metadata={"help": "The repair model's tokenizer."})
    hidden_size: int = field(default=128, metadata={"help": "Width of the encoder."})
    layers: int = field(default=4, metadata={"help": "Encoder layers."})
    heads: int = field(default=4, metadata={"help": "Attention heads."})
    max_length: int = field(default=128, metadata={"help": "Tokens kept per sentence (longer ones are cut)."})
    max_train_samples: int | None = field(default=None, metadata={"help": "Use only N train pairs (a shuffled sample)."})
    max_eval_samples: int | None = field(default=2000, metadata={"help": "Validate on the first N pairs."})
    preprocessing_num_workers: int | None = field(default=None, metadata={"help": "Processes for tokenizing."})

    def __post_init__(self):
        if self.hidden_size % self.heads:
            raise ValueError("--hidden_size must be a multiple of --heads")
        if self.max_length < 8:
            raise ValueError("--max_length must be at least 8")


@dataclass
class EncoderTrainingArguments(HfTrainingArguments):
    per_device_train_batch_size: int = field(default=64, metadata={"help": "Sentences per step."})
    per_device_eval_batch_size: int = field(default=128, metadata={"help": "Sentences per validation step."})
    eval_strategy: str = field(default="steps", metadata={"help": "Validate every eval_steps."})
    save_total_limit: int | None = field(default=2, metadata={"help": "Checkpoints kept."})
    logging_steps: float = field(default=100, metadata={"help": "Log the loss every N steps."})
    report_to: None | str | list[str] = field(default="none", metadata={"help": "Loggers."})
    resume: bool = field(default=False, metadata={"help": "Continue from the last checkpoint in output_dir."})
    torch_threads: int | None = field(default=None, metadata={"help": "torch.set_num_threads on CPU."})
    max_train_minutes: float | None = field(
        default=None,
        metadata={"help": "Train for this much wall time (the learning rate decays to 0 by then) instead of max_steps."},
    )

    def __post_init__(self) -> None:
        use_time_budget(self)
        super().__post_init__()


def start_run(training_args: EncoderTrainingArguments) -> str | None:
    """Logging, threads and seed; the checkpoint to resume from, if any."""
    logging.basicConfig(format="%(asctime)s - %(levelname)s - %(name)s - %(message)s", datefmt="%H:%M:%S",
                        level=logging.INFO, handlers=[logging.StreamHandler(sys.stdout)])
    if training_args.torch_threads:
        torch.set_num_threads(training_args.torch_threads)
    set_seed(training_args.seed)
    return find_checkpoint(training_args)


def get_splits(args: EncoderArguments, seed: int) -> tuple[Dataset, Dataset]:
    """The train split (a shuffled sample of ``max_train_samples``, if set) and the first ``max_eval_samples``
    of the validation split."""
    pairs = read_pairs(args.dataset_dir)
    train, validation = pairs["train"], pairs["validation"]
    if args.max_train_samples:
        train = train.shuffle(seed=seed).select(range(min(args.max_train_samples, len(train))))
    if args.max_eval_samples:
        validation = validation.select(range(min(args.max_eval_samples, len(validation))))
    return train, validation

"""Train a small masked language model on clean news: the bidirectional context model of the chooser.

    python -m training.train_mlm --dataset_dir work_data/pairs --output_dir runs/mlm [--resume true] \\
        [--torch_threads 2] [--stop_after_minutes 40]

The lattice chooses among candidate originals with a 4-gram LM, which sees three words on the left and
prefers frequent collocations anywhere ("a Turkish editorial board near the town" over "observation
post"). A masked LM reads the whole sentence on both sides of a slot and, trained on clean copy only, knows
nothing of any spinner: the candidate chooser that issue 16 asks for scores each candidate in its slot with
it. This script trains it; the lattice does not use it yet.

The clean sentences are the ``target`` side of the spun pairs (``training.build_data``: all four corpora,
split by article, so validation and test stories are never trained on). The tokenizer is the repair
model's (``--tokenizer_dir``). A BERT encoder (``--hidden_size``, ``--layers``, ``--heads``) learns with
``DataCollatorForLanguageModeling`` (15% of tokens, 80/10/10) and ``Trainer``; validation reports loss and
perplexity. The schedule is in steps (``--max_steps``, linear decay), so that a job stopped by the clock
(``--stop_after_minutes``: checkpoint and stop, the schedule as it was) resumes across sessions with
``--resume true``; ``--max_train_minutes`` is the fixed-budget alternative of ``train.py`` (the learning rate
decays to zero by then). The final model (``OUTPUT_DIR/model``) is saved in float16 with the tokenizer.
"""

from __future__ import annotations

import json
import logging
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from transformers import (
    BertConfig,
    BertForMaskedLM,
    DataCollatorForLanguageModeling,
    HfArgumentParser,
    PreTrainedTokenizerFast,
    Trainer,
    TrainerCallback,
    set_seed,
)
from transformers import TrainingArguments as HfTrainingArguments

from training.train import find_checkpoint, read_pairs, time_budget_callbacks, use_time_budget

logger = logging.getLogger(__name__)

FINAL_MODEL_DIR = "model"


@dataclass
class MaskedLMArguments:
    dataset_dir: str = field(default="work_data/pairs", metadata={"help": "DatasetDict whose target column is clean news."})
    tokenizer_dir: str = field(default="mtfix/models/default", metadata={"help": "The repair model's tokenizer."})
    hidden_size: int = field(default=256, metadata={"help": "Width of the encoder."})
    layers: int = field(default=4, metadata={"help": "Encoder layers."})
    heads: int = field(default=4, metadata={"help": "Attention heads."})
    max_length: int = field(default=64, metadata={"help": "Tokens kept per sentence (longer ones are cut)."})
    mlm_probability: float = field(default=0.15, metadata={"help": "Share of tokens masked."})
    max_train_samples: int | None = field(default=None, metadata={"help": "Use only N train sentences (shuffled)."})
    max_eval_samples: int | None = field(default=2000, metadata={"help": "Validate on the first N sentences."})
    preprocessing_num_workers: int | None = field(default=None, metadata={"help": "Processes for tokenizing."})

    def __post_init__(self):
        if self.hidden_size % self.heads:
            raise ValueError("--hidden_size must be a multiple of --heads")
        if self.max_length < 8:
            raise ValueError("--max_length must be at least 8")
        if not 0 < self.mlm_probability < 1:
            raise ValueError("--mlm_probability must be between 0 and 1")


@dataclass
class TrainingArguments(HfTrainingArguments):
    output_dir: str = field(default="runs/mlm", metadata={"help": "Checkpoints and the final model."})
    max_steps: int = field(default=200_000, metadata={"help": "Optimisation steps of the whole schedule."})
    learning_rate: float = field(default=5e-4, metadata={"help": "Peak AdamW learning rate."})
    warmup_steps: float = field(default=1000, metadata={"help": "Warm-up steps."})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay."})
    per_device_train_batch_size: int = field(default=64, metadata={"help": "Sentences per step."})
    per_device_eval_batch_size: int = field(default=128, metadata={"help": "Sentences per validation step."})
    eval_strategy: str = field(default="steps", metadata={"help": "Validate every eval_steps."})
    eval_steps: float | None = field(default=2000, metadata={"help": "Validate every N steps."})
    save_steps: float = field(default=500, metadata={"help": "Checkpoint every N steps."})
    save_total_limit: int | None = field(default=2, metadata={"help": "Checkpoints kept."})
    logging_steps: float = field(default=100, metadata={"help": "Log the loss every N steps."})
    report_to: None | str | list[str] = field(default="none", metadata={"help": "Loggers."})
    resume: bool = field(default=False, metadata={"help": "Continue from the last checkpoint in output_dir."})
    torch_threads: int | None = field(default=None, metadata={"help": "torch.set_num_threads on CPU."})
    stop_after_minutes: float | None = field(
        default=None, metadata={"help": "Checkpoint and stop after this much wall time; the schedule stays in steps, "
                                        "so --resume continues it."})
    max_train_minutes: float | None = field(
        default=None,
        metadata={"help": "Train for this much wall time (the learning rate decays to 0 by then) instead of max_steps."},
    )

    def __post_init__(self) -> None:
        if self.stop_after_minutes is not None and self.stop_after_minutes <= 0:
            raise ValueError("--stop_after_minutes must be positive")
        use_time_budget(self)
        super().__post_init__()


class StopAfter(TrainerCallback):
    """Checkpoints and stops after a wall-clock time, leaving the learning-rate schedule as it is."""

    def __init__(self, minutes: float) -> None:
        self.seconds = minutes * 60
        self.start: float | None = None

    def on_train_begin(self, args, state, control, **kwargs):
        self.start = time.monotonic()

    def on_step_end(self, args, state, control, **kwargs):
        if time.monotonic() - (self.start or time.monotonic()) >= self.seconds:
            control.should_training_stop = True
            control.should_save = True
        return control


def get_tokenizer(tokenizer_dir: str) -> PreTrainedTokenizerFast:
    """The repair model's tokenizer with a mask token (the T5's has none: ``<mask>`` is added as the last id)."""
    tokenizer = PreTrainedTokenizerFast.from_pretrained(tokenizer_dir)
    if tokenizer.mask_token is None:
        tokenizer.add_special_tokens({"mask_token": "<mask>"})
    return tokenizer


def get_model(args: MaskedLMArguments, tokenizer: PreTrainedTokenizerFast) -> BertForMaskedLM:
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=args.hidden_size, num_hidden_layers=args.layers,
                        num_attention_heads=args.heads, intermediate_size=4 * args.hidden_size,
                        max_position_embeddings=max(args.max_length, 64), pad_token_id=tokenizer.pad_token_id)
    return BertForMaskedLM(config)


def tokenize(batch: dict, tokenizer: PreTrainedTokenizerFast, max_length: int) -> dict:
    return tokenizer(batch["target"], truncation=True, max_length=max_length, return_special_tokens_mask=True)


def main(argv: list[str] | None = None) -> Path:
    parser = HfArgumentParser((MaskedLMArguments, TrainingArguments))
    args, training_args = parser.parse_args_into_dataclasses(args=argv)
    logging.basicConfig(format="%(asctime)s - %(levelname)s - %(name)s - %(message)s", datefmt="%H:%M:%S",
                        level=logging.INFO, handlers=[logging.StreamHandler(sys.stdout)])
    if training_args.torch_threads:
        torch.set_num_threads(training_args.torch_threads)
    set_seed(training_args.seed)
    output_dir = Path(training_args.output_dir)
    checkpoint = find_checkpoint(training_args)

    tokenizer = get_tokenizer(args.tokenizer_dir)
    pairs = read_pairs(args.dataset_dir)
    train, validation = pairs["train"], pairs["validation"]
    if args.max_train_samples:
        train = train.shuffle(seed=training_args.seed).select(range(min(args.max_train_samples, len(train))))
    if args.max_eval_samples:
        validation = validation.select(range(min(args.max_eval_samples, len(validation))))
    options = {"batched": True, "num_proc": args.preprocessing_num_workers,
               "fn_kwargs": {"tokenizer": tokenizer, "max_length": args.max_length}}
    train = train.map(tokenize, remove_columns=train.column_names, **options)
    validation = validation.map(tokenize, remove_columns=validation.column_names, **options)

    model = get_model(args, tokenizer)
    logger.info("Masked LM: %.2fM parameters, %d train sentences", model.num_parameters() / 1e6, len(train))
    callbacks = time_budget_callbacks(training_args)
    if training_args.stop_after_minutes:
        callbacks.append(StopAfter(training_args.stop_after_minutes))
    trainer = Trainer(model=model, args=training_args, train_dataset=train, eval_dataset=validation,
                      data_collator=DataCollatorForLanguageModeling(tokenizer, mlm_probability=args.mlm_probability,
                                                                    pad_to_multiple_of=8),
                      callbacks=callbacks)
    begin = time.time()
    trainer.train(resume_from_checkpoint=checkpoint)
    metrics = trainer.evaluate()
    metrics["eval_perplexity"] = math.exp(min(metrics["eval_loss"], 50.0))
    final = output_dir / FINAL_MODEL_DIR
    trainer.model.to(torch.float16).save_pretrained(final)
    tokenizer.save_pretrained(final)
    summary = {"steps": trainer.state.global_step, "max_steps": training_args.max_steps,
               "wall_seconds": time.time() - begin, "parameters": model.num_parameters(),
               "train_sentences": len(train), "validation": {k: float(v) for k, v in metrics.items()}}
    (output_dir / "train_summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    logger.info("Saved %s: %s", final, summary["validation"])
    return final


if __name__ == "__main__":
    main()

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
)

from training.encoder import EncoderArguments, EncoderTrainingArguments, get_splits, start_run
from training.train import time_budget_callbacks

logger = logging.getLogger(__name__)

FINAL_MODEL_DIR = "model"


@dataclass
class MaskedLMArguments(EncoderArguments):
    dataset_dir: str = field(default="work_data/pairs", metadata={"help": "DatasetDict whose target column is clean news."})
    hidden_size: int = field(default=256, metadata={"help": "Width of the encoder."})
    max_length: int = field(default=64, metadata={"help": "Tokens kept per sentence (longer ones are cut)."})
    mlm_probability: float = field(default=0.15, metadata={"help": "Share of tokens masked."})

    def __post_init__(self):
        super().__post_init__()
        if not 0 < self.mlm_probability < 1:
            raise ValueError("--mlm_probability must be between 0 and 1")


@dataclass
class TrainingArguments(EncoderTrainingArguments):
    output_dir: str = field(default="runs/mlm", metadata={"help": "Checkpoints and the final model."})
    max_steps: int = field(default=200_000, metadata={"help": "Optimisation steps of the whole schedule."})
    learning_rate: float = field(default=5e-4, metadata={"help": "Peak AdamW learning rate."})
    warmup_steps: float = field(default=1000, metadata={"help": "Warm-up steps."})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay."})
    eval_steps: float | None = field(default=2000, metadata={"help": "Validate every N steps."})
    save_steps: float = field(default=500, metadata={"help": "Checkpoint every N steps."})
    stop_after_minutes: float | None = field(
        default=None, metadata={"help": "Checkpoint and stop after this much wall time; the schedule stays in steps, "
                                        "so --resume continues it."})

    def __post_init__(self) -> None:
        if self.stop_after_minutes is not None and self.stop_after_minutes <= 0:
            raise ValueError("--stop_after_minutes must be positive")
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
    checkpoint = start_run(training_args)
    output_dir = Path(training_args.output_dir)

    tokenizer = get_tokenizer(args.tokenizer_dir)
    train, validation = get_splits(args, training_args.seed)
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

"""Train a T5 model that repairs spun news text (``source``) into wire phrasing (``target``).

    python -m training.train --preset small --dataset_dir work_data/pairs --output_dir runs/small

In the style of transformers' ``examples/pytorch/translation/run_translation.py``: three argument dataclasses
parsed by ``HfArgumentParser``, ``DataCollatorForSeq2Seq`` and ``Seq2SeqTrainer``. On top of it:

* the tokenizer is trained here (``training/tokenizer.py``) unless one exists or ``--init_from`` brings one;
* the model is built from a named preset (``training/presets.py``) or loaded with ``--init_from``;
* validation scores BLEU, chrF++ and TER with sacrebleu for the model *and* for the identity baseline (the
  spun source taken as the repair); the checkpoint with the best validation BLEU is kept;
* ``--resume`` continues from the last checkpoint in ``--output_dir`` (and starts fresh if there is none);
* at the end ``OUTPUT_DIR/model`` holds the model (safetensors) with its tokenizer, ``test_predictions.txt``
  the repaired test sources in order, and ``train_summary.json`` steps, wall time, tokens/s and scores.

Several GPUs: ``torchrun --nproc_per_node 4 -m training.train ...`` or ``accelerate launch -m training.train``;
the Trainer handles the distribution, the per-device batch size applies to each GPU.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import sacrebleu
import torch
import transformers
from datasets import DatasetDict, load_dataset, load_from_disk
from transformers import (
    AutoModelForSeq2SeqLM,
    AutoTokenizer,
    DataCollatorForSeq2Seq,
    EvalPrediction,
    HfArgumentParser,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    Seq2SeqTrainer,
    Seq2SeqTrainingArguments,
    T5ForConditionalGeneration,
    TrainerCallback,
    set_seed,
)
from transformers.trainer_utils import IntervalStrategy, get_last_checkpoint

from training.presets import PRESETS, get_config, padded_vocab_size
from training.tokenizer import has_tokenizer, save_tokenizer, train_tokenizer

logger = logging.getLogger(__name__)

SPLITS = ("train", "validation", "test")
# bf16 autocast on the project's 2-core AMD EPYC (AVX2, no AVX512-BF16/AMX) trained the small preset about 9x
# slower than fp32 (training/README.md), so CPU training defaults to fp32; --bf16 true overrides.
CPU_BF16_DEFAULT = False
FINAL_MODEL_DIR = "model"
SUMMARY_FILE = "train_summary.json"
PREDICTIONS_FILE = "test_predictions.txt"


@dataclass
class ModelArguments:
    preset: str = field(default="small", metadata={"help": f"Model shape: one of {', '.join(PRESETS)}."})
    init_from: str | None = field(
        default=None,
        metadata={
            "help": "Start from this checkpoint (a local directory, or a Hub name such as t5-small, which needs a "
            "network) instead of a fresh preset model. Its tokenizer is used unless --tokenizer_dir is given."
        },
    )
    tokenizer_dir: str | None = field(
        default=None,
        metadata={"help": "Tokenizer directory; trained there if it has none. Default: OUTPUT_DIR/tokenizer."},
    )
    vocab_size: int = field(default=8000, metadata={"help": "Vocabulary size when training the tokenizer."})

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise ValueError(f"--preset must be one of {', '.join(PRESETS)}, not {self.preset!r}")
        if self.vocab_size < 300:
            raise ValueError("--vocab_size must leave room for the 256 byte pieces and the special tokens")


@dataclass
class DataArguments:
    dataset_dir: str = field(
        metadata={
            "help": "A datasets.DatasetDict saved with save_to_disk, with splits train/validation/test and "
            "string columns source (spun) and target (wire phrasing)."
        }
    )
    max_source_length: int = field(default=128, metadata={"help": "Source tokens kept, the rest is cut."})
    max_target_length: int = field(default=128, metadata={"help": "Target tokens kept, the rest is cut."})
    max_train_samples: int | None = field(default=None, metadata={"help": "Use only the first N train pairs."})
    max_eval_samples: int | None = field(default=None, metadata={"help": "Validate on the first N pairs only."})
    max_predict_samples: int | None = field(default=None, metadata={"help": "Predict the first N test pairs."})
    preprocessing_num_workers: int | None = field(default=None, metadata={"help": "Processes for tokenizing."})
    corpus_for_tokenizer: str | None = field(
        default=None,
        metadata={"help": "Text file (one sentence a line) to train the tokenizer on. Default: the train targets."},
    )
    source_prefix: str = field(
        default="", metadata={"help": "Prefix for every source, e.g. 'repair: ' when starting from t5-small."}
    )

    def __post_init__(self) -> None:
        if not Path(self.dataset_dir).is_dir():
            raise ValueError(f"--dataset_dir {self.dataset_dir} is not a directory")
        if self.corpus_for_tokenizer is not None and not Path(self.corpus_for_tokenizer).is_file():
            raise ValueError(f"--corpus_for_tokenizer {self.corpus_for_tokenizer} is not a file")
        for name in ("max_source_length", "max_target_length"):
            if getattr(self, name) < 2:
                raise ValueError(f"--{name} must be at least 2")


@dataclass
class TrainingArguments(Seq2SeqTrainingArguments):
    """``Seq2SeqTrainingArguments`` with defaults for this task and ``--resume``."""

    resume: bool = field(
        default=False, metadata={"help": "Continue from the last checkpoint in --output_dir (fresh if none)."}
    )
    bf16: bool | None = field(
        default=None,
        metadata={"help": "bf16 mixed precision. Default: on for a bf16 GPU; off on CPU, where it was 9x slower."},
    )
    learning_rate: float = field(default=5e-4, metadata={"help": "Peak AdamW learning rate."})
    warmup_steps: float = field(default=0.02, metadata={"help": "Warm-up steps, or a fraction of all steps if < 1."})
    per_device_train_batch_size: int = field(default=32, metadata={"help": "Batch size per device for training."})
    per_device_eval_batch_size: int = field(default=64, metadata={"help": "Batch size per device for validation."})
    eval_strategy: IntervalStrategy | str = field(
        default="steps", metadata={"help": "When to validate: no, steps or epoch."}
    )
    eval_steps: float | None = field(default=500, metadata={"help": "Validate every N steps."})
    save_steps: float = field(default=500, metadata={"help": "Checkpoint every N steps."})
    save_total_limit: int | None = field(default=3, metadata={"help": "Checkpoints kept (the best one too)."})
    logging_steps: float = field(default=50, metadata={"help": "Log the loss every N steps."})
    load_best_model_at_end: bool = field(default=True, metadata={"help": "Keep the best validation checkpoint."})
    metric_for_best_model: str | None = field(default="bleu", metadata={"help": "Validation metric to select on."})
    predict_with_generate: bool = field(default=True, metadata={"help": "Validate on generated text."})
    train_sampling_strategy: str = field(
        default="group_by_length",
        metadata={"help": "random, sequential, group_by_length (less padding) or batch_rebalance."},
    )
    torch_threads: int | None = field(
        default=None,
        metadata={"help": "CPU threads for torch (default: one per core). On a busy machine 1 can be much faster."},
    )
    report_to: None | str | list[str] = field(default="none", metadata={"help": "Loggers: none, tensorboard, ..."})
    max_train_minutes: float | None = field(
        default=None,
        metadata={"help": "Train for this much wall time (the learning rate decays to 0 by then) instead of max_steps."},
    )

    def __post_init__(self) -> None:
        if self.output_dir is None:
            raise ValueError("--output_dir is required")
        use_time_budget(self)
        on_gpu = torch.cuda.is_available() and not self.use_cpu
        if not on_gpu:
            self.use_cpu = True  # also what lets bf16 autocast run on a CPU
        if self.bf16 is None:
            self.bf16 = torch.cuda.is_bf16_supported() if on_gpu else CPU_BF16_DEFAULT
        if self.eval_strategy == "no":
            self.load_best_model_at_end = False
        if "inputs" not in (self.include_for_metrics or []):
            # compute_metrics scores the identity baseline from the (tokenized) sources
            self.include_for_metrics = [*(self.include_for_metrics or []), "inputs"]
        super().__post_init__()


class RepairTrainer(Seq2SeqTrainer):
    """``Seq2SeqTrainer`` that counts the tokens it trains on and the time it spends validating."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._tokens: torch.Tensor | None = None  # summed on the device: no GPU sync per step
        self.eval_seconds = 0.0

    @property
    def train_tokens(self) -> int:
        """Non-padding source and target tokens trained on by this process."""
        return 0 if self._tokens is None else int(self._tokens)

    def training_step(self, model, inputs, num_items_in_batch=None):
        tokens = inputs["attention_mask"].sum() + (inputs["labels"] != -100).sum()
        self._tokens = tokens if self._tokens is None else self._tokens + tokens
        return super().training_step(model, inputs, num_items_in_batch)

    def evaluate(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return super().evaluate(*args, **kwargs)
        finally:
            self.eval_seconds += time.perf_counter() - start


class WallClockBudget(TrainerCallback):
    """Ends training after a wall-clock budget, the learning rate decaying linearly to zero over it.

    For a fixed compute budget on hardware whose speed is not known beforehand (a lent GPU for a few minutes,
    a shared CPU): the schedule ends when the time does, whatever the step rate. It scales the learning rate
    that a constant-with-warmup scheduler sets before every step (``use_time_budget`` selects that scheduler),
    so the logged learning rate is the undecayed one. The last step is evaluated and checkpointed.
    """

    def __init__(self, minutes: float) -> None:
        if minutes <= 0:
            raise ValueError(f"the time budget must be positive, got {minutes} minutes")
        self.seconds = minutes * 60
        self.start: float | None = None

    def on_train_begin(self, args, state, control, **kwargs):
        self.start = time.monotonic()

    def on_step_end(self, args, state, control, optimizer=None, **kwargs):
        left = 1.0 - (time.monotonic() - (self.start or time.monotonic())) / self.seconds
        if optimizer is not None:
            for group in optimizer.param_groups:
                group["lr"] *= max(left, 0.0)
        if left <= 0:
            control.should_training_stop = True
            control.should_save = True
            control.should_evaluate = args.eval_strategy != IntervalStrategy.NO
        return control


def use_time_budget(training_args) -> None:
    """Prepare ``training_args`` (with a ``max_train_minutes`` field) for ``WallClockBudget``."""
    if training_args.max_train_minutes is None:
        return
    if training_args.max_train_minutes <= 0:
        raise ValueError("--max_train_minutes must be positive")
    if 0 < training_args.warmup_steps < 1:
        raise ValueError("with --max_train_minutes give --warmup_steps in steps, not as a fraction of all steps")
    training_args.lr_scheduler_type = "constant_with_warmup"
    training_args.max_steps = 10**9  # the clock ends training


def time_budget_callbacks(training_args) -> list[TrainerCallback]:
    minutes = training_args.max_train_minutes
    return [] if minutes is None else [WallClockBudget(minutes)]


def read_pairs(dataset_dir: str | Path) -> DatasetDict:
    """The pairs in ``dataset_dir``: a ``DatasetDict`` saved by ``training.build_data`` (``save_to_disk``), or JSON
    lines files ``train.jsonl``, ``validation.jsonl`` and ``test.jsonl`` (one object with ``source``, ``target``
    and, for the detector, ``edits`` per line), the portable form for moving pairs to another machine."""
    path = Path(dataset_dir)
    json_files = {split: str(path / f"{split}.jsonl") for split in SPLITS if (path / f"{split}.jsonl").is_file()}
    if json_files and not (path / "dataset_dict.json").is_file():
        return load_dataset("json", data_files=json_files)
    return load_from_disk(str(path))


def parse_args(argv: list[str] | None) -> tuple[ModelArguments, DataArguments, TrainingArguments]:
    parser = HfArgumentParser((ModelArguments, DataArguments, TrainingArguments))
    return parser.parse_args_into_dataclasses(args=argv)


def load_pairs(data_args: DataArguments) -> DatasetDict:
    pairs = read_pairs(data_args.dataset_dir)
    if not isinstance(pairs, DatasetDict) or any(split not in pairs for split in SPLITS):
        raise ValueError(f"{data_args.dataset_dir} must be a DatasetDict with splits {', '.join(SPLITS)}")
    for split in SPLITS:
        missing = {"source", "target"} - set(pairs[split].column_names)
        if missing:
            raise ValueError(f"split {split} of {data_args.dataset_dir} lacks the columns {sorted(missing)}")
    limits = {
        "train": data_args.max_train_samples,
        "validation": data_args.max_eval_samples,
        "test": data_args.max_predict_samples,
    }
    return DatasetDict(
        {
            split: pairs[split].select(range(min(limit, len(pairs[split])))) if limit is not None else pairs[split]
            for split, limit in limits.items()
        }
    )


def get_tokenizer(
    model_args: ModelArguments, data_args: DataArguments, training_args: TrainingArguments, pairs: DatasetDict
) -> PreTrainedTokenizerBase:
    if model_args.init_from is not None and model_args.tokenizer_dir is None:
        return AutoTokenizer.from_pretrained(model_args.init_from)
    tokenizer_dir = Path(model_args.tokenizer_dir or Path(training_args.output_dir) / "tokenizer")
    with training_args.main_process_first(desc="tokenizer training"):
        if not has_tokenizer(tokenizer_dir):
            if data_args.corpus_for_tokenizer is not None:
                with open(data_args.corpus_for_tokenizer, encoding="utf-8") as corpus:
                    sentences = [line.rstrip("\n") for line in corpus]
            else:
                sentences = pairs["train"]["target"]
            logger.info("Training a %d-piece tokenizer on %d sentences", model_args.vocab_size, len(sentences))
            train_tokenizer(sentences, tokenizer_dir, model_args.vocab_size)
        return AutoTokenizer.from_pretrained(tokenizer_dir)


def get_model(model_args: ModelArguments, tokenizer: PreTrainedTokenizerBase) -> PreTrainedModel:
    if model_args.init_from is not None:
        # float32 master weights whatever the checkpoint stores (the bundled model is bfloat16): bf16
        # mixed precision on a GPU casts per operation, and bf16 weights lose small updates.
        model = AutoModelForSeq2SeqLM.from_pretrained(model_args.init_from, dtype=torch.float32)
        if len(tokenizer) > model.get_input_embeddings().weight.shape[0]:
            model.resize_token_embeddings(padded_vocab_size(len(tokenizer)))
    else:
        model = T5ForConditionalGeneration(get_config(model_args.preset, padded_vocab_size(len(tokenizer))))
    if model.config.decoder_start_token_id is None:
        raise ValueError("the model config has no decoder_start_token_id")
    return model


def tokenize_pairs(
    pairs: DatasetDict, tokenizer: PreTrainedTokenizerBase, data_args: DataArguments, training_args: TrainingArguments
) -> DatasetDict:
    def preprocess(batch: dict[str, list[str]]) -> dict[str, list[list[int]]]:
        sources = [data_args.source_prefix + source for source in batch["source"]]
        inputs = tokenizer(sources, max_length=data_args.max_source_length, truncation=True)
        targets = tokenizer(text_target=batch["target"], max_length=data_args.max_target_length, truncation=True)
        inputs["labels"] = targets["input_ids"]
        return inputs

    with training_args.main_process_first(desc="tokenizing"):
        return pairs.map(
            preprocess,
            batched=True,
            num_proc=data_args.preprocessing_num_workers,
            remove_columns=pairs["train"].column_names,
            desc="Tokenizing",
        )


def score(hypotheses: list[str], references: list[str], sources: list[str]) -> dict[str, float]:
    """BLEU, chrF++ and TER of ``hypotheses`` and of the identity baseline (``sources`` as they are)."""
    metrics: dict[str, float] = {}
    for name, candidates in (("", hypotheses), ("identity_", sources)):
        metrics[f"{name}bleu"] = sacrebleu.corpus_bleu(candidates, [references]).score
        metrics[f"{name}chrf"] = sacrebleu.corpus_chrf(candidates, [references], word_order=2).score
        metrics[f"{name}ter"] = sacrebleu.corpus_ter(candidates, [references]).score
    metrics["bleu_gain"] = metrics["bleu"] - metrics["identity_bleu"]
    return {key: round(value, 3) for key, value in metrics.items()}


def decode(tokenizer: PreTrainedTokenizerBase, ids: np.ndarray) -> list[str]:
    """Decode a padded id matrix from the Trainer (-100 marks padding)."""
    ids = np.where(ids != -100, ids, tokenizer.pad_token_id)
    return tokenizer.batch_decode(ids, skip_special_tokens=True)


def get_compute_metrics(tokenizer: PreTrainedTokenizerBase, source_prefix: str = ""):
    def compute_metrics(eval_preds: EvalPrediction) -> dict[str, float]:
        predictions = eval_preds.predictions[0] if isinstance(eval_preds.predictions, tuple) else eval_preds.predictions
        sources = [s.removeprefix(source_prefix) for s in decode(tokenizer, eval_preds.inputs)]
        # Sources and references are decoded from the token ids (exact, thanks to byte fallback): the eval sampler
        # reorders examples by length, and the model and the baseline are scored on the same truncated text.
        return score(decode(tokenizer, predictions), decode(tokenizer, eval_preds.label_ids), sources)

    return compute_metrics


def get_trainer(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    data: DatasetDict,
    data_args: DataArguments,
    training_args: TrainingArguments,
) -> RepairTrainer:
    if training_args.generation_max_length is None:
        training_args.generation_max_length = model.generation_config.max_length
    on_gpu = torch.cuda.is_available() and not training_args.use_cpu
    collator = DataCollatorForSeq2Seq(tokenizer, model=model, pad_to_multiple_of=8 if on_gpu else None)
    return RepairTrainer(
        model=model,
        args=training_args,
        data_collator=collator,
        train_dataset=data["train"],
        eval_dataset=data["validation"] if training_args.eval_strategy != "no" else None,
        processing_class=tokenizer,
        compute_metrics=get_compute_metrics(tokenizer, data_args.source_prefix),
        callbacks=time_budget_callbacks(training_args),
    )


def find_checkpoint(training_args: TrainingArguments) -> str | None:
    """The checkpoint to resume from; refuses to silently overwrite checkpoints without ``--resume``."""
    output_dir = training_args.output_dir
    last = get_last_checkpoint(output_dir) if os.path.isdir(output_dir) else None
    if last is not None and not training_args.resume:
        raise ValueError(f"{output_dir} has checkpoints: pass --resume to continue, or use another --output_dir")
    if training_args.resume and last is None:
        logger.warning("--resume: no checkpoint in %s, starting from scratch", output_dir)
    return last


@torch.inference_mode()
def generate(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    sources: list[str],
    batch_size: int = 32,
    max_source_length: int = 128,
    max_length: int | None = None,
    num_beams: int = 1,
) -> list[str]:
    """Repair ``sources`` in order (batched by length for speed).

    ``max_length`` bounds the decoder sequence (start token included); default: the model's generation config.
    """
    model.eval()
    order = sorted(range(len(sources)), key=lambda i: len(sources[i]))
    repaired = [""] * len(sources)
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        inputs = tokenizer(
            [sources[i] for i in batch],
            max_length=max_source_length,
            truncation=True,
            padding=True,
            return_tensors="pt",
        ).to(model.device)
        lengths = {} if max_length is None else {"max_length": max_length}
        outputs = model.generate(**inputs, num_beams=num_beams, **lengths)
        for i, text in zip(batch, tokenizer.batch_decode(outputs, skip_special_tokens=True)):
            repaired[i] = text
    return repaired


def save_model(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, out_dir: str | Path) -> Path:
    """Save ``model`` (safetensors) and ``tokenizer`` so that the Auto classes load the directory."""
    out_dir = Path(out_dir)
    model.save_pretrained(out_dir)  # safetensors: the only format transformers 5 writes
    save_tokenizer(tokenizer, out_dir)
    return out_dir


def export_model(checkpoint_dir: str | Path, out_dir: str | Path, dtype: str = "bfloat16") -> Path:
    """Write a compact copy of a model directory or checkpoint, its weights cast to ``dtype``.

    bfloat16 halves the size; float16 is not offered because T5 activations overflow it.
    """
    dtypes = {"bfloat16": torch.bfloat16, "float32": torch.float32}
    if dtype not in dtypes:
        raise ValueError(f"dtype must be one of {', '.join(dtypes)}, not {dtype!r}")
    model = AutoModelForSeq2SeqLM.from_pretrained(checkpoint_dir).to(dtypes[dtype])
    tokenizer = AutoTokenizer.from_pretrained(checkpoint_dir)
    return save_model(model, tokenizer, out_dir)


def describe_device(training_args: TrainingArguments) -> str:
    if training_args.use_cpu or not torch.cuda.is_available():
        return f"cpu ({torch.get_num_threads()} threads)"
    return f"{training_args.world_size} x {torch.cuda.get_device_name()}"


def main(argv: list[str] | None = None) -> Path:
    """Train, save ``OUTPUT_DIR/model`` and return its path. ``argv`` defaults to the command line."""
    model_args, data_args, training_args = parse_args(argv)
    threads = torch.get_num_threads()
    if training_args.torch_threads is not None:
        torch.set_num_threads(training_args.torch_threads)
    try:
        return run(model_args, data_args, training_args)
    finally:
        torch.set_num_threads(threads)  # main() also runs inside test processes


def run(model_args: ModelArguments, data_args: DataArguments, training_args: TrainingArguments) -> Path:
    logging.basicConfig(
        format="%(asctime)s - %(levelname)s - %(name)s - %(message)s",
        datefmt="%H:%M:%S",
        handlers=[logging.StreamHandler(sys.stdout)],
    )
    log_level = training_args.get_process_log_level()
    logger.setLevel(log_level)
    transformers.utils.logging.set_verbosity(log_level)
    set_seed(training_args.seed)

    output_dir = Path(training_args.output_dir)
    checkpoint = find_checkpoint(training_args)
    pairs = load_pairs(data_args)
    tokenizer = get_tokenizer(model_args, data_args, training_args, pairs)
    model = get_model(model_args, tokenizer)
    # Room for a whole target: the decoder sequence is the start token and up to max_target_length tokens.
    model.generation_config.max_length = data_args.max_target_length + 1
    logger.info("Model: %s, %.1fM parameters", model_args.init_from or model_args.preset, model.num_parameters() / 1e6)
    data = tokenize_pairs(pairs, tokenizer, data_args, training_args)
    trainer = get_trainer(model, tokenizer, data, data_args, training_args)

    start = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=checkpoint)
    train_seconds = time.perf_counter() - start
    train_only_seconds = train_seconds - trainer.eval_seconds
    eval_metrics = trainer.evaluate() if training_args.eval_strategy != "no" else {}

    if not trainer.is_world_process_zero():
        return output_dir / FINAL_MODEL_DIR
    final_dir = save_model(trainer.model, tokenizer, output_dir / FINAL_MODEL_DIR)
    test = pairs["test"]
    sources = [data_args.source_prefix + source for source in test["source"]]
    predictions = generate(
        trainer.model,
        tokenizer,
        sources,
        batch_size=training_args.per_device_eval_batch_size,
        max_source_length=data_args.max_source_length,
        max_length=training_args.generation_max_length,
        num_beams=training_args.generation_num_beams or 1,
    )
    (output_dir / PREDICTIONS_FILE).write_text(
        "".join(prediction.replace("\n", " ") + "\n" for prediction in predictions), encoding="utf-8"
    )
    summary = {
        "model": model_args.init_from or model_args.preset,
        "parameters": trainer.model.num_parameters(),
        "vocab_size": len(tokenizer),
        "device": describe_device(training_args),
        "bf16": bool(training_args.bf16),
        "steps": trainer.state.global_step,
        "epochs": round(trainer.state.epoch or 0.0, 3),
        "resumed_from": checkpoint,
        "wall_time_s": round(train_seconds, 1),
        "eval_time_s": round(trainer.eval_seconds, 1),
        "train_tokens": trainer.train_tokens * training_args.world_size,
        "tokens_per_second": round(trainer.train_tokens * training_args.world_size / max(train_only_seconds, 1e-9)),
        "train_loss": result.training_loss if math.isfinite(result.training_loss) else None,
        "best_checkpoint": trainer.state.best_model_checkpoint,
        "validation": eval_metrics,
        "test": score(predictions, test["target"], test["source"]) if len(test) else {},
        "data": {split: len(pairs[split]) for split in SPLITS},
        "args": {"model": asdict(model_args), "data": asdict(data_args)},
    }
    (output_dir / SUMMARY_FILE).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    logger.info("Saved %s; test %s", final_dir, summary["test"])
    return final_dir


if __name__ == "__main__":
    main()

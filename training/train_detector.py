"""Train the spin detector: a small BERT that marks, token by token, the words a spinner wrote.

    python -m training.train_detector --dataset_dir work_data/pairs --output_dir runs/detector

The lattice (``mtfix.lattice``) knows which restorations are *possible* and the news LM which are
fluent, but a 4-gram sees three words of context: it misses spun words that read fluently nearby and
"corrects" real ones that read oddly. The detector reads the whole sentence and answers the other
question, *whether* a word was spun; the lattice adds its log-odds to every change (see
``mtfix.detector``). It is a token classifier, which learns steadily from the first step, unlike a
seq2seq model that must first discover copying.

Labels come from the pairs' ``edits`` (character spans of the spun words in ``source``): a subword token
overlapping an edit is 1, every other token 0.

With ``--original_words N`` the encoder gets a second head that predicts, at the first subword of every
word, which of the N most frequent news words (or "another word") the wire copy had there: the
source and target words are aligned with difflib. The lattice uses it to *choose* among candidate
originals with the whole sentence in view, where the 4-gram LM sees three words.

The tokenizer is the repair model's (``--tokenizer_dir``). In the style of ``train.py``: argument
dataclasses, ``DataCollatorForTokenClassification``, ``Trainer``, checkpoints, ``--resume``; validation
reports token precision, recall and F1 of the spun class. The final model (``OUTPUT_DIR/model``) is saved
in float16; ``export_detector`` writes it as bundled in ``<model dir>/detector`` (word tables in int8).
"""

from __future__ import annotations

import collections
import difflib
import json
import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from transformers import (
    BertConfig,
    BertForTokenClassification,
    BertModel,
    BertPreTrainedModel,
    DataCollatorForTokenClassification,
    EvalPrediction,
    HfArgumentParser,
    PreTrainedTokenizerFast,
    Trainer,
)
from transformers.modeling_outputs import TokenClassifierOutput

from mtfix.detector import ORIGINALS_FILE, OTHER_WORD
from mtfix.text import lm_form
from mtfix.text import tokenize as word_tokens

from training.encoder import EncoderArguments, EncoderTrainingArguments, get_splits, start_run
from training.train import time_budget_callbacks

logger = logging.getLogger(__name__)

FINAL_MODEL_DIR = "model"


@dataclass
class DetectorArguments(EncoderArguments):
    dataset_dir: str = field(default="work_data/pairs", metadata={"help": "DatasetDict with source and edits."})
    original_words: int = field(default=0, metadata={"help": "Also predict each word's original among this many "
                                                            "words (0: detector only)."})
    init_from: str | None = field(default=None, metadata={"help": "Start from this detector directory (its shape, "
                                                           "heads and original words) instead of at random."})
    originals_file: str | None = field(default=None, metadata={"help": "The words, one a line, most frequent first "
                                                                 "(default: counted in the train targets)."})


@dataclass
class TrainingArguments(EncoderTrainingArguments):
    output_dir: str = field(default="runs/detector", metadata={"help": "Checkpoints and the final model."})
    max_steps: int = field(default=6000, metadata={"help": "Optimisation steps."})
    learning_rate: float = field(default=1e-3, metadata={"help": "Peak AdamW learning rate."})
    warmup_steps: float = field(default=300, metadata={"help": "Warm-up steps."})
    eval_steps: float | None = field(default=1000, metadata={"help": "Validate every N steps."})
    save_steps: float = field(default=1000, metadata={"help": "Checkpoint every N steps."})


def get_tokenizer(tokenizer_dir: str) -> PreTrainedTokenizerFast:
    return PreTrainedTokenizerFast.from_pretrained(tokenizer_dir, local_files_only=True)


class DetectorWithOriginals(BertPreTrainedModel):
    """The detector's encoder and head, plus a head over the original-word vocabulary
    (``config.original_words`` classes, 0 for any other word) trained only where a word starts."""

    def __init__(self, config: BertConfig):
        super().__init__(config)
        self.bert = BertModel(config, add_pooling_layer=False)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.originals = nn.Linear(config.hidden_size, config.original_words)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, labels=None, original_labels=None, **kwargs):
        hidden = self.dropout(self.bert(input_ids, attention_mask=attention_mask).last_hidden_state)
        logits = self.classifier(hidden)
        loss = None
        if labels is not None:
            loss = nn.functional.cross_entropy(logits.view(-1, logits.shape[-1]).float(), labels.view(-1))
            if original_labels is not None:
                at_words = original_labels != -100  # the big head runs only where it is trained
                word_logits = self.originals(hidden[at_words]).float()
                loss = loss + nn.functional.cross_entropy(word_logits, original_labels[at_words])
        return TokenClassifierOutput(loss=loss, logits=logits)


class CollatorWithOriginals(DataCollatorForTokenClassification):
    def torch_call(self, features):
        originals = [feature.pop("original_labels") for feature in features]
        batch = super().torch_call(features)
        length = batch["input_ids"].shape[1]
        batch["original_labels"] = torch.tensor([o + [-100] * (length - len(o)) for o in originals], dtype=torch.long)
        return batch


def count_original_words(targets, size: int) -> list[str]:
    """The ``size`` most frequent word forms (``lm_form``) of ``targets``, most frequent first."""
    counts = collections.Counter(lm_form(t.text) for target in targets for t in word_tokens(target) if t.is_word)
    return [word for word, _ in counts.most_common(size)]


def original_labels(source: str, target: str, offsets: list[tuple[int, int]], index: dict[str, int]) -> list[int]:
    """Per subword token: the vocabulary id of the wire word at the source word starting there
    (``OTHER_WORD`` outside the vocabulary), -100 elsewhere. Words of a replaced stretch pair off in
    order; an unequal stretch labels only its first word (the lattice scores a candidate by its first)."""
    source_words, target_words = word_tokens(source), word_tokens(target)
    matcher = difflib.SequenceMatcher(None, [t.text.lower() for t in source_words],
                                      [t.text.lower() for t in target_words], autojunk=False)
    aligned: dict[int, str] = {}
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
            aligned.update((i1 + k, target_words[j1 + k].text) for k in range(i2 - i1))
        elif tag == "replace":
            aligned[i1] = target_words[j1].text
    owner = [-1] * (len(source) + 1)
    for position, (start, end) in enumerate(offsets):
        for char in range(start, end):
            if owner[char] == -1:
                owner[char] = position
    labels = [-100] * len(offsets)
    for i, word in enumerate(source_words):
        if word.is_word and i in aligned and owner[word.start] >= 0 and labels[owner[word.start]] == -100:
            labels[owner[word.start]] = index.get(lm_form(aligned[i]), OTHER_WORD)
    return labels


def get_model(args: DetectorArguments, tokenizer: PreTrainedTokenizerFast) -> BertForTokenClassification:
    if args.init_from:
        model_class = DetectorWithOriginals if args.original_words else BertForTokenClassification
        return model_class.from_pretrained(args.init_from, local_files_only=True, dtype=torch.float32)
    config = BertConfig(
        vocab_size=len(tokenizer), hidden_size=args.hidden_size, num_hidden_layers=args.layers,
        num_attention_heads=args.heads, intermediate_size=4 * args.hidden_size, max_position_embeddings=args.max_length,
        type_vocab_size=1, num_labels=2, pad_token_id=tokenizer.pad_token_id,
        hidden_act="relu",  # mtfix.detector runs the encoder in numpy, which has no erf for GELU
        id2label={0: "kept", 1: "spun"}, label2id={"kept": 0, "spun": 1},
    )
    if args.original_words:
        config.original_words = args.original_words + 1  # + OTHER_WORD
        return DetectorWithOriginals(config)
    return BertForTokenClassification(config)


def token_labels(offsets: list[tuple[int, int]], edits: list[dict]) -> list[int]:
    """1 for each token overlapping an edit's character span, else 0 (-100 for special tokens)."""
    spans = [(edit["start"], edit["end"]) for edit in edits]
    labels = []
    for start, end in offsets:
        if start == end:
            labels.append(-100)  # </s> and other added tokens
        else:
            labels.append(int(any(start < edit_end and end > edit_start for edit_start, edit_end in spans)))
    return labels


def tokenize(batch: dict, tokenizer: PreTrainedTokenizerFast, max_length: int, originals: dict[str, int] | None = None) -> dict:
    encoded = tokenizer(batch["source"], truncation=True, max_length=max_length, return_offsets_mapping=True)
    offsets = encoded.pop("offset_mapping")
    encoded["labels"] = [token_labels(o, edits) for o, edits in zip(offsets, batch["edits"])]
    if originals is not None:
        encoded["original_labels"] = [original_labels(source, target, o, originals)
                                      for source, target, o in zip(batch["source"], batch["target"], offsets)]
    return encoded


def compute_metrics(prediction: EvalPrediction) -> dict[str, float]:
    logits, labels = prediction.predictions, prediction.label_ids
    predicted = logits.argmax(-1)
    scored = labels != -100
    true_positive = int(((predicted == 1) & (labels == 1) & scored).sum())
    precision = true_positive / max(int(((predicted == 1) & scored).sum()), 1)
    recall = true_positive / max(int(((labels == 1) & scored).sum()), 1)
    f1 = 2 * precision * recall / max(precision + recall, 1e-9)
    return {"precision": precision, "recall": recall, "f1": f1,
            "accuracy": float(((predicted == labels) & scored).sum() / max(int(scored.sum()), 1))}


def export_detector(model_dir: str | Path, out_dir: str | Path, originals_file: str | Path | None = None) -> Path:
    """The detector of ``model_dir`` (a final model or a checkpoint) as bundled in ``<model dir>/detector``:
    float16, with the word tables (embeddings, original-word head) in row-scaled int8 (``mtfix.detector.quantized``),
    and its original words. Tokenizer files are left out: a bundled detector uses the repair model's."""
    from safetensors.numpy import load_file, save_file

    from mtfix.detector import quantized

    model_dir, out_dir = Path(model_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    weights = {name: value.astype(np.float16) for name, value in load_file(str(model_dir / "model.safetensors")).items()}
    tables = [name for name in ("bert.embeddings.word_embeddings.weight", "originals.weight") if name in weights]
    save_file(quantized(weights, tables), str(out_dir / "model.safetensors"))
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    config["dtype"] = "float16"
    (out_dir / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    originals = Path(originals_file) if originals_file else model_dir / ORIGINALS_FILE
    if "originals.weight" in weights:
        words = originals.read_text(encoding="utf-8").split("\n")[: len(weights["originals.weight"]) - 1]
        (out_dir / ORIGINALS_FILE).write_text("\n".join(words), encoding="utf-8")
    return out_dir


def import_detector(bundled_dir: str | Path, out_dir: str | Path) -> Path:
    """A bundled detector (``export_detector``'s output) as a checkpoint ``--init_from`` reads: the int8 word
    tables back to float16, and its original words, so a run can continue from what the package ships."""
    from safetensors.numpy import load_file, save_file

    from mtfix.detector import dequantized

    bundled_dir, out_dir = Path(bundled_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    weights = {name: value.astype(np.float16) for name, value in dequantized(load_file(str(bundled_dir / "model.safetensors"))).items()}
    save_file(weights, str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    shutil.copyfile(bundled_dir / "config.json", out_dir / "config.json")
    if (bundled_dir / ORIGINALS_FILE).is_file():
        shutil.copyfile(bundled_dir / ORIGINALS_FILE, out_dir / ORIGINALS_FILE)
    return out_dir


def main(argv: list[str] | None = None) -> Path:
    parser = HfArgumentParser((DetectorArguments, TrainingArguments))
    args, training_args = parser.parse_args_into_dataclasses(args=argv)
    checkpoint = start_run(training_args)
    output_dir = Path(training_args.output_dir)

    tokenizer = get_tokenizer(args.tokenizer_dir)
    train, validation = get_splits(args, training_args.seed)
    columns = train.column_names
    words = None
    if args.original_words:
        if args.init_from and not args.originals_file and (Path(args.init_from) / ORIGINALS_FILE).is_file():
            args.originals_file = str(Path(args.init_from) / ORIGINALS_FILE)
        if args.originals_file:
            words = Path(args.originals_file).read_text(encoding="utf-8").split("\n")[: args.original_words]
        else:
            words = count_original_words(train.select(range(min(len(train), 300_000)))["target"], args.original_words)
    originals = None if words is None else {word: i + 1 for i, word in enumerate(words)}  # 0: OTHER_WORD
    options = {"batched": True, "num_proc": args.preprocessing_num_workers,
               "fn_kwargs": {"tokenizer": tokenizer, "max_length": args.max_length, "originals": originals}}
    train = train.map(tokenize, remove_columns=columns, **options)
    validation = validation.map(tokenize, remove_columns=validation.column_names, **options)

    if words:
        training_args.label_names = ["labels"]  # validation metrics are the detector's; the word head adds to the loss
    model = get_model(args, tokenizer)
    logger.info("Detector: %.2fM parameters, %d train sentences", model.num_parameters() / 1e6, len(train))
    trainer = Trainer(model=model, args=training_args, train_dataset=train, eval_dataset=validation,
                      data_collator=(CollatorWithOriginals if words else DataCollatorForTokenClassification)(
                          tokenizer, pad_to_multiple_of=8),
                      compute_metrics=compute_metrics, callbacks=time_budget_callbacks(training_args))
    begin = time.time()
    trainer.train(resume_from_checkpoint=checkpoint)
    metrics = trainer.evaluate()
    final = output_dir / FINAL_MODEL_DIR
    trainer.model.to(torch.float16).save_pretrained(final)  # numpy (mtfix.detector) has no bfloat16
    tokenizer.save_pretrained(final)
    if words is not None:
        (final / ORIGINALS_FILE).write_text("\n".join(words), encoding="utf-8")
    summary = {"steps": trainer.state.global_step, "wall_seconds": time.time() - begin,
               "parameters": model.num_parameters(), "train_sentences": len(train),
               "validation": {k: float(v) for k, v in metrics.items()}}
    (output_dir / "train_summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    logger.info("Saved %s: %s", final, summary["validation"])
    return final


if __name__ == "__main__":
    main()

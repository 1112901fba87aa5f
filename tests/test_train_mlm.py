"""training.train_mlm: a masked LM on clean news (the bidirectional context model of the chooser)."""

import json

import pytest
import torch
from datasets import Dataset, DatasetDict


def test_smoke_run_checkpoints_resumes_and_saves_a_model_that_fills_masks(tmp_path):
    from transformers import BertForMaskedLM, PreTrainedTokenizerFast

    from training.train_mlm import main

    sentences = ["The army said the town was calm.", "Police said the talks had failed.",
                 "The minister said the report was false.", "Rebels said the ceasefire had held."]
    rows = Dataset.from_dict({"source": sentences * 4, "target": sentences * 4})
    pairs = tmp_path / "pairs"
    DatasetDict({"train": rows, "validation": rows.select(range(4))}).save_to_disk(str(pairs))
    args = ["--dataset_dir", str(pairs), "--output_dir", str(tmp_path / "run"), "--hidden_size", "16", "--layers", "1",
            "--heads", "2", "--max_steps", "4", "--eval_steps", "2", "--save_steps", "2", "--logging_steps", "1",
            "--per_device_train_batch_size", "4", "--torch_threads", "1", "--warmup_steps", "0"]
    with pytest.raises(ValueError, match="stop_after_minutes"):
        main([*args, "--stop_after_minutes", "0"])
    # Stopped by the clock after its first step: a checkpoint, and the schedule still of 4 steps.
    main([*args, "--stop_after_minutes", "0.0001"])
    summary = json.loads((tmp_path / "run" / "train_summary.json").read_text())
    assert summary["steps"] == 1 and summary["max_steps"] == 4
    assert (tmp_path / "run" / "checkpoint-1").is_dir()
    with pytest.raises(ValueError, match="--resume"):
        main(args)  # checkpoints are never overwritten silently
    final = main([*args, "--resume", "true"])
    summary = json.loads((tmp_path / "run" / "train_summary.json").read_text())
    assert summary["steps"] == 4 and summary["validation"]["eval_perplexity"] > 1

    tokenizer = PreTrainedTokenizerFast.from_pretrained(final)
    model = BertForMaskedLM.from_pretrained(final)
    assert tokenizer.mask_token == "<mask>" and model.config.vocab_size == len(tokenizer)
    assert next(model.parameters()).dtype == torch.float16
    encoded = tokenizer("The army <mask> the town was calm.", return_tensors="pt")
    logits = model.float()(**encoded).logits
    assert logits.shape[-1] == len(tokenizer)

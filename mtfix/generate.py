"""Free generation: the seq2seq model rewrites each sentence, and every word it changes is scored
by the probabilities the model gave the tokens it wrote."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Collection

from .model import LoadedModel


@dataclass
class Generated:
    text: str
    # (end character offset in ``text``, probability) per generated token, in order
    token_probs: list[tuple[int, float]]

    def span_confidence(self, start: int, end: int) -> float:
        """The lowest probability among the tokens that wrote characters ``start:end`` (for an
        empty range: the token that follows it), so one unsure token makes the whole edit unsure."""
        probs, token_start = [], 0
        for token_end, prob in self.token_probs:
            overlaps = token_start < end and token_end > start
            follows = start == end and token_end > start
            if overlaps or (follows and not probs):
                probs.append(prob)
                if follows and start == end:
                    break
            token_start = token_end
        return min(probs) if probs else 1.0


class FreeGenerator:
    def __init__(self, loaded: LoadedModel, num_beams: int = 1):
        self.loaded = loaded
        self.num_beams = num_beams

    def generate(self, sentences: list[str]) -> list[Generated]:
        import torch  # imported here: the CTranslate2 engine shares this module but needs no torch

        tokenizer, model = self.loaded.tokenizer, self.loaded.model
        batch = tokenizer(sentences, return_tensors="pt", padding=True, truncation=True,
                          max_length=self.loaded.max_source_length).to(model.device)
        longest = int(batch["attention_mask"].sum(dim=1).max())
        with torch.inference_mode():
            output = model.generate(
                **batch,
                num_beams=self.num_beams,
                do_sample=False,
                # As max_length (decoder start token included), not max_new_tokens: the model's generation config
                # has a max_length, and both set print a warning on every call.
                max_length=int(longest * 1.5) + 9,
                output_scores=True,
                return_dict_in_generate=True,
            )
            scores = model.compute_transition_scores(
                output.sequences, output.scores, getattr(output, "beam_indices", None), normalize_logits=True
            )
        results = []
        start_offset = output.sequences.shape[1] - scores.shape[1]
        for row, row_scores in zip(output.sequences, scores):
            ids = row[start_offset:].tolist()
            results.append(self._with_offsets(ids, row_scores.tolist()))
        return results

    def _with_offsets(self, ids: list[int], logprobs: list[float]) -> Generated:
        return generated_from_ids(self.loaded.tokenizer, ids, logprobs)


def generated_from_ids(tokenizer: Any, ids: list[int], logprobs: list[float],
                       special_ids: Collection[int] | None = None) -> Generated:
    """The text of generated token ``ids`` and, per non-special token, the end offset of its text and
    its probability. Shared by the torch and CTranslate2 engines (mtfix.fast), so both cut alike."""
    special = set(tokenizer.all_special_ids) if special_ids is None else special_ids
    token_probs, kept = [], []
    for token_id, logprob in zip(ids, logprobs):
        if token_id in special:
            continue
        kept.append(token_id)
        end = len(tokenizer.decode(kept, skip_special_tokens=True))
        token_probs.append((end, math.exp(logprob) if math.isfinite(logprob) else 0.0))
    return Generated(tokenizer.decode(kept, skip_special_tokens=True), token_probs)


def sequence_logprobs(loaded: LoadedModel, sources: list[str], targets: list[str]) -> list[float]:
    """ln P_seq2seq(target | source) for each pair, by teacher forcing (one forward pass)."""
    import torch

    tokenizer, model = loaded.tokenizer, loaded.model
    batch = tokenizer(sources, return_tensors="pt", padding=True, truncation=True,
                      max_length=loaded.max_source_length).to(model.device)
    labels = tokenizer(text_target=targets, return_tensors="pt", padding=True, truncation=True,
                       max_length=int(loaded.max_source_length * 1.5))["input_ids"].to(model.device)
    mask = labels != tokenizer.pad_token_id
    with torch.inference_mode():
        logits = model(**batch, labels=labels.masked_fill(~mask, -100)).logits
        token_logprobs = torch.log_softmax(logits.float(), dim=-1).gather(-1, labels.unsqueeze(-1)).squeeze(-1)
        return (token_logprobs * mask).sum(dim=1).tolist()

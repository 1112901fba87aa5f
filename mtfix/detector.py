"""The spin detector: how likely each word of a sentence is to have been written by a spinner.

A small BERT token classifier (``training/train_detector.py``) reads the whole sentence, where the
lattice's 4-gram LM sees three words either side. The lattice adds, to each change candidate, the
detector's log-odds that its span was spun (see :meth:`SpinDetector.scores`), so that a fluent-looking
spun word can still be restored and an odd-looking real word left alone.

The encoder runs in numpy from the safetensors weights: it has 1.8M parameters, so numpy is fast
enough, and the lattice path stays free of torch (quick start-up, safe to fork into workers).
``tests/test_detector.py`` checks the logits against transformers' own BertForTokenClassification.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .candidates import Candidate, change_spans
from .text import Token

DETECTOR_DIR = "detector"
_PROBABILITY_FLOOR = 1e-4  # log-odds stay finite: a detector is never certain
_CHUNK = 32  # sentences per encoder call
# A detector trained with --original_words also predicts each word's original among the words of this
# file (class i + 1 for line i); class OTHER_WORD is any other word.
ORIGINALS_FILE = "originals.txt"
OTHER_WORD = 0


class SpinDetector:
    """A BERT (ReLU, post-layer-norm) token classifier with labels 0 "kept", 1 "spun"."""

    def __init__(self, weights: dict[str, np.ndarray], config: dict, tokenizer):
        if config.get("hidden_act") != "relu" or config.get("num_labels", 2) != 2:
            raise ValueError("the spin detector must be a 2-label BERT with ReLU activations")
        # Linear weights are stored transposed and contiguous, and applied to 2-D activations: a 3-D
        # matmul with a transposed view runs far from BLAS speed (24 ms against about 1 for a batch).
        self.w = {name: np.ascontiguousarray(value.astype(np.float32).T if name.endswith(".weight") and value.ndim == 2
                                             and "embeddings" not in name else value.astype(np.float32))
                  for name, value in weights.items()}
        self.layers = int(config["num_hidden_layers"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.max_length = int(config["max_position_embeddings"])
        self.tokenizer = tokenizer
        self.tokenizer.enable_truncation(self.max_length)

    @classmethod
    def load(cls, path: str | Path) -> "SpinDetector":
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        path = Path(path)
        # Bundled inside a model directory, the detector shares the repair model's tokenizer.
        tokenizer = next((p for p in (path / "tokenizer.json", path.parent / "tokenizer.json") if p.is_file()), None)
        missing = [name for name in ("config.json", "model.safetensors") if not (path / name).is_file()]
        if tokenizer is None:
            missing.append("tokenizer.json (here or in the model directory above)")
        if missing:
            from .model import ModelNotFoundError

            raise ModelNotFoundError(f"spin detector {path} is missing: {', '.join(missing)}")
        try:
            config = json.loads((path / "config.json").read_text(encoding="utf-8"))
            return cls(load_file(str(path / "model.safetensors")), config, Tokenizer.from_file(str(tokenizer)))
        except Exception as error:  # json, safetensors (bfloat16 has no numpy type), tokenizers, a wrong shape
            from .model import ModelLoadError

            raise ModelLoadError(f"cannot load the spin detector in {path} (float16 or float32 safetensors of a "
                                 f"ReLU BERT token classifier): {type(error).__name__}: {error}") from error

    # -- the encoder ------------------------------------------------------------------------------

    def logits(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """(batch, length, 2) token logits for padded ``ids`` (``mask`` 1 on real tokens)."""
        w = self.w
        batch, length = ids.shape
        x = (w["bert.embeddings.word_embeddings.weight"][ids] + w["bert.embeddings.position_embeddings.weight"][:length]
             + w["bert.embeddings.token_type_embeddings.weight"][0])
        x = self._norm(x, "bert.embeddings.LayerNorm")
        hidden = x.shape[-1]
        size = hidden // self.heads
        blocked = np.where(mask[:, None, None, :] > 0, 0.0, np.finfo(np.float32).min).astype(np.float32)
        for i in range(self.layers):
            p = f"bert.encoder.layer.{i}."

            def heads(name: str) -> np.ndarray:
                return self._linear(x, p + name).reshape(batch, length, self.heads, size).transpose(0, 2, 1, 3)

            q, k, v = heads("attention.self.query"), heads("attention.self.key"), heads("attention.self.value")
            scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(size)) + blocked
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            attended = (scores / scores.sum(-1, keepdims=True)) @ v
            attended = attended.transpose(0, 2, 1, 3).reshape(batch, length, hidden)
            x = self._norm(self._linear(attended, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
            inner = np.maximum(self._linear(x, p + "intermediate.dense"), 0.0)
            x = self._norm(self._linear(inner, p + "output.dense") + x, p + "output.LayerNorm")
        return self._linear(x, "classifier")

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        weight = self.w[name + ".weight"]  # (in, out)
        return (x.reshape(-1, x.shape[-1]) @ weight + self.w[name + ".bias"]).reshape(*x.shape[:-1], weight.shape[1])

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        variance = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(variance + self.eps) * self.w[name + ".weight"] + self.w[name + ".bias"]

    # -- per word ---------------------------------------------------------------------------------

    def word_probabilities(self, sentences: list[str], tokens: list[list[Token]]) -> list[np.ndarray]:
        """For each sentence, P(spun) of each of its ``tokens`` (mtfix.text tokens): the highest of the
        subword tokens it overlaps; 0 where the sentence was cut at ``max_length`` subwords."""
        if not sentences:
            return []
        encodings = self.tokenizer.encode_batch(sentences)
        spun: list[list[float]] = [[] for _ in sentences]
        # Runs of similar length share a padded matrix: attention costs length squared, padding too.
        by_length = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
        for first in range(0, len(by_length), _CHUNK):
            rows = by_length[first:first + _CHUNK]
            length = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), length), dtype=np.int64)
            mask = np.zeros((len(rows), length), dtype=np.int64)
            for row, i in enumerate(rows):
                ids[row, :len(encodings[i].ids)] = encodings[i].ids
                mask[row, :len(encodings[i].ids)] = 1
            logits = self.logits(ids, mask)
            probabilities = 1.0 / (1.0 + np.exp(logits[..., 0] - logits[..., 1]))
            for row, i in enumerate(rows):
                spun[i] = probabilities[row, :len(encodings[i].ids)].tolist()
        found = []
        for sentence, encoding, words, token_spun in zip(sentences, encodings, tokens, spun):
            per_char = np.zeros(len(sentence) + 1)
            for (start, end), probability in zip(encoding.offsets, token_spun):
                if end > start:
                    per_char[start:end] = np.maximum(per_char[start:end], probability)
            found.append(np.array([per_char[t.start:t.end].max(initial=0.0) for t in words]))
        return found

    @staticmethod
    def span_scores(word_probabilities: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Log-odds that tokens ``starts[i]:ends[i]`` were spun as a unit rather than each left as
        written: ln P(span spun) - sum ln P(token kept), with P(span spun) its likeliest token's."""
        p = np.clip(word_probabilities, _PROBABILITY_FLOOR, 1 - _PROBABILITY_FLOOR)
        log_spun, log_kept = np.log(p), np.log1p(-p)
        kept_prefix = np.concatenate(([0.0], np.cumsum(log_kept)))
        best = log_spun[starts].copy()
        for i in np.flatnonzero(ends - starts > 1):  # phrases: a few per sentence
            best[i] = log_spun[starts[i]:ends[i]].max()
        return best - (kept_prefix[ends] - kept_prefix[starts])


def with_detector_scores(candidates: list[Candidate], word_probabilities: np.ndarray, floor: float) -> list[Candidate]:
    """``candidates`` with each change's detector log-odds (:meth:`SpinDetector.span_scores`), without
    the changes scoring below ``floor``."""
    changes, starts, ends = change_spans(candidates)
    if not changes:
        return candidates
    scored: list[Candidate | None] = list(candidates)
    for i, value in zip(changes, SpinDetector.span_scores(word_probabilities, starts, ends).tolist()):
        scored[i] = candidates[i].with_spun(value) if value >= floor else None
    return [c for c in scored if c is not None]

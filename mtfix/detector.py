"""The spin detector: how likely each word of a sentence is to have been written by a spinner.

A small BERT token classifier (``training/train_detector.py``) reads the whole sentence, where the
lattice's 4-gram LM sees three words either side. The lattice adds, to each change candidate, the
detector's log-odds that its span was spun (see :meth:`SpinDetector.span_scores`), so that a fluent-looking
spun word can still be restored and an odd-looking real word left alone.

A detector trained with ``--original_words`` has a second head over the most frequent wire words: at
each word it says which original the wire copy likely had, and the lattice uses it to choose among the
candidates of a word (``detector_scores``, weight ``choice``).

The encoder runs in numpy from the safetensors weights: it has 1.8M parameters (3.9M with the second
head, of which only the rows of candidate words are read), so numpy is fast
enough, and the lattice path stays free of torch (quick start-up, safe to fork into workers).
``tests/test_detector.py`` checks the logits against transformers' own BertForTokenClassification.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .candidates import POSTEDIT, CandidateColumns
from .text import Token, lm_form

DETECTOR_DIR = "detector"
_PROBABILITY_FLOOR = 1e-4  # log-odds stay finite: a detector is never certain
_CHUNK = 32  # sentences per encoder call
_PAD_TO = 8  # a sentence is padded to the next multiple of this many subword tokens
_MIN_GEMM_ROWS = 64  # matrix products of fewer rows are padded to this many
# A detector trained with --original_words also predicts each word's original among the words of this
# file (class i + 1 for line i); class OTHER_WORD is any other word.
ORIGINALS_FILE = "originals.txt"
OTHER_WORD = 0


QUANTIZED_SUFFIX = ".row_scale"  # "<name>.row_scale" beside an int8 "<name>": value = int8 x scale of its row


def quantized(weights: dict[str, np.ndarray], names: list[str]) -> dict[str, np.ndarray]:
    """``weights`` with the 2-D tensors ``names`` stored as int8 with one float16 scale per row (the
    wide word tables: half the bytes of float16, and a row's values share a range)."""
    out = dict(weights)
    for name in names:
        value = weights[name].astype(np.float32)
        scale = np.maximum(np.abs(value).max(axis=1, keepdims=True), 1e-8) / 127.0
        out[name] = np.clip(np.round(value / scale), -127, 127).astype(np.int8)
        out[name + QUANTIZED_SUFFIX] = scale.astype(np.float16)
    return out


def dequantized(weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The inverse of ``quantized`` (float32 where a tensor was int8); other tensors as they are."""
    out = {name: value for name, value in weights.items() if not name.endswith(QUANTIZED_SUFFIX)}
    for name, scale in weights.items():
        if name.endswith(QUANTIZED_SUFFIX):
            base = name[: -len(QUANTIZED_SUFFIX)]
            out[base] = weights[base].astype(np.float32) * scale.astype(np.float32)
    return out


@dataclass
class Reading:
    """What the detector read in one sentence, per mtfix token."""

    spun: np.ndarray  # P(spun) of each token
    # The encoder's output at each token's first subword (tokens, hidden), for the original-word head;
    # None without that head. Zero where the sentence was cut at max_length subwords.
    states: np.ndarray | None = None


class SpinDetector:
    """A BERT (ReLU, post-layer-norm) token classifier with labels 0 "kept", 1 "spun"; optionally with a
    second head over original words (``training/train_detector.py --original_words``)."""

    def __init__(self, weights: dict[str, np.ndarray], config: dict, tokenizer, original_words: list[str] | None = None):
        if config.get("hidden_act") != "relu" or config.get("num_labels", 2) != 2:
            raise ValueError("the spin detector must be a 2-label BERT with ReLU activations")
        # Linear weights are stored transposed and contiguous, and applied to 2-D activations: a 3-D
        # matmul with a transposed view runs far from BLAS speed (24 ms against about 1 for a batch).
        # The original-word head stays (words, hidden): only the rows of candidate words are read.
        weights = dequantized(weights)
        self.w = {name: np.ascontiguousarray(value.astype(np.float32).T if name.endswith(".weight") and value.ndim == 2
                                             and "embeddings" not in name and not name.startswith("originals.")
                                             else value.astype(np.float32))
                  for name, value in weights.items()}
        self.original_index: dict[str, int] | None = None
        if "originals.weight" in self.w:
            if original_words is None or len(original_words) + 1 != len(self.w["originals.weight"]):
                raise ValueError(f"the original-word head needs {ORIGINALS_FILE} with one word per class, "
                                 f"class {OTHER_WORD} (another word) aside")
            self.original_index = {word: i + 1 for i, word in enumerate(original_words)}
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
            words_file = path / ORIGINALS_FILE
            words = words_file.read_text(encoding="utf-8").split("\n") if words_file.is_file() else None
            return cls(load_file(str(path / "model.safetensors")), config, Tokenizer.from_file(str(tokenizer)), words)
        except Exception as error:  # json, safetensors (bfloat16 has no numpy type), tokenizers, a wrong shape
            from .model import ModelLoadError

            raise ModelLoadError(f"cannot load the spin detector in {path} (float16, float32 or row-scaled int8 safetensors of a "
                                 f"ReLU BERT token classifier): {type(error).__name__}: {error}") from error

    # -- the encoder ------------------------------------------------------------------------------

    @property
    def has_original_words(self) -> bool:
        return self.original_index is not None

    def logits(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """(batch, length, 2) token logits for padded ``ids`` (``mask`` 1 on real tokens)."""
        return self._linear(self.states(ids, mask), "classifier")

    def states(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """(batch, length, hidden): the encoder's output."""
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
        return x

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        weight = self.w[name + ".weight"]  # (in, out)
        rows = x.reshape(-1, x.shape[-1])
        count = len(rows)
        if count < _MIN_GEMM_ROWS:
            # BLAS sums in another order for a product of few rows (gemv, small-matrix kernels): zero rows
            # keep a sentence's scores the same whatever else shares its call.
            rows = np.concatenate([rows, np.zeros((_MIN_GEMM_ROWS - count, rows.shape[1]), dtype=rows.dtype)])
        return ((rows @ weight)[:count] + self.w[name + ".bias"]).reshape(*x.shape[:-1], weight.shape[1])

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        variance = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(variance + self.eps) * self.w[name + ".weight"] + self.w[name + ".bias"]

    # -- per word ---------------------------------------------------------------------------------

    def word_probabilities(self, sentences: list[str], tokens: list[list[Token]]) -> list[np.ndarray]:
        """For each sentence, P(spun) of each of its ``tokens`` (mtfix.text tokens): the highest of the
        subword tokens it overlaps; 0 where the sentence was cut at ``max_length`` subwords."""
        return [reading.spun for reading in self.read(sentences, tokens)]

    def read(self, sentences: list[str], tokens: list[list[Token]]) -> list[Reading]:
        """P(spun) of each token of each sentence (see ``word_probabilities``) and, with the original-word
        head, the encoder state at each token's first subword."""
        if not sentences:
            return []
        encodings = self.tokenizer.encode_batch(sentences)
        spun: list[np.ndarray] = [np.zeros(0) for _ in sentences]
        states: list[np.ndarray | None] = [None for _ in sentences]
        # Sentences of one padded length share a matrix (attention costs length squared, padding too).
        # The padded length depends on the sentence alone, so its scores do not depend on which other
        # sentences share its call: padding changes the floating-point sums of attention.
        by_length = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
        for rows in _padding_groups(by_length, [_padded_length(len(e.ids)) for e in encodings]):
            length = _padded_length(len(encodings[rows[-1]].ids))
            ids = np.zeros((len(rows), length), dtype=np.int64)
            mask = np.zeros((len(rows), length), dtype=np.int64)
            for row, i in enumerate(rows):
                ids[row, :len(encodings[i].ids)] = encodings[i].ids
                mask[row, :len(encodings[i].ids)] = 1
            hidden = self.states(ids, mask)
            logits = self._linear(hidden, "classifier")
            probabilities = 1.0 / (1.0 + np.exp(logits[..., 0] - logits[..., 1]))
            for row, i in enumerate(rows):
                spun[i] = probabilities[row, :len(encodings[i].ids)].astype(np.float64)
                if self.has_original_words:
                    states[i] = hidden[row, :len(encodings[i].ids)]
        return [_per_token(encoding.offsets, token_spun, token_states, words)
                for encoding, words, token_spun, token_states in zip(encodings, tokens, spun, states)]

    def original_logits(self, states: np.ndarray, words: list[str]) -> np.ndarray:
        """The original-word head's logit for ``words[i]`` at token state ``states[i]`` (words outside its
        vocabulary share one class): only the rows of the words asked for are read."""
        return self.original_logits_of_rows(states, self.original_rows([(word,) for word in words]))

    def original_rows(self, candidate_words: list[tuple[str, ...]]) -> np.ndarray:
        """The head's class of each candidate's first word (the lattice keeps them per numbered word tuple)."""
        index = self.original_index
        assert index is not None, "this detector has no original-word head"
        return np.fromiter((index.get(lm_form(words[0]), OTHER_WORD) for words in candidate_words), dtype=np.int64,
                           count=len(candidate_words))

    def original_logits_of_rows(self, states: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The head's logit for class ``rows[i]`` at token state ``states[i]``."""
        return np.einsum("ij,ij->i", states, self.w["originals.weight"][rows]) + self.w["originals.bias"][rows]

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


def _padded_length(tokens: int) -> int:
    return -(-tokens // _PAD_TO) * _PAD_TO


def _padding_groups(by_length: list[int], padded: list[int]) -> list[list[int]]:
    """Runs of at most _CHUNK sentences (indices sorted by length) that share one padded length."""
    groups: list[list[int]] = []
    for i in by_length:
        if groups and padded[groups[-1][0]] == padded[i] and len(groups[-1]) < _CHUNK:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def _per_token(offsets: list[tuple[int, int]], subword_spun: np.ndarray, subword_states: np.ndarray | None,
               words: list[Token]) -> Reading:
    """A sentence's reading per token from its subwords (their character ``offsets``): the highest P(spun)
    of the subwords it overlaps (0 for none) and the state of the first subword covering its first
    character (zero for none). Subwords follow each other without overlapping: binary searches find them."""
    spans = np.array(offsets, dtype=np.int64).reshape(-1, 2)
    real = np.flatnonzero(spans[:, 1] > spans[:, 0])  # special tokens have empty offsets
    sub_starts, sub_ends = spans[real, 0], spans[real, 1]
    token_starts = np.fromiter((t.start for t in words), dtype=np.int64, count=len(words))
    token_ends = np.fromiter((t.end for t in words), dtype=np.int64, count=len(words))
    first = np.searchsorted(sub_ends, token_starts, side="right")  # the first subword ending after its start
    stop = np.searchsorted(sub_starts, token_ends, side="left")  # past the last one starting before its end
    spun = np.zeros(len(words))
    overlapping = np.flatnonzero(stop > first)
    if len(overlapping):
        bounds = np.stack([first[overlapping], stop[overlapping]], axis=1).ravel()
        spun[overlapping] = np.maximum.reduceat(np.append(subword_spun[real], 0.0), bounds)[::2]
    reading = Reading(spun)
    if subword_states is not None:
        last = np.searchsorted(sub_starts, token_starts, side="right") - 1  # the last subword starting at or before it
        covered = np.zeros(len(words), dtype=bool)
        covered[last >= 0] = sub_ends[last[last >= 0]] > token_starts[last >= 0]
        at = np.zeros(len(words), dtype=np.int64)
        # The first of the subwords sharing that start (byte pieces of one character do).
        at[covered] = real[np.searchsorted(sub_starts, sub_starts[last[covered]], side="left")]
        reading.states = np.where(covered[:, None], subword_states[at], 0.0).astype(np.float32)
    return reading


def detector_scores(candidates: CandidateColumns, reading: Reading, floor: float,
                    detector: SpinDetector | None = None) -> CandidateColumns:
    """The candidates whose detector log-odds (:meth:`SpinDetector.span_scores`) reach ``floor`` (keeps
    always), with those log-odds as ``spun`` and, with ``detector``'s original-word head, their ``choice``
    score: ln P(the wire copy had its first word | one of the changes starting there did) + ln(their
    number), a softmax of the head's logits over the changes that start at the same token, centred on a
    uniform choice (0 for keeps and without the head).

    The head is not asked whether to change (a spun word's original is spread over many words, so it
    mostly predicts the observed word); the other head answers that, and this one chooses.
    """
    # Post-editing rewrites undo machine translation, which the detector was not trained to see: it
    # neither scores nor prunes them.
    changes = np.flatnonzero(candidates.is_change & (candidates.kind != POSTEDIT))
    if not len(changes):
        return candidates
    starts, ends = candidates.start[changes], candidates.end[changes]
    spun = SpinDetector.span_scores(reading.spun, starts, ends)
    keep = spun >= floor
    choice = np.zeros(len(changes))
    if detector is not None and reading.states is not None and keep.any():
        rows = candidates.words.feature((detector, "original_row"), detector.original_rows, candidates.number[changes[keep]])
        logits = detector.original_logits_of_rows(reading.states[starts[keep]], rows)
        _, group = np.unique(starts[keep], return_inverse=True)
        best = np.full(group.max() + 1, -np.inf)
        np.maximum.at(best, group, logits)
        total = np.zeros(len(best))
        np.add.at(total, group, np.exp(logits - best[group]))
        choice[keep] = logits - best[group] - np.log(total[group]) + np.log(np.bincount(group)[group])
    survives = np.ones(len(candidates), dtype=bool)
    survives[changes[~keep]] = False
    candidates.spun, candidates.choice = np.zeros(len(candidates)), np.zeros(len(candidates))
    candidates.spun[changes], candidates.choice[changes] = spun, choice
    return candidates.take(survives)

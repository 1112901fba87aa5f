"""Topical fit: does a candidate original suit the sentence's subject better than the observed word?

A spinner swaps words without reading the sentence, so its choices are often off-topic: "rocket
fireplace" in a war report, "struggle reveal" for a war monitor. The 4-gram language model sees three
words on either side; word vectors trained on the same news (word2vec CBOW, a ten-word window) carry
what the whole sentence is about. A candidate's context score is

    cos(original, sentence) - cos(observed, sentence)

where "sentence" is the sum of the unit vectors of the sentence's other words (those the candidate
replaces left out). The lattice adds it with its own weight (``LatticeWeights.context``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .candidates import Candidate, CandidateColumns, CandidateWords, padded
from .text import Token, lm_form

VECTORS_FILE = "vectors.safetensors"
_QUANT = 127.0  # unit vectors are stored as int8 codes of v * 127: 4x smaller, cosines change < 0.01


class WordVectors:
    """Unit word vectors keyed by the language model's word form (:func:`mtfix.text.lm_form`)."""

    def __init__(self, words: list[str], vectors: np.ndarray):
        if len(words) != len(vectors):
            raise ValueError(f"{len(words)} words but {len(vectors)} vectors")
        vectors = np.asarray(vectors, dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self.vectors = vectors / np.maximum(norms, 1e-9)
        self.words = list(words)
        self.index = {word: i for i, word in enumerate(self.words)}
        self._row_cache: dict[str, int] = {}

    # -- storage ----------------------------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        from safetensors.numpy import save_file

        codes = np.clip(np.rint(self.vectors * _QUANT), -127, 127).astype(np.int8)
        vocab = np.frombuffer("\n".join(self.words).encode("utf-8"), dtype=np.uint8)
        save_file({"codes": codes, "vocab": vocab}, str(path), metadata={"format": "mtfix-word-vectors-1"})

    @classmethod
    def load(cls, path: str | Path) -> "WordVectors":
        from safetensors import safe_open

        from .model import ModelLoadError

        try:
            with safe_open(str(path), framework="numpy") as stored:
                if (stored.metadata() or {}).get("format") != "mtfix-word-vectors-1":
                    raise ValueError(f"{path} is not an mtfix word-vector file")
                codes = stored.get_tensor("codes")
                words = stored.get_tensor("vocab").tobytes().decode("utf-8").split("\n")
        except Exception as error:  # safetensors raises its own types for a truncated or damaged file
            raise ModelLoadError(f"cannot load the word vectors {path}: {error}") from error
        return cls(words, codes.astype(np.float32) / _QUANT)

    # -- scoring ----------------------------------------------------------------------------------

    def with_context(self, tokens: list[Token], candidates: list[Candidate]) -> list[Candidate]:
        """``candidates`` with their context score set (see ``context_scores``)."""
        scores = self.context_scores(tokens, CandidateColumns.of(CandidateWords(), candidates))
        return [c if c.is_keep else c.with_context(value) for c, value in zip(candidates, scores.tolist())]

    def context_scores(self, tokens: list[Token], candidates: CandidateColumns) -> np.ndarray:
        """The context score of each candidate (0 for keeps and where a side has no vector).

        All changes of a sentence are scored in a few matrix operations: this runs for every
        sentence the lattice decodes.
        """
        token_ids = np.fromiter(map(self._row, (t.text for t in tokens)), dtype=np.int64, count=len(tokens))
        known = token_ids >= 0
        changes = np.flatnonzero(candidates.is_change)
        scores = np.zeros(len(candidates))
        if known.sum() < 2 or not len(changes):
            return scores
        starts, ends = candidates.start[changes], candidates.end[changes]
        token_vectors = np.where(known[:, None], self.vectors[np.maximum(token_ids, 0)], 0.0)
        # Prefix sums give every span's vector sum and known-word count in one subtraction.
        vector_prefix = np.vstack([np.zeros((1, self.vectors.shape[1]), dtype=np.float32), np.cumsum(token_vectors, axis=0)])
        known_prefix = np.concatenate([[0], np.cumsum(known)])
        # Candidates share a few dozen spans: the topic direction is computed once per span.
        spans, span_of = np.unique(starts * (len(tokens) + 1) + ends, return_inverse=True)
        span_starts, span_ends = spans // (len(tokens) + 1), spans % (len(tokens) + 1)
        span_sum = vector_prefix[span_ends] - vector_prefix[span_starts]
        span_known = known_prefix[span_ends] - known_prefix[span_starts]
        rest = vector_prefix[-1] - span_sum
        rest_norm = np.linalg.norm(rest, axis=1)
        direction = rest / np.maximum(rest_norm, 1e-6)[:, None]
        observed_fit = (span_sum * direction).sum(axis=1) / np.maximum(span_known, 1)
        span_ok = (span_known > 0) & (known.sum() - span_known > 0) & (rest_norm > 1e-6)
        # Each original's fit is the mean of its known words' dot products with the span's direction:
        # one gather for all changes of the sentence (rows -1 pad the originals of fewer known words).
        rows = candidates.words.feature((self, "rows"), self._original_rows, candidates.number[changes], fill=-1)
        known_rows = rows >= 0
        owner, word = np.nonzero(known_rows)
        dots = np.einsum("ij,ij->i", self.vectors[rows[owner, word]], direction[span_of[owner]])
        original_known = known_rows.sum(axis=1)
        original_fit = np.bincount(owner, weights=dots, minlength=len(rows)) / np.maximum(original_known, 1)
        scorable = span_ok[span_of] & (original_known > 0)
        fit = original_fit - observed_fit[span_of]
        scores[changes[scorable]] = fit[scorable]
        return scores

    def _row(self, text: str) -> int:
        """The vector row of one token, -1 where it has none (punctuation, rare words); cached, since
        lm_form is a regex and tokens repeat."""
        row = self._row_cache.get(text)
        if row is None:
            row = self.index.get(lm_form(text), -1)
            if len(self._row_cache) < 500_000:
                self._row_cache[text] = row
        return row

    def _original_rows(self, candidate_words: list[tuple[str, ...]]) -> np.ndarray:
        """The vector rows of each candidate's known words, left-aligned, padded with -1."""
        return padded([[row for word in words for part in word.split() if (row := self._row(part)) >= 0]
                       for words in candidate_words])

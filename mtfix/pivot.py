"""English paraphrases from bilingual pivoting: a second synonym source beside the thesaurus.

Hand-spun text from other spinners swaps many words that neither Moby nor WordNet pair; two English
words that translate to the same foreign word often are such a pair ("launch" and "release" both
give Spanish "lanzar"). ``training/build_pivot.py`` pivots Apertium's English-Spanish, -Catalan,
-Esperanto and -Serbo-Croatian dictionaries into ``p(paraphrase | lemma)`` and ships it as
``mtfix/data/pivot.npz`` (NumPy only at run time). Its arrays:

- ``vocab``: the UTF-8 bytes of every lemma (lower case, up to four words), joined with newlines, sorted;
- ``head_ids``, ``head_pos``: one row per (lemma, part of speech), the part of speech as a
  :mod:`mtfix.morph` bit (noun, verb, adjective, adverb);
- ``offsets``, ``para_ids``, ``para_probs``: each row's paraphrases in CSR layout, most probable first,
  with ``p(paraphrase | lemma, part of speech)`` (a distribution per row, the lemma itself excluded);
- ``meta``: JSON of the build settings and the Apertium package versions it was built from.

Read backwards, the same table tells which originals a spinner could have replaced by a word.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .morph import ADJ, ADV, NOUN, VERB

DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "pivot.npz"
POS_BITS = {"noun": NOUN, "verb": VERB, "adj": ADJ, "adv": ADV}
ANY_POS = NOUN | VERB | ADJ | ADV
_INVERSE_CACHE_SIZE = 20_000


class PivotParaphrases:
    """(lemma, part of speech) -> paraphrases with probabilities, and the inverse, lower-case lemmas."""

    _cache: dict[str, PivotParaphrases] = {}

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self._vocab = arrays["vocab"].tobytes().decode("utf-8").split("\n")
        self._index = {word: i for i, word in enumerate(self._vocab)}
        self.meta = json.loads(arrays["meta"].tobytes().decode("utf-8"))
        self._head_ids = arrays["head_ids"].astype(np.int64)
        self._head_pos = arrays["head_pos"].astype(np.int64)
        self._offsets = arrays["offsets"].astype(np.int64)
        self._para_ids = arrays["para_ids"].astype(np.int64)
        self._probs = arrays["para_probs"].astype(np.float64)
        # Rows of each lemma: head rows are sorted by vocabulary id, so they are one contiguous run.
        self._rows_start = np.searchsorted(self._head_ids, np.arange(len(self._vocab)), side="left")
        self._rows_end = np.searchsorted(self._head_ids, np.arange(len(self._vocab)), side="right")
        # Inverse index: entries grouped by paraphrase id, with the row each came from.
        rows = np.repeat(np.arange(len(self._head_ids)), np.diff(self._offsets))
        order = np.argsort(self._para_ids, kind="stable")
        self._inv_rows = rows[order]
        self._inv_probs = self._probs[order]
        counts = np.bincount(self._para_ids, minlength=len(self._vocab))
        self._inv_offsets = np.concatenate(([0], np.cumsum(counts)))
        self._inverse_cache: dict[tuple[str, int], list[tuple[str, float]]] = {}

    @classmethod
    def load(cls, path: str | Path | None = None) -> PivotParaphrases:
        """The paraphrases of a compiled data file (default: the shipped one). Cached per path."""
        key = str(Path(path).resolve()) if path is not None else str(DEFAULT_PATH)
        if key not in cls._cache:
            with np.load(key) as archive:
                cls._cache[key] = cls({name: archive[name] for name in archive.files})
        return cls._cache[key]

    def __contains__(self, lemma: str) -> bool:
        i = self._index.get(lemma.lower())
        return i is not None and self._rows_end[i] > self._rows_start[i]

    def __len__(self) -> int:
        """The number of lemmas with paraphrases (any part of speech)."""
        return len(np.unique(self._head_ids))

    def paraphrases(self, lemma: str, pos: int = ANY_POS) -> dict[str, float]:
        """p(paraphrase | lemma) for the parts of speech in the bitmask ``pos``, most probable first; a
        paraphrase under several parts of speech keeps its best probability (the part is unknown)."""
        i = self._index.get(lemma.lower())
        if i is None:
            return {}
        best: dict[str, float] = {}
        for row in range(self._rows_start[i], self._rows_end[i]):
            if not self._head_pos[row] & pos:
                continue
            lo, hi = self._offsets[row], self._offsets[row + 1]
            for other, prob in zip(self._para_ids[lo:hi].tolist(), self._probs[lo:hi].tolist()):
                word = self._vocab[other]
                if prob > best.get(word, 0.0):
                    best[word] = prob
        return dict(sorted(best.items(), key=lambda kv: (-kv[1], kv[0])))

    def inverse(self, word: str, pos: int = ANY_POS) -> list[tuple[str, float]]:
        """The originals a spinner could have replaced by ``word`` (a lemma): every ``o`` with
        p(word | o) > 0 in the parts of speech ``pos``, with that probability, most probable first
        (ties alphabetically); an original under several parts of speech keeps its best."""
        key = (word.lower(), pos)
        cached = self._inverse_cache.get(key)
        if cached is not None:
            return cached
        i = self._index.get(key[0])
        best: dict[str, float] = {}
        if i is not None:
            lo, hi = self._inv_offsets[i], self._inv_offsets[i + 1]
            for row, prob in zip(self._inv_rows[lo:hi].tolist(), self._inv_probs[lo:hi].tolist()):
                if self._head_pos[row] & pos:
                    original = self._vocab[self._head_ids[row]]
                    if prob > best.get(original, 0.0):
                        best[original] = prob
        result = sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))
        if len(self._inverse_cache) >= _INVERSE_CACHE_SIZE:
            self._inverse_cache.clear()
        self._inverse_cache[key] = result
        return result

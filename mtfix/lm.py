"""A news n-gram language model: interpolated modified Kneser-Ney, queried in vectorised batches.

The repairer's beam search asks one question over and over: how likely is each candidate word after
each partial path? :meth:`NgramLM.score_batch` answers it for hundreds of (context, word) pairs in one
numpy call, so the model is laid out for lookup, not for estimation (that lives in
``training/build_lm.py``):

- Word ids are 16 bits, so an n-gram of up to 4 words packs into one uint64 key (first word in the
  highest bits). Each order's keys are sorted and found with ``np.searchsorted``.
- Every stored n-gram carries ln P(word | context) and, if it can be a context, a backoff weight
  (ARPA semantics, natural logs): an unseen n-gram scores as its longest stored suffix plus the
  backoff weights of the longer contexts that were not followed by the word.
- On disk (one safetensors file) the keys are stored as a trie: per order the last word of each n-gram
  (uint16); per (n-1)-gram a bit saying whether any stored n-gram extends it, and for those that
  have extensions their number (uint16) and backoff (only they can have a backoff other than 0).
  Probabilities and backoffs of orders >= 2 are quantised to 8 or 16 bit codes with a per-order
  codebook. Loading rebuilds the uint64 keys and float32 tables in a few numpy operations. At 8 bits a
  stored n-gram costs 3 bytes, plus 3 more if it has extensions.

Tokens are ``lm_form(w) for w in words(sentence)`` (see :mod:`mtfix.text`); the caller applies
``lm_form`` before :meth:`NgramLM.ids`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

FORMAT = "mtfix-ngram-lm/1"
METADATA_KEY = "mtfix_ngram_lm"  # the safetensors metadata entry holding the JSON header

UNK, BOS, EOS = "<unk>", "<s>", "</s>"
UNK_ID, BOS_ID, EOS_ID = 0, 1, 2
ID_BITS = 16
ID_MASK = (1 << ID_BITS) - 1
# The last 16-bit id is never a word: as context padding it means "history unknown" (it matches no
# stored n-gram, so scoring backs off to the shorter context). Hence at most 65,535 vocabulary ids.
NO_WORD = ID_MASK
MAX_VOCAB = NO_WORD
MAX_ORDER = 64 // ID_BITS
# <s> is only ever a context, never predicted; it gets this ln probability instead of -inf so that
# sums stay finite.
BOS_LOGPROB = -100.0
QUANT_BITS = (8, 16, 32)  # 32 means float32, unquantised


def unpack_keys(keys: np.ndarray, n: int) -> np.ndarray:
    """The (M, n) int32 id matrix of packed n-gram keys (first word in the highest 16 bits)."""
    ids = np.empty((len(keys), n), dtype=np.int32)
    for column in range(n):
        shift = np.uint64(ID_BITS * (n - 1 - column))
        ids[:, column] = ((keys >> shift) & np.uint64(ID_MASK)).astype(np.int32)
    return ids


def quantise(values: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Codes and codebook for ``values``: equal-population bins over the sorted distinct values, each
    bin represented by the mean of its members. Equal values always share a code, so a value that
    fills a bin on its own (backoff 0 of contexts without children, say) stays exact; with no more
    distinct values than codes the result is lossless."""
    levels = 1 << bits
    distinct, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    if len(distinct) <= levels:
        return inverse.astype(np.uint8 if bits == 8 else np.uint16), distinct.astype(np.float32)
    before = np.cumsum(counts) - counts  # rank of each distinct value's first member
    bins = (before * levels) // len(values)
    _, bins = np.unique(bins, return_inverse=True)  # close gaps left by heavy values
    weights = counts.astype(np.float64)
    codebook = np.bincount(bins, weights=distinct * weights) / np.bincount(bins, weights=weights)
    return bins[inverse].astype(np.uint8 if bits == 8 else np.uint16), codebook.astype(np.float32)


def _find(keys: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``queries`` in the sorted ``keys`` and whether each was there.

    A binary search for each distinct query, in sorted order: a beam-search batch asks for the same
    n-gram many times (43% of its searches repeat one, on the benchmark's sentences), and sorted
    queries walk neighbouring search paths, which stay in cache (38 against 64 ms of searching for 64
    sentences). (Blocked layouts and one merged table for all orders were measured too: they halve
    the cost of batches of unrelated n-grams but add 30-40% to beam batches.)
    """
    distinct, inverse = np.unique(queries, return_inverse=True)
    position = np.searchsorted(keys, distinct)
    np.minimum(position, len(keys) - 1, out=position)
    return position[inverse], (keys[position] == distinct)[inverse]


def _find_in_runs(keys: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_find` for queries that come in runs of equal values, searching each run once. The
    contexts of a beam-search batch do: every candidate word follows its hypothesis's context."""
    run_starts = np.flatnonzero(np.concatenate(([True], queries[1:] != queries[:-1])))
    run_lengths = np.diff(np.append(run_starts, len(queries)))
    position, found = _find(keys, queries[run_starts])
    return np.repeat(position, run_lengths), np.repeat(found, run_lengths)


class NgramLM:
    """A backoff n-gram model over 16-bit word ids (see the module docstring for the layout).

    ``keys[n - 1]`` holds the sorted uint64 keys of order n for n >= 2 (``keys[0]`` is ignored:
    unigrams are indexed by id); ``logprobs[n - 1]`` and ``backoffs[n - 1]`` hold ln probabilities and
    ln backoff weights aligned with them (unigram arrays have one entry per vocabulary id; the highest
    order has no backoffs). The stored n-grams must be closed under prefixes and suffixes, as the
    builder's are: scoring stops at the first context length that is not stored. ``unk_types`` is
    the number of distinct training words folded into <unk>.
    """

    def __init__(
        self,
        vocab: Sequence[str],
        keys: Sequence[np.ndarray | None],
        logprobs: Sequence[np.ndarray],
        backoffs: Sequence[np.ndarray],
        unk_types: int = 1,
        info: dict | None = None,
    ) -> None:
        self.order: int = len(logprobs)
        if not 1 <= self.order <= MAX_ORDER:
            raise ValueError(f"order must be between 1 and {MAX_ORDER}, got {self.order}")
        if not 3 <= len(vocab) <= MAX_VOCAB or tuple(vocab[:3]) != (UNK, BOS, EOS):
            raise ValueError(f"vocabulary must start with {UNK} {BOS} {EOS} and hold at most {MAX_VOCAB} ids")
        if len(keys) != self.order or len(backoffs) < self.order - 1:
            raise ValueError("keys, logprobs and backoffs must cover every order")
        self.vocab: list[str] = list(vocab)
        self.vocab_size: int = len(self.vocab)
        self._index: dict[str, int] = {word: i for i, word in enumerate(self.vocab)}
        self.unk_types: int = max(int(unk_types), 1)
        self.info: dict = dict(info or {})
        # Unigram tables are padded to every 16-bit id so that NO_WORD (and any id < 2**16) in a
        # context indexes them safely; the padding has backoff 0, i.e. "no such context".
        unigram_logprob = np.full(NO_WORD + 1, BOS_LOGPROB, dtype=np.float32)
        unigram_logprob[: self.vocab_size] = logprobs[0]
        unigram_backoff = np.zeros(NO_WORD + 1, dtype=np.float32)
        if self.order > 1:
            unigram_backoff[: self.vocab_size] = backoffs[0]
        self._keys: list[np.ndarray] = [np.arange(self.vocab_size, dtype=np.uint64)]
        self._logprob: list[np.ndarray] = [unigram_logprob]
        self._backoff: list[np.ndarray] = [unigram_backoff]
        for n in range(2, self.order + 1):
            key = np.ascontiguousarray(keys[n - 1], dtype=np.uint64)
            logprob = np.ascontiguousarray(logprobs[n - 1], dtype=np.float32)
            if len(logprob) != len(key):
                raise ValueError(f"order {n}: {len(key)} keys but {len(logprob)} probabilities")
            if len(key) > 1 and not np.all(key[1:] > key[:-1]):
                raise ValueError(f"order {n}: keys must be sorted and unique")
            self._keys.append(key)
            self._logprob.append(logprob)
            if n < self.order:
                backoff = np.ascontiguousarray(backoffs[n - 1], dtype=np.float32)
                if len(backoff) != len(key):
                    raise ValueError(f"order {n}: {len(key)} keys but {len(backoff)} backoffs")
                self._backoff.append(backoff)
        self.unk_id: int = UNK_ID
        self.bos_id: int = BOS_ID
        self.eos_id: int = EOS_ID
        self.no_word_id: int = NO_WORD

    # ------------------------------------------------------------------------------------------------
    # Queries

    def ids(self, tokens: Sequence[str]) -> np.ndarray:
        """int32 ids of tokens already in ``lm_form``; unknown tokens get the <unk> id."""
        index = self._index
        return np.fromiter((index.get(token, UNK_ID) for token in tokens), dtype=np.int32, count=len(tokens))

    def score_batch(self, contexts: np.ndarray, words: np.ndarray, *, unk_per_type: bool = False) -> np.ndarray:
        """ln P(word | context) for N pairs at once, float32 (N,).

        ``contexts`` is an (N, order - 1) id matrix, oldest word first, left-padded with the <s> id at
        a sentence start (or with ``no_word_id`` where the history is unknown). With
        ``unk_per_type`` an <unk> word scores as one unknown word rather than the whole <unk> class
        (the class probability shared over the ``unk_types`` training words it stands for): use it
        when comparing candidate words, so that a rare word does not look likely just because it is
        out of the vocabulary.
        """
        contexts = np.asarray(contexts)
        words = np.asarray(words)
        count = len(words)
        if words.ndim != 1 or contexts.shape != (count, self.order - 1):
            raise ValueError(
                f"expected contexts of shape (N, {self.order - 1}) and words of shape (N,), "
                f"got {contexts.shape} and {words.shape}"
            )
        if count == 0:
            return np.zeros(0, dtype=np.float32)
        if words.min() < 0 or words.max() >= self.vocab_size:
            raise ValueError(f"word ids must lie in [0, {self.vocab_size})")
        if contexts.size and (contexts.min() < 0 or contexts.max() > NO_WORD):
            raise ValueError(f"context ids must lie in [0, {NO_WORD}]")
        word_key = words.astype(np.uint64)
        context_ids = contexts.astype(np.uint64)
        shift = np.uint64(ID_BITS)

        # Walk from the unigram up. `score` is the probability of the longest n-gram found so far;
        # `penalty` sums the backoffs of the contexts seen since, which were not followed by the word.
        # `rows` are the pairs still walking: those whose context so far is stored. For the others no
        # longer n-gram or context is stored (the n-grams are closed under prefixes and suffixes), so
        # their score and penalty are final.
        score = self._logprob[0][words]
        penalty = np.zeros(count, dtype=np.float32)
        rows = np.arange(count)
        history = np.zeros(count, dtype=np.uint64)
        for k in range(1, self.order):
            # The context of length k: the last k ids of the row.
            history |= context_ids[:, -k] << np.uint64(ID_BITS * (k - 1))
            if k == 1:
                context_backoff = self._backoff[0][contexts[:, -1]]
            else:
                position, context_found = _find_in_runs(self._keys[k - 1], history)
                if not context_found.all():
                    rows, history, position = rows[context_found], history[context_found], position[context_found]
                    context_ids, word_key = context_ids[context_found], word_key[context_found]
                    if not len(rows):
                        break
                context_backoff = self._backoff[k - 1][position]
            position, found = _find(self._keys[k], (history << shift) | word_key)
            score[rows] = np.where(found, self._logprob[k][position], score[rows])
            penalty[rows] = np.where(found, np.float32(0.0), penalty[rows] + context_backoff)
        result = score + penalty
        if unk_per_type:
            result = np.where(words == UNK_ID, result - np.float32(math.log(self.unk_types)), result)
        return result.astype(np.float32, copy=False)

    def _contexts(self, ids: np.ndarray, bos: bool) -> np.ndarray:
        """The (len(ids), order - 1) context rows of each position of a token sequence."""
        pad = np.full(self.order - 1, BOS_ID if bos else NO_WORD, dtype=np.int32)
        padded = np.concatenate([pad, ids])
        if self.order == 1:
            return np.zeros((len(ids), 0), dtype=np.int32)
        return np.lib.stride_tricks.sliding_window_view(padded[:-1], self.order - 1)

    def token_logprobs(self, tokens: Sequence[str], bos: bool = True, eos: bool = True) -> np.ndarray:
        """ln P of every token of a sentence given the ones before it (plus </s> when ``eos``)."""
        ids = self.ids(tokens)
        if eos:
            ids = np.append(ids, np.int32(EOS_ID))
        return self.score_batch(self._contexts(ids, bos), ids)

    def sentence_logprob(self, tokens: Sequence[str], bos: bool = True, eos: bool = True) -> float:
        """ln P of a token sequence in ``lm_form``: from a sentence start when ``bos`` (else from an
        unknown history, i.e. a fragment), ending the sentence when ``eos``."""
        return float(self.token_logprobs(tokens, bos, eos).sum(dtype=np.float64))

    def perplexity(self, sentences: Iterable[Sequence[str]]) -> float:
        """Per-token perplexity of whole sentences (each with <s> and </s>; </s> counts as a token)."""
        total = 0.0
        tokens = 0
        batch_contexts: list[np.ndarray] = []
        batch_words: list[np.ndarray] = []
        pending = 0

        def flush() -> float:
            scores = self.score_batch(np.concatenate(batch_contexts), np.concatenate(batch_words))
            batch_contexts.clear()
            batch_words.clear()
            return float(scores.sum(dtype=np.float64))

        for sentence in sentences:
            ids = np.append(self.ids(sentence), np.int32(EOS_ID))
            batch_contexts.append(self._contexts(ids, bos=True))
            batch_words.append(ids)
            tokens += len(ids)
            pending += len(ids)
            if pending >= 200_000:  # big batches amortise numpy overhead without holding everything
                total += flush()
                pending = 0
        if batch_words:
            total += flush()
        if tokens == 0:
            raise ValueError("perplexity needs at least one sentence")
        return math.exp(-total / tokens)

    def ngrams(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The stored n-grams of order n: (M, n) ids, ln probabilities and ln backoffs (None for the
        highest order). For inspection and export; unigrams exclude the padding ids."""
        if not 1 <= n <= self.order:
            raise ValueError(f"order must be between 1 and {self.order}")
        if n == 1:
            ids = np.arange(self.vocab_size, dtype=np.int32)[:, None]
            backoff = self._backoff[0][: self.vocab_size] if self.order > 1 else None
            return ids, self._logprob[0][: self.vocab_size], backoff
        backoff = self._backoff[n - 1] if n < self.order else None
        return unpack_keys(self._keys[n - 1], n), self._logprob[n - 1], backoff

    def stored_bigram_logprobs(self, first_ids: np.ndarray, second_ids: np.ndarray) -> np.ndarray:
        """ln P(second | first) of each (first, second) id pair where the model stores that bigram, -inf
        where it does not (no backoff: "does the model know this pair", not "how likely is it")."""
        keys = (first_ids.astype(np.uint64) << np.uint64(ID_BITS)) | second_ids.astype(np.uint64)
        position, found = _find(self._keys[1], keys)
        return np.where(found, self._logprob[1][position], -np.inf)

    def ngram_counts(self) -> list[int]:
        """How many n-grams are stored per order (unigrams = vocabulary size)."""
        return [self.vocab_size] + [len(self._keys[n - 1]) for n in range(2, self.order + 1)]

    # ------------------------------------------------------------------------------------------------
    # File format

    def save(self, path: str | Path, bits: int = 8) -> None:
        """Write the model to one safetensors file; orders >= 2 quantised to ``bits`` (8, 16, or 32 =
        float32). Unigram tables always stay float32 (they are small and used by every query)."""
        from safetensors.numpy import save_file

        if bits not in QUANT_BITS:
            raise ValueError(f"bits must be one of {QUANT_BITS}, got {bits}")
        vocab_bytes = "\n".join(self.vocab).encode("utf-8")
        tensors: dict[str, np.ndarray] = {
            "vocab": np.frombuffer(vocab_bytes, dtype=np.uint8).copy(),
            "1.logprob": self._logprob[0][: self.vocab_size].copy(),
        }
        if self.order > 1:
            tensors["1.backoff"] = self._backoff[0][: self.vocab_size].copy()

        def put(name: str, values: np.ndarray) -> None:
            if bits == 32:
                tensors[name] = np.ascontiguousarray(values, dtype=np.float32)
            else:
                codes, codebook = quantise(values, bits)
                tensors[f"{name}.codes"] = codes
                tensors[f"{name}.codebook"] = codebook

        for n in range(2, self.order + 1):
            keys = self._keys[n - 1]
            parent_position, parent_found = _find(self._keys[n - 2], keys >> np.uint64(ID_BITS))
            if len(keys) and not parent_found.all():
                raise ValueError(f"order {n}: an n-gram's context is not stored at order {n - 1}")
            children = np.bincount(parent_position, minlength=len(self._keys[n - 2]))
            has_children = children > 0
            # Most n-grams extend nothing at the next order, so child counts (and, above unigrams,
            # backoffs) are stored only for those that do, behind a bitmap. A context without stored
            # children must have backoff 0: P(w | h) = backoff * P(w | h') sums to one only then.
            tensors[f"{n - 1}.has_children"] = np.packbits(has_children)
            tensors[f"{n - 1}.children"] = children[has_children].astype(np.uint16)
            if n > 2:
                backoff = self._backoff[n - 2]
                if np.any(backoff[~has_children] != 0):
                    raise ValueError(f"order {n - 1}: a context without stored children has a backoff other than 0")
                put(f"{n - 1}.backoff", backoff[has_children])
            tensors[f"{n}.word"] = (keys & np.uint64(ID_MASK)).astype(np.uint16)
            put(f"{n}.logprob", self._logprob[n - 1])
        header = {"format": FORMAT, "order": self.order, "bits": bits, "unk_types": self.unk_types, "info": self.info}
        # One metadata entry: safetensors writes several in hash order, which would make the bytes of
        # two identical builds differ.
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        save_file(tensors, str(path), metadata={METADATA_KEY: json.dumps(header, sort_keys=True)})

    @classmethod
    def load(cls, path: str | Path) -> "NgramLM":
        """Read a model written by :meth:`save`. Raises FileNotFoundError for a missing file and
        ValueError, naming the file and the problem, for anything unreadable or inconsistent."""
        from safetensors import safe_open

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"language model file not found: {path}")
        try:
            with safe_open(str(path), framework="np") as handle:
                metadata = handle.metadata() or {}
                tensors = {name: handle.get_tensor(name) for name in handle.keys()}
        except Exception as error:  # safetensors raises its own error types for a damaged header
            raise ValueError(f"{path}: not a readable safetensors file ({error})") from error
        try:
            header = json.loads(metadata[METADATA_KEY]) if METADATA_KEY in metadata else {}
        except ValueError as error:
            raise ValueError(f"{path}: bad metadata ({error})") from error
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            found = header.get("format") if isinstance(header, dict) else None
            raise ValueError(f"{path}: not an mtfix n-gram model (format {found!r}, expected {FORMAT!r})")
        try:
            order = int(header["order"])
            bits = int(header["bits"])
            unk_types = int(header.get("unk_types", 1))
            info = dict(header.get("info", {}))
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"{path}: bad metadata ({error})") from error
        if not 1 <= order <= MAX_ORDER or bits not in QUANT_BITS:
            raise ValueError(f"{path}: unsupported order {order} or bits {bits}")

        def tensor(name: str, dtype: type, length: int | None = None) -> np.ndarray:
            if name not in tensors:
                raise ValueError(f"{path}: missing tensor {name!r}")
            value = tensors[name]
            if value.dtype != dtype or value.ndim != 1 or (length is not None and len(value) != length):
                raise ValueError(
                    f"{path}: tensor {name!r} has dtype {value.dtype} and shape {value.shape}, "
                    f"expected {np.dtype(dtype)} of length {length if length is not None else 'any'}"
                )
            return value

        def values(name: str, length: int) -> np.ndarray:
            if bits == 32:
                return tensor(name, np.float32, length)
            codes = tensor(f"{name}.codes", np.uint8 if bits == 8 else np.uint16, length)
            codebook = tensor(f"{name}.codebook", np.float32)
            if length and int(codes.max()) >= len(codebook):
                raise ValueError(f"{path}: tensor {name!r} has codes beyond its codebook")
            return codebook[codes]

        try:
            vocab = bytes(tensor("vocab", np.uint8)).decode("utf-8").split("\n")
        except UnicodeDecodeError as error:
            raise ValueError(f"{path}: vocabulary is not UTF-8 ({error})") from error
        size = len(vocab)
        keys: list[np.ndarray | None] = [None]
        logprobs = [tensor("1.logprob", np.float32, size)]
        backoffs = [tensor("1.backoff", np.float32, size)] if order > 1 else []
        previous_keys = np.arange(size, dtype=np.uint64)
        for n in range(2, order + 1):
            parent_count = len(previous_keys)
            has_children = tensor(f"{n - 1}.has_children", np.uint8, (parent_count + 7) // 8)
            has_children = np.unpackbits(has_children, count=parent_count).astype(bool)
            with_children = int(has_children.sum())
            children = np.zeros(parent_count, dtype=np.int64)
            children[has_children] = tensor(f"{n - 1}.children", np.uint16, with_children)
            if n > 2:
                backoff = np.zeros(parent_count, dtype=np.float32)
                backoff[has_children] = values(f"{n - 1}.backoff", with_children)
                backoffs.append(backoff)
            word = tensor(f"{n}.word", np.uint16)
            if len(word) and int(word.max()) >= size:
                raise ValueError(f"{path}: order {n} holds word ids beyond the vocabulary of {size}")
            if int(children.sum()) != len(word):
                raise ValueError(f"{path}: order {n} has {len(word)} n-grams but its contexts claim {children.sum()}")
            previous_keys = (np.repeat(previous_keys, children) << np.uint64(ID_BITS)) | word.astype(np.uint64)
            keys.append(previous_keys)
            logprobs.append(values(f"{n}.logprob", len(word)))
        try:
            return cls(vocab, keys, logprobs, backoffs, unk_types=unk_types, info=info)
        except ValueError as error:
            raise ValueError(f"{path}: inconsistent model ({error})") from error

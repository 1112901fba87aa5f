"""Build the news n-gram language model (:mod:`mtfix.lm`) from the train split of the corpora.

    python -m training.build_lm --out mtfix/models/default/lm.safetensors [--order 4]
        [--max-vocab 65535] [--prune 0,1,2] [--bits 8] [--data-dir ../shared/data] [--max-sentences N]

Steps, all in numpy after one streaming pass of tokenisation:

1. Tokenise every train sentence to ``lm_form(w) for w in words(sentence)`` and intern the forms.
2. Keep the most frequent forms as the vocabulary (the rest become <unk>) and lay all sentences out as
   one id stream ``<s> w1 .. wk </s> <s> ...``.
3. Count n-grams of every order: pack each window of n ids into a uint64 key, np.unique.
4. Interpolated modified Kneser-Ney (Chen & Goodman; the KenLM recipe): the highest order uses raw
   counts, lower orders continuation counts (distinct left neighbours), except n-grams starting with
   <s>, which cannot have one; three discounts per order from the count-of-counts; unigrams interpolate
   with the uniform distribution.
5. Prune: drop n-grams of order >= 2 seen at most ``--prune`` times (thresholds rise with the order,
   which keeps the stored set closed under prefixes and suffixes), then set every context's backoff
   so that its distribution sums to exactly one again.
6. Save (quantised), load back, report size, counts, validation perplexity and preference pairs.

Deterministic: corpus order is fixed, every tie is broken by id or by string; two builds give the
same bytes.

Why the defaults (all four corpora, 29.4 M train tokens, validation perplexity over 311,532 tokens,
8-bit file sizes; float32 perplexity in brackets):

    order 3, prune 0,0      > 50 MB  ppl 108.2 (107.8)    order 4, prune 0,1,1    33.1 MB  ppl 103.5 (103.4)
    order 3, prune 0,1      21.6 MB  ppl 112.8 (112.6)    order 4, prune 0,1,2    26.8 MB  ppl 105.5 (105.4)
    order 3, prune 0,2      16.9 MB  ppl 117.1 (117.0)    order 4, prune 0,1,3    24.9 MB  ppl 107.0 (106.9)
                                                          order 4, prune 0,2,2    21.8 MB  ppl 109.3 (109.2)
    Also pruning bigrams seen once: order 3 with 1,1 ppl 117.0, order 4 with 1,1,2 ppl 109.5.

Order 4 with 0,1,2 is the best that fits 30 MB: per MB saved, pruning 4-grams costs the least
perplexity, pruning trigrams or bigrams two to three times more. 8-bit codes cost 0.1-0.4% perplexity
against float32; 16-bit ones are lossless at this precision but make the file about a third larger. The vocabulary is capped by the 16-bit ids at 65,535
(0.8% of validation tokens are <unk>).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from mtfix.lm import BOS, BOS_ID, BOS_LOGPROB, EOS, EOS_ID, ID_BITS, MAX_ORDER, MAX_VOCAB, UNK, UNK_ID, NgramLM
from mtfix.text import lm_form, words

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "mtfix" / "models" / "default" / "lm.safetensors"
# Fallback discounts where a tiny corpus gives count-of-counts that cannot be estimated from
# (KenLM's --discount_fallback values).
FALLBACK_DISCOUNTS = (0.5, 1.0, 1.5)

# Sentences of the seed article's reference with one phrase each (original, as the spinner rewrote
# it): the language model must prefer the original sentence for the repair to work. Scored as whole
# sentences, since the beam search always scores words in their context.
PREFERENCE_PAIRS: tuple[tuple[str, str, str], ...] = (
    ("Moscow announced a ceasefire after weeks of escalating rocket fire and air strikes by the Syrian regime.",
     "rocket fire and air strikes", "rocket fireplace and air moves"),
    ("Syrian government forces had launched mortar attacks on a Turkish observation post in Idlib.",
     "observation post", "commentary submit"),
    ("The bombardment has killed more than 360 civilians, according to the Syrian Observatory for Human Rights, "
     "a Britain-based war monitor.", "war monitor", "struggle reveal"),
    ("The bombardment has killed more than 360 civilians, according to the Syrian Observatory for Human Rights, "
     "a Britain-based war monitor.", "according to the", "consistent with the"),
    ("Cavusoglu told a news conference with his French counterpart in Ankara.",
     "told a news conference with", "instructed a news convention together with"),
    ("Moscow announced a ceasefire had been brokered with Turkey in the Idlib de-escalation zone.",
     "de-escalation zone", "de-escalation sector"),
    ("He also confirmed an earlier report that Syrian government forces had launched mortar attacks.",
     "also confirmed an earlier report", "additionally showed an earlier record"),
    ("Russia launched a military intervention in support of Assad in 2015.", "military", "navy"),
    ("Russia launched a military intervention in support of Assad in 2015.", "in support of", "in help of"),
    ("Syria's conflict has killed more than 370,000 people.", "more than", "greater than"),
    ("His forces reclaimed large parts of the country from opposition fighters and jihadists.",
     "opposition fighters", "opposition warring parties"),
    ("But it was never fully implemented.", "was never fully", "changed into in no way absolutely"),
    ("The Syrian government has stepped up its bombardment of the region since late April.",
     "since late April", "considering the fact that past due April"),
    ("Turkish Foreign Minister Mevlut Cavusoglu on Thursday said a ceasefire had not been fully secured.",
     "said", "stated"),
)


def _key_mask(n: int) -> np.uint64:
    """Mask keeping the last n ids of a packed key."""
    return np.uint64((1 << (ID_BITS * n)) - 1)


# ---------------------------------------------------------------------------------------------------
# 1-2. Tokens, vocabulary, id stream


class Interner:
    """Turns sentences into one flat array of form ids (first-seen order) plus sentence lengths."""

    def __init__(self) -> None:
        self.forms: list[str] = []
        self._form_ids: dict[str, int] = {}
        self._raw_ids: dict[str, int] = {}  # raw token -> id of its lm_form: lm_form runs once per type
        self._chunks: list[np.ndarray] = []
        self._pending: list[int] = []
        self.lengths: list[int] = []

    def _form_id(self, form: str) -> int:
        form_id = self._form_ids.get(form)
        if form_id is None:
            form_id = self._form_ids[form] = len(self.forms)
            self.forms.append(form)
        return form_id

    def _raw_id(self, token: str) -> int:
        form_id = self._raw_ids.get(token)
        if form_id is None:
            form_id = self._raw_ids[token] = self._form_id(lm_form(token))
        return form_id

    def _append(self, ids: list[int]) -> None:
        self._pending.extend(ids)
        self.lengths.append(len(ids))
        if len(self._pending) >= 1_000_000:  # a Python int list costs ~36 bytes a token: flush often
            self._chunks.append(np.array(self._pending, dtype=np.int32))
            self._pending = []

    def add_text(self, sentence: str) -> None:
        """A raw sentence, tokenised with ``words`` and mapped through ``lm_form``."""
        raw_ids = self._raw_ids
        self._append([raw_ids[t] if t in raw_ids else self._raw_id(t) for t in words(sentence)])

    def add_forms(self, tokens: Sequence[str]) -> None:
        """A sentence already in lm_form tokens."""
        self._append([self._form_id(t) for t in tokens])

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(flat form ids, sentence lengths)."""
        chunks = self._chunks + [np.array(self._pending, dtype=np.int32)]
        return np.concatenate(chunks), np.array(self.lengths, dtype=np.int64)


def choose_vocab(forms: Sequence[str], form_ids: np.ndarray, max_vocab: int) -> tuple[list[str], np.ndarray, int]:
    """The vocabulary (<unk> <s> </s>, then the most frequent forms, ties alphabetical), the map from
    form id to vocabulary id, and how many forms fell into <unk>."""
    if not 4 <= max_vocab <= MAX_VOCAB:
        raise ValueError(f"max_vocab must be between 4 and {MAX_VOCAB} (16-bit ids), got {max_vocab}")
    specials = {UNK, BOS, EOS}.intersection(forms)
    if specials:
        raise ValueError(f"training tokens may not be the special symbols {sorted(specials)}")
    counts = np.bincount(form_ids, minlength=len(forms))
    ranked = sorted(range(len(forms)), key=lambda i: (-int(counts[i]), forms[i]))
    kept = ranked[: max_vocab - 3]
    vocab = [UNK, BOS, EOS] + [forms[i] for i in kept]
    to_vocab = np.full(len(forms), UNK_ID, dtype=np.int32)
    to_vocab[np.array(kept, dtype=np.int64)] = np.arange(3, 3 + len(kept), dtype=np.int32)
    return vocab, to_vocab, len(forms) - len(kept)


def sentence_stream(ids: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``<s> w1 .. wk </s>`` for every sentence, concatenated (int32)."""
    sizes = lengths + 2
    starts = np.cumsum(sizes) - sizes
    stream = np.empty(int(sizes.sum()), dtype=np.int32)
    is_word = np.ones(len(stream), dtype=bool)
    is_word[starts] = False
    is_word[starts + lengths + 1] = False
    stream[starts] = BOS_ID
    stream[starts + lengths + 1] = EOS_ID
    stream[is_word] = ids
    return stream


# ---------------------------------------------------------------------------------------------------
# 3. Counting


def count_ngrams(stream: np.ndarray, order: int, vocab_size: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(sorted keys, raw counts) per order; order 1 has one entry per vocabulary id (key = id).
    Windows never cross a sentence boundary."""
    if not 1 <= order <= MAX_ORDER:
        raise ValueError(f"order must be between 1 and {MAX_ORDER}")
    if len(stream) == 0:
        raise ValueError("no training sentences")
    unigram_counts = np.bincount(stream, minlength=vocab_size).astype(np.int64)
    unigram_counts[BOS_ID] = 0  # <s> is a context only, never a predicted word
    result = [(np.arange(vocab_size, dtype=np.uint64), unigram_counts)]
    # Offset of each token inside its sentence (<s> at 0): a window of n ending at a token is inside
    # one sentence exactly when that offset is at least n - 1.
    index = np.arange(len(stream), dtype=np.int64)
    sentence_start = np.maximum.accumulate(np.where(stream == BOS_ID, index, 0))
    offset = index - sentence_start
    del index, sentence_start
    window_keys = stream.astype(np.uint64)  # window_keys[i] = key of the window starting at i
    for n in range(2, order + 1):
        window_keys = (window_keys[:-1] << np.uint64(ID_BITS)) | stream[n - 1 :].astype(np.uint64)
        inside = offset[n - 1 :] >= n - 1
        keys, counts = np.unique(window_keys[inside], return_counts=True)
        result.append((keys, counts.astype(np.int64)))
    return result


# ---------------------------------------------------------------------------------------------------
# 4-5. Modified Kneser-Ney with pruning


def adjusted_counts(counts: list[tuple[np.ndarray, np.ndarray]]) -> list[np.ndarray]:
    """Kneser-Ney counts per order: raw counts at the highest order and for n-grams starting with
    <s>; elsewhere the number of distinct words seen just before the n-gram."""
    order = len(counts)
    adjusted = [np.empty(0, dtype=np.int64)] * order
    adjusted[-1] = counts[-1][1]
    for n in range(order - 1, 0, -1):
        keys, raw = counts[n - 1]
        suffixes, left_types = np.unique(counts[n][0] & _key_mask(n), return_counts=True)
        position = np.searchsorted(keys, suffixes)
        adjusted_n = np.zeros(len(keys), dtype=np.int64)
        adjusted_n[position] = left_types
        starts_with_bos = (keys >> np.uint64(ID_BITS * (n - 1))) == np.uint64(BOS_ID)
        adjusted_n[starts_with_bos] = raw[starts_with_bos]
        if n == 1:
            adjusted_n[BOS_ID] = 0
        adjusted[n - 1] = adjusted_n
    return adjusted


def kn_discounts(adjusted: np.ndarray) -> np.ndarray:
    """[0, D1, D2, D3+] from the count-of-counts (Chen & Goodman's estimates), or the fallback where
    they leave (0, k) as happens on tiny corpora."""
    t = np.bincount(np.minimum(adjusted, 5), minlength=6).astype(np.float64)
    if t[1] > 0 and t[2] > 0 and t[3] > 0 and t[4] > 0:
        y = t[1] / (t[1] + 2 * t[2])
        estimate = [k - (k + 1) * y * t[k + 1] / t[k] for k in (1, 2, 3)]
        if all(0 < d < k for d, k in zip(estimate, (1, 2, 3))):
            return np.array([0.0, *estimate])
    return np.array([0.0, *FALLBACK_DISCOUNTS])


def estimate(
    counts: list[tuple[np.ndarray, np.ndarray]],
    vocab: Sequence[str],
    prune: Sequence[int] = (),
    unk_types: int = 1,
    info: dict | None = None,
) -> tuple[NgramLM, dict]:
    """The pruned interpolated modified Kneser-Ney model and a few statistics about it.

    ``prune[n - 2]`` is the count threshold of order n: n-grams seen at most that often are dropped.
    Probabilities of kept n-grams are the unpruned model's; each context's backoff is then set to
    (1 - sum of its kept children's P) / (1 - sum of their lower-order P), which renormalises every
    distribution exactly (without pruning it equals the Kneser-Ney interpolation weight).
    """
    order = len(counts)
    vocab_size = len(vocab)
    thresholds = [0] * (order - 1)
    thresholds[: len(prune)] = [int(p) for p in prune][: order - 1]
    if any(t < 0 for t in thresholds) or thresholds != sorted(thresholds):
        raise ValueError(f"prune thresholds must be >= 0 and non-decreasing with the order, got {thresholds}")
    adjusted = adjusted_counts(counts)
    discounts = [kn_discounts(a[a > 0]) for a in adjusted]

    # Unigrams: discounted continuation counts interpolated with the uniform distribution over every
    # id but <s>.
    a = adjusted[0].astype(np.float64)
    total = a.sum()
    if total <= 0:
        raise ValueError("no training tokens")
    discount = discounts[0][np.minimum(adjusted[0], 3)]  # entry 0 of the table is 0: unseen ids
    probability = (a - discount) / total + (discount.sum() / total) / (vocab_size - 1)
    probability[BOS_ID] = 1.0  # placeholder, replaced below: <s> is never predicted
    logprobs: list[np.ndarray] = [np.log(probability)]
    logprobs[0][BOS_ID] = BOS_LOGPROB
    kept_keys: list[np.ndarray | None] = [None]
    backoffs: list[np.ndarray] = []
    kept_counts = [vocab_size]

    for n in range(2, order + 1):
        keys, raw = counts[n - 1]
        a_n = adjusted[n - 1]
        contexts = keys >> np.uint64(ID_BITS)
        # Keys are sorted, so the n-grams sharing a context are contiguous.
        new_context = np.ones(len(keys), dtype=bool)
        new_context[1:] = contexts[1:] != contexts[:-1]
        group = np.cumsum(new_context) - 1
        group_total = np.bincount(group, weights=a_n.astype(np.float64))
        group_discount = np.bincount(group, weights=discounts[n - 1][np.minimum(a_n, 3)])
        interpolation = group_discount / group_total  # Kneser-Ney gamma of each context

        keep = raw > thresholds[n - 2]
        keys_kept = keys[keep]
        group_kept = group[keep]
        a_kept = a_n[keep]
        discounted = (a_kept - discounts[n - 1][np.minimum(a_kept, 3)]) / group_total[group_kept]
        # P(w | shorter context) from the finished lower order: suffixes of kept n-grams are kept.
        suffixes = keys_kept & _key_mask(n - 1)
        if n == 2:
            lower = np.exp(logprobs[0][suffixes.astype(np.int64)])
            parent = (keys_kept >> np.uint64(ID_BITS)).astype(np.int64)
        else:
            position = np.searchsorted(kept_keys[n - 2], suffixes)
            lower = np.exp(logprobs[n - 2][position])
            parent = np.searchsorted(kept_keys[n - 2], keys_kept >> np.uint64(ID_BITS))
        probability = discounted + interpolation[group_kept] * lower
        logprobs.append(np.log(probability))
        kept_keys.append(keys_kept)
        kept_counts.append(len(keys_kept))

        parents = kept_counts[n - 2]
        numerator = 1.0 - np.bincount(parent, weights=probability, minlength=parents)
        denominator = 1.0 - np.bincount(parent, weights=lower, minlength=parents)
        tiny = 1e-12  # guards float round-off only: both sums stay below 1 by construction
        backoffs.append(np.log(np.maximum(numerator, tiny)) - np.log(np.maximum(denominator, tiny)))

    stats = {
        "order": order,
        "vocab": vocab_size,
        "unk_types": unk_types,
        "prune": thresholds,
        "ngrams_before_pruning": [len(c[0]) for c in counts],
        "ngrams": kept_counts,
        "discounts": [[round(float(d), 4) for d in ds[1:]] for ds in discounts],
    }
    model = NgramLM(vocab, kept_keys, logprobs, backoffs, unk_types=unk_types, info={**(info or {}), **stats})
    return model, stats


def train_lm(
    sentences: Iterable[Sequence[str]],
    order: int = 3,
    max_vocab: int = MAX_VOCAB,
    prune: Sequence[int] = (),
    info: dict | None = None,
) -> NgramLM:
    """A model from sentences of tokens already in lm_form (small corpora, tests)."""
    interner = Interner()
    for sentence in sentences:
        interner.add_forms(sentence)
    form_ids, lengths = interner.arrays()
    vocab, to_vocab, unk_types = choose_vocab(interner.forms, form_ids, max_vocab)
    stream = sentence_stream(to_vocab[form_ids], lengths)
    model, _ = estimate(count_ngrams(stream, order, len(vocab)), vocab, prune, unk_types, info)
    return model


# ---------------------------------------------------------------------------------------------------
# Corpus, report, command line


def read_corpus(
    names: Sequence[str], data_dir: str | Path | None, max_sentences: int | None = None
) -> tuple[Interner, list[list[str]]]:
    """Train sentences interned, validation sentences as lm_form token lists. With ``max_sentences``
    reading stops after that many train sentences (a quick, smaller build)."""
    from training.corpus import iter_corpus, split_of

    interner = Interner()
    validation: list[list[str]] = []
    for article in iter_corpus(names, data_dir):
        split = split_of(article.id)
        if split == "train":
            for sentence in article.sentences:
                interner.add_text(sentence)
            if max_sentences is not None and len(interner.lengths) >= max_sentences:
                break
        elif split == "validation":
            validation.extend([lm_form(w) for w in words(sentence)] for sentence in article.sentences)
    return interner, validation


def preference_table(model: NgramLM) -> list[tuple[str, str, float, float]]:
    """(original phrase, spun phrase, ln P(original sentence), ln P(spun sentence)) for
    :data:`PREFERENCE_PAIRS`."""
    rows = []
    for sentence, original, spun in PREFERENCE_PAIRS:
        scores = [
            model.sentence_logprob([lm_form(w) for w in words(text)])
            for text in (sentence, sentence.replace(original, spun))
        ]
        rows.append((original, spun, scores[0], scores[1]))
    return rows


def oov_rate(model: NgramLM, sentences: Sequence[Sequence[str]]) -> float:
    tokens = sum(len(s) for s in sentences)
    unknown = sum(int((model.ids(s) == UNK_ID).sum()) for s in sentences)
    return unknown / max(tokens, 1)


def _int_list(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--order", type=int, default=4)
    parser.add_argument("--max-vocab", type=int, default=MAX_VOCAB, help=f"ids incl. <unk> <s> </s> (<= {MAX_VOCAB})")
    parser.add_argument(
        "--prune",
        type=_int_list,
        default=[0, 1, 2],
        help="count thresholds for orders 2..N, comma-separated: n-grams seen at most this often are dropped",
    )
    parser.add_argument("--bits", type=int, default=8, choices=[8, 16, 32], help="quantisation (32 = float32)")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--corpora", default="reuters,abc,bbc,allsides")
    parser.add_argument("--max-sentences", type=int, default=None, help="stop after this many train sentences")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    names = [name.strip() for name in args.corpora.split(",") if name.strip()]
    interner, validation = read_corpus(names, args.data_dir, args.max_sentences)
    form_ids, lengths = interner.arrays()
    read_s = time.perf_counter() - started
    print(f"read {len(lengths):,} train sentences, {len(form_ids):,} tokens, {len(interner.forms):,} types, "
          f"{len(validation):,} validation sentences in {read_s:.0f} s", flush=True)

    vocab, to_vocab, unk_types = choose_vocab(interner.forms, form_ids, args.max_vocab)
    stream = sentence_stream(to_vocab[form_ids], lengths)
    del form_ids, interner
    counts = count_ngrams(stream, args.order, len(vocab))
    del stream
    count_s = time.perf_counter() - started - read_s
    print(f"counted n-grams in {count_s:.0f} s: {[len(c[0]) for c in counts]}", flush=True)

    info = {"corpora": names, "train_sentences": int(len(lengths)), "train_tokens": int(lengths.sum()),
            "bits": args.bits, "max_sentences": args.max_sentences}
    model, stats = estimate(counts, vocab, args.prune, unk_types, info)
    del counts
    model.save(args.out, bits=args.bits)
    build_s = time.perf_counter() - started
    print(f"estimated and saved in {build_s - read_s - count_s:.0f} s", flush=True)

    load_started = time.perf_counter()
    loaded = NgramLM.load(args.out)
    load_s = time.perf_counter() - load_started
    size_mb = args.out.stat().st_size / 1e6
    print(f"\n{args.out}: {size_mb:.1f} MB, order {loaded.order}, vocab {loaded.vocab_size:,} "
          f"(+{unk_types:,} types as <unk>), {args.bits}-bit, prune {stats['prune']}, loads in {load_s:.2f} s")
    for n, (before, after) in enumerate(zip(stats["ngrams_before_pruning"], stats["ngrams"]), start=1):
        print(f"  {n}-grams: {after:>11,} kept of {before:,}")
    print(f"  discounts D1, D2, D3+ per order: {stats['discounts']}")
    print(f"build wall time {build_s:.0f} s (read {read_s:.0f} s, count {count_s:.0f} s)")
    if validation:
        print(f"validation perplexity {loaded.perplexity(validation):.1f} over "
              f"{sum(len(s) + 1 for s in validation):,} tokens, OOV rate {oov_rate(loaded, validation):.2%}")
    print("\nln P(sentence) with the original phrase | with the spun phrase (sentences of the seed reference)")
    wins = 0
    for original, spun, original_score, spun_score in preference_table(loaded):
        wins += original_score > spun_score
        mark = "ok" if original_score > spun_score else "WRONG"
        print(f"  {original_score:8.2f} {spun_score:8.2f}  {mark:5}  {original!r} over {spun!r}")
    print(f"prefers the original in {wins} of {len(PREFERENCE_PAIRS)} pairs")
    if size_mb > 30:
        print(f"WARNING: {size_mb:.1f} MB is over the 30 MB budget", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

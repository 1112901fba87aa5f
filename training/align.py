"""Word alignment of garbled -> clean sentence pairs, for the post-editing phrase table.

    python -m training.align --roundtrip work_data/roundtrip --split validation --pairs en-es --show 5

A fast_align-style aligner (Dyer, Chahuneau & Smith 2013) in numpy: IBM Model 2 whose alignment
distribution favours the diagonal, ``p(a_j = i) = (1 - p0) exp(-lambda |(i+.5)/m - (j+.5)/n|) / Z_j``
and ``p0`` for the empty word, trained by EM in both directions (garbled given clean and clean given
garbled), Viterbi links, symmetrised with grow-diag-final-and (Koehn et al. 2003).

Why not a packaged aligner: eflomal (``pip install eflomal``) builds and runs offline here, but it is
GPL-3.0 (this project is Apache-2.0) and not a declared dependency, so the tests would have to skip it;
fast_align itself is a C++ build outside pip. The pairs are English on both sides and mostly
identical, which an IBM model handles well once it knows that a word most likely stays itself: each
M-step (the first included) adds ``identity_prior`` pseudo-counts to ``t(w | w)`` (a Dirichlet prior on
identity), which keeps rare words and names on themselves instead of the usual garbage-collecting
rare-word links.

Defaults, chosen on the validation split (tables built from the first 2,000 pairs of each training
pair, coverage as ``training.phrase_table`` measures it on the other 9,499): ``lambda`` 8 covers 34.3%
of the diff spans, fast_align's 4 33.9%, 2 33.3%, 16 34.8% (monotone round trips like a stiff
diagonal; 8 keeps room for local swaps). The identity prior is about neutral on real data (2: 34.3%,
0: 34.2%, 10: 34.4%) and is kept for small corpora, where it decides (``tests/test_align.py``).
Starting EM from ``t(w | w) = 0.5`` instead (the rest spread uniformly) cost 1.3 points after 5
iterations and 10 after one (``lambda`` 4): identity needs no head start, the changed words do. Two
iterations reach the five's coverage (34.3%); one gives 33.4%.

Words are :func:`mtfix.text.words` tokens, lower-cased for the model (the caller keeps the cased
tokens: names and numbers are checked on them). Both directions share one sparse table of the
(garbled word, clean word) pairs that co-occur in a sentence pair; every link candidate of the corpus
keeps its int32 index into it (4 bytes a candidate: 1.0 GB for the 252 M candidates of 300k news
sentence pairs), and the rest is recomputed per chunk of sentences in each iteration. 300k pairs (the
validation and test pairs repeated) aligned in 232 s on the busy 2-core machine, 7.7 s per 10k pairs
(5 iterations, 18 s each; Viterbi and symmetrisation 60 s), at 4.0 GB peak with the extraction; the
real 320k train pairs (21 M word pairs, not 3 M) in 361 s, 11.3 s per 10k.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mtfix.text import words

Alignment = list[tuple[int, int]]  # (garbled token index, clean token index), sorted


@dataclass
class AlignArgs:
    iterations: int = 5
    diagonal_tension: float = 8.0  # lambda; fast_align's default is 4 (see the module docstring)
    null_prob: float = 0.08  # p0; fast_align's default
    identity_prior: float = 2.0  # pseudo-counts added to t(w | w) in each M-step
    chunk_links: int = 4_000_000  # link candidates per numpy batch (bounds the working memory)


def tokens(text: str) -> list[str]:
    """The tokens of a sentence as the aligner and the phrase table see them (cased)."""
    return words(text)


# ---------------------------------------------------------------------------------------------------
# Corpus layout


class _Corpus:
    """Sentence pairs as flat id arrays, cut into chunks of at most ``chunk_links`` link candidates."""

    def __init__(self, sources: Sequence[Sequence[str]], targets: Sequence[Sequence[str]], chunk_links: int):
        if len(sources) != len(targets):
            raise ValueError(f"{len(sources)} source sentences but {len(targets)} target sentences")
        vocab: dict[str, int] = {}  # one vocabulary for both sides: identical words share an id

        def ids(sentence: Sequence[str]) -> list[int]:
            return [vocab.setdefault(word.lower(), len(vocab)) for word in sentence]

        src = [ids(s) for s in sources]
        tgt = [ids(t) for t in targets]
        self.vocab_size = max(len(vocab), 1)
        self.n = np.array([len(s) for s in src], dtype=np.int64)
        self.m = np.array([len(t) for t in tgt], dtype=np.int64)
        self.src = np.fromiter((w for s in src for w in s), dtype=np.int64, count=int(self.n.sum()))
        self.tgt = np.fromiter((w for t in tgt for w in t), dtype=np.int64, count=int(self.m.sum()))
        self.src_start = np.concatenate([[0], np.cumsum(self.n)])
        self.tgt_start = np.concatenate([[0], np.cumsum(self.m)])
        # Chunks of whole sentences; a pair with an empty side has no candidates and no links.
        links = np.cumsum(self.n * self.m)
        self.chunks: list[tuple[int, int]] = []
        first = 0
        while first < len(src):
            base = links[first - 1] if first else 0
            last = max(int(np.searchsorted(links, base + chunk_links, side="right")), first + 1)
            self.chunks.append((first, min(last, len(src))))
            first = last

    def links(self, chunk: tuple[int, int], positions: bool = False) -> dict[str, np.ndarray]:
        """Every (garbled token, clean token) candidate of the chunk's sentences, garbled-major: the
        chunk-local token indices of both ends, the pair's table key and the normalised diagonal
        distance; with ``positions``, also each candidate's sentence and in-sentence indices."""
        first, last = chunk
        n, m = self.n[first:last], self.m[first:last]
        src_word = self.src[self.src_start[first]:self.src_start[last]]
        tgt_word = self.tgt[self.tgt_start[first]:self.tgt_start[last]]
        sentence_of_src = np.repeat(np.arange(last - first), n)
        sentence_of_tgt = np.repeat(np.arange(last - first), m)
        j_of_src = np.arange(len(src_word)) - np.repeat(np.cumsum(n) - n, n)
        i_of_tgt = np.arange(len(tgt_word)) - np.repeat(np.cumsum(m) - m, m)
        reps = m[sentence_of_src]  # candidates per garbled token: every clean token of its sentence
        total = int(reps.sum())
        src_local = np.repeat(np.arange(len(src_word), dtype=np.int32), reps)
        i = np.arange(total, dtype=np.int32) - np.repeat((np.cumsum(reps) - reps).astype(np.int32), reps)
        tgt_first = (np.cumsum(m) - m).astype(np.int32)[sentence_of_src]
        tgt_local = np.repeat(tgt_first, reps) + i
        src_position = (j_of_src + 0.5) / n[sentence_of_src]
        tgt_position = (i_of_tgt + 0.5) / m[sentence_of_tgt]
        links = {"src": src_local, "tgt": tgt_local, "src_word": src_word, "tgt_word": tgt_word,
                 "key": np.repeat(src_word * self.vocab_size, reps) + tgt_word[tgt_local],
                 "distance": np.abs(tgt_position[tgt_local] - np.repeat(src_position, reps))}
        if positions:
            links.update(sentence=np.repeat(sentence_of_src + first, reps), j=np.repeat(j_of_src, reps), i=i)
        return links


# ---------------------------------------------------------------------------------------------------
# EM


@dataclass
class _Direction:
    """One direction's parameters: t(word | other side's word) over the shared pair table, and t(word |
    empty word). ``given`` is the side conditioned on (its word id per table entry)."""

    t: np.ndarray
    t_null: np.ndarray
    given: np.ndarray  # per table entry, the id of the conditioning word


def _m_step(counts: np.ndarray, null_counts: np.ndarray, direction: _Direction, identity: np.ndarray,
            prior: float, vocab_size: int) -> None:
    counts[identity] += prior
    totals = np.bincount(direction.given, weights=counts, minlength=vocab_size)
    direction.t = (counts / np.maximum(totals[direction.given], 1e-30)).astype(np.float32)
    null_counts = null_counts + 1e-3  # every word may come from the empty word
    direction.t_null = (null_counts / null_counts.sum()).astype(np.float32)


def _posteriors(corpus_links: dict[str, np.ndarray], index: np.ndarray, direction: _Direction, forward: bool,
                args: AlignArgs) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For each link candidate its score and, per generated token, the empty word's score and the total:
    ``(link score, group of each link, null score per token, total per token)``."""
    own = "src" if forward else "tgt"
    group = corpus_links[own]  # the generated token each candidate is an alignment choice of
    tokens_in_chunk = len(corpus_links[f"{own}_word"])
    closeness = np.exp(-args.diagonal_tension * corpus_links["distance"])
    z = np.bincount(group, weights=closeness, minlength=tokens_in_chunk)
    score = direction.t[index] * ((1 - args.null_prob) * closeness / z[group])
    null = args.null_prob * direction.t_null[corpus_links[f"{own}_word"]]
    total = np.bincount(group, weights=score, minlength=tokens_in_chunk) + null
    return score, group, null, total


class Aligner:
    """Trains both directions on a corpus of tokenised pairs and gives their symmetrised alignments."""

    def __init__(self, args: AlignArgs | None = None, log=None):
        self.args = args or AlignArgs()
        self.log = log or (lambda line: None)

    def align(self, sources: Sequence[Sequence[str]], targets: Sequence[Sequence[str]]) -> list[Alignment]:
        """grow-diag-final-and alignments of each (garbled tokens, clean tokens) pair."""
        forward, reverse = self.directional(sources, targets)
        return [grow_diag_final_and(f, r) for f, r in zip(forward, reverse)]

    def directional(self, sources: Sequence[Sequence[str]],
                    targets: Sequence[Sequence[str]]) -> tuple[list[set], list[set]]:
        """The Viterbi links of each direction, as sets of (garbled index, clean index)."""
        args, started = self.args, time.perf_counter()
        corpus = _Corpus(sources, targets, args.chunk_links)
        # The pair table: every (garbled word, clean word) that co-occur; each candidate keeps its index.
        keys = _unique(np.concatenate([_unique(corpus.links(c)["key"]) for c in corpus.chunks] or
                                      [np.zeros(0, np.int64)]))
        indices = [np.searchsorted(keys, corpus.links(c)["key"]).astype(np.int32) for c in corpus.chunks]
        src_word = (keys // corpus.vocab_size).astype(np.int32)
        tgt_word = (keys % corpus.vocab_size).astype(np.int32)
        identity = src_word == tgt_word
        v = corpus.vocab_size
        fwd = _Direction(np.zeros(0, np.float32), np.zeros(0, np.float32), tgt_word)  # garbled given clean
        rev = _Direction(np.zeros(0, np.float32), np.zeros(0, np.float32), src_word)  # clean given garbled
        # Start from uniform co-occurrence, plus the identity prior's pseudo-counts.
        for direction in (fwd, rev):
            _m_step(np.ones(len(keys)), np.ones(v), direction, identity, args.identity_prior, v)
        self.log(f"align: {len(sources)} pairs, {sum(len(i) for i in indices)} candidates, "
                 f"{len(keys)} word pairs, {time.perf_counter() - started:.1f}s")
        for iteration in range(args.iterations):
            counts = {True: np.zeros(len(keys)), False: np.zeros(len(keys))}
            null_counts = {True: np.zeros(v), False: np.zeros(v)}
            for chunk, index in zip(corpus.chunks, indices):
                links = corpus.links(chunk)
                for direction, forward in ((fwd, True), (rev, False)):
                    score, group, null, total = _posteriors(links, index, direction, forward, args)
                    counts[forward] += np.bincount(index, weights=score / total[group], minlength=len(keys))
                    words_of = links["src_word" if forward else "tgt_word"]
                    null_counts[forward] += np.bincount(words_of, weights=null / total, minlength=v)
            for direction, forward in ((fwd, True), (rev, False)):
                _m_step(counts[forward], null_counts[forward], direction, identity, args.identity_prior, v)
            self.log(f"align: iteration {iteration + 1}, {time.perf_counter() - started:.1f}s")
        forward_links: list[set] = [set() for _ in sources]
        reverse_links: list[set] = [set() for _ in sources]
        for chunk, index in zip(corpus.chunks, indices):
            links = corpus.links(chunk, positions=True)
            for direction, forward, out in ((fwd, True, forward_links), (rev, False, reverse_links)):
                score, group, null, _ = _posteriors(links, index, direction, forward, args)
                best = _group_argmax(score, group)
                best = best[(best >= 0) & (score[np.maximum(best, 0)] > null[: len(best)])]  # else unaligned
                for sentence, j, i in zip(links["sentence"][best].tolist(), links["j"][best].tolist(),
                                          links["i"][best].tolist()):
                    out[sentence].add((j, i))
        self.log(f"align: viterbi done, {time.perf_counter() - started:.1f}s")
        return forward_links, reverse_links


def _unique(values: np.ndarray) -> np.ndarray:
    """np.unique by sorting (numpy 2's hash-based unique is several times slower on these int64 keys)."""
    values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values


def _group_argmax(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Per group id 0..max, the index of its largest value (the first on ties); -1 for an empty group."""
    if not len(group):
        return np.zeros(0, dtype=np.int64)
    best = np.full(int(group.max()) + 1, -1, dtype=np.int64)
    order = np.argsort(group, kind="stable")  # fast on the garbled side's groups, which come sorted
    grouped, ordered = group[order], values[order]
    starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]])
    segment = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(grouped)]))
    hits = np.flatnonzero(ordered == np.maximum.reduceat(ordered, starts)[segment])
    first = hits[np.r_[True, segment[hits][1:] != segment[hits][:-1]]]
    best[grouped[first]] = order[first]
    return best


# ---------------------------------------------------------------------------------------------------
# Symmetrisation

_NEIGHBOURS = ((-1, 0), (0, -1), (1, 0), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1))


def grow_diag_final_and(forward: set[tuple[int, int]], reverse: set[tuple[int, int]]) -> Alignment:
    """Koehn's grow-diag-final-and: start from the intersection, add union links next to it that align a
    still unaligned word (grow-diag), then union links whose both words are unaligned (final-and)."""
    union = forward | reverse
    alignment = forward & reverse
    src_aligned = {j for j, _ in alignment}
    tgt_aligned = {i for _, i in alignment}
    grown = True
    while grown:
        grown = False
        for j, i in sorted(alignment):
            for dj, di in _NEIGHBOURS:
                link = (j + dj, i + di)
                new_word = link[0] not in src_aligned or link[1] not in tgt_aligned
                if link in union and link not in alignment and new_word:
                    alignment.add(link)
                    src_aligned.add(link[0])
                    tgt_aligned.add(link[1])
                    grown = True
    for links in (forward, reverse):
        for j, i in sorted(links):
            if j not in src_aligned and i not in tgt_aligned:
                alignment.add((j, i))
                src_aligned.add(j)
                tgt_aligned.add(i)
    return sorted(alignment)


def align(sources: Sequence[Sequence[str]], targets: Sequence[Sequence[str]], args: AlignArgs | None = None,
          log=None) -> list[Alignment]:
    """Symmetrised alignments of tokenised (garbled, clean) pairs: see :class:`Aligner`."""
    return Aligner(args, log).align(sources, targets)


def main(argv: list[str] | None = None) -> None:
    from training.phrase_table import read_pairs  # refuses the held-out pair

    parser = argparse.ArgumentParser(description="Align garbled -> clean round-trip pairs and show some.")
    parser.add_argument("--roundtrip", type=Path, default=Path("work_data/roundtrip"))
    parser.add_argument("--split", default="validation")
    parser.add_argument("--pairs", nargs="+", default=None)
    parser.add_argument("--max-pairs", type=int, default=None, help="per language pair")
    parser.add_argument("--iterations", type=int, default=AlignArgs.iterations)
    parser.add_argument("--show", type=int, default=5, help="alignments to print")
    ns = parser.parse_args(argv)
    records = read_pairs(ns.roundtrip, ns.split, ns.pairs, ns.max_pairs)
    sources = [tokens(r["source"]) for r in records]
    targets = [tokens(r["target"]) for r in records]
    started = time.perf_counter()
    alignments = align(sources, targets, AlignArgs(iterations=ns.iterations), log=lambda s: print(s, file=sys.stderr))
    seconds = time.perf_counter() - started
    print(f"{len(records)} pairs in {seconds:.1f}s ({seconds / max(len(records), 1) * 1e4:.1f}s per 10k pairs)")
    for source, target, alignment in list(zip(sources, targets, alignments))[: ns.show]:
        print(" ".join(source) + "\n" + " ".join(target) + "\n  " +
              "  ".join(f"{source[j]}={target[i]}" for j, i in alignment) + "\n")


if __name__ == "__main__":
    main()

"""Candidate-constrained repair: a beam search over the candidate lattice of a sentence.

Every path through the lattice rebuilds the sentence from the input's own tokens and the
candidates of :mod:`mtfix.candidates`. A path is scored as a noisy channel,

    lm * ln P_LM(output) + channel * sum ln P(observed | original) - change_penalty * (#changes)
    + context, detector and choice scores of the changes (word vectors, the spin detector's heads)
    [+ seq2seq * ln P_seq2seq(output | input) on the n-best]

so a word changes only when the news language model (and the seq2seq rescorer, when the model has
one) prefer the restoration by more than the keep-the-input prior.
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from .candidates import Candidate, CandidateColumns, CandidateGenerator, padded
from .context import WordVectors
from .detector import SpinDetector, detector_scores
from .lm import ID_BITS, NgramLM
from .result import Edit
from .text import Token, lm_form, tokenize


SUSPECT_PROBABILITY = 0.5  # the detector's P(spun) from which a word gets candidates_per_suspect_word


@dataclass
class LatticeWeights:
    """Decoding weights; tuned on the validation split and stored in the model's mtfix.json."""

    lm: float = 1.0
    channel: float = 1.0
    context: float = 0.0
    detector: float = 0.0
    # The detector's original-word head: how much it prefers a change's first word over the other changes
    # offered at that token (a log-softmax centred on uniform; ``mtfix.detector.detector_scores``).
    choice: float = 0.0
    # Changes the detector gives log-odds below this are not searched at all (a speed knob: they
    # almost never win once the detector's weight counts against them).
    detector_floor: float = -math.inf
    change_penalty: float = 3.0
    # A sentence is changed only when its best path beats leaving it as it is by this much: the one
    # weak change a clean sentence may attract stays under it, the several swaps of a spun one add up.
    min_sentence_gain: float = 0.0
    seq2seq: float = 0.0
    # A sentence keeps the post-editing phrase table's rewrites only when its best path makes at least this
    # many of them; otherwise it is searched again without them. Machine translation damages a sentence in
    # several places, while one rewrite alone is mostly a paraphrase of clean copy (on validation samples,
    # best paths with 1 / >= 2 rewrites: 33 / 2 of 300 clean sentences, 78 / 274 of 400 garbled ones).
    min_postedit_changes: int = 2
    # ... unless the rewrites gain at least this much over the sentence's best path without the table
    # (0: the count alone decides).
    min_postedit_gain: float = 0.0
    # Machine-translation damage the lattice cannot reach (word order across phrases, words it has no candidate
    # for): a sentence whose best path, before the post-editing gate, takes at least this many post-editing
    # rewrites is also rewritten whole by the seq2seq (from the lattice's repair), and the rewrite is kept where
    # the news LM prefers it to the lattice's repair by at least rewrite_min_lm_gain. 0: never.
    rewrite_min_postedits: int = 0
    rewrite_min_lm_gain: float = 0.0
    beam_size: int = 8
    nbest: int = 4
    # Single-word originals offered per input word, best by channel x corpus count first: breadth
    # against speed (64 instead of 32: +0.37 BLEU on the test split at about two thirds of the speed).
    candidates_per_word: int = 32
    # ... and per word the spin detector says was spun (P >= SUSPECT_PROBABILITY): breadth where it is
    # likely to pay. 0: as candidates_per_word.
    candidates_per_suspect_word: int = 0

    def __post_init__(self) -> None:
        if self.beam_size < 1 or self.nbest < 1 or self.candidates_per_word < 1:
            raise ValueError("beam_size, nbest and candidates_per_word must be at least 1")
        if self.rewrite_min_postedits < 0:
            raise ValueError("rewrite_min_postedits must be 0 (no rewrite pass) or more")

    @classmethod
    def from_settings(cls, settings: dict) -> "LatticeWeights":
        known = {k: v for k, v in settings.get("lattice", {}).items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Path:
    """A full path through the lattice: the chosen candidate for each stretch of the input."""

    candidates: list[Candidate]
    lm_score: float
    channel_score: float
    seq2seq_score: float = 0.0
    context_score: float = 0.0
    detector_score: float = 0.0
    choice_score: float = 0.0

    @classmethod
    def along(cls, candidates: list[Candidate], lm_score: float) -> "Path":
        """The path through ``candidates`` with its changes' channel, context and detector scores summed."""
        changes = [c for c in candidates if c.kind != "keep"]  # not .is_keep: check() scores 100,000s of paths
        return cls(list(candidates), lm_score, sum(c.channel for c in changes),
                   context_score=sum(c.context for c in changes), detector_score=sum(c.spun for c in changes),
                   choice_score=sum(c.choice for c in changes))

    @property
    def changes(self) -> list[Candidate]:
        return [c for c in self.candidates if c.kind != "keep"]

    def total(self, weights: LatticeWeights) -> float:
        return (weights.lm * self.lm_score + weights.channel * self.channel_score + weights.context * self.context_score
                + weights.detector * self.detector_score + weights.choice * self.choice_score
                - weights.change_penalty * len(self.changes)
                + weights.seq2seq * self.seq2seq_score)


@dataclass
class _Hyps:
    """Partial paths of many sentences, one row each: the beams of the batched search.

    A row holds what the search needs to rank and extend a hypothesis; the chosen candidates are
    rebuilt at the end from ``parent`` links into the search's history.
    """

    sentence: np.ndarray  # int64: index of the sentence in the batch
    state: np.ndarray  # int32 (rows, order - 1): the last LM ids, which recombination merges on
    score: np.ndarray  # float64: the weighted path score so far
    # int64: when this LM state was first reached at its position, counting expansions in the order
    # (position, rank of the extended hypothesis, candidate). Ties in score go to the state reached
    # first, so they are broken as a one-sentence search keeping its beams in dicts keyed by state
    # (insertion order) breaks them, whatever else is in the batch.
    first_reached: np.ndarray
    parent: np.ndarray  # int64: history index of the hypothesis this one extends (-1 at the start)
    candidate: np.ndarray  # int64: batch-wide index of the candidate it appended (-1 at the start)
    lm_step: np.ndarray  # float64: ln P_LM of that candidate's words

    def __len__(self) -> int:
        return len(self.sentence)

    def take(self, index) -> "_Hyps":
        return _Hyps(*(getattr(self, f.name)[index] for f in fields(self)))

    @staticmethod
    def concat(parts: list["_Hyps"]) -> "_Hyps":
        if len(parts) == 1:
            return parts[0]
        return _Hyps(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(_Hyps)))


@dataclass
class _CandidateTable:
    """The candidates of a batch of sentences, sentence by sentence and by start position, with what the
    search reads of them as arrays."""

    columns: CandidateColumns  # all candidates of the batch; batch-wide index -> row
    word_ids: np.ndarray  # int32 (candidates, most words): LM ids of its words, zero-padded
    word_count: np.ndarray  # int64
    change: np.ndarray  # float64: 0 for a keep candidate, 1 for a change
    first: np.ndarray  # int64 (sentences, longest + 1): index of the first candidate starting at a position
    count: np.ndarray  # int64 (sentences, longest + 1): how many candidates start there


@dataclass
class Suspicion:
    """A span that looks spun, with the suggested restoration and the runner-up alternatives."""

    start: int
    end: int
    text: str
    suggestion: str
    score: float
    alternatives: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    def shifted(self, offset: int) -> "Suspicion":
        return Suspicion(self.start + offset, self.end + offset, self.text, self.suggestion, self.score, self.alternatives)


class LatticeDecoder:
    def __init__(self, lm: NgramLM, generator: CandidateGenerator, weights: LatticeWeights,
                 vectors: WordVectors | None = None, detector: SpinDetector | None = None):
        self.lm = lm
        self.generator = generator
        self.weights = weights
        self.vectors = vectors
        self.detector = detector
        # Sentences share most candidate words, and lm_form is a regex substitution: cache their ids.
        self._ids_of_words = functools.lru_cache(maxsize=200_000)(self._ids_of_words_uncached)

    def _ids_of_words_uncached(self, words: tuple[str, ...]) -> tuple[int, ...]:
        """The LM ids of a candidate's words (a word of a thesaurus phrase may hold spaces)."""
        return tuple(self.lm.ids([lm_form(x) for word in words for x in word.split()]).tolist())

    # -- search -----------------------------------------------------------------------------------

    def candidates(self, sentence: str) -> tuple[list[Token], list[Candidate]]:
        """The tokens of ``sentence`` and the candidates the search chooses among, with their context
        and detector scores when the model has word vectors and a spin detector."""
        tokens, columns = self.candidates_many([sentence])[0]
        return tokens, columns.rows()

    def candidates_many(self, sentences: list[str]) -> list[tuple[list[Token], CandidateColumns]]:
        self.generator.forget_if_over()  # between batches: no columns of an earlier batch are in use
        tokenized = [tokenize(sentence) for sentence in sentences]
        use_detector = self.detector is not None and (self.weights.detector or self.weights.choice)
        use_context = self.vectors is not None and self.weights.context
        # One encoder call for the batch; each change gets the log-odds that its span was spun, and
        # those below the floor go before anything else is computed for them.
        readings = self.detector.read(sentences, tokenized) if use_detector else [None] * len(sentences)
        original_head = self.detector if self.weights.choice else None
        lattices = []
        for sentence, tokens, reading in zip(sentences, tokenized, readings):
            if reading is None:
                columns = self.generator.columns(sentence, tokens)
            else:
                columns = self.generator.columns(sentence, tokens, *self._suspicion_sets(reading.spun))
                columns = detector_scores(columns, reading, self.weights.detector_floor, original_head)
            if use_context:
                columns.context = self.vectors.context_scores(tokens, columns)
            lattices.append((tokens, columns))
        return lattices

    def _suspicion_sets(self, word_probabilities: np.ndarray) -> tuple[frozenset[int], frozenset[int]]:
        """The tokens that get the wider candidate lists, and those whose single-word changes
        ``detector_scores`` would drop under the floor anyway, so they are not generated at all (on test
        sentences, 56% of the words that would get originals; the repairs are the same)."""
        n = len(word_probabilities)
        positions = np.arange(n)
        single_word = SpinDetector.span_scores(word_probabilities, positions, positions + 1)
        suspects = frozenset(np.flatnonzero(word_probabilities >= SUSPECT_PROBABILITY).tolist())
        return suspects, frozenset(np.flatnonzero(~(single_word >= self.weights.detector_floor)).tolist())

    def nbest(self, sentence: str) -> tuple[list[Token], list[Path], CandidateColumns]:
        return self.nbest_many([sentence])[0]

    def nbest_many(self, sentences: list[str], paths: int | None = None,
                   lattices: list[tuple[list[Token], CandidateColumns]] | None = None,
                   ) -> list[tuple[list[Token], list[Path], CandidateColumns]]:
        """The tokens, n-best paths (best first; ``paths`` of them, default ``weights.nbest``) and
        candidates of each sentence, searched together.

        A beam search per sentence, run for the whole batch at once, position by position: every
        hypothesis ending at a position is extended by every candidate starting there, with one LM
        call for all of them. Hypotheses with the same LM state at the same position are recombined
        (the best scoring is kept), then the ``beam_size`` best of each sentence are extended. At the
        end of a sentence every hypothesis is kept and scored with </s>. A sentence's result does not
        depend on the rest of the batch, not even where scores tie (see ``_Hyps.first_reached``), and
        scores are summed in the same order as expansion by expansion, so they are exactly equal.
        ``lattices``: the sentences' tokens and candidates when the caller has them (``candidates_many``).
        """
        lattices = self.candidates_many(sentences) if lattices is None else lattices
        if not lattices:
            return []
        lengths = np.array([len(tokens) for tokens, _ in lattices], dtype=np.int64)
        table = self._candidate_table(lattices, lengths)
        weights = self.weights
        start = _Hyps(
            sentence=np.arange(len(lattices), dtype=np.int64),
            state=np.full((len(lattices), self.lm.order - 1), self.lm.bos_id, dtype=np.int32),
            score=np.zeros(len(lattices)),
            first_reached=np.zeros(len(lattices), dtype=np.int64),
            parent=np.full(len(lattices), -1, dtype=np.int64),
            candidate=np.full(len(lattices), -1, dtype=np.int64),
            lm_step=np.zeros(len(lattices)),
        )
        arrivals: dict[int, list[_Hyps]] = {0: [start]}  # position -> hypotheses ending there
        history: list[_Hyps] = []  # every hypothesis kept at some position, in index order
        kept = 0
        complete_paths: list[np.ndarray] = []  # history indices of the hypotheses that end a sentence
        expansions_so_far = 0
        for position in range(int(lengths.max()) + 1):
            if position not in arrivals:
                continue
            hyps = _Hyps.concat(arrivals.pop(position))
            rows, first_reached, rank = self._recombine(hyps)
            complete = lengths[hyps.sentence[rows]] == position
            kept_here = complete | (rank < weights.beam_size)  # a complete sentence keeps every path
            hyps, complete = hyps.take(rows[kept_here]), complete[kept_here]
            hyps.first_reached = first_reached[kept_here]
            indices = np.arange(kept, kept + len(hyps))
            history.append(hyps)
            kept += len(hyps)
            complete_paths.append(indices[complete])
            growing = ~complete
            if growing.any():
                extended = self._extend(hyps.take(growing), indices[growing], position, table, expansions_so_far)
                expansions_so_far += len(extended)
                ends = table.columns.end[extended.candidate]
                by_end = np.argsort(ends, kind="stable")
                extended, ends = extended.take(by_end), ends[by_end]
                bounds = np.flatnonzero(np.diff(ends)) + 1
                for begin, stop in zip(np.concatenate(([0], bounds)), np.concatenate((bounds, [len(ends)]))):
                    arrivals.setdefault(int(ends[begin]), []).append(extended.take(slice(begin, stop)))
        return self._paths(lattices, table, _Hyps.concat(history), np.concatenate(complete_paths),
                           self.weights.nbest if paths is None else paths)

    def _candidate_table(self, lattices: list[tuple[list[Token], CandidateColumns]], lengths: np.ndarray) -> _CandidateTable:
        columns = CandidateColumns.concat([candidates for _, candidates in lattices])  # each sorted by start
        word_ids = columns.words.feature((self, "lm_ids"), self._lm_ids, columns.number, fill=-1)
        sentence = np.repeat(np.arange(len(lattices)), [len(candidates) for _, candidates in lattices])
        positions = int(lengths.max()) + 1
        count = np.bincount(sentence * positions + columns.start, minlength=len(lattices) * positions)
        first = np.cumsum(count) - count
        return _CandidateTable(
            columns=columns,
            word_ids=np.maximum(word_ids, 0).astype(np.int32),
            word_count=(word_ids >= 0).sum(axis=1),
            change=columns.is_change.astype(np.float64),
            first=first.reshape(len(lattices), positions),
            count=count.reshape(len(lattices), positions),
        )

    def _lm_ids(self, candidate_words: list[tuple[str, ...]]) -> np.ndarray:
        """The LM ids of each candidate's words (a word of a thesaurus phrase may hold spaces), left-aligned,
        padded with -1."""
        return padded([self._ids_of_words(words) for words in candidate_words])

    @staticmethod
    def _recombine(hyps: _Hyps) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Of the hypotheses with the same sentence and LM state, the best scoring, and the first
        reached among equals. Returns their rows in ``hyps`` sorted by sentence and then best first,
        when their state was first reached, and their rank within their sentence."""
        state_key = np.zeros(len(hyps), dtype=np.uint64)
        for column in hyps.state.T:  # LM ids are 16 bits and states at most 3 ids (mtfix.lm)
            state_key = (state_key << np.uint64(ID_BITS)) | column.astype(np.uint64)
        order = np.lexsort((hyps.first_reached, state_key, hyps.sentence))
        sentence, state_key, score = hyps.sentence[order], state_key[order], hyps.score[order]
        new_group = np.concatenate(([True], (sentence[1:] != sentence[:-1]) | (state_key[1:] != state_key[:-1])))
        group_starts = np.flatnonzero(new_group)
        group = np.cumsum(new_group) - 1
        best_rows = np.flatnonzero(score == np.maximum.reduceat(score, group_starts)[group])
        # Rows of a group are in first_reached order, so its first best row is the one to keep.
        winners = order[best_rows[np.concatenate(([True], group[best_rows[1:]] != group[best_rows[:-1]]))]]
        first_reached = hyps.first_reached[order[group_starts]]
        ranking = np.lexsort((first_reached, -hyps.score[winners], hyps.sentence[winners]))
        winners, first_reached, sentence = winners[ranking], first_reached[ranking], hyps.sentence[winners[ranking]]
        rows = np.arange(len(winners))
        sentence_starts = np.concatenate(([True], sentence[1:] != sentence[:-1]))
        return winners, first_reached, rows - np.maximum.accumulate(np.where(sentence_starts, rows, 0))

    def _extend(self, hyps: _Hyps, indices: np.ndarray, position: int, table: _CandidateTable,
                expansions_so_far: int) -> _Hyps:
        """Every hypothesis (sorted by sentence, best first) extended by every candidate starting at
        ``position``, in that order, which ``first_reached`` records."""
        count = table.count[hyps.sentence, position]
        rows = np.repeat(np.arange(len(hyps)), count)
        total = int(count.sum())
        candidate = np.repeat(table.first[hyps.sentence, position] - (np.cumsum(count) - count), count) + np.arange(total)
        word_count = table.word_count[candidate]
        word_ids = table.word_ids[candidate, : int(word_count.max(initial=0))]
        lm_step, state = self._score_expansions(hyps.state[rows], word_ids, word_count)
        w = self.weights
        # The same float operations, in the same order, as scoring one expansion at a time.
        score = hyps.score[rows] + w.lm * lm_step
        score = score + w.channel * table.columns.channel[candidate]
        score = score + w.context * table.columns.context[candidate]
        score = score + w.detector * table.columns.spun[candidate]
        score = score + w.choice * table.columns.choice[candidate]
        score = score - w.change_penalty * table.change[candidate]
        return _Hyps(hyps.sentence[rows], state, score, expansions_so_far + np.arange(total, dtype=np.int64),
                     indices[rows], candidate, lm_step)

    def _score_expansions(self, states: np.ndarray, word_ids: np.ndarray, word_count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """ln P_LM of each row's words (``word_count`` of ``word_ids``) after its LM state, all in one
        vectorised call, and the LM state after them."""
        context_size = states.shape[1]
        history = np.concatenate([states, word_ids], axis=1)
        contexts, words, scored = [], [], []
        for offset in range(word_ids.shape[1]):
            has_word = word_count > offset
            contexts.append(history[has_word, offset:offset + context_size])
            words.append(history[has_word, context_size + offset])
            scored.append(has_word)
        totals = np.zeros(len(states))
        if contexts:
            # unk_per_type: an out-of-vocabulary word gets its share of <unk>, not the whole class,
            # or keeping a rare spun word would look far likelier than any in-vocabulary original.
            scores = self.lm.score_batch(np.concatenate(contexts), np.concatenate(words), unk_per_type=True)
            begin = 0
            for has_word in scored:  # word by word, so each row sums its words left to right
                stop = begin + int(has_word.sum())
                totals[has_word] += scores[begin:stop]
                begin = stop
        state = np.take_along_axis(history, word_count[:, None] + np.arange(context_size), axis=1)
        return totals, state

    def _paths(self, lattices, table: _CandidateTable, history: _Hyps, complete_paths: np.ndarray,
               paths_per_sentence: int) -> list[tuple[list[Token], list[Path], CandidateColumns]]:
        """The ``paths_per_sentence`` best complete paths of each sentence, </s> scored, rebuilt from the history."""
        complete = history.take(complete_paths)
        eos = self.lm.score_batch(complete.state, np.full(len(complete), self.lm.eos_id, dtype=np.int32))
        score = complete.score + self.weights.lm * eos.astype(np.float64)
        order = np.lexsort((complete.first_reached, -score, complete.sentence))
        parents, candidates, lm_steps = history.parent.tolist(), history.candidate.tolist(), history.lm_step.tolist()
        kept: list[tuple[int, list[int], float]] = []  # (sentence, history indices of its steps, </s> score)
        per_sentence = [0] * len(lattices)
        for sentence, index, eos_score in zip(complete.sentence[order].tolist(), complete_paths[order].tolist(), eos[order].tolist()):
            if per_sentence[sentence] >= max(paths_per_sentence, 1):
                continue
            per_sentence[sentence] += 1
            steps = []
            while candidates[index] >= 0:
                steps.append(index)
                index = parents[index]
            steps.reverse()
            kept.append((sentence, steps, eos_score))
        # The chosen candidates of all paths as tuples at once: reading columns element by element is slow.
        rows = iter(table.columns.take(np.array([candidates[i] for _, steps, _ in kept for i in steps], dtype=np.int64)).rows())
        paths: list[list[Path]] = [[] for _ in lattices]
        for sentence, steps, eos_score in kept:
            chosen = [next(rows) for _ in steps]
            lm_score = channel_score = context_score = detector_score = choice_score = 0.0
            for i, candidate in zip(steps, chosen):  # summed along the path, as the search added them
                lm_score += lm_steps[i]
                channel_score += candidate.channel
                context_score += candidate.context
                detector_score += candidate.spun
                choice_score += candidate.choice
            paths[sentence].append(Path(chosen, lm_score + eos_score, channel_score, context_score=context_score,
                                        detector_score=detector_score, choice_score=choice_score))
        return [(tokens, sentence_paths, candidates) for (tokens, candidates), sentence_paths in zip(lattices, paths)]

    # -- scoring given paths ----------------------------------------------------------------------

    def path_lm_scores(self, paths: list[list[Candidate]]) -> np.ndarray:
        """ln P_LM of whole paths, </s> included, scored as the search scores them: one LM call for all."""
        if not paths:
            return np.zeros(0)
        scores, path_starts = self._sequence_word_scores([[x for c in chosen for x in self._ids_of_words(c.words)]
                                                          for chosen in paths])
        return np.add.reduceat(scores.astype(np.float64), path_starts)

    def _sequence_word_scores(self, sequences: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        """ln P_LM of each word of each sentence's LM ids, then of its </s>, all in one LM call (float32,
        flat), and where each sequence's scores start."""
        lengths = np.array([len(i) + 1 for i in sequences], dtype=np.int64)  # + </s>
        words = np.insert(np.array([x for i in sequences for x in i], dtype=np.int32), np.cumsum(lengths - 1), self.lm.eos_id)
        path_starts = np.cumsum(lengths) - lengths
        index = np.arange(len(words))
        position = index - np.repeat(path_starts, lengths)  # of each word within its path
        context_size = self.lm.order - 1
        contexts = np.full((len(words), context_size), self.lm.bos_id, dtype=np.int32)
        for column in range(context_size):
            back = context_size - column  # this column holds the word that many places earlier
            inside = position >= back
            contexts[inside, column] = words[index[inside] - back]
        return self.lm.score_batch(contexts, words, unk_per_type=True), path_starts

    def replacement_scores(self, base: list[Candidate], replacements: list[tuple[int, int, list[Candidate]]]) -> list[float]:
        """For each (p, q, candidates), the score ``scores_of`` gives ``base`` with ``base[p:q]`` replaced by
        ``candidates``, up to rounding: only the LM scores of the words that change and of the ``order - 1``
        words after them are computed (``check()`` scores a variant per change candidate of a sentence)."""
        if not replacements:
            return []
        k = self.lm.order - 1
        base_ids = [self._ids_of_words(c.words) for c in base]
        offsets = np.concatenate([[0], np.cumsum([len(ids) for ids in base_ids], dtype=np.int64)]).tolist()
        words = [x for ids in base_ids for x in ids]
        base_scores = self._sequence_word_scores([words])[0].astype(np.float64)  # the words, then </s>
        lm_prefix = np.concatenate([[0.0], np.cumsum(base_scores)])
        w = self.weights

        def weighted(c: Candidate) -> float:  # what a candidate adds to a path's score besides the LM
            if c.kind == "keep":
                return 0.0
            return w.channel * c.channel + w.context * c.context + w.detector * c.spun + w.choice * c.choice - w.change_penalty

        base_prefix = np.concatenate([[0.0], np.cumsum([weighted(c) for c in base])])
        contexts, targets, owners, lost_from, lost_to = [], [], [], [], []
        for r, (p, q, replacing) in enumerate(replacements):
            start, stop = offsets[p], offsets[q]
            history = [self.lm.bos_id] * max(0, k - start) + words[max(0, start - k):start]
            tail = words[stop:stop + k]
            changed = [x for c in replacing for x in self._ids_of_words(c.words)] + tail + ([self.lm.eos_id] if len(tail) < k else [])
            sequence = history + changed
            contexts.extend(sequence[j:j + k] for j in range(len(changed)))
            targets.extend(changed)
            owners.extend([r] * len(changed))
            lost_from.append(start)
            lost_to.append(min(stop + k, len(words) + 1))
        scores = self.lm.score_batch(np.array(contexts, dtype=np.int32).reshape(len(targets), k),
                                     np.array(targets, dtype=np.int32), unk_per_type=True)
        added = np.bincount(np.array(owners, dtype=np.int64), weights=scores.astype(np.float64), minlength=len(replacements))
        lm_scores = lm_prefix[-1] - (lm_prefix[lost_to] - lm_prefix[lost_from]) + added
        p, q = (np.array([r[i] for r in replacements], dtype=np.int64) for i in (0, 1))
        others = base_prefix[-1] - (base_prefix[q] - base_prefix[p]) + np.array([sum(map(weighted, r[2])) for r in replacements])
        return (w.lm * lm_scores + others).tolist()

    def scores_of(self, paths: list[list[Candidate]]) -> list[float]:
        """The score of each path as the search would give it (all LM scores in one call)."""
        return [Path.along(chosen, lm_score).total(self.weights)
                for chosen, lm_score in zip(paths, self.path_lm_scores(paths).tolist())]


def render(sentence: str, tokens: list[Token], chosen: list[Candidate]) -> list[Edit]:
    """The edits (offsets into ``sentence``) that a path makes; spacing around each span is kept."""
    edits = []
    for candidate in chosen:
        if candidate.is_keep:
            continue
        start, end = tokens[candidate.start].start, tokens[candidate.end - 1].end
        edits.append(Edit(start, end, sentence[start:end], " ".join(candidate.words), 1.0))
    return edits


def keep_candidates(tokens: list[Token], start: int, end: int) -> list[Candidate]:
    return [Candidate(i, i + 1, (tokens[i].text,), 0.0, "keep") for i in range(start, end)]


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(x, 50.0), -50.0)))

"""Candidate-constrained repair: a beam search over the candidate lattice of a sentence.

Every path through the lattice rebuilds the sentence from the input's own tokens and the
candidates of :mod:`mtfix.candidates`. A path is scored as a noisy channel,

    lm * ln P_LM(output) + channel * sum ln P(observed | original) - change_penalty * (#changes)
    [+ seq2seq * ln P_seq2seq(output | input) on the n-best]

so a word changes only when the news language model (and the seq2seq rescorer, when the model has
one) prefer the restoration by more than the keep-the-input prior.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from .candidates import Candidate, CandidateGenerator
from .lm import NgramLM
from .result import Edit
from .text import Token, lm_form


@dataclass
class LatticeWeights:
    """Decoding weights; tuned on the validation split and stored in the model's mtfix.json."""

    lm: float = 1.0
    channel: float = 1.0
    context: float = 0.0
    change_penalty: float = 3.0
    seq2seq: float = 0.0
    beam_size: int = 8
    nbest: int = 4

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

    @property
    def changes(self) -> list[Candidate]:
        return [c for c in self.candidates if not c.is_keep]

    def total(self, weights: LatticeWeights) -> float:
        return (weights.lm * self.lm_score + weights.channel * self.channel_score + weights.context * self.context_score
                - weights.change_penalty * len(self.changes) + weights.seq2seq * self.seq2seq_score)


@dataclass
class _Hyp:
    score: float
    state: tuple[int, ...]
    chosen: tuple[Candidate, ...]
    lm_score: float = 0.0
    channel_score: float = 0.0
    context_score: float = 0.0


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
    def __init__(self, lm: NgramLM, generator: CandidateGenerator, weights: LatticeWeights):
        self.lm = lm
        self.generator = generator
        self.weights = weights

    # -- search -----------------------------------------------------------------------------------

    def candidates(self, sentence: str) -> tuple[list[Token], list[Candidate]]:
        """The tokens of ``sentence`` and the candidates the search chooses among."""
        return self.generator.candidates(sentence)

    def nbest(self, sentence: str) -> tuple[list[Token], list[Path], list[Candidate]]:
        tokens, candidates = self.candidates(sentence)
        by_start: list[list[Candidate]] = [[] for _ in range(len(tokens) + 1)]
        for candidate in candidates:
            by_start[candidate.start].append(candidate)
        order = self.lm.order
        w = self.weights
        beams: list[dict[tuple, _Hyp]] = [dict() for _ in range(len(tokens) + 1)]
        start_state = (self.lm.bos_id,) * (order - 1)
        beams[0][start_state] = _Hyp(0.0, start_state, ())
        word_ids = {c: self.lm.ids([lm_form(x) for word in c.words for x in word.split()]) for c in candidates}
        for position in range(len(tokens)):
            hyps = sorted(beams[position].values(), key=lambda h: h.score, reverse=True)[: w.beam_size]
            if not hyps:
                continue
            expansions = [(h, c) for h in hyps for c in by_start[position]]
            lm_scores = self._score_expansions(expansions, word_ids)
            for (hyp, candidate), lm_score in zip(expansions, lm_scores):
                ids = tuple(int(i) for i in word_ids[candidate])
                state = (hyp.state + ids)[-(order - 1):] if order > 1 else ()
                change = 0.0 if candidate.is_keep else 1.0
                score = (hyp.score + w.lm * lm_score + w.channel * candidate.channel + w.context * candidate.context
                         - w.change_penalty * change)
                target = beams[candidate.end]
                if state not in target or target[state].score < score:
                    target[state] = _Hyp(score, state, hyp.chosen + (candidate,), hyp.lm_score + lm_score,
                                       hyp.channel_score + candidate.channel, hyp.context_score + candidate.context)
        finals = list(beams[len(tokens)].values())
        if finals:
            eos = self.lm.score_batch(np.array([h.state for h in finals], dtype=np.int32).reshape(len(finals), order - 1),
                                      np.full(len(finals), self.lm.eos_id, dtype=np.int32))
            for hyp, eos_score in zip(finals, eos):
                hyp.score += w.lm * float(eos_score)
                hyp.lm_score += float(eos_score)
        finals.sort(key=lambda h: h.score, reverse=True)
        paths = [Path(list(h.chosen), h.lm_score, h.channel_score, context_score=h.context_score) for h in finals[: max(w.nbest, 1)]]
        return tokens, paths, candidates

    def _score_expansions(self, expansions: list[tuple[_Hyp, Candidate]], word_ids: dict) -> list[float]:
        """ln P_LM of each candidate's words after its hypothesis, all in one vectorised call."""
        order = self.lm.order
        contexts, words, owner = [], [], []
        for index, (hyp, candidate) in enumerate(expansions):
            history = list(hyp.state)
            for word_id in word_ids[candidate]:
                contexts.append(history[-(order - 1):] if order > 1 else [])
                words.append(int(word_id))
                owner.append(index)
                history.append(int(word_id))
        totals = np.zeros(len(expansions), dtype=np.float64)
        if words:
            # unk_per_type: an out-of-vocabulary word gets its share of <unk>, not the whole class,
            # or keeping a rare spun word would look far likelier than any in-vocabulary original.
            scores = self.lm.score_batch(np.array(contexts, dtype=np.int32).reshape(len(words), order - 1),
                                         np.array(words, dtype=np.int32), unk_per_type=True)
            np.add.at(totals, np.array(owner), scores)
        return totals.tolist()

    # -- scoring a given path ---------------------------------------------------------------------

    def path_lm_score(self, chosen: list[Candidate]) -> float:
        """ln P_LM of a whole path, </s> included, scored exactly as the search scores it."""
        ids = [int(i) for i in self.lm.ids([lm_form(x) for c in chosen for word in c.words for x in word.split()])]
        ids.append(self.lm.eos_id)
        history = [self.lm.bos_id] * (self.lm.order - 1) + ids
        contexts = np.array([history[i:i + self.lm.order - 1] for i in range(len(ids))], dtype=np.int32)
        scores = self.lm.score_batch(contexts.reshape(len(ids), self.lm.order - 1), np.array(ids, dtype=np.int32), unk_per_type=True)
        return float(scores.sum(dtype=np.float64))

    def score_of(self, chosen: list[Candidate]) -> float:
        w = self.weights
        changes = [c for c in chosen if not c.is_keep]
        return (w.lm * self.path_lm_score(chosen) + w.channel * sum(c.channel for c in changes)
                + w.context * sum(c.context for c in changes) - w.change_penalty * len(changes))


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

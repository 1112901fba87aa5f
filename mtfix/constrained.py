"""The default repair path: candidate lattice + news LM (+ seq2seq n-best rescoring)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from .candidates import Candidate, CandidateGenerator
from .lattice import LatticeDecoder, LatticeWeights, Suspicion, keep_candidates, render, sigmoid
from .lexicon import Thesaurus
from .lm import NgramLM
from .model import LoadedModel, ModelNotFoundError
from .result import Edit

LM_FILE = "lm.safetensors"


def has_lattice(path: Path) -> bool:
    return (path / LM_FILE).is_file()


class SequenceScorer(Protocol):
    """The n-best rescorer: a torch or CTranslate2 engine (mtfix.fast)."""

    def sequence_logprobs(self, sources: list[str], targets: list[str]) -> list[float]: ...


class LatticeBackend:
    """Proposes only edits that the candidate lattice allows, each with a confidence: the sigmoid of
    how much worse the best path scores when that one edit is undone."""

    def __init__(self, lm: NgramLM, weights: LatticeWeights, rescorer: SequenceScorer | LoadedModel | None = None,
                 thesaurus: Thesaurus | None = None):
        self.weights = weights
        if isinstance(rescorer, LoadedModel):  # a torch model from load_model
            from .fast import TorchEngine

            rescorer = TorchEngine(rescorer)
        self.rescorer = rescorer if weights.seq2seq > 0 else None
        self.thesaurus = thesaurus or Thesaurus.load()
        self.decoder = LatticeDecoder(lm, CandidateGenerator(self.thesaurus), weights)

    @classmethod
    def from_model(cls, loaded: LoadedModel, rescorer: SequenceScorer | None = None) -> "LatticeBackend":
        """The lattice of a model directory: its LM file, its tuned weights, its seq2seq as rescorer
        (``rescorer``, e.g. the CTranslate2 engine, or else the torch model of ``loaded``)."""
        lm_path = loaded.path / LM_FILE
        if not lm_path.is_file():
            raise ModelNotFoundError(f"mtfix model directory {loaded.path} is missing: {LM_FILE} (the news language model of the lattice path)")
        return cls(NgramLM.load(lm_path), LatticeWeights.from_settings(loaded.settings), rescorer or loaded)

    def repair_sentences(self, sentences: list[str]) -> list[str]:
        """The best path of each sentence as text (every edit applied, whatever its confidence)."""
        from .result import apply_edits

        return [apply_edits(s, edits) for s, edits in zip(sentences, self.propose(sentences))]

    def propose(self, sentences: list[str]) -> list[list[Edit]]:
        return [edits for edits, _ in self._decode_all(sentences, with_alternatives=False)]

    def check(self, sentences: list[str]) -> list[list[Suspicion]]:
        return [suspicions for _, suspicions in self._decode_all(sentences, with_alternatives=True)]

    # -- internals --------------------------------------------------------------------------------

    def _decode_all(self, sentences: list[str], with_alternatives: bool) -> list[tuple[list[Edit], list[Suspicion]]]:
        decoded = [self.decoder.nbest(sentence) for sentence in sentences]
        if self.rescorer is not None:
            self._rescore(sentences, decoded)
        return [self._explain(sentence, tokens, paths[0].candidates, candidates, with_alternatives)
                if paths else ([], []) for sentence, (tokens, paths, candidates) in zip(sentences, decoded)]

    def _rescore(self, sentences, decoded) -> None:
        from .result import apply_edits

        sources, targets, owners = [], [], []
        for index, (sentence, (tokens, paths, _)) in enumerate(zip(sentences, decoded)):
            if len(paths) < 2:
                continue  # nothing to rank (the seq2seq score only orders a sentence's n-best)
            for path in paths:
                sources.append(sentence)
                targets.append(apply_edits(sentence, render(sentence, tokens, path.candidates)))
                owners.append((index, path))
        if not sources:
            return
        for (index, path), logprob in zip(owners, self.rescorer.sequence_logprobs(sources, targets)):
            path.seq2seq_score = logprob
        for _, paths, _ in decoded:
            paths.sort(key=lambda p: p.total(self.weights), reverse=True)

    def _explain(self, sentence: str, tokens, chosen: list[Candidate], candidates: list[Candidate],
                 with_alternatives: bool = True):
        best = self.decoder.score_of(chosen)
        edits, suspicions = [], []
        for position, candidate in enumerate(chosen):
            if candidate.is_keep:
                continue
            undone = chosen[:position] + keep_candidates(tokens, candidate.start, candidate.end) + chosen[position + 1:]
            confidence = sigmoid(best - self.decoder.score_of(undone))
            # Ranking the alternatives rescores a path per rival: only check() shows them (repair: ~9% faster).
            alternatives = self._alternatives(chosen, position, candidates) if with_alternatives else []
            start, end = tokens[candidate.start].start, tokens[candidate.end - 1].end
            after = " ".join(candidate.words)
            edits.append(Edit(start, end, sentence[start:end], after, confidence))
            suspicions.append(Suspicion(start, end, sentence[start:end], after, confidence, alternatives))
        edits = _capitalise_start(sentence, tokens, edits, self.thesaurus)
        return edits, suspicions

    def _alternatives(self, chosen: list[Candidate], position: int, candidates: list[Candidate], limit: int = 3) -> list[str]:
        candidate = chosen[position]
        rivals = [c for c in candidates if c.start == candidate.start and c.end == candidate.end
                  and not c.is_keep and c.words != candidate.words]
        scored = sorted(rivals, key=lambda c: self.decoder.score_of(chosen[:position] + [c] + chosen[position + 1:]), reverse=True)
        return [" ".join(c.words) for c in scored[:limit]]


def _capitalise_start(sentence: str, tokens, edits: list[Edit], thesaurus: Thesaurus) -> list[Edit]:
    """Spinners lower-case the first word of a sentence ("however", "we're"); restore its capital.

    Only an ordinary dictionary word is capitalised, so "eBay" or "iPhone" at a start stay as written.
    """
    first = next((t for t in tokens if t.is_word), None)
    if first is None or not first.text[:1].islower() or any(c.isupper() for c in first.text):
        return edits
    if any(t.text not in "\"'“‘([" for t in tokens[: tokens.index(first)]):
        return edits
    covering = next((e for e in edits if e.start <= first.start < e.end or e.start == first.start), None)
    if covering is not None:
        if covering.after[:1].islower():
            fixed = Edit(covering.start, covering.end, covering.before, covering.after[:1].upper() + covering.after[1:], covering.score)
            return [fixed if e is covering else e for e in edits]
        return edits
    if thesaurus.frequency(first.text) <= 0:
        return edits
    capital = first.text[:1].upper() + first.text[1:]
    return sorted(edits + [Edit(first.start, first.end, first.text, capital, 0.9)], key=lambda e: e.start)

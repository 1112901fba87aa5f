"""The default repair path: candidate lattice + news LM (+ seq2seq n-best rescoring)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .candidates import POSTEDIT, Candidate, CandidateGenerator, ChannelRates
from .context import VECTORS_FILE, WordVectors
from .detector import DETECTOR_DIR, SpinDetector
from .lattice import LatticeDecoder, LatticeWeights, Suspicion, keep_candidates, render, sigmoid
from .lexicon import Thesaurus
from .lm import NgramLM
from .model import LoadedModel, ModelLoadError, ModelNotFoundError
from .phrase_table import PhraseTable
from .result import Edit
from .text import lm_form, tokenize

LM_FILE = "lm.safetensors"
PHRASE_TABLE_FILE = "postedit.tsv.gz"  # the post-editing phrase table, read when channel_rates.postedit > 0
# check() lists a span the best path keeps when a restoration scores within about 1.4 of the best
# (sigmoid 0.2): on the seed article recall 70% at precision 80%, against 63% and 87% for the changes alone.
DEFAULT_MIN_CHECK_SCORE = 0.2
_NEAR_MISS_MAX = 0.49  # a near miss is a span the repair leaves alone: below the 0.5 of a change


def has_lattice(path: Path) -> bool:
    return (path / LM_FILE).is_file()


class SequenceScorer(Protocol):
    """The n-best rescorer: a torch or CTranslate2 engine (mtfix.fast)."""

    def sequence_logprobs(self, sources: list[str], targets: list[str]) -> list[float]: ...


class LatticeBackend:
    """Proposes only edits that the candidate lattice allows, each with a confidence: the sigmoid of
    how much worse the best path scores when that one edit is undone."""

    def __init__(self, lm: NgramLM, weights: LatticeWeights, rescorer: SequenceScorer | LoadedModel | None = None,
                 thesaurus: Thesaurus | None = None, vectors: WordVectors | None = None,
                 rates: ChannelRates | None = None, detector: SpinDetector | None = None,
                 restore_number_words: bool = False, phrase_table: PhraseTable | None = None):
        self.weights = weights
        if isinstance(rescorer, LoadedModel):  # a torch model from load_model
            from .fast import TorchEngine

            rescorer = TorchEngine(rescorer)
        self.rescorer = rescorer if weights.seq2seq > 0 else None
        # The seq2seq that rewrites sentences with machine-translation damage (weights.rewrite_min_postedits).
        self.rewriter = rescorer if weights.rewrite_min_postedits > 0 and rescorer is not None else None
        self.thesaurus = thesaurus or Thesaurus.load()
        generator = CandidateGenerator(self.thesaurus, rates, max_candidates=weights.candidates_per_word,
                                       max_candidates_suspect=weights.candidates_per_suspect_word,
                                       spell_out_numbers=restore_number_words, phrase_table=phrase_table,
                                       language_model=lm)
        self.decoder = LatticeDecoder(lm, generator, weights, vectors, detector)

    @classmethod
    def from_model(cls, loaded: LoadedModel, rescorer: SequenceScorer | None = None,
                   restore_number_words: bool = False) -> "LatticeBackend":
        """The lattice of a model directory: its LM file, its tuned weights, its seq2seq as rescorer
        (``rescorer``, e.g. the CTranslate2 engine, or else the torch model of ``loaded``);
        ``restore_number_words``: offer "three" for "3" (see :class:`mtfix.candidates.CandidateGenerator`)."""
        lm_path = loaded.path / LM_FILE
        if not lm_path.is_file():
            raise ModelNotFoundError(f"mtfix model directory {loaded.path} is missing: {LM_FILE} (the news language model of the lattice path)")
        vectors_path = loaded.path / VECTORS_FILE  # optional: without it the context score is 0
        vectors = WordVectors.load(vectors_path) if vectors_path.is_file() else None
        weights = LatticeWeights.from_settings(loaded.settings)
        detector = None
        if weights.detector or weights.choice:  # tuned with the detector: without it the repair would differ
            detector_path = loaded.path / DETECTOR_DIR
            if not detector_path.is_dir():
                raise ModelNotFoundError(f"mtfix model directory {loaded.path} is missing: {DETECTOR_DIR}/ (the spin "
                                         f"detector that its mtfix.json weights with {weights.detector:g})")
            detector = SpinDetector.load(detector_path)
            if weights.choice and not detector.has_original_words:
                raise ModelLoadError(f"{detector_path} has no original-word head, which the model's mtfix.json "
                                     f"weights with choice {weights.choice:g}")
        rates = ChannelRates.from_settings(loaded.settings)
        phrase_table = None
        if rates.postedit > 0:
            table_path = loaded.path / PHRASE_TABLE_FILE
            if not table_path.is_file():
                raise ModelNotFoundError(f"mtfix model directory {loaded.path} is missing: {PHRASE_TABLE_FILE} (the "
                                         f"post-editing phrase table that its mtfix.json weights with {rates.postedit:g})")
            try:
                phrase_table = PhraseTable.load(table_path)
            except (ValueError, OSError, EOFError) as error:  # EOFError: a truncated gzip
                raise ModelLoadError(f"cannot read the phrase table {table_path}: {error}") from None
        return cls(NgramLM.load(lm_path), weights, rescorer or loaded, vectors=vectors, rates=rates, detector=detector,
                   restore_number_words=restore_number_words, phrase_table=phrase_table)

    def repair_sentences(self, sentences: list[str]) -> list[str]:
        """The best path of each sentence as text (every edit applied, whatever its confidence)."""
        from .result import apply_edits

        return [apply_edits(s, edits) for s, edits in zip(sentences, self.propose(sentences))]

    def propose(self, sentences: list[str], batch_size: int | None = None) -> list[list[Edit]]:
        """The edits of each sentence's repair. ``batch_size``: sentences per lattice search (all at once when
        None); the rewrite pass then runs the seq2seq once over every sentence of the call that it rewrites,
        as CTranslate2 on CPU costs per call more than per sentence (105 sentences: 0.97 s in one call, 7.2 s
        three at a time), and a batch of 32 spun sentences sends it one or two."""
        size = batch_size or max(len(sentences), 1)
        results: list[tuple[list[Edit], list[Suspicion]]] = []
        rewrites: list[int] = []
        for start in range(0, len(sentences), size):
            decoded, counts = self._decode_all(sentences[start:start + size], with_alternatives=False)
            results += decoded
            rewrites += counts
        if self.rewriter is not None:
            self._rewrite_garbled(sentences, results, rewrites)
        return [edits for edits, _ in results]

    def check(self, sentences: list[str], min_score: float = DEFAULT_MIN_CHECK_SCORE) -> list[list[Suspicion]]:
        """The spans of each sentence that look spun: the changes of its best path, and also the
        near misses, spans the best path keeps although a restoration scores almost as well (their
        score, the sigmoid of how much worse that restoration scores, is below 0.5). Only spans
        scoring at least ``min_score`` are listed."""
        return [sorted([s for s in suspicions if s.score >= min_score], key=lambda s: s.start)
                for _, suspicions in self._decode_all(sentences, with_alternatives=True)[0]]

    # -- internals --------------------------------------------------------------------------------

    def _decode_all(self, sentences: list[str], with_alternatives: bool) -> tuple[list[tuple[list[Edit], list[Suspicion]]], list[int]]:
        """The edits of each sentence's best path and, with ``with_alternatives``, the suspicions that
        explain it (its changes with their rivals, and its near misses); and the post-editing rewrites on each
        best path before the gate, which choose the sentences of the rewrite pass."""
        decoded = self._decode(sentences)
        rewrites = [_postedit_changes(paths[0].candidates) if paths else 0 for _, paths, _ in decoded]
        decoded = self._gate_postedits(sentences, decoded)
        best = self._best_paths(decoded)
        # Rivals and near misses read a sentence's candidates one by one: only check() asks for them.
        rows = [candidates.rows() if with_alternatives else [] for _, _, candidates in decoded]
        edits = [_edits(chosen, candidates, with_alternatives) for chosen, candidates in zip(best, rows)]
        near = [_near_miss_paths(chosen, candidates) for chosen, candidates in zip(best, rows)]
        # Explaining a best path scores variants of it, each the path with one stretch replaced. A repair
        # scores a few per sentence, all sentences' whole paths in one LM call; check() scores one per
        # change candidate, so only the words around each stretch are rescored, a sentence at a time.
        variants = [_variants(tokens, chosen, sentence_edits) for chosen, (tokens, _, _), sentence_edits in zip(best, decoded, edits)]
        if not with_alternatives:
            flat = iter(self.decoder.scores_of([chosen[:p] + replacing + chosen[q:] for chosen, sentence_variants in zip(best, variants)
                                                for p, q, replacing in sentence_variants]))
            variant_scores = [[next(flat) for _ in sentence_variants] for sentence_variants in variants]
        results = []
        for index, (sentence, (tokens, paths, _), chosen, sentence_edits, sentence_near) in enumerate(
                zip(sentences, decoded, best, edits, near)):
            if not paths:
                results.append(([], []))
                continue
            scores = (self.decoder.replacement_scores(chosen, variants[index] + sentence_near) if with_alternatives
                      else variant_scores[index])
            explained = len(variants[index])
            proposed, suspicions = self._explain(sentence, tokens, chosen, sentence_edits, scores[:explained])
            missed = _near_misses(sentence, tokens, scores[0],
                                  [(replacing[0], score) for (_, _, replacing), score in zip(sentence_near, scores[explained:])])
            results.append((proposed, suspicions + missed))
        return results, rewrites

    def _rewrite_garbled(self, sentences: list[str], results: list[tuple[list[Edit], list[Suspicion]]],
                         rewrites: list[int]) -> None:
        """Replace the edits of sentences that look machine-translated (at least ``rewrite_min_postedits``
        post-editing rewrites on their best path before the gate) by the seq2seq's rewrite of the lattice's
        repair, where the news LM prefers that rewrite by ``rewrite_min_lm_gain``. The edits index the input
        sentence, with confidence 1: the sentence-level LM comparison is what accepts them."""
        from .diff import word_edits

        chosen = [i for i, count in enumerate(rewrites) if count >= self.weights.rewrite_min_postedits]
        for proposal in self.rewrite_proposals(sentences, [results[i][0] for i in chosen], chosen):
            if proposal.lm_gain >= self.weights.rewrite_min_lm_gain:
                results[proposal.index] = (word_edits(sentences[proposal.index], proposal.rewrite), results[proposal.index][1])

    def rewrite_proposals(self, sentences: list[str], lattice_edits: list[list[Edit]],
                          indices: list[int]) -> list["RewriteProposal"]:
        """The seq2seq's rewrites of the lattice's repairs of ``sentences[i]`` for ``i`` in ``indices``
        (``lattice_edits`` are their edits), with the news LM's gain of each over its repair. A sentence the
        seq2seq copies, or whose rewrite keeps nothing the guards allow, has none; a rewrite that alters a name
        or a number of the input keeps its other changes (:func:`allowed_rewrite`)."""
        from .result import apply_edits

        if not indices:
            return []
        repaired = [apply_edits(sentences[i], edits) for i, edits in zip(indices, lattice_edits)]
        proposals = []
        for i, before, generated in zip(indices, repaired, self.rewriter.generate(repaired)):
            after = allowed_rewrite(sentences[i], generated.text)
            if after is not None and after != before:
                proposals.append(RewriteProposal(i, after, lm_gain(self.decoder.lm, before, after)))
        return proposals

    def _gate_postedits(self, sentences: list[str], decoded):
        """Sentences whose best path takes fewer than ``min_postedit_changes`` post-editing rewrites, and
        gains less than ``min_postedit_gain`` by them over the best path without the table, searched again
        without it."""
        weights = self.weights
        if self.decoder.generator.phrase_table is None or weights.min_postedit_changes <= 1:
            return decoded
        few = [i for i, (_, paths, _) in enumerate(decoded)
               if paths and 0 < _postedit_changes(paths[0].candidates) < weights.min_postedit_changes]
        # The same candidates less the rewrites are what generating them without the table gives (they never
        # displace another family's candidate, and the detector and context scores are per candidate).
        without = [(decoded[i][0], decoded[i][2].take(decoded[i][2].kind != POSTEDIT)) for i in few]
        for i, redone in zip(few, self._decode([sentences[i] for i in few], without)):
            gain = decoded[i][1][0].total(weights) - (redone[1][0].total(weights) if redone[1] else -math.inf)
            if not 0 < weights.min_postedit_gain <= gain:
                decoded[i] = redone
        return decoded

    def _decode(self, sentences: list[str], lattices=None):
        """The tokens, n-best paths (best first) and candidates of each sentence (of ``lattices`` if given)."""
        # Without a rescorer only the best path of each sentence is ever read.
        decoded = self.decoder.nbest_many(sentences, paths=None if self.rescorer is not None else 1, lattices=lattices)
        if self.rescorer is not None:
            self._rescore(sentences, decoded)
        return decoded

    def _best_paths(self, decoded) -> list[list[Candidate]]:
        """Each sentence's best path, or no change at all where it does not beat the input by
        ``min_sentence_gain`` (all those comparisons in one LM call)."""
        best = [paths[0].candidates if paths else [] for _, paths, _ in decoded]
        if self.weights.min_sentence_gain <= 0:
            return best
        changed = [i for i, chosen in enumerate(best) if any(not c.is_keep for c in chosen)]
        identity = [keep_candidates(decoded[i][0], 0, len(decoded[i][0])) for i in changed]
        scores = self.decoder.scores_of([best[i] for i in changed] + identity)
        for i, unchanged, best_score, identity_score in zip(changed, identity, scores, scores[len(changed):]):
            if best_score - identity_score < self.weights.min_sentence_gain:
                best[i] = unchanged
        return best

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

    def _explain(self, sentence: str, tokens, chosen: list[Candidate], edits: list[tuple[int, list[Candidate]]],
                 variant_scores: list[float]):
        """The edits of a best path, each with its confidence: the sigmoid of how much worse the path
        scores with that edit undone. ``variant_scores`` are the scores of ``_variants(tokens, chosen, edits)``."""
        scores = iter(variant_scores)
        best = next(scores)
        proposed, suspicions = [], []
        for position, rivals in edits:
            candidate = chosen[position]
            confidence = sigmoid(best - next(scores))
            rival_scores = [next(scores) for _ in rivals]
            ranked = sorted(range(len(rivals)), key=rival_scores.__getitem__, reverse=True)
            alternatives = [" ".join(rivals[i].words) for i in ranked[:3]]  # the three most likely
            start, end = tokens[candidate.start].start, tokens[candidate.end - 1].end
            after = " ".join(candidate.words)
            proposed.append(Edit(start, end, sentence[start:end], after, confidence))
            suspicions.append(Suspicion(start, end, sentence[start:end], after, confidence, alternatives))
        return proposed, suspicions


def lm_gain(lm: NgramLM, before: str, after: str) -> float:
    """ln P_LM(after) - ln P_LM(before), each a whole sentence in the LM's word forms."""
    return lm.sentence_logprob(_lm_words(after)) - lm.sentence_logprob(_lm_words(before))


def _lm_words(text: str) -> list[str]:
    return [lm_form(token.text) for token in tokenize(text)]


@dataclass
class RewriteProposal:
    """The seq2seq's rewrite of sentence ``index``, and ln P_LM(rewrite) - ln P_LM(the lattice's repair)."""
    index: int
    rewrite: str
    lm_gain: float


def allowed_rewrite(source: str, rewrite: str) -> str | None:
    """What of the seq2seq's whole-sentence ``rewrite`` may replace ``source``: all of it where the repair's guards
    pass and the input's digits stay as written; else its word changes that pass alone, where together they pass
    too (a rewrite that turns "Forces" into "Force" keeps its other repairs); else None."""
    from .diff import word_edits
    from .result import apply_edits

    if not rewrite.strip():
        return None
    if rewrite_allowed(source, rewrite):
        return rewrite
    edits = [edit for edit in word_edits(source, rewrite) if rewrite_allowed(source, apply_edits(source, [edit]))]
    partial = apply_edits(source, edits)
    return partial if edits and rewrite_allowed(source, partial) else None


def rewrite_allowed(source: str, rewrite: str) -> bool:
    """Whether the seq2seq's whole-sentence ``rewrite`` may replace ``source``: the repair's guards pass and
    the input's digits stay as written."""
    from .guards import violations

    return not violations(source, rewrite) and _keeps_digits(source, rewrite)


def _keeps_digits(source: str, rewrite: str) -> bool:
    """Every token of ``source`` with a digit is in ``rewrite`` as written: the guards let "3" become "three",
    which the seq2seq writes in wire style, but a repair leaves the input's digits alone."""
    from collections import Counter

    digits = Counter(t.text for t in tokenize(source) if any(c.isdigit() for c in t.text))
    return not digits - Counter(t.text for t in tokenize(rewrite))


def _postedit_changes(path: list[Candidate]) -> int:
    return sum(c.kind == "postedit" for c in path)


def _edits(chosen: list[Candidate], candidates: list[Candidate], with_rivals: bool) -> list[tuple[int, list[Candidate]]]:
    """(position in ``chosen``, rivals) of each change on a best path. The rivals are the other changes
    of the same span; ranking them scores a path per rival, so only check() asks for them."""
    return [(position, [c for c in candidates if c.start == candidate.start and c.end == candidate.end
                        and not c.is_keep and c.words != candidate.words] if with_rivals else [])
            for position, candidate in enumerate(chosen) if not candidate.is_keep]


def _near_miss_paths(chosen: list[Candidate], candidates: list[Candidate]) -> list[tuple[int, int, list[Candidate]]]:
    """(p, q, [change]) for each change candidate over tokens the best path keeps: the best path with
    ``chosen[p:q]`` (keep candidates) replaced by it."""
    position_of_token = {c.start: p for p, c in enumerate(chosen) if c.is_keep}
    found = []
    for candidate in candidates:
        positions = [position_of_token.get(t) for t in range(candidate.start, candidate.end)]
        if candidate.is_keep or None in positions:
            continue  # the best path changes part of this span: its rivals explain it
        found.append((positions[0], positions[-1] + 1, [candidate]))
    return found


def _near_misses(sentence: str, tokens, best_score: float, scored: list[tuple[Candidate, float]]) -> list[Suspicion]:
    """One suspicion per kept span with change candidates: its likeliest restoration, scored by the
    sigmoid of how much worse the best path does with it, and the runners-up as alternatives."""
    by_span: dict[tuple[int, int], list[tuple[float, Candidate]]] = {}
    for candidate, score in scored:
        by_span.setdefault((candidate.start, candidate.end), []).append((score, candidate))
    found = []
    for (first, last), rivals in by_span.items():
        rivals.sort(key=lambda pair: pair[0], reverse=True)
        start, end = tokens[first].start, tokens[last - 1].end
        # The repair does not make it, so it stays below 0.5 even where it scores better than the path: in a
        # sentence held back by min_sentence_gain, or where the beam missed it (one span in the seed article).
        score = min(sigmoid(rivals[0][0] - best_score), _NEAR_MISS_MAX)
        found.append(Suspicion(start, end, sentence[start:end], " ".join(rivals[0][1].words),
                               score, [" ".join(c.words) for _, c in rivals[1:4]]))
    return _without_overlaps(found)


def _without_overlaps(suspicions: list[Suspicion]) -> list[Suspicion]:
    """The likeliest of overlapping spans ("struggle" and "struggle reveal"), so each is listed once."""
    kept: list[Suspicion] = []
    for suspicion in sorted(suspicions, key=lambda s: s.score, reverse=True):
        if all(suspicion.end <= k.start or k.end <= suspicion.start for k in kept):
            kept.append(suspicion)
    return kept


def _variants(tokens, chosen: list[Candidate], edits: list[tuple[int, list[Candidate]]]) -> list[tuple[int, int, list[Candidate]]]:
    """The variants that explain a best path, as (p, q, what replaces ``chosen[p:q]``): the path itself, then per
    edit the path with it undone and with each rival instead."""
    variants = [(0, 0, [])]
    for position, rivals in edits:
        candidate = chosen[position]
        variants.append((position, position + 1, keep_candidates(tokens, candidate.start, candidate.end)))
        variants.extend((position, position + 1, [rival]) for rival in rivals)
    return variants

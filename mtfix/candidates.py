"""Plausible originals for every word and short phrase of a (possibly spun) sentence.

A spinner replaces an original word by one of its thesaurus synonyms, swaps function words and
set phrases, and leaves damage behind (a/an agreement, a lost apostrophe, a lower-cased sentence
start, digits for small numbers). Inverting each of those gives, for every span of the input, a
small set of candidate originals, each with a channel score: the log probability that a spinner
turns that original into what we observe. The decoder then only ever chooses among these, so it
can restore a spinner's damage but can never write anything else.
"""

from __future__ import annotations

import math
from collections import Counter
import re
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import TYPE_CHECKING, Callable, Hashable, NamedTuple

import numpy as np

from .collocations import ANY, NONE, PARTS, Collocations
from .guards import protected_tokens
from .lexicon import PHRASE_SWAPS, Thesaurus, plain_inverse
from .morph import inflect, lemmas
from .phrase_table import PhraseTable
from .pivot import PivotParaphrases
from .text import Token, apostrophe_style, is_word, tokenize

if TYPE_CHECKING:
    from .lm import NgramLM

# Function words take candidates only from the phrase-swap table: the thesaurus lists for them
# ("the", "a", "of") are noise that no spinner uses.
FUNCTION_WORDS = frozenset(
    """a an the of to in on at by for with from as and or but nor if then than that this these those
    is are was were be been being am do does did has have had it its he she they we you i me him her
    them us my his their our your who whom whose which what when where why how not no so such there
    here all any each some can could may might must shall should will would""".split()
)
_NUMBER_NAMES = "one two three four five six seven eight nine".split()
# Number words are numbers: a repair never changes them ("tens of trillions" -> "thousands" is damage).
# Ordinals are left out: "first" and "second" are as often a spinner's "earlier" and "moment".
NUMBER_WORDS = frozenset(
    """zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen
    seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand million
    billion trillion dozen hundreds thousands millions billions trillions dozens tens half twice""".split()
)
# Digits stay digits before units, in dates and scores; wire style spells out one to nine otherwise.
_NUMBER_UNITS = frozenset(
    """pct percent per cent % mln bln billion million trillion thousand dlrs dollars cents pounds euros
    yen km miles kg tonnes tons pm am a.m p.m gmt years year-old months days hours minutes seconds
    points goals runs overs sets games""".split()
)
_MONTHS = frozenset("january february march april may june july august september october november december".split())
_APOSTROPHE_GAP = re.compile(r"[\u00a0 ]")


class Candidate(NamedTuple):
    """Output ``words`` for input tokens ``start:end`` (token indices), with the channel log
    probability that a spinner writes the observed tokens for them (0 for keeping the input).

    A named tuple rather than a frozen dataclass: a sentence has hundreds of candidates, and a tuple
    is built several times faster.
    """

    start: int
    end: int
    words: tuple[str, ...]
    channel: float
    kind: str  # keep | synonym | phrase | damage | postedit
    # How much better the original fits the sentence's topic than the observed words do (set by the
    # lattice from word vectors; 0 where no vectors apply).
    context: float = 0.0
    # The spin detector's log-odds that the span was spun (set by the lattice; 0 without a detector).
    spun: float = 0.0
    # Its original-word head's log-odds that the wire copy had this candidate's first word rather than
    # the observed one (0 without that head).
    choice: float = 0.0

    @property
    def is_keep(self) -> bool:
        return self.kind == "keep"

    # Positional rebuilds: NamedTuple._replace is 4x slower, and these run for every change of every sentence.
    def with_context(self, value: float) -> "Candidate":
        return Candidate(self.start, self.end, self.words, self.channel, self.kind, value, self.spun, self.choice)


KINDS = ("keep", "synonym", "phrase", "damage", "postedit", "collocation")  # CandidateColumns.kind codes
_KIND_CODE = {kind: code for code, kind in enumerate(KINDS)}
KEEP, POSTEDIT = _KIND_CODE["keep"], _KIND_CODE["postedit"]
# Distinct output word tuples remembered before CandidateWords starts over (about 200 bytes each).
MAX_CANDIDATE_WORDS = 300_000


class CandidateWords:
    """The distinct output word tuples of candidates, numbered, with per-number features (the LM ids of
    the words, their vector rows, the detector's class of the first word) computed once per number.

    Sentences share most of their candidates' words: numbering them lets the lattice look every
    feature up for hundreds of candidates with one array gather instead of a Python call each.
    """

    def __init__(self) -> None:
        self.words: list[tuple[str, ...]] = []
        self._number: dict[tuple[str, ...], int] = {}
        self._features: dict[Hashable, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.words)

    def number(self, words: tuple[str, ...]) -> int:
        found = self._number.get(words)
        if found is None:
            found = self._number[words] = len(self.words)
            self.words.append(words)
        return found

    def feature(self, key: Hashable, compute: Callable[[list[tuple[str, ...]]], np.ndarray], numbers: np.ndarray,
                fill: int = 0) -> np.ndarray:
        """``compute(words)`` at ``numbers``: ``compute`` maps a list of word tuples to an array with one
        row each; it runs once per number, on the numbers added since its last run. ``key`` names the
        feature; its owner is part of it ((the LM decoder, "lm_ids")), so two owners never share one.
        2-D features may widen later: narrower rows are padded with ``fill``."""
        known = self._features.get(key)
        have = 0 if known is None else len(known)
        if have < len(self.words):
            added = np.asarray(compute(self.words[have:]))
            if known is not None and added.ndim == 2 and added.shape[1] != known.shape[1]:
                width = max(added.shape[1], known.shape[1])
                known, added = (np.pad(x, ((0, 0), (0, width - x.shape[1])), constant_values=fill) for x in (known, added))
            known = added if known is None else np.concatenate([known, added])
            self._features[key] = known
        return known[numbers]

    def clear(self) -> None:
        self.words.clear()
        self._number.clear()
        self._features.clear()


def padded(rows: list[list[int]] | list[tuple[int, ...]], fill: int = -1) -> np.ndarray:
    """int64 matrix of ``rows``, left-aligned, as wide as the longest, padded with ``fill``: the shape
    of the per-number features that hold several values per candidate (one per word)."""
    matrix = np.full((len(rows), max(map(len, rows), default=0)), fill, dtype=np.int64)
    for i, row in enumerate(rows):
        matrix[i, :len(row)] = row
    return matrix


@dataclass
class CandidateColumns:
    """The candidates of one sentence as columns, sorted by (start, end, keep first, best channel first).

    The lattice's hot path: hundreds of candidates per sentence are scored with array operations.
    ``rows()`` gives them as :class:`Candidate` tuples.
    """

    words: CandidateWords
    start: np.ndarray  # int64: first token
    end: np.ndarray  # int64: token after the last
    number: np.ndarray  # int64: the output words' number in ``words``
    channel: np.ndarray  # float64
    kind: np.ndarray  # int8: index into KINDS
    context: np.ndarray  # float64 (see Candidate)
    spun: np.ndarray  # float64
    choice: np.ndarray  # float64

    def __len__(self) -> int:
        return len(self.start)

    @property
    def is_change(self) -> np.ndarray:
        return self.kind != KEEP

    def take(self, index) -> "CandidateColumns":
        return CandidateColumns(self.words, *(getattr(self, f.name)[index] for f in fields(self)[1:]))

    def rows(self) -> list[Candidate]:
        words = self.words.words
        return [Candidate(start, end, words[number], channel, KINDS[kind], context, spun, choice)
                for start, end, number, channel, kind, context, spun, choice in zip(
                    self.start.tolist(), self.end.tolist(), self.number.tolist(), self.channel.tolist(), self.kind.tolist(),
                    self.context.tolist(), self.spun.tolist(), self.choice.tolist())]

    @classmethod
    def concat(cls, parts: list["CandidateColumns"]) -> "CandidateColumns":
        """The rows of ``parts`` one after another (all numbered by the same ``words``)."""
        return cls(parts[0].words, *(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)[1:]))

    @classmethod
    def of(cls, words: CandidateWords, candidates: list[Candidate]) -> "CandidateColumns":
        """Columns of ``candidates`` as given (no sorting, no deduplication)."""
        def column(values, dtype):
            return np.fromiter(values, dtype=dtype, count=len(candidates))

        return cls(words, column((c.start for c in candidates), np.int64), column((c.end for c in candidates), np.int64),
                   column((words.number(c.words) for c in candidates), np.int64),
                   column((c.channel for c in candidates), np.float64),
                   column((_KIND_CODE[c.kind] for c in candidates), np.int8),
                   column((c.context for c in candidates), np.float64), column((c.spun for c in candidates), np.float64),
                   column((c.choice for c in candidates), np.float64))


@dataclass(frozen=True)
class ChannelRates:
    """How often a spinner applies each family; the channel score of a change includes log(rate)."""

    synonym: float = 0.10
    phrase: float = 0.30
    damage: float = 0.50
    # Originals that only bilingual pivoting pairs with the observed word (mtfix/pivot.py): other spinners'
    # synonym sources. 0: not offered.
    pivot: float = 0.0
    # Rewrites of the post-editing phrase table (mtfix/phrase_table.py): machine-translation damage undone
    # ("the Thursday" -> "Thursday", "a conference of news" -> "a news conference"). 0: not offered.
    postedit: float = 0.0
    # Plain originals of formal and wordy phrases (mtfix.lexicon.PLAIN_WORDS: "prior to" -> "before",
    # "possess" -> "have"), which no spinner of ours writes. 0: not offered.
    plain: float = 0.0
    # Per changed word of a broken news collocation restored whole (mtfix/collocations.py: "commentary submit"
    # -> "observation post"), in place of the synonym channel of each word. 0: not offered.
    collocation: float = 0.0

    @classmethod
    def from_settings(cls, settings: dict) -> "ChannelRates":
        """The rates stored in a model's mtfix.json (``channel_rates``), defaults for the rest."""
        known = {k: float(v) for k, v in settings.get("channel_rates", {}).items() if k in cls.__dataclass_fields__}
        return cls(**known)


def match_case(word: str, model: str) -> str:
    """Give ``word`` the capitalisation pattern of ``model`` (the observed token it replaces)."""
    if model[:1].isupper() and not word[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


class CandidateGenerator:
    def __init__(
        self,
        thesaurus: Thesaurus | None = None,
        rates: ChannelRates | None = None,
        max_candidates: int = 32,
        max_candidates_suspect: int = 0,  # for words the spin detector flags; 0: as max_candidates
        max_phrase_tokens: int = 4,  # of thesaurus phrases; swap-table phrases may be longer
        spell_out_numbers: bool = False,  # offer "three" for "3" where wire style wants a word
        phrase_table: PhraseTable | None = None,  # post-editing rewrites, offered when rates.postedit > 0
        max_postedit_options: int = 8,  # rewrites offered per garbled phrase, most probable first
        language_model: "NgramLM | None" = None,  # its bigrams find broken collocations, when rates.collocation > 0
    ):
        self.thesaurus = thesaurus or Thesaurus.load()
        self.rates = rates or ChannelRates()
        self.pivot = PivotParaphrases.load() if self.rates.pivot > 0 else None
        self.max_candidates = max_candidates
        self.max_candidates_suspect = max(max_candidates_suspect, max_candidates)
        self.max_phrase_tokens = max_phrase_tokens
        self.spell_out_numbers = spell_out_numbers
        self.phrase_table = phrase_table if self.rates.postedit > 0 else None
        self.max_postedit_options = max_postedit_options
        self.collocations = (Collocations(language_model, related=self._related_words)
                             if language_model is not None and self.rates.collocation > 0 else None)
        self._postedit_options = lru_cache(maxsize=100_000)(self._postedit_options_uncached)
        self._phrase_inverse = _invert_phrase_swaps()
        # The swap table has longer variants ("due to the fact that") than thesaurus phrases need.
        self._plain_inverse = plain_inverse() if self.rates.plain > 0 else {}
        self._longest_swap = max(len(tokenize(variant)) for variant in [*self._phrase_inverse, *self._plain_inverse])
        # Caches are sized for a long job over varied news (memory stays under 1 GiB, see README "Speed"):
        # the per-token columns are what the lattice reads; the originals of a lower-cased word are kept a
        # short while, for the same word capitalised at a sentence start.
        self.words = CandidateWords()
        self._token_columns = lru_cache(maxsize=50_000)(self._columns_of_token)
        self._token_ranks = lru_cache(maxsize=2_000)(self._ranks_of_token)
        self._word_originals = lru_cache(maxsize=4_096)(self._originals_of_word)
        self._inflect = lru_cache(maxsize=200_000)(inflect)
        self._prior = lru_cache(maxsize=200_000)(self._log_prior)

    # -- public -----------------------------------------------------------------------------------

    def candidates(self, sentence: str, tokens: list[Token] | None = None,
                   suspects: frozenset[int] = frozenset(),
                   unsuspected: frozenset[int] = frozenset()) -> tuple[list[Token], list[Candidate]]:
        """The tokens of ``sentence`` and every candidate span over them (keep candidates included), as
        :class:`Candidate` tuples; see ``columns`` for the arguments."""
        tokens = tokenize(sentence) if tokens is None else tokens
        return tokens, self.columns(sentence, tokens, suspects, unsuspected).rows()

    def columns(self, sentence: str, tokens: list[Token], suspects: frozenset[int] = frozenset(),
                unsuspected: frozenset[int] = frozenset(), postedit: bool = True) -> CandidateColumns:
        """Every candidate span over ``tokens`` (``tokenize(sentence)``), keep candidates included: one
        per (span, lower-cased words), the best channel score winning; none equal to the input.

        ``suspects``: indices of tokens the spin detector flags, which get ``max_candidates_suspect``
        single-word originals; ``unsuspected``: tokens it clears, which get none (phrases over them are
        still proposed); ``postedit``: offer the phrase table's rewrites (when the generator has one).
        """
        protected = self._protected_indices(sentence, tokens)
        # Single-word originals come as cached per-token columns; only phrases and damage fixes, a few
        # per sentence, are built one by one.
        positions, numbers, channels = [], [], []
        for i, token in enumerate(tokens):
            if i in protected or not token.is_word or i in unsuspected:
                continue
            token_numbers, token_channels = self._token_columns(token.text)
            limit = self.max_candidates_suspect if i in suspects else self.max_candidates
            if len(token_numbers):
                positions.append(i)
                numbers.append(token_numbers[:limit])
                channels.append(token_channels[:limit])
        extras = (self._phrase_candidates(tokens, protected) + self._damage_candidates(sentence, tokens, protected)
                  + self._collocation_candidates(tokens, protected, suspects, unsuspected)
                  + (self._postedit_candidates(tokens, protected) if postedit else []))
        # A phrase's words are written joined by one space: over any other gap (a tab, a line break, two
        # spaces) the edit would swallow layout. Damage fixes join on purpose ("Syria s" -> "Syria's").
        extras = [c for c in extras if c.kind == "damage" or all(
            sentence[tokens[k].end:tokens[k + 1].start] == " " for k in range(c.start, c.end - 1))]
        numbers, channels, kinds, extras = self._merge_extras(tokens, positions, numbers, channels, extras)
        counts = [len(n) for n in numbers]
        synonym_starts = np.repeat(np.array(positions, dtype=np.int64), counts)
        n = len(tokens)
        start = np.concatenate([np.arange(n, dtype=np.int64), synonym_starts,
                                np.fromiter((c.start for c in extras), dtype=np.int64, count=len(extras))])
        end = np.concatenate([np.arange(1, n + 1, dtype=np.int64), synonym_starts + 1,
                              np.fromiter((c.end for c in extras), dtype=np.int64, count=len(extras))])
        number = np.concatenate([np.fromiter((self.words.number((t.text,)) for t in tokens), dtype=np.int64, count=n)]
                                + numbers + [np.fromiter((self.words.number(c.words) for c in extras), dtype=np.int64, count=len(extras))])
        channel = np.concatenate([np.zeros(n)] + channels + [np.fromiter((c.channel for c in extras), dtype=np.float64, count=len(extras))])
        kind = np.concatenate([np.full(n, KEEP, dtype=np.int8)] + kinds
                              + [np.fromiter((_KIND_CODE[c.kind] for c in extras), dtype=np.int8, count=len(extras))])
        # Sorted as a stable sort by (start, end, keep first, best channel first) of keeps, single words
        # and extras in that order: the beam search breaks exact ties by candidate order.
        order = np.lexsort((np.arange(len(start)), -channel, kind != KEEP, end, start))
        zeros = np.zeros(len(order))
        return CandidateColumns(self.words, start[order], end[order], number[order], channel[order], kind[order],
                                zeros, zeros.copy(), zeros.copy())

    def forget_if_over(self, limit: int = MAX_CANDIDATE_WORDS) -> None:
        """Start the word numbering over once it holds more than ``limit`` word tuples (a long run over
        varied text). Columns built before are invalid after it: call it between batches."""
        if len(self.words) > limit:
            self.words.clear()
            self._token_columns.cache_clear()

    def _merge_extras(self, tokens: list[Token], positions: list[int], numbers: list[np.ndarray],
                      channels: list[np.ndarray], extras: list[Candidate]):
        """Phrase and damage candidates deduplicated against each other and the single-word originals (post-editing
        rewrites against each other only):
        per (span, lower-cased words) the best channel score wins, the first among equals, and a winner
        takes the place of the one it beats. Extras that repeat the input are dropped. Returns the
        single-word numbers, channels and kinds per position, and the surviving extras."""
        kinds = [np.full(len(x), _KIND_CODE["synonym"], dtype=np.int8) for x in numbers]
        block_of = {position: block for block, position in enumerate(positions)}
        observed = [t.text.lower() for t in tokens]
        best: dict[tuple, Candidate] = {}
        for candidate in extras:
            words = " ".join(candidate.words).lower()
            if words == " ".join(observed[candidate.start:candidate.end]):
                continue
            # Post-editing rewrites stand beside the other families' candidates and never take their place:
            # the lattice drops them to search a sentence again without the table (see LatticeBackend).
            postedit = candidate.kind == "postedit"
            block = block_of.get(candidate.start) if candidate.end == candidate.start + 1 and not postedit else None
            if block is not None:
                rank = self._token_ranks(tokens[candidate.start].text).get(words)
                if rank is not None and rank < len(numbers[block]):
                    if candidate.channel > channels[block][rank]:
                        # The per-token arrays are the cache's own: the winner goes into copies.
                        numbers[block], channels[block] = numbers[block].copy(), channels[block].copy()
                        numbers[block][rank] = self.words.number(candidate.words)
                        channels[block][rank] = candidate.channel
                        kinds[block][rank] = _KIND_CODE[candidate.kind]
                    continue
            key = (candidate.start, candidate.end, words, postedit)
            if key not in best or candidate.channel > best[key].channel:
                best[key] = candidate
        return numbers, channels, kinds, list(best.values())

    def _columns_of_token(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The numbers and channel scores of ``_options_of_token(text)``, best first."""
        options = self._options_of_token(text)
        return (np.fromiter((self.words.number(words) for words, _ in options), dtype=np.int64, count=len(options)),
                np.fromiter((logprob for _, logprob in options), dtype=np.float64, count=len(options)))

    def _ranks_of_token(self, text: str) -> dict[str, int]:
        """Lower-cased words -> rank among the single-word originals of ``text``."""
        numbers = self._token_columns(text)[0]  # the cached originals, not looked up again
        return {" ".join(self.words.words[number]).lower(): rank for rank, number in enumerate(numbers.tolist())}

    # -- families ---------------------------------------------------------------------------------

    def _options_of_token(self, text: str) -> tuple[tuple[tuple[str, ...], float], ...]:
        """(words, channel) of each single-word original of an observed token, cased like it."""
        lower = text.lower()
        if len(lower) < 2 or (text[:1].isupper() and self.thesaurus.lowercase_share(text) < 0.5):
            return ()  # a letter, or a capitalised name at the start of a sentence
        originals = self._word_originals(lower)
        if text[:1].isupper():  # lower-case originals of a lower-case word need no casing (most of them)
            originals = tuple((match_case(original, text), logprob) for original, logprob in originals)
        return tuple((tuple(original.split()), logprob) for original, logprob in originals)

    def _originals_of_word(self, observed: str) -> tuple[tuple[str, float], ...]:
        """Originals (inflected like ``observed``) whose synonym list holds it, best first.

        Ranked by the noisy channel, P(observed | original) * P(original): spinners start from the
        words news copy uses, so a common original ("launched") outranks a rare one that happens to
        have a short synonym list. Multi-word headwords count too, their first word inflected
        ("demanded" <- "called for", "viable" <- "of interest"): +0.7 BLEU on validation.
        """
        if observed in FUNCTION_WORDS:
            return ()
        scored: dict[str, float] = {}
        sources = [(self.thesaurus.inverse, math.log(self.rates.synonym))]
        if self.pivot is not None:
            sources.append((self.pivot.inverse, math.log(self.rates.pivot)))
        for lemma, tag in lemmas(observed):
            for inverse, log_rate in sources:
                for headword, prob in inverse(lemma):
                    if headword in FUNCTION_WORDS:
                        continue
                    first, _, rest = headword.partition(" ")
                    original = self._inflect(first, tag)
                    if rest:  # "and night" -> "anded night": inflect a phrase's first word only into real words
                        if original != first and not self.thesaurus.frequency(original):
                            continue
                        original += " " + rest
                    if original == observed:
                        continue
                    score = log_rate + math.log(prob)
                    if score > scored.get(original, -math.inf):
                        scored[original] = score
        ranked = sorted(scored.items(), key=lambda kv: kv[1] + self._prior(kv[0]), reverse=True)
        return tuple(ranked[: self.max_candidates_suspect])  # sliced per token by columns()

    def _related_words(self, observed: str) -> list[str]:
        """The single-word originals of an observed lower-case word, all of them (not the per-token cut)."""
        return [original for original, _ in self._word_originals(observed)]

    def _collocation_candidates(self, tokens: list[Token], protected: set[int], suspects: frozenset[int],
                                unsuspected: frozenset[int]) -> list[Candidate]:
        """Restorations of broken two-word collocations (:class:`mtfix.collocations.Collocations`), each changed
        word at log(rates.collocation); a restoration that keeps one of the two words changes only the other.

        With a spin detector, a word changes only where the detector suspects it (``suspects``), or where it
        does not clear it (``unsuspected``) and the observed word is built from its restoration ("fireplace"
        -> "fire": a compound reads fluently enough for the detector to pass it). The LM's bigrams are pruned,
        so rare clean pairs ("golf ball", "dump stocks", "body fat") look as broken to it as spun ones, and a
        related pair it knows is always at hand ("golf club", "dump trucks", "school choice"): on 4,000 clean
        test sentences, letting every word the detector does not clear change cost 0.05 more words in 100
        for +0.1 BLEU on ood_dev."""
        if self.collocations is None:
            return []
        log_rate = math.log(self.rates.collocation)
        detector = bool(suspects or unsuspected)
        starts, pairs = [], []
        for i in range(len(tokens) - 1):
            if i in protected or i + 1 in protected or not all(self._may_restore(t.text) for t in tokens[i:i + 2]):
                continue
            # What each word may become, decided before the search, so that it looks only there (the
            # search over every related pair is the costly part, and most words are cleared or unsuspected).
            reach = tuple(ANY if not detector or i + k in suspects else PARTS if i + k not in unsuspected else NONE
                          for k in range(2))
            if reach != (NONE, NONE):
                starts.append(i)
                pairs.append((tokens[i].text.lower(), tokens[i + 1].text.lower(), *reach))
        results = []
        for i, (*observed, _, _), found in zip(starts, pairs, self.collocations.restorations_of(pairs)):
            pair = tokens[i:i + 2]
            for first, second, _ in found:
                words = (first, second)
                if any(w in FUNCTION_WORDS or w in NUMBER_WORDS for w in words):
                    continue
                changed = [k for k in range(2) if words[k] != observed[k]]
                start, end = i + changed[0], i + changed[-1] + 1
                restored = tuple(match_case(words[k], pair[k].text) for k in range(changed[0], changed[-1] + 1))
                results.append(Candidate(start, end, restored, log_rate * len(changed), "collocation"))
        return results

    def _may_restore(self, text: str) -> bool:
        """A word a collocation may start from: a content word, not a name or a number."""
        lower = text.lower()
        return (lower.isalpha() and lower not in FUNCTION_WORDS and lower not in NUMBER_WORDS
                and not (text[:1].isupper() and self.thesaurus.lowercase_share(text) < 0.5))

    def _log_prior(self, word: str) -> float:
        """log corpus count: the unigram prior up to a constant, which ranking does not need."""
        return math.log(self.thesaurus.frequency(word) + 1)

    def _phrase_candidates(self, tokens: list[Token], protected: set[int]) -> list[Candidate]:
        results = []
        lowered = [t.text.lower() for t in tokens]
        log_rate = math.log(self.rates.phrase)
        log_plain_rate = math.log(self.rates.plain) if self.rates.plain > 0 else -math.inf
        tails = self.thesaurus.multiword_tails
        for i in range(len(tokens)):
            if tokens[i].text[:1].isupper() and self.thesaurus.lowercase_share(tokens[i].text) < 0.5:
                continue  # a name starts no phrase
            for j in range(i + 1, min(len(tokens), i + max(self.max_phrase_tokens, self._longest_swap)) + 1):
                if j - 1 in protected:
                    break
                observed = " ".join(lowered[i:j])
                for inverse, rate in ((self._phrase_inverse, log_rate), (self._plain_inverse, log_plain_rate)):
                    for original, share in inverse.get(observed, ()):
                        words = tuple(original.split())
                        words = (match_case(words[0], tokens[i].text),) + words[1:]
                        results.append(Candidate(i, j, words, rate + math.log(share), "phrase"))
                if 2 <= j - i <= self.max_phrase_tokens and observed.partition(" ")[2] in tails:
                    for original, logprob in self._multiword_originals(observed):
                        words = tuple(original.split())
                        words = (match_case(words[0], tokens[i].text),) + words[1:]
                        results.append(Candidate(i, j, words, logprob, "synonym"))
        return results

    @lru_cache(maxsize=100_000)
    def _multiword_originals(self, observed: str) -> tuple[tuple[str, float], ...]:
        """Originals of a spun multi-word phrase ("human beings" -> "people"), inflected on the first word."""
        first, _, rest = observed.partition(" ")
        scored: dict[str, float] = {}
        for lemma, tag in lemmas(first):
            for headword, prob in self.thesaurus.inverse(f"{lemma} {rest}"):
                if headword in FUNCTION_WORDS:
                    continue
                original = inflect(headword, tag)
                scored[original] = max(scored.get(original, -math.inf), math.log(self.rates.synonym) + math.log(prob))
        return tuple(sorted(scored.items(), key=lambda kv: kv[1], reverse=True)[: self.max_candidates])

    def _postedit_candidates(self, tokens: list[Token], protected: set[int]) -> list[Candidate]:
        """Rewrites of garbled word spans from the post-editing phrase table, channel score
        log(rate) + log p(garbled | clean): the noisy channel of machine translation, as the thesaurus's is
        of a spinner. Spans of words only (the table's punctuation pairs would need detokenising). Output
        words found in the span keep their observed case, the rest are lower case, and the first takes the
        span's initial capital. A rewrite keeps the span's ``protected`` tokens (names, numbers) as written:
        the table is lower case and learned that machine translation writes "Both" for "Obama", but a repair
        that alters a name the input carries is refused whole, every other repair of its sentence with it."""
        table = self.phrase_table
        if table is None or self.rates.postedit <= 0:
            return []
        results = []
        lowered = [t.text.lower() for t in tokens]
        is_word = [t.is_word for t in tokens]
        log_rate = math.log(self.rates.postedit)
        for i in range(len(tokens)):
            for j in range(i + 1, min(len(tokens), i + table.max_length) + 1):
                if not is_word[j - 1]:
                    break
                options = self._postedit_options(tuple(lowered[i:j]))
                if not options:
                    continue
                as_observed = {lowered[k]: tokens[k].text for k in range(i, j)}
                kept = Counter(tokens[k].text for k in range(i, j) if k in protected)
                for clean, log_p_garbled in options:
                    words = tuple(as_observed.get(word, word) for word in clean)
                    words = (match_case(words[0], tokens[i].text),) + words[1:]
                    if kept and kept - Counter(words):
                        continue
                    results.append(Candidate(i, j, words, log_rate + log_p_garbled, "postedit"))
        return results

    def _postedit_options_uncached(self, garbled: tuple[str, ...]) -> tuple[tuple[tuple[str, ...], float], ...]:
        """(clean words, log p(garbled|clean)) of the table's best rewrites of a lower-case phrase, words only."""
        options = [o for o in self.phrase_table.options_lower(garbled) if all(map(is_word, o.clean))]
        return tuple((o.clean, o.log_p_garbled) for o in options[: self.max_postedit_options])

    def _damage_candidates(self, sentence: str, tokens: list[Token], protected: set[int]) -> list[Candidate]:
        results = []
        log_rate = math.log(self.rates.damage)
        # A restored possessive follows the sentence's own typography (the Repairer then applies the whole text's).
        apostrophe = apostrophe_style(sentence) or "'"
        for i, token in enumerate(tokens):
            lower = token.text.lower()
            # a/an left behind for the old noun: offer the other article; the LM checks agreement.
            if lower in ("a", "an"):
                other = "an" if lower == "a" else "a"
                results.append(Candidate(i, i + 1, (match_case(other, token.text),), log_rate, "damage"))
            # "Syria s" / "Syria\u00a0s": the apostrophe of a possessive was lost.
            if lower == "s" and i > 0 and tokens[i - 1].end + 1 == token.start:
                gap = sentence[tokens[i - 1].end:token.start]
                if _APOSTROPHE_GAP.fullmatch(gap) and tokens[i - 1].is_word:
                    results.append(Candidate(i - 1, i + 1, (tokens[i - 1].text + apostrophe + "s",), log_rate, "damage"))
            # "3 soldiers" -> "three soldiers": only when asked, as clean copy writes "my 2 daughters" too.
            if (self.spell_out_numbers and (i not in protected or token.text.isdigit())
                    and token.text in "123456789" and len(token.text) == 1):
                if self._spell_out(tokens, i):
                    results.append(Candidate(i, i + 1, (_NUMBER_NAMES[int(token.text) - 1],), log_rate, "damage"))
        return results

    @staticmethod
    def _spell_out(tokens: list[Token], i: int) -> bool:
        if i + 1 >= len(tokens):
            return False
        following = tokens[i + 1].text
        previous = tokens[i - 1].text.lower() if i > 0 else ""
        return (
            following[:1].islower()
            and following.lower() not in _NUMBER_UNITS
            and previous not in _MONTHS
            and previous not in {"$", "£", "€", "no", "no.", "number", "page", "at", "article", "section", "game", "vs"}
        )

    @staticmethod
    def _protected_indices(sentence: str, tokens: list[Token]) -> set[int]:
        """Tokens that get no candidates: names, numbers (digits and number words), URLs, and words glued
        to them."""
        names = protected_tokens(sentence)
        return {i for i, t in enumerate(tokens) if t.text in names or any(c.isdigit() for c in t.text)
                or t.text.lower() in NUMBER_WORDS
                or any(t.text in name and len(name) > len(t.text) for name in names if "/" in name or "." in name)}


def _invert_phrase_swaps() -> dict[str, list[tuple[str, float]]]:
    """spun phrase -> [(original, share of the original's variants)], from the swap table."""
    inverse: dict[str, list[tuple[str, float]]] = {}
    for original, variants in PHRASE_SWAPS.items():
        for variant in variants:
            inverse.setdefault(variant.lower(), []).append((original, 1.0 / len(variants)))
    return inverse

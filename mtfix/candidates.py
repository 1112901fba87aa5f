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
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from .guards import protected_tokens
from .lexicon import PHRASE_SWAPS, Thesaurus
from .morph import inflect, lemmas
from .text import Token, tokenize

# Function words take candidates only from the phrase-swap table: the thesaurus lists for them
# ("the", "a", "of") are noise that no spinner uses.
FUNCTION_WORDS = frozenset(
    """a an the of to in on at by for with from as and or but nor if then than that this these those
    is are was were be been being am do does did has have had it its he she they we you i me him her
    them us my his their our your who whom whose which what when where why how not no so such there
    here all any each some can could may might must shall should will would""".split()
)
_NUMBER_NAMES = "one two three four five six seven eight nine".split()
# Digits stay digits before units, in dates and scores; wire style spells out one to nine otherwise.
_NUMBER_UNITS = frozenset(
    """pct percent per cent % mln bln billion million trillion thousand dlrs dollars cents pounds euros
    yen km miles kg tonnes tons pm am a.m p.m gmt years year-old months days hours minutes seconds
    points goals runs overs sets games""".split()
)
_MONTHS = frozenset("january february march april may june july august september october november december".split())
_APOSTROPHE_GAP = re.compile(r"[\u00a0 ]")
_CURLY_QUOTES = "\u2018\u2019\u201c\u201d"


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
    kind: str  # keep | synonym | phrase | damage
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


def change_spans(candidates: list[Candidate]) -> tuple[list[int], np.ndarray, np.ndarray]:
    """The indices of the changes among ``candidates``, and their token starts and ends as arrays:
    what the sentence-level scorers (context vectors, spin detector) compute on."""
    changes = [i for i, c in enumerate(candidates) if not c.is_keep]
    starts = np.fromiter((candidates[i].start for i in changes), dtype=np.int64, count=len(changes))
    ends = np.fromiter((candidates[i].end for i in changes), dtype=np.int64, count=len(changes))
    return changes, starts, ends


@dataclass(frozen=True)
class ChannelRates:
    """How often a spinner applies each family; the channel score of a change includes log(rate)."""

    synonym: float = 0.10
    phrase: float = 0.30
    damage: float = 0.50

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
    ):
        self.thesaurus = thesaurus or Thesaurus.load()
        self.rates = rates or ChannelRates()
        self.max_candidates = max_candidates
        self.max_candidates_suspect = max(max_candidates_suspect, max_candidates)
        self.max_phrase_tokens = max_phrase_tokens
        self._phrase_inverse = _invert_phrase_swaps()
        # The swap table has longer variants ("due to the fact that") than thesaurus phrases need.
        self._longest_swap = max(len(tokenize(variant)) for variant in self._phrase_inverse)
        self._word_originals = lru_cache(maxsize=200_000)(self._originals_of_word)
        self._word_options = lru_cache(maxsize=200_000)(self._options_of_token)
        self._inflect = lru_cache(maxsize=500_000)(inflect)
        self._prior = lru_cache(maxsize=500_000)(self._log_prior)

    # -- public -----------------------------------------------------------------------------------

    def candidates(self, sentence: str, tokens: list[Token] | None = None,
                   suspects: frozenset[int] = frozenset(),
                   unsuspected: frozenset[int] = frozenset()) -> tuple[list[Token], list[Candidate]]:
        """The tokens of ``sentence`` and every candidate span over them (keep candidates included).

        ``tokens``: ``tokenize(sentence)`` when the caller has it already. ``suspects``: indices of tokens
        the spin detector flags, which get ``max_candidates_suspect`` single-word originals;
        ``unsuspected``: tokens it clears, which get none (phrases over them are still proposed).
        """
        tokens = tokenize(sentence) if tokens is None else tokens
        protected = self._protected_indices(sentence, tokens)
        found: list[Candidate] = [Candidate(i, i + 1, (t.text,), 0.0, "keep") for i, t in enumerate(tokens)]
        for i, token in enumerate(tokens):
            if i in protected or not token.is_word or i in unsuspected:
                continue
            limit = self.max_candidates_suspect if i in suspects else self.max_candidates
            found.extend(self._word_candidates(i, token, limit))
        found.extend(self._phrase_candidates(tokens, protected))
        found.extend(self._damage_candidates(sentence, tokens, protected))
        return tokens, _dedupe(found, [t.text.lower() for t in tokens])

    # -- families ---------------------------------------------------------------------------------

    def _word_candidates(self, index: int, token: Token, limit: int) -> list[Candidate]:
        return [Candidate(index, index + 1, words, logprob, "synonym")
                for words, logprob in self._word_options(token.text)[:limit]]

    def _options_of_token(self, text: str) -> tuple[tuple[tuple[str, ...], float], ...]:
        """(words, channel) of each single-word original of an observed token, cased like it."""
        lower = text.lower()
        if len(lower) < 2 or (text[:1].isupper() and self.thesaurus.lowercase_share(text) < 0.5):
            return ()  # a letter, or a capitalised name at the start of a sentence
        return tuple((tuple(match_case(original, text).split()), logprob) for original, logprob in self._word_originals(lower))

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
        log_rate = math.log(self.rates.synonym)
        for lemma, tag in lemmas(observed):
            for headword, prob in self.thesaurus.inverse(lemma):
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
        return tuple(ranked[: self.max_candidates_suspect])  # sliced per token by _word_candidates

    def _log_prior(self, word: str) -> float:
        """log corpus count: the unigram prior up to a constant, which ranking does not need."""
        return math.log(self.thesaurus.frequency(word) + 1)

    def _phrase_candidates(self, tokens: list[Token], protected: set[int]) -> list[Candidate]:
        results = []
        lowered = [t.text.lower() for t in tokens]
        log_rate = math.log(self.rates.phrase)
        for i in range(len(tokens)):
            for j in range(i + 1, min(len(tokens), i + max(self.max_phrase_tokens, self._longest_swap)) + 1):
                if any(k in protected for k in range(i, j)):
                    break
                if tokens[i].text[:1].isupper() and self.thesaurus.lowercase_share(tokens[i].text) < 0.5:
                    break
                observed = " ".join(lowered[i:j])
                for original, share in self._phrase_inverse.get(observed, ()):
                    words = tuple(original.split())
                    words = (match_case(words[0], tokens[i].text),) + words[1:]
                    results.append(Candidate(i, j, words, log_rate + math.log(share), "phrase"))
                if 2 <= j - i <= self.max_phrase_tokens:
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

    def _damage_candidates(self, sentence: str, tokens: list[Token], protected: set[int]) -> list[Candidate]:
        results = []
        log_rate = math.log(self.rates.damage)
        # A restored possessive follows the text's own typography: curly where it has curly quotes.
        apostrophe = "\u2019" if any(mark in sentence for mark in _CURLY_QUOTES) else "'"
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
            # "3 soldiers" -> "three soldiers"
            if (i not in protected or token.text.isdigit()) and token.text in "123456789" and len(token.text) == 1:
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
        """Tokens that get no candidates: names, numbers, URLs, and words glued to them."""
        names = protected_tokens(sentence)
        return {i for i, t in enumerate(tokens) if t.text in names or any(c.isdigit() for c in t.text)
                or any(t.text in name and len(name) > len(t.text) for name in names if "/" in name or "." in name)}


def _invert_phrase_swaps() -> dict[str, list[tuple[str, float]]]:
    """spun phrase -> [(original, share of the original's variants)], from the swap table."""
    inverse: dict[str, list[tuple[str, float]]] = {}
    for original, variants in PHRASE_SWAPS.items():
        for variant in variants:
            inverse.setdefault(variant.lower(), []).append((original, 1.0 / len(variants)))
    return inverse


def _dedupe(candidates: list[Candidate], observed: list[str]) -> list[Candidate]:
    """One candidate per (span, words): the best channel score wins; a change equal to the input
    (``observed``: the lower-cased tokens) is dropped."""
    best: dict[tuple, Candidate] = {}
    for candidate in candidates:
        words = " ".join(candidate.words).lower()
        if candidate.kind != "keep" and words == " ".join(observed[candidate.start:candidate.end]):
            continue
        key = (candidate.start, candidate.end, words)
        if key not in best or candidate.channel > best[key].channel:
            if candidate.is_keep or key not in best or not best[key].is_keep:
                best[key] = candidate
    return sorted(best.values(), key=lambda c: (c.start, c.end, c.kind != "keep", -c.channel))

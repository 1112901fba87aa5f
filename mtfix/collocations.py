"""Broken news collocations and the collocations they were.

A spinner swaps the words of a fixed news phrase one by one, and the phrase falls apart: "observation post"
becomes "commentary submit", "war monitor" "struggle reveal", "rocket fire" "rocket fireplace". Each swapped
word has its original somewhere in a long list of related words (ranked 15th and 20th of the thesaurus's
originals for "commentary" and "submit"), too far down for a per-word channel to pay for two swaps. The pair
says more than its words: the observed bigram is one the news language model finds unlikely, and one pair of
related words forms a bigram it knows well. :class:`Collocations` finds those pairs, so the lattice can offer
them as one candidate whose channel does not depend on our spinner's synonym lists (issue 16's
"collocation-driven phrase candidates").

Related words come from the caller (the thesaurus's originals of each observed word, in either direction of
its lists), plus the words an observed word is built from ("fireplace" holds "fire"): general knowledge of
words, never a list of spun phrases.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np

from .lm import NO_WORD, UNK_ID, NgramLM
from .text import lm_form

MIN_PART = 3  # letters of the shortest word an observed word may be built from ("fire" in "fireplace")
# What an observed word may become in a restoration: any related word, only a word it is built from, or nothing.
ANY, PARTS, NONE = "any", "parts", "none"
CACHE_SIZE = 50_000  # pairs whose restorations are kept (a long job starts over when it is full)


class Collocations:
    """Bigrams of the news LM that restore an unlikely observed bigram.

    ``related``: the words an observed (lower-case) word may have replaced, best first;
    ``max_observed``: only an observed bigram with ln P(second | first) at or below this is looked at (a
    clean bigram the LM knows is left alone); ``margin``: a restoration's stored ln P(second | first) must
    beat the observed one by at least this much; ``min_association``: and its words must go together:
    ln P(second | first) - ln P(second) at least this (pointwise mutual information, so that "report say",
    two frequent words, is no collocation, and "observation post" is); ``max_restorations``: the best ones
    kept per bigram.
    """

    def __init__(self, lm: NgramLM, related: Callable[[str], Sequence[str]], max_observed: float = -7.0,
                 margin: float = 6.0, min_association: float = 4.0, max_restorations: int = 8):
        if lm.order < 2:
            raise ValueError("collocations need a language model of order 2 or more")
        self.lm = lm
        self.related = related
        self.max_observed = max_observed
        self.margin = margin
        self.min_association = min_association
        self.max_restorations = max_restorations
        self._unigram_logprobs = lm.ngrams(1)[1]
        # Per instance, not on the class: a class-level cache would keep every LM it has seen alive.
        self._found: dict[tuple[str, str, str, str], tuple[tuple[str, str, float], ...]] = {}
        self.parts = lru_cache(maxsize=50_000)(self._parts)

    def restorations(self, first: str, second: str, first_reach: str = ANY,
                     second_reach: str = ANY) -> tuple[tuple[str, str, float], ...]:
        """(first', second', ln P(second' | first')) of the stored bigrams over ``first`` or a word related
        to it and ``second`` or a word related to it (or a word either is built from), best first, when the
        observed bigram (lower-case words) is unlikely; the observed pair itself is never one. ``first_reach``
        and ``second_reach`` narrow what each word may become: ANY, PARTS (only a word it is built from) or
        NONE (kept)."""
        return self.restorations_of([(first, second, first_reach, second_reach)])[0]

    def restorations_of(self, pairs: Sequence[tuple[str, str, str, str]]) -> list[tuple[tuple[str, str, float], ...]]:
        """:meth:`restorations` of many (first, second, first_reach, second_reach) at once: the observed bigrams
        are scored in one call of the LM (one call a pair cost a repair a tenth of its time)."""
        new = [pair for pair in dict.fromkeys(pairs) if pair not in self._found]
        if new:
            contexts = np.full((len(new), self.lm.order - 1), NO_WORD, dtype=np.int32)
            contexts[:, -1] = self.lm.ids([lm_form(pair[0]) for pair in new])  # a bigram: no history before it
            observed = self.lm.score_batch(contexts, self.lm.ids([lm_form(pair[1]) for pair in new]))
            if len(self._found) + len(new) > CACHE_SIZE:
                self._found.clear()
            for pair, logprob in zip(new, observed.tolist()):
                self._found[pair] = self._search(*pair, logprob)
        return [self._found[pair] for pair in pairs]

    def _search(self, first: str, second: str, first_reach: str, second_reach: str,
                observed: float) -> tuple[tuple[str, str, float], ...]:
        """:meth:`restorations` of one pair whose observed ln P(second | first) is ``observed``."""
        if observed > self.max_observed or first_reach == second_reach == NONE:
            return ()
        firsts = _distinct([first, *self._reachable(first, first_reach)])
        seconds = _distinct([second, *self._reachable(second, second_reach)])
        if len(firsts) == len(seconds) == 1:
            return ()
        first_ids, second_ids = self.lm.ids([lm_form(w) for w in firsts]), self.lm.ids([lm_form(w) for w in seconds])
        logprob = self.lm.stored_bigram_logprobs(np.repeat(first_ids, len(seconds)), np.tile(second_ids, len(firsts)))
        known = ((first_ids[:, None] != UNK_ID) & (second_ids[None, :] != UNK_ID)).ravel()
        association = logprob - np.tile(self._unigram_logprobs[second_ids], len(firsts))
        good = np.flatnonzero(known & (logprob >= observed + self.margin) & (association >= self.min_association))
        good = good[good != 0]  # row 0, column 0: the observed pair
        good = good[np.argsort(-logprob[good], kind="stable")][: self.max_restorations]
        width = len(seconds)
        return tuple((firsts[k // width], seconds[k % width], float(logprob[k])) for k in good.tolist())

    def _reachable(self, word: str, reach: str) -> list[str]:
        if reach == NONE:
            return []
        return [*self.parts(word)] if reach == PARTS else [*self.related(word), *self.parts(word)]

    def _parts(self, word: str) -> tuple[str, ...]:
        """The two known words, of at least MIN_PART letters each, that ``word`` is made of, where it is a
        compound: "fireplace" -> ("fire", "place"). A spinner's synonym for a word is often a compound of it."""
        lower = word.lower()
        parts: list[str] = []
        for k in range(MIN_PART, len(lower) - MIN_PART + 1):
            head, tail = lower[:k], lower[k:]
            if all(self.lm.ids([piece])[0] != UNK_ID for piece in (head, tail)):
                parts += [head, tail]
        return tuple(dict.fromkeys(parts))


def _distinct(words: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(w for w in words if w and " " not in w))

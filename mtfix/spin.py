"""An article-spinner noise model: turn clean news text into the kind of spun text seen in the wild.

It imitates what real spinners do to wire copy (see ``seeds/idlib_ceasefire_spun.txt``), in three
families, each with its own rate (:class:`SpinRates`):

- ``synonym``: context-blind thesaurus swaps that keep the inflection (rocket fire -> rocket
  fireplace, air strikes -> air moves, carried out -> finished);
- ``phrase``: the spinner's table of function-word and set-phrase swaps (said -> stated, not -> no
  longer, according to -> consistent with, we are -> we're; :data:`mtfix.lexicon.PHRASE_SWAPS`);
- ``damage``: what swapping leaves behind: lower-cased sentence starts after a swap ("however",
  "we're"), lost possessive apostrophes ("Syria\u00a0s", with a no-break space as in the seed),
  number words as digits ("3 soldiers"), and now and then a lower-cased title word ("foreign
  Minister") or sentence start. "an statement" needs no rule: the article is simply left alone
  when the noun after it is swapped.

Capitalised words inside a sentence (names, titles) and numbers are never swapped. Every change is
returned as a :class:`SpinSpan` over the spun text, so the spun text aligns with the original. The
output depends only on the seed and the input text, never on earlier calls.
"""

from __future__ import annotations

import bisect
import difflib
import hashlib
import itertools
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .lexicon import FUNCTION_WORDS, PHRASE_SWAPS, Thesaurus
from .morph import Morphology, default_morphology
from .segment import sentence_spans
from .text import Token, tokenize, words

NBSP = "\u00a0"

# Per-entry scaling of the phrase rate: the seed's spinner rewrote "with" once in seven and "by"
# twice in five, but almost every rarer entry it met.
PHRASE_RATE_SCALE = {"with": 0.2, "by": 0.5, "not": 0.6, "said": 0.6, "these": 0.6}

# Share of the damage rate used by the rarer kinds of damage (a lower-cased title word or an
# unchanged sentence start: once each in the seed article, against every possessive and number word).
RARE_DAMAGE_SCALE = 0.08

NUMBER_WORDS = {
    word: str(value) for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen twenty".split()
    ) if value >= 2  # "one" is as often a pronoun as a number
}
NUMBER_WORDS.update({"thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70",
                     "eighty": "80", "ninety": "90"})

_POSSESSIVE_RE = re.compile(r"^(\w[\w.-]*)(['’])s$")
_NOT_POSSESSIVE = FUNCTION_WORDS | {"let"}  # it's, that's, let's are contractions
_OPENING_QUOTES = ('"', "“", "'", "‘", "(")

FAMILIES = ("synonym", "phrase", "damage")


@dataclass(frozen=True)
class SpinRates:
    """How often each family fires where it can: ``synonym`` per eligible content word, ``phrase``
    per matched phrase-table entry, ``damage`` per damage opportunity. The defaults reproduce the
    seed article's density (about 22 changed words in 100; see :func:`changed_words_per_100`)."""

    synonym: float = 0.32
    phrase: float = 0.85
    damage: float = 0.85


@dataclass(frozen=True)
class SpinSpan:
    """A change: ``start:end`` in the spun text holds ``after``; the original there was ``before``."""

    start: int
    end: int
    before: str
    after: str
    family: str


@dataclass
class SpinResult:
    text: str
    spans: list[SpinSpan]

    def restore(self) -> str:
        """The original text, rebuilt by undoing every span (last first, so offsets stay valid)."""
        text = self.text
        for span in reversed(self.spans):
            text = text[:span.start] + span.before + text[span.end:]
        return text


@dataclass(frozen=True)
class _Edit:
    start: int  # offsets into the original text
    end: int
    after: str
    family: str


@dataclass
class _Text:
    """One input text with what the families look up per token, computed once."""

    text: str
    tokens: list[Token]
    lower: list[str]  # token texts in lower case
    is_word: list[bool]
    starts: set[int]  # token indices where a sentence (or a quotation) starts
    free: list[bool]  # a plain word that is not a name: the families may rewrite it
    spaced: list[bool]  # token j and j + 1 are words separated by exactly one space
    rng: random.Random


@dataclass(frozen=True)
class _Swap:
    """How a word or phrase can be thesaurus-swapped: its headword, inflection and the synonyms that
    can take that inflection, with cumulative channel weights for sampling."""

    headword: str
    tag: str
    synonyms: list[str]
    cumulative: list[float]


class _SwapTable:
    """What the thesaurus family can do with each word or phrase, for one thesaurus and morphology.
    Independent of seeds and rates, so every spinner over the same data shares one (and its caches)."""

    def __init__(self, thesaurus: Thesaurus, morphology: Morphology) -> None:
        self.thesaurus = thesaurus
        self.morphology = morphology
        # Inflected surface forms of the multi-word headwords ("carried out" -> ("carry out", "ed")):
        # a phrase is recognised by one dictionary look-up instead of a morphological analysis.
        self.multiword: dict[str, tuple[str, str]] = {}
        for headword in thesaurus.headwords():
            if " " not in headword or all(part in FUNCTION_WORDS for part in headword.split(" ")):
                continue
            for tag in ("", "s", "ed", "ing"):
                form = morphology.inflect(headword, tag)
                if tag == "" or form != headword:
                    self.multiword.setdefault(form, (headword, tag))
        self.multiword_first = {form.split(" ")[0] for form in self.multiword}
        self._words: dict[str, _Swap | None] = {}
        self._swaps: dict[tuple[str, str], _Swap | None] = {}
        self._common: dict[str, bool] = {}

    def word(self, word: str) -> _Swap | None:
        """How the lower-case ``word`` can be swapped, or None: the first analysis that is a headword
        with synonyms able to take its inflection ("attacks" is attack + s). Numbers are never swapped."""
        if word in self._words:
            return self._words[word]
        swap = None
        if word not in FUNCTION_WORDS and word not in NUMBER_WORDS and word != "one":
            for lemma, tag in self.morphology.lemmas(word):
                swap = self.headword(lemma, tag)
                if swap is not None:
                    break
        self._words[word] = swap
        return swap

    def headword(self, lemma: str, tag: str) -> _Swap | None:
        key = (lemma, tag)
        if key not in self._swaps:
            swap = None
            if lemma not in FUNCTION_WORDS and lemma in self.thesaurus:
                channel = self.thesaurus.channel(lemma)
                synonyms = sorted(s for s in channel if self._can_inflect(s, tag))
                if synonyms:
                    swap = _Swap(lemma, tag, synonyms, list(itertools.accumulate(channel[s] for s in synonyms)))
            self._swaps[key] = swap
        return self._swaps[key]

    def _can_inflect(self, synonym: str, tag: str) -> bool:
        """Spinners keep the part of speech an inflection needs (strikes -> moves, never -> "middlemaned");
        phrases whose first word cannot take a verb ending stay as they are ("in search of")."""
        if tag == "":
            return True
        parts = synonym.split(" ")
        if len(parts) == 1:
            return self.morphology.takes(synonym, tag)
        return tag in ("ed", "ing") or self.morphology.takes(parts[0], tag) or self.morphology.takes(parts[-1], tag)

    def is_common_word(self, word: str) -> bool:
        """Mostly written in lower case in the corpora: a common word, not a name."""
        common = self._common.get(word)
        if common is None:
            common = self._common[word] = self.thesaurus.lowercase_share(word) >= 0.5
        return common


_TABLES: dict[tuple[int, int], _SwapTable] = {}


def _swap_table(thesaurus: Thesaurus, morphology: Morphology) -> _SwapTable:
    key = (id(thesaurus), id(morphology))
    table = _TABLES.get(key)
    if table is None or table.thesaurus is not thesaurus or table.morphology is not morphology:
        table = _TABLES[key] = _SwapTable(thesaurus, morphology)
    return table


class Spinner:
    """Spins text with a thesaurus, per-family rates and a seed (see the module docstring)."""

    def __init__(
        self,
        thesaurus: Thesaurus | None = None,
        rates: SpinRates | None = None,
        seed: int = 0,
        morphology: Morphology | None = None,
        phrase_swaps: Mapping[str, Sequence[str]] | None = None,  # default: PHRASE_SWAPS
    ) -> None:
        self.thesaurus = thesaurus if thesaurus is not None else Thesaurus.load()
        self.rates = rates if rates is not None else SpinRates()
        self.seed = seed
        self.morphology = morphology if morphology is not None else default_morphology()
        self.phrase_swaps = phrase_swaps if phrase_swaps is not None else PHRASE_SWAPS
        self._phrases = _phrase_index(self.phrase_swaps)
        self._table = _swap_table(self.thesaurus, self.morphology)

    # -- public -------------------------------------------------------------------------------------

    def spin(self, text: str) -> SpinResult:
        t = self._prepare(text)
        edits: list[_Edit] = []
        i = 0
        while i < len(t.tokens):
            if not t.is_word[i]:
                i += 1
                continue
            consumed, edit = self._phrase(t, i)
            if not consumed:
                consumed, edit = self._synonym(t, i)
            if not consumed:
                consumed, edit = 1, self._damage(t, i)
            if edit is not None:
                edits.append(edit)
            i += consumed
        return _apply(text, edits)

    # -- families -----------------------------------------------------------------------------------

    def _phrase(self, t: _Text, i: int) -> tuple[int, _Edit | None]:
        """Family (b): the longest phrase-table entry starting at token ``i``. A matched entry that
        is not swapped is still consumed, so its words are not thesaurus-swapped instead."""
        match = self._match_phrase(t, i)
        if match is None:
            return 0, None
        key, n = match
        if t.rng.random() >= self.rates.phrase * PHRASE_RATE_SCALE.get(key, 1.0):
            return n, None
        variant = t.rng.choice(self.phrase_swaps[key])
        after = self._cased(variant, t.tokens[i], i in t.starts, t.rng)
        return n, _Edit(t.tokens[i].start, t.tokens[i + n - 1].end, after, "phrase")

    def _synonym(self, t: _Text, i: int) -> tuple[int, _Edit | None]:
        """Family (a): a thesaurus swap of a 3-, 2- or 1-word headword at token ``i``, re-inflected."""
        swap, n = self._find_swap(t, i)
        if swap is None:
            return 0, None
        if t.rng.random() >= self.rates.synonym:
            return 0, None  # left alone: the word may still take damage ("three" -> "3")
        synonym = t.rng.choices(swap.synonyms, cum_weights=swap.cumulative)[0]
        after = self._cased(self.morphology.inflect(synonym, swap.tag), t.tokens[i], i in t.starts, t.rng)
        return n, _Edit(t.tokens[i].start, t.tokens[i + n - 1].end, after, "synonym")

    def _find_swap(self, t: _Text, i: int) -> tuple[_Swap | None, int]:
        """The longest swappable headword at token ``i`` (3, 2 or 1 words) and its length."""
        if not t.free[i]:
            return None, 0
        if t.lower[i] in self._table.multiword_first:
            for n in (3, 2):
                if i + n <= len(t.tokens) and all(t.free[i:i + n]) and all(t.spaced[i:i + n - 1]):
                    analysis = self._table.multiword.get(" ".join(t.lower[i:i + n]))
                    swap = self._table.headword(*analysis) if analysis else None
                    if swap is not None:
                        return swap, n
        return self._table.word(t.lower[i]), 1

    def _damage(self, t: _Text, i: int) -> _Edit | None:
        """Family (c) on a word no swap touched."""
        token = t.tokens[i]
        word = token.text
        lower = t.lower[i]
        rate = self.rates.damage
        if lower.endswith(("'s", "’s")):
            possessive = _POSSESSIVE_RE.match(word)
            if possessive and possessive.group(1).lower() not in _NOT_POSSESSIVE:
                if t.rng.random() < rate:
                    return _Edit(token.start, token.end, possessive.group(1) + NBSP + "s", "damage")
            return None
        if lower in NUMBER_WORDS:
            if t.rng.random() < rate:
                return _Edit(token.start, token.end, NUMBER_WORDS[lower], "damage")
            return None
        if word[:1].isupper() and word != "I" and not word.isupper() and self._table.is_common_word(word):
            if t.rng.random() < rate * RARE_DAMAGE_SCALE:
                return _Edit(token.start, token.end, lower, "damage")
        return None

    # -- helpers ------------------------------------------------------------------------------------

    def _prepare(self, text: str) -> _Text:
        tokens = tokenize(text)
        is_word = [token.is_word for token in tokens]
        starts = _start_indices(text, tokens, is_word)
        free = [token.text.isalpha() and not self._is_name(token.text, j in starts) for j, token in enumerate(tokens)]
        spaced = [
            is_word[j] and is_word[j + 1] and text[tokens[j].end:tokens[j + 1].start] == " "
            for j in range(len(tokens) - 1)
        ] + [False]
        lower = [token.text.lower() for token in tokens]
        rng = random.Random(_text_seed(self.seed, text))
        return _Text(text, tokens, lower, is_word, starts, free, spaced, rng)

    def _match_phrase(self, t: _Text, i: int) -> tuple[str, int] | None:
        entries = self._phrases.get(t.tokens[i].text.lower())
        if not entries:
            return None
        for key, key_tokens in entries:
            n = len(key_tokens)
            if i + n > len(t.tokens) or not all(t.spaced[i:i + n - 1]):
                continue
            if all(t.tokens[i + k].text.lower() == key_tokens[k] for k in range(n)) and \
                    not any(self._is_name(token.text, j in t.starts) for j, token in enumerate(t.tokens[i:i + n], i)):
                return key, n
        return None

    def _is_name(self, word: str, at_start: bool) -> bool:
        """Names and titles are capitalised inside a sentence; at a sentence start a capitalised word
        is a name when the corpora mostly capitalise it too. ALL-CAPS words are always kept."""
        if not word[:1].isupper():
            return False
        if len(word) > 1 and word.isupper():
            return True
        return not at_start or not self._table.is_common_word(word)

    def _cased(self, replacement: str, original: Token, at_start: bool, rng: random.Random) -> str:
        """Case a replacement like the word it replaces; at a sentence start the spinner usually
        writes its dictionary's lower case (damage)."""
        if not original.text[:1].isupper():
            return replacement
        if at_start and rng.random() < self.rates.damage:
            return replacement
        return replacement[:1].upper() + replacement[1:]


def _phrase_index(phrase_swaps: Mapping[str, Sequence[str]]) -> dict[str, list[tuple[str, tuple[str, ...]]]]:
    """Phrase-table keys by first word, longest first."""
    index: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for key in phrase_swaps:
        key_tokens = tuple(words(key))
        index.setdefault(key_tokens[0], []).append((key, key_tokens))
    for entries in index.values():
        entries.sort(key=lambda entry: (-len(entry[1]), entry[0]))
    return index


def _text_seed(seed: int, text: str) -> int:
    digest = hashlib.blake2b(f"{seed}\x00{text}".encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _start_indices(text: str, tokens: list[Token], is_word: list[bool]) -> set[int]:
    """Token indices of the first word of every sentence, and of a word right after an opening quote
    or bracket that follows a space ('"We are ...', 'said: "We ...'): both are capitalised by rule."""
    token_starts = [token.start for token in tokens]
    starts: set[int] = set()
    for sentence_start, sentence_end in sentence_spans(text):
        j = bisect.bisect_left(token_starts, sentence_start)
        while j < len(tokens) and tokens[j].start < sentence_end and not is_word[j]:
            j += 1
        if j < len(tokens) and tokens[j].start < sentence_end:
            starts.add(j)
    for j in range(1, len(tokens)):
        quote = tokens[j - 1]
        if is_word[j] and quote.text in _OPENING_QUOTES and quote.end == tokens[j].start and \
                (quote.start == 0 or text[quote.start - 1].isspace()):
            starts.add(j)
    return starts


def _apply(text: str, edits: list[_Edit]) -> SpinResult:
    pieces: list[str] = []
    spans: list[SpinSpan] = []
    position = 0
    length = 0
    for edit in edits:
        gap = text[position:edit.start]
        pieces.append(gap)
        length += len(gap)
        if edit.after != text[edit.start:edit.end]:
            spans.append(SpinSpan(length, length + len(edit.after), text[edit.start:edit.end], edit.after, edit.family))
        pieces.append(edit.after)
        length += len(edit.after)
        position = edit.end
    pieces.append(text[position:])
    return SpinResult("".join(pieces), spans)


# ---------------------------------------------------------------------------------------------------
# Density: how much of a text a spinner changed

def _word_tokens(text: str) -> list[str]:
    return [w for w in words(text) if w[:1].isalnum()]


def changed_words(original: str, spun: str) -> tuple[int, int]:
    """(changed, total): original words replaced or deleted, plus spun words inserted, by a word-level
    diff (case-sensitive: "Foreign" -> "foreign" is a change), and the original's word count."""
    a, b = _word_tokens(original), _word_tokens(spun)
    changed = 0
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "insert":
            changed += j2 - j1
        elif op != "equal":
            changed += i2 - i1
    return changed, len(a)


def changed_words_per_100(original: str, spun: str) -> float:
    changed, total = changed_words(original, spun)
    return 100.0 * changed / max(total, 1)


SEED_DIR = Path(__file__).resolve().parent.parent / "seeds"  # in a checkout; not part of the package


def seed_density(seed_dir: Path = SEED_DIR) -> float:
    """Changed words per 100 in the seed article (spun against its restored reference)."""
    spun = (seed_dir / "idlib_ceasefire_spun.txt").read_text(encoding="utf-8")
    reference = (seed_dir / "idlib_ceasefire_reference.txt").read_text(encoding="utf-8")
    return changed_words_per_100(reference, spun)


def main() -> None:
    """Print the seed article's density next to this spinner's on the seed's reference text."""
    reference = (SEED_DIR / "idlib_ceasefire_reference.txt").read_text(encoding="utf-8")
    densities = [changed_words_per_100(reference, Spinner(seed=seed).spin(reference).text) for seed in range(20)]
    print(f"seed article: {seed_density():.1f} changed words per 100")
    print(f"Spinner() on its reference, 20 seeds: mean {sum(densities) / len(densities):.1f}, "
          f"range {min(densities):.1f}-{max(densities):.1f}")
    print(Spinner(seed=0).spin(reference.split("\n\n")[0]).text)


if __name__ == "__main__":
    main()

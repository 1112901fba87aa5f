"""Tiny English inflectional morphology, so that a swap keeps (or, in reverse, undoes) inflection.

The spinner rewrites "released" as lemma "release" + tag "ed", swaps the lemma and re-inflects the
synonym; the repairer runs the same steps backwards. Tags:

- ``""``: the base form; ``"s"``: noun plural or verb third person; ``"ed"``: past tense or past
  participle; ``"ing"``: present participle; ``"er"`` / ``"est"``: comparative / superlative.

Analyses come from suffix rules checked against WordNet's lemma lists (a candidate lemma must exist
with a part of speech that takes the tag) plus WordNet's exception lists for irregular forms; both
are compiled into the shipped data file (see :mod:`mtfix.lexicon`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .lexicon import load_tables

NOUN, VERB, ADJ, ADV = 1, 2, 4, 8
TAGS = ("", "s", "ed", "ing", "er", "est")

# Which parts of speech a tag applies to.
_TAG_POS = {"s": NOUN | VERB, "ed": VERB, "ing": VERB, "er": ADJ | ADV, "est": ADJ | ADV}
_VERB_TAGS = ("ed", "ing")

# Second words after which a multi-word phrase inflects its first word ("carry out" -> "carries out",
# "point of view" -> "points of view"); otherwise a plural goes on the last word ("human beings").
_PARTICLES = frozenset(
    "out up off on in down over away back of to for with into about through around along across "
    "after by from at apart aside forward together".split()
)

# Present-tense forms WordNet's exception list gives without saying they are not past tenses.
_PRESENT_FORMS = {"am": ("be", ""), "are": ("be", ""), "is": ("be", "s"), "has": ("have", "s"),
                  "does": ("do", "s"), "goes": ("go", "s")}

# Verbs whose past tense is the base form itself; WordNet lists no exception for them.
_UNCHANGED_PAST = frozenset(
    "bet bid broadcast burst cast cost cut forecast hit hurt let put quit read rid set shed shut slit "
    "split spread thrust upset".split()
)

# Nouns in -man whose plural is regular; every other -man noun makes -men (spokesman, chairwoman).
_REGULAR_MAN = frozenset("human german roman shaman talisman caiman cayman ottoman walkman pullman doberman".split())

_VOWEL = "aeiou"
# One-syllable words ending consonant-vowel-consonant double the consonant: stop -> stopped.
_DOUBLING_RE = re.compile(r"^[^aeiou]*[aeiou][bdgklmnprtv]$")


@dataclass
class Morphology:
    """Part-of-speech table and irregular forms; the module functions use the shipped instance."""

    pos: dict[str, int]
    # form -> [(lemma, tag)] for irregular forms, and (lemma, tag) -> preferred irregular form
    irregular: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    irregular_form: dict[tuple[str, str], str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path | None = None) -> Morphology:
        tables = load_tables(path)
        a = tables.arrays
        vocab = tables.vocab
        pos = {vocab[i]: int(p) for i, p in enumerate(a["pos"]) if p}
        morphology = cls(pos)
        for form_id, lemma_id, pos_bit in zip(a["exc_form"], a["exc_lemma"], a["exc_pos"]):
            form, lemma = vocab[form_id], vocab[lemma_id]
            if form not in _PRESENT_FORMS:
                tag = _irregular_tag(form, lemma, int(pos_bit))
                if tag is not None:
                    morphology.add_irregular(form, lemma, tag)
        for form, (lemma, tag) in _PRESENT_FORMS.items():
            morphology.add_irregular(form, lemma, tag)
        for verb in _UNCHANGED_PAST:
            morphology.add_irregular(verb, verb, "ed")
        return morphology

    def add_irregular(self, form: str, lemma: str, tag: str) -> None:
        analyses = self.irregular.setdefault(form, [])
        if (lemma, tag) not in analyses:
            analyses.append((lemma, tag))
        key = (lemma, tag)
        best = self.irregular_form.get(key)
        if best is None or _form_rank(form, tag) < _form_rank(best, tag):
            self.irregular_form[key] = form

    def takes(self, lemma: str, tag: str) -> bool:
        return bool(self.pos.get(lemma, 0) & _TAG_POS[tag])

    def lemmas(self, word: str) -> list[tuple[str, str]]:
        """Analyses ``(lemma, tag)`` of ``word`` (lower-cased), the base form first when it is a known
        lemma. A word with no analysis at all comes back as ``[(word, "")]``."""
        word = word.lower()
        if " " in word:
            return self._phrase_lemmas(word)
        analyses: list[tuple[str, str]] = []
        if word in self.pos:
            analyses.append((word, ""))
        for analysis in self.irregular.get(word, ()):
            if analysis not in analyses:
                analyses.append(analysis)
        for lemma, tag in _regular_candidates(word):
            if (lemma, tag) not in analyses and self.takes(lemma, tag):
                analyses.append((lemma, tag))
        return analyses or [(word, "")]

    def _phrase_lemmas(self, phrase: str) -> list[tuple[str, str]]:
        parts = phrase.split(" ")
        analyses = [(phrase, "")]
        for lemma, tag in self.lemmas(parts[0]):
            if tag in _VERB_TAGS or (tag == "s" and parts[1] in _PARTICLES):
                analyses.append((" ".join([lemma] + parts[1:]), tag))
        if parts[1] not in _PARTICLES:
            for lemma, tag in self.lemmas(parts[-1]):
                if tag == "s":
                    analyses.append((" ".join(parts[:-1] + [lemma]), tag))
        return analyses

    def inflect(self, lemma: str, tag: str) -> str:
        """``lemma`` with inflection ``tag``; phrases inflect their first word for verb tags when it is
        a verb ("carry out" + "ed" -> "carried out") and otherwise stay as they are ("in search of")."""
        if tag == "":
            return lemma
        if tag not in _TAG_POS:
            raise ValueError(f"unknown inflection tag {tag!r}; known: {TAGS}")
        if " " not in lemma:
            return self._inflect_word(lemma, tag)
        parts = lemma.split(" ")
        first_is_verb = bool(self.pos.get(parts[0].lower(), 0) & VERB)
        if tag in _VERB_TAGS:
            if not first_is_verb:
                return lemma
            return " ".join([self._inflect_word(parts[0], tag)] + parts[1:])
        if tag == "s":
            if parts[1] in _PARTICLES:
                return " ".join([self._inflect_word(parts[0], tag)] + parts[1:])
            return " ".join(parts[:-1] + [self._inflect_word(parts[-1], tag)])
        return lemma  # comparatives of phrases do not exist

    def _inflect_word(self, lemma: str, tag: str) -> str:
        irregular = self.irregular_form.get((lemma.lower(), tag))
        # A lone irregular participle (shown, proven) means the past tense is regular (showed).
        if irregular is not None and not (tag == "ed" and _form_rank(irregular, tag)[0]):
            return _match_case(irregular, lemma)
        return _regular_form(lemma, tag)


def _irregular_tag(form: str, lemma: str, pos_bit: int) -> str | None:
    """The tag of an exception-list form: nouns are plurals, adjectives comparatives or superlatives,
    verb forms are told apart by their endings (WordNet's lists do not say)."""
    if pos_bit == NOUN:
        return "s"
    if pos_bit in (ADJ, ADV):
        if form.endswith("st"):
            return "est"
        return "er" if form.endswith("r") else None
    if pos_bit == VERB:
        if form.endswith("ing"):
            return "ing"
        if form.endswith("s") and (form in (lemma + "s", lemma + "es") or form == lemma[:-1] + "ies"):
            return "s"
        return "ed"
    return None


def _form_rank(form: str, tag: str) -> tuple[int, str]:
    """Preference among irregular forms of one (lemma, tag): for "ed" the past tense (took) before the
    participle (taken), which usually ends in -en, -wn, -ne, -un or -rn."""
    participle = tag == "ed" and form.endswith(("en", "wn", "ne", "un", "rn"))
    return (int(participle), form)


def _regular_candidates(word: str) -> list[tuple[str, str]]:
    """Every (lemma, tag) a regular suffix rule could produce; the caller checks them against WordNet."""
    out: list[tuple[str, str]] = []
    if len(word) > 3 and word.endswith("men"):
        out.append((word[:-3] + "man", "s"))
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        if word.endswith("ies"):
            out.append((word[:-3] + "y", "s"))
        if word.endswith(("ses", "xes", "zes", "ches", "shes")):
            out.append((word[:-2], "s"))
        out.append((word[:-1], "s"))
    if len(word) > 4 and word.endswith("ed"):
        out.append((word[:-2], "ed"))
        out.append((word[:-1], "ed"))
        if word.endswith("ied"):
            out.append((word[:-3] + "y", "ed"))
        if word[-3] == word[-4]:
            out.append((word[:-3], "ed"))
    if len(word) > 5 and word.endswith("ing"):
        out.append((word[:-3], "ing"))
        out.append((word[:-3] + "e", "ing"))
        if word.endswith("ying"):
            out.append((word[:-4] + "ie", "ing"))
        if word[-4] == word[-5]:
            out.append((word[:-4], "ing"))
    for suffix, tag in (("est", "est"), ("er", "er")):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            stem = word[: -len(suffix)]
            out.append((stem, tag))
            out.append((stem + "e", tag))
            if stem.endswith("i"):
                out.append((stem[:-1] + "y", tag))
            if stem[-1] == stem[-2]:
                out.append((stem[:-1], tag))
    return out


def _regular_form(lemma: str, tag: str) -> str:
    word = lemma
    lower = word.lower()
    consonant_y = lower.endswith("y") and len(lower) > 1 and lower[-2] not in _VOWEL
    if tag == "s":
        if lower.endswith("man") and lower not in _REGULAR_MAN:
            return word[:-3] + "men"
        if lower.endswith(("s", "x", "z", "ch", "sh")):
            return word + "es"
        return word[:-1] + "ies" if consonant_y else word + "s"
    doubled = bool(_DOUBLING_RE.match(lower)) and not lower.endswith(("w", "x", "y"))
    if tag == "ed":
        if lower.endswith("e"):
            return word + "d"
        if consonant_y:
            return word[:-1] + "ied"
        return word + word[-1] + "ed" if doubled else word + "ed"
    if tag == "ing":
        if lower.endswith("ie"):
            return word[:-2] + "ying"
        if lower.endswith("e") and not lower.endswith(("ee", "ye", "oe")) and len(lower) > 2:
            return word[:-1] + "ing"
        return word + word[-1] + "ing" if doubled else word + "ing"
    suffix = "er" if tag == "er" else "est"
    if lower.endswith("e"):
        return word + suffix[1:]
    if consonant_y:
        return word[:-1] + "i" + suffix
    return word + word[-1] + suffix if doubled else word + suffix


def _match_case(form: str, model: str) -> str:
    if model[:1].isupper():
        return form[:1].upper() + form[1:]
    return form


@lru_cache(maxsize=1)
def default_morphology() -> Morphology:
    return Morphology.load()


def lemmas(word: str) -> list[tuple[str, str]]:
    """Analyses ``(lemma, tag)`` of ``word`` with the shipped tables (see :meth:`Morphology.lemmas`)."""
    return default_morphology().lemmas(word)


def inflect(lemma: str, tag: str) -> str:
    """``lemma`` inflected with ``tag`` (see :meth:`Morphology.inflect`)."""
    return default_morphology().inflect(lemma, tag)

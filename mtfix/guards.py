"""Checks that keep a repair from doing damage.

A candidate repair of a sentence is refused (the input is kept for that span) when it alters or
drops anything a spinner never touches and a reader must be able to trust: numbers, capitalised
names, URLs, the quotation structure, or when its length drifts far from the input's.
"""

from __future__ import annotations

import re
from collections import Counter

from .text import is_word, tokenize, words

_URL_RE = re.compile(r"(?:https?://|www\.)\S+?(?=[.,;:!?)\]\"']*(?:\s|$))|\b[\w.-]+@[\w-]+\.\w+(?:\.\w+)*\b", re.IGNORECASE)
# Wire style spells out one to nine; a repair may write "three" for "3" (same value), nothing else.
_NUMBER_WORDS = {w: str(i) for i, w in enumerate("zero one two three four five six seven eight nine".split())}
_QUOTE_CHARS = "\"“”«»"
_DIGIT_RE = re.compile(r"\d")
MAX_LENGTH_RATIO = 1.4
# Spinners change one word in three at the very most; a candidate that keeps less is a rewrite.
MIN_KEPT_SHARE = 0.5


def _is_name(token: str) -> bool:
    return token[:1].isupper()


def _sentence_initial(tokens: list[str], index: int) -> bool:
    """Whether token ``index`` opens the sentence or a quotation, where capitals say nothing about names."""
    previous = [t for t in tokens[:index] if t not in _QUOTE_CHARS and t not in "([‘'"]
    return not previous or previous[-1] in {".", "!", "?", ":", ";", "-", "–", "—"}


def protected_tokens(sentence: str) -> Counter:
    """The multiset of tokens a repair must keep verbatim: numbers, names, URLs."""
    protected: Counter = Counter(_URL_RE.findall(sentence))
    without_urls = _URL_RE.sub(" ", sentence)
    tokens = [t.text for t in tokenize(without_urls)]
    for index, token in enumerate(tokens):
        if _DIGIT_RE.search(token):
            protected[token] += 1
        elif _is_name(token) and not _sentence_initial(tokens, index):
            protected[token] += 1
    return protected


def violations(source: str, candidate: str) -> list[str]:
    """Reasons why ``candidate`` may not replace ``source``; empty when it is safe."""
    reasons = []
    source_tokens, candidate_tokens = tokenize_all(source), tokenize_all(candidate)
    kept = Counter(_NUMBER_WORDS.get(t.lower(), t) for t in candidate_tokens)
    missing = protected_tokens(source) - kept
    if missing:
        reasons.append("drops or alters " + ", ".join(sorted(missing)))
    source_words = {t.lower() for t in source_tokens}
    candidate_protected = protected_tokens(candidate)
    invented = [t for t in candidate_protected if t.lower() not in source_words and _DIGIT_RE.search(t)]
    invented += [t for t in candidate_protected if t[:1].isupper()
                 and _POSSESSIVE_RE.sub(r"\1", t).lower() not in source_words]
    invented += [t for t in _URL_RE.findall(candidate) if t not in source]
    if invented:
        reasons.append("invents " + ", ".join(sorted(set(invented))))
    for quote in _QUOTE_CHARS:
        if source.count(quote) != candidate.count(quote):
            reasons.append(f"changes the quotation marks {quote}")
    kept = sum((Counter(source_tokens) & Counter(candidate_tokens)).values())
    if len(source_tokens) >= 4 and kept < MIN_KEPT_SHARE * len(source_tokens):
        reasons.append(f"rewrites too much: keeps {kept} of {len(source_tokens)} tokens")
    source_length = max(len(source.split()), 1)
    candidate_length = max(len(candidate.split()), 1)
    if max(source_length, candidate_length) / min(source_length, candidate_length) > MAX_LENGTH_RATIO and abs(source_length - candidate_length) > 2:
        reasons.append(f"length drifts from {source_length} to {candidate_length} words")
    return reasons


_POSSESSIVE_RE = re.compile(r"^(.+)['’]s$")


def tokenize_all(text: str) -> list[str]:
    """Tokens plus whole URLs, so a URL kept intact counts as kept, and the name inside each
    possessive, so restoring "Syria s" to "Syria's" keeps the name "Syria"."""
    tokens = [t.text for t in tokenize(text)]
    names = [m.group(1) for m in map(_POSSESSIVE_RE.match, tokens) if m]
    return tokens + names + _URL_RE.findall(text)


_TAG_RE = re.compile(r"</?[A-Za-z][^<>]*>|&[a-z]+;|&#\d+;")
# Control characters (C0 and C1), the replacement character, and lone surrogates (a str decoded with
# surrogateescape or built by hand): no tokenizer takes the last, and none of them is prose.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd\ud800-\udfff]")


def is_repairable(sentence: str) -> bool:
    """Whether a sentence looks like English prose the model was trained on.

    Everything else (markup, binary junk, other languages and scripts, tables of figures) is passed
    through untouched: a wrong "repair" there is pure damage.
    """
    if _TAG_RE.search(sentence) or _CONTROL_RE.search(sentence):
        return False
    letters = [c for c in sentence if c.isalpha()]
    if len(letters) < 2 or len(letters) < 0.5 * len(sentence.replace(" ", "")):
        return False
    ascii_letters = sum(1 for c in letters if c.isascii())
    if ascii_letters < 0.9 * len(letters):
        return False
    return _looks_english(sentence)


_ENGLISH_FUNCTION_WORDS = frozenset(
    "the a an of to in and or is are was were be been for on at by with from that this it as not but "
    "he she they we you i his her their its has have had will would said says".split()
)


def _looks_english(sentence: str) -> bool:
    tokens = [w.lower() for w in words(sentence) if is_word(w)]
    if len(tokens) < 4:
        return True  # too short to judge; the model sees it, the guards still apply
    hits = sum(1 for t in tokens if t in _ENGLISH_FUNCTION_WORDS)
    return hits >= max(1, len(tokens) // 12)

"""Word tokenisation shared by the spinner, the candidate lattice and the language model.

Every component that reasons about words must agree on what a word is, so there is exactly one
tokeniser. Tokens carry character offsets into the input so that edits can always be mapped back
to the original bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A word is letters/digits with inner hyphens, apostrophes or dots (al-Assad, don't, U.S., 3.5);
# anything else that is not space is a one-character token.
_TOKEN_RE = re.compile(r"\w+(?:[-'’.]\w+)*|[^\w\s]", re.UNICODE)
_NUMBER_RE = re.compile(r"^\d[\d,.:/-]*$")


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int

    @property
    def is_word(self) -> bool:
        return is_word(self.text)


def is_word(token: str) -> bool:
    """Whether a token (of :func:`tokenize` or :func:`words`) is a word rather than punctuation."""
    return token[:1].isalnum() or token[:1] == "_"


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into word and punctuation tokens with character offsets."""
    return [Token(m.group(), m.start(), m.end()) for m in _TOKEN_RE.finditer(text)]


def words(text: str) -> list[str]:
    """The token strings of ``text`` (see :func:`tokenize`)."""
    return _TOKEN_RE.findall(text)


def is_number(token: str) -> bool:
    return bool(_NUMBER_RE.match(token))


def lm_form(token: str) -> str:
    """The form the language model sees: lower case, digits collapsed to 0 so numbers share statistics."""
    return re.sub(r"\d", "0", token.lower())


_APOSTROPHE_RE = re.compile(r"(?<=[^\W\d_])(['’])(?=[^\W\d_])")
_DOUBLE_QUOTE_RE = re.compile("[\"“”]")
_CURLY_SINGLE_QUOTE_RE = re.compile("[‘’]")  # a straight one is no evidence: it may be a foot or a prime


def apostrophe_style(text: str) -> str | None:
    """The apostrophe ``text`` writes: "’" (typographic) or "'" (typewriter), or None where it shows neither.

    Decided by the apostrophes between letters ("don’t", "Syria's"), else by the double quotation marks
    (curly ones go with curly apostrophes), else by curly single quotation marks; on a tie, None."""
    for pattern in (_APOSTROPHE_RE, _DOUBLE_QUOTE_RE, _CURLY_SINGLE_QUOTE_RE):
        marks = pattern.findall(text)
        straight = sum(mark in "'\"" for mark in marks)
        curly = len(marks) - straight
        if curly != straight:
            return "’" if curly > straight else "'"
    return None


def has_apostrophe(text: str) -> bool:
    """Whether ``text`` has an apostrophe between letters."""
    return bool(_APOSTROPHE_RE.search(text))


def with_apostrophe(text: str, apostrophe: str) -> str:
    """``text`` with each apostrophe between letters written as ``apostrophe``."""
    return _APOSTROPHE_RE.sub(apostrophe, text)

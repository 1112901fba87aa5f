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

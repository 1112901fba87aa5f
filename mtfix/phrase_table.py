"""A post-editing phrase table: garbled phrase -> clean phrases, learnt from machine-translation round trips.

Built by ``training/phrase_table.py`` from word-aligned (garbled, clean) sentence pairs and shipped as a
gzipped TSV, one pair a line (lower case, tokens of :func:`mtfix.text.words` joined by spaces)::

    garbled  clean  count  log p(clean|garbled)  log p(garbled|clean)  log lex(clean|garbled)  log lex(garbled|clean)

Only pairs whose two sides differ are stored: keeping a phrase is implicit, and its chance is what the
table's probabilities for it leave over (they are relative to the phrase's occurrences in the text, not
to its rewrites only). Lines starting with ``##`` are comments (a phrase can start with ``#``, as in
``# metoo``, but never with ``##``: punctuation tokens are one character each).
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path
from typing import NamedTuple

Phrase = tuple[str, ...]

# British -> American spelling, enough to see that two words are one spelling apart.
_SPELLINGS = [(re.compile(pattern), replacement) for pattern, replacement in (
    (r"our(?=s?$|ed$|ing$|ite|able|ably|er|ers)", "or"), (r"is(e|ed|es|ing|ation|ations|er|ers)$", r"iz\1"),
    (r"ys(e|ed|es|ing)$", r"yz\1"), (r"(?<=[^aeiou])re(s?)$", r"er\1"), (r"ll(ed|ing|er|ers)$", r"l\1"),
    (r"ae", "e"), (r"oe(?=[^s])", "e"), (r"ogue(s?)$", r"og\1"), (r"mme(s?)$", r"m\1"), (r"ence(s?)$", r"ense\1"))]


def _american(word: str) -> str:
    for pattern, replacement in _SPELLINGS:
        word = pattern.sub(replacement, word)
    return word


def spelling_variant(garbled: Phrase, clean: Phrase) -> bool:
    """Whether two phrases differ only in British and American spelling ("organisation" / "organization").
    Machine translation writes one house style, and a rewrite to the other is no repair: the table keeps no
    such pair (Apertium's round trips of American copy give 673 of them)."""
    return (len(garbled) == len(clean) and tuple(garbled) != tuple(clean)
            and all(_american(g.lower()) == _american(c.lower()) for g, c in zip(garbled, clean)))


class PhraseOption(NamedTuple):
    """One clean rewrite of a garbled phrase, with its scores (natural logs)."""

    clean: Phrase
    log_p_clean: float  # log p(clean | garbled)
    log_p_garbled: float  # log p(garbled | clean)
    log_lex_clean: float = 0.0  # lexical weight of clean given garbled
    log_lex_garbled: float = 0.0
    count: float = 0.0


_LOADED: dict[tuple, "PhraseTable"] = {}


def _best_first(options: list[PhraseOption]) -> list[PhraseOption]:
    return sorted(options, key=lambda o: (-o.log_p_clean, o.clean)) if len(options) > 1 else list(options)


def _parse_line(line: str) -> PhraseOption:
    _, clean, count, p_clean, p_garbled, lex_clean, lex_garbled = line.split("\t")
    return PhraseOption(tuple(clean.split(" ")), float(p_clean), float(p_garbled), float(lex_clean),
                        float(lex_garbled), float(count))


class PhraseTable:
    """Garbled phrase (lower-case word tuple) -> its clean rewrites, best first.

    A table read from a file keeps each phrase's lines as text and parses them on first lookup: a
    process reads the whole table (0.4 s for the bundled one, against 1.4 s parsing every line), and
    looks up only the phrases its input holds.
    """

    def __init__(self, entries: dict[Phrase, list[PhraseOption]], unparsed: dict[str, list[str]] | None = None):
        self._entries = {key: _best_first(options) for key, options in entries.items()}
        self._unparsed = unparsed or {}  # "garbled phrase" -> its TSV lines, not yet parsed
        lengths = [len(key) for key in self._entries] + [key.count(" ") + 1 for key in self._unparsed]
        self.max_length = max(lengths, default=0)
        self._pairs = sum(len(options) for options in self._entries.values()) + sum(
            len(lines) for lines in self._unparsed.values())

    @classmethod
    def load(cls, path: str | Path) -> PhraseTable:
        """Read a table written by ``training.phrase_table`` (gzipped or plain TSV). Tables are read-only, so
        each file is read once per process (again if it changed)."""
        path = Path(path)
        stat = path.stat()
        key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        if key not in _LOADED:
            _LOADED.clear()  # one table at a time is what a process uses
            _LOADED[key] = cls._read(path)
        return _LOADED[key]

    @classmethod
    def _read(cls, path: Path) -> PhraseTable:
        data = path.read_bytes()
        text = (gzip.decompress(data) if path.suffix == ".gz" else data).decode("utf-8")
        by_garbled: dict[str, list[str]] = {}
        for line in text.split("\n"):
            if not line.strip() or line.startswith("##"):
                continue
            tab = line.find("\t")
            if tab < 1 or line.count("\t") != 6:
                raise ValueError(f"{path}: not a phrase table line (7 tab-separated fields): {line[:80]!r}")
            by_garbled.setdefault(line[:tab], []).append(line)
        return cls({}, by_garbled)

    def _parsed(self, words: Phrase) -> list[PhraseOption]:
        options = self._entries.get(words)
        if options is None:
            lines = self._unparsed.pop(" ".join(words), None)
            if lines is None:
                return []
            options = self._entries[words] = _best_first([_parse_line(line) for line in lines])
        return options

    def items(self) -> list[tuple[Phrase, list[PhraseOption]]]:
        """Every garbled phrase with its rewrites (parses the whole table)."""
        for key in list(self._unparsed):
            self._parsed(tuple(key.split(" ")))
        return list(self._entries.items())

    def __len__(self) -> int:
        return self._pairs

    def __contains__(self, words: Phrase) -> bool:
        return bool(self._parsed(tuple(w.lower() for w in words)))

    def options(self, words: Phrase) -> list[PhraseOption]:
        """Every stored rewrite of ``words`` (any case), with all its scores; best first."""
        return self._parsed(tuple(w.lower() for w in words))

    def options_lower(self, words: Phrase) -> list[PhraseOption]:
        """``options`` of a phrase already in lower case (the lattice's hot path)."""
        return self._parsed(words)

    def lookup(self, words: Phrase) -> list[tuple[Phrase, float, float]]:
        """``(clean phrase, log p(clean|garbled), log p(garbled|clean))`` for each rewrite of ``words``
        (matched case-insensitively; the clean phrases are lower case), best first; [] when none."""
        return [(o.clean, o.log_p_clean, o.log_p_garbled) for o in self.options(words)]

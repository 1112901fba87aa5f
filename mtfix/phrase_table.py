"""A post-editing phrase table: garbled phrase -> clean phrases, learnt from machine-translation round trips.

Built by ``training/phrase_table.py`` from word-aligned (garbled, clean) sentence pairs (lower case, tokens of
:func:`mtfix.text.words` joined by spaces), each pair with::

    count  log p(clean|garbled)  log p(garbled|clean)  log lex(clean|garbled)  log lex(garbled|clean)

Only pairs whose two sides differ are stored: keeping a phrase is implicit, and its chance is what the
table's probabilities for it leave over (they are relative to the phrase's occurrences in the text, not
to its rewrites only).

The file is gzipped text in three blocks after a ``##`` header (:data:`FORMAT_LINE` first), separated by
empty lines: the garbled phrases (sorted, one a line), how many rewrites each has, and the rewrites,
phrase by phrase, one a line (``clean\tcount\t`` and the four logs). A process reads the blocks whole with a
few calls into C and parses a phrase's rewrites when it is looked up (0.75 s for the bundled table with the
machine busy, where grouping the lines of a one-pair-a-line TSV took 2.3 s). Such a TSV (``garbled\tclean\t...``, format 1, lines starting
with ``##`` are comments; a phrase can start with ``#``, as in ``# metoo``, but never with ``##``:
punctuation tokens are one character each) still loads, more slowly.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path
from typing import NamedTuple

import numpy as np

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


FORMAT_LINE = "## mtfix post-editing phrase table, format 2"
REWRITE_FIELDS = ("clean", "count", "log p(clean|garbled)", "log p(garbled|clean)", "log lex(clean|garbled)",
                  "log lex(garbled|clean)")


def _parse_rewrite(line: str) -> PhraseOption:
    clean, count, p_clean, p_garbled, lex_clean, lex_garbled = line.split("\t")
    return PhraseOption(tuple(clean.split(" ")), float(p_clean), float(p_garbled), float(lex_clean),
                        float(lex_garbled), float(count))


def table_bytes(entries: dict[Phrase, list[PhraseOption]]) -> bytes:
    """A table in the file format (uncompressed); the same entries give the same bytes."""
    phrases = sorted(entries)
    rewrites = [f"{' '.join(o.clean)}\t{o.count:g}\t{o.log_p_clean:.4f}\t{o.log_p_garbled:.4f}\t"
                f"{o.log_lex_clean:.4f}\t{o.log_lex_garbled:.4f}\n" for garbled in phrases for o in entries[garbled]]
    header = (f"{FORMAT_LINE}\n## blocks: garbled phrases (sorted); how many rewrites each has; the rewrites, phrase "
              f"by phrase: {', '.join(REWRITE_FIELDS)} (tab-separated)")
    return "\n\n".join([header, "\n".join(" ".join(g) for g in phrases),
                         "\n".join(str(len(entries[g])) for g in phrases), "".join(rewrites)]).encode("utf-8")


class _Blocks:
    """The phrases and rewrites of a table file as read: bytes and a few arrays, no object per phrase.

    A phrase is found through a sorted array of its hash (checked against the phrase's bytes), not a dict
    of 464,000 strings: that would add 70 MB to every process that loads the table, forked workers
    included. A phrase's rewrites are parsed on each lookup; the candidate generator caches what it asks.
    """

    def __init__(self, phrases: list[str], phrase_block: bytes, counts: np.ndarray, rewrites: bytes):
        """``phrase_block``: ``phrases`` as the file holds them, each line ending in a newline."""
        self.phrases = phrase_block
        self.phrase_starts = _line_starts(self.phrases)  # byte offsets; the last is the end
        self._index_hashes(phrases)
        self.first_line = np.concatenate(([0], np.cumsum(counts, dtype=np.int64)))  # of each phrase's rewrites
        self.line_starts = _line_starts(rewrites)
        self.rewrites = rewrites
        self.pairs = int(self.first_line[-1])
        self.max_length = max((p.count(" ") + 1 for p in phrases), default=0)

    def _index_hashes(self, phrases: list[str]) -> None:
        hashes = np.fromiter(map(hash, phrases), dtype=np.int64, count=len(phrases))
        self.by_hash = np.argsort(hashes, kind="stable")  # phrase numbers in the order of their hash
        self.hashes = hashes[self.by_hash]

    # str hashes differ between interpreters (PYTHONHASHSEED): a copy sent to another process hashes again.
    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in ("by_hash", "hashes")}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._index_hashes(self.phrases.decode("utf-8").split("\n")[:-1])

    def __len__(self) -> int:
        return len(self.first_line) - 1

    def phrase(self, number: int) -> str:
        return self.phrases[self.phrase_starts[number]:self.phrase_starts[number + 1] - 1].decode("utf-8")

    def number(self, phrase: str) -> int | None:
        """The number of ``phrase`` in the table, or None."""
        key, encoded = hash(phrase), None
        at = int(self.hashes.searchsorted(key))
        while at < len(self.hashes) and self.hashes[at] == key:  # another phrase may share the hash
            number = int(self.by_hash[at])
            encoded = encoded or phrase.encode("utf-8")
            if self.phrases[self.phrase_starts[number]:self.phrase_starts[number + 1] - 1] == encoded:
                return number
            at += 1
        return None

    def rewrites_of(self, number: int) -> list[PhraseOption]:
        begin, end = self.line_starts[self.first_line[number]], self.line_starts[self.first_line[number + 1]] - 1
        return [_parse_rewrite(line) for line in self.rewrites[begin:end].decode("utf-8").split("\n")]

    def repeated_phrase(self) -> str | None:
        """A phrase that the table holds twice (or the empty phrase), if any."""
        if len(self) and (np.diff(self.phrase_starts) == 1).any():
            return ""
        for at in np.flatnonzero(self.hashes[1:] == self.hashes[:-1]):
            first, second = self.phrase(int(self.by_hash[at])), self.phrase(int(self.by_hash[at + 1]))
            if first == second:
                return first
        return None


def _line_starts(block: bytes) -> np.ndarray:
    """Byte offsets of the lines of ``block`` (each ending in a newline), then of its end."""
    return np.concatenate(([0], np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == ord("\n")) + 1))


def _read_blocks(path: Path, data: bytes) -> _Blocks:
    def malformed(why: str) -> ValueError:
        return ValueError(f"{path}: not a phrase table ({FORMAT_LINE[3:]}): {why}")

    parts = data.split(b"\n\n")
    if len(parts) != 4:
        raise malformed(f"{len(parts) - 1} blocks, not 3")
    _, phrase_block, count_block, rewrites = parts
    phrases = phrase_block.decode("utf-8").split("\n") if phrase_block else []
    try:
        counts = np.array(count_block.split(b"\n") if count_block else [], dtype=np.bytes_).astype(np.int64)
    except ValueError:
        raise malformed("a rewrite count is not a whole number") from None
    rewrites.decode("utf-8")  # fails here, not on a lookup
    lines = rewrites.count(b"\n")
    if len(counts) != len(phrases) or (counts < 1).any() or int(counts.sum()) != lines:
        raise malformed(f"{len(phrases)} phrases, {len(counts)} rewrite counts adding up to {int(counts.sum())}, "
                        f"{lines} rewrites")
    if rewrites.count(b"\t") != 5 * lines or (rewrites and not rewrites.endswith(b"\n")) or b"\n\t" in b"\n" + rewrites:
        raise malformed("a rewrite line without its 6 tab-separated fields")
    blocks = _Blocks(phrases, phrase_block + b"\n" if phrase_block else b"", counts, rewrites)
    repeated = blocks.repeated_phrase()
    if repeated is not None:
        raise malformed(f"an empty or repeated garbled phrase: {repeated!r}")
    return blocks


def _read_pair_lines(path: Path, text: str) -> _Blocks:
    """Format 1: one pair a line, garbled phrase first."""
    by_garbled: dict[str, list[str]] = {}
    for line in text.split("\n"):
        if not line.strip() or line.startswith("##"):
            continue
        tab = line.find("\t")
        if tab < 1 or line.count("\t") != 6:
            raise ValueError(f"{path}: not a phrase table line (7 tab-separated fields): {line[:80]!r}")
        by_garbled.setdefault(line[:tab], []).append(line[tab + 1:] + "\n")
    phrases = sorted(by_garbled)
    return _Blocks(phrases, "".join(p + "\n" for p in phrases).encode("utf-8"),
                   np.array([len(by_garbled[p]) for p in phrases], dtype=np.int64),
                   "".join(line for p in phrases for line in by_garbled[p]).encode("utf-8"))


class PhraseTable:
    """Garbled phrase (lower-case word tuple) -> its clean rewrites, best first."""

    def __init__(self, entries: dict[Phrase, list[PhraseOption]], blocks: _Blocks | None = None):
        self._entries = {key: _best_first(options) for key, options in entries.items()}
        self._blocks = blocks  # a table read from a file
        self.max_length = max([len(key) for key in self._entries] + [blocks.max_length if blocks else 0])
        self._pairs = sum(len(options) for options in self._entries.values()) + (blocks.pairs if blocks else 0)

    @classmethod
    def load(cls, path: str | Path) -> PhraseTable:
        """Read a table written by ``training.phrase_table`` (gzipped or not). Tables are read-only, so
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
        data = gzip.decompress(data) if path.suffix == ".gz" else data
        if data.startswith(FORMAT_LINE.encode() + b"\n"):
            return cls({}, _read_blocks(path, data))
        return cls({}, _read_pair_lines(path, data.decode("utf-8")))

    def _parsed(self, words: Phrase) -> list[PhraseOption]:
        options = self._entries.get(words)
        if options is not None or self._blocks is None:
            return options or []
        number = self._blocks.number(" ".join(words))
        return [] if number is None else _best_first(self._blocks.rewrites_of(number))

    def items(self) -> list[tuple[Phrase, list[PhraseOption]]]:
        """Every garbled phrase with its rewrites (parses the whole table)."""
        blocks = self._blocks
        parsed = [] if blocks is None else [(tuple(blocks.phrase(n).split(" ")), _best_first(blocks.rewrites_of(n)))
                                            for n in range(len(blocks))]
        return list(self._entries.items()) + parsed

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

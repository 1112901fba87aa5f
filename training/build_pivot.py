"""Compile English paraphrases by bilingual pivoting over Apertium's dictionaries (``mtfix/data/pivot.npz``).

Spinners swap words for "synonyms" from sources we do not have; two English words that translate to
the same foreign word are often exactly such a pair (PPDB's bilingual pivoting: Bannard and
Callison-Burch 2005). Apertium's bilingual dictionaries give the translations:

    p(e2 | e1) = sum_f p(f | e1) p(e2 | f)

with ``p(f | e1)`` uniform over the translations of ``e1`` and ``p(e2 | f)`` uniform over those of
``f``. A language's translations are the entries of both its dictionaries, English-to-X and
X-to-English: an entry restricted to one direction only tells the translator which word to write,
it is a translation all the same (on ood_dev the pivot alone then offers the original of 35.5% of
the spun content words instead of 29.6% with each conditional read from its own direction, at 0.3
more candidates per word). ``e1`` and ``e2`` have the same part of speech (noun, verb, adjective or
adverb; Apertium tags ``n``, ``vblex``, ``adj``, ``adv``); ``f`` is a foreign lemma with its own tag.
The four languages are averaged over those that translate ``e1``; then ``e1`` itself is dropped and
each list pruned to ``--max-paraphrases`` entries of at least ``--min-prob`` and renormalised.
Apertium holds no translation weights (every arc weighs 0), so nothing better than uniform is at hand.

Needs, at build time only: the Debian packages apertium-eng-spa, apertium-eng-cat, apertium-eo-en,
apertium-hbs-eng and ``lt-print`` (package lttoolbox-dev); the package versions go into the file's
metadata. apertium-en-gl is never read: English-Galician is another issue's held-out test pair.

    apt-get install -y --no-install-recommends lttoolbox-dev     # lt-print
    python -m training.build_pivot
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mtfix.morph import ADJ, ADV, NOUN, VERB
from mtfix.pivot import DEFAULT_PATH, POS_BITS
from training.compile_thesaurus import is_entry

APERTIUM_DIR = Path("/usr/share/apertium")


@dataclass(frozen=True)
class Pair:
    """One Apertium language pair: its package and the names of its two bilingual dictionaries."""

    language: str
    package: str
    from_english: str  # <from_english>.autobil.bin translates English to the language
    to_english: str


# English-Galician (apertium-en-gl) is left out on purpose: it is the held-out MT test pair.
PAIRS = (
    Pair("spa", "apertium-eng-spa", "eng-spa", "spa-eng"),
    Pair("cat", "apertium-eng-cat", "eng-cat", "cat-eng"),
    Pair("epo", "apertium-eo-en", "en-eo", "eo-en"),
    Pair("hbs", "apertium-hbs-eng", "eng-hbs", "hbs-eng"),
)
TOOL_PACKAGES = ("lttoolbox", "lttoolbox-dev")

# Apertium's first tag on the English side -> our part of speech (see mtfix.morph).
APERTIUM_POS = {"n": NOUN, "vblex": VERB, "adj": ADJ, "adv": ADV}
_FORM_RE = re.compile(r"^([^<]*)((?:<[^<>]+>)*)$")


# ---------------------------------------------------------------------------------------------------
# Reading the compiled dictionaries

def transducer_paths(att: str) -> Iterator[tuple[str, str]]:
    """(input, output) strings of every path through the largest section of an ``lt-print`` dump.

    A bilingual dictionary compiles to one big section of entries plus small sections of regular
    expressions (numbers, Roman numerals); the big one also holds patterns for URLs, acronyms and
    numbers, which spell out millions of paths. Neither names nor numbers have paraphrases, so
    digit and upper-case input arcs are never followed, nor arcs into loops (``[a-z]+`` patterns)."""
    sections: list[list[str]] = [[]]
    for line in att.split("\n"):
        if line == "--":
            sections.append([])
        elif line:
            sections[-1].append(line)
    arcs: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    finals: set[int] = set()
    for line in max(sections, key=len):
        fields = line.split("\t")
        if len(fields) <= 3:
            finals.add(int(fields[0]))
            continue
        symbol_in, symbol_out = ("" if s == "ε" else s for s in fields[2:4])
        if not (symbol_in.isdigit() or symbol_in.isupper()):
            arcs[int(fields[0])].append((int(fields[1]), symbol_in, symbol_out))
    looped = states_in_loops(arcs)
    stack = [(0, "", "")]
    while stack:
        state, read, written = stack.pop()
        if state in finals:
            yield read, written
        for target, symbol_in, symbol_out in arcs.get(state, ()):
            if target not in looped:
                stack.append((target, read + symbol_in, written + symbol_out))


def states_in_loops(arcs: dict[int, list[tuple[int, str, str]]]) -> set[int]:
    """States on a cycle or between cycles: what is left after repeatedly removing states that no
    remaining arc enters and states that no remaining arc leaves (both ends of a loop-free graph)."""
    successors = {state: {target for target, _, _ in out} for state, out in arcs.items()}
    predecessors: dict[int, set[int]] = defaultdict(set)
    for state, targets in successors.items():
        for target in targets:
            predecessors[target].add(state)
    alive = set(successors) | set(predecessors)
    queue = [s for s in alive if not predecessors.get(s) or not successors.get(s)]
    while queue:
        state = queue.pop()
        if state not in alive:
            continue
        alive.discard(state)
        for target in successors.get(state, ()):
            predecessors[target].discard(state)
            if target in alive and not predecessors[target]:
                queue.append(target)
        for source in predecessors.get(state, ()):
            successors[source].discard(state)
            if source in alive and not successors[source]:
                queue.append(source)
    return alive


def split_form(form: str) -> tuple[str, str] | None:
    """("take out", "vblex") of an Apertium form "take# out<vblex><...>": lemma without the mark ``#``
    that separates an inflecting head from its invariable tail, and the first tag (part of speech)."""
    match = _FORM_RE.match(form)
    if match is None or not match.group(2):
        return None
    lemma = match.group(1).replace("#", "")
    return lemma, match.group(2)[1:].split(">", 1)[0]


def dictionary_entries(path: Path, english_side: int, max_words: int) -> list[tuple[str, int, str]]:
    """(English lemma, part-of-speech bit, "foreign lemma<tag>") of every content-word entry of a
    compiled bilingual dictionary; ``english_side`` is 0 when English is the input side, 1 if output."""
    att = subprocess.run(["lt-print", str(path)], capture_output=True, text=True, check=True).stdout
    entries = set()
    for pair in transducer_paths(att):
        english, foreign = split_form(pair[english_side]), split_form(pair[1 - english_side])
        if english is None or foreign is None or not foreign[0].strip():
            continue
        pos = APERTIUM_POS.get(english[1])
        # English: lower-case words tokenised as the project does (no names, acronyms, joined lemmas).
        if pos is not None and is_entry(english[0], max_words) and "+" not in foreign[0]:
            entries.add((english[0], pos, f"{foreign[0]}<{foreign[1]}>"))
    return sorted(entries)


def package_version(package: str) -> str:
    result = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else "not installed"


# ---------------------------------------------------------------------------------------------------
# Pivoting

Table = dict[tuple[str, int], dict[str, float]]  # (lemma, part of speech) -> paraphrase -> probability


def pivot(translations: Iterable[tuple[str, int, str]]) -> Table:
    """p(e2 | e1) = sum_f p(f | e1) p(e2 | f) for one language, same part of speech, ``e1`` included.

    ``translations`` holds (English lemma, part of speech, foreign lemma) triples; each conditional is
    uniform over the triples it ranges over."""
    foreigns: dict[tuple[str, int], set[str]] = defaultdict(set)
    englishes: dict[str, set[tuple[str, int]]] = defaultdict(set)
    for english, pos, foreign in translations:
        foreigns[english, pos].add(foreign)
        englishes[foreign].add((english, pos))
    table: Table = {}
    # Sums run in sorted order, so that ties (frequent: p = 1/2 + 1/4 either way) come out identical
    # from every build, whatever the string hashing.
    for (english, pos), translated in sorted(foreigns.items()):
        row: dict[str, float] = defaultdict(float)
        for foreign in sorted(translated):
            for other, other_pos in sorted(englishes[foreign]):
                if other_pos == pos:
                    row[other] += 1.0 / len(translated) / len(englishes[foreign])
        table[english, pos] = dict(row)
    return table


def combine(tables: list[Table], max_paraphrases: int, min_prob: float) -> Table:
    """The languages' tables averaged over those holding each word, the word itself dropped, each list
    pruned (most probable first, ties alphabetically) and renormalised to a distribution."""
    result: Table = {}
    for key in sorted(set().union(*tables)):
        rows = [table[key] for table in tables if key in table]
        mixed: dict[str, float] = defaultdict(float)
        for row in rows:
            for other, prob in row.items():
                if other != key[0]:
                    mixed[other] += prob / len(rows)
        total = sum(mixed.values())
        if not total:
            continue
        ranked = sorted(((other, prob / total) for other, prob in mixed.items()), key=lambda kv: (-kv[1], kv[0]))
        kept = [(other, prob) for other, prob in ranked[:max_paraphrases] if prob >= min_prob]
        if kept:
            kept_total = sum(prob for _, prob in kept)
            result[key] = {other: prob / kept_total for other, prob in kept}
    return result


# ---------------------------------------------------------------------------------------------------
# Writing

def write_data_file(path: Path, table: Table, meta: dict) -> dict[str, int]:
    """The table in CSR layout over a sorted vocabulary (see :mod:`mtfix.pivot` for the arrays)."""
    vocab = sorted({lemma for lemma, _ in table} | {other for row in table.values() for other in row})
    index = {word: i for i, word in enumerate(vocab)}
    heads = sorted(table, key=lambda key: (index[key[0]], key[1]))
    offsets = np.zeros(len(heads) + 1, dtype=np.int32)
    ids: list[int] = []
    probs: list[float] = []
    for row, key in enumerate(heads):
        ranked = sorted(table[key].items(), key=lambda kv: (-kv[1], kv[0]))
        ids.extend(index[other] for other, _ in ranked)
        probs.extend(prob for _, prob in ranked)
        offsets[row + 1] = len(ids)
    arrays = {
        "vocab": np.frombuffer("\n".join(vocab).encode("utf-8"), dtype=np.uint8),
        "head_ids": np.array([index[lemma] for lemma, _ in heads], dtype=np.int32),
        "head_pos": np.array([pos for _, pos in heads], dtype=np.uint8),
        "offsets": offsets,
        "para_ids": np.array(ids, dtype=np.int32),
        "para_probs": np.array(probs, dtype=np.float32),
        "meta": np.frombuffer(json.dumps(meta, sort_keys=True).encode("utf-8"), dtype=np.uint8),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)
    return {"vocab": len(vocab), "headwords": len(heads), "entries": len(ids), "bytes": path.stat().st_size}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--apertium-dir", type=Path, default=APERTIUM_DIR)
    parser.add_argument("--max-words", type=int, default=4, help="words in an English lemma")
    parser.add_argument("--max-paraphrases", type=int, default=30, help="kept per (lemma, part of speech)")
    parser.add_argument("--min-prob", type=float, default=0.005, help="after dropping the lemma itself")
    args = parser.parse_args(argv)

    if shutil.which("lt-print") is None:
        parser.error("lt-print not found: apt-get install -y --no-install-recommends lttoolbox-dev")
    started = time.perf_counter()
    tables = []
    for pair in PAIRS:
        folder = args.apertium_dir / pair.package
        forward = dictionary_entries(folder / f"{pair.from_english}.autobil.bin", 0, args.max_words)
        backward = dictionary_entries(folder / f"{pair.to_english}.autobil.bin", 1, args.max_words)
        tables.append(pivot(set(forward) | set(backward)))
        print(f"{pair.language}: {len(forward)} English-to-X and {len(backward)} X-to-English entries, "
              f"{len(set(forward) | set(backward))} together, at {time.perf_counter() - started:.1f}s")
    table = combine(tables, args.max_paraphrases, args.min_prob)
    meta = {
        "packages": {name: package_version(name) for name in [p.package for p in PAIRS] + list(TOOL_PACKAGES)},
        "dictionaries": [f"{p.package}/{name}.autobil.bin" for p in PAIRS for name in (p.from_english, p.to_english)],
        "max_words": args.max_words,
        "max_paraphrases": args.max_paraphrases,
        "min_prob": args.min_prob,
        "pos_bits": POS_BITS,
    }
    stats = write_data_file(args.out, table, meta)
    print(f"wrote {args.out}: {stats} in {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()

"""Build the post-editing phrase table (:mod:`mtfix.phrase_table`) from the Apertium round trips.

    python -m training.phrase_table --roundtrip work_data/roundtrip --split train \\
        --out work_data/phrase_table.tsv.gz [--pairs en-es en-ca en-eo en-hbs] [--max-pairs N] \\
        [--min-count 5] [--coverage test] [--show 20]
    python -m training.phrase_table --prune BUILT_TABLE --min-count 3 [--words-only] --out TABLE

Steps:

1. Read the (garbled, clean) pairs of the training pairs' split (``--max-pairs``: the first N of each
   pair's split; shards are a random sample). The held-out pair (``en-gl``) is refused: it is kept out
   of all training and tuning.
2. Word-align them with :mod:`training.align` (fast_align-style IBM Model 2, both directions,
   grow-diag-final-and).
3. Extract every phrase pair consistent with the alignment (Koehn et al. 2003), up to ``max_length``
   words a side, target phrases extended over unaligned clean words (which is how inserted function
   words come in: "said he" -> "said that he"); garbled phrases may hold unaligned words (dropped
   ones: "the Tuesday" -> "Tuesday"). A garbled span that yields k clean phrases gives each 1/k count.
   Pairs whose sides are equal ignoring case are skipped: keeping a phrase is implicit.
4. Drop pairs that change a number or a name: every token with a digit, and every capitalised token
   not at the start of its sentence, on either side must appear (same case) on the other side.
5. Score: ``p(clean|garbled) = count / occurrences of the garbled phrase in the garbled text`` and
   ``p(garbled|clean) = count / occurrences of the clean phrase in the clean text``, so that what a
   garbled phrase's rewrites leave over is the chance it stays; lexical weights both ways (Koehn's,
   with each word taking its best-scoring word on the other side, or the empty word, since the
   extraction's own links are not kept).
6. Prune: ``count >= min_count``, no pair whose sides differ only in British and American spelling
   (:func:`mtfix.phrase_table.spelling_variant`: a house style, not damage), and the ``max_translations`` most frequent rewrites of a garbled
   phrase; write a gzipped TSV (deterministic bytes).

``min_count`` 5 was chosen on the validation split of the training pairs with the table of their 320k
train pairs: the share of diff spans covered exactly is 52.7% with 2 (1.02 M pairs, 18.0 MB), 51.3%
with 3 (368k, 6.7 MB), 50.4% with 4 (232k, 4.3 MB), 49.6% with 5 (163k, 3.1 MB), 46.7% with 10 (68k,
1.3 MB). With 640k train pairs (160,000 a pair) the bundled table is min count 3 (+0.35 BLEU on garbled
text against 5), pruned to what the lattice uses (``--words-only``: 612,179 pairs, 11.2 MB). ``--prune TABLE``
writes a built table pruned to a higher ``--min-count`` (:func:`prune_table`), the same table a build with it
gives, without aligning again.

``--coverage SPLIT`` then reports, on that split of each training pair and of the held-out pair, the
share of word-diff spans (difflib over lower-case tokens) whose exact clean phrase the table offers for
the exact garbled phrase (see :func:`coverage`).
"""

from __future__ import annotations

import argparse
import difflib
import gzip
import io
import math
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mtfix.phrase_table import PhraseOption, PhraseTable, spelling_variant, table_bytes
from mtfix.text import is_word
from training.align import AlignArgs, Alignment, align, tokens
from training.roundtrip import HELD_OUT_PAIR, PAIRS, TRAINING_PAIRS, iter_pairs

NULL = "<null>"
Phrase = tuple[str, ...]


@dataclass
class TableArgs:
    max_length: int = 4
    min_count: float = 5.0  # see the module docstring
    max_translations: int = 10
    align: AlignArgs = field(default_factory=AlignArgs)


# ---------------------------------------------------------------------------------------------------
# Data


def read_pairs(roundtrip: Path, split: str, pairs: Sequence[str] | None = None,
               max_pairs: int | None = None) -> list[dict]:
    """The records of ``split`` of the training pairs (default all of them), the first ``max_pairs`` of
    each. Refuses the held-out pair: nothing trained or tuned may see it."""
    pairs = list(pairs or TRAINING_PAIRS)
    if HELD_OUT_PAIR in pairs:
        raise ValueError(f"{HELD_OUT_PAIR} is the held-out pair: it is kept out of all training and tuning")
    unknown = [pair for pair in pairs if pair not in PAIRS]
    if unknown:
        raise ValueError(f"unknown pairs {unknown}; training pairs: {list(TRAINING_PAIRS)}")
    records = []
    for pair in pairs:
        for number, record in enumerate(iter_pairs(roundtrip, pair, split)):
            if max_pairs is not None and number >= max_pairs:
                break
            records.append(record)
    return records


# ---------------------------------------------------------------------------------------------------
# Extraction


def protected_positions(words: Sequence[str]) -> list[int]:
    """Indices of the tokens a rewrite must keep: numbers (any digit) and capitalised words that do not
    open the sentence or follow sentence punctuation or an opening quote (where capitals say nothing)."""
    positions = []
    for k, word in enumerate(words):
        if any(ch.isdigit() for ch in word):
            positions.append(k)
        elif word[:1].isupper() and k > 0 and words[k - 1] not in '.!?:;"“‘\'(-–—':
            positions.append(k)
    return positions


def keeps_protected(source: Sequence[str], target: Sequence[str], source_protected: Iterable[int],
                    target_protected: Iterable[int], source_start: int, target_start: int) -> bool:
    """Whether every protected token of each side's span appears, same case, on the other side."""
    for own, other, protected, start in ((source, target, source_protected, source_start),
                                         (target, source, target_protected, target_start)):
        needed = Counter(own[k - start] for k in protected)
        if needed and needed - Counter(other):
            return False
    return True


def extract(source: Sequence[str], target: Sequence[str], alignment: Alignment,
            max_length: int = 4) -> Iterator[tuple[int, int, int, int]]:
    """Koehn's phrase extraction: ``(j1, j2, i1, i2)`` (inclusive) for each garbled span ``source[j1:j2+1]``
    and clean span ``target[i1:i2+1]`` that no alignment link leaves, up to ``max_length`` tokens each,
    with at least one link, clean spans extended over unaligned clean words at both ends."""
    n, m = len(source), len(target)
    links_of_source: list[list[int]] = [[] for _ in range(n)]
    min_source = [n] * m  # per clean token, its first and last aligned garbled token
    max_source = [-1] * m
    for j, i in alignment:
        links_of_source[j].append(i)
        min_source[i] = min(min_source[i], j)
        max_source[i] = max(max_source[i], j)
    for j1 in range(n):
        i_min, i_max = m, -1
        for j2 in range(j1, min(n, j1 + max_length)):
            for i in links_of_source[j2]:
                i_min, i_max = min(i_min, i), max(i_max, i)
            if i_max < 0:
                continue  # nothing aligned yet
            if i_max - i_min >= max_length:
                break  # only grows with j2
            if min(min_source[i_min:i_max + 1]) < j1 or max(max_source[i_min:i_max + 1]) > j2:
                continue  # a clean word in the span is linked outside the garbled span
            i1 = i_min
            while True:
                i2 = i_max
                while True:
                    yield j1, j2, i1, i2
                    i2 += 1
                    if i2 >= m or max_source[i2] >= 0 or i2 - i1 >= max_length:
                        break
                i1 -= 1
                if i1 < 0 or max_source[i1] >= 0 or i_max - i1 >= max_length:
                    break


def count_pairs(sources: Sequence[Sequence[str]], targets: Sequence[Sequence[str]],
                alignments: Sequence[Alignment], max_length: int = 4) -> Counter:
    """Fractional counts of the extracted phrase pairs whose sides differ and that keep numbers and
    names, keyed ``"garbled phrase\tclean phrase"`` in lower case (one string a key takes a third of the
    memory of a tuple of word tuples: millions of distinct pairs come out of a few 100k sentences)."""
    counts: Counter = Counter()
    for source, target, alignment in zip(sources, targets, alignments):
        lower_source = [w.lower() for w in source]
        lower_target = [w.lower() for w in target]
        source_protected = protected_positions(source)
        target_protected = protected_positions(target)
        spans: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
        for j1, j2, i1, i2 in extract(source, target, alignment, max_length):
            spans[j1, j2].append((i1, i2))
        for (j1, j2), clean_spans in spans.items():
            garbled = " ".join(lower_source[j1:j2 + 1])
            share = 1 / len(clean_spans)
            for i1, i2 in clean_spans:
                clean = " ".join(lower_target[i1:i2 + 1])
                if clean == garbled:
                    continue
                if not keeps_protected(source[j1:j2 + 1], target[i1:i2 + 1],
                                       [k for k in source_protected if j1 <= k <= j2],
                                       [k for k in target_protected if i1 <= k <= i2], j1, i1):
                    continue
                counts[f"{garbled}\t{clean}"] += share
    return counts


def count_phrases(sentences: Iterable[Sequence[str]], wanted: set[Phrase], max_length: int) -> Counter:
    """How often each wanted phrase occurs (lower case) in the sentences."""
    counts: Counter = Counter()
    for sentence in sentences:
        lower = [w.lower() for w in sentence]
        for start in range(len(lower)):
            for end in range(start + 1, min(len(lower), start + max_length) + 1):
                phrase = tuple(lower[start:end])
                if phrase in wanted:
                    counts[phrase] += 1
    return counts


def word_translation(sources: Sequence[Sequence[str]], targets: Sequence[Sequence[str]],
                     alignments: Sequence[Alignment]) -> tuple[dict, dict]:
    """w(clean word | garbled word) and w(garbled word | clean word) from the links (lower case; an
    unaligned word is linked to NULL), as ``{given: {word: probability}}``."""
    links: Counter = Counter()
    for source, target, alignment in zip(sources, targets, alignments):
        for j, i in alignment:
            links[source[j].lower(), target[i].lower()] += 1
        aligned_source = {j for j, _ in alignment}
        aligned_target = {i for _, i in alignment}
        links.update((source[j].lower(), NULL) for j in range(len(source)) if j not in aligned_source)
        links.update((NULL, target[i].lower()) for i in range(len(target)) if i not in aligned_target)
    clean_given: dict[str, dict[str, float]] = defaultdict(dict)
    garbled_given: dict[str, dict[str, float]] = defaultdict(dict)
    source_totals: Counter = Counter()
    target_totals: Counter = Counter()
    for (g, c), n in links.items():
        source_totals[g] += n
        target_totals[c] += n
    for (g, c), n in links.items():
        clean_given[g][c] = n / source_totals[g]
        garbled_given[c][g] = n / target_totals[c]
    return clean_given, garbled_given


def lexical_weight(words: Phrase, given: Phrase, table: dict) -> float:
    """log of prod over ``words`` of the best w(word | a word of ``given`` or NULL)."""
    total = 0.0
    for word in words:
        best = max((table.get(g, {}).get(word, 0.0) for g in given + (NULL,)), default=0.0)
        total += math.log(max(best, 1e-9))
    return total


# ---------------------------------------------------------------------------------------------------
# Table


@dataclass
class BuildStats:
    sentence_pairs: int = 0
    extracted: int = 0  # distinct differing pairs before pruning
    phrase_pairs: int = 0
    garbled_phrases: int = 0
    align_seconds: float = 0.0
    extract_seconds: float = 0.0
    seconds: float = 0.0


def build_table(sources: Sequence[Sequence[str]], targets: Sequence[Sequence[str]], args: TableArgs | None = None,
                log=None) -> tuple[dict[Phrase, list[PhraseOption]], BuildStats]:
    """The pruned, scored table of tokenised (garbled, clean) pairs: garbled phrase -> options."""
    args = args or TableArgs()
    log = log or (lambda line: None)
    stats, started = BuildStats(sentence_pairs=len(sources)), time.perf_counter()
    alignments = align(sources, targets, args.align, log)
    stats.align_seconds = time.perf_counter() - started
    pair_counts = count_pairs(sources, targets, alignments, args.max_length)
    stats.extracted = len(pair_counts)
    by_garbled: dict[Phrase, list[tuple[Phrase, float]]] = defaultdict(list)
    for key, count in pair_counts.items():
        if count >= args.min_count - 1e-9:  # three thirds are 0.999...
            garbled, clean = (tuple(side.split(" ")) for side in key.split("\t"))
            if not spelling_variant(garbled, clean):
                by_garbled[garbled].append((clean, count))
    del pair_counts
    for garbled, options in by_garbled.items():
        options.sort(key=lambda option: (-option[1], option[0]))
        del options[args.max_translations:]
    garbled_counts = count_phrases(sources, set(by_garbled), args.max_length)
    clean_counts = count_phrases(targets, {c for options in by_garbled.values() for c, _ in options}, args.max_length)
    clean_given, garbled_given = word_translation(sources, targets, alignments)
    stats.extract_seconds = time.perf_counter() - started - stats.align_seconds
    entries: dict[Phrase, list[PhraseOption]] = {}
    for garbled, options in sorted(by_garbled.items()):
        entries[garbled] = [PhraseOption(
            clean,
            math.log(min(count / max(garbled_counts[garbled], 1), 1.0)),
            math.log(min(count / max(clean_counts[clean], 1), 1.0)),
            lexical_weight(clean, garbled, clean_given),
            lexical_weight(garbled, clean, garbled_given),
            count,
        ) for clean, count in options]
    stats.phrase_pairs = sum(len(options) for options in entries.values())
    stats.garbled_phrases = len(entries)
    stats.seconds = time.perf_counter() - started
    log(f"phrase table: {stats.extracted} differing pairs extracted, {stats.phrase_pairs} kept for "
        f"{stats.garbled_phrases} garbled phrases, {stats.seconds:.1f}s")
    return entries, stats


def prune_table(entries: dict[Phrase, list[PhraseOption]], min_count: float,
                max_translations: int, words_only: bool = False) -> dict[Phrase, list[PhraseOption]]:
    """A table pruned further: what ``build_table`` keeps with a higher ``min_count`` (its probabilities are
    relative to the phrases' occurrences, so pruning leaves them as they are; the most frequent rewrites of a
    phrase are kept, and those of a higher count are among them).

    ``words_only``: only what the lattice can use, so that it repairs exactly as with the whole table: the
    lattice looks up spans of words (its spans stop at punctuation) and offers rewrites into words, so pairs
    with punctuation on either side go (a fifth of a min-count-3 table) before the ``max_translations`` cut."""
    pruned = {}
    for garbled, options in entries.items():
        if words_only and not all(map(is_word, garbled)):
            continue
        kept = sorted((o for o in options if o.count >= min_count - 1e-9 and (not words_only or all(map(is_word, o.clean)))),
                      key=lambda o: (-o.count, o.clean))
        if kept:
            pruned[garbled] = kept[:max_translations]
    return pruned


def write_table(entries: dict[Phrase, list[PhraseOption]], path: Path) -> None:
    """The table file (:mod:`mtfix.phrase_table`), gzipped unless ``path`` does not end in .gz; the same entries
    give the same bytes."""
    data = table_bytes(entries)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".gz":
        buffer = io.BytesIO()
        with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, compresslevel=9) as handle:
            handle.write(data)
        data = buffer.getvalue()
    path.write_bytes(data)


# ---------------------------------------------------------------------------------------------------
# Coverage


def diff_spans(source: Sequence[str], target: Sequence[str]) -> list[tuple[str, Phrase, Phrase, Phrase, Phrase]]:
    """The word-diff spans of a pair (difflib over lower-case tokens): ``(kind, garbled, clean, garbled in
    context, clean in context)``, the context forms widened by one equal token on the left (or the right
    at the sentence start), which is how a table can offer a pure insertion or deletion."""
    a, b = [w.lower() for w in source], [w.lower() for w in target]
    spans = []
    for kind, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if kind == "equal":
            continue
        if i1 > 0 and j1 > 0:
            context = (tuple(a[i1 - 1:i2]), tuple(b[j1 - 1:j2]))
        elif i2 < len(a) and j2 < len(b):
            context = (tuple(a[i1:i2 + 1]), tuple(b[j1:j2 + 1]))
        else:
            context = (tuple(a[i1:i2]), tuple(b[j1:j2]))
        spans.append((kind, tuple(a[i1:i2]), tuple(b[j1:j2]), *context))
    return spans


def coverage(table: PhraseTable, records: Iterable[dict]) -> dict:
    """Of the word-diff spans between source and target, the share whose exact target phrase the table
    offers for the exact source phrase (``exact``; an insertion has no source phrase and never counts),
    the same with insertions and deletions taken with one token of context (``in_context``), the share
    of spans short enough for the table at all (``short``: both sides within ``max_length``), and the
    exact share per kind (replace, delete, insert)."""
    spans = covered = covered_context = short = 0
    kinds: Counter = Counter()
    kinds_covered: Counter = Counter()
    for record in records:
        for kind, garbled, clean, garbled_context, clean_context in diff_spans(tokens(record["source"]),
                                                                                tokens(record["target"])):
            spans += 1
            kinds[kind] += 1
            short += 0 < len(garbled) <= table.max_length and len(clean) <= table.max_length
            hit = bool(garbled) and any(option == clean for option, _, _ in table.lookup(garbled))
            covered += hit
            kinds_covered[kind] += hit
            if kind != "replace":
                hit = any(option == clean_context for option, _, _ in table.lookup(garbled_context))
            covered_context += hit
    share = lambda n, d: round(n / d, 4) if d else 0.0  # noqa: E731
    return {"spans": spans, "exact": share(covered, spans), "in_context": share(covered_context, spans),
            "short": share(short, spans),
            **{f"exact_{kind}": share(kinds_covered[kind], kinds[kind]) for kind in ("replace", "delete", "insert")},
            **{f"spans_{kind}": kinds[kind] for kind in ("replace", "delete", "insert")}}


# ---------------------------------------------------------------------------------------------------
# Command line


def main(argv: list[str] | None = None) -> BuildStats:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--roundtrip", type=Path, default=Path("work_data/roundtrip"))
    parser.add_argument("--split", default="train", choices=["train", "validation"])
    parser.add_argument("--out", type=Path, default=Path("work_data/phrase_table.tsv.gz"))
    parser.add_argument("--pairs", nargs="+", default=list(TRAINING_PAIRS), choices=list(PAIRS))
    parser.add_argument("--max-pairs", type=int, default=None, help="sentence pairs per language pair")
    parser.add_argument("--max-length", type=int, default=TableArgs.max_length)
    parser.add_argument("--min-count", type=float, default=TableArgs.min_count)
    parser.add_argument("--max-translations", type=int, default=TableArgs.max_translations)
    parser.add_argument("--iterations", type=int, default=AlignArgs.iterations)
    parser.add_argument("--coverage", default=None, choices=["test", "validation"],
                        help="report coverage on this split of each training pair and of the held-out pair")
    parser.add_argument("--show", type=int, default=20, help="print this many high-count entries")
    parser.add_argument("--prune", type=Path, default=None, metavar="TABLE",
                        help="no build: write TABLE (built with a lower --min-count) pruned to --min-count and "
                             "--max-translations, the table a build with them gives")
    parser.add_argument("--words-only", action="store_true",
                        help="with --prune: keep only pairs of words, all the lattice uses (the table to bundle)")
    ns = parser.parse_args(argv)
    if ns.prune:
        entries = prune_table(dict(PhraseTable.load(ns.prune).items()), ns.min_count, ns.max_translations,
                              words_only=ns.words_only)
        write_table(entries, ns.out)
        stats = BuildStats(phrase_pairs=sum(map(len, entries.values())), garbled_phrases=len(entries))
        print(f"{stats.phrase_pairs} phrase pairs ({stats.garbled_phrases} garbled phrases) of {ns.prune} -> {ns.out} "
              f"({ns.out.stat().st_size / 1e6:.2f} MB)")
        return stats
    if HELD_OUT_PAIR in ns.pairs:
        parser.error(f"{HELD_OUT_PAIR} is the held-out pair: it is kept out of all training and tuning")
    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    started = time.perf_counter()
    records = read_pairs(ns.roundtrip, ns.split, ns.pairs, ns.max_pairs)
    sources = [tokens(r["source"]) for r in records]
    targets = [tokens(r["target"]) for r in records]
    log(f"read {len(records)} pairs of {' '.join(ns.pairs)} {ns.split}, {time.perf_counter() - started:.1f}s")
    args = TableArgs(ns.max_length, ns.min_count, ns.max_translations, AlignArgs(iterations=ns.iterations))
    entries, stats = build_table(sources, targets, args, log)
    write_table(entries, ns.out)
    per_10k = stats.align_seconds / max(len(records), 1) * 1e4
    print(f"{stats.phrase_pairs} phrase pairs ({stats.garbled_phrases} garbled phrases; {stats.extracted} "
          f"differing pairs extracted) from {len(records)} sentence pairs -> {ns.out} "
          f"({ns.out.stat().st_size / 1e6:.2f} MB); align {stats.align_seconds:.0f}s ({per_10k:.1f}s per 10k "
          f"pairs), extract+score {stats.extract_seconds:.0f}s, total {time.perf_counter() - started:.0f}s")
    top = sorted(((o.count, g, o) for g, options in entries.items() for o in options), key=lambda x: (-x[0], x[1]))
    for count, garbled, o in top[: ns.show]:
        print(f"{count:8.1f}  {' '.join(garbled)} -> {' '.join(o.clean)}  "
              f"(p(c|g) {math.exp(o.log_p_clean):.3f}, p(g|c) {math.exp(o.log_p_garbled):.3f})")
    if ns.coverage:
        table = PhraseTable.load(ns.out)
        for pair in [*ns.pairs, HELD_OUT_PAIR]:  # the held-out pair is only measured on, never trained on
            result = coverage(table, iter_pairs(ns.roundtrip, pair, ns.coverage))
            print(f"coverage {pair} {ns.coverage}: {result}")
    return stats


if __name__ == "__main__":
    main()

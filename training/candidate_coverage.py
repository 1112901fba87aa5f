"""How often the candidates hold the original of a spun span: the candidate generator, pivot paraphrases, both.

The decoder can only restore what some candidate proposes, so the share of gold spans whose original
is on offer bounds any repair. Spun and original sentences are aligned token by token (difflib over
the project's tokens, lower-cased so that case-only changes are no spans); each changed span of up to
``--max-words`` words a side counts as covered when the candidates can spell the original over
exactly that span, one candidate or a chain of them (adjacent single-word swaps come out of difflib as
one span: "commentary submit" for "observation post"). Unchanged tokens inside a span may be kept.

Pivot candidates are built as the generator builds thesaurus ones: each word (and phrase of up to
four words) is lemmatised, the pivot table inverted on the lemma within the parts of speech its
inflection allows, and the original re-inflected.

    python -m training.candidate_coverage                                  # ../shared/data/ood_dev
    python -m training.candidate_coverage --pairs work_data/pairs --sample 1000

ood_dev is development data: measure on it, never train on it or copy its pairs anywhere.
"""

from __future__ import annotations

import argparse
import difflib
import random
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mtfix.candidates import FUNCTION_WORDS as GENERATOR_FUNCTION_WORDS
from mtfix.candidates import CandidateGenerator, ChannelRates
from mtfix.context import VECTORS_FILE, WordVectors
from mtfix.lexicon import FUNCTION_WORDS as LEXICON_FUNCTION_WORDS
from mtfix.lm import NgramLM
from mtfix.model import DEFAULT_MODEL_DIR
from mtfix.morph import ADJ, ADV, NOUN, VERB, inflect, lemmas
from mtfix.pivot import ANY_POS, PivotParaphrases
from mtfix.text import Token, tokenize
from training.corpus import DEFAULT_DATA_DIR
from training.spinner_families import MAX_NEIGHBOURS, MIN_COSINE

FUNCTION_WORDS = GENERATOR_FUNCTION_WORDS | LEXICON_FUNCTION_WORDS
# The parts of speech an inflection allows ("moved" is a verb; "moves" a noun or a verb).
TAG_POS = {"": ANY_POS, "s": NOUN | VERB, "ed": VERB, "ing": VERB, "er": ADJ | ADV, "est": ADJ | ADV}

Options = dict[int, set[tuple[int, tuple[str, ...]]]]  # start token -> {(end token, lower-case words)}


@dataclass(frozen=True)
class Span:
    start: int  # spun token indices
    end: int
    original: tuple[str, ...]  # lower-case words of the reference

    @property
    def kind(self) -> str:
        if self.end - self.start > 1 or len(self.original) > 1:
            return "multiword"
        return "function word" if self.original[0] in FUNCTION_WORDS else "content word"


def changed_spans(spun: list[Token], ref: list[Token], max_words: int) -> tuple[list[Span], int]:
    """The replaced spans of ``spun`` against ``ref``, and how many changes were too long or were
    insertions or deletions (no candidate maps a span to nothing or nothing to words)."""
    a = [t.text.lower() for t in spun]
    b = [t.text.lower() for t in ref]
    spans, skipped = [], 0
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        if op == "replace" and i2 - i1 <= max_words and j2 - j1 <= max_words:
            spans.append(Span(i1, i2, tuple(b[j1:j2])))
        else:
            skipped += 1
    return spans, skipped


def covered(span: Span, options: Options) -> bool:
    """Whether a chain of options spells ``span.original`` over exactly the span's tokens."""
    reachable = {(span.start, 0)}
    frontier = [(span.start, 0)]
    while frontier:
        position, done = frontier.pop()
        for end, words in options.get(position, ()):
            if end > span.end or tuple(span.original[done:done + len(words)]) != words:
                continue
            state = (end, done + len(words))
            if state == (span.end, len(span.original)):
                return True
            if state not in reachable:
                reachable.add(state)
                frontier.append(state)
    return False


def keep_options(tokens: list[Token]) -> Options:
    return {i: {(i + 1, (t.text.lower(),))} for i, t in enumerate(tokens)}


def generator_options(generator: CandidateGenerator, sentence: str, tokens: list[Token]) -> Options:
    options: Options = defaultdict(set)
    for candidate in generator.candidates(sentence, tokens)[1]:
        options[candidate.start].add((candidate.end, tuple(w.lower() for w in candidate.words)))
    return options


def pivot_originals(pivot: PivotParaphrases, observed: str) -> set[str]:
    """Originals (inflected like ``observed``, a lower-case word or phrase) whose paraphrases hold it."""
    originals = set()
    for lemma, tag in lemmas(observed):
        for original, _ in pivot.inverse(lemma, TAG_POS[tag]):
            inflected = inflect(original, tag)
            if inflected != observed and original not in FUNCTION_WORDS:
                originals.add(inflected)
    return originals


def pivot_options(pivot: PivotParaphrases, sentence: str, tokens: list[Token], max_words: int) -> Options:
    """Pivot originals of every unprotected word and phrase (the generator's protection rules)."""
    protected = CandidateGenerator._protected_indices(sentence, tokens)
    lower = [t.text.lower() for t in tokens]
    options: Options = defaultdict(set)
    for i in range(len(tokens)):
        for j in range(i + 1, min(len(tokens), i + max_words) + 1):
            if j - 1 in protected or not tokens[j - 1].is_word:
                break
            observed = " ".join(lower[i:j])
            if observed in FUNCTION_WORDS:  # spinners swap those through their phrase table
                continue
            for original in pivot_originals(pivot, observed):
                options[i].add((j, tuple(original.split())))
    return options


def vector_options(vectors: WordVectors, tokens: list[Token], protected: set[int]) -> Options:
    """The word-vector neighbours of every unprotected content word (MAX_NEIGHBOURS at cosine MIN_COSINE or
    more, as the ``vectors`` spinner family draws them): the originals a distributional spinner replaced."""
    options: Options = defaultdict(set)
    for i, token in enumerate(tokens):
        lower = token.text.lower()
        row = vectors.index.get(lower)
        if i in protected or not token.is_word or lower in FUNCTION_WORDS or row is None:
            continue
        cosines = vectors.vectors @ vectors.vectors[row]
        for j in np.argsort(-cosines)[1:MAX_NEIGHBOURS + 1]:
            if cosines[j] >= MIN_COSINE and vectors.words[j].isalpha():
                options[i].add((i + 1, (vectors.words[j],)))
    return options


def merged(*parts: Options) -> Options:
    result: Options = defaultdict(set)
    for part in parts:
        for start, found in part.items():
            result[start] |= found
    return result


def measure(pairs: list[tuple[str, str]], generator: CandidateGenerator, pivot: PivotParaphrases,
            max_words: int, plain_generator: CandidateGenerator | None = None,
            collocation_generator: CandidateGenerator | None = None, vectors: WordVectors | None = None) -> dict:
    """Coverage counts per span kind and source, and candidates per word. ``plain_generator``: the generator
    with the plain originals of formal phrases on (``ChannelRates.plain``), a column of its own;
    ``collocation_generator``: with those and the collocation restorations (``ChannelRates.collocation``, no
    detector: every word may change); ``vectors``: word-vector neighbours alone."""
    hits: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    skipped = words = generator_count = pivot_count = pivot_new = 0
    for spun, ref in pairs:
        tokens = tokenize(spun)
        spans, n_skipped = changed_spans(tokens, tokenize(ref), max_words)
        skipped += n_skipped
        keep = keep_options(tokens)
        generated = generator_options(generator, spun, tokens)
        pivoted = pivot_options(pivot, spun, tokens, max_words)
        plain = generator_options(plain_generator, spun, tokens) if plain_generator else {}
        collocated = generator_options(collocation_generator, spun, tokens) if collocation_generator else {}
        near = vector_options(vectors, tokens, CandidateGenerator._protected_indices(spun, tokens)) if vectors else {}
        sources = {"generator": merged(keep, generated), "plain": merged(keep, generated, plain),
                   "collocation": merged(keep, generated, plain, collocated), "pivot": merged(keep, pivoted),
                   "vectors": merged(keep, near), "union": merged(keep, generated, plain, collocated, pivoted, near)}
        for span in spans:
            for kind in (span.kind, "all"):
                hits[kind]["spans"] += 1
                for name, options in sources.items():
                    hits[kind][name] += covered(span, options)
        # Cost: single-word candidates per word token (keeps excluded), and pivot ones the generator lacks.
        for i, token in enumerate(tokens):
            if not token.is_word:
                continue
            words += 1
            own = {w for end, w in generated.get(i, ()) if end == i + 1}
            extra = {w for end, w in pivoted.get(i, ()) if end == i + 1}
            generator_count += len(own)
            pivot_count += len(extra)
            pivot_new += len(extra - own)
    return {"hits": hits, "skipped": skipped, "words": words, "generator_per_word": generator_count / max(words, 1),
            "pivot_per_word": pivot_count / max(words, 1), "pivot_new_per_word": pivot_new / max(words, 1)}


def markdown(name: str, result: dict) -> str:
    lines = [f"**{name}** ({result['hits']['all']['spans']} replaced spans of at most the given length; "
             f"{result['skipped']} longer changes, insertions and deletions left out)", "",
             "| spans | n | generator | + plain words | + collocations | pivot alone | vectors alone | union |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for kind in ("all", "content word", "function word", "multiword"):
        row = result["hits"].get(kind)
        if not row:
            continue
        n = row["spans"]
        lines.append(f"| {kind} | {n} | " + " | ".join(
            f"{100 * row[s] / n:.1f}%" for s in ("generator", "plain", "collocation", "pivot", "vectors", "union")) + " |")
    lines.append("")
    lines.append(f"Single-word candidates per word token: generator {result['generator_per_word']:.2f}, "
                 f"pivot {result['pivot_per_word']:.2f}, of which not already from the generator "
                 f"{result['pivot_new_per_word']:.2f} ({result['words']} word tokens).")
    return "\n".join(lines)


def read_ood_dev(folder: Path) -> list[tuple[str, str]]:
    spun = (folder / "spun.txt").read_text(encoding="utf-8").splitlines()
    ref = (folder / "ref.txt").read_text(encoding="utf-8").splitlines()
    assert len(spun) == len(ref), "spun.txt and ref.txt must be line-aligned"
    return list(zip(spun, ref))


def read_pairs(path: Path, sample: int, seed: int) -> list[tuple[str, str]]:
    import datasets

    test = datasets.load_from_disk(str(path))["test"]
    rows = random.Random(seed).sample(range(len(test)), min(sample, len(test)))
    picked = test.select(sorted(rows))
    return list(zip(picked["source"], picked["target"]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ood-dev", type=Path, default=DEFAULT_DATA_DIR / "ood_dev")
    parser.add_argument("--pairs", type=Path, default=None, help="a saved DatasetDict (its test split) instead")
    parser.add_argument("--sample", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pivot", type=Path, default=None, help="a pivot data file (default: the shipped one)")
    parser.add_argument("--max-words", type=int, default=4)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    if args.pairs is not None:
        name, pairs = f"{args.pairs} test, {args.sample} sampled (seed {args.seed})", read_pairs(args.pairs, args.sample, args.seed)
    else:
        name, pairs = str(args.ood_dev), read_ood_dev(args.ood_dev)
    lm = NgramLM.load(DEFAULT_MODEL_DIR / "lm.safetensors")
    result = measure(pairs, CandidateGenerator(), PivotParaphrases.load(args.pivot), args.max_words,
                     CandidateGenerator(rates=ChannelRates(plain=1.0)),
                     CandidateGenerator(rates=ChannelRates(plain=1.0, collocation=1.0), language_model=lm),
                     WordVectors.load(DEFAULT_MODEL_DIR / VECTORS_FILE))
    print(markdown(name, result))
    print(f"\n({len(pairs)} sentence pairs in {time.perf_counter() - started:.1f}s)")


if __name__ == "__main__":
    main()

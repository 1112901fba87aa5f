"""Build the spun -> clean training pairs: clean corpus sentences, spun by :class:`mtfix.spin.Spinner`.

    python -m training.build_data --out work_data/pairs [--max-sentences N] [--spins-per-sentence 2]

By default a seeded sample of 400,000 sentences of all four corpora is spun twice (about 940,000
pairs with the identity pairs, about 10 minutes on two cores); ``--max-sentences 0`` takes all of
them (about 1.1 M sentences, four times the time).

Output: a ``datasets.DatasetDict`` (train / validation / test, split by article with
:func:`training.corpus.split_of`) saved with ``save_to_disk``, with fields

- ``id``: ``<article_id>/<sentence number>/<spin number>`` (``.../clean`` for identity pairs);
- ``article_id``, ``corpus``;
- ``source``: the spun sentence (the model input), ``target``: the clean sentence;
- ``edits``: the spinner's spans (``start``/``end`` in ``source``, ``before``, ``after``, ``family``).

Each sentence of 5 to 60 words is spun ``--spins-per-sentence`` times with different seeds; on top,
identity pairs (clean -> clean) make up about ``--identity-share`` of all pairs, so the model learns to
leave clean text alone. The clean validation and test sentences are also written one a line
(``clean_validation.txt``, ``clean_test.txt``) for over-correction tests on clean input.

The output depends only on the arguments: every random choice is seeded from ``--seed``, the sentence
and the spin number, never from the order or the process the work lands in, so the Arrow files are
byte-for-byte the same on every run, whatever ``--num-proc``.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from mtfix.spin import Spinner, changed_words, seed_density
from mtfix.text import words
from training.corpus import CORPORA, Article, iter_corpus, split_of

SPLITS = ("train", "validation", "test")
CHUNK_SENTENCES = 1000
DENSITY_SAMPLE = 4  # measure the words-changed density on every 4th sentence of an article

SCHEMA = pa.schema([
    ("id", pa.string()),
    ("article_id", pa.string()),
    ("corpus", pa.string()),
    ("source", pa.string()),
    ("target", pa.string()),
    ("edits", pa.list_(pa.struct([
        ("start", pa.int32()),
        ("end", pa.int32()),
        ("before", pa.string()),
        ("after", pa.string()),
        ("family", pa.string()),
    ]))),
])


@dataclass
class BuildArgs:
    out: Path
    corpora: tuple[str, ...] = CORPORA
    data_dir: Path | None = None
    spins_per_sentence: int = 2
    identity_share: float = 0.15
    max_sentences: int | None = 400_000
    min_words: int = 5
    max_words: int = 60
    num_proc: int = 2
    seed: int = 0


@dataclass
class SplitStats:
    pairs: int = 0
    identity: int = 0
    sentences: int = 0
    changed_words: int = 0  # over the spun (non-identity) pairs of the density sample
    total_words: int = 0


@dataclass
class BuildSummary:
    splits: dict[str, SplitStats] = field(default_factory=lambda: {s: SplitStats() for s in SPLITS})
    seconds: float = 0.0
    examples: list[dict] = field(default_factory=list)

    @property
    def pairs(self) -> int:
        return sum(s.pairs for s in self.splits.values())

    @property
    def density(self) -> float:
        """Changed words per 100 over the spun pairs (identity pairs left out)."""
        changed = sum(s.changed_words for s in self.splits.values())
        return 100.0 * changed / max(sum(s.total_words for s in self.splits.values()), 1)


# A sentence to spin: (split, article_id, corpus, sentence number in its article, text).
Item = tuple[str, str, str, int, str]


def _hash(*parts: object) -> int:
    digest = hashlib.blake2b("\x00".join(map(str, parts)).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _unit(*parts: object) -> float:
    """A deterministic number in [0, 1) for the given parts."""
    return _hash(*parts) / 2.0**64


def _word_count(sentence: str) -> int:
    return sum(1 for w in words(sentence) if w[:1].isalnum())


def iter_items(articles: Iterable[Article], args: BuildArgs) -> Iterator[Item]:
    """The sentences to spin, in corpus order; with ``max_sentences``, a seeded sample of that size
    (which needs the whole corpus read first)."""

    def all_items() -> Iterator[Item]:
        for article in articles:
            split = split_of(article.id)
            for number, sentence in enumerate(article.sentences):
                if args.min_words <= _word_count(sentence) <= args.max_words:
                    yield split, article.id, article.source, number, sentence

    if args.max_sentences is None:
        yield from all_items()
        return
    items = list(all_items())
    ranked = sorted(range(len(items)), key=lambda k: _hash(args.seed, "sample", items[k][1], items[k][3]))
    keep = sorted(ranked[: args.max_sentences])
    for k in keep:
        yield items[k]


def _chunks(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    chunk: list[Item] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# -- worker side ------------------------------------------------------------------------------------

_spinners: list[Spinner] = []
_settings: tuple[int, float] = (0, 0.0)


def _init_worker(seed: int, spins: int, identity_share: float) -> None:
    global _spinners, _settings
    _spinners = [Spinner(seed=_hash(seed, "spin", j)) for j in range(spins)]
    # One extra identity pair with probability q per sentence gives a share s of all pairs
    # when q = k * s / (1 - s) for k spins per sentence.
    q = min(1.0, spins * identity_share / (1.0 - identity_share)) if identity_share < 1 else 1.0
    _settings = (seed, q)


def _spin_chunk(chunk: list[Item]) -> dict[str, tuple[dict[str, list], SplitStats]]:
    """Pairs of one chunk of sentences, as columns per split, with their statistics."""
    seed, identity_probability = _settings
    out: dict[str, tuple[dict[str, list], SplitStats]] = {}
    for split, article_id, corpus, number, sentence in chunk:
        if split not in out:
            out[split] = ({name: [] for name in SCHEMA.names}, SplitStats())
        columns, stats = out[split]
        stats.sentences += 1
        base_id = f"{article_id}/{number}"
        measure = number % DENSITY_SAMPLE == 0  # the word diff costs a quarter of the spin: sample it
        for j, spinner in enumerate(_spinners):
            result = spinner.spin(sentence)
            if measure:
                changed, total = changed_words(sentence, result.text)
                stats.changed_words += changed
                stats.total_words += total
            edits = [
                {"start": s.start, "end": s.end, "before": s.before, "after": s.after, "family": s.family}
                for s in result.spans
            ]
            _append(columns, f"{base_id}/{j}", article_id, corpus, result.text, sentence, edits)
            stats.pairs += 1
        if _unit(seed, "identity", base_id) < identity_probability:
            _append(columns, f"{base_id}/clean", article_id, corpus, sentence, sentence, [])
            stats.pairs += 1
            stats.identity += 1
    return out


def _append(columns: dict[str, list], pair_id: str, article_id: str, corpus: str, source: str, target: str,
            edits: list[dict]) -> None:
    columns["id"].append(pair_id)
    columns["article_id"].append(article_id)
    columns["corpus"].append(corpus)
    columns["source"].append(source)
    columns["target"].append(target)
    columns["edits"].append(edits)


# -- driver -----------------------------------------------------------------------------------------

def build(args: BuildArgs, articles: Iterable[Article] | None = None) -> BuildSummary:
    """Build and save the pairs (see the module docstring); ``articles`` defaults to the corpora."""
    from datasets import Dataset, DatasetDict

    started = time.perf_counter()
    if articles is None:
        articles = iter_corpus(args.corpora, args.data_dir)
    chunks = _chunks(iter_items(articles, args), CHUNK_SENTENCES)

    tables: dict[str, list[pa.Table]] = {split: [] for split in SPLITS}
    clean: dict[str, list[str]] = {"validation": [], "test": []}
    summary = BuildSummary()
    init = (args.seed, args.spins_per_sentence, args.identity_share)

    def collect(results: Iterable[dict[str, tuple[dict[str, list], SplitStats]]]) -> None:
        for result in results:
            for split, (columns, stats) in result.items():
                tables[split].append(pa.Table.from_pydict(columns, schema=SCHEMA))
                total = summary.splits[split]
                for name in ("pairs", "identity", "sentences", "changed_words", "total_words"):
                    setattr(total, name, getattr(total, name) + getattr(stats, name))
                if split in clean:
                    clean[split].extend(columns["target"])  # each sentence k (+1) times; deduplicated below

    if args.num_proc > 1:
        # Chunks go to the workers as they are made (while the corpus is still being read when not
        # sampling); imap hands the results back in chunk order, so the output is the same.
        with multiprocessing.get_context("fork").Pool(args.num_proc, _init_worker, init) as pool:
            collect(pool.imap(_spin_chunk, chunks))
    else:
        _init_worker(*init)
        collect(map(_spin_chunk, chunks))

    splits = {}
    for split in SPLITS:
        table = pa.concat_tables(tables[split]) if tables[split] else SCHEMA.empty_table()
        fingerprint = f"{_hash(args.seed, args.spins_per_sentence, args.identity_share, args.max_sentences, split):016x}"
        splits[split] = Dataset(table, fingerprint=fingerprint)
    dataset = DatasetDict(splits)
    args.out.mkdir(parents=True, exist_ok=True)
    dataset.save_to_disk(str(args.out))
    for split, sentences in clean.items():
        unique = list(dict.fromkeys(sentences))
        (args.out / f"clean_{split}.txt").write_text("".join(s + "\n" for s in unique), encoding="utf-8")

    summary.seconds = time.perf_counter() - started
    summary.examples = _examples(splits["train"])
    return summary


def _examples(dataset, count: int = 5) -> list[dict]:
    """A few spun pairs with several edits, spread over the split."""
    examples = []
    step = max(len(dataset) // (count * 4), 1)
    for k in range(0, len(dataset), step):
        row = dataset[k]
        if len(row["edits"]) >= 2:
            examples.append(row)
            if len(examples) == count:
                break
    return examples


def print_summary(summary: BuildSummary) -> None:
    print(f"built {summary.pairs} pairs in {summary.seconds:.0f}s ({summary.pairs / max(summary.seconds, 1e-9):.0f} pairs/s)")
    print(f"{'split':<12}{'sentences':>10}{'pairs':>10}{'identity':>10}")
    for split, stats in summary.splits.items():
        print(f"{split:<12}{stats.sentences:>10}{stats.pairs:>10}{stats.identity:>10}")
    print(f"words changed per 100 (spun pairs): {summary.density:.1f}; seed article: {seed_density():.1f}")
    for row in summary.examples:
        print(f"\n  target: {row['target']}\n  source: {row['source']}")


def parse_args(argv: list[str] | None = None) -> BuildArgs:
    parser = argparse.ArgumentParser(description="Build spun -> clean training pairs from the clean corpora.")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--corpora", nargs="+", default=list(CORPORA))
    parser.add_argument("--data-dir", type=Path, default=None, help="the shared corpora (default ../shared/data)")
    parser.add_argument("--spins-per-sentence", type=int, default=2)
    parser.add_argument("--identity-share", type=float, default=0.15)
    parser.add_argument("--max-sentences", type=int, default=400_000,
                        help="a seeded sample of this many sentences; 0 for all (about 1.1 M, 4x the time)")
    parser.add_argument("--min-words", type=int, default=5)
    parser.add_argument("--max-words", type=int, default=60)
    parser.add_argument("--num-proc", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    ns = parser.parse_args(argv)
    return BuildArgs(
        out=ns.out, corpora=tuple(ns.corpora), data_dir=ns.data_dir, spins_per_sentence=ns.spins_per_sentence,
        identity_share=ns.identity_share, max_sentences=ns.max_sentences or None, min_words=ns.min_words,
        max_words=ns.max_words, num_proc=ns.num_proc, seed=ns.seed,
    )


def main(argv: list[str] | None = None) -> None:
    from datasets.utils.logging import disable_progress_bar

    disable_progress_bar()
    print_summary(build(parse_args(argv)))


if __name__ == "__main__":
    main()

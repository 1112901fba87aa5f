"""Spinner families: spinners that differ in where their substitutes come from (issue 16, item 2).

    python -m training.spinner_families build --out .devjob_families --train-sentences 60000
    python -m training.spinner_families mix .devjob_families work_data/lofo      # training sets, one per family left out
    python -m training.spinner_families score .devjob_families without_pivot=runs/without_pivot/model ...

Real spinners differ in their synonym source and in what they swap; a spin detector trained on one of ours
learns that one's habits. Each family here spins the same clean sentences alone, with its own source:

- ``thesaurus``: our spinner's Moby + WordNet swaps (:class:`mtfix.spin.Spinner`, synonyms only);
- ``pivot``: bilingual-pivot paraphrases, English words that share a translation in Apertium's dictionaries
  (``mtfix/data/pivot.npz``: "war" -> "guerra" -> "warfare");
- ``vectors``: nearest neighbours in our word vectors (distributional: related words of any kind, as spinners
  built on embeddings write them);
- ``formal``: plain words and phrases made formal or wordy ("before" -> "prior to", "have" -> "possess"), the
  inverse of :data:`mtfix.lexicon.PLAIN_WORDS`;
- ``phrase``: our spinner's table of function-word and set-phrase swaps (:data:`mtfix.lexicon.PHRASE_SWAPS`);
- ``damage``: what spinning leaves behind: lost apostrophes, number words as digits, lower-cased words.

Output: ``OUT/<family>/{train,validation,test}.jsonl.xz``, one pair a line (``source``, ``target`` and the
character spans of the family's ``edits``: what ``training.export_pairs.unpack`` and ``training.train.read_pairs``
read), only pairs the family changed; the clean sentences come from the same article-level split as
``training.build_data``. :func:`leave_one_out` assembles the training sets of the leave-one-family-out table.
"""

from __future__ import annotations

import argparse
import json
import lzma
import multiprocessing
import random
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np

from mtfix.context import VECTORS_FILE, WordVectors
from mtfix.detector import SpinDetector
from mtfix.lexicon import FUNCTION_WORDS, PLAIN_WORDS, Thesaurus
from mtfix.model import DEFAULT_MODEL_DIR
from mtfix.morph import lemmas
from mtfix.pivot import PivotParaphrases
from mtfix.spin import Spinner, SpinRates
from mtfix.text import tokenize
from training.build_data import BuildArgs, iter_items
from training.corpus import iter_corpus
from training.train import SPLITS

FAMILIES = ("thesaurus", "pivot", "vectors", "formal", "phrase", "damage")
SYNONYM_RATE = SpinRates().synonym  # per eligible content word, as our spinner
SWAP_RATE = SpinRates().phrase  # per matched phrase
MAX_NEIGHBOURS = 10  # word-vector neighbours a word may become
MIN_COSINE = 0.45  # and how close they must be


class SubstituteLists:
    """A synonym source in the shape :class:`mtfix.spin.Spinner` reads from a :class:`Thesaurus`: lemma ->
    {substitute: probability}; the corpus statistics (frequencies, names) stay those of ``base``."""

    def __init__(self, base: Thesaurus, lists: Mapping[str, Mapping[str, float]]):
        self.base = base
        self.lists = {head: dict(subs) for head, subs in lists.items() if subs}

    def __contains__(self, headword: str) -> bool:
        return headword.lower() in self.lists

    def headwords(self) -> list[str]:
        return sorted(self.lists)

    def channel(self, headword: str) -> dict[str, float]:
        return self.lists.get(headword.lower(), {})

    def lowercase_share(self, word: str) -> float:
        return self.base.lowercase_share(word)


def _usable(head: str, substitute: str, base: Thesaurus) -> bool:
    """A substitute a spinner could write for ``head``: other words, common ones (not names), no function word
    and no inflection of the head itself."""
    return (substitute != head and all(part.isalpha() for part in substitute.split(" "))
            and substitute not in FUNCTION_WORDS and base.lowercase_share(substitute) >= 0.5
            and head not in {lemma for lemma, _ in lemmas(substitute)})


def _normalised(scores: Mapping[str, float]) -> dict[str, float]:
    total = sum(scores.values())
    return {word: score / total for word, score in scores.items()} if total > 0 else {}


def pivot_lists(base: Thesaurus, pivot: PivotParaphrases | None = None) -> dict[str, dict[str, float]]:
    """Each thesaurus headword's pivot paraphrases (the spinner looks up the words of its text, so the
    headwords it can touch are those of a common-English vocabulary)."""
    pivot = pivot or PivotParaphrases.load()
    lists = {}
    for head in base.headwords():
        if " " in head or head in FUNCTION_WORDS:
            continue
        lists[head] = _normalised({w: p for w, p in pivot.paraphrases(head).items() if _usable(head, w, base)})
    return lists


def vector_lists(base: Thesaurus, vectors: WordVectors | None = None) -> dict[str, dict[str, float]]:
    """Each word's nearest neighbours (cosine at least MIN_COSINE, MAX_NEIGHBOURS of them), weighted by cosine."""
    vectors = vectors or WordVectors.load(Path(DEFAULT_MODEL_DIR) / VECTORS_FILE)
    rows = [i for i, word in enumerate(vectors.words) if word.isalpha() and word.islower()
            and word not in FUNCTION_WORDS and base.lowercase_share(word) >= 0.5]
    words = [vectors.words[i] for i in rows]
    matrix = vectors.vectors[rows]
    lists = {}
    for lo in range(0, len(rows), 2048):
        cosines = matrix[lo:lo + 2048] @ matrix.T
        best = np.argsort(-cosines, axis=1)[:, 1:MAX_NEIGHBOURS * 3]
        for k, row in enumerate(best):
            head = words[lo + k]
            near = {words[j]: float(cosines[k, j]) for j in row if cosines[k, j] >= MIN_COSINE}
            near = {w: c for w, c in near.items() if _usable(head, w, base)}
            lists[head] = _normalised(dict(list(near.items())[:MAX_NEIGHBOURS]))
    return lists


# Plain words whose formal stand-ins ("to" -> "in order to", "for" -> "for the purpose of") would fire on nearly every
# sentence, where their senses mostly differ ("prior to" -> "prior in order to").
_TOO_COMMON = frozenset({"to", "for", "of", "if", "so", "by", "on", "in", "about", "as", "and", "but", "or"})


def formal_swaps() -> dict[str, tuple[str, ...]]:
    """Plain word or phrase -> the formal ones that stand for it (the inverse of PLAIN_WORDS)."""
    swaps: dict[str, list[str]] = {}
    for formal, plains in PLAIN_WORDS.items():
        for plain in plains:
            if plain not in _TOO_COMMON:
                swaps.setdefault(plain, []).append(formal)
    return {plain: tuple(sorted(formals)) for plain, formals in swaps.items()}


def family_spinner(family: str, seed: int = 0) -> Spinner:
    """The spinner of one family (see the module docstring)."""
    base = Thesaurus.load()
    only = {"synonym": 0.0, "phrase": 0.0, "damage": 0.0}
    if family == "thesaurus":
        return Spinner(base, SpinRates(**{**only, "synonym": SYNONYM_RATE}), seed)
    if family == "pivot":
        return Spinner(SubstituteLists(base, pivot_lists(base)), SpinRates(**{**only, "synonym": SYNONYM_RATE}), seed)
    if family == "vectors":
        return Spinner(SubstituteLists(base, vector_lists(base)), SpinRates(**{**only, "synonym": SYNONYM_RATE}), seed)
    if family == "formal":
        return Spinner(base, SpinRates(**{**only, "phrase": SWAP_RATE}), seed, phrase_swaps=formal_swaps())
    if family == "phrase":
        return Spinner(base, SpinRates(**{**only, "phrase": SWAP_RATE}), seed)
    if family == "damage":
        return Spinner(base, SpinRates(**{**only, "damage": SpinRates().damage}), seed)
    raise ValueError(f"unknown spinner family {family!r}; choose from {', '.join(FAMILIES)}")


def _pair(source: str, target: str, spans) -> str:
    return _pair_line({"source": source, "target": target,
                       "edits": [{"start": span.start, "end": span.end} for span in spans]})


_worker_spinner: Spinner | None = None


def _init(family: str, seed: int) -> None:
    global _worker_spinner
    _worker_spinner = family_spinner(family, seed)


def _spin(sentences: list[str]) -> list[str]:
    lines = []
    for sentence in sentences:
        result = _worker_spinner.spin(sentence)
        if result.spans:
            lines.append(_pair(result.text, sentence, result.spans))
    return lines


def clean_sentences(limits: Mapping[str, int], seed: int = 0) -> dict[str, list[str]]:
    """A seeded sample of clean corpus sentences per split (5 to 60 words, the article-level split of
    ``training.build_data``), at most ``limits[split]`` each."""
    by_split: dict[str, list[str]] = {split: [] for split in SPLITS}
    for split, _, _, _, sentence in iter_items(iter_corpus(), BuildArgs(out=Path("."), max_sentences=None)):
        by_split[split].append(sentence)
    rng = random.Random(seed)
    for split, sentences in by_split.items():
        rng.shuffle(sentences)
        del sentences[limits[split]:]
    return by_split


def write_family(family: str, sentences: Mapping[str, list[str]], out: Path, seed: int = 0, processes: int = 2) -> dict:
    """Spin ``sentences`` with one family into ``out/<family>/{split}.jsonl.xz``; returns pair counts."""
    directory = out / family
    directory.mkdir(parents=True, exist_ok=True)
    counts = {}
    with multiprocessing.get_context("fork").Pool(processes, _init, (family, seed)) as pool:
        for split in SPLITS:
            chunks = [sentences[split][k:k + 1000] for k in range(0, len(sentences[split]), 1000)]
            with lzma.open(directory / f"{split}.jsonl.xz", "wt", encoding="utf-8") as stream:
                counts[split] = 0
                for lines in pool.imap(_spin, chunks):
                    for line in lines:
                        stream.write(line + "\n")
                    counts[split] += len(lines)
    return counts


def read_family(directory: Path, split: str) -> Iterator[str]:
    with lzma.open(directory / f"{split}.jsonl.xz", "rt", encoding="utf-8") as stream:
        yield from (line.rstrip("\n") for line in stream)


def leave_one_out(families_dir: str | Path, out_dir: str | Path, held_out: str | None,
                  families: tuple[str, ...] = FAMILIES, identity_share: float = 0.15, seed: int = 0) -> Path:
    """Pairs for a detector trained without ``held_out`` (None: with every family): ``train.jsonl`` mixes the
    train pairs of the other families with ``identity_share`` clean pairs (their targets unchanged, so the
    detector also sees text no spinner touched), shuffled; ``validation.jsonl`` and ``test.jsonl`` are the
    held-out family's (with every family: all of theirs, shuffled), so the run's validation score is its score
    on a spinner it never saw."""
    families_dir, out_dir = Path(families_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    train = [line for family in families if family != held_out for line in read_family(families_dir / family, "train")]
    clean = [json.loads(line)["target"] for line in rng.sample(train, int(len(train) * identity_share))]
    train += [json.dumps({"source": text, "target": text, "edits": []}, ensure_ascii=False) for text in clean]
    rng.shuffle(train)
    (out_dir / "train.jsonl").write_text("\n".join(train) + "\n", encoding="utf-8")
    for split in ("validation", "test"):
        scored = [held_out] if held_out else list(families)
        lines = [line for family in scored for line in read_family(families_dir / family, split)]
        rng.shuffle(lines)
        (out_dir / f"{split}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out_dir


def detector_mix(pairs_dir: str | Path, families_dir: str | Path, out_dir: str | Path, our_pairs: int = 300_000,
                 families: tuple[str, ...] = ("pivot", "vectors", "formal"), seed: int = 0) -> dict[str, int]:
    """Pairs for the bundled detector's recipe with other spinners mixed in: ``our_pairs`` of our spinner's
    train pairs (``training.build_data``'s DatasetDict, identity pairs included) and the train pairs of
    ``families`` (those our spinner lacks), shuffled, as ``{train,validation,test}.jsonl.xz`` (validation and
    test: 4,000 and 1,000 of our spinner's, so a run is watched on what the bundled detector was)."""
    from datasets import load_from_disk

    pairs = load_from_disk(str(pairs_dir))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    counts = {}
    for split, size in (("train", our_pairs), ("validation", 4_000), ("test", 1_000)):
        data = pairs[split].shuffle(seed=seed).select(range(min(size, len(pairs[split]))))
        lines = [_pair_line(row) for row in data.select_columns(["source", "target", "edits"])]
        if split == "train":
            lines += [line for family in families for line in read_family(Path(families_dir) / family, "train")]
            rng.shuffle(lines)
        with lzma.open(out_dir / f"{split}.jsonl.xz", "wt", encoding="utf-8") as stream:
            stream.writelines(line + "\n" for line in lines)
        counts[split] = len(lines)
    return counts


def _pair_line(row: dict) -> str:
    edits = [{"start": edit["start"], "end": edit["end"]} for edit in row["edits"]]
    return json.dumps({"source": row["source"], "target": row["target"], "edits": edits}, ensure_ascii=False)


def detection_scores(model_dir: str | Path, pairs: list[str], batch_size: int = 512) -> dict[str, float]:
    """Precision, recall and F1 over words of the detector in ``model_dir`` (one ``train_detector`` wrote, or a
    bundled one: :class:`mtfix.detector.SpinDetector` reads both) at P(spun) >= 0.5 on ``pairs`` (JSON lines):
    a word is spun where it overlaps one of the pair's edits, as the lattice reads the detector."""
    detector = SpinDetector.load(model_dir)
    counts = np.zeros(3, dtype=np.int64)  # true positives, predicted positives, gold positives
    for lo in range(0, len(pairs), batch_size):
        rows = [json.loads(line) for line in pairs[lo:lo + batch_size]]
        sentences = [row["source"] for row in rows]
        tokens = [[token for token in tokenize(sentence) if token.is_word] for sentence in sentences]
        for row, words, spun in zip(rows, tokens, detector.word_probabilities(sentences, tokens)):
            edits = [(edit["start"], edit["end"]) for edit in row["edits"]]
            gold = np.array([any(t.start < end and t.end > start for start, end in edits) for t in words], dtype=bool)
            guess = spun >= 0.5
            counts += [int((guess & gold).sum()), int(guess.sum()), int(gold.sum())]
    precision = counts[0] / max(counts[1], 1)
    recall = counts[0] / max(counts[2], 1)
    return {"precision": precision, "recall": recall, "f1": 2 * precision * recall / max(precision + recall, 1e-9),
            "pairs": len(pairs)}


def score_runs(runs: Mapping[str, str | Path], families_dir: str | Path, split: str = "test",
               max_pairs: int | None = None) -> dict[str, dict[str, dict[str, float]]]:
    """{run: {family: detection_scores}} of each detector on each family's ``split``."""
    families_dir = Path(families_dir)
    pairs = {family: list(read_family(families_dir / family, split))[:max_pairs]
             for family in FAMILIES if (families_dir / family).is_dir()}
    return {run: {family: detection_scores(model_dir, lines) for family, lines in pairs.items()}
            for run, model_dir in runs.items()}


def lofo_table(scores: Mapping[str, Mapping[str, Mapping[str, float]]]) -> str:
    """The leave-one-family-out table in Markdown: per family, F1 (recall) of the detector trained without it,
    of the one trained on every family, of the bundled one and of the bundled one continued with other families
    mixed in, where scored (run names ``without_<family>``, ``all``, ``bundled``, ``mixed``)."""
    columns = [("without_{}", "trained without it"), ("all", "trained on every family"), ("bundled", "bundled (our spinner)"),
               ("mixed", "bundled, continued with other families")]
    columns = [(key, title) for key, title in columns if any(key.format(f) in scores for f in FAMILIES)]
    lines = ["| family (test pairs) | " + " | ".join(f"{title}: F1 (recall)" for _, title in columns) + " |",
             "|---|" + "---:|" * len(columns)]
    for family in FAMILIES:
        cells = []
        for key, _ in columns:
            score = scores.get(key.format(family), {}).get(family)
            cells.append(f"{score['f1']:.3f} ({score['recall']:.3f})" if score else "")
        if any(cells):
            lines.append(f"| {family} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="spin clean sentences with each family")
    build.add_argument("--out", type=Path, required=True)
    build.add_argument("--families", nargs="+", default=list(FAMILIES), choices=FAMILIES)
    build.add_argument("--train-sentences", type=int, default=60_000)
    build.add_argument("--eval-sentences", type=int, default=3_000, help="per validation and test split")
    build.add_argument("--processes", type=int, default=2)
    build.add_argument("--seed", type=int, default=0)
    mix = commands.add_parser("mix", help="the leave-one-family-out training sets (and one of every family)")
    mix.add_argument("families_dir", type=Path)
    mix.add_argument("out", type=Path, help="gets without_<family>/ and all/")
    mixed = commands.add_parser("detector-mix", help="our spinner's pairs with other families mixed in, and the "
                                "bundled detector as a checkpoint to continue from")
    mixed.add_argument("pairs_dir", type=Path, help="training.build_data's output")
    mixed.add_argument("families_dir", type=Path)
    mixed.add_argument("out", type=Path, help="gets {train,validation,test}.jsonl.xz and init/")
    mixed.add_argument("--our-pairs", type=int, default=300_000)
    mixed.add_argument("--families", nargs="+", default=["pivot", "vectors", "formal"], choices=FAMILIES)
    score = commands.add_parser("score", help="score detectors on every family's test pairs; print the table")
    score.add_argument("families_dir", type=Path)
    score.add_argument("runs", nargs="+", help="NAME=MODEL_DIR (names: without_<family>, all, bundled, ...)")
    score.add_argument("--json", type=Path, help="also write the scores here")
    score.add_argument("--max-pairs", type=int, default=None)
    args = parser.parse_args(argv)
    begin = time.time()
    if args.command == "build":
        limits = {"train": args.train_sentences, "validation": args.eval_sentences, "test": args.eval_sentences}
        sentences = clean_sentences(limits, args.seed)
        print(f"sentences: {', '.join(f'{s} {len(v)}' for s, v in sentences.items())} ({time.time() - begin:.0f} s)",
              flush=True)
        for family in args.families:
            counts = write_family(family, sentences, args.out, args.seed, args.processes)
            print(f"{family}: changed pairs {counts} ({time.time() - begin:.0f} s)", flush=True)
    elif args.command == "mix":
        for held_out in (*FAMILIES, None):
            path = leave_one_out(args.families_dir, args.out / (f"without_{held_out}" if held_out else "all"), held_out)
            print(path, flush=True)
    elif args.command == "detector-mix":
        from training.train_detector import import_detector

        print(detector_mix(args.pairs_dir, args.families_dir, args.out, args.our_pairs, tuple(args.families)))
        print(import_detector(Path(DEFAULT_MODEL_DIR) / "detector", args.out / "init"))
    else:
        runs = dict(run.split("=", 1) for run in args.runs)
        scores = score_runs(runs, args.families_dir, max_pairs=args.max_pairs)
        if args.json:
            args.json.write_text(json.dumps(scores, indent=2) + "\n", encoding="utf-8")
        print(json.dumps(scores))
        print(lofo_table(scores))


if __name__ == "__main__":
    main()

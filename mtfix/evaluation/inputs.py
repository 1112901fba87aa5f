"""Reading and checking what the eval scores: aligned line files and the named test sets.

One segment a line. A blank source line is kept in place (so line numbers match the files) and is
skipped in scoring; the references must be blank on exactly the same lines, and a hypothesis must not
have text where the source is blank, otherwise the files are misaligned. Every problem raises
:class:`EvalInputError` with a message meant for the user.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

SEED_SOURCE = "idlib_ceasefire_spun.txt"
SEED_REFERENCE = "idlib_ceasefire_reference.txt"
DEFAULT_SYNTHETIC_DIR = Path("work_data") / "pairs"
# The hand-spun out-of-distribution dev set beside a checkout (../shared/data/ood_dev: spun.txt, ref.txt).
DEFAULT_OOD_DIR = Path("..") / "shared" / "data" / "ood_dev"
# Machine-translation round trips through the held-out language pair (training/garbled_testset.py).
GARBLED_PAIR = "en-gl"
TEST_SETS = ("seed", "synthetic", "ood", "garbled")


class EvalInputError(Exception):
    """Unusable input (misaligned, empty, undecodable or missing files). The message says which."""


@dataclass(frozen=True)
class EvalSet:
    """Aligned segments to evaluate on: ``references[k][i]`` is the k-th reference of ``sources[i]``."""

    name: str
    sources: list[str]
    references: list[list[str]]
    source_label: str
    reference_labels: list[str]
    # The document each line belongs to (None: each line is one): a model repairs the lines of a document as
    # the paragraphs of one text, as ``mtfix repair`` reads a file, so that what it decides for a document
    # (quotations, typography) is decided on all of it. The seed is one document; the synthetic split's
    # sentences belong to the articles they were taken from.
    documents: tuple[int, ...] | None = None

    @property
    def scored_lines(self) -> list[int]:
        """Indices (0-based) of the lines that are scored: those whose source is not blank."""
        return [index for index, line in enumerate(self.sources) if line.strip()]


def split_lines(text: str) -> list[str]:
    """One segment a line, split on ``\\n`` only and right-stripped, as the sacrebleu command line does."""
    if text.endswith("\n"):
        text = text[:-1]
    return [line.rstrip() for line in text.split("\n")]


def read_lines(path: str | Path) -> list[str]:
    """The lines of a UTF-8 file that has at least one non-blank line."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise EvalInputError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise EvalInputError(
            f"{path} is not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start}); "
            "convert it first, e.g. with iconv -t UTF-8"
        ) from None
    lines = split_lines(text)
    if not any(line.strip() for line in lines):
        raise EvalInputError(f"{path} is empty")
    return lines


def check_hypotheses(eval_set: EvalSet, hypotheses: Sequence[str], label: str) -> None:
    """Raise unless ``hypotheses`` has one line per source line and no text on blank source lines."""
    if len(hypotheses) != len(eval_set.sources):
        raise EvalInputError(
            f"{label} has {len(hypotheses)} lines but {eval_set.source_label} has {len(eval_set.sources)}"
        )
    for index, (source, hypothesis) in enumerate(zip(eval_set.sources, hypotheses)):
        if not source.strip() and hypothesis.strip():
            raise EvalInputError(
                f"{label} line {index + 1} has text but {eval_set.source_label} line {index + 1} is blank "
                "(are the files aligned?)"
            )


def make_eval_set(
    name: str,
    sources: list[str],
    references: list[list[str]],
    source_label: str,
    reference_labels: list[str],
) -> EvalSet:
    """Check that sources and references are aligned line by line and blank on the same lines."""
    if not references:
        raise EvalInputError("at least one reference is needed")
    if not any(line.strip() for line in sources):
        raise EvalInputError(f"{source_label} is empty")
    for stream, label in zip(references, reference_labels):
        if len(stream) != len(sources):
            raise EvalInputError(f"{label} has {len(stream)} lines but {source_label} has {len(sources)}")
        for index, (source, reference) in enumerate(zip(sources, stream)):
            if bool(source.strip()) != bool(reference.strip()):
                blank, other = (source_label, label) if not source.strip() else (label, source_label)
                raise EvalInputError(
                    f"line {index + 1} is blank in {blank} but not in {other} (are the files aligned?)"
                )
    return EvalSet(name, sources, references, source_label, reference_labels)


def load_files(source: str | Path, references: Sequence[str | Path]) -> EvalSet:
    """An eval set from a source file and one or more reference files."""
    return make_eval_set(
        name=Path(source).name,
        sources=read_lines(source),
        references=[read_lines(path) for path in references],
        source_label=str(source),
        reference_labels=[str(path) for path in references],
    )


def load_seed() -> EvalSet:
    """The seed AFP article (spun) and its restored reference, shipped inside this package."""
    folder = resources.files("mtfix.evaluation") / "testsets"
    with resources.as_file(folder / SEED_SOURCE) as source, resources.as_file(folder / SEED_REFERENCE) as reference:
        eval_set = load_files(source, [reference])
    return EvalSet("seed", eval_set.sources, eval_set.references, f"seed:{SEED_SOURCE}", [f"seed:{SEED_REFERENCE}"],
                   documents=(0,) * len(eval_set.sources))


def load_synthetic(data_dir: str | Path = DEFAULT_SYNTHETIC_DIR) -> EvalSet:
    """The test split of the synthetic pairs built by ``training/build_data.py`` (fields ``source``, ``target``)."""
    data_dir = Path(data_dir)
    hint = "build it first with: python training/build_data.py (or pass --data-dir)"
    if not data_dir.is_dir():
        raise EvalInputError(f"synthetic test set not found: {data_dir} does not exist; {hint}")
    import datasets  # slow to import; only this test set needs it

    try:
        pairs = datasets.load_from_disk(str(data_dir))
    except (FileNotFoundError, ValueError) as error:
        raise EvalInputError(f"{data_dir} is not a saved dataset ({error}); {hint}") from None
    if not isinstance(pairs, datasets.DatasetDict) or "test" not in pairs:
        raise EvalInputError(f"{data_dir} has no 'test' split; {hint}")
    test = pairs["test"]
    missing = {"source", "target"} - set(test.column_names)
    if missing:
        raise EvalInputError(f"the test split in {data_dir} lacks the field(s) {', '.join(sorted(missing))}")
    # One segment a line: a line break inside a pair would shift the alignment of everything after it.
    sources = [" ".join(text.split()) for text in test["source"]]
    targets = [" ".join(text.split()) for text in test["target"]]
    label = f"synthetic:{data_dir}[test]"
    eval_set = make_eval_set("synthetic", sources, [targets], f"{label}.source", [f"{label}.target"])
    if "id" not in test.column_names or "article_id" not in test.column_names:
        return eval_set
    # A spun article is its sentences under one spinner seed (id: <article>/<sentence>/<spin number>); the
    # identity pairs (".../clean") of an article make a clean document of their own.
    numbers: dict[tuple[str, str], int] = {}
    documents = tuple(numbers.setdefault((article, pair_id.rsplit("/", 1)[-1]), len(numbers))
                      for article, pair_id in zip(test["article_id"], test["id"]))
    return dataclasses.replace(eval_set, documents=documents)


def load_ood(data_dir: str | Path = DEFAULT_OOD_DIR) -> EvalSet:
    """Sentences spun by another hand than our spinner's (``spun.txt``, aligned with ``ref.txt``): for
    development and reports only, never for training."""
    data_dir = Path(data_dir)
    source, reference = data_dir / "spun.txt", data_dir / "ref.txt"
    if not source.is_file() or not reference.is_file():
        raise EvalInputError(f"ood test set not found: {data_dir} needs spun.txt and ref.txt (pass --data-dir)")
    eval_set = load_files(source, [reference])
    return EvalSet("ood", eval_set.sources, eval_set.references, f"ood:{source}", [f"ood:{reference}"])


def load_garbled(data_dir: str | Path | None = None) -> EvalSet:
    """English news round-tripped through machine translation, against the clean original.

    Without ``data_dir``: the bundled sample of the held-out pair's test split (1,000 sentences, en-gl, never
    trained or tuned on). With it: the test split of the round trips ``training/roundtrip.py`` built there,
    of every pair under it (a folder of pairs) or of one pair (a pair's folder), the held-out pair left out
    of a folder of pairs."""
    if data_dir is None:
        folder = resources.files("mtfix.evaluation") / "testsets"
        source, reference = f"garbled_{GARBLED_PAIR}.garbled.txt", f"garbled_{GARBLED_PAIR}.clean.txt"
        with resources.as_file(folder / source) as source_path, resources.as_file(folder / reference) as reference_path:
            eval_set = load_files(source_path, [reference_path])
        return EvalSet("garbled", eval_set.sources, eval_set.references, f"garbled:{source}", [f"garbled:{reference}"])
    import json

    data_dir = Path(data_dir)
    folders = [data_dir] if (data_dir / "test").is_dir() else sorted(
        path for path in data_dir.glob("*/test") if path.parent.name != GARBLED_PAIR)
    folders = [folder if folder.name == "test" else folder / "test" for folder in folders]
    sources, targets = [], []
    for folder in folders:
        for shard in sorted(folder.glob("shard-*.json")):  # finished shards only
            for line in shard.with_suffix(".jsonl").read_text(encoding="utf-8").splitlines():
                record = json.loads(line)
                sources.append(" ".join(record["source"].split()))
                targets.append(" ".join(record["target"].split()))
    if not sources:
        raise EvalInputError(f"garbled test set not found: no round trips' test split under {data_dir} "
                             "(build it with: python -m training.roundtrip)")
    label = f"garbled:{data_dir}[test]"
    return make_eval_set("garbled", sources, [targets], f"{label}.garbled", [f"{label}.clean"])


def load_test_set(name: str, data_dir: str | Path | None = None) -> EvalSet:
    """A named test set; ``data_dir`` is where the synthetic pairs or the ood set lie (their defaults else)."""
    if name == "seed":
        return load_seed()
    if name == "synthetic":
        return load_synthetic(DEFAULT_SYNTHETIC_DIR if data_dir is None else data_dir)
    if name == "ood":
        return load_ood(DEFAULT_OOD_DIR if data_dir is None else data_dir)
    if name == "garbled":
        return load_garbled(data_dir)
    raise EvalInputError(f"unknown test set {name!r}; choose one of {', '.join(TEST_SETS)}")

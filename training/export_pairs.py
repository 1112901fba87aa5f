"""Write pairs as xz-compressed JSON lines: the portable form for training on another machine.

    python -m training.export_pairs work_data/pairs .devjob --max-train-pairs 700000

``training.build_data`` saves a ``DatasetDict`` of about 1.7 GB; a lent GPU machine takes a few tens of MB with
the working tree. Each line keeps what training reads: ``source``, ``target`` and the character spans of the
spinner's ``edits``. The spun and the wire sentence of a pair share most of their text, so xz stores the second
almost for free (about 50 bytes a pair). ``unpack`` writes ``{split}.jsonl``, which ``training.train.read_pairs`` reads.
"""

from __future__ import annotations

import argparse
import json
import lzma
import shutil
from pathlib import Path

from datasets import Dataset, load_from_disk

from training.train import SPLITS


def export_split(pairs: Dataset, path: Path) -> int:
    """Write ``pairs`` to ``path`` (``.jsonl.xz``); returns the number of lines. Pairs without the spinner's
    ``edits`` (machine-translation round trips, ``training.garbled_pairs``) keep their ``kind`` instead."""
    columns = [c for c in ("source", "target", "edits", "kind") if c in pairs.column_names]
    pairs = pairs.select_columns(columns)
    with lzma.open(path, "wt", encoding="utf-8") as out:
        for batch in pairs.iter(batch_size=10_000):
            for row in zip(*(batch[c] for c in columns)):
                line = dict(zip(columns, row))
                if "edits" in line:
                    line["edits"] = [{"start": edit["start"], "end": edit["end"]} for edit in line["edits"]]
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
    return len(pairs)


def unpack(packed_dir: str | Path, out_dir: str | Path) -> Path:
    """Decompress ``{split}.jsonl.xz`` of ``packed_dir`` into ``out_dir/{split}.jsonl`` (``read_pairs`` input)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for split in SPLITS:
        with lzma.open(Path(packed_dir) / f"{split}.jsonl.xz", "rb") as packed, open(out_dir / f"{split}.jsonl", "wb") as out:
            shutil.copyfileobj(packed, out, 1 << 24)
    return out_dir


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset_dir", help="DatasetDict written by training.build_data or training.garbled_pairs")
    parser.add_argument("out_dir", help="where {train,validation,test}.jsonl.xz go")
    parser.add_argument("--max-train-pairs", type=int, default=None, help="a random sample of the train split")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    pairs = load_from_disk(args.dataset_dir)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for split in SPLITS:
        data = pairs[split]
        if split == "train" and args.max_train_pairs is not None and args.max_train_pairs < len(data):
            data = data.shuffle(seed=args.seed).select(range(args.max_train_pairs))
        lines = export_split(data, out_dir / f"{split}.jsonl.xz")
        print(f"{split}: {lines} pairs, {(out_dir / f'{split}.jsonl.xz').stat().st_size / 1e6:.1f} MB", flush=True)


if __name__ == "__main__":
    main()

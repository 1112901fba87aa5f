"""``mtfix repair-dataset``: repair a column of Parquet, JSON Lines or ``datasets`` files into shards.

Kept apart from :mod:`mtfix.cli` so that the plain text commands never import pyarrow or Ray.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from .cli import CommandError, add_policy_options, policy_options


def add_parser(commands, workers_type) -> None:
    dataset = commands.add_parser(
        "repair-dataset", help="repair a text column of Parquet, JSON Lines or datasets files (resumable)",
        description="Repair one text column of Parquet files, JSON Lines files or a saved `datasets` folder. OUT "
                    "gets one file per shard of rows (part-00000.parquet, ...; .jsonl for JSON Lines input) with "
                    "every input column plus repaired, edits and error. Run it again to finish an interrupted job.")
    dataset.add_argument("input", metavar="IN", help="a .parquet or .jsonl file, a folder of them, or a datasets folder")
    dataset.add_argument("output", metavar="OUT", help="output folder (created; a rerun resumes the job in it)")
    dataset.add_argument("--column", default="text", help="the text column to repair (default: text)")
    dataset.add_argument("--engine", choices=["local", "ray"], default="local",
                         help="local: forked workers on this machine; ray: actors on a Ray instance (mtfix[cluster])")
    dataset.add_argument("--address", default=None,
                         help="with --engine ray: the cluster to join (e.g. auto, or ray://HEAD:10001); "
                              "default: start a local Ray instance")
    dataset.add_argument("--workers", type=workers_type, default="auto", metavar="N",
                         help="forked workers (local) or Ray actors, one core each (default auto: one per core here)")
    dataset.add_argument("--shard-rows", type=int, default=None, metavar="N",
                         help="rows per shard, the unit of output files and of resuming (default 10000)")
    dataset.add_argument("--ship-model", action="store_true",
                         help="with --engine ray: send the model through Ray's object store (nodes without shared storage)")
    dataset.add_argument("--model", metavar="DIR", help="model directory (default: the bundled model)")
    dataset.add_argument("--batch-size", type=int, default=32, metavar="N")
    dataset.add_argument("--min-confidence", type=float, default=None, metavar="P",
                         help="do not apply edits the model is less sure of (0-1)")
    add_policy_options(dataset)
    shown = dataset.add_mutually_exclusive_group()
    shown.add_argument("--progress", action="store_true", default=None,
                       help="show a progress bar in rows (default: when stderr is a terminal)")
    shown.add_argument("--quiet", action="store_false", dest="progress", help="no progress bar")


def run(args: argparse.Namespace) -> None:
    from tqdm.auto import tqdm

    from .batch import DEFAULT_SHARD_ROWS, BatchError, pending_shards, prepare_job, repair_files

    options = {"batch_size": args.batch_size, **policy_options(args)}
    if args.min_confidence is not None:
        options["min_confidence"] = args.min_confidence
    shard_rows = DEFAULT_SHARD_ROWS if args.shard_rows is None else args.shard_rows
    try:
        job = prepare_job(Path(args.input), Path(args.output), args.column, args.model, shard_rows)
        total = sum(shard.rows for shard in job.shards)
        left = sum(shard.rows for shard in pending_shards(job, Path(args.output)))
        show = sys.stderr.isatty() if args.progress is None else args.progress
        if args.engine == "ray":
            start_ray(args.address)
        with tqdm(total=total, initial=total - left, unit="row", desc="repairing", disable=not show) as bar:
            repair_files(args.input, args.output, args.column, model=args.model, engine=args.engine,
                         workers=args.workers, shard_rows=shard_rows, ship_model=args.ship_model,
                         on_shard=lambda done: bar.update(done.rows), **options)
    except BatchError as error:
        raise CommandError(str(error)) from None


def start_ray(address: str | None) -> None:
    """Join the cluster at ``address`` (or start a local instance) unless this process already has."""
    try:
        import ray
        import ray.data
    except ImportError:
        raise CommandError("--engine ray needs Ray Data: pip install 'mtfix[cluster]'") from None
    if not ray.is_initialized():
        try:
            ray.init(address=address, logging_level=logging.WARNING)
        except (ConnectionError, RuntimeError) as error:
            raise CommandError(f"cannot start or join Ray ({address or 'local'}): {error}") from None
    ray.data.DataContext.get_current().enable_progress_bars = False

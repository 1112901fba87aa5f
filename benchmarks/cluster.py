"""What a distributed engine costs: repairing one archive on this machine and through Ray Data.

    python benchmarks/cluster.py [--rows 2000] [--files 8] [--workers 1 2]

The archive is ``--rows`` lines of ABC rural news (../shared), every other line spun by our spinner,
in ``--files`` Parquet files. Each row of the table runs in a fresh subprocess (no warm caches):

- ``repair_many``: ``Repairer(workers=N).repair_many_with_edits`` on all texts in one call, what
  ``mtfix repair --workers N`` does with a file: the baseline;
- ``local``: ``mtfix repair-dataset --engine local --workers N`` (one shard a file, N forked workers);
- ``ray``: ``mtfix repair-dataset --engine ray --workers N`` on a local Ray instance (N actors, one
  shard a task);
- ``ray data``: ``read_parquet -> repair_ray_dataset(concurrency=N) -> write_parquet`` (rows in batches
  of 256 through the actor pool).

"start-up" is what comes before the first repair (model load; for Ray, ``ray.init`` is listed apart and
the actors' start and model load are in start-up), "repair" the time from the first shard's start to the
last one's end (for ``ray data``, the wall time Ray's own stats give the repair operator, and start-up
the rest of the run after ``ray.init``: listing and reading the files, starting the actors, writing). rows/s is rows over repair time, and "vs repair_many" compares it
with the baseline of the same N.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
ABC_RURAL = REPO.parent / "shared" / "data" / "abc" / "rural.txt"


def build_archive(folder: Path, rows: int, files: int) -> list[str]:
    """Write the archive's Parquet files and return its texts in order."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mtfix.spin import Spinner

    lines = [line.strip() for line in ABC_RURAL.read_bytes().decode("utf-8", errors="replace").splitlines()]
    lines = list(dict.fromkeys(line for line in lines if len(line.split()) >= 6))[:rows]
    if len(lines) < rows:
        raise SystemExit(f"{ABC_RURAL} has only {len(lines)} distinct lines of six words or more")
    spinner = Spinner(seed=3)
    texts = [spinner.spin(line).text if i % 2 else line for i, line in enumerate(lines)]
    per_file = -(-rows // files)
    for part, start in enumerate(range(0, rows, per_file)):
        chunk = texts[start:start + per_file]
        pq.write_table(pa.table({"id": list(range(start, start + len(chunk))), "text": chunk}),
                       folder / f"archive-{part:02d}.parquet")
    return texts


# -- one measurement, in a fresh subprocess -------------------------------------------------------------


def measure(engine: str, workers: int, archive: Path, out: Path) -> dict:
    """Seconds of start-up and of repair for one engine; ``out`` gets the engine's output."""
    import pyarrow.parquet as pq

    started = time.time()
    if engine == "repair_many":
        from mtfix import Repairer

        texts = pq.read_table(archive).column("text").to_pylist()
        repairer = Repairer(workers=workers)
        loaded = time.time()
        repairer.repair_many_with_edits(texts)
        return {"ray_init": 0.0, "startup": loaded - started, "repair": time.time() - loaded}
    ray_init = 0.0
    if engine in ("ray", "ray data"):
        import logging

        import ray

        # Ray Data's read and write tasks need a CPU beside the actors (mtfix.batch._check_cpus).
        import ray.data

        ray.init(num_cpus=workers + 1 if engine == "ray data" else None, logging_level=logging.WARNING)
        ray.data.DataContext.get_current().enable_progress_bars = False
        ray_init = time.time() - started
        started = time.time()
    if engine == "ray data":
        import ray.data

        from mtfix.batch import repair_ray_dataset

        repaired = repair_ray_dataset(ray.data.read_parquet(str(archive)), concurrency=workers).materialize()
        repaired.write_parquet(str(out))
        total = time.time() - started
        # The pipeline does not say when its actors were ready; Ray's own stats time the repair operator.
        match = re.search(r"MapBatches\(RayRepairActor\)[^:]*: \d+ tasks executed, \d+ blocks produced in ([\d.]+)s",
                          repaired.stats())
        repair = float(match.group(1)) if match else total
        return {"ray_init": ray_init, "startup": total - repair, "repair": repair}
    from mtfix.batch import repair_files

    done = []
    repair_files(archive, out, engine=engine, workers=workers, shard_rows=10**9, on_shard=done.append)
    first, last = min(d.started for d in done), max(d.finished for d in done)
    return {"ray_init": ray_init, "startup": first - started, "repair": last - first}


def run_measurement(engine: str, workers: int, archive: Path, scratch: Path) -> dict:
    out = scratch / f"out-{engine.replace(' ', '-')}-{workers}"
    job = {"engine": engine, "workers": workers, "archive": str(archive), "out": str(out)}
    process = subprocess.run([sys.executable, __file__, "--measure", json.dumps(job)], capture_output=True,
                             text=True, env={**os.environ, "RAY_DEDUP_LOGS": "0"})
    if process.returncode != 0:
        raise SystemExit(f"{engine} with {workers} failed:\n{process.stderr[-3000:]}")
    return json.loads(process.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--engines", nargs="+", default=["repair_many", "local", "ray", "ray data"])
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        job = json.loads(args.measure)
        print(json.dumps(measure(job["engine"], job["workers"], Path(job["archive"]), Path(job["out"]))))
        return
    with tempfile.TemporaryDirectory(prefix="mtfix-cluster-") as scratch:
        scratch = Path(scratch)
        archive = scratch / "archive"
        archive.mkdir()
        build_archive(archive, args.rows, args.files)
        print(f"{args.rows} rows in {args.files} Parquet files; {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
              f"Python {platform.python_version()}\n")
        print("| engine | workers | ray.init s | start-up s | repair s | rows/s | vs repair_many |")
        print("|---|---|---|---|---|---|---|")
        baseline = {}
        for workers in args.workers:
            for engine in args.engines:
                result = run_measurement(engine, workers, archive, scratch)
                rate = args.rows / result["repair"]
                if engine == "repair_many":
                    baseline[workers] = rate
                ratio = f"{rate / baseline[workers]:.2f}" if workers in baseline else "-"
                print(f"| {engine} | {workers} | {result['ray_init']:.1f} | {result['startup']:.1f} | "
                      f"{result['repair']:.1f} | {rate:.0f} | {ratio} |", flush=True)


if __name__ == "__main__":
    main()

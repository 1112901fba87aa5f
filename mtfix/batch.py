"""Repair a text column of a dataset and keep the edits next to it.

Three ways in, one per-batch function (:func:`repair_column`) under all of them:

- :func:`repair_dataset`: a Hugging Face ``datasets.Dataset`` (``Dataset.map(batched=True, num_proc=N)``);
- :func:`repair_ray_dataset`: a Ray Data ``Dataset`` (``map_batches`` over a pool of actors, one loaded
  :class:`~mtfix.Repairer` per actor), on a local Ray instance or a cluster;
- :func:`repair_files` (``mtfix repair-dataset``): Parquet files, JSON Lines files or a saved ``datasets``
  directory, cut into shards of rows that are repaired and written one output file each, so a run that
  is interrupted (or a worker that dies) redoes only the shards that have no output file yet.

Each adds three columns and keeps every other column and the row order:
``repaired`` (the repaired text), ``edits`` (a list of ``{start, end, before, after, score}``, offsets into
the input text) and ``error`` (null, or why the row was passed through unchanged: a value that is not
text, or a text the repairer failed on; one bad row never sinks its batch).

Ray and pyarrow are optional (``pip install 'mtfix[cluster]'``); nothing here imports them until asked.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from .model import resolve_model_dir

if TYPE_CHECKING:
    import datasets
    import pyarrow as pa
    import ray.data

    from .repairer import Repairer

REPAIRED, EDITS, ERROR = "repaired", "edits", "error"
NEW_COLUMNS = (REPAIRED, EDITS, ERROR)
FORMATS = ("parquet", "jsonl", "datasets")
JOB_FILE = "mtfix-job.json"
DEFAULT_SHARD_ROWS = 10_000


class BatchError(Exception):
    """An unusable input, output folder or option; the message says which and what to do."""


# -- the per-batch work ---------------------------------------------------------------------------


def repair_column(repairer: "Repairer", values: Sequence[object]) -> dict[str, list]:
    """The ``repaired``, ``edits`` and ``error`` columns for one batch of a text column.

    Texts are repaired together (batched, in the repairer's workers). A value that is not a str is
    passed through (``repaired`` null, ``error`` says why; a null stays null without an error); if
    the batch fails, its texts are repaired one by one so that only the rows that fail are passed
    through unchanged, with the error.
    """
    repaired: list[str | None] = [None] * len(values)
    edits: list[list[dict]] = [[] for _ in values]
    errors: list[str | None] = [None] * len(values)
    rows = []
    for row, value in enumerate(values):
        if isinstance(value, str):
            rows.append(row)
        elif value is not None:
            errors[row] = f"not text: {type(value).__name__}"
    texts = [values[row] for row in rows]
    try:
        results = repairer.repair_many_with_edits(texts)
    except Exception:  # noqa: BLE001 - find the rows that fail, keep the others
        results = []
        for row, text in zip(rows, texts):
            try:
                results.append(repairer.repair_with_edits(text))
            except Exception as error:  # noqa: BLE001 - a row's failure is reported in its error field
                results.append(None)
                errors[row] = f"{type(error).__name__}: {error}"
    for row, text, result in zip(rows, texts, results):
        if result is None:
            repaired[row] = text
        else:
            repaired[row] = result.text
            edits[row] = [edit.to_dict() for edit in result.edits]
    return {REPAIRED: repaired, EDITS: edits, ERROR: errors}


def _check_columns(names: Sequence[str], column: str) -> None:
    if column not in names:
        raise BatchError(f"no column {column!r}; the columns are {', '.join(map(repr, names)) or 'none'}")
    clashing = [name for name in NEW_COLUMNS if name in names]
    if clashing:
        raise BatchError(f"the input already has column(s) {', '.join(map(repr, clashing))}, which the repair adds; "
                         "rename them first")


def model_fingerprint(model: str | os.PathLike | None) -> str:
    """A short hash of a model directory's files (names, sizes and the settings file), so that caches and
    resumed jobs notice a different model."""
    path = resolve_model_dir(model)
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(f"{file.relative_to(path)}:{file.stat().st_size}\n".encode())
    settings = path / "mtfix.json"
    if settings.is_file():
        digest.update(settings.read_bytes())
    return digest.hexdigest()[:16]


_REPAIRERS: dict[tuple, "Repairer"] = {}


def _repairer(model: str | None, options: tuple) -> "Repairer":
    """One Repairer per process and option set: map functions run in worker processes that load it once."""
    key = (model, options)
    if key not in _REPAIRERS:
        from .repairer import Repairer

        _REPAIRERS[key] = Repairer(model, **dict(options))
    return _REPAIRERS[key]


# -- Hugging Face datasets ------------------------------------------------------------------------


@dataclass(frozen=True)
class _ColumnRepair:
    """The ``Dataset.map`` function: picklable (options only), loads its Repairer in the process it runs in.
    ``fingerprint`` makes ``datasets``' cache tell one model from another."""

    column: str
    model: str | None
    options: tuple
    fingerprint: str

    def __call__(self, batch: dict[str, list]) -> dict[str, list]:
        return repair_column(_repairer(self.model, self.options), batch[self.column])


def repair_dataset(ds: "datasets.Dataset", column: str = "text", *, model: str | os.PathLike | None = None,
                   num_proc: int | None = None, batch_size: int = 256, **repairer_options: Any) -> "datasets.Dataset":
    """``ds`` with ``repaired``, ``edits`` and ``error`` columns added (every other column and the row order kept).

    ``num_proc`` processes repair side by side, each with its own model; ``repairer_options`` go to
    :class:`~mtfix.Repairer` (``workers`` stays 1 per process: the processes are the parallelism).
    ``datasets`` caches the result for datasets loaded from files, keyed by the model's fingerprint.
    """
    import datasets

    _check_columns(list(ds.column_names), column)
    features = ds.features.copy()
    features[REPAIRED] = datasets.Value("string")
    # A list of one struct: a list feature in every datasets version (List() arrived only in 4.0).
    features[EDITS] = [{"start": datasets.Value("int64"), "end": datasets.Value("int64"),
                        "before": datasets.Value("string"), "after": datasets.Value("string"),
                        "score": datasets.Value("float64")}]
    features[ERROR] = datasets.Value("string")
    model = None if model is None else str(model)
    function = _ColumnRepair(column, model, tuple(sorted(repairer_options.items())), model_fingerprint(model))
    return ds.map(function, batched=True, batch_size=batch_size, num_proc=num_proc, features=features,
                  desc="repairing")


# -- Ray Data -------------------------------------------------------------------------------------


def _edit_type() -> "pa.DataType":
    import pyarrow as pa

    return pa.list_(pa.struct([("start", pa.int64()), ("end", pa.int64()), ("before", pa.string()),
                               ("after", pa.string()), ("score", pa.float64())]))


def with_repair_columns(table: "pa.Table", columns: dict[str, list]) -> "pa.Table":
    """``table`` with the three columns of :func:`repair_column` appended, typed (an empty edit list
    is still a list of structs)."""
    import pyarrow as pa

    table = table.append_column(REPAIRED, pa.array(columns[REPAIRED], type=pa.string()))
    table = table.append_column(EDITS, pa.array(columns[EDITS], type=_edit_type()))
    return table.append_column(ERROR, pa.array(columns[ERROR], type=pa.string()))


def _one_blas_thread() -> None:
    # One actor per core: BLAS threads of their own only compete with the other actors.
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


class ModelFiles:
    """A model directory's files as bytes, to ship through Ray's object store to nodes that do not share
    a file system with the driver; :meth:`unpack` writes them to a local folder on the worker."""

    def __init__(self, model: str | os.PathLike | None):
        root = resolve_model_dir(model)
        self.files = {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    def unpack(self) -> str:
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix="mtfix-model-"))
        for name, data in self.files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
        return str(folder)


def _model_on_worker(model: str | None, shipped: list | None) -> str | None:
    """The model path an actor loads: unpacked from the object store when it was shipped, else as given."""
    if not shipped:
        return model
    import ray

    return ray.get(shipped[0]).unpack()


class RayRepairActor:
    """The ``map_batches`` callable class: one Repairer per actor, pyarrow batches in and out."""

    def __init__(self, column: str, model: str | None, options: tuple, shipped: list | None = None):
        _one_blas_thread()
        self.column = column
        self.repairer = _repairer(_model_on_worker(model, shipped), options)

    def __call__(self, batch: "pa.Table") -> "pa.Table":
        return with_repair_columns(batch, repair_column(self.repairer, batch.column(self.column).to_pylist()))


def _check_cpus(needed: int, for_what: str) -> None:
    """A clear error, instead of a pipeline that waits forever, when the Ray instance has too few CPUs.
    (An autoscaling cluster counts the CPUs it has now: start enough nodes first.)"""
    import ray

    have = ray.cluster_resources().get("CPU", 0)
    if have < needed:
        raise BatchError(f"this Ray instance has {have:g} CPUs; {for_what} need {needed}: use fewer "
                         f"workers, or start Ray with more (ray.init(num_cpus=...), ray start --num-cpus ...)")


def _ship(model: str | os.PathLike | None, ship_model: bool) -> list | None:
    if not ship_model:
        return None
    import ray

    # A list, so Ray hands the actor the reference and the actor fetches it once, when it starts.
    return [ray.put(ModelFiles(model))]


def repair_ray_dataset(ds: "ray.data.Dataset", column: str = "text", *, model: str | os.PathLike | None = None,
                       concurrency: int = 2, batch_size: int = 256, ship_model: bool = False,
                       preserve_order: bool = True, **repairer_options: Any) -> "ray.data.Dataset":
    """``ds`` with ``repaired``, ``edits`` and ``error`` columns, repaired by ``concurrency`` actors (one CPU
    and one loaded model each).

    ``model``: a path every node can read (shared storage), or None for the model bundled in the package;
    ``ship_model=True`` sends the model's files through the object store instead (nodes need only mtfix
    installed). ``preserve_order`` keeps the input's row order in what is written or iterated (Ray's
    default would give up order for speed). Ray restarts an actor that dies and retries its batch, so
    no row is lost or written twice. Lazy, as Ray datasets are: write it (``write_parquet``) or iterate it.
    """
    _check_columns(list(ds.schema().names), column)
    if concurrency < 1:
        raise BatchError(f"concurrency must be at least 1, got {concurrency}")
    # Ray Data reads and writes in tasks of one CPU each: with every CPU held by an actor they never run
    # and the pipeline waits forever (seen with 2 actors on a 2-CPU instance).
    _check_cpus(concurrency + 1, f"{concurrency} actors and one CPU for Ray Data's read and write tasks")
    if preserve_order:
        ds.context.execution_options.preserve_order = True
    model = None if model is None else str(model)
    kwargs = {"column": column, "model": model, "options": tuple(sorted(repairer_options.items())),
              "shipped": _ship(model, ship_model)}
    # A file is often one block, and a block goes to one actor: blocks of one batch share the work out.
    ds = ds.repartition(target_num_rows_per_block=batch_size)
    return ds.map_batches(RayRepairActor, fn_constructor_kwargs=kwargs, batch_format="pyarrow",
                          batch_size=batch_size, concurrency=concurrency, num_cpus=1)


# -- files on disk, in resumable shards -------------------------------------------------------------


@dataclass(frozen=True)
class Shard:
    """Rows ``start .. start + rows`` of one input, written to one output file when repaired.
    ``offset`` is the byte offset of row ``start`` in a JSON Lines file (0 for other formats)."""

    index: int
    path: str
    start: int
    rows: int
    offset: int = 0

    @property
    def name(self) -> str:
        return f"part-{self.index:05d}"


def input_format(path: Path) -> str:
    """parquet, jsonl or datasets (a folder saved by ``Dataset.save_to_disk``), from the path."""
    if path.is_dir():
        if (path / "dataset_info.json").is_file() or (path / "state.json").is_file():
            return "datasets"
        kinds = {_file_format(p) for p in path.iterdir() if p.is_file() and _file_format(p)}
        if len(kinds) == 1:
            return kinds.pop()
        raise BatchError(f"{path} holds no .parquet or .jsonl files (or both kinds); give one kind of input")
    kind = _file_format(path)
    if kind is None:
        raise BatchError(f"{path}: unknown input format; expected .parquet, .jsonl/.json or a datasets folder")
    return kind


def _file_format(path: Path) -> str | None:
    suffixes = path.name.lower().split(".")[1:]
    if "parquet" in suffixes:
        return "parquet"
    if suffixes and suffixes[-1] in ("jsonl", "json", "ndjson"):
        return "jsonl"
    return None


def _input_files(path: Path, kind: str) -> list[Path]:
    if kind == "datasets" or path.is_file():
        return [path]
    return sorted(p for p in path.iterdir() if p.is_file() and _file_format(p) == kind)


def plan_shards(path: Path, kind: str, shard_rows: int) -> list[Shard]:
    """Cut the input into shards of at most ``shard_rows`` rows, in input order."""
    shards: list[Shard] = []
    for file in _input_files(path, kind):
        if kind == "parquet":
            starts = [(start, 0) for start in range(0, _parquet_rows(file), shard_rows)]
            total = _parquet_rows(file)
        elif kind == "jsonl":
            starts, total = _jsonl_starts(file, shard_rows)
        else:
            total = _load_datasets(file).num_rows
            starts = [(start, 0) for start in range(0, total, shard_rows)]
        for start, offset in starts:
            shards.append(Shard(len(shards), str(file), start, min(shard_rows, total - start), offset))
    return shards


def _parquet_rows(file: Path) -> int:
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(file).metadata.num_rows
    except Exception as error:  # noqa: BLE001 - pyarrow raises several kinds for a broken file
        raise BatchError(f"{file} is not a readable Parquet file: {error}") from None


def _jsonl_starts(file: Path, shard_rows: int) -> tuple[list[tuple[int, int]], int]:
    """(row, byte offset) where each shard starts, and the number of rows (non-blank lines)."""
    starts, row, offset = [], 0, 0
    with open(file, "rb") as handle:
        for line in handle:
            if line.strip():
                if row % shard_rows == 0:
                    starts.append((row, offset))
                row += 1
            offset += len(line)
    return starts, row


def _load_datasets(path: Path) -> "datasets.Dataset":
    import datasets

    loaded = datasets.load_from_disk(str(path))
    if isinstance(loaded, datasets.DatasetDict):
        raise BatchError(f"{path} holds several splits ({', '.join(loaded)}); give one split's folder")
    return loaded


def read_shard(shard: Shard, kind: str) -> "pa.Table | list[dict]":
    """The shard's rows: a pyarrow Table (Parquet, datasets) or a list of JSON objects (JSON Lines, whose
    rows need not share a schema)."""
    if kind == "jsonl":
        rows = []
        with open(shard.path, "rb") as handle:
            handle.seek(shard.offset)
            for line in handle:
                if len(rows) == shard.rows:
                    break
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except ValueError as error:
                        raise BatchError(f"{shard.path}: row {shard.start + len(rows) + 1} is not JSON: {error}") from None
        return rows
    if kind == "parquet":
        return _parquet_slice(Path(shard.path), shard.start, shard.rows)
    return _load_datasets(Path(shard.path)).with_format("arrow")[shard.start:shard.start + shard.rows]


def _parquet_slice(file: Path, start: int, rows: int) -> "pa.Table":
    """Rows ``start .. start + rows`` of a Parquet file, reading only the row groups that hold them."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(file)
    groups, first_row, row = [], None, 0
    for group in range(parquet.metadata.num_row_groups):
        size = parquet.metadata.row_group(group).num_rows
        if row + size > start and row < start + rows:
            groups.append(group)
            first_row = row if first_row is None else first_row
        row += size
    if not groups:
        return parquet.schema_arrow.empty_table()
    table = pa.concat_tables([parquet.read_row_group(group) for group in groups])
    return table.slice(start - first_row, rows)


def repair_shard_rows(repairer: "Repairer", data: "pa.Table | list[dict]", column: str) -> "pa.Table | list[dict]":
    """The shard's rows with the three repair columns."""
    if isinstance(data, list):
        if any(not isinstance(row, dict) for row in data):
            raise BatchError("every JSON Lines row must be an object")
        clashing = sorted({name for row in data for name in NEW_COLUMNS if name in row})
        if clashing:
            raise BatchError(f"the input already has field(s) {', '.join(map(repr, clashing))}, which the repair adds")
        columns = repair_column(repairer, [row.get(column) for row in data])
        return [{**row, **{name: columns[name][i] for name in NEW_COLUMNS}} for i, row in enumerate(data)]
    _check_columns(data.column_names, column)
    return with_repair_columns(data, repair_column(repairer, data.column(column).to_pylist()))


def write_shard(data: "pa.Table | list[dict]", target: Path) -> None:
    """Write a shard's output all or nothing: a unique temporary name in the same folder, then a rename
    (two attempts at one shard, after a worker died, never see each other's half files)."""
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        if isinstance(data, list):
            with open(temporary, "w", encoding="utf-8") as handle:
                for row in data:
                    handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            import pyarrow.parquet as pq

            pq.write_table(data, temporary)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


@dataclass(frozen=True)
class Job:
    """What a ``repair-dataset`` run does; saved in the output folder, so a rerun resumes only the same job."""

    input: str
    format: str
    column: str
    model: str
    shard_rows: int
    shards: tuple[Shard, ...]

    def output_path(self, out: Path, shard: Shard) -> Path:
        return out / f"{shard.name}.{'jsonl' if self.format == 'jsonl' else 'parquet'}"

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "shards": [asdict(s) for s in self.shards]}, indent=1)

    @classmethod
    def from_json(cls, text: str) -> "Job":
        data = json.loads(text)
        return cls(**{**data, "shards": tuple(Shard(**s) for s in data["shards"])})


def prepare_job(source: Path, out: Path, column: str, model: str | None, shard_rows: int) -> Job:
    """The job for ``source``, checked against the one already in ``out`` (a rerun resumes it)."""
    if shard_rows < 1:
        raise BatchError(f"--shard-rows must be at least 1, got {shard_rows}")
    if not source.exists():
        raise BatchError(f"cannot read {source}: no such file or folder")
    kind = input_format(source)
    job = Job(str(source.resolve()), kind, column, model_fingerprint(model), shard_rows,
              tuple(plan_shards(source, kind, shard_rows)))
    if out.exists() and not out.is_dir():
        raise BatchError(f"{out} is a file; the output is a folder of shards")
    saved = out / JOB_FILE
    if saved.is_file():
        try:
            previous = Job.from_json(saved.read_text(encoding="utf-8"))
        except (ValueError, TypeError, KeyError) as error:
            raise BatchError(f"{saved} is not a job file mtfix wrote ({error}); use another output folder") from None
        if previous != job:
            raise BatchError(f"{out} holds the output of another job (other input, column, model or shard size); "
                             "use another output folder")
    elif out.is_dir() and any(out.iterdir()):
        raise BatchError(f"{out} is not empty and holds no {JOB_FILE}; use a new output folder")
    out.mkdir(parents=True, exist_ok=True)
    if not saved.is_file():
        saved.write_text(job.to_json(), encoding="utf-8")
    for leftover in out.glob(".part-*.tmp"):  # half-written shards of an interrupted run
        leftover.unlink(missing_ok=True)
    return job


@dataclass(frozen=True)
class ShardDone:
    """A finished shard, with when its repair started and ended (seconds since the epoch)."""

    index: int
    rows: int
    started: float
    finished: float


def _run_shard(repairer: "Repairer", job: Job, out: Path, shard: Shard) -> ShardDone:
    started = time.time()
    data = read_shard(shard, job.format)
    write_shard(repair_shard_rows(repairer, data, job.column), job.output_path(out, shard))
    return ShardDone(shard.index, shard.rows, started, time.time())


def run_local(job: Job, out: Path, pending: list[Shard], model: str | None, workers: int,
              **repairer_options: Any) -> Iterator[ShardDone]:
    """Repair the pending shards in this process, with ``workers`` forked workers; yields each finished shard."""
    from .repairer import Repairer

    repairer = Repairer(model, workers=workers, **repairer_options)
    with repairer.keep_workers():  # one pool for all shards: its workers' caches stay warm
        for shard in pending:
            yield _run_shard(repairer, job, out, shard)


class RayShardActor:
    """A ``map_batches`` actor that repairs whole shards (read, repair, write one output file each) with its
    own loaded model. Only shard descriptions travel through Ray; the data goes from the input path to the
    output path (shared storage on a cluster), so the driver is never the bottleneck."""

    def __init__(self, job_json: str, out: str, model: str | None, options: tuple, shipped: list | None = None):
        _one_blas_thread()
        self.job = Job.from_json(job_json)
        self.out = Path(out)
        self.repairer = _repairer(_model_on_worker(model, shipped), options)

    def __call__(self, batch: dict) -> dict:
        done = [self._one(json.loads(text)) for text in batch["shard"]]
        return {"index": [d.index for d in done], "rows": [d.rows for d in done],
                "started": [d.started for d in done], "finished": [d.finished for d in done]}

    def _one(self, shard: dict) -> ShardDone:
        shard = Shard(**shard)
        target = self.job.output_path(self.out, shard)
        if target.exists():  # a retried batch whose shard an earlier attempt finished
            return ShardDone(shard.index, shard.rows, time.time(), time.time())
        return _run_shard(self.repairer, self.job, self.out, shard)


def run_ray(job: Job, out: Path, pending: list[Shard], model: str | None, actors: int, ship_model: bool = False,
            **repairer_options: Any) -> Iterator[ShardDone]:
    """Repair the pending shards on the Ray instance this process is connected to (``ray.init`` first),
    ``actors`` at a time, one shard a task; yields each finished shard as it comes back."""
    import ray.data

    if not pending:
        return
    _check_cpus(actors, f"{actors} actors")
    items = [{"shard": json.dumps(asdict(shard))} for shard in pending]
    shards = ray.data.from_items(items, override_num_blocks=len(items))
    kwargs = {"job_json": job.to_json(), "out": str(out.resolve()), "model": model,
              "options": tuple(sorted(repairer_options.items())), "shipped": _ship(model, ship_model)}
    finished = shards.map_batches(RayShardActor, fn_constructor_kwargs=kwargs, batch_size=1, batch_format="numpy",
                                  concurrency=actors, num_cpus=1)
    for row in finished.iter_rows():
        yield ShardDone(int(row["index"]), int(row["rows"]), float(row["started"]), float(row["finished"]))


def pending_shards(job: Job, out: Path) -> list[Shard]:
    """The shards without an output file (a finished shard is never redone)."""
    return [shard for shard in job.shards if not job.output_path(out, shard).exists()]


def repair_files(source: str | os.PathLike, out: str | os.PathLike, column: str = "text", *,
                 model: str | os.PathLike | None = None, engine: str = "local", workers: int = 1,
                 shard_rows: int = DEFAULT_SHARD_ROWS, ship_model: bool = False,
                 on_shard: Callable[[ShardDone], None] | None = None, **repairer_options: Any) -> Job:
    """Repair ``column`` of Parquet files, JSON Lines files or a saved ``datasets`` folder into ``out``: one
    output file per shard (``part-00000.parquet``, ... or ``.jsonl`` for JSON Lines input), rows in input
    order, every input column kept. Resumable: run it again and only shards without output are done.

    ``engine="local"``: this machine, ``workers`` forked processes; ``engine="ray"``: the Ray instance this
    process is connected to (call ``ray.init(...)`` first), ``workers`` actors. ``on_shard`` is called as
    each shard finishes (progress).
    """
    if engine not in ("local", "ray"):
        raise BatchError(f"engine must be 'local' or 'ray', got {engine!r}")
    if workers < 1:
        raise BatchError(f"workers must be at least 1, got {workers}")
    out = Path(out)
    model = None if model is None else str(model)
    job = prepare_job(Path(source), out, column, model, shard_rows)
    pending = pending_shards(job, out)
    if engine == "local":
        done = run_local(job, out, pending, model, workers, **repairer_options)
    else:
        done = run_ray(job, out, pending, model, workers, ship_model=ship_model, **repairer_options)
    for shard in done:
        if on_shard is not None:
            on_shard(shard)
    return job


def read_output(out: str | os.PathLike) -> "pa.Table | list[dict]":
    """All rows of a finished ``repair_files`` output, in input order (Parquet: one Table; JSON Lines: dicts)."""
    out = Path(out)
    job = Job.from_json((out / JOB_FILE).read_text(encoding="utf-8"))
    paths = [job.output_path(out, shard) for shard in job.shards]
    missing = [p.name for p in paths if not p.exists()]
    if missing:
        raise BatchError(f"{out} is not finished: {len(missing)} shard(s) missing ({missing[0]}, ...); run the job again")
    if job.format == "jsonl":
        return [json.loads(line) for p in paths for line in p.read_text(encoding="utf-8").splitlines() if line]
    import pyarrow as pa
    import pyarrow.parquet as pq

    return pa.concat_tables([pq.read_table(p) for p in paths])

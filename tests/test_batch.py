"""Repairing a column of a dataset: Hugging Face datasets, Ray Data on a local instance, sharded files.

The archive is 2,000 rows of real news lines (ABC, from ../shared), half of them spun, in 8 Parquet files;
every engine must give the rows `Repairer().repair_many_with_edits` gives, byte for byte, edits included.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from mtfix import Repairer
from mtfix.batch import (EDITS, ERROR, JOB_FILE, REPAIRED, BatchError, read_output, repair_column, repair_dataset,
                         repair_files)
from mtfix.cli import main

from conftest import REPO

ABC = REPO.parent / "shared" / "data" / "abc" / "science.txt"
ROWS = 2_000
FILES = 8


@pytest.fixture(scope="module")
def texts() -> list[str | None]:
    if not ABC.is_file():
        pytest.skip("needs ../shared/data/abc (the shared corpora)")
    from mtfix.spin import Spinner

    lines = [line.strip() for line in ABC.read_bytes().decode("utf-8", errors="replace").splitlines() if line.strip()]
    spinner = Spinner(seed=7)
    rows: list[str | None] = [spinner.spin(line).text if i % 2 else line for i, line in enumerate(lines[:ROWS - 4])]
    # Rows a scraped archive has too: nothing, an empty text, markup, another language.
    return rows + [None, "", "<p>The <b>navy</b> help</p>", "Le ministre a déclaré que les pourparlers avaient échoué."]


@pytest.fixture(scope="module")
def expected(texts):
    """The reference rows: (repaired, edits) of Repairer().repair_many_with_edits on the same texts."""
    results = iter(Repairer().repair_many_with_edits([t for t in texts if t is not None]))
    rows = []
    for text in texts:
        if text is None:
            rows.append((None, []))
        else:
            result = next(results)
            rows.append((result.text, [edit.to_dict() for edit in result.edits]))
    assert sum(len(edits) for _, edits in rows) > 100, "the archive should give the repairer work"
    return rows


@pytest.fixture(scope="module")
def archive(texts, tmp_path_factory) -> Path:
    """A folder of 8 Parquet files with an id, the text and a column the repair must keep."""
    folder = tmp_path_factory.mktemp("archive")
    per_file = ROWS // FILES
    for part in range(FILES):
        rows = range(part * per_file, (part + 1) * per_file)
        table = pa.table({"id": list(rows), "text": [texts[i] for i in rows], "outlet": [f"outlet-{i % 7}" for i in rows]})
        pq.write_table(table, folder / f"archive-{part:02d}.parquet", row_group_size=100)
    return folder


def assert_rows_match(table, texts, expected, ids=None):
    ids = list(range(len(texts))) if ids is None else ids
    assert table.column("id").to_pylist() == ids
    assert table.column("text").to_pylist() == [texts[i] for i in ids]
    assert table.column("outlet").to_pylist() == [f"outlet-{i % 7}" for i in ids]
    assert table.column(REPAIRED).to_pylist() == [expected[i][0] for i in ids]
    assert table.column(EDITS).to_pylist() == [expected[i][1] for i in ids]
    assert table.column(ERROR).to_pylist() == [None] * len(ids)


@pytest.fixture(scope="module")
def ray_instance():
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    import logging

    # Two actors on CI's 2 cores, and one logical CPU more for Ray Data's read and write tasks.
    ray.init(num_cpus=3, include_dashboard=False, logging_level=logging.WARNING)
    import ray.data

    ray.data.DataContext.get_current().enable_progress_bars = False
    yield ray
    ray.shutdown()


# -- the per-batch function --------------------------------------------------------------------------


class _FailsOn:
    """A repairer that fails on texts holding a marker, as a real one could on text it cannot handle."""

    def __init__(self, marker: str):
        self.marker = marker
        self.real = Repairer()

    def repair_many_with_edits(self, texts):
        if any(self.marker in text for text in texts):
            raise RuntimeError("boom")
        return self.real.repair_many_with_edits(texts)

    def repair_with_edits(self, text):
        return self.repair_many_with_edits([text])[0]


def test_a_failing_row_is_passed_through_with_its_error_and_the_rest_repaired():
    values = ["Russia released a navy intervention in help of Assad.", "XX marks the spot", None, 42]
    columns = repair_column(_FailsOn("XX"), values)
    good = Repairer().repair_with_edits(values[0])
    assert good.edits, "the first row needs a repair for this test to mean anything"
    assert columns[REPAIRED] == [good.text, "XX marks the spot", None, None]
    assert columns[EDITS][0] == [edit.to_dict() for edit in good.edits] and columns[EDITS][1:] == [[], [], []]
    assert columns[ERROR][0] is None and columns[ERROR][1] == "RuntimeError: boom"
    assert columns[ERROR][2] is None  # a null stays null: nothing to repair, nothing wrong
    assert columns[ERROR][3] == "not text: int"


# -- local engine: shards, resuming --------------------------------------------------------------------


def test_local_engine_gives_the_rows_of_repair_many(archive, texts, expected, tmp_path):
    out = tmp_path / "out"
    assert main(["repair-dataset", str(archive), str(out), "--workers", "2", "--shard-rows", "150", "--quiet"]) == 0
    assert sorted(p.name for p in out.glob("part-*.parquet"))[-1] == "part-00015.parquet"  # 2 shards a file
    assert_rows_match(read_output(out), texts, expected)


def test_an_interrupted_run_resumes_with_only_the_missing_shards(archive, texts, expected, tmp_path):
    out = tmp_path / "out"
    finished = []

    def interrupt_after_three(done):
        finished.append(done.index)
        if len(finished) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        repair_files(archive, out, workers=1, shard_rows=250, on_shard=interrupt_after_three)
    assert sorted(p.name for p in out.glob("part-*")) == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    (out / ".part-00003.parquet.0123.tmp").write_bytes(b"half a shard")  # what a killed writer leaves
    written = {p: p.stat().st_mtime_ns for p in out.glob("part-*")}
    resumed = []
    repair_files(archive, out, workers=2, shard_rows=250, on_shard=lambda done: resumed.append(done.index))
    assert resumed == [3, 4, 5, 6, 7]
    assert all(p.stat().st_mtime_ns == mtime for p, mtime in written.items()), "a finished shard was redone"
    assert not list(out.glob(".*.tmp"))
    assert_rows_match(read_output(out), texts, expected)
    again = []
    repair_files(archive, out, workers=2, shard_rows=250, on_shard=lambda done: again.append(done.index))
    assert again == []


def test_an_output_folder_of_another_job_or_a_missing_column_is_one_line_and_exit_1(archive, tmp_path, capsys):
    out = tmp_path / "out"
    first = archive / "archive-00.parquet"
    assert main(["repair-dataset", str(first), str(out), "--workers", "1", "--shard-rows", "1000", "--quiet"]) == 0
    assert main(["repair-dataset", str(first), str(out), "--workers", "1", "--shard-rows", "100", "--quiet"]) == 1
    assert "another job" in capsys.readouterr().err
    assert main(["repair-dataset", str(first), str(tmp_path / "o2"), "--column", "body", "--quiet"]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "no column 'body'" in error and "'text'" in error
    assert main(["repair-dataset", str(tmp_path / "missing.parquet"), str(tmp_path / "o3"), "--quiet"]) == 1
    assert "no such file" in capsys.readouterr().err


def test_jsonl_rows_keep_their_own_fields_and_bad_values_are_flagged(tmp_path):
    rows = [{"text": "Russia released a navy intervention in help of Assad.", "n": 1},
            {"text": 5, "meta": {"a": [1, 2]}},
            {"title": "no text field"},
            {"text": "The minister said the talks had failed.", "n": None}]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" + ("\n" if i == 1 else "") for i, row in enumerate(rows)),
                      encoding="utf-8")
    out = tmp_path / "out"
    repair_files(source, out, shard_rows=3)
    assert sorted(p.name for p in out.glob("part-*")) == ["part-00000.jsonl", "part-00001.jsonl"]
    written = read_output(out)
    for row, result in zip(rows, written):
        assert {k: result[k] for k in row} == row
    expected = Repairer().repair_many_with_edits([rows[0]["text"], rows[3]["text"]])
    assert written[0][REPAIRED] == expected[0].text and written[0][EDITS] == [e.to_dict() for e in expected[0].edits]
    assert written[3][REPAIRED] == expected[1].text
    assert written[1][ERROR] == "not text: int" and written[1][REPAIRED] is None
    assert written[2][ERROR] is None and written[2][REPAIRED] is None


# -- Hugging Face datasets -------------------------------------------------------------------------------


def test_datasets_map_and_a_saved_datasets_folder_give_the_same_rows(texts, expected, tmp_path):
    datasets = pytest.importorskip("datasets")
    ids = list(range(0, ROWS, 7))
    ds = datasets.Dataset.from_dict({"id": ids, "text": [texts[i] for i in ids],
                                     "outlet": [f"outlet-{i % 7}" for i in ids]})
    assert_rows_match(repair_dataset(ds, num_proc=2, batch_size=64).data.table, texts, expected, ids)
    ds.save_to_disk(str(tmp_path / "saved"))
    repair_files(tmp_path / "saved", tmp_path / "out", shard_rows=100, workers=2)
    assert_rows_match(read_output(tmp_path / "out"), texts, expected, ids)
    with pytest.raises(BatchError, match="already has column"):
        repair_dataset(ds.add_column("repaired", ids))


# -- Ray Data on a local instance --------------------------------------------------------------------------


def test_ray_engine_gives_the_rows_of_repair_many(ray_instance, archive, texts, expected, tmp_path):
    out = tmp_path / "out"
    assert main(["repair-dataset", str(archive), str(out), "--engine", "ray", "--workers", "2", "--quiet"]) == 0
    assert len(list(out.glob("part-*.parquet"))) == FILES
    assert_rows_match(read_output(out), texts, expected)


def test_ray_data_pipeline_read_repair_write(ray_instance, archive, texts, expected, tmp_path):
    import ray.data

    from mtfix.batch import repair_ray_dataset

    repaired = repair_ray_dataset(ray.data.read_parquet(str(archive)), concurrency=2, batch_size=100)
    repaired.write_parquet(str(tmp_path / "written"))
    files = sorted((tmp_path / "written").glob("*.parquet"))
    table = pa.concat_tables([pq.read_table(f) for f in files])
    table = table.take(pa.compute.sort_indices(table, [("id", "ascending")]))  # Ray names its files its own way
    assert_rows_match(table, texts, expected)


def test_too_few_cpus_is_an_error_not_a_hang(ray_instance, archive):
    import ray.data

    from mtfix.batch import repair_ray_dataset

    with pytest.raises(BatchError, match="has 3 CPUs; 3 actors and one CPU"):
        repair_ray_dataset(ray.data.read_parquet(str(archive)), concurrency=3)


def _map_workers() -> list[int]:
    """The pids of the Ray Data actors on this machine (their process title names them)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if title.startswith(b"ray::MapWorker"):
                pids.append(int(entry.name))
    return pids


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the actors through /proc")
def test_a_killed_actor_loses_and_duplicates_no_row(ray_instance, archive, texts, expected):
    import ray.data

    from mtfix.batch import repair_ray_dataset

    repaired = repair_ray_dataset(ray.data.read_parquet(str(archive)), concurrency=2, batch_size=50)
    batches = iter(repaired.iter_batches(batch_format="pyarrow", batch_size=None))
    received = [next(batches)]
    workers = _map_workers()
    assert workers, "no actor to kill"
    os.kill(workers[0], signal.SIGKILL)
    received.extend(batches)
    assert_rows_match(pa.concat_tables(received), texts, expected)
    deadline = time.time() + 30
    while workers[0] in _map_workers() and time.time() < deadline:
        time.sleep(0.1)
    assert workers[0] not in _map_workers()


def test_the_model_can_travel_through_the_object_store(ray_instance, texts, expected, tmp_path):
    import ray.data

    from mtfix.batch import repair_ray_dataset

    rows = list(range(40))
    ds = ray.data.from_items([{"id": i, "text": texts[i], "outlet": f"outlet-{i % 7}"} for i in rows])
    table = pa.concat_tables(list(repair_ray_dataset(ds, concurrency=1, ship_model=True)
                                  .iter_batches(batch_format="pyarrow", batch_size=None)))
    assert_rows_match(table, texts, expected, rows)


def test_shipped_model_files_unpack_to_the_same_bytes():
    from mtfix import DEFAULT_MODEL_DIR
    from mtfix.batch import ModelFiles

    unpacked = Path(ModelFiles(None).unpack())
    originals = sorted(p.relative_to(DEFAULT_MODEL_DIR) for p in Path(DEFAULT_MODEL_DIR).rglob("*") if p.is_file())
    assert originals and sorted(p.relative_to(unpacked) for p in unpacked.rglob("*") if p.is_file()) == originals
    assert all((unpacked / name).read_bytes() == (Path(DEFAULT_MODEL_DIR) / name).read_bytes() for name in originals)


def test_job_file_records_the_plan(archive, tmp_path):
    repair_files(archive / "archive-03.parquet", tmp_path / "out", shard_rows=100, workers=1)
    job = json.loads((tmp_path / "out" / JOB_FILE).read_text(encoding="utf-8"))
    assert job["format"] == "parquet" and job["column"] == "text"
    assert [(s["start"], s["rows"]) for s in job["shards"]] == [(0, 100), (100, 100), (200, 50)]

"""The eval report and its command: Markdown, HTML and JSON output, bad inputs, nothing written on error."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sacrebleu.metrics import CHRF
from sacrebleu.significance import PairedTest

import mtfix.evaluation.cli
import mtfix.cli
from mtfix.evaluation.cli import main
from mtfix.evaluation.inputs import load_seed
from mtfix.evaluation.metrics import BLEU, TER, ChrF
from mtfix.evaluation.report import build_report, render_html, render_json, render_markdown, word_diff
from mtfix.evaluation.screenshot import find_chromium, screenshot
from mtfix.evaluation.significance import compare_texts

REPO = Path(__file__).resolve().parent.parent
TESTSETS = REPO / "mtfix" / "evaluation" / "testsets"
SPUN = TESTSETS / "idlib_ceasefire_spun.txt"
REFERENCE = TESTSETS / "idlib_ceasefire_reference.txt"
SACREBLEU = str(Path(sys.executable).parent / "sacrebleu")
DAMAGED_LINE = 14  # 1-based line of the seed article that the fake system makes worse


def half_repaired_lines() -> list[str]:
    """A fake system output: every other sentence repaired as in the reference, one sentence damaged."""
    spun = SPUN.read_text(encoding="utf-8").split("\n")
    reference = REFERENCE.read_text(encoding="utf-8").split("\n")
    lines = []
    sentences = 0
    for number, (source, target) in enumerate(zip(spun, reference), 1):
        sentences += bool(source.strip())
        if number == DAMAGED_LINE:
            lines.append(source.replace("said", "declared").replace("terrorists", "militants"))
        else:
            lines.append(target if sentences % 2 == 1 else source)
    return lines


@pytest.fixture
def hypothesis(tmp_path) -> Path:
    path = tmp_path / "half_repaired.txt"
    path.write_text("\n".join(half_repaired_lines()) + "\n", encoding="utf-8")
    return path


def seed_args(hypothesis: Path) -> list[str]:
    return ["--test-set", "seed", "--hypothesis", str(hypothesis)]


def run_eval(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def sacrebleu_scores(hypothesis: Path, reference: Path) -> list[float]:
    command = [
        SACREBLEU, str(reference), "-i", str(hypothesis),
        "-m", "bleu", "chrf", "ter", "--chrf-word-order", "2", "-w", "6", "-b",
    ]
    return json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)


def test_json_report_values_equal_the_sacrebleu_cli(hypothesis, tmp_path, capsys):
    out = tmp_path / "report.json"
    code, _, err = run_eval(seed_args(hypothesis) + ["--format", "json", "-o", str(out)], capsys)
    assert code == 0, err
    report = json.loads(out.read_text(encoding="utf-8"))
    corpus = {row["name"]: row for row in report["corpus"]}
    assert list(corpus) == ["BLEU", "chrF++", "TER"]
    system = sacrebleu_scores(hypothesis, REFERENCE)
    identity = sacrebleu_scores(SPUN, REFERENCE)
    for (name, row), expected_system, expected_identity in zip(corpus.items(), system, identity):
        assert row["system"] == pytest.approx(expected_system, abs=1e-6), name
        assert row["identity"] == pytest.approx(expected_identity, abs=1e-6), name
        assert row["difference"] == pytest.approx(row["system"] - row["identity"])
        assert row["ci_low"] < row["difference"] < row["ci_high"], name
        assert row["signature"].startswith("nrefs:1|")
        assert row["bootstrap"] == "test:paired-bs|bs:1000|seed:12345"
        assert row["verdict"] == "better"
    assert report["lines"] == 38 and report["segments"] == 19
    assert [s["change"] for s in report["improved"]] == sorted((s["change"] for s in report["improved"]), reverse=True)
    assert [s["line"] for s in report["damaged"]] == [DAMAGED_LINE]
    assert report["damaged"][0]["change"] < 0
    assert {"operation": "insert", "text": "declared"} in report["damaged"][0]["diff"]
    assert report["edits"]["details"]["false_positives"] == 2  # declared, militants
    assert report["overcorrection"] is None and report["throughput"] is None
    assert report["machine"]["cpu_count"] == os.cpu_count()
    assert len(report["sentences"]) == 19


@pytest.mark.parametrize("metric", [BLEU(), ChrF(), TER()], ids=lambda m: m.name)
def test_bootstrap_matches_sacrebleus_paired_test(metric):
    eval_set = load_seed()
    lines = eval_set.scored_lines
    spun = [eval_set.sources[i] for i in lines]
    system = [half_repaired_lines()[i] for i in lines]
    references = [[eval_set.references[0][i] for i in lines]]
    comparison = compare_texts(metric, spun, system, references)
    _, results = PairedTest(
        [("identity", spun), ("system", system)], {metric.name: metric.sacrebleu_metric}, references, test_type="bs"
    )()
    identity_result, system_result = [column for name, column in results.items() if name != "System"][0]
    assert comparison.identity == pytest.approx(identity_result.score)
    assert comparison.system == pytest.approx(system_result.score)
    assert comparison.p_value == pytest.approx(system_result.p_value)
    assert comparison.system_bootstrap_mean == pytest.approx(system_result.mean)
    assert comparison.ci_low < comparison.difference < comparison.ci_high


def test_sentence_scores_are_sacrebleus_sentence_chrf():
    eval_set = load_seed()
    hypotheses = half_repaired_lines()
    report = build_report(eval_set, hypotheses=hypotheses)
    chrf = CHRF(word_order=2)
    for score in report.sentences:
        reference = [eval_set.references[0][score.line - 1]]
        assert score.system == pytest.approx(chrf.sentence_score(hypotheses[score.line - 1], reference).score)
        assert score.identity == pytest.approx(chrf.sentence_score(eval_set.sources[score.line - 1], reference).score)


def test_markdown_report(hypothesis, capsys):
    code, out, _ = run_eval(seed_args(hypothesis), capsys)
    assert code == 0
    assert out.startswith("# mtfix evaluation report")
    assert "| BLEU ↑ | 59.0 |" in out  # identity BLEU of the spun article, as sacrebleu prints it
    assert "| TER ↓ |" in out
    assert "- chrF++: `nrefs:1|case:mixed|eff:yes|nc:6|nw:2|space:no|version:2.6.0`" in out
    assert "## Most improved sentences" in out and "## Most damaged sentences" in out
    assert f"- **line {DAMAGED_LINE}**" in out
    assert "~~said~~ **declared**" in out
    assert "over-correction: not measured" in out


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes.extend(attrs)


def test_html_report_is_one_self_contained_page(hypothesis, tmp_path, capsys):
    out = tmp_path / "report.html"
    code, _, _ = run_eval(seed_args(hypothesis) + ["--format", "html", "-o", str(out)], capsys)
    assert code == 0
    page = out.read_text(encoding="utf-8")
    parser = _Tags()
    parser.feed(page)
    assert parser.tags.count("html") == 1 and "style" in parser.tags and "svg" in parser.tags
    assert "del" in parser.tags and "ins" in parser.tags
    assert not {"script", "link", "img", "iframe", "object"} & set(parser.tags)
    assert not [name for name, _ in parser.attributes if name in ("src", "href")]
    assert page.count("http") == page.count('xmlns="http://www.w3.org/2000/svg"') == 1
    assert parser.tags.count("rect") == 19  # one bar per scored sentence
    assert "<del>declared</del>" not in page and "<ins>declared</ins>" in page


def test_word_diff_pieces_rebuild_both_texts():
    before, after = 'Russia s defence ministry stated, "we\'re ok"', "Russia's defence ministry said, \"We are ok\""
    pieces = word_diff(before, after)
    assert "".join(p.text for p in pieces if p.operation != "insert") == before
    assert "".join(p.text for p in pieces if p.operation != "delete") == after


def test_renderers_agree_on_a_report_built_in_python():
    eval_set = load_seed()
    report = build_report(eval_set, hypotheses=half_repaired_lines(), system_label="half", top=2)
    assert len(report.improved) == 2
    bleu = report.corpus[0]
    assert f"{bleu.system:.1f}" in render_markdown(report)
    assert f"<td>{bleu.system:.1f}</td>" in render_html(report)
    assert json.loads(render_json(report))["corpus"][0]["system"] == bleu.system


def test_python_m_eval_runs_the_same_command(hypothesis, tmp_path):
    out = tmp_path / "report.json"
    command = [sys.executable, "-m", "eval", *seed_args(hypothesis), "--format", "json", "-o", str(out)]
    completed = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    assert completed.returncode == 0, completed.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["corpus"][0]["name"] == "BLEU"


def test_mtfix_eval_dispatches_to_this_command(hypothesis, tmp_path):
    from mtfix.cli import main as mtfix_main

    out = tmp_path / "report.md"
    assert mtfix_main(["eval", *seed_args(hypothesis), "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("# mtfix evaluation report")


def test_shipped_seed_files_equal_the_repository_seeds():
    for name in ("idlib_ceasefire_spun.txt", "idlib_ceasefire_reference.txt"):
        if not (REPO / "seeds" / name).exists():
            pytest.skip("no seeds/ folder (installed package)")
        assert (TESTSETS / name).read_bytes() == (REPO / "seeds" / name).read_bytes()


# ---------------------------------------------------------------------------------------------
# Bad inputs: one clear error line, exit status 2, nothing written


def _bad_case(tmp_path: Path, case: str) -> tuple[list[str], str]:
    """Arguments for a bad-input case and a phrase its error message must contain."""
    spun, reference = tmp_path / "spun.txt", tmp_path / "reference.txt"
    spun.write_text("a b c\n\nd e f\n", encoding="utf-8")
    reference.write_text("a b x\n\nd e y\n", encoding="utf-8")
    hypothesis = tmp_path / "hypothesis.txt"
    hypothesis.write_text("a b x\n\nd e f\n", encoding="utf-8")
    if case == "reference line count":
        reference.write_text("a b x\n\nd e y\nextra\n", encoding="utf-8")
        expected = "has 4 lines but"
    elif case == "hypothesis line count":
        hypothesis.write_text("a b x\n", encoding="utf-8")
        expected = "has 1 lines but"
    elif case == "empty file":
        reference.write_text("", encoding="utf-8")
        expected = "is empty"
    elif case == "blank lines only":
        spun.write_text("\n  \n\n", encoding="utf-8")
        expected = "is empty"
    elif case == "not utf-8":
        hypothesis.write_bytes("a b x\n\nd é f\n".encode("latin-1"))
        expected = "is not UTF-8 text (byte 0xe9"
    elif case == "blank lines misaligned":
        reference.write_text("a b x\nd e y\n\n", encoding="utf-8")
        expected = "line 2 is blank in"
    elif case == "missing file":
        reference.unlink()
        expected = "cannot read"
    else:
        raise AssertionError(case)
    args = ["--source", str(spun), "--reference", str(reference), "--hypothesis", str(hypothesis)]
    return args, expected


BAD_CASES = [
    "reference line count",
    "hypothesis line count",
    "empty file",
    "blank lines only",
    "not utf-8",
    "blank lines misaligned",
    "missing file",
]


@pytest.mark.parametrize("case", BAD_CASES)
@pytest.mark.parametrize("output_format", ["md", "json"])
def test_bad_input_fails_clearly_and_writes_nothing(case, output_format, tmp_path, capsys):
    args, expected = _bad_case(tmp_path, case)
    out = tmp_path / "out" / "report.txt"
    out.parent.mkdir()
    code, stdout, stderr = run_eval(args + ["--format", output_format, "-o", str(out)], capsys)
    assert code == 2
    assert stdout == ""
    assert stderr.startswith("mtfix eval: error: ") and stderr.count("\n") == 1
    assert expected in stderr
    assert list(out.parent.iterdir()) == []


def test_an_existing_report_is_left_untouched_on_error(tmp_path, capsys):
    args, _ = _bad_case(tmp_path, "reference line count")
    out = tmp_path / "report.md"
    out.write_text("previous report\n", encoding="utf-8")
    code, _, _ = run_eval(args + ["-o", str(out)], capsys)
    assert code == 2
    assert out.read_text(encoding="utf-8") == "previous report\n"


def test_a_failed_write_leaves_no_partial_file(hypothesis, tmp_path, monkeypatch, capsys):
    out_dir = tmp_path / "out"
    out_dir.mkdir()

    def failing_replace(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(mtfix.cli.os, "replace", failing_replace)  # the shared atomic writer
    assert main([*seed_args(hypothesis), "-o", str(out_dir / "report.md")]) == 1
    assert capsys.readouterr().err == f"mtfix eval: error: cannot write {out_dir / 'report.md'}: disk full\n"
    assert list(out_dir.iterdir()) == []


def test_source_and_test_set_together_is_a_usage_error(hypothesis, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--test-set", "seed", "--source", str(SPUN), "--hypothesis", str(hypothesis)])
    assert exit_info.value.code == 2
    assert "--test-set replaces --source/--reference" in capsys.readouterr().err


def test_hypothesis_or_model_is_required(capsys):
    with pytest.raises(SystemExit):
        main(["--test-set", "seed"])
    assert "one of the arguments --hypothesis --model is required" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# Running a model


def test_model_mode_repairs_times_and_measures_over_correction(tiny_model_dir, tmp_path, capsys):
    # Sentences in the style of the tiny model's toy task (training/tiny.py): spinner swaps to undo.
    clean = [
        "The minister said on Monday that the fire in Idlib was out.",
        "",
        "Police told reporters in Ankara that air strikes had stopped.",
        "Rebels met officials in Hama today.",
    ]
    spun = [line.replace("said", "stated").replace("fire", "fireplace").replace("told", "instructed") for line in clean]
    (tmp_path / "spun.txt").write_text("\n".join(spun) + "\n", encoding="utf-8")
    (tmp_path / "clean.txt").write_text("\n".join(clean) + "\n", encoding="utf-8")
    out = tmp_path / "report.json"
    args = ["--source", str(tmp_path / "spun.txt"), "--reference", str(tmp_path / "clean.txt")]
    args += ["--model", str(tiny_model_dir), "--batch-size", "1", "--format", "json", "-o", str(out)]
    code, _, err = run_eval(args, capsys)
    assert code == 0, err
    assert "100%" in err  # the progress bar ran to the end
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["system"] == f"model:{tiny_model_dir}"
    assert report["segments"] == 3
    assert report["throughput"]["sentences"] == 3 and report["throughput"]["sentences_per_second"] > 0
    assert report["overcorrection"]["details"]["words"] == sum(len(line.split()) + 1 for line in clean if line)
    assert isinstance(report["machine"]["torch_threads"], int)


def test_a_missing_model_is_a_clear_error(tmp_path, capsys):
    out = tmp_path / "report.md"
    code, _, err = run_eval(["--test-set", "seed", "--model", str(tmp_path / "no_model"), "-o", str(out)], capsys)
    assert code == 2
    assert err.startswith("mtfix eval: error: cannot load the model") and str(tmp_path / "no_model") in err
    assert not out.exists()


# ---------------------------------------------------------------------------------------------
# The synthetic test set


def test_synthetic_test_set_not_built_is_a_clear_error(hypothesis, tmp_path, capsys):
    missing = tmp_path / "work_data" / "pairs"
    args = ["--test-set", "synthetic", "--data-dir", str(missing), "--hypothesis", str(hypothesis)]
    code, _, err = run_eval(args, capsys)
    assert code == 2
    assert f"synthetic test set not found: {missing} does not exist" in err
    assert "training/build_data.py" in err


def test_synthetic_test_set_is_read_from_the_saved_pairs(tmp_path, capsys):
    datasets = pytest.importorskip("datasets")
    rows = {
        "source": ["he stated it", "the navy intervention", "clean sentence"],
        "target": ["he said it", "the military intervention", "clean sentence"],
    }
    pairs = datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_dict({key: values[:1] for key, values in rows.items()}),
            "test": datasets.Dataset.from_dict(rows),
        }
    )
    pairs.save_to_disk(str(tmp_path / "pairs"))
    hypothesis = tmp_path / "hyp.txt"
    hypothesis.write_text("\n".join(rows["target"]) + "\n", encoding="utf-8")
    args = ["--test-set", "synthetic", "--data-dir", str(tmp_path / "pairs"), "--hypothesis", str(hypothesis)]
    code, out, err = run_eval(args + ["--format", "json"], capsys)
    assert code == 0, err
    report = json.loads(out)
    assert report["segments"] == 3
    assert report["corpus"][1]["system"] == pytest.approx(100.0)  # chrF++ of a perfect repair
    assert report["edits"]["score"] == pytest.approx(100.0)


def test_synthetic_sentences_are_repaired_as_the_articles_they_came_from(tmp_path, capsys, monkeypatch):
    """One document per article and spin (its identity pairs one more), as a spun article reaches mtfix;
    --each-line repairs every line alone."""
    datasets = pytest.importorskip("datasets")
    from mtfix.evaluation import cli
    from mtfix.evaluation.inputs import load_synthetic

    rows = {
        "id": ["bbc-1/0/0", "bbc-1/0/1", "bbc-1/2/0", "bbc-1/2/clean", "abc-7/0/0"],
        "article_id": ["bbc-1", "bbc-1", "bbc-1", "bbc-1", "abc-7"],
        "source": ["he stated it", "he declared it", "the navy help", "the navy", "a clean line"],
        "target": ["he said it", "he said it", "the military support", "the navy", "a clean line"],
    }
    datasets.DatasetDict({"test": datasets.Dataset.from_dict(rows)}).save_to_disk(str(tmp_path / "pairs"))
    assert load_synthetic(tmp_path / "pairs").documents == (0, 1, 0, 2, 3)

    calls = []

    def load_repairer(model, batch_size):
        def repair(texts):
            calls.append(list(texts))
            return list(texts)
        return repair

    monkeypatch.setattr(cli, "load_repairer", load_repairer)
    args = ["--test-set", "synthetic", "--data-dir", str(tmp_path / "pairs"), "--model", "default", "--format", "json"]
    code, out, err = run_eval(args, capsys)
    assert code == 0, err
    assert calls[0] == ["he stated it\n\nthe navy help", "he declared it", "the navy", "a clean line"]
    assert json.loads(out)["documents"] == 4
    calls.clear()
    code, out, err = run_eval(args + ["--each-line"], capsys)
    assert code == 0, err
    assert calls[0] == rows["source"] and json.loads(out)["documents"] is None
    hypothesis = tmp_path / "hyp.txt"
    hypothesis.write_text("\n".join(rows["target"]) + "\n", encoding="utf-8")
    code, out, err = run_eval(args[:4] + ["--hypothesis", str(hypothesis)], capsys)
    assert code == 0, err
    assert "- repaired: not here: the hypotheses were given" in out


# ---------------------------------------------------------------------------------------------
# The out-of-distribution (hand-spun) test set


def test_ood_test_set_missing_is_a_clear_error(hypothesis, tmp_path, capsys):
    args = ["--test-set", "ood", "--data-dir", str(tmp_path), "--hypothesis", str(hypothesis)]
    code, _, err = run_eval(args, capsys)
    assert code == 2
    assert f"ood test set not found: {tmp_path} needs spun.txt and ref.txt" in err


def test_ood_test_set_is_read_from_its_folder(tmp_path, capsys):
    (tmp_path / "spun.txt").write_text("he stated it\nthe navy intervention\n", encoding="utf-8")
    (tmp_path / "ref.txt").write_text("he said it\nthe military intervention\n", encoding="utf-8")
    hypothesis = tmp_path / "hyp.txt"
    hypothesis.write_text("he said it\nthe military intervention\n", encoding="utf-8")
    args = ["--test-set", "ood", "--data-dir", str(tmp_path), "--hypothesis", str(hypothesis), "--format", "json"]
    code, out, err = run_eval(args, capsys)
    assert code == 0, err
    report = json.loads(out)
    assert report["segments"] == 2 and report["corpus"][1]["system"] == pytest.approx(100.0)


@pytest.mark.skipif(not (REPO.parent / "shared" / "data" / "ood_dev" / "spun.txt").is_file(),
                    reason="../shared/data/ood_dev is not beside this checkout")
def test_shared_ood_dev_scores_its_identity(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(REPO)  # the default folder is ../shared/data/ood_dev from a checkout's root
    spun = REPO.parent / "shared" / "data" / "ood_dev" / "spun.txt"
    code, out, err = run_eval(["--test-set", "ood", "--hypothesis", str(spun), "--format", "json"], capsys)
    assert code == 0, err
    report = json.loads(out)
    assert report["segments"] == 240
    assert report["corpus"][0]["system"] == pytest.approx(55.41, abs=0.01)  # identity BLEU, as its README says


# ---------------------------------------------------------------------------------------------
# The garbled (machine-translation round trip) test set


def test_bundled_garbled_test_set_is_the_held_out_pair(tmp_path, capsys):
    from mtfix.evaluation.inputs import load_garbled

    garbled = load_garbled()
    assert len(garbled.sources) == 1000 and len(garbled.references[0]) == 1000
    assert garbled.source_label == "garbled:garbled_en-gl.garbled.txt"
    code, out, err = run_eval(["--test-set", "garbled", "--hypothesis",
                               str(REPO / "mtfix" / "evaluation" / "testsets" / "garbled_en-gl.garbled.txt"),
                               "--format", "json"], capsys)
    assert code == 0, err
    assert json.loads(out)["corpus"][0]["system"] == pytest.approx(42.15, abs=0.01)  # identity BLEU


def _write_round_trips(folder: Path, pair: str, records: list[tuple[str, str]], finished: bool = True) -> None:
    test = folder / pair / "test"
    test.mkdir(parents=True)
    lines = "".join(json.dumps({"source": g, "target": c}) + "\n" for g, c in records)
    (test / "shard-00000.jsonl").write_text(lines, encoding="utf-8")
    if finished:
        (test / "shard-00000.json").write_text("{}", encoding="utf-8")


def test_garbled_test_set_from_built_round_trips(tmp_path, capsys):
    from mtfix.evaluation.inputs import EvalInputError, load_garbled

    _write_round_trips(tmp_path, "en-es", [("He said the  Thursday.", "He said on Thursday.")])
    _write_round_trips(tmp_path, "en-ca", [("a conference of news", "a news conference")])
    _write_round_trips(tmp_path, "en-gl", [("held out", "held out")])  # a folder of pairs leaves it out
    _write_round_trips(tmp_path / "unfinished", "en-eo", [("not yet", "not yet")], finished=False)
    pairs = load_garbled(tmp_path)
    assert pairs.sources == ["a conference of news", "He said the Thursday."]  # whitespace collapsed
    assert pairs.references == [["a news conference", "He said on Thursday."]]
    assert load_garbled(tmp_path / "en-gl").sources == ["held out"]  # one pair's folder: that pair
    with pytest.raises(EvalInputError, match="garbled test set not found"):
        load_garbled(tmp_path / "unfinished")
    hypothesis = tmp_path / "hyp.txt"
    hypothesis.write_text("a news conference\nHe said on Thursday.\n", encoding="utf-8")
    code, out, err = run_eval(["--test-set", "garbled", "--data-dir", str(tmp_path), "--hypothesis", str(hypothesis),
                               "--format", "json"], capsys)
    assert code == 0, err
    assert json.loads(out)["corpus"][1]["system"] == pytest.approx(100.0)


# ---------------------------------------------------------------------------------------------
# Rendering in a real browser


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.mark.skipif(find_chromium() is None, reason="chromium is not installed (apt-get install -y chromium)")
def test_html_report_renders_in_headless_chromium(hypothesis, tmp_path, capsys):
    page = tmp_path / "report.html"
    assert run_eval(seed_args(hypothesis) + ["--format", "html", "-o", str(page)], capsys)[0] == 0
    image = tmp_path / "report.png"
    screenshot(page, image, size=(1200, 1600))
    assert _png_size(image) == (1200, 1600)
    assert image.stat().st_size > 50_000  # a page with text, tables and a plot, not a blank canvas


def test_the_seed_is_repaired_as_one_document():
    """The seed's paragraphs go to the model as one text, as `mtfix repair` reads the file; other sets a line at a time."""
    from mtfix.evaluation.report import run_repair

    calls = []

    def repair(texts):
        calls.append(list(texts))
        return [text.replace("navy", "military") for text in texts]

    seed = load_seed()
    assert seed.documents is not None and set(seed.documents) == {0}
    output, _ = run_repair(repair, seed.sources, seed.documents)
    assert len(calls) == 1 and len(calls[0]) == 1 and calls[0][0].count("\n\n") == len(seed.scored_lines) - 1
    assert [line for line in output if line] == [line.replace("navy", "military") for line in seed.sources if line.strip()]
    run_repair(repair, ["a navy", "", "the navy"])
    assert calls[-1] == ["a navy", "the navy"]
    with pytest.raises(RuntimeError, match="paragraphs"):
        run_repair(lambda texts: [text.replace("\n\n", " ") for text in texts], ["one", "two"], [0, 0])


def test_lines_of_a_document_are_repaired_together_in_one_call():
    """Documents interleaved with each other and with blank lines: one text each, in one call, lines back in place."""
    from mtfix.evaluation.report import run_repair

    calls = []

    def repair(texts):
        calls.append(list(texts))
        return [text.upper() for text in texts]

    output, throughput = run_repair(repair, ["a", "b", "", "c", "d"], documents=[0, 1, 1, 0, 2])
    assert calls == [["a\n\nc", "b", "d"]]
    assert output == ["A", "B", "", "C", "D"] and throughput.sentences == 4


"""Repairer in lattice mode and `mtfix check`, on a model directory assembled here: the tiny T5
plus a news LM trained in milliseconds on a handful of sentences."""

from __future__ import annotations

import json
import shutil

import pytest

from mtfix import Repairer
from mtfix.cli import main
from mtfix.text import lm_form, words
from training.build_lm import train_lm

from test_lattice import NEWS


@pytest.fixture(scope="module")
def lattice_model_dir(tiny_model_dir, tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("lattice_model") / "model"
    shutil.copytree(tiny_model_dir, model_dir)
    lm = train_lm([[lm_form(w) for w in words(s)] for s in NEWS * 3], order=3)
    lm.save(model_dir / "lm.safetensors")
    (model_dir / "mtfix.json").write_text(json.dumps({"lattice": {"change_penalty": 2.0, "seq2seq": 0.5}}), encoding="utf-8")
    return model_dir


SPUN = "Russia released a navy intervention in help of Assad in 2015.\n\nthe ministry stated the report was false.\n"


def test_auto_mode_picks_the_lattice_and_repairs(lattice_model_dir):
    repairer = Repairer(lattice_model_dir, device="cpu")
    assert repairer.mode == "lattice"
    # "the" is no edit, so it keeps its case (a capital alone would be a case change, see test_clean_text.py).
    assert repairer.repair(SPUN) == "Russia launched a military intervention in support of Assad in 2015.\n\nthe ministry said the report was false.\n"


def test_free_mode_is_still_available(lattice_model_dir):
    assert Repairer(lattice_model_dir, device="cpu", mode="free").mode == "free"


def test_check_lists_spans_with_offsets_into_the_input(lattice_model_dir):
    suspicions = Repairer(lattice_model_dir, device="cpu").check(SPUN)
    found = {s.text: s for s in suspicions}
    assert {"released", "navy", "help", "stated"} <= set(found)
    for s in suspicions:
        assert SPUN[s.start:s.end] == s.text and 0 <= s.score <= 1


def test_check_command_json_and_html(lattice_model_dir, tmp_path, capsys):
    source = tmp_path / "spun.txt"
    source.write_text(SPUN, encoding="utf-8")
    assert main(["check", str(source), "--model", str(lattice_model_dir), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed and {"start", "end", "text", "suggestion", "score", "alternatives"} <= set(listed[0])
    page = tmp_path / "check.html"
    assert main(["check", str(source), "--model", str(lattice_model_dir), "--html", "-o", str(page)]) == 0
    html = page.read_text(encoding="utf-8")
    assert "<mark" in html and "military" in html and "<script" not in html


def test_check_needs_the_lattice(tiny_model_dir):
    with pytest.raises(ValueError, match="lattice"):
        Repairer(tiny_model_dir, device="cpu", mode="free").check("text")


def test_check_lists_near_misses_below_half_and_min_score_filters_them(lattice_model_dir):
    repairer = Repairer(lattice_model_dir, device="cpu")
    everything = repairer.check(SPUN, min_score=0.0)
    repaired = repairer.repair_with_edits(SPUN)
    changed = {(e.start, e.end) for e in repaired.edits}
    near = [s for s in everything if s.score < 0.5]
    assert near, "a kept span with rival restorations must be listed as a near miss"
    assert all((s.start, s.end) not in changed for s in near)
    spans = sorted((s.start, s.end) for s in everything)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:])), "flagged spans must not overlap"
    strict = repairer.check(SPUN, min_score=0.5)
    assert strict and all(s.score >= 0.5 for s in strict)
    assert len(strict) < len(everything)
    assert repairer.check(SPUN) == [s for s in everything if s.score >= 0.2]


def test_check_command_rejects_a_min_score_outside_0_1(lattice_model_dir, tmp_path, capsys):
    source = tmp_path / "spun.txt"
    source.write_text(SPUN, encoding="utf-8")
    assert main(["check", str(source), "--model", str(lattice_model_dir), "--min-score", "2"]) != 0
    assert "--min-score" in capsys.readouterr().err
    assert main(["check", str(source), "--model", str(lattice_model_dir), "--json", "--min-score", "0.9"]) == 0
    assert all(item["score"] >= 0.9 for item in json.loads(capsys.readouterr().out))

"""A tiny pair build from inline articles: fields, alignment, splits and byte-for-byte reproducibility."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from datasets import load_from_disk

from mtfix.spin import FAMILIES
from training.build_data import BuildArgs, build
from training.corpus import Article, split_of

SENTENCES = [
    "Turkish Foreign Minister Mevlut Cavusoglu said on Thursday that a ceasefire had not been fully secured.",
    "Russian planes carried out four strikes and destroyed a large group of fighters.",
    "The government denied the claim, saying that false reports did not reflect the reality.",
    "He also confirmed an earlier report that government forces had launched mortar attacks.",
    "We are working hard with Russia to stop these attacks, he told a news conference.",
]
SHORT = "Too short here."


def _article_ids() -> list[str]:
    """Ids that land in every split, so the build has something in each."""
    ids = {"train": [], "validation": [], "test": []}
    n = 0
    while min(len(v) for v in ids.values()) < 2:
        article_id = f"tiny-{n}"
        ids[split_of(article_id)].append(article_id)
        n += 1
    return [i for split in ids.values() for i in split[:2]]


def _articles() -> list[Article]:
    return [
        Article(article_id, "tiny", [f"{sentence[:-1]} in story {k}." for sentence in SENTENCES] + [SHORT])
        for k, article_id in enumerate(_article_ids())
    ]


def _arrow_hashes(out: Path) -> dict[str, str]:
    return {
        str(path.relative_to(out)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(out.rglob("*.arrow"))
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("pairs")
    summary = build(BuildArgs(out=out, spins_per_sentence=2, identity_share=0.3, num_proc=1, seed=3), _articles())
    return out, summary


def test_fields_and_alignment(built):
    out, summary = built
    dataset = load_from_disk(str(out))
    assert set(dataset) == {"train", "validation", "test"}
    assert dataset["train"].column_names == ["id", "article_id", "corpus", "source", "target", "edits"]
    for row in dataset["train"]:
        source = row["source"]
        for edit in reversed(row["edits"]):
            assert source[edit["start"]:edit["end"]] == edit["after"]
            assert edit["family"] in FAMILIES
            source = source[:edit["start"]] + edit["before"] + source[edit["end"]:]
        assert source == row["target"]
        assert row["corpus"] == "tiny"
    assert summary.pairs == sum(len(split) for split in dataset.values())


def test_spins_identity_pairs_and_length_filter(built):
    out, summary = built
    train = load_from_disk(str(out))["train"]
    sentences = {row["target"] for row in train}
    assert SHORT not in sentences  # under 5 words
    identity = [row for row in train if row["id"].endswith("/clean")]
    assert identity and all(row["source"] == row["target"] and row["edits"] == [] for row in identity)
    spun = [row for row in train if not row["id"].endswith("/clean")]
    assert len(spun) == 2 * len(sentences)
    assert sum(row["source"] != row["target"] for row in spun) > 0.8 * len(spun)
    assert 5 < summary.density < 50


def test_no_article_in_two_splits_and_clean_files(built):
    out, _ = built
    dataset = load_from_disk(str(out))
    seen: dict[str, str] = {}
    for split, rows in dataset.items():
        for article_id in set(rows["article_id"]):
            assert seen.setdefault(article_id, split) == split
            assert split_of(article_id) == split
    clean_test = (out / "clean_test.txt").read_text(encoding="utf-8").splitlines()
    assert sorted(clean_test) == sorted(set(dataset["test"]["target"]))
    assert (out / "clean_validation.txt").exists()


def test_reproducible_byte_for_byte_whatever_num_proc(built, tmp_path):
    out, _ = built
    again = tmp_path / "again"
    build(BuildArgs(out=again, spins_per_sentence=2, identity_share=0.3, num_proc=2, seed=3), _articles())
    assert _arrow_hashes(again) == _arrow_hashes(out)
    other = tmp_path / "other"
    build(BuildArgs(out=other, spins_per_sentence=2, identity_share=0.3, num_proc=1, seed=4), _articles())
    assert _arrow_hashes(other) != _arrow_hashes(out)

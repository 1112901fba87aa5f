"""Spinner families and the leave-one-family-out sets (training/spinner_families.py)."""

import json
import lzma

import numpy as np
import pytest

from mtfix.context import WordVectors
from mtfix.lexicon import PHRASE_SWAPS, PLAIN_WORDS, Thesaurus
from mtfix.spin import NUMBER_WORDS
from training.spinner_families import (FAMILIES, SubstituteLists, family_spinner, formal_swaps, leave_one_out,
                                       lofo_table, vector_lists)

SENTENCES = [
    "The company said it would have to cut jobs before the merger, according to the union's statement.",
    "Russia launched a military intervention in support of the government and has three bases in the country.",
    "Officials said the ceasefire had not been fully established in the northwestern province.",
    "The minister told a news conference that the talks would resume next week in the capital.",
]


@pytest.mark.parametrize("family", [f for f in FAMILIES if f != "vectors"])
def test_each_family_spins_alone_and_its_spans_restore_the_original(family):
    spinner = family_spinner(family, seed=3)
    changed = 0
    for sentence in SENTENCES:
        result = spinner.spin(sentence)
        assert result.restore() == sentence
        changed += len(result.spans)
        for span in result.spans:
            if family == "damage":
                assert span.family == "damage"
                assert span.before.lower() in NUMBER_WORDS or span.before.endswith("'s") or span.after == span.before.lower()
            elif family in ("thesaurus", "pivot"):
                assert span.family == "synonym"
            else:  # formal and phrase swap whole table entries
                assert span.family == "phrase"
                table = formal_swaps() if family == "formal" else PHRASE_SWAPS
                assert span.after.lower() in {variant.lower() for variant in table[span.before.lower()]}
    assert changed > 0


def test_families_draw_on_different_sources():
    spun = {family: {(s.before.lower(), s.after.lower()) for sentence in SENTENCES
                     for s in family_spinner(family, seed=5).spin(sentence).spans}
            for family in ("thesaurus", "pivot", "formal", "phrase")}
    assert spun["thesaurus"] != spun["pivot"]
    assert any(after in PLAIN_WORDS for _, after in spun["formal"])  # "have" -> "possess", "before" -> "prior to"
    assert not spun["formal"] & spun["phrase"]


def test_formal_swaps_invert_the_plain_words_but_leave_the_commonest_function_words():
    swaps = formal_swaps()
    assert "prior to" in swaps["before"]
    assert "possess" in swaps["have"]
    assert "to" not in swaps and "for" not in swaps


def test_substitute_lists_keep_the_base_statistics_and_only_their_own_words():
    base = Thesaurus.load()
    lists = SubstituteLists(base, {"war": {"warfare": 0.7, "combat": 0.3}, "empty": {}})
    assert "war" in lists and "empty" not in lists and "peace" not in lists
    assert lists.channel("War") == {"warfare": 0.7, "combat": 0.3}
    assert lists.lowercase_share("Syria") == base.lowercase_share("Syria")


def test_vector_neighbours_are_other_common_words():
    words = ["war", "wars", "conflict", "fighting", "the", "peace", "banana"]
    vectors = np.array([[1.0, 0.1, 0], [1.0, 0.12, 0], [0.95, 0.2, 0.05], [0.9, 0.3, 0], [1.0, 0.1, 0.01],
                        [0.2, 1.0, 0], [0, 0, 1.0]])
    lists = vector_lists(Thesaurus.load(), WordVectors(words, vectors))
    # "wars" is an inflection of the head, "the" a function word, "peace" and "banana" too far away
    assert set(lists["war"]) == {"conflict", "fighting"}
    assert "the" not in lists
    assert abs(sum(lists["war"].values()) - 1) < 1e-9


def _write_family(directory, family, pairs):
    (directory / family).mkdir(parents=True)
    for split in ("train", "validation", "test"):
        with lzma.open(directory / family / f"{split}.jsonl.xz", "wt", encoding="utf-8") as stream:
            for k in range(pairs):
                row = {"source": f"{family} {split} spun {k}", "target": f"{family} {split} clean {k}",
                       "edits": [{"start": 0, "end": len(family)}]}
                stream.write(json.dumps(row) + "\n")


def test_leave_one_out_trains_without_the_family_and_validates_on_it(tmp_path):
    for family in ("pivot", "formal", "damage"):
        _write_family(tmp_path / "families", family, 20)
    families = ("pivot", "formal", "damage")
    out = leave_one_out(tmp_path / "families", tmp_path / "without_formal", "formal", families)
    train = [json.loads(line) for line in (out / "train.jsonl").read_text().splitlines()]
    validation = [json.loads(line) for line in (out / "validation.jsonl").read_text().splitlines()]
    assert not any(row["source"].startswith("formal") for row in train)
    assert len(train) == 40 + 6  # two families' 20 pairs, and 15% clean pairs
    assert sum(row["source"] == row["target"] and not row["edits"] for row in train) == 6
    assert {row["source"].split()[0] for row in validation} == {"formal"} and len(validation) == 20
    everything = leave_one_out(tmp_path / "families", tmp_path / "all", None, families)
    test = [json.loads(line)["source"].split()[0] for line in (everything / "test.jsonl").read_text().splitlines()]
    assert sorted(set(test)) == sorted(families) and test[:20] != ["damage"] * 20  # shuffled, not family by family


def test_lofo_table_reads_the_run_names():
    scores = {"without_pivot": {"pivot": {"f1": 0.41, "recall": 0.3}},
              "all": {"pivot": {"f1": 0.6, "recall": 0.5}, "damage": {"f1": 0.9, "recall": 0.85}}}
    table = lofo_table(scores).splitlines()
    assert table[0].startswith("| family") and "trained without it" in table[0] and "bundled" not in table[0]
    assert "| pivot | 0.410 (0.300) | 0.600 (0.500) |" in table
    assert "| damage |  | 0.900 (0.850) |" in table
    assert not any(line.startswith("| thesaurus") for line in table)


def _constant_detector(directory, spun: bool):
    """A tiny detector whose every token is predicted spun (or none), with the repair model's tokenizer."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForTokenClassification

    tokenizer = AutoTokenizer.from_pretrained("mtfix/models/default")
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, num_labels=2, hidden_act="relu")
    model = BertForTokenClassification(config)
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.copy_(torch.tensor([0.0, 1.0] if spun else [1.0, 0.0]))
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def test_detection_scores_count_spun_tokens_as_in_training(tmp_path):
    from training.spinner_families import detection_scores

    pairs = [json.dumps({"source": "A Turkish commentary submit was shelled.", "target": "",
                         "edits": [{"start": 10, "end": 27}]}),
             json.dumps({"source": "Nothing changed here.", "target": "", "edits": []})]
    always = detection_scores(_constant_detector(tmp_path / "always", True), pairs, batch_size=1)
    # 2 of the 9 words are spun ("commentary submit")
    assert always == {"precision": 2 / 9, "recall": 1.0, "f1": 2 * (2 / 9) / (2 / 9 + 1), "pairs": 2}
    never = detection_scores(_constant_detector(tmp_path / "never", False), pairs)
    assert never["recall"] == 0.0 and never["f1"] == 0.0


def test_detector_mix_adds_the_other_families_to_our_pairs(tmp_path):
    from datasets import Dataset, DatasetDict

    from training.spinner_families import detector_mix

    def ours(split, n):
        return Dataset.from_list([{"source": f"our {split} spun {k}", "target": f"our {split} {k}",
                                   "edits": [{"start": 0, "end": 3, "before": "x", "after": "y", "family": "synonym"}]}
                                  for k in range(n)])

    DatasetDict({split: ours(split, 30) for split in ("train", "validation", "test")}).save_to_disk(tmp_path / "pairs")
    for family in ("pivot", "formal"):
        _write_family(tmp_path / "families", family, 10)
    counts = detector_mix(tmp_path / "pairs", tmp_path / "families", tmp_path / "mixed", our_pairs=20,
                          families=("pivot", "formal"))
    assert counts == {"train": 40, "validation": 30, "test": 30}
    with lzma.open(tmp_path / "mixed" / "train.jsonl.xz", "rt", encoding="utf-8") as stream:
        train = [json.loads(line) for line in stream]
    assert sum(row["source"].startswith("our") for row in train) == 20
    assert {row["source"].split()[0] for row in train} == {"our", "pivot", "formal"}
    assert all(edit.keys() == {"start", "end"} for row in train for edit in row["edits"])  # what training reads
    with lzma.open(tmp_path / "mixed" / "validation.jsonl.xz", "rt", encoding="utf-8") as stream:
        assert all(json.loads(line)["source"].startswith("our validation") for line in stream)

"""training.tune_lattice picks weights on validation pairs under the over-correction ceiling and
stores them in the model's mtfix.json."""

import json

from datasets import Dataset, DatasetDict

from mtfix.text import lm_form, words
from training.build_lm import train_lm
from training.tune_lattice import main

from test_lattice import NEWS

SPUN = [
    ("Russia released a navy intervention in help of Assad in 2015.", "Russia launched a military intervention in support of Assad in 2015."),
    ("Officials stated the attack was the work of militants.", "Officials said the attack was the work of militants."),
    ("The ministry stated the report was false.", "The ministry said the report was false."),
]


def _model_and_pairs(tmp_path):
    """A model directory with a small LM, and spun validation pairs with clean validation sentences."""
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    train_lm([[lm_form(w) for w in words(s)] for s in NEWS * 3], order=3).save(model_dir / "lm.safetensors")
    pairs = tmp_path / "pairs"
    rows = {"source": [s for s, _ in SPUN], "target": [t for _, t in SPUN]}
    DatasetDict({name: Dataset.from_dict(rows) for name in ("train", "validation", "test")}).save_to_disk(str(pairs))
    (pairs / "clean_validation.txt").write_text("\n".join(NEWS) + "\n", encoding="utf-8")
    return model_dir, pairs


def test_tuning_writes_weights_that_repair(tmp_path):
    model_dir, pairs = _model_and_pairs(tmp_path)

    # Settings the grid does not vary are the model's own, and stay.
    (model_dir / "mtfix.json").write_text(json.dumps({"lattice": {"min_postedit_changes": 5, "beam_size": 6},
                                                      "channel_rates": {"damage": 0.4}}))

    before = (model_dir / "mtfix.json").read_text(encoding="utf-8")
    arguments = ["--model-dir", str(model_dir), "--pairs", str(pairs), "--penalties", "1,60", "--channel-weights", "1",
                 "--ood-dir", str(tmp_path / "no_ood")]
    reported = main(arguments)
    assert (model_dir / "mtfix.json").read_text(encoding="utf-8") == before  # a measurement changes nothing
    settings = main([*arguments, "--write"])
    assert settings["lattice"] == reported["lattice"]  # the same pick (the tuning record also times it)
    stored = json.loads((model_dir / "mtfix.json").read_text(encoding="utf-8"))
    assert stored == settings
    assert stored["lattice"]["change_penalty"] == 1.0  # 60 keeps every input: no gain
    assert stored["lattice"]["min_postedit_changes"] == 5 and stored["lattice"]["beam_size"] == 6
    assert stored["channel_rates"]["damage"] == 0.4
    tuning = stored["lattice_tuning"]
    assert tuning["bleu"] > tuning["identity_bleu"] and tuning["ood_sentences"] == 0
    assert abs(tuning["objective"] - (tuning["bleu"] - tuning["identity_bleu"])) < 0.002
    assert tuning["clean_words_changed_per_100"] <= 0.8


def test_tuning_is_joint_with_the_ood_set(tmp_path):
    model_dir, pairs = _model_and_pairs(tmp_path)
    ood = tmp_path / "ood"
    ood.mkdir()
    (ood / "spun.txt").write_text("The army stated the town was calm.\nPolice stated the talks had failed.\n")
    (ood / "ref.txt").write_text("The army said the town was calm.\nPolice said the talks had failed.\n")

    tuning = main(["--model-dir", str(model_dir), "--pairs", str(pairs), "--penalties", "1,60", "--channel-weights", "1",
                   "--ood-dir", str(ood), "--ood-weight", "0.25"])["lattice_tuning"]
    assert tuning["ood_sentences"] == 2 and tuning["ood_weight"] == 0.25
    expected = 0.75 * (tuning["bleu"] - tuning["identity_bleu"]) + 0.25 * (tuning["ood_bleu"] - tuning["ood_identity_bleu"])
    assert abs(tuning["objective"] - expected) < 0.003

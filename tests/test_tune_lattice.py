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


def test_tuning_writes_weights_that_repair(tmp_path):
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    train_lm([[lm_form(w) for w in words(s)] for s in NEWS * 3], order=3).save(model_dir / "lm.safetensors")
    pairs = tmp_path / "pairs"
    rows = {"source": [s for s, _ in SPUN], "target": [t for _, t in SPUN]}
    DatasetDict({name: Dataset.from_dict(rows) for name in ("train", "validation", "test")}).save_to_disk(str(pairs))
    (pairs / "clean_validation.txt").write_text("\n".join(NEWS) + "\n", encoding="utf-8")

    settings = main(["--model-dir", str(model_dir), "--pairs", str(pairs), "--penalties", "1,60", "--channel-weights", "1"])
    stored = json.loads((model_dir / "mtfix.json").read_text(encoding="utf-8"))
    assert stored == settings
    assert stored["lattice"]["change_penalty"] == 1.0  # 60 keeps every input: no gain
    assert stored["lattice_tuning"]["bleu"] > stored["lattice_tuning"]["identity_bleu"]
    assert stored["lattice_tuning"]["clean_words_changed_per_100"] <= 0.8

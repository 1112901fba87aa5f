"""The spin detector: the numpy encoder against transformers' BERT, per-word probabilities, span scores."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from transformers import BertConfig, BertForTokenClassification

from mtfix.detector import SpinDetector
from mtfix.model import DEFAULT_MODEL_DIR, ModelLoadError, ModelNotFoundError
from mtfix.text import tokenize


def _tiny_detector_config(tokenizer) -> BertConfig:
    """A small detector-shaped BERT over the bundled tokenizer."""
    return BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                      intermediate_size=64, max_position_embeddings=64, type_vocab_size=1, num_labels=2,
                      hidden_act="relu", pad_token_id=tokenizer.pad_token_id)


@pytest.fixture(scope="module")
def bert_dir(tmp_path_factory):
    """A randomly initialised detector-shaped BERT with the bundled tokenizer."""
    from transformers import PreTrainedTokenizerFast

    torch.manual_seed(0)
    tokenizer = PreTrainedTokenizerFast.from_pretrained(DEFAULT_MODEL_DIR, local_files_only=True)
    config = _tiny_detector_config(tokenizer)
    model = BertForTokenClassification(config).eval()
    out = tmp_path_factory.mktemp("detector")
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out, model


SENTENCES = ["Russia released a navy intervention in help of Assad.",
             "A Britain-based struggle reveal said rocket fireplace and air moves hit the town of Idlib today."]


def test_numpy_encoder_matches_transformers(bert_dir):
    path, model = bert_dir
    detector = SpinDetector.load(path)
    encodings = detector.tokenizer.encode_batch(SENTENCES)
    length = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(SENTENCES), length), dtype=np.int64)
    mask = np.zeros_like(ids)
    for row, encoding in enumerate(encodings):
        ids[row, :len(encoding.ids)], mask[row, :len(encoding.ids)] = encoding.ids, 1
    with torch.no_grad():
        expected = model(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask)).logits.numpy()
    got = detector.logits(ids, mask)
    real = mask.astype(bool)
    assert np.allclose(got[real], expected[real], atol=1e-4)


def test_word_probabilities_cover_every_token(bert_dir):
    detector = SpinDetector.load(bert_dir[0])
    tokens = [tokenize(s) for s in SENTENCES]
    probabilities = detector.word_probabilities(SENTENCES, tokens)
    assert [len(p) for p in probabilities] == [len(t) for t in tokens]
    assert all(((p > 0) & (p < 1)).all() for p in probabilities)
    # Batched or alone, a sentence gets the same probabilities (padding is masked).
    alone = detector.word_probabilities(SENTENCES[:1], tokens[:1])[0]
    assert np.allclose(alone, probabilities[0], atol=1e-5)
    assert detector.word_probabilities([], []) == []


def test_span_scores_are_the_log_odds_of_a_change():
    p = np.array([0.9, 0.5, 0.2, 1.0, 0.0])
    starts, ends = np.array([0, 2, 0, 3]), np.array([1, 3, 2, 5])
    scores = SpinDetector.span_scores(p, starts, ends)
    assert scores[0] == pytest.approx(math.log(0.9 / 0.1))
    assert scores[1] == pytest.approx(math.log(0.2 / 0.8))
    # A two-token span: the likelier token stands for the span; keeping means keeping both.
    assert scores[2] == pytest.approx(math.log(0.9) - math.log(0.1) - math.log(0.5))
    assert np.isfinite(scores[3])  # certainty is clipped


def test_missing_or_wrong_detector_files_raise_clearly(tmp_path, bert_dir):
    with pytest.raises(ModelNotFoundError, match="model.safetensors"):
        SpinDetector.load(tmp_path)
    config = BertConfig(hidden_act="gelu").to_dict()
    with pytest.raises(ValueError, match="ReLU"):
        SpinDetector({}, config, SpinDetector.load(bert_dir[0]).tokenizer)
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("config.json", "tokenizer.json"):
        (broken / name).write_bytes((bert_dir[0] / name).read_bytes())
    (broken / "model.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(ModelLoadError, match="spin detector"):
        SpinDetector.load(broken)


def test_train_detector_smoke_run_saves_a_model_mtfix_loads(tmp_path):
    """training.train_detector end to end on a handful of pairs: checkpoints, --resume, float16 output."""
    from datasets import Dataset, DatasetDict

    from training.train_detector import main

    source = "Russia released a navy intervention in help of Assad."
    edits = [{"start": 7, "end": 15, "before": "launched", "after": "released", "family": "synonym"},
             {"start": 18, "end": 22, "before": "military", "after": "navy", "family": "synonym"}]
    rows = Dataset.from_dict({"source": [source] * 8, "edits": [edits] * 8})
    pairs = tmp_path / "pairs"
    DatasetDict({"train": rows, "validation": rows.select(range(2))}).save_to_disk(str(pairs))
    args = ["--dataset_dir", str(pairs), "--output_dir", str(tmp_path / "run"), "--hidden_size", "16", "--layers", "1",
            "--heads", "2", "--max_steps", "2", "--eval_steps", "2", "--save_steps", "2", "--logging_steps", "1",
            "--per_device_train_batch_size", "4", "--torch_threads", "1"]
    final = main(args)
    assert json.loads((tmp_path / "run" / "train_summary.json").read_text())["steps"] == 2
    with pytest.raises(ValueError, match="--resume"):
        main(args)  # checkpoints are never overwritten silently
    detector = SpinDetector.load(final)  # float16 safetensors: numpy has no bfloat16
    tokens = tokenize(source)
    assert len(detector.word_probabilities([source], [tokens])[0]) == len(tokens)


def test_original_labels_align_spun_words_with_the_wire_words():
    from transformers import PreTrainedTokenizerFast

    from training.train_detector import original_labels

    tokenizer = PreTrainedTokenizerFast.from_pretrained(DEFAULT_MODEL_DIR, local_files_only=True)
    source = "Russia released a navy intervention in help of Assad."
    target = "Russia launched a military intervention in support of Assad."
    index = {"launched": 1, "military": 2, "russia": 3, "a": 4, "in": 5, "support": 6, "of": 7}
    offsets = tokenizer(source, return_offsets_mapping=True)["offset_mapping"]
    labels = original_labels(source, target, offsets, index)
    by_word = {}
    for (start, end), label in zip(offsets, labels):
        if label != -100:
            by_word[source[start:end].strip()] = label
    # the first subword of each word carries its wire word; words outside the vocabulary are class 0
    assert by_word.get("released") == 1 and by_word.get("Russia") == 3 and by_word.get("help") == 6
    assert sum(label != -100 for label in labels) == len(source.rstrip(".").split())
    assert 0 in labels  # "intervention", "Assad": another word


def test_train_detector_with_original_words_saves_both_heads(tmp_path):
    from datasets import Dataset, DatasetDict
    from safetensors.numpy import load_file

    from mtfix.detector import ORIGINALS_FILE
    from training.train_detector import main

    source, target = "Russia released a navy intervention in help of Assad.", "Russia launched a military intervention in support of Assad."
    edits = [{"start": 7, "end": 15}, {"start": 18, "end": 22}, {"start": 39, "end": 43}]
    rows = Dataset.from_dict({"source": [source] * 8, "target": [target] * 8, "edits": [edits] * 8})
    pairs = tmp_path / "pairs"
    DatasetDict({"train": rows, "validation": rows.select(range(2))}).save_to_disk(str(pairs))
    final = main(["--dataset_dir", str(pairs), "--output_dir", str(tmp_path / "run"), "--hidden_size", "16",
                  "--layers", "1", "--heads", "2", "--max_steps", "2", "--eval_steps", "2", "--save_steps", "2",
                  "--per_device_train_batch_size", "4", "--torch_threads", "1", "--original_words", "6"])
    words = (final / ORIGINALS_FILE).read_text(encoding="utf-8").split("\n")
    assert len(words) == 6 and "launched" in words  # counted in the targets
    weights = load_file(str(final / "model.safetensors"))
    assert weights["originals.weight"].shape == (7, 16)
    detector = SpinDetector.load(final)
    assert len(detector.word_probabilities([source], [tokenize(source)])[0]) == len(tokenize(source))


def test_original_word_head_matches_the_trained_module(tmp_path):
    """SpinDetector.read keeps each word's first-subword state; original_logits reads the head's rows."""
    from transformers import PreTrainedTokenizerFast

    from mtfix.detector import ORIGINALS_FILE
    from training.train_detector import DetectorWithOriginals

    torch.manual_seed(0)
    tokenizer = PreTrainedTokenizerFast.from_pretrained(DEFAULT_MODEL_DIR, local_files_only=True)
    config = _tiny_detector_config(tokenizer)
    config.original_words = 4
    model = DetectorWithOriginals(config).eval()
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    (tmp_path / ORIGINALS_FILE).write_text("military\nlaunched\nsupport", encoding="utf-8")
    detector = SpinDetector.load(tmp_path)
    assert detector.has_original_words

    sentence = "Russia released a navy intervention in help of Assad."
    tokens = tokenize(sentence)
    reading = detector.read([sentence], [tokens])[0]
    encoding = detector.tokenizer.encode(sentence)
    with torch.no_grad():
        hidden = model.bert(torch.tensor([encoding.ids])).last_hidden_state[0]
        expected_logits = model.originals(hidden).numpy()
    navy = next(i for i, t in enumerate(tokens) if t.text == "navy")
    first_subword = next(i for i, (start, end) in enumerate(encoding.offsets) if start <= tokens[navy].start < end)
    words = ["military", "launched", "support", "intervention"]  # the last is outside the vocabulary: class 0
    got = detector.original_logits(np.repeat(reading.states[navy:navy + 1], 4, axis=0), words)
    assert np.allclose(got, expected_logits[first_subword, [1, 2, 3, 0]], atol=1e-4)
    assert np.allclose(reading.spun, detector.word_probabilities([sentence], [tokens])[0])

    (tmp_path / ORIGINALS_FILE).write_text("military\nlaunched", encoding="utf-8")  # one word short
    with pytest.raises(ModelLoadError, match="originals.txt"):
        SpinDetector.load(tmp_path)


def test_export_detector_stores_word_tables_in_int8_and_loads_the_same(tmp_path, bert_dir):
    from safetensors.numpy import load_file

    from mtfix.detector import dequantized, quantized
    from training.train_detector import export_detector

    table = np.random.default_rng(0).normal(size=(50, 8)).astype(np.float32) * np.arange(1, 51)[:, None]
    restored = dequantized(quantized({"t": table, "b": np.ones(3)}, ["t"]))
    assert restored.keys() == {"t", "b"}
    assert np.abs(restored["t"] - table).max(axis=1).max() <= np.abs(table).max(axis=1).max() / 127  # a step per row

    path, _ = bert_dir
    out = export_detector(path, tmp_path / "detector")
    stored = load_file(str(out / "model.safetensors"))
    assert stored["bert.embeddings.word_embeddings.weight"].dtype == np.int8
    assert stored["bert.encoder.layer.0.attention.self.query.weight"].dtype == np.float16
    (out / "tokenizer.json").write_bytes((path / "tokenizer.json").read_bytes())
    original, exported = SpinDetector.load(path), SpinDetector.load(out)
    tokens = [tokenize(s) for s in SENTENCES]
    for a, b in zip(original.word_probabilities(SENTENCES, tokens), exported.word_probabilities(SENTENCES, tokens)):
        assert np.abs(a - b).max() < 0.02


def _per_token_by_characters(offsets, subword_spun, subword_states, words):
    """The reading spelled out character by character: each character takes the highest P(spun) and the
    first subword of those covering it; a token, its characters' highest P and its first character's subword."""
    length = max([t.end for t in words] + [end for _, end in offsets] + [0]) + 1
    per_char, first_subword = np.zeros(length), np.full(length, -1)
    for position, ((start, end), probability) in enumerate(zip(offsets, subword_spun)):
        for c in range(start, end):
            per_char[c] = max(per_char[c], probability)
            if first_subword[c] < 0:
                first_subword[c] = position
    spun = np.array([per_char[t.start:t.end].max(initial=0.0) for t in words])
    at = np.array([first_subword[t.start] for t in words], dtype=np.int64)
    states = np.zeros((len(words), subword_states.shape[1]))
    states[at >= 0] = subword_states[at[at >= 0]]
    return spun, states


@pytest.mark.parametrize("offsets,words", [
    # "The navy's ships": a special token (0, 0) at the end, a word split in two subwords
    ([(0, 3), (4, 8), (8, 10), (11, 16), (0, 0)], [(0, 3), (4, 8), (8, 10), (11, 16)]),
    # byte pieces of one character share its offsets; a token no subword covers (cut at max_length)
    ([(0, 1), (0, 1), (0, 1), (2, 5), (0, 0)], [(0, 1), (2, 5), (6, 9)]),
    # a subword across two mtfix tokens ("U.S" then "."), a subword starting inside a token
    ([(0, 4), (4, 5), (6, 8), (8, 12)], [(0, 3), (3, 4), (4, 5), (6, 12)]),
    ([(0, 0)], []),
])
def test_per_token_reading_matches_reading_character_by_character(offsets, words):
    from mtfix.detector import _per_token
    from mtfix.text import Token

    rng = np.random.default_rng(0)
    spun, states = rng.random(len(offsets)), rng.random((len(offsets), 3)).astype(np.float32)
    tokens = [Token("x" * (end - start), start, end) for start, end in words]
    reading = _per_token(offsets, spun, states, tokens)
    expected_spun, expected_states = _per_token_by_characters(offsets, spun, states, tokens)
    np.testing.assert_array_equal(reading.spun, expected_spun)
    np.testing.assert_array_equal(reading.states, expected_states.astype(np.float32))


def test_a_sentence_reads_the_same_whatever_shares_its_call():
    """Batch composition must not move a score by even one bit: sharded and Ray jobs compare byte for byte
    with one whole-file run (padding lengths and BLAS's paths for few-row products once did)."""
    from pathlib import Path

    detector = SpinDetector.load(Path(DEFAULT_MODEL_DIR) / "detector")
    sentences = SENTENCES + ["Talks failed.", "The minister said on Thursday that the ceasefire in the northwestern "
                             "province had not been fully secured despite an announcement by Moscow last week.",
                             "Prices rose 3 pct in the year to March, the statistics bureau said."]
    tokens = [tokenize(s) for s in sentences]
    together = detector.read(sentences, tokens)
    for i, sentence in enumerate(sentences):
        (alone,) = detector.read([sentence], [tokens[i]])
        assert np.array_equal(alone.spun, together[i].spun)
        assert np.array_equal(alone.states, together[i].states)
    pair = detector.read(sentences[3:5], tokens[3:5])
    assert np.array_equal(pair[1].spun, together[4].spun)


def test_import_detector_turns_the_bundled_detector_back_into_a_checkpoint_training_continues_from(tmp_path):
    from training.train_detector import DetectorWithOriginals, import_detector

    checkpoint = import_detector(DEFAULT_MODEL_DIR / "detector", tmp_path / "init")
    model = DetectorWithOriginals.from_pretrained(str(checkpoint), local_files_only=True, dtype=torch.float32)
    assert model.config.original_words == 16385 and (checkpoint / "originals.txt").is_file()
    (checkpoint / "tokenizer.json").write_bytes((DEFAULT_MODEL_DIR / "tokenizer.json").read_bytes())
    bundled, imported = SpinDetector.load(DEFAULT_MODEL_DIR / "detector"), SpinDetector.load(checkpoint)
    tokens = [tokenize(s) for s in SENTENCES]
    for a, b in zip(bundled.word_probabilities(SENTENCES, tokens), imported.word_probabilities(SENTENCES, tokens)):
        assert np.abs(a - b).max() < 0.01  # float16 of the dequantised tables: the same detector

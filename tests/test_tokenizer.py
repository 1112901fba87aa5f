"""The SentencePiece tokenizer: byte fallback round trips, T5 ids, offline loading with AutoTokenizer."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
import sentencepiece as spm
from transformers import AutoTokenizer

from training.tokenizer import EOS, PAD, SPIECE_FILE, UNK, round_trip_failures, train_tokenizer

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
NEWS = [
    line
    for name in ("idlib_ceasefire_reference.txt", "idlib_ceasefire_spun.txt")
    for line in (SEEDS / name).read_text(encoding="utf-8").splitlines()
    if line.strip()
]
AWKWARD = [
    "Syria\u00a0s northwestern Idlib province",  # no-break space, as in the spun seed
    "Ceasefire holds 🙂👍🏽 say residents",
    "Москва объявила о прекращении огня",
    "<b>html</b> &amp; <a href='x'>links</a>",
    "control\x00\x07\x1b\x7f characters",
    "tab\tand\nnewline and \r\n",
    "two  spaces,   three and a trailing one ",
    " a leading space",
    "combining e\u0301 vs é, ligature ﬁ, fullwidth ＡＢＣ, zero\u200bwidth",
    "中文新闻 and العربية",
    "",
    "   ",
]


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out_dir = tmp_path_factory.mktemp("tokenizer")
    train_tokenizer(NEWS * 5, out_dir, vocab_size=8000)
    return out_dir


@pytest.fixture()
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise OSError("network access in a test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture(scope="module")
def tokenizer(tokenizer_dir: Path):
    return AutoTokenizer.from_pretrained(tokenizer_dir)


@pytest.mark.parametrize("text", AWKWARD)
def test_round_trip_without_unk(tokenizer, text: str) -> None:
    ids = tokenizer(text)["input_ids"]
    assert tokenizer.unk_token_id not in ids
    assert tokenizer.decode(ids, skip_special_tokens=True) == text


def test_news_sentences_round_trip(tokenizer) -> None:
    assert round_trip_failures(tokenizer, NEWS) == []


def test_unknown_characters_become_bytes(tokenizer) -> None:
    tokens = tokenizer.tokenize("🙂")
    assert tokens[-4:] == ["<0xF0>", "<0x9F>", "<0x99>", "<0x82>"]


def test_t5_special_ids_and_no_sentinels(tokenizer) -> None:
    assert (tokenizer.pad_token, tokenizer.eos_token, tokenizer.unk_token) == (PAD, EOS, UNK)
    assert (tokenizer.pad_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id) == (0, 1, 2)
    assert tokenizer("Moscow said")["input_ids"][-1] == 1
    assert not any(token.startswith("<extra_id_") for token in tokenizer.get_vocab())


def test_sentinels_on_request(tmp_path: Path) -> None:
    tok = train_tokenizer(NEWS, tmp_path, vocab_size=8000, extra_ids=3)
    assert tok.convert_tokens_to_ids("<extra_id_0>") == len(tok) - 1  # T5 order: extra_id_0 is the last id
    ids = tok("fire <extra_id_1> strikes")["input_ids"]
    assert len(tok) - 2 in ids  # one token, never spelled out in pieces
    assert tok.decode(ids, skip_special_tokens=True).split() == ["fire", "strikes"]


def test_matches_sentencepiece(tokenizer_dir: Path, tokenizer) -> None:
    """tokenizer.json segments news text exactly as the trained SentencePiece model does."""
    sp = spm.SentencePieceProcessor(model_file=str(tokenizer_dir / SPIECE_FILE))
    for sentence in NEWS:
        assert tokenizer(sentence, add_special_tokens=False)["input_ids"] == sp.encode(sentence)


def test_auto_tokenizer_loads_offline(tokenizer_dir: Path, tokenizer, no_network: None) -> None:
    config = json.loads((tokenizer_dir / "tokenizer_config.json").read_text(encoding="utf-8"))
    assert config["tokenizer_class"] == "PreTrainedTokenizerFast"  # not T5Tokenizer: it drops byte fallback
    assert {"tokenizer.json", "tokenizer_config.json", SPIECE_FILE} <= {p.name for p in tokenizer_dir.iterdir()}
    loaded = AutoTokenizer.from_pretrained(tokenizer_dir)
    text = "Cavusoglu told a news conference in Ankara 😀"
    assert loaded(text)["input_ids"] == tokenizer(text)["input_ids"]
    assert loaded.decode(loaded(text)["input_ids"], skip_special_tokens=True) == text

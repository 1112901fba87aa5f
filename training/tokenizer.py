"""A SentencePiece (unigram) tokenizer for mtfix models, saved so that ``AutoTokenizer`` loads it offline.

The repair model must be able to copy any character of its input, so the vocabulary is trained with
``byte_fallback``: a character that has no piece is encoded as its UTF-8 bytes (``<0xE2>`` ...) instead of
``<unk>``. SentencePiece's usual NFKC normalisation and whitespace squeezing are switched off for the same
reason (``Syria\\u00a0s`` must come back with its no-break space).

SentencePiece only trains the vocabulary. The tokenizer that is used is a ``tokenizers`` Unigram model
built from the trained pieces and saved as ``tokenizer.json`` with ``tokenizer_class`` =
``PreTrainedTokenizerFast``, which transformers 4.x and 5.x both load exactly as written. We do *not* declare
``T5Tokenizer``: in transformers 5 that class rebuilds its backend from the vocabulary with
``byte_fallback=False`` and a whitespace-squeezing pre-tokenizer, so ``"Syria\u00a0s  😀 Привет <b>x</b>"``
comes back as ``"Syria s   bb"``. Nor can transformers 5 load a directory with only ``spiece.model``
without the ``protobuf`` package. ``spiece.model`` is saved beside ``tokenizer.json`` for tools that want the
raw SentencePiece model; ``tokenizer.json`` encodes exactly as it does (tests/test_tokenizer.py).

Ids follow T5: ``<pad>`` = 0 (also the decoder start token), ``</s>`` = 1, ``<unk>`` = 2, then the 256
byte pieces, then the learned pieces. Sentinels (``<extra_id_0>`` is the last id, as in T5) are only added
when ``extra_ids`` > 0, i.e. for span-corruption pre-training.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import sentencepiece as spm
from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import Unigram
from transformers import AutoTokenizer, PreTrainedTokenizerBase, PreTrainedTokenizerFast

PAD, EOS, UNK = "<pad>", "</s>", "<unk>"
SPIECE_FILE = "spiece.model"
# SentencePiece skips longer sentences; news sentences are far shorter.
MAX_SENTENCE_BYTES = 8192


def _nonempty(sentences: Iterable[str]) -> Iterator[str]:
    for sentence in sentences:
        if sentence and not sentence.isspace():
            yield sentence


def train_sentencepiece(sentences: Iterable[str], vocab_size: int = 8000, max_sentences: int = 2_000_000) -> bytes:
    """Train a SentencePiece unigram model on ``sentences`` and return the serialized model.

    ``vocab_size`` is a soft limit: a small corpus yields a smaller vocabulary rather than an error.
    """
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=_nonempty(sentences),
        model_writer=model,
        model_type="unigram",
        vocab_size=vocab_size,
        hard_vocab_limit=False,
        byte_fallback=True,
        character_coverage=0.9995,  # rarer characters go to bytes
        normalization_rule_name="identity",
        remove_extra_whitespaces=False,
        add_dummy_prefix=True,
        split_digits=True,  # numbers are copied digit by digit, never mangled into a similar number
        pad_id=0,
        eos_id=1,
        unk_id=2,
        bos_id=-1,
        pad_piece=PAD,
        eos_piece=EOS,
        unk_piece=UNK,
        input_sentence_size=max_sentences,
        shuffle_input_sentence=True,
        max_sentence_length=MAX_SENTENCE_BYTES,
        num_threads=os.cpu_count() or 1,
        minloglevel=2,
    )
    return model.getvalue()


def build_tokenizer(spm_model: bytes, extra_ids: int = 0) -> PreTrainedTokenizerFast:
    """The ``transformers`` tokenizer for a SentencePiece unigram model trained by :func:`train_sentencepiece`."""
    sp = spm.SentencePieceProcessor(model_proto=spm_model)
    if [sp.id_to_piece(i) for i in range(3)] != [PAD, EOS, UNK]:
        raise ValueError("the SentencePiece model must have <pad>, </s>, <unk> as ids 0, 1, 2")
    if not sp.is_byte(3):
        raise ValueError("the SentencePiece model was trained without byte_fallback")
    vocab = [(sp.id_to_piece(i), sp.get_score(i)) for i in range(sp.get_piece_size())]
    # Byte pieces are only reached through byte fallback, except for the literal text "<0x41>", which
    # matches the piece and decodes as "A" (SentencePiece itself would not match it); likewise a literal
    # "</s>", "<pad>" or "<unk>" is read as that token. No news text has them.
    vocab += [(f"<extra_id_{i}>", 0.0) for i in reversed(range(extra_ids))]

    backend = Tokenizer(Unigram(vocab, unk_id=sp.unk_id(), byte_fallback=True))
    # SentencePiece with add_dummy_prefix and escape_whitespaces: every space is "▁" and the text gets one
    # leading "▁", also when it already starts with a space.
    backend.normalizer = normalizers.Sequence([normalizers.Replace(" ", "▁"), normalizers.Prepend("▁")])
    backend.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="never", split=True)
    backend.decoder = decoders.Sequence(
        [decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)]
    )
    backend.post_processor = processors.TemplateProcessing(
        single=f"$A {EOS}", pair=f"$A {EOS} $B {EOS}", special_tokens=[(EOS, sp.eos_id())]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        pad_token=PAD,
        eos_token=EOS,
        unk_token=UNK,
        additional_special_tokens=[f"<extra_id_{i}>" for i in range(extra_ids)] or None,
        clean_up_tokenization_spaces=False,
        model_max_length=1_000_000,  # no limit here: the training script truncates explicitly
    )


def save_tokenizer(tokenizer: PreTrainedTokenizerBase, out_dir: str | Path, spm_model: bytes | None = None) -> None:
    """Save ``tokenizer`` so that transformers 4.x and 5.x load it as written.

    ``spm_model`` (or else the ``spiece.model`` of the directory the tokenizer was loaded from) is saved beside.
    """
    out_dir = Path(out_dir)
    tokenizer.save_pretrained(out_dir)
    source_spm = Path(tokenizer.name_or_path) / SPIECE_FILE
    if spm_model is not None:
        (out_dir / SPIECE_FILE).write_bytes(spm_model)
    elif source_spm.is_file() and source_spm.resolve() != (out_dir / SPIECE_FILE).resolve():
        (out_dir / SPIECE_FILE).write_bytes(source_spm.read_bytes())
    # transformers 5 writes "TokenizersBackend", which transformers 4 does not know; both load this name
    # as the generic tokenizer that takes tokenizer.json as written.
    config_path = out_dir / "tokenizer_config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    if config.get("tokenizer_class") == "TokenizersBackend":
        config["tokenizer_class"] = "PreTrainedTokenizerFast"
        config_path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def has_tokenizer(directory: str | Path) -> bool:
    return (Path(directory) / "tokenizer.json").is_file()


def train_tokenizer(
    sentences: Iterable[str],
    out_dir: str | Path,
    vocab_size: int = 8000,
    extra_ids: int = 0,
) -> PreTrainedTokenizerBase:
    """Train a byte-fallback SentencePiece tokenizer on ``sentences``, save it to ``out_dir`` and load it back.

    ``out_dir`` then loads with ``AutoTokenizer.from_pretrained(out_dir)``, offline.
    """
    spm_model = train_sentencepiece(sentences, vocab_size=vocab_size)
    save_tokenizer(build_tokenizer(spm_model, extra_ids=extra_ids), out_dir, spm_model)
    return AutoTokenizer.from_pretrained(out_dir)


def round_trip_failures(tokenizer: PreTrainedTokenizerBase, texts: Iterable[str]) -> list[tuple[str, str]]:
    """The ``(text, decoded)`` pairs for which ``decode(encode(text))`` is not ``text``."""
    failures = []
    for text in texts:
        decoded = tokenizer.decode(tokenizer(text)["input_ids"], skip_special_tokens=True)
        if decoded != text:
            failures.append((text, decoded))
    return failures

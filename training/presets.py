"""Named T5 shapes for training mtfix models from scratch.

Parameter counts are for an 8,192-entry vocabulary with tied input/output embeddings. Speeds measured on the
2-core development CPU are in training/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from transformers import T5Config


@dataclass(frozen=True)
class Preset:
    d_model: int
    d_ff: int
    num_layers: int  # encoder layers; the decoder has as many
    num_heads: int
    d_kv: int
    dropout_rate: float
    description: str


PRESETS: dict[str, Preset] = {
    # For tests: a few seconds of CPU training learns simple word swaps.
    "tiny": Preset(64, 256, 2, 4, 16, 0.0, "tests: ~0.6M parameters, trains in seconds"),
    # The CPU default: ~9M parameters.
    "small": Preset(256, 1024, 4, 4, 64, 0.1, "CPU: ~9.4M parameters"),
    # Between the two: ~28M parameters, a long CPU run or a short GPU run.
    "medium": Preset(384, 1536, 6, 6, 64, 0.1, "CPU (days) or GPU: ~28M parameters"),
    # The t5-small shape: ~48M parameters with an 8k vocabulary.
    "base": Preset(512, 2048, 6, 8, 64, 0.1, "GPU: t5-small shape, ~48M parameters"),
}

PAD_ID, EOS_ID = 0, 1


def get_config(preset: str, vocab_size: int) -> T5Config:
    """A T5 (v1.0 style: ReLU feed-forward, tied embeddings) config for the named preset."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    if vocab_size < 3:
        raise ValueError(f"vocab_size must cover at least <pad>, </s>, <unk>, got {vocab_size}")
    p = PRESETS[preset]
    return T5Config(
        vocab_size=vocab_size,
        d_model=p.d_model,
        d_ff=p.d_ff,
        d_kv=p.d_kv,
        num_heads=p.num_heads,
        num_layers=p.num_layers,
        num_decoder_layers=p.num_layers,
        feed_forward_proj="relu",
        dropout_rate=p.dropout_rate,
        tie_word_embeddings=True,
        pad_token_id=PAD_ID,
        eos_token_id=EOS_ID,
        decoder_start_token_id=PAD_ID,
    )


def padded_vocab_size(tokenizer_size: int, multiple: int = 64) -> int:
    """The embedding size for a tokenizer of ``tokenizer_size`` entries, rounded up for faster matmuls."""
    return -(-tokenizer_size // multiple) * multiple

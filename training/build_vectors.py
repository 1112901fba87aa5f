"""Train the word vectors of the lattice's context score (:mod:`mtfix.context`) on the train split.

    python -m training.build_vectors --out mtfix/models/default/vectors.safetensors
        [--dim 128] [--window 10] [--min-count 10] [--max-vocab 40000] [--epochs 4] [--workers 1]
        [--data-dir ../shared/data] [--text FILE]

word2vec CBOW (gensim) over the language model's word forms (lower case, digits as 0, punctuation
dropped) of every train sentence of the four corpora, or of ``--text`` (one sentence per line). A wide
window, because the vectors are meant to carry a sentence's subject, not its syntax (the n-gram LM
does that). Stored as int8 unit vectors: 40,000 x 128 is 5.1 MB.

Why these settings (300 validation pairs, bundled lattice, context weight tuned per row; 2-core CPU):
CBOW dim 128, window 10, 4 epochs trains in about 3 minutes with one worker. Cosine to the sentence
(this file's score) and the CBOW prediction score h . u_w (which needs the output vectors too, twice
the size) gave the same gain, +0.5 to +0.7 BLEU.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from mtfix.context import WordVectors
from mtfix.text import lm_form, words

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "mtfix" / "models" / "default" / "vectors.safetensors"


def sentence_forms(sentence: str) -> list[str]:
    """The word forms the vectors are keyed by; punctuation has no vector."""
    return [lm_form(word) for word in words(sentence) if word[:1].isalnum()]


def write_train_text(out, corpora: list[str], data_dir: str | None) -> int:
    """The train split of ``corpora``, one sentence of word forms per line; returns the sentence count."""
    from training.corpus import iter_corpus, split_of

    count = 0
    for article in iter_corpus(corpora, data_dir):
        if split_of(article.id) != "train":
            continue
        for sentence in article.sentences:
            out.write(" ".join(sentence_forms(sentence)) + "\n")
            count += 1
    return count


def train_vectors(text_path: Path, dim: int, window: int, min_count: int, max_vocab: int, epochs: int,
                  workers: int, seed: int = 0) -> WordVectors:
    from gensim.models import Word2Vec
    from gensim.models.word2vec import LineSentence

    model = Word2Vec(LineSentence(str(text_path)), vector_size=dim, window=window, min_count=min_count,
                     max_final_vocab=max_vocab, sg=0, negative=5, sample=1e-4, epochs=epochs,
                     workers=workers, seed=seed)
    return WordVectors(list(model.wv.index_to_key), model.wv.vectors)


def main(argv: list[str] | None = None) -> WordVectors:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--corpora", default="reuters,abc,bbc,allsides")
    parser.add_argument("--data-dir", default=None, help="the corpora folder (default: ../shared/data)")
    parser.add_argument("--text", type=Path, help="train on this file (one sentence per line) instead of the corpora")
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--window", type=int, default=10)
    parser.add_argument("--min-count", type=int, default=10)
    parser.add_argument("--max-vocab", type=int, default=40000)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1, help="gensim threads (1 is reproducible)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        text_path = Path(folder) / "sentences.txt"
        with text_path.open("w", encoding="utf-8") as out:
            if args.text:
                with args.text.open(encoding="utf-8") as source:
                    for line in source:
                        out.write(" ".join(sentence_forms(line)) + "\n")
            else:
                corpora = [name.strip() for name in args.corpora.split(",") if name.strip()]
                count = write_train_text(out, corpora, args.data_dir)
                print(f"{count:,} train sentences in {time.perf_counter() - started:.0f} s", flush=True)
        vectors = train_vectors(text_path, args.dim, args.window, args.min_count, args.max_vocab,
                                args.epochs, args.workers)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    vectors.save(args.out)
    print(f"{len(vectors.words):,} words x {vectors.vectors.shape[1]} dims -> {args.out} "
          f"({args.out.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - started:.0f} s", flush=True)
    return vectors


if __name__ == "__main__":
    main(sys.argv[1:])

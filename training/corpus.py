"""Clean news corpora as articles of sentences: the clean side of the spun/clean training pairs.

Every reader streams (AllSides alone is 140 MB unpacked) and yields :class:`Article` objects whose
sentences are already cleaned and filtered. Splits are made per article with :func:`split_of`, never
per sentence, so no story can land in two splits.

Corpus layouts (under ``../shared/data/`` beside the checkout, see its README):

- ``reuters21578/reut2-*.sgm``: SGML, one ``<REUTERS NEWID=...>`` element per story, hard-wrapped body
  with indented paragraphs, earnings tables, ``<TICKER>`` marks and a trailing "Reuter".
- ``abc/{rural,science}.txt``: one sentence a line, stories separated by blank lines, no explicit
  article markers. A block after a blank line starts a new article unless its first line is a
  sub-heading (at most two words and no final punctuation, e.g. "Grain prices"): the rural file puts
  sub-headings of a long story after a blank line too, and splitting there would leak one story into
  two splits. Headline lines themselves have no final punctuation and are dropped by the filter.
- ``bbc/bbc_fulltext.txt`` and ``allsides/allsides_news.txt.gz``: one paragraph a line, one blank line
  between articles, with an ``articles_meta.tsv`` giving ``article_no`` in text order.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import html
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from mtfix.segment import split_sentences
from mtfix.text import words

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data"
CORPORA = ("reuters", "abc", "bbc", "allsides")

MIN_WORDS = 4
Split = Literal["train", "validation", "test"]


@dataclass
class Article:
    id: str
    source: str  # the corpus name (or file stem / dataset name for the generic readers)
    sentences: list[str]


# ---------------------------------------------------------------------------------------------------
# Sentence cleaning shared by all readers

_ZERO_WIDTH_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SPACE_RE = re.compile(r"\s+")
_FINAL_PUNCT_RE = re.compile(r"[.!?][\"'”’)\]]*$")


def normalise(text: str) -> str:
    """NFC, no control or zero-width characters, every run of white space (NBSP included) one space."""
    text = unicodedata.normalize("NFC", text)
    text = _ZERO_WIDTH_RE.sub("", _CONTROL_RE.sub(" ", text))
    return _SPACE_RE.sub(" ", text.replace("\u00a0", " ")).strip()


def _word_tokens(text: str) -> list[str]:
    return [w for w in words(text) if w[:1].isalnum()]


_UPPER_RE = re.compile(r"[A-Z]")
_LOWER_RE = re.compile(r"[a-z]")


def is_all_caps(text: str) -> bool:
    upper = len(_UPPER_RE.findall(text))
    return upper >= 4 and upper >= 4 * len(_LOWER_RE.findall(text))


def is_table_like(text: str) -> bool:
    """A row of figures: mostly numbers, or columns aligned with runs of spaces."""
    if re.search(r"\S {3,}\S", text.strip()):
        return True
    tokens = _word_tokens(text)
    numbers = len([t for t in tokens if t[0].isdigit()])
    return len(tokens) >= 2 and numbers >= 0.5 * len(tokens)


def keep_sentence(sentence: str) -> bool:
    """Prose sentences only: long enough, properly ended, not a headline or a row of figures."""
    if len(_word_tokens(sentence)) < MIN_WORDS:
        return False
    if not _FINAL_PUNCT_RE.search(sentence):
        return False  # headlines, sub-heads, truncated fragments
    return not is_all_caps(sentence) and not is_table_like(sentence)


def clean_paragraphs(paragraphs: Iterable[str]) -> list[str]:
    """The kept sentences of some paragraphs of running text, in order."""
    sentences = []
    for paragraph in paragraphs:
        for sentence in split_sentences(normalise(paragraph)):
            if keep_sentence(sentence):
                sentences.append(sentence)
    return sentences


def _blocks(lines: Iterable[str]) -> Iterator[list[str]]:
    """Groups of consecutive non-blank lines (line ends stripped)."""
    block: list[str] = []
    for line in lines:
        line = line.rstrip("\r\n")
        if line.strip():
            block.append(line)
        elif block:
            yield block
            block = []
    if block:
        yield block


def _data_dir(data_dir: str | Path | None) -> Path:
    return Path(data_dir) if data_dir is not None else DEFAULT_DATA_DIR


# ---------------------------------------------------------------------------------------------------
# Reuters-21578

_REUTERS_RE = re.compile(r'<REUTERS[^>]*\bNEWID="(\d+)"[^>]*>(.*?)</REUTERS>', re.S)
_BODY_RE = re.compile(r"<BODY>(.*?)</BODY>", re.S)
_TRAILER_RE = re.compile(r"\s*\bREUTER\b[\s\x03]*$", re.I)
_TICKER_RE = re.compile(r" ?<[A-Z0-9.&/-]+>")  # stock symbols such as <TWA>
_ANGLE_RE = re.compile(r"<([^<>]*)>")  # <Comissaria Smith Ltd>: keep the name


def reuters_paragraphs(body: str) -> list[str]:
    """Paragraphs of a raw Reuters ``<BODY>``: entities decoded, trailer, tickers and tables removed,
    hard-wrapped lines joined. A paragraph starts at an indented line."""
    body = html.unescape(body)
    body = _TRAILER_RE.sub("", body.replace("\x03", ""))
    body = _ANGLE_RE.sub(r"\1", _TICKER_RE.sub("", body))
    paragraphs: list[list[str]] = []
    current: list[str] = []
    for line in body.split("\n"):
        if not line.strip() or is_table_like(line):
            if current:
                paragraphs.append(current)
            current = []
            continue
        if line[:1].isspace() and current:
            paragraphs.append(current)
            current = []
        current.append(line.strip())
    if current:
        paragraphs.append(current)
    return [" ".join(lines) for lines in paragraphs]


def parse_reuters_sgml(text: str) -> Iterator[Article]:
    """Articles of one Reuters-21578 SGML file's text. Briefs and unprocessed items have no body."""
    for match in _REUTERS_RE.finditer(text):
        body = _BODY_RE.search(match.group(2))
        if body is None:
            continue
        sentences = clean_paragraphs(reuters_paragraphs(body.group(1)))
        if sentences:
            yield Article(f"reuters-{match.group(1)}", "reuters", sentences)


def iter_reuters(data_dir: str | Path | None = None) -> Iterator[Article]:
    for path in sorted((_data_dir(data_dir) / "reuters21578").glob("reut2-*.sgm")):
        # The files are ASCII apart from a few stray bytes; latin-1 never fails.
        yield from parse_reuters_sgml(path.read_text(encoding="latin-1"))


# ---------------------------------------------------------------------------------------------------
# ABC

def _is_subheading(line: str) -> bool:
    line = line.strip()
    return len(line.split()) <= 2 and not _FINAL_PUNCT_RE.search(line)


def parse_abc_lines(lines: Iterable[str], name: str) -> Iterator[Article]:
    """Articles of an ABC file (see the module docstring for how articles are inferred)."""
    number = 0
    current: list[str] = []
    for block in _blocks(lines):
        if current and not _is_subheading(block[0]):
            sentences = clean_paragraphs(current)
            if sentences:
                yield Article(f"abc-{name}-{number:05d}", "abc", sentences)
            number += 1
            current = []
        current.extend(block)
    sentences = clean_paragraphs(current)
    if sentences:
        yield Article(f"abc-{name}-{number:05d}", "abc", sentences)


def iter_abc(data_dir: str | Path | None = None) -> Iterator[Article]:
    for name in ("rural", "science"):
        with open(_data_dir(data_dir) / "abc" / f"{name}.txt", encoding="utf-8", errors="replace") as handle:
            yield from parse_abc_lines(handle, name)


# ---------------------------------------------------------------------------------------------------
# BBC and AllSides: paragraph a line, blank line between articles, metadata rows in text order

def _iter_with_meta(lines: Iterable[str], meta_rows: Iterator[dict[str, str]], prefix: str) -> Iterator[Article]:
    for block in _blocks(lines):
        row = next(meta_rows, None)
        if row is None:
            raise ValueError(f"{prefix}: more articles in the text than rows in the metadata")
        sentences = clean_paragraphs(block)
        if sentences:
            yield Article(f"{prefix}-{row['article_no']}", prefix, sentences)


def iter_bbc(data_dir: str | Path | None = None) -> Iterator[Article]:
    base = _data_dir(data_dir) / "bbc"
    with open(base / "articles_meta.tsv", encoding="utf-8", newline="") as meta, \
            open(base / "bbc_fulltext.txt", encoding="utf-8") as text:
        yield from _iter_with_meta(text, iter(csv.DictReader(meta, delimiter="\t")), "bbc")


def iter_allsides(data_dir: str | Path | None = None) -> Iterator[Article]:
    base = _data_dir(data_dir) / "allsides"
    # Titles and URLs may hold stray quote characters, so the TSV is read without quoting rules.
    with gzip.open(base / "articles_meta.tsv.gz", "rt", encoding="utf-8", newline="") as meta, \
            gzip.open(base / "allsides_news.txt.gz", "rt", encoding="utf-8") as text:
        rows = csv.DictReader(meta, delimiter="\t", quoting=csv.QUOTE_NONE)
        yield from _iter_with_meta(text, iter(rows), "allsides")


# ---------------------------------------------------------------------------------------------------
# Generic sources for users' own domains

def iter_text(path: str | Path) -> Iterator[Article]:
    """A plain text file: one paragraph a line, blank lines between articles."""
    path = Path(path)
    with open(path, encoding="utf-8") as handle:
        for number, block in enumerate(_blocks(handle)):
            sentences = clean_paragraphs(block)
            if sentences:
                yield Article(f"{path.stem}-{number}", path.stem, sentences)


def iter_jsonl(path: str | Path, field: str = "text", id_field: str = "id") -> Iterator[Article]:
    """A JSON-lines file with one article per line in ``field`` (paragraphs separated by newlines)."""
    path = Path(path)
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            if not line.strip():
                continue
            record = json.loads(line)
            sentences = clean_paragraphs(str(record.get(field) or "").split("\n"))
            if sentences:
                article_id = str(record.get(id_field, number))
                yield Article(f"{path.stem}-{article_id}", path.stem, sentences)


def iter_hf(name: str, split: str = "train", field: str = "text") -> Iterator[Article]:
    """A Hugging Face dataset (needs a network the first time), one article per row, streamed."""
    from datasets import load_dataset

    for number, record in enumerate(load_dataset(name, split=split, streaming=True)):
        sentences = clean_paragraphs(str(record.get(field) or "").split("\n"))
        if sentences:
            yield Article(f"{name}-{split}-{number}", name, sentences)


# ---------------------------------------------------------------------------------------------------
# The combined corpus and the article-level split

READERS = {"reuters": iter_reuters, "abc": iter_abc, "bbc": iter_bbc, "allsides": iter_allsides}


def _sentence_key(sentence: str) -> bytes:
    return hashlib.blake2b(sentence.encode("utf-8"), digest_size=8).digest()


def dedupe(articles: Iterable[Article]) -> Iterator[Article]:
    """Drop every sentence already seen in an earlier article (wire copy repeats itself a lot), and
    articles left empty. Duplicates also link articles across splits, so this limits leakage."""
    seen: set[bytes] = set()
    for article in articles:
        kept = []
        for sentence in article.sentences:
            key = _sentence_key(sentence)
            if key not in seen:
                seen.add(key)
                kept.append(sentence)
        if kept:
            yield Article(article.id, article.source, kept)


def iter_corpus(names: Iterable[str] = CORPORA, data_dir: str | Path | None = None) -> Iterator[Article]:
    """The named corpora one after the other, deduplicated across all of them."""
    names = tuple(names)
    unknown = [name for name in names if name not in READERS]
    if unknown:
        raise ValueError(f"unknown corpora {unknown}; known: {sorted(READERS)}")

    def chained() -> Iterator[Article]:
        for name in names:
            yield from READERS[name](data_dir)

    return dedupe(chained())


def split_of(article_id: str) -> Split:
    """The split of an article: a stable hash of its id, 98% train, 1% validation, 1% test."""
    digest = hashlib.blake2b(article_id.encode("utf-8"), digest_size=8).digest()
    bucket = int.from_bytes(digest, "big") % 10_000
    if bucket < 9_800:
        return "train"
    return "validation" if bucket < 9_900 else "test"

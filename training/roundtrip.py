"""Real machine-translation damage: the clean corpora's sentences round-tripped through Apertium.

    python -m training.roundtrip --out work_data/roundtrip [--pairs en-es en-ca ...]
        [--splits test validation train] [--max-sentences 3000 | test=3000 validation=3000 train=200000]
        [--workers 2]
    python -m training.roundtrip --out work_data/roundtrip --report     # counts and identity BLEU

Each sentence goes English -> X -> English through Apertium (``apt-get install apertium
apertium-eng-spa apertium-eng-cat apertium-en-gl apertium-eo-en apertium-hbs-eng``); the result is a
``(garbled, clean)`` pair. The sentences and their splits are those of the spun pairs: the corpora are read
with :func:`training.corpus.iter_corpus`, filtered by :func:`training.build_data.iter_items` (5 to 60 words)
and split by article with :func:`training.corpus.split_of`, so no story lands in two splits here either,
nor in different splits of the spun and the garbled pairs.

**Held-out pair.** ``en-gl`` (English -> Galician -> English, :data:`HELD_OUT_PAIR`) is the
out-of-distribution dev set: it is kept out of all training and tuning. Its train split is never built;
report on its test split beside the trained pairs' (:data:`TRAINING_PAIRS`).

Output, one folder per pair and split, written in shards so a killed build resumes where it stopped::

    {out}/manifest.json                      the shard size, seed and sentences (a digest per split)
                                             the shards were cut from; a run that differs is refused
    {out}/{pair}/{split}/shard-00000.jsonl   {"source": garbled, "target": clean, "article": id,
                                              "sentence": number in the article, "corpus": name}
    {out}/{pair}/{split}/shard-00000.json    its statistics; written last, so it marks the shard done

Within a split the sentences are ordered by a seeded hash (the ranking ``build_data`` samples with) and cut
into shards of ``--shard-sentences``; ``--max-sentences`` takes the first shards (rounded up to whole
shards). A shard's content therefore does not depend on ``--max-sentences``: a later run with a larger one
keeps every finished shard and adds the next ones. The same sentences go through every pair.

Line alignment: a batch of sentences goes to Apertium as paragraphs separated by blank lines (``-f txt``
keeps blank lines as format, untranslated). If the output has a different number of paragraphs, the batch
is halved and retried, down to single sentences; a sentence that still does not come back as exactly one
paragraph is dropped and counted (``dropped``), never misaligned. ``-u`` removes the ``*`` Apertium puts
on unknown words; the ``#`` (generation error) and ``@`` (transfer error) marks it keeps, and the word
"parquote" that apertium-eng-hbs writes for a quotation mark, are removed afterwards unless the clean
sentence has the same token (``#MeToo``, ``@handle``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from training.build_data import BuildArgs, Item, _hash, iter_items
from training.corpus import CORPORA, Article, iter_corpus, normalise

# pair name -> (English -> X mode, X -> English mode), as `apertium -l` names them.
PAIRS = {
    "en-es": ("eng-spa", "spa-eng"),
    "en-ca": ("eng-cat", "cat-eng"),
    "en-gl": ("en-gl", "gl-en"),
    "en-eo": ("en-eo", "eo-en"),
    "en-hbs": ("eng-hbs", "hbs-eng"),
}
HELD_OUT_PAIR = "en-gl"  # out of all training and tuning: the out-of-distribution dev set
TRAINING_PAIRS = tuple(pair for pair in PAIRS if pair != HELD_OUT_PAIR)
SPLITS = ("test", "validation", "train")  # the order jobs are done in: the small evaluation sets first

SHARD_SENTENCES = 500
# Sentences per Apertium call. Each call starts a dozen processes and loads the dictionaries (about 0.8 s on
# the busy 2-core machine): a round trip ran at 105 sentences/s in batches of 500, 48 in batches of 100.
BATCH_SENTENCES = 500

# An engine translates text in one Apertium mode: engine(mode, text) -> text. Tests pass a fake one.
Engine = Callable[[str, str], str]


def apertium(mode: str, text: str) -> str:
    """``apertium -u -f txt MODE`` on ``text``."""
    # Apertium needs a UTF-8 locale to read anything but ASCII; CI containers often have none set.
    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    result = subprocess.run(["apertium", "-u", "-f", "txt", mode], input=text.encode("utf-8"),
                            capture_output=True, env=env, check=True, timeout=3600)  # hours niced on a busy machine
    return result.stdout.decode("utf-8", errors="replace")


# ---------------------------------------------------------------------------------------------------
# Line-aligned translation

_PARAGRAPH_BREAK_RE = re.compile(r"\n[ \t]*\n\s*")


def translate(sentences: list[str], mode: str, engine: Engine = apertium) -> list[str | None]:
    """The translations of ``sentences``, aligned with them; None where a sentence did not come back as
    exactly one paragraph."""
    if not sentences:
        return []
    output = engine(mode, "".join(sentence + "\n\n" for sentence in sentences))
    paragraphs = [p for p in _PARAGRAPH_BREAK_RE.split(output) if p.strip()]
    if len(paragraphs) == len(sentences):
        return [normalise(p) for p in paragraphs]
    if len(sentences) == 1:
        return [None]
    # Some sentence was merged, split or lost; which one is unknown, so halve the batch until it is found.
    half = len(sentences) // 2
    return translate(sentences[:half], mode, engine) + translate(sentences[half:], mode, engine)


# A mark before a word (``#tener``, ``@casa``) or after one (hbs-eng writes ``have# to``); an e-mail
# address's ``@`` has word characters on both sides and is neither.
_MARK_RE = re.compile(r"(?<![\w#@])([#@]+)(\w+)|(\w+)([#@]+)(?![\w#@])")
# apertium-eng-hbs 0.5.1 writes a quotation mark as the word "parquote" (its tag's name leaks out).
_LEAKED_TAGS = {"parquote": '"'}


def strip_marks(garbled: str, clean: str) -> str:
    """``garbled`` without Apertium's ``#``/``@`` marks and leaked tag names, except what the clean
    sentence has as well (``#MeToo``, ``@handle``)."""

    def unmark(match: re.Match) -> str:
        return match.group(0) if match.group(0) in clean else (match.group(2) or match.group(3))

    garbled = _MARK_RE.sub(unmark, garbled)
    for leaked, text in _LEAKED_TAGS.items():
        if leaked not in clean:
            garbled = garbled.replace(leaked, text)
    return garbled


def round_trip(sentences: list[str], pair: str, engine: Engine = apertium) -> list[str | None]:
    """English -> X -> English for each sentence, aligned with them; None where a step lost alignment."""
    forward_mode, back_mode = PAIRS[pair]
    forward = translate(sentences, forward_mode, engine)
    alive = [k for k, text in enumerate(forward) if text is not None]
    back = translate([forward[k] for k in alive], back_mode, engine)
    result: list[str | None] = [None] * len(sentences)
    for k, text in zip(alive, back):
        if text is not None:
            result[k] = strip_marks(text, sentences[k])
    return result


# ---------------------------------------------------------------------------------------------------
# Sentences, splits and shards

def ranked_items(articles: Iterable[Article], splits: Iterable[str], seed: int = 0) -> dict[str, list[Item]]:
    """Per split, the sentences build_data would spin (same filter, same article split), ordered by the
    seeded hash build_data samples with, so the first N of a split are a random sample of it."""
    wanted = {split: [] for split in splits}
    for item in iter_items(articles, BuildArgs(out=Path("."), max_sentences=None)):
        if item[0] in wanted:
            wanted[item[0]].append(item)
    for items in wanted.values():
        items.sort(key=lambda item: _hash(seed, "sample", item[1], item[3]))
    return wanted


@dataclass
class Job:
    pair: str
    split: str
    shard: int
    items: list[Item]
    folder: Path  # {out}/{pair}/{split}


@dataclass
class ShardStats:
    pair: str
    split: str
    shard: int
    sentences: int = 0
    pairs: int = 0
    dropped: int = 0  # lost their alignment in Apertium
    unchanged: int = 0  # came back identical to the clean sentence
    seconds: float = 0.0


def shard_name(shard: int) -> str:
    return f"shard-{shard:05d}"


def is_done(folder: Path, shard: int) -> bool:
    return (folder / f"{shard_name(shard)}.json").exists()


def plan_jobs(ranked: dict[str, list[Item]], pairs: Iterable[str], limits: dict[str, int | None], out: Path,
              shard_sentences: int = SHARD_SENTENCES) -> list[Job]:
    """The shards still to do: evaluation splits first, then train shards taken in turn from each pair (so
    every pair grows evenly however long the build runs). The held-out pair gets no train split."""
    pairs = list(pairs)
    jobs = []
    for split in [s for s in SPLITS if s in ranked]:
        items = ranked[split]
        limit = limits.get(split)
        count = len(items) if limit is None else min(len(items), limit)
        shards = math.ceil(count / shard_sentences)
        for shard in range(shards):
            for pair in pairs:
                if pair == HELD_OUT_PAIR and split == "train":
                    continue
                folder = out / pair / split
                if not is_done(folder, shard):
                    chunk = items[shard * shard_sentences:(shard + 1) * shard_sentences]
                    jobs.append(Job(pair, split, shard, chunk, folder))
    return jobs


def run_job(job: Job, engine: Engine = apertium, batch_sentences: int = BATCH_SENTENCES) -> ShardStats:
    """Round-trip one shard and write it; the statistics file goes last, as the shard's done mark."""
    started = time.perf_counter()
    stats = ShardStats(job.pair, job.split, job.shard, sentences=len(job.items))
    lines = []
    for start in range(0, len(job.items), batch_sentences):
        batch = job.items[start:start + batch_sentences]
        garbled = round_trip([item[4] for item in batch], job.pair, engine)
        for (_, article_id, corpus, number, clean), text in zip(batch, garbled):
            if text is None:
                stats.dropped += 1
                continue
            stats.pairs += 1
            stats.unchanged += text == clean
            record = {"source": text, "target": clean, "article": article_id, "sentence": number, "corpus": corpus}
            lines.append(json.dumps(record, ensure_ascii=False) + "\n")
    stats.seconds = round(time.perf_counter() - started, 2)
    job.folder.mkdir(parents=True, exist_ok=True)
    name = shard_name(job.shard)
    # Write to a temporary name and rename: a killed job never leaves a half shard under the real name.
    _write_atomic(job.folder / f"{name}.jsonl", "".join(lines))
    _write_atomic(job.folder / f"{name}.json", json.dumps(asdict(stats)) + "\n")
    return stats


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


_engine: Engine = apertium


def _init_worker(engine: Engine) -> None:
    global _engine
    _engine = engine


def _run_job_in_worker(job: Job) -> ShardStats:
    return run_job(job, _engine)


def sentences_digest(items: list[Item]) -> str:
    """A fingerprint of a split's ranked sentences: shards are slices of that list."""
    digest = hashlib.sha256()
    for _, article_id, _, number, sentence in items:
        digest.update(f"{article_id}/{number}\t{sentence}\n".encode("utf-8"))
    return digest.hexdigest()


def check_manifest(out: Path, shard_sentences: int, seed: int, ranked: dict[str, list[Item]]) -> None:
    """Record how the shards are cut and from which sentences, and refuse to add shards to a build whose
    shards were cut differently: another shard size or seed, or other sentences (the corpora or the
    sentence splitter changed), would silently duplicate some sentences and skip others."""
    path = out / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {
        "shard_sentences": shard_sentences, "seed": seed}
    if (manifest["shard_sentences"], manifest["seed"]) != (shard_sentences, seed):
        raise SystemExit(f"{out} was built with --shard-sentences {manifest['shard_sentences']} --seed "
                         f"{manifest['seed']}: use the same or another --out")
    digests = manifest.setdefault("sentences_sha256", {})  # older manifests lack it: recorded from now on
    for split, items in ranked.items():
        digest = sentences_digest(items)
        if digests.setdefault(split, digest) != digest:
            raise SystemExit(f"the {split} sentences differ from those {out} was built from "
                             "(corpora or sentence splitting changed): use another --out")
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")


def build(out: Path, pairs: Iterable[str] = PAIRS, splits: Iterable[str] = SPLITS,
          limits: dict[str, int | None] | None = None, workers: int = 2, engine: Engine = apertium,
          articles: Iterable[Article] | None = None, shard_sentences: int = SHARD_SENTENCES, seed: int = 0,
          log: Callable[[str], None] = print) -> list[ShardStats]:
    """Round-trip the shards not yet done; returns the statistics of the ones done by this call."""
    pairs = list(pairs)
    unknown = [pair for pair in pairs if pair not in PAIRS]
    if unknown:
        raise ValueError(f"unknown pairs {unknown}; known: {sorted(PAIRS)}")
    if articles is None:
        articles = iter_corpus(CORPORA)
    ranked = ranked_items(articles, splits, seed)
    check_manifest(out, shard_sentences, seed, ranked)
    log("sentences per split: " + ", ".join(f"{split} {len(items)}" for split, items in ranked.items()))
    jobs = plan_jobs(ranked, pairs, limits or {}, out, shard_sentences)
    log(f"{len(jobs)} shards to do")
    done: list[ShardStats] = []
    started = time.perf_counter()

    def report(stats: ShardStats) -> None:
        done.append(stats)
        rate = stats.sentences / max(stats.seconds, 1e-9)
        log(f"{stats.pair} {stats.split} {shard_name(stats.shard)}: {stats.pairs} pairs, {stats.dropped} dropped, "
            f"{rate:.1f} sentences/s; {len(done)}/{len(jobs)} shards, {time.perf_counter() - started:.0f}s")

    if workers > 1:
        with multiprocessing.get_context("fork").Pool(workers, _init_worker, (engine,)) as pool:
            for stats in pool.imap_unordered(_run_job_in_worker, jobs):
                report(stats)
    else:
        for job in jobs:
            report(run_job(job, engine))
    return done


# ---------------------------------------------------------------------------------------------------
# Reading a build back

def iter_pairs(out: Path, pair: str, split: str) -> Iterator[dict]:
    """The records of a pair's split, finished shards only, in shard order."""
    folder = Path(out) / pair / split
    for marker in sorted(folder.glob("shard-*.json")):
        with open(marker.with_suffix(".jsonl"), encoding="utf-8") as handle:
            for line in handle:
                yield json.loads(line)


def report(out: Path) -> list[dict]:
    """Per built pair and split: shards, pairs, dropped, unchanged and identity BLEU (garbled vs clean)."""
    import sacrebleu

    rows = []
    for pair in PAIRS:
        for split in SPLITS:
            folder = Path(out) / pair / split
            markers = sorted(folder.glob("shard-*.json"))
            if not markers:
                continue
            stats = [json.loads(path.read_text(encoding="utf-8")) for path in markers]
            records = list(iter_pairs(out, pair, split))
            bleu = sacrebleu.corpus_bleu([r["source"] for r in records], [[r["target"] for r in records]])
            seconds = sum(s["seconds"] for s in stats)
            rows.append({
                "pair": pair, "split": split, "shards": len(markers), "pairs": len(records),
                "dropped": sum(s["dropped"] for s in stats), "unchanged": sum(s["unchanged"] for s in stats),
                "identity_bleu": round(bleu.score, 1),
                "sentences_per_s": round(sum(s["sentences"] for s in stats) / max(seconds, 1e-9), 1),
            })
    return rows


# ---------------------------------------------------------------------------------------------------
# Command line

def parse_limits(values: list[str] | None) -> dict[str, int | None]:
    """``["3000"]`` -> every split 3,000; ``["test=3000", "train=200000"]`` per split; 0 means all."""
    limits: dict[str, int | None] = {}
    for value in values or []:
        split, _, number = value.rpartition("=")
        for name in ([split] if split else SPLITS):
            if name not in SPLITS:
                raise argparse.ArgumentTypeError(f"unknown split {name!r} in --max-sentences {value}")
            limits[name] = int(number) or None
    return limits


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Round-trip the clean corpora through Apertium into garbled/clean pairs.")
    parser.add_argument("--out", type=Path, default=Path("work_data/roundtrip"))
    parser.add_argument("--pairs", nargs="+", default=list(PAIRS), choices=list(PAIRS))
    parser.add_argument("--splits", nargs="+", default=list(SPLITS), choices=list(SPLITS))
    parser.add_argument("--max-sentences", nargs="+", default=None, metavar="[SPLIT=]N",
                        help="sentences per split (rounded up to whole shards), e.g. 3000 or test=3000 train=100000; "
                             "default all")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--shard-sentences", type=int, default=SHARD_SENTENCES)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--report", action="store_true", help="only print what is built, with identity BLEU")
    ns = parser.parse_args(argv)
    if ns.report:
        for row in report(ns.out):
            print(json.dumps(row))
        return
    # A plain `kill` must go through the Pool's clean-up, which stops the workers too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    build(ns.out, ns.pairs, ns.splits, parse_limits(ns.max_sentences), ns.workers,
          shard_sentences=ns.shard_sentences, seed=ns.seed, log=lambda line: print(line, flush=True))


if __name__ == "__main__":
    main()

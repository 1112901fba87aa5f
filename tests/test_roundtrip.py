"""training.roundtrip: line alignment, marks, splits, shards and resuming, with a fake translator; one real
Apertium round trip where Apertium is installed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from training import roundtrip
from training.build_data import _hash
from training.corpus import Article, split_of
from training.roundtrip import (
    HELD_OUT_PAIR, PAIRS, TRAINING_PAIRS, build, iter_pairs, parse_limits, plan_jobs, ranked_items, report,
    round_trip, run_job, strip_marks, translate,
)

# ---------------------------------------------------------------------------------------------------
# Fake engines: (mode, text) -> text, working paragraph by paragraph like Apertium's -f txt.


def _paragraphs(text: str) -> list[str]:
    return [p for p in text.split("\n\n") if p.strip()]


def upper_engine(mode: str, text: str) -> str:
    """Translates a paragraph by upper-casing it; a paragraph with SPLIT comes back as two, one with LOSE
    comes back empty, and one with MERGE is joined to the next one: the ways Apertium can break alignment."""
    out = []
    for paragraph in _paragraphs(text):
        if "LOSE" in paragraph:
            continue
        paragraph = paragraph.upper()
        if "SPLIT" in paragraph:
            paragraph = paragraph.replace("SPLIT", "SPLIT\n\n")
        out.append(paragraph)
    joined = " " + "\n\n ".join(out) + "\n\n"  # Apertium puts a space before each paragraph
    return re.sub(r"MERGE([^\n]*)\n\n", r"MERGE\1 ", joined)


def garble_engine(mode: str, text: str) -> str:
    """English -> "X": reverses each word; "X" -> English: reverses them back and says "the Thursday"
    (the kind of damage a real round trip does). A sentence with FWDFAIL is lost going out, one with
    BACKFAIL coming back."""
    out = []
    for paragraph in _paragraphs(text):
        if mode == "eng-spa":
            if "FWDFAIL" not in paragraph:
                out.append(" ".join(word[::-1] for word in paragraph.split()))
        else:
            restored = " ".join(word[::-1] for word in paragraph.split())
            if "BACKFAIL" not in restored:
                out.append(restored.replace("on Thursday", "the Thursday"))
    return "".join(p + "\n\n" for p in out)


class CountingEngine:
    """The garble engine, counting its calls; raises after ``fail_after`` calls (a killed build)."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.calls = 0
        self.fail_after = fail_after

    def __call__(self, mode: str, text: str) -> str:
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise KeyboardInterrupt("killed")
        self.calls += 1
        return garble_engine(mode, text)


# ---------------------------------------------------------------------------------------------------
# Alignment and marks


def test_translate_keeps_alignment_and_drops_what_breaks_it():
    sentences = [f"sentence {k} here." for k in range(9)]
    sentences[2] = "this one will SPLIT in two."
    sentences[5] = "this one will LOSE itself."
    sentences[6] = "this one will MERGE with the next."
    result = translate(sentences, "eng-spa", upper_engine)
    assert len(result) == len(sentences)
    assert result[2] is None and result[5] is None
    for k, text in enumerate(result):
        if k not in (2, 5):
            # MERGE survives once the halving puts it last in a batch, where it has nothing to merge with.
            assert text == sentences[k].upper()  # its own translation, stripped of Apertium's leading space


def test_translate_one_call_when_nothing_breaks():
    engine = CountingEngine()
    sentences = [f"sentence {k} here." for k in range(50)]
    assert translate(sentences, "eng-spa", engine) == [" ".join(w[::-1] for w in s.split()) for s in sentences]
    assert engine.calls == 1
    assert translate([], "eng-spa", engine) == [] and engine.calls == 1


def test_translate_normalises_white_space():
    engine = lambda mode, text: "".join(f"  {p.replace(' ', '  ')}\n  \n" for p in _paragraphs(text))
    assert translate(["a b c.", "d e."], "eng-spa", engine) == ["a b c.", "d e."]


def test_round_trip_aligns_both_legs():
    sentences = ["He said on Thursday he would go.", "This FWDFAIL one is lost going out.",
                 "This BACKFAIL one is lost coming back.", "She left on Thursday."]
    result = round_trip(sentences, "en-es", garble_engine)
    assert result == ["He said the Thursday he would go.", None, None, "She left the Thursday."]


def test_strip_marks():
    clean = "Supporters of #MeToo wrote to @jdoe at j.doe@example.com."
    garbled = "#Supporters of #MeToo @wrote to @jdoe at j.doe@example.com #tener."
    assert strip_marks(garbled, clean) == "Supporters of #MeToo wrote to @jdoe at j.doe@example.com tener."
    assert strip_marks("A ##doubled mark and #5 items.", "") == "A doubled mark and 5 items."
    assert strip_marks("Oil prices would have# that rise, they agree#.", "") == "Oil prices would have that rise, they agree."
    assert strip_marks("Write to jdoe@# now.", "") == "Write to jdoe now."


def test_leaked_quote_tag_becomes_a_quotation_mark():
    clean = '"He is not going to do it," Miller added.'
    assert strip_marks("parquoteFree is not go# to do it,parquote Miller added.", clean) == \
        '"Free is not go to do it," Miller added.'
    assert strip_marks("The parquote tag, said parquote.", "A word parquote here.") == "The parquote tag, said parquote."


def test_held_out_pair_is_declared():
    assert HELD_OUT_PAIR == "en-gl" and HELD_OUT_PAIR in PAIRS
    assert HELD_OUT_PAIR not in TRAINING_PAIRS and set(TRAINING_PAIRS) | {HELD_OUT_PAIR} == set(PAIRS)
    assert HELD_OUT_PAIR in roundtrip.__doc__


# ---------------------------------------------------------------------------------------------------
# Splits and shards


def _articles(per_split: int = 3, sentences: int = 7) -> list[Article]:
    """Articles landing in every split, each with distinct sentences of 5+ words, plus a short one that
    the shared filter drops."""
    ids = {"train": [], "validation": [], "test": []}
    n = 0
    while min(len(v) for v in ids.values()) < per_split:
        ids[split_of(f"story-{n}")].append(f"story-{n}")
        n += 1
    chosen = [i for split in ids.values() for i in split[:per_split]]
    return [
        Article(article_id, "tiny",
                [f"The minister said on Thursday that {k} people came to {article_id}." for k in range(sentences)]
                + ["Too short here."])
        for article_id in chosen
    ]


def test_ranked_items_use_the_article_split_and_filter():
    articles = _articles()
    ranked = ranked_items(articles, ["test", "validation", "train"])
    for split, items in ranked.items():
        assert len(items) == 3 * 7  # the short sentence is filtered out, as in build_data
        assert all(split_of(item[1]) == split and item[0] == split for item in items)
        keys = [_hash(0, "sample", item[1], item[3]) for item in items]
        assert keys == sorted(keys)  # the ranking build_data samples with
    assert list(ranked_items(articles, ["test"])) == ["test"]
    assert ranked_items(articles, ["test"], seed=1)["test"] != ranked["test"]


def test_plan_jobs_shards_limits_and_held_out_pair(tmp_path):
    ranked = ranked_items(_articles(), ["test", "validation", "train"])
    jobs = plan_jobs(ranked, ["en-es", HELD_OUT_PAIR], {"test": 10, "validation": None, "train": 5}, tmp_path,
                     shard_sentences=4)
    shards = {(job.pair, job.split): [] for job in jobs}
    for job in jobs:
        shards[job.pair, job.split].append(job.shard)
    assert shards[("en-es", "test")] == [0, 1, 2]  # 10 sentences rounded up to whole shards of 4
    assert shards[("en-es", "validation")] == list(range(6))  # all 21 sentences
    assert shards[("en-es", "train")] == [0, 1]
    assert (HELD_OUT_PAIR, "train") not in shards and shards[(HELD_OUT_PAIR, "test")] == [0, 1, 2]
    assert [job.split for job in jobs[:6]] == ["test"] * 6  # evaluation splits first
    # A shard's sentences do not depend on the limit, so a larger limit later only adds shards.
    more = plan_jobs(ranked, ["en-es"], {"test": 20}, tmp_path, shard_sentences=4)
    assert [job.items for job in more[:3]] == [job.items for job in jobs if job.pair == "en-es" and job.split == "test"]
    assert [job.items for job in more[:2]] == [ranked["test"][:4], ranked["test"][4:8]]


def test_train_shards_alternate_between_pairs(tmp_path):
    ranked = ranked_items(_articles(), ["train"])
    jobs = plan_jobs(ranked, ["en-es", "en-eo"], {}, tmp_path, shard_sentences=8)
    assert [(job.pair, job.shard) for job in jobs] == [
        ("en-es", 0), ("en-eo", 0), ("en-es", 1), ("en-eo", 1), ("en-es", 2), ("en-eo", 2)]


def test_run_job_writes_records_and_stats(tmp_path):
    items = [("test", "a-1", "tiny", 0, "He left on Thursday."), ("test", "a-1", "tiny", 1, "A FWDFAIL one."),
             ("test", "a-2", "tiny", 4, "It rained.")]
    job = roundtrip.Job("en-es", "test", 3, items, tmp_path / "en-es" / "test")
    stats = run_job(job, garble_engine, batch_sentences=2)
    records = [json.loads(line) for line in (job.folder / "shard-00003.jsonl").read_text().splitlines()]
    assert records == [
        {"source": "He left the Thursday.", "target": "He left on Thursday.", "article": "a-1", "sentence": 0, "corpus": "tiny"},
        {"source": "It rained.", "target": "It rained.", "article": "a-2", "sentence": 4, "corpus": "tiny"},
    ]
    written = json.loads((job.folder / "shard-00003.json").read_text())
    assert written == json.loads(json.dumps(stats.__dict__))
    assert (stats.sentences, stats.pairs, stats.dropped, stats.unchanged) == (3, 2, 1, 1)
    assert not list(job.folder.glob(".*.tmp"))


# ---------------------------------------------------------------------------------------------------
# Whole builds: parallel, resumable


def _files(out: Path) -> dict[str, str]:
    return {str(p.relative_to(out)): p.read_text() for p in sorted(out.rglob("*.jsonl"))}


def _build(out, engine, workers=1, limits=None):
    return build(out, ["en-es", "en-eo", HELD_OUT_PAIR], ["test", "validation", "train"], limits or {}, workers,
                 engine, _articles(), shard_sentences=5, log=lambda line: None)


def test_build_parallel_matches_serial_and_reads_back(tmp_path):
    serial = _build(tmp_path / "serial", garble_engine, workers=1)
    _build(tmp_path / "parallel", garble_engine, workers=2)
    assert _files(tmp_path / "serial") == _files(tmp_path / "parallel")
    assert len(serial) == 5 * 8  # 21 sentences = 5 shards of 5; 2 pairs x 3 splits + the held-out pair x 2
    records = list(iter_pairs(tmp_path / "serial", "en-es", "test"))
    ranked = ranked_items(_articles(), ["test"])["test"]
    assert [r["target"] for r in records] == [item[4] for item in ranked]
    assert all(r["source"] == r["target"].replace("on Thursday", "the Thursday") for r in records)
    assert not (tmp_path / "serial" / HELD_OUT_PAIR / "train").exists()


def test_killed_build_resumes_without_redoing_shards(tmp_path):
    fresh = tmp_path / "fresh"
    _build(fresh, garble_engine)
    out = tmp_path / "resumed"
    with pytest.raises(KeyboardInterrupt):
        _build(out, CountingEngine(fail_after=13))  # two calls a shard: dies in the seventh shard
    assert len(list(out.rglob("shard-*.json"))) == 6
    # A shard whose records were written but not its done mark (killed in between) is redone.
    marker = out / "en-es" / "test" / "shard-00000.json"
    marker.unlink()
    engine = CountingEngine()
    done = _build(out, engine)
    assert len(done) == 40 - 6 + 1 and engine.calls == 2 * len(done)
    assert _files(out) == _files(fresh)
    assert _build(out, CountingEngine(fail_after=0)) == []  # nothing left to do: no engine call


def test_larger_limit_adds_shards_and_other_shard_size_is_refused(tmp_path):
    _build(tmp_path, garble_engine, limits={"test": 5, "validation": 5, "train": 5})
    before = _files(tmp_path)
    engine = CountingEngine()
    _build(tmp_path, engine, limits={"test": 10, "validation": 5, "train": 5})
    after = _files(tmp_path)
    assert {k: v for k, v in after.items() if k in before} == before
    assert engine.calls == 2 * 3 and len(after) == len(before) + 3  # one more test shard for each pair
    with pytest.raises(SystemExit):
        build(tmp_path, ["en-es"], ["test"], {}, 1, garble_engine, _articles(), shard_sentences=4, log=lambda line: None)


def test_resuming_from_other_sentences_is_refused(tmp_path):
    _build(tmp_path, garble_engine, limits={"test": 5, "validation": 5, "train": 5})
    articles = _articles()
    articles[0].sentences[0] = "A sentence the splitter now cuts differently, say."
    engine = CountingEngine()
    with pytest.raises(SystemExit, match="sentences differ"):
        build(tmp_path, ["en-es"], ["test", "validation", "train"], {}, 1, engine, articles, shard_sentences=5,
              log=lambda line: None)
    assert engine.calls == 0
    # The same sentences resume; a split not seen before is recorded from then on.
    build(tmp_path, ["en-es"], ["test"], {"test": 10}, 1, garble_engine, _articles(), shard_sentences=5,
          log=lambda line: None)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert set(manifest["sentences_sha256"]) == {"test", "validation", "train"}


def test_report_counts_and_identity_bleu(tmp_path):
    identity = lambda mode, text: text
    _build(tmp_path / "identity", identity, limits={"test": 10, "validation": 5, "train": 5})
    rows = {(r["pair"], r["split"]): r for r in report(tmp_path / "identity")}
    assert rows[("en-es", "test")]["pairs"] == 10 and rows[("en-es", "test")]["shards"] == 2
    assert rows[("en-es", "test")]["identity_bleu"] == 100.0
    assert rows[("en-es", "test")]["unchanged"] == 10 and rows[("en-es", "test")]["dropped"] == 0
    _build(tmp_path / "garbled", garble_engine, limits={"test": 10, "validation": 5, "train": 5})
    garbled = {(r["pair"], r["split"]): r for r in report(tmp_path / "garbled")}
    assert garbled[("en-es", "test")]["identity_bleu"] < 100.0 and garbled[("en-es", "test")]["unchanged"] == 0


def test_parse_limits():
    assert parse_limits(None) == {}
    assert parse_limits(["3000"]) == {"test": 3000, "validation": 3000, "train": 3000}
    assert parse_limits(["test=3000", "train=0"]) == {"test": 3000, "train": None}
    with pytest.raises(Exception):
        parse_limits(["dev=10"])


# ---------------------------------------------------------------------------------------------------
# The real thing


def _installed_modes() -> set[str]:
    result = subprocess.run(["apertium", "-l"], capture_output=True, text=True)
    return {line.strip() for line in result.stdout.splitlines()}


@pytest.mark.skipif(shutil.which("apertium") is None, reason="apertium is not installed (apt-get install apertium ...)")
@pytest.mark.parametrize("pair", sorted(PAIRS))
def test_real_apertium_round_trip_keeps_lines_names_and_numbers(pair):
    missing = set(PAIRS[pair]) - _installed_modes()
    if missing:
        pytest.skip(f"apertium modes {sorted(missing)} are not installed")
    sentences = [
        "Turkish Foreign Minister Mevlut Cavusoglu said on Thursday that 1,250 people had died since 2019.",
        "The company said net profit rose to 37 mln dlrs in the first quarter.",
        "Boris Johnson met Angela Merkel in Berlin on 14 March, his office said.",
        "Prices fell 0.75 pct in October, the statistics office said.",
        "About 400 farmers gathered in Wagga Wagga to protest against the plan.",
        '"We have to take this to 2,000 people," Gordon Brown told reporters.',
    ]
    result = round_trip(sentences, pair)
    assert len(result) == len(sentences)
    assert sum(text is None for text in result) <= 1
    marks = ("1,250", "37", "Berlin", "0.75", "400", "2,000")  # one that each sentence alone has, in order
    for text, mark in zip(result, marks):
        if text is not None:
            assert mark in text, (pair, text)
            assert not re.search(r"[*#@\n]|parquote", text), (pair, text)
    assert "Cavusoglu" in (result[0] or "Cavusoglu")

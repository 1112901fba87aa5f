"""training.phrase_table (extraction, pruning, scoring, the held-out pair) and mtfix.phrase_table (the
loader), on small hand-made pairs."""

from __future__ import annotations

import gzip
import json
import math

import pytest

from mtfix.phrase_table import FORMAT_LINE, PhraseOption, PhraseTable, table_bytes
from mtfix.text import is_word
from training import phrase_table
from training.align import tokens
from training.phrase_table import (
    TableArgs, build_table, count_pairs, coverage, diff_spans, extract, prune_table, read_pairs, write_table,
)
from training.roundtrip import HELD_OUT_PAIR

REORDER = ("The minister gave a conference of news on Monday.", "The minister gave a news conference on Monday.")
# garbled: The minister gave a conference of news on Monday .   clean: The minister gave a news conference on Monday .
REORDER_LINKS = [(0, 0), (1, 1), (2, 2), (3, 3), (4, 5), (6, 4), (7, 6), (8, 7), (9, 8)]
INSERT = ("He said he will go home.", "He said that he would go home.")
# garbled: He said he will go home .   clean: He said that he would go home .   ("that" unaligned)
INSERT_LINKS = [(0, 0), (1, 1), (2, 3), (3, 4), (4, 5), (5, 6), (6, 7)]


def _pairs(pair, links):
    source, target = tokens(pair[0]), tokens(pair[1])
    return _by_phrases(count_pairs([source], [target], [links]))


def _by_phrases(counts):
    """count_pairs' "garbled\tclean" keys as (garbled words, clean words)."""
    return {tuple(tuple(side.split(" ")) for side in key.split("\t")): count for key, count in counts.items()}


def test_extraction_finds_a_reordering():
    counts = _pairs(REORDER, REORDER_LINKS)
    assert counts[("conference", "of", "news"), ("news", "conference")] == 1
    assert counts[("a", "conference", "of", "news"), ("a", "news", "conference")] == 1
    # Identity pairs are implicit, and nothing crosses the swap's boundary inconsistently.
    assert not any(garbled == clean for garbled, clean in counts)
    assert (("conference",), ("conference",)) not in counts
    # "a conference" spans clean "a news conference", whose "news" is linked outside it: inconsistent.
    assert (("a", "conference"), ("a", "news", "conference")) not in counts


def test_extraction_finds_a_function_word_insertion():
    counts = _pairs(INSERT, INSERT_LINKS)
    assert counts[("said", "he"), ("said", "that", "he")] == 1
    # A garbled span that yields two clean phrases ("said" and "said that") gives each half a count.
    assert counts[("said",), ("said", "that")] == 0.5
    assert counts[("will",), ("would",)] == 1


def test_extraction_respects_max_length():
    source, target = tokens(REORDER[0]), tokens(REORDER[1])
    spans = list(extract(source, target, REORDER_LINKS, max_length=2))
    assert spans and all(j2 - j1 < 2 and i2 - i1 < 2 for j1, j2, i1, i2 in spans)
    assert (4, 6, 4, 5) not in spans  # "conference of news" needs 3 garbled words
    assert (4, 6, 4, 5) in extract(source, target, REORDER_LINKS, max_length=4)


def test_pairs_changing_numbers_or_names_are_pruned():
    source = tokens("In 2019 aides of Obama learnt that 5 people left the Casa Blanca.")
    target = tokens("In 2018 aides of Trump learned that five people left the White House.")
    links = [(k, k) for k in range(len(source))]
    spans = {(tuple(source[j1:j2 + 1]), tuple(target[i1:i2 + 1])) for j1, j2, i1, i2 in extract(source, target, links)}
    assert (("2019",), ("2018",)) in spans and (("Obama",), ("Trump",)) in spans  # extracted, then pruned:
    counts = _by_phrases(count_pairs([source], [target], [links]))
    assert counts[("learnt",), ("learned",)] == 1
    for garbled, clean in counts:
        assert not {"2019", "obama", "5", "casa", "blanca"} & set(garbled), (garbled, clean)
        assert not {"2018", "trump", "white", "house"} & set(clean), (garbled, clean)
    # Moving a name is fine; a sentence-initial capital is no name.
    source, target = tokens("Later the House White said no."), tokens("Later the White House said no.")
    counts = _by_phrases(count_pairs([source], [target], [[(0, 0), (1, 1), (2, 3), (3, 2), (4, 4), (5, 5), (6, 6)]]))
    assert counts[("house", "white"), ("white", "house")] == 1
    source, target = tokens("Then they left."), tokens("Later they left.")
    assert count_pairs([source], [target], [[(0, 0), (1, 1), (2, 2), (3, 3)]])["then\tlater"] == 1


def test_build_table_scores_and_prunes():
    pairs = [REORDER, ("A conference of news was held in Paris.", "A news conference was held in Paris."),
             ("Police learnt that the man had fled.", "Police learned that the man had fled."),
             ("The team learnt of the decision late.", "The team learned of the decision late."),
             ("She said it will rain.", "She said it would rain."),
             ("Officials said the talks will resume.", "Officials said the talks would resume."),
             ("He will win the big prize.", "He shall win the large prize."),  # changes seen once
             ("The conference of news ended.", "The conference of news ended.")]  # once as it is
    sources = [tokens(s) for s, _ in pairs]
    targets = [tokens(t) for _, t in pairs]
    entries, stats = build_table(sources, targets, TableArgs(min_count=2))
    table = PhraseTable(entries)
    options = {clean: (lp, lg) for clean, lp, lg in table.lookup(("conference", "of", "news"))}
    assert ("news", "conference") in options
    # Rewritten 2 times out of 3 occurrences; "news conference" occurs twice in the clean text.
    assert math.isclose(math.exp(options["news", "conference"][0]), 2 / 3, rel_tol=1e-6)
    assert math.isclose(math.exp(options["news", "conference"][1]), 1.0, rel_tol=1e-6)
    assert ("learned",) in [clean for clean, _, _ in table.lookup(("learnt",))]
    assert ("would",) in [clean for clean, _, _ in table.lookup(("will",))]
    # Seen once only: pruned by min_count 2, kept with 1.
    assert table.lookup(("big",)) == [] and ("shall",) not in [clean for clean, _, _ in table.lookup(("will",))]
    assert stats.phrase_pairs == len(table) and stats.extracted >= stats.phrase_pairs
    more, _ = build_table(sources, targets, TableArgs(min_count=1))
    assert [clean for clean, *_ in more[("will",)]] == [("would",), ("shall",)]  # the more frequent first
    assert more[("big",)][0].clean == ("large",)
    # max_translations keeps the most frequent rewrites of a garbled phrase.
    few, _ = build_table(sources, targets, TableArgs(min_count=1, max_translations=1))
    assert [option.clean for option in few[("will",)]] == [("would",)]
    assert all(len(options) == 1 for options in few.values())
    # Pruning a table built with a lower min_count gives the table built with the higher one.
    assert prune_table(more, 2, 10) == entries and prune_table(more, 1, 1) == few


def test_cli_prunes_a_built_table(tmp_path, capsys):
    pairs = [(f"The talks will resume on day {i}.", f"The talks would resume on day {i}.") for i in range(3)]
    entries, _ = build_table([tokens(s) for s, _ in pairs] + [tokens("He will win the big prize.")],
                             [tokens(t) for _, t in pairs] + [tokens("He shall win the large prize.")],
                             TableArgs(min_count=1))
    write_table(entries, tmp_path / "all.tsv.gz")
    stats = phrase_table.main(["--prune", str(tmp_path / "all.tsv.gz"), "--min-count", "2",
                               "--out", str(tmp_path / "pruned.tsv.gz")])
    pruned = PhraseTable.load(tmp_path / "pruned.tsv.gz")
    assert stats.phrase_pairs == len(pruned) > 0
    assert pruned.lookup(("will",))[0][0] == ("would",) and pruned.lookup(("big",)) == []


def test_a_words_only_table_gives_the_lattice_the_same_candidates():
    from mtfix.candidates import CandidateGenerator, ChannelRates

    def option(clean, count):
        return PhraseOption(tuple(clean.split()), math.log(count / 100), -1.0, count=count)

    entries = {
        ("the", "thursday"): [option("on thursday", 40)] + [option(f"thursday {w}", 30 - i) for i, w in enumerate("abcdefghi")],
        ("said", '"'): [option('told "', 50)],  # punctuation: the lattice's spans stop there
        ("said",): [option('" said', 60), option("told", 20), option("said that", 10)],
        ("a", "conference", "of", "news"): [option("a news conference", 12)],
    }
    pruned = prune_table(entries, 1, 10, words_only=True)
    assert ("said", '"') not in pruned and [o.clean for o in pruned[("said",)]] == [("told",), ("said", "that")]
    assert sum(map(len, pruned.values())) == 13
    sentence = 'He said "no" at the Thursday meeting, and said he gave a conference of news.'
    candidates = [sorted(c for c in CandidateGenerator(phrase_table=PhraseTable(table), rates=ChannelRates(postedit=0.3))
                         .candidates(sentence)[1] if c.kind == "postedit")
                  for table in (entries, pruned)]
    assert candidates[0] == candidates[1] and len(candidates[0]) > 8


def test_loader_round_trips(tmp_path):
    entries = {
        ("conference", "of", "news"): [PhraseOption(("news", "conference"), -0.4, -0.1, -1.0, -2.0, 12.0),
                                       PhraseOption(("press", "conference"), -2.0, -3.0, -4.0, -5.0, 2.5)],
        ("learnt",): [PhraseOption(("learned",), -0.2, -1.5, -0.3, -0.4, 40.0)],
        ("#", "metoo", "is"): [PhraseOption(("#", "metoo", "are"), -0.7, -0.7, -1.5, -1.7, 2.0)],  # no comment
    }
    path = tmp_path / "table.tsv.gz"
    write_table(entries, path)
    table = PhraseTable.load(path)
    assert table.max_length == 3 and len(table) == 4
    assert table.lookup(("#", "MeToo", "is")) == [(("#", "metoo", "are"), -0.7, -0.7)]
    assert table.lookup(("Conference", "OF", "news")) == [(("news", "conference"), -0.4, -0.1),
                                                         (("press", "conference"), -2.0, -3.0)]
    assert table.options(("learnt",)) == entries[("learnt",)]
    assert table.lookup(("learned",)) == [] and ("LEARNT",) in table
    # Deterministic bytes; a plain TSV loads the same.
    again = tmp_path / "again.tsv.gz"
    write_table(entries, again)
    assert again.read_bytes() == path.read_bytes()
    plain = tmp_path / "table.tsv"
    plain.write_bytes(gzip.decompress(path.read_bytes()))
    assert PhraseTable.load(plain).lookup(("learnt",)) == table.lookup(("learnt",))


def test_held_out_pair_is_refused(tmp_path):
    with pytest.raises(ValueError, match=HELD_OUT_PAIR):
        read_pairs(tmp_path, "validation", [HELD_OUT_PAIR])
    with pytest.raises(SystemExit):
        phrase_table.main(["--roundtrip", str(tmp_path), "--split", "validation", "--pairs", "en-es", HELD_OUT_PAIR,
                           "--out", str(tmp_path / "t.tsv.gz")])
    assert not (tmp_path / "t.tsv.gz").exists()


def test_cli_builds_from_shards_and_reports_coverage(tmp_path, capsys):
    records = [{"source": s, "target": t} for s, t in
               [REORDER, ("A conference of news was held in Paris.", "A news conference was held in Paris."),
                ("Police learnt that the man had fled.", "Police learned that the man had fled."),
                ("The team learnt of the decision late.", "The team learned of the decision late.")]]
    for pair in ("en-es", "en-ca", HELD_OUT_PAIR):
        for split in ("validation", "test"):
            folder = tmp_path / pair / split
            folder.mkdir(parents=True)
            (folder / "shard-00000.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
            (folder / "shard-00000.json").write_text("{}\n")
    # The held-out pair's validation split must not be read: make it unreadable as JSON.
    (tmp_path / HELD_OUT_PAIR / "validation" / "shard-00000.jsonl").write_text("not json\n")
    out = tmp_path / "table.tsv.gz"
    stats = phrase_table.main(["--roundtrip", str(tmp_path), "--split", "validation", "--pairs", "en-es", "en-ca",
                               "--out", str(out), "--coverage", "test", "--show", "3", "--min-count", "2"])
    assert stats.sentence_pairs == 8 and out.exists()
    printed = capsys.readouterr().out
    assert "conference of news -> news conference" in printed
    assert f"coverage {HELD_OUT_PAIR} test" in printed and "coverage en-es test" in printed


def test_coverage():
    spans = diff_spans(tokens("He said he will go to the Paris."), tokens("He said that he would go to Paris."))
    assert [(kind, garbled, clean) for kind, garbled, clean, _, _ in spans] == [
        ("insert", (), ("that",)), ("replace", ("will",), ("would",)), ("delete", ("the",), ())]
    assert spans[0][3:] == (("said",), ("said", "that"))  # with one token of context on the left
    table = PhraseTable({
        ("will",): [PhraseOption(("would",), -0.1, -0.1)],
        ("said",): [PhraseOption(("said", "that"), -1.0, -1.0)],
    })
    record = {"source": "He said he will go to the Paris.", "target": "He said that he would go to Paris."}
    result = coverage(table, [record])
    assert result["spans"] == 3
    assert result["exact"] == round(1 / 3, 4) and result["in_context"] == round(2 / 3, 4)
    assert result["exact_replace"] == 1.0 and result["exact_insert"] == 0.0


def test_spelling_variants_are_no_rewrites():
    from mtfix.phrase_table import spelling_variant

    for british, american in [("organisation", "organization"), ("favour", "favor"), ("centre", "center"),
                              ("analysed", "analyzed"), ("programme", "program"), ("travelled", "traveled"),
                              ("licence", "license"), ("the neighbours", "the neighbors")]:
        assert spelling_variant(tuple(british.split()), tuple(american.split()))
        assert spelling_variant(tuple(american.split()), tuple(british.split()))
    for garbled, clean in [("said", "says"), ("ensured", "insured"), ("fire", "fir"), ("the", "they"),
                           ("favour", "favour"), ("the centre", "centre")]:
        assert not spelling_variant(tuple(garbled.split()), tuple(clean.split()))


def test_the_bundled_table_holds_no_spelling_variants():
    from mtfix.model import DEFAULT_MODEL_DIR
    from mtfix.phrase_table import spelling_variant

    path = DEFAULT_MODEL_DIR / "postedit.tsv.gz"
    assert gzip.decompress(path.read_bytes()).startswith(FORMAT_LINE.encode())  # the format that loads fast
    table = PhraseTable.load(path)
    assert len(table) > 100_000
    pairs = [(garbled, option.clean) for garbled, options in table.items() for option in options]
    assert not any(spelling_variant(garbled, clean) for garbled, clean in pairs)
    # Only what the lattice uses: spans of words rewritten into words (prune_table(words_only=True)).
    assert all(is_word(w) for garbled, clean in pairs for w in garbled + clean)


def test_a_table_parses_on_lookup_what_it_read_whole(tmp_path):
    entries = {("conference", "of", "news"): [PhraseOption(("press", "conference"), -2.0, -3.0, -4.0, -5.0, 2.5),
                                              PhraseOption(("news", "conference"), -0.4, -0.1, -1.0, -2.0, 12.0)],
               ("the", "thursday"): [PhraseOption(("thursday",), -0.5, -2.0, -0.1, -0.2, 30.0)]}
    path = tmp_path / "table.tsv.gz"
    write_table(entries, path)
    table = PhraseTable._read(path)
    assert table.max_length == 3 and len(table) == 3
    assert table.options(("the", "Thursday")) == entries[("the", "thursday")]
    assert dict(table.items()) == PhraseTable(entries)._entries  # best first, whichever way it was made
    assert table.options(("news",)) == [] and ("news",) not in table


def test_a_malformed_table_is_one_clear_error(tmp_path):
    path = tmp_path / "table.tsv"
    path.write_text("## header\nconference of news\tnews conference\t12\n")
    with pytest.raises(ValueError, match="7 tab-separated fields"):
        PhraseTable.load(path)


def test_a_malformed_table_file_of_blocks_is_one_clear_error(tmp_path):
    entries = {("the", "thursday"): [PhraseOption(("thursday",), -0.5, -2.0, -0.1, -0.2, 30.0)],
               ("said",): [PhraseOption(("told",), -1.0, -1.5, -0.3, -0.4, 9.0)]}
    good = table_bytes(entries)
    header, phrases, counts, rewrites = good.split(b"\n\n")
    assert phrases == b"said\nthe thursday" and counts == b"1\n1"
    broken = {
        "blocks, not 3": b"\n\n".join([header, phrases, counts]),
        "rewrite counts adding up": b"\n\n".join([header, phrases, b"1\n2", rewrites]),
        "not a whole number": b"\n\n".join([header, phrases, b"1\none", rewrites]),
        "6 tab-separated fields": b"\n\n".join([header, phrases, counts, rewrites.replace(b"\t30\t", b" 30\t")]),
        "repeated garbled phrase": b"\n\n".join([header, b"said\nsaid", counts, rewrites]),
    }
    for why, data in broken.items():
        path = tmp_path / "table.tsv.gz"
        path.write_bytes(gzip.compress(data))
        with pytest.raises(ValueError, match=why):
            PhraseTable._read(path)
    path.write_bytes(gzip.compress(good))
    assert dict(PhraseTable._read(path).items()) == PhraseTable(entries)._entries


def test_a_one_pair_a_line_table_still_loads(tmp_path):
    path = tmp_path / "old.tsv"
    path.write_text("## garbled\tclean\tcount\tlog p(clean|garbled)\tlog p(garbled|clean)\tlog lex(clean|garbled)\t"
                    "log lex(garbled|clean)\n"
                    "the thursday\tthursday\t30\t-0.5000\t-2.0000\t-0.1000\t-0.2000\n"
                    "said\ttold\t9\t-1.0000\t-1.5000\t-0.3000\t-0.4000\n"
                    "the thursday\ton thursday\t3\t-2.5000\t-2.0000\t-0.1000\t-0.2000\n")  # a scattered phrase
    table = PhraseTable._read(path)
    assert len(table) == 3 and table.max_length == 2
    assert table.lookup(("The", "Thursday")) == [(("thursday",), -0.5, -2.0), (("on", "thursday"), -2.5, -2.0)]
    assert table.lookup(("said",)) == [(("told",), -1.0, -1.5)] and table.lookup(("told",)) == []


def test_a_table_sent_to_a_process_with_other_string_hashes_still_finds_its_phrases(tmp_path):
    import pickle
    import subprocess
    import sys

    entries = {("the", "thursday"): [PhraseOption(("thursday",), -0.5, -2.0, -0.1, -0.2, 30.0)],
               ("conference", "of", "news"): [PhraseOption(("news", "conference"), -0.4, -0.1, -1.0, -2.0, 12.0)]}
    write_table(entries, tmp_path / "table.tsv.gz")
    (tmp_path / "table.pickle").write_bytes(pickle.dumps(PhraseTable._read(tmp_path / "table.tsv.gz")))
    script = ("import pickle, sys; t = pickle.loads(open(sys.argv[1], 'rb').read()); "
              "print(t.lookup(('conference', 'of', 'news'))[0][0], len(t.items()))")
    for seed in ("1", "2"):
        done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "table.pickle")], capture_output=True,
                              text=True, env={"PYTHONHASHSEED": seed, "PATH": ""}, check=True)
        assert done.stdout.split() == ["('news',", "'conference')", "2"]

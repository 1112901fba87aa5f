"""Corpus readers, cleaning and the article-level split."""

from __future__ import annotations

import json
from collections import Counter

from training.corpus import (
    Article,
    dedupe,
    iter_jsonl,
    iter_text,
    keep_sentence,
    parse_abc_lines,
    parse_reuters_sgml,
    split_of,
)

REUTERS_SAMPLE = """<!DOCTYPE lewis SYSTEM "lewis.dtd">
<REUTERS TOPICS="YES" LEWISSPLIT="TRAIN" CGISPLIT="TRAINING-SET" OLDID="5544" NEWID="1">
<DATE>26-FEB-1987 15:01:01.79</DATE>
<TEXT>&#2;
<TITLE>BAHIA COCOA REVIEW</TITLE>
<DATELINE>    SALVADOR, Feb 26 - </DATELINE><BODY>Showers continued throughout the week in
the Bahia cocoa zone, alleviating the drought since early
January, Comissaria Smith said in its weekly review.
    Trans World Airlines Inc &lt;TWA> said it would buy &lt;Ozark Holdings Inc> for 250 mln dlrs,
according to a statement issued on Thursday.
    Shr 34 cts vs 1.19 dlrs
    Net 807,000 vs 2,858,000
    Revs 15.2 mln vs 17.3 mln
    EXPORTERS SEE NO CHANGE IN THE QUOTA.
    Profits &amp; sales rose. Output fell 5.5 pct in 1986 to 12.1 mln tonnes.
 Reuter
&#3;</BODY></TEXT>
</REUTERS>
<REUTERS TOPICS="NO" LEWISSPLIT="TRAIN" CGISPLIT="TRAINING-SET" OLDID="5545" NEWID="2">
<TEXT TYPE="BRIEF">&#2;
<TITLE>******SHORT ITEM WITH NO BODY</TITLE>
&#3;</TEXT>
</REUTERS>
"""


def test_reuters_cleaning():
    articles = list(parse_reuters_sgml(REUTERS_SAMPLE))
    assert [a.id for a in articles] == ["reuters-1"]
    assert articles[0].source == "reuters"
    assert articles[0].sentences == [
        "Showers continued throughout the week in the Bahia cocoa zone, alleviating the drought since "
        "early January, Comissaria Smith said in its weekly review.",
        "Trans World Airlines Inc said it would buy Ozark Holdings Inc for 250 mln dlrs, according to a "
        "statement issued on Thursday.",
        "Output fell 5.5 pct in 1986 to 12.1 mln tonnes.",
    ]  # the table, the all-caps line, the short fragment and the trailer are gone


def test_sentence_filter():
    assert keep_sentence("The talks failed on Monday.")
    assert not keep_sentence("Talks fail on Monday")  # a headline: no final punctuation
    assert not keep_sentence("THE TALKS FAILED ON MONDAY.")
    assert not keep_sentence("Net 807,000 vs 2,858,000.")
    assert not keep_sentence("It fell.")


ABC_SAMPLE = """PM denies knowledge of AWB kickbacks
The Prime Minister has denied he knew AWB was paying kickbacks to Iraq.
Letters from John Howard have been released by the Cole inquiry.

Email questions
Today at the inquiry, AWB trading manager Peter Geary has been questioned.

Floodwaters close highway
A major highway between the Northern Territory and Western Australia remains blocked.
""".splitlines(keepends=True)


def test_abc_articles_are_inferred_from_headlines():
    articles = list(parse_abc_lines(ABC_SAMPLE, "rural"))
    assert [a.id for a in articles] == ["abc-rural-00000", "abc-rural-00001"]
    assert len(articles[0].sentences) == 3  # the "Email questions" sub-heading continues the story
    assert articles[1].sentences[0].startswith("A major highway")


def test_text_and_jsonl_readers(tmp_path):
    text_file = tmp_path / "wire.txt"
    text_file.write_text("The talks failed on Monday. Both sides blamed each other.\n\nA second story starts here today.\n")
    articles = list(iter_text(text_file))
    assert [a.id for a in articles] == ["wire-0", "wire-1"]
    assert articles[0].sentences == ["The talks failed on Monday.", "Both sides blamed each other."]

    jsonl_file = tmp_path / "wire.jsonl"
    jsonl_file.write_text(json.dumps({"id": "x9", "body": "The talks failed on Monday.\nTHE END"}) + "\n")
    articles = list(iter_jsonl(jsonl_file, field="body"))
    assert [(a.id, a.sentences) for a in articles] == [("wire-x9", ["The talks failed on Monday."])]


def test_dedupe_drops_repeated_sentences_and_empty_articles():
    articles = [
        Article("a", "t", ["The talks failed on Monday.", "Both sides blamed each other."]),
        Article("b", "t", ["The talks failed on Monday."]),
        Article("c", "t", ["Both sides blamed each other.", "A new round starts in May."]),
    ]
    assert [(a.id, a.sentences) for a in dedupe(articles)] == [
        ("a", ["The talks failed on Monday.", "Both sides blamed each other."]),
        ("c", ["A new round starts in May."]),
    ]


def test_split_of_is_stable_and_98_1_1():
    # Fixed values: a change of hash would silently move articles from one split to another.
    assert [split_of(i) for i in ("bbc-7", "bbc-17", "bbc-105", "bbc-201", "bbc-1")] == [
        "validation", "validation", "test", "test", "train"]
    counts = Counter(split_of(f"allsides-{n}") for n in range(20_000))
    assert 0.975 < counts["train"] / 20_000 < 0.985
    assert 150 < counts["validation"] < 250 and 150 < counts["test"] < 250

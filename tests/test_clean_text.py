"""What the bundled model must leave alone: case, code and data, quotations, numbers; and inputs that
used to crash it. Each probe is clean text (or has its spun words only where the repair may not go)."""

from __future__ import annotations

import json

import pytest

from mtfix import DEFAULT_MODEL_DIR, Repairer, repair
from mtfix.result import apply_edits
from pathlib import Path

DATA = Path(__file__).parent / "data"

# Spun words the bundled model restores ("navy help" -> "military aid"), to put where it must not.
SPUN = "Russia released a navy intervention in help of Assad"


@pytest.fixture(scope="module")
def repairer():
    if not (DEFAULT_MODEL_DIR / "config.json").is_file():
        pytest.fail(f"the bundled default model is missing in {DEFAULT_MODEL_DIR}")
    return Repairer(device="cpu")


def _case_is_kept(result) -> bool:
    """No edit changes the case of the word it replaces."""
    return all(edit.after[:1].isupper() == edit.before[:1].isupper() for edit in result.edits)


def test_the_spun_probe_is_repaired_where_it_may_be(repairer):
    assert repairer.repair(f"He said {SPUN}.") != f"He said {SPUN}."


# -- case ------------------------------------------------------------------------------------------

HARD_WRAPPED = """\
    Cocoa farmers in Brazil said rain fell during the week in
the Bahia cocoa zone, and traders said the temporao crop
was progressing well. arrivals were running ahead of last
year, traders said, while comissaria smith said the
outlook for the main crop was uncertain.
"""


@pytest.mark.parametrize("text", [
    HARD_WRAPPED,
    "navy", "first text", "the army",
    "Page one\fthe navy help was late.",
    "Senator Chris Dodd (D., Conn.) said the talks had failed.",
    "He waited... then the army left the town.",
    '"Stop!" he said, and the army left the town.',
    "the talks, which began in " + ", ".join(f"the town of Place{i}" for i in range(60)) + ", failed.",
])
def test_no_word_changes_case(repairer, text):
    result = repairer.repair_with_edits(text)
    assert _case_is_kept(result), result.edits
    assert not any(edit.after.lower() == edit.before.lower() for edit in result.edits), result.edits


def test_whole_inputs_keep_their_first_letter():
    assert repair("navy") == "navy"
    assert repair(["first text"]) == ["first text"]


def test_a_hard_wrapped_body_comes_back_unchanged(repairer):
    assert repairer.repair(HARD_WRAPPED) == HARD_WRAPPED


# -- code, data, markup ----------------------------------------------------------------------------

CODE = [
    "int main(void)",
    f"int main(void)\n{{\n    return 0; // {SPUN}\n}}\n",
    f"def fix(text):\n    # {SPUN}\n    return text.strip()\n",
    f"$ grep -r '{SPUN}' /var/log\ncd /tmp && make\n",
    f"name: {SPUN}\nretries: 3\n",
    f"id,text,score\n1,{SPUN},3\n2,rocket fireplace,4\n",
    f"| id | text |\n|---|---|\n| 1 | {SPUN} |\n",
    f"<ul>\n<li>{SPUN}</li>\n</ul>\n",
    "max_source_length\nnavy_help\nrocket_fireplace\n",
]


@pytest.mark.parametrize("text", CODE)
def test_code_and_data_come_back_byte_identical(repairer, text):
    assert repairer.repair(text) == text


def test_json_keeps_its_keys_and_values(repairer):
    document = {"navy help": SPUN, "value": None, "live": True, "items": [SPUN, "void", 3]}
    for text in (json.dumps(document), json.dumps(document, indent=2)):
        assert json.loads(repairer.repair(text)) == document


def test_fenced_markdown_code_is_kept_and_the_prose_around_it_repaired(repairer):
    text = f"He said {SPUN}.\n\n```\n{SPUN}\n\nint main(void)\n```\n\nThen {SPUN}.\n"
    repaired = repairer.repair(text)
    fence = text[text.index("```"):text.rindex("```") + 3]
    assert fence in repaired
    before, _, after = repaired.partition(fence)
    assert "military intervention" in before and "military intervention" in after


# -- quotations ------------------------------------------------------------------------------------

CLEAN_QUOTE = "\u201cNo open currency positions exist any longer on the amount of the provision,\u201d he added."


@pytest.mark.parametrize("quoted", [f'"{SPUN}"', f"\u201c{SPUN}\u201d"])
def test_quotations_are_kept_when_asked(quoted):
    text = f"The mayor said {quoted} on Monday, and {SPUN}."
    keeper = Repairer(device="cpu", quotes="keep")
    result = keeper.repair_with_edits(text)
    assert quoted in result.text
    assert result.text != text  # the words outside the quotation are still repaired
    assert not any(text.index(quoted) <= s.start < text.index(quoted) + len(quoted) for s in keeper.check(text))


@pytest.mark.parametrize("quoted", [f'"{SPUN}"', f"\u201c{SPUN}\u201d"])
def test_a_spun_text_has_its_quotations_repaired_too(repairer, quoted):
    """A spinner rewrites quotations with the rest: in evidently spun text "auto" repairs them, as "repair" does."""
    text = f"The mayor said {quoted} on Monday, and {SPUN}."
    assert quoted not in repairer.repair(text)
    assert quoted not in Repairer(device="cpu", quotes="repair").repair(text)


def test_a_quotation_in_clean_text_is_left_alone(repairer):
    """One doubtful repair in a quotation is not evidence that the text was spun: the quote is kept."""
    asked = Repairer(device="cpu", quotes="repair")
    quote = CLEAN_QUOTE[CLEAN_QUOTE.index("\u201c"):CLEAN_QUOTE.index("\u201d") + 1]
    assert quote not in asked.repair(CLEAN_QUOTE)  # the lattice does have an edit to offer there
    assert repairer.repair(CLEAN_QUOTE) == CLEAN_QUOTE


def test_quotes_in_clean_corpus_sentences_are_unchanged(repairer):
    from mtfix.passthrough import overlaps, quoted_spans

    lines = [line for line in (DATA / "clean_test_sample.txt").read_text().splitlines() if quoted_spans(line)]
    assert len(lines) > 50
    for line, result in zip(lines, repairer.repair_many_with_edits(lines)):
        assert not any(overlaps(e.start, e.end, quoted_spans(line)) for e in result.edits), (line, result.edits)


def test_a_long_clean_text_is_not_taken_for_spun(repairer):
    """The evidence is a rate: a long clean text has many false repairs in all, but few per word, so its
    quotations stay as they are (as in a 100 KB chunk of a streamed file)."""
    from mtfix.passthrough import overlaps, quoted_spans

    text = "\n\n".join((DATA / "clean_test_sample.txt").read_text().splitlines())
    result = repairer.repair_with_edits(text)
    assert len(result.edits) >= 3  # enough false repairs that a count alone would call it spun
    assert not any(overlaps(e.start, e.end, quoted_spans(text)) for e in result.edits)


def test_an_unknown_quote_policy_is_refused():
    with pytest.raises(ValueError, match="quotes must be one of"):
        Repairer(device="cpu", quotes="sometimes")


# -- numbers ---------------------------------------------------------------------------------------

CLEAN_WITH_NUMBERS = [
    "Only 5 of the 9 judges agreed with the ruling.",
    "She said her 2 daughters would attend the ceremony.",
    "The SARS CoV 2 virus spread quickly in the city.",
    "The project will cost 5 crore rupees, officials said.",
    "The results are shown in Fig 3 of the report.",
    "Police said 3 soldiers were wounded and 7 people were detained.",
    "Tens of trillions of dollars are at stake, the report said.",
    "Three ministers resigned and two others were dismissed.",
    "Company sold 4 of its 6 plants for 1.2 billion dlrs in 1986.",
    "The team won 3-1 and moves to 2nd place with 8 games left.",
]


def test_clean_sentences_with_numbers_come_back_byte_identical(repairer):
    assert repairer.repair_many(CLEAN_WITH_NUMBERS) == CLEAN_WITH_NUMBERS


def test_number_words_are_restored_only_when_asked(repairer):
    text = "Syrian forces had launched mortar attacks on a Turkish post, injuring 3 soldiers."
    assert repairer.repair(text) == text
    assert "three soldiers" in Repairer(device="cpu", restore_number_words=True).repair(text)


# -- inputs that used to crash or be changed -------------------------------------------------------

@pytest.mark.parametrize("junk", ["navy\ud800", "\udcff the navy help", f"{SPUN}\ud800.", "the navy\x00 help",
                                  "a\x07b\x1b[31m the navy help\x85", "the navy\x7f help"])
def test_lone_surrogates_and_control_characters_pass_through(repairer, junk):
    assert repairer.repair(junk) == junk
    repairer.check(junk)


def test_a_surrogate_in_one_sentence_does_not_stop_the_next_being_repaired(repairer):
    text = f"Bad \ud800 bytes here.\nHe said {SPUN}."
    repaired = repairer.repair(text)
    assert repaired.startswith("Bad \ud800 bytes here.\n") and repaired != text


def test_an_edit_of_the_first_word_takes_the_capital_only_at_a_true_sentence_start(repairer):
    spun = "however it changed into in no way absolutely implemented, as jihadists refused to withdraw."
    assert repairer.repair(spun).startswith("But it was never")
    assert repairer.repair(f"The deal held. {spun}").startswith("The deal held. But it was never")
    for before in ("The deal was signed last year\n", "The deal was signed (in Sochi.) ", "The deal was signed... "):
        assert repairer.repair(before + spun).startswith(before + "but it was never"), before

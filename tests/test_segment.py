import pytest

from mtfix.segment import clause_spans, sentence_spans, split_sentences, starts_sentence

from conftest import SEED_SPUN


def _gaps_are_whitespace(text, spans):
    position = 0
    for start, end in spans:
        assert text[position:start].strip() == ""
        position = end
    assert text[position:].strip() == ""


def test_sentences_of_the_seed_cover_everything_but_whitespace():
    text = SEED_SPUN.read_text(encoding="utf-8")
    spans = sentence_spans(text)
    _gaps_are_whitespace(text, spans)
    assert len(spans) >= 20
    assert all(text[s:e] == text[s:e].strip() for s, e in spans)


def test_abbreviations_and_initials_do_not_end_sentences():
    assert split_sentences("Mr. Smith met U.S. officials. They agreed.") == ["Mr. Smith met U.S. officials.", "They agreed."]
    assert split_sentences("J. Doe left. he came back!") == ["J. Doe left.", "he came back!"]


def test_line_breaks_end_sentences_and_closing_quotes_stay_with_them():
    assert split_sentences('"Stop now." He left\nNext line') == ['"Stop now."', "He left", "Next line"]


def test_clause_spans_split_long_sentences_without_losing_anything():
    sentence = ", ".join(f"clause number {i} of a long sentence" for i in range(40)) + "."
    spans = clause_spans(sentence, 100)
    assert all(e - s <= 100 for s, e in spans)
    _gaps_are_whitespace(sentence, spans)
    assert "".join(sentence[s:e] for s, e in spans).replace(" ", "") == sentence.replace(" ", "")


def test_clause_spans_cut_a_giant_word_rather_than_drop_it():
    word = "x" * 250
    spans = clause_spans(word, 100)
    assert "".join(word[s:e] for s, e in spans) == word


def test_clause_spans_end_even_for_a_window_of_nothing():
    sentence = "rocket fireplace and air moves"
    for max_chars in (0, -3, 1):
        spans = clause_spans(sentence, max_chars)
        assert "".join(sentence[s:e] for s, e in spans) == sentence.replace(" ", "")


@pytest.mark.parametrize("marked, expected", [
    ("|navy", True), ("He left. |however", True), ("It ended.\n|the next", True), ("One.\n\n|the next", True),
    ('He said. "|we are', True), ('"Stop now." |He', True), ("He left.   |however", True),
    ("the week in\n|the Bahia", False), ("page\f|the", False), ("(D., Conn.) |said", False),
    ("Sen. Dodd (D-Conn.) |said", False), ("He waited... |then", False), ("He waited\u2026 |then", False),
    ('"Stop!" |he said', False), ("a, |b", False), ("Mr. |Smith", False), ("He met J. |Doe", False),
])
def test_sentence_starts_know_hard_wraps_abbreviations_ellipses_and_quotes(marked, expected):
    assert starts_sentence(marked.replace("|", ""), marked.index("|")) is expected

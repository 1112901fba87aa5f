"""What the repair leaves alone: code, data and markup blocks, and quotations (mtfix.passthrough)."""

import pytest

from mtfix.passthrough import overlaps, passthrough_spans, quoted_spans

PROSE = [
    "Russia released a navy intervention in help of Assad in 2015.",
    "Cocoa farmers said rain fell during the week in\nthe Bahia cocoa zone, traders said.\n",
    "Senator Chris Dodd (D., Conn.) said the talks had failed.",
    "A prospective candidate for the UK Independence Party(UKIP) has resigned.",
    "She added, it drives their adversaries nut(s), that they don't get it.",
    "Dunn: Exactly. So I think that's interesting.\nKazin: The other one is not president yet.",
    "OBAMA = BUSH - The latest survey from Gallup finds a nearly identical rating.",
    "Stunning --> the campaign has a big ad-spending edge.",
    "He said `so what?' and left.",
    "NOTE: Company is mutual savings bank.",
    "Shr 1.5 dlrs vs 1.2 dlrs, net 4.5 mln vs 3.2 mln, revs 12.0 mln vs 11.1 mln",
    "They will make the army leave and import duties will rise.",
]

CODE = [
    "int main(void)",
    "int main(void)\n{\n    return 0; // the navy help\n}\n",
    "def repair(text):\n    # the navy help\n    return text.strip()\n",
    "import os\nfrom pathlib import Path\n\nprint(os.getcwd())\n",
    "$ pip install -e .\ncd /tmp && make test\n",
    "x = compute(a, b)\n",
    '{"name": "navy help", "value": null, "live": true}',
    '[\n  {"id": 1, "text": "the navy help"},\n  {"id": 2, "text": "rocket fireplace"}\n]\n',
    "name: navy help\nretries: 3\nlive: true\n",
    "id,name,score\n1,navy help,3\n2,rocket fireplace,4\n",
    "| word | meaning |\n|---|---|\n| navy help | military aid |\n",
    "max_source_length\ncandidates_per_word\nbeam_size\n",
    "<div class=\"story\">\n<p>the navy help</p>\n</div>\n",
    "\\section{The navy help}\n",
]


def _covered(text: str) -> str:
    """The non-blank characters of ``text`` outside every passthrough span."""
    spans = passthrough_spans(text)
    return "".join(c for i, c in enumerate(text) if not overlaps(i, i + 1, spans)).strip()


@pytest.mark.parametrize("text", PROSE)
def test_prose_is_not_passed_through(text):
    assert passthrough_spans(text) == []


@pytest.mark.parametrize("text", CODE)
def test_code_and_data_blocks_are_passed_through_whole(text):
    assert _covered(text) == ""


def test_fenced_code_is_passed_through_and_the_prose_around_it_is_not():
    text = ("The navy help arrived.\n\n```python\nthe navy help\n\nrocket fireplace\n```\n\n"
            "The rocket fireplace stopped.\n~~~\nunclosed fence runs to the end\n")
    spans = passthrough_spans(text)
    inside = [text[s:e] for s, e in spans]
    assert inside == ["```python\nthe navy help\n\nrocket fireplace\n```\n", "~~~\nunclosed fence runs to the end\n"]


def test_a_code_line_inside_prose_is_passed_through_alone():
    text = "The navy help arrived on Monday.\nrun(fireplace, 3)\nThe rocket fireplace stopped."
    assert [text[s:e] for s, e in passthrough_spans(text)] == ["run(fireplace, 3)\n"]


def test_quotations_straight_and_curly():
    text = 'He said "the navy help" and \u201crocket fireplace\u201d, then left.'
    assert [text[s:e] for s, e in quoted_spans(text)] == ['"the navy help"', "\u201crocket fireplace\u201d"]


def test_an_open_quotation_runs_to_the_end_of_its_paragraph():
    text = '"The navy help arrived, he said.\n"It was late," he added.\n\nThe rocket fireplace stopped.'
    quotes = [text[s:e] for s, e in quoted_spans(text)]
    assert quotes == ['"The navy help arrived, he said.\n', '"It was late,"']
    open_quote = 'He said "the navy help.\n\nThe rest.'
    assert [open_quote[s:e] for s, e in quoted_spans(open_quote)] == ['"the navy help.']


def test_overlaps():
    spans = [(2, 5), (10, 12)]
    assert overlaps(4, 6, spans) and overlaps(0, 3, spans) and overlaps(11, 20, spans)
    assert not overlaps(5, 10, spans) and not overlaps(0, 2, spans) and not overlaps(12, 30, spans)

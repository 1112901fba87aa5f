"""What a repair leaves alone because it is not spun prose: code, data, markup, and quotations.

A spinner rewrites running prose; it never produces a C function, a JSON document or a shell
command, and news copy quotes people verbatim. A "repair" of any of these is pure damage
("int main(void)" -> "Int main(white)"), so they are found here, before any model sees the text,
and copied through byte for byte.

Two levels:

* blocks (:func:`passthrough_spans`): fenced Markdown code; runs of non-blank lines that are mostly
  code, JSON/YAML or CSV/TSV rows, table rows or lists of identifiers; and any single line that
  shows an unmistakable sign of code (``;`` or a brace at its end, ``//``, ``f(x)``, ``==``, ...);
* spans (:func:`quoted_spans`): the inside of double quotation marks, straight or curly.

Each test below is a sign that running news prose does not show; when in doubt a line stays prose.
"""

from __future__ import annotations

import json
import re

_FENCE_RE = re.compile(r"^[ \t]*(`{3,}|~{3,})")

# One sign is enough: these do not occur in running news prose.
# The alternatives start differently, so a long argument list that does not close fails in linear time.
_ARGUMENT = r"""\s*(?:[A-Za-z_][\w.]*|\*{1,2}\w+|-?\d[\w.]*|"[^"]*"|'[^']*'|\[\]|\{\})\s*"""
_CODE_LINE_RES = [
    re.compile(r"[{}]\s*$|^\s*[{}]|^\s*[\[\](){},;]+\s*$"),  # a block opens or closes on the line
    re.compile(r"(?:^|\s)(?://|/\*|\*/)|^\s*(?:#include|#define|#!|>>>|\$ [a-z])"),  # comments, prompts
    # A call or signature: main(void), f(x, y), os.path.join(a, "b"); not "Party(BNP)" or "rupees($1bn)".
    # "debas(ing) the" and "nut(s)," are prose: a call ends the line or is followed by code punctuation or an operator.
    re.compile(rf"(?:\b[a-z_]\w*|\b\w+[._]\w+)\((?!(?:s|es|ies|ing|ed|d|er|ers|al|ly)\))(?:{_ARGUMENT}(?:,{_ARGUMENT})*)?\)"
               r"(?=\s*(?:$|[;:{)\].,]|\s[-+*/%=<>!&|]))"),
    re.compile(r"==|!=|<=|>=|&&|\|\||=>|(?<!-)->|:=|\+=|-=|\*=|::|\+\+"),  # operators; not the "-->" of a tweet
    re.compile(r"^\s*[a-z_][\w.\[\]]*\s*=\s*\S|^\s*[A-Za-z_][\w.]*=\S"),  # x = 1, PATH=/usr/bin; not "OBAMA = BUSH"
    re.compile(r"^\s*(?:def|class)\s+\w+.*:\s*$"),
    re.compile(r"\\[A-Za-z]+[{\[]"),  # LaTeX: \\section{...}
    re.compile(r"`[^`'\s][^`']*`"),  # Markdown inline code; not the `typewriter quotes' of old copy
    re.compile(r'^\s*"[^"]*"\s*:\s*(?:["{\[\d-]|true|false|null)'),  # a JSON member: "key": value
]
# A shell command: a known command word followed by a flag, a path or shell syntax.
_SHELL_RE = re.compile(
    r"^\s*(?:sudo\s+)?(?:cd|ls|echo|export|pip3?|npm|git|mkdir|rm|cp|mv|cat|grep|sed|awk|curl|wget|python3?|"
    r"bash|sh|make|apt(?:-get)?|chmod|chown|docker|tar|ssh|source)\b.*(?:\s--?[A-Za-z]|/|&&|\|\s|\s>>?\s|=)"
)
# Signs that count only when most lines of a block show one (prose has them now and then): YAML keys,
# imports, table rows, markup (lower-case or closing tags; Reuters writes tickers as <ABNN.AS>).
_DATA_LINE_RES = [
    # key: value, where the value ends as no sentence does, and is short after a capitalised key
    # ("Dunn: Exactly so." and "Kazin: I think we are forgetting it" are a transcript)
    re.compile(r"^\s*(?:-\s+)?(?:[a-z_][\w.-]*:(?:\s*$|\s+.*[^\s.?!\"”])|"
               r"[A-Z][\w.-]*:(?:\s*$|\s+(?:\S+\s+){0,2}\S*[^\s.?!]))\s*$"),
    re.compile(r"^\s*(?:import\s+[\w.]+(?:\s+as\s+\w+)?|from\s+[\w.]+\s+import\s+.+)\s*$"),
    re.compile(r"^\s*\|.*\|\s*$|^\s*[-|: +=]{3,}\s*$"),  # | a | b |, |---|---|, +----+
    re.compile(r"^\s*---\s*$|^\s*\.\.\.\s*$"),  # YAML document markers
    re.compile(r"\S\s*;\s*$"),  # a statement ends the line (a paragraph of prose may too)
    re.compile(r"</[A-Za-z]|<[a-z][a-z0-9]*(?:\s[^<>]*)?/?>"),
]
# An identifier rather than a word: snake_case, camelCase, dotted.names, CONSTANTS_LIKE_THIS.
_IDENTIFIER_RE = re.compile(r"^[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*(?:\(\))?$")
_IDENTIFIER_SIGN_RE = re.compile(r"_|[a-z][A-Z]|\.\w|\(\)$")


# Each list as one pattern: a search per line rather than one per sign (a 10 MB text has 150,000 lines).
_CODE_LINE_RE = re.compile("|".join(f"(?:{p.pattern})" for p in _CODE_LINE_RES + [_SHELL_RE]))
_DATA_LINE_RE = re.compile("|".join(f"(?:{p.pattern})" for p in _DATA_LINE_RES))


def _is_code_line(line: str) -> bool:
    return bool(_CODE_LINE_RE.search(line))


def _is_data_line(line: str) -> bool:
    return bool(_DATA_LINE_RE.search(line))


def _is_identifier_list(lines: list[str]) -> bool:
    """Lines of identifiers, one or several per line (bullets and commas allowed), at least one
    unmistakably an identifier ("max_source_length", "camelCase", "os.path")."""
    signed = False
    for line in lines:
        for item in re.split(r"[,\s]+", re.sub(r"^\s*(?:[-*+]|\d+[.)])\s+", "", line)):
            if item and not _IDENTIFIER_RE.match(item):
                return False
            signed = signed or bool(_IDENTIFIER_SIGN_RE.search(item))
    return signed


def _is_delimited(lines: list[str]) -> bool:
    """CSV/TSV rows: at least two lines cut into the same number (3 or more) of fields by the same
    delimiter, the fields short or under a header of column names; prose with commas has long, uneven
    pieces."""
    if len(lines) < 2:
        return False
    for delimiter in (",", "\t", ";", "|"):
        columns = lines[0].count(delimiter) + 1
        if columns < 3 or any(line.count(delimiter) + 1 != columns for line in lines):
            continue
        fields = [line.split(delimiter) for line in lines]
        if (
                all(len(field.split()) <= 4 for row in fields for field in row)
                or all(re.fullmatch(r"\s*\w[\w -]*\s*", field) and len(field.split()) <= 2 for field in fields[0])):
            return True  # short fields, or a header of column names over longer ones
    return False


def _is_json(block: str) -> bool:
    stripped = block.strip()
    if stripped[:1] not in "{[":
        return False
    try:
        json.loads(stripped)
    except ValueError:
        return all(_is_json_line(line) for line in stripped.splitlines())  # JSON lines
    return True


def _is_json_line(line: str) -> bool:
    try:
        return line.strip()[:1] in "{[" and json.loads(line) is not None
    except ValueError:
        return False


def _is_passthrough_block(block: str, lines: list[str], code_lines: list[bool]) -> bool:
    """Whether a run of non-blank lines is code or data as a whole (``code_lines``: which are code)."""
    if _is_json(block) or _is_delimited(lines) or _is_identifier_list(lines):
        return True
    code = sum(code_lines)
    data = sum(1 for line in lines if _is_data_line(line))
    # Comments and prose-like lines inside code ("    return x  # the navy help") go with their block.
    return code + data >= 0.5 * len(lines) and (code >= 1 or data >= 2)


def passthrough_spans(text: str) -> list[tuple[int, int]]:
    """Character spans ``(start, end)`` of ``text`` that are code, data or markup: a repair leaves
    every character inside them as it is. Spans are whole lines, in order, not overlapping."""
    spans: list[tuple[int, int]] = []
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    index = 0
    while index < len(lines):
        fence = _FENCE_RE.match(lines[index])
        if fence:  # a fenced block runs to its closing fence (or to the end of the text)
            closing = next((j for j in range(index + 1, len(lines))
                            if lines[j].strip().startswith(fence.group(1)) and not lines[j].strip().strip(fence.group(1)[0])),
                           len(lines) - 1)
            spans.append((starts[index], starts[closing + 1]))
            index = closing + 1
            continue
        if not lines[index].strip():
            index += 1
            continue
        end = index
        while end < len(lines) and lines[end].strip() and not _FENCE_RE.match(lines[end]):
            end += 1
        block_lines = [line.rstrip("\r\n") for line in lines[index:end]]
        code_lines = [_is_code_line(line) for line in block_lines]
        if _is_passthrough_block(text[starts[index]:starts[end]], block_lines, code_lines):
            spans.append((starts[index], starts[end]))
        else:
            spans.extend((starts[i], starts[i + 1]) for i in range(index, end) if code_lines[i - index])
        index = end
    return _merged(spans)


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and merged[-1][1] >= start:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


_QUOTE_MARK_RE = re.compile('[\"“”]')
_PARAGRAPH_BREAK_RE = re.compile(r"\r?\n[ \t]*(?:\r?\n)+")


def _opens(text: str, position: int) -> bool:
    """Whether the quotation mark at ``position`` opens a quotation: a curly opening mark, or a straight
    one with a word after it and no word right before it."""
    mark = text[position]
    if mark != '"':
        return mark == "“"
    before = text[position - 1] if position else " "
    after = text[position + 1] if position + 1 < len(text) else " "
    return not after.isspace() and (before.isspace() or before in "([{—–-/")


# What Repairer(quotes=...) may do inside quotation marks (see mtfix.Repairer).
QUOTE_POLICIES = ("auto", "keep", "repair")


def quoted_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the quotations of ``text``, marks included, straight or curly double quotes.

    A quotation opens at an opening mark and closes at the next closing one. One left open closes where
    the next one opens or at the end of its paragraph: wire style reopens a quote that goes on in the
    next paragraph without closing it, and whatever lies between two such marks is the quote's.
    """
    spans = []
    paragraph_start = 0
    for paragraph_break in list(_PARAGRAPH_BREAK_RE.finditer(text)) + [None]:
        paragraph_end = paragraph_break.start() if paragraph_break else len(text)
        open_at = None
        for match in _QUOTE_MARK_RE.finditer(text, paragraph_start, paragraph_end):
            position = match.start()
            if _opens(text, position):
                if open_at is not None:
                    spans.append((open_at, position))
                open_at = position
            elif open_at is not None:
                spans.append((open_at, position + 1))
                open_at = None
        if open_at is not None:
            spans.append((open_at, paragraph_end))
        paragraph_start = paragraph_break.end() if paragraph_break else len(text)
    return spans


def overlaps(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    """Whether ``start:end`` shares a character with one of ``spans`` (sorted, not overlapping)."""
    import bisect

    index = bisect.bisect_right(spans, (start, float("inf"))) - 1
    for span_start, span_end in spans[max(index, 0):index + 2]:
        if span_start < end and start < span_end:
            return True
    return False

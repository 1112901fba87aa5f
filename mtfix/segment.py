"""Find the sentences of a document without touching its layout.

The repairer only ever rewrites the characters *inside* the spans returned here; everything between
them (blank lines, indents, line breaks, spaces after a full stop) is copied through byte for byte.
A line break always ends a sentence, because in scraped copy it is layout, not prose.
"""

from __future__ import annotations

import re

# Abbreviations after which a full stop does not end a sentence (lower-cased, without the dot).
_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr jr st gen col lt sgt capt cmdr adm gov sen rep rev hon pres
    jan feb mar apr jun jul aug sep sept oct nov dec mon tue wed thu fri sat sun
    inc ltd co corp bros plc dept univ est approx vs etc no nos vol fig al ft mt
    u.s u.k u.n e.u a.m p.m i.e e.g""".split()
)

# Sentence-final punctuation, any closing quotes or brackets, then the space that separates sentences.
_BOUNDARY_RE = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s+\S)")
_CLAUSE_RE = re.compile(r"(?<=[,;:])\s+|\s+(?=(?:-|–|—)\s)")


def _ends_with_abbreviation(text: str, stop: int) -> bool:
    """True when the full stop at ``stop`` belongs to an abbreviation or an initial (J. Smith)."""
    match = re.search(r"([\w.]+)\.?$", text[:stop])
    if not match:
        return False
    word = match.group(1).rstrip(".").lower()
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


# State abbreviations of US copy ("Sen. Chris Dodd (D., Conn.) said"), capitalised as written there; only
# for deciding where a sentence starts, as some are words in lower case ("ill", "miss").
_STATE_ABBREVIATIONS = frozenset(
    """Ala Ariz Ark Calif Colo Conn Del Fla Ga Ill Ind Kan Kans Ky La Md Mass Mich Minn Miss Mo Mont Neb Nev
    Okla Ore Pa Penn Tenn Tex Vt Va Wash Wis Wyo D R I""".split()
)
_LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"


def starts_sentence(text: str, position: int) -> bool:
    """Whether the word at ``position`` begins a sentence: at the start of the text or of a paragraph, or
    after a full stop, "?" or "!" that ends one.

    Not after a hard wrap or a form feed inside a sentence, an abbreviation or initial ("Conn.", "J."), an
    ellipsis, a stop inside brackets ("(D., Conn.) said"), a "!" or "?" inside quotes ('"Stop!" he said'),
    or a clause cut at a comma.
    """
    before = text[:position].rstrip("\"'“‘([")  # opening marks right before the word
    head = before.rstrip()
    gap = before[len(head):]
    if not head or gap.count("\n") >= 2:
        return True
    if not gap or any(c in _LINE_BREAKS for c in gap) and head[-1] not in ".!?\"'”’)]":
        return False  # glued to what precedes it, or a hard wrap in mid-sentence
    stop = head.rstrip("\"'”’")
    if stop.endswith((")", "]")):
        return False
    if stop.endswith(("..", "…")):
        return False
    if stop.endswith(("!", "?")):
        return stop == head  # inside quotes it ends the quotation, not the sentence
    if not stop.endswith("."):
        return False
    word = re.search(r"([\w.]*)\.$", stop).group(1)
    return not (_ends_with_abbreviation(stop, len(stop) - 1) or word in _STATE_ABBREVIATIONS)


def _line_sentence_spans(text: str, line_start: int, line_end: int) -> list[tuple[int, int]]:
    line = text[line_start:line_end]
    stripped_start = len(line) - len(line.lstrip())
    stripped_end = len(line.rstrip())
    if stripped_start >= stripped_end:
        return []
    spans = []
    start = stripped_start
    for match in _BOUNDARY_RE.finditer(line, stripped_start, stripped_end):
        if match.group().startswith(".") and len(match.group()) == 1 and _ends_with_abbreviation(line, match.start()):
            continue
        end = match.end()
        spans.append((line_start + start, line_start + end))
        start = end + (len(line[end:]) - len(line[end:].lstrip()))
    if start < stripped_end:
        spans.append((line_start + start, line_start + stripped_end))
    return spans


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans ``(start, end)`` of the sentences of ``text``, in order.

    Only whitespace lies between and around the spans, so ``text`` is rebuilt exactly by copying the
    gaps and the (possibly rewritten) spans in order.
    """
    spans: list[tuple[int, int]] = []
    position = 0
    for line in text.splitlines(keepends=True):
        spans.extend(_line_sentence_spans(text, position, position + len(line)))
        position += len(line)
    return spans


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text`` as strings (see :func:`sentence_spans`)."""
    return [text[start:end] for start, end in sentence_spans(text)]


def clause_spans(sentence: str, max_chars: int) -> list[tuple[int, int]]:
    """Split an over-long sentence at clause boundaries (commas, semicolons, dashes) into pieces of at
    most ``max_chars`` characters where possible; a piece with no boundary is split at spaces.

    Nothing is dropped: the pieces and the whitespace between them cover the sentence exactly.
    """
    max_chars = max(max_chars, 1)  # pieces of no characters would never cover the sentence
    if len(sentence) <= max_chars:
        return [(0, len(sentence))]
    cuts = [m.end() for m in _CLAUSE_RE.finditer(sentence)]
    pieces: list[tuple[int, int]] = []
    start = 0
    last_cut = 0
    for cut in cuts + [len(sentence)]:
        if cut - start > max_chars and last_cut > start:
            pieces.append((start, last_cut))
            start = last_cut
        last_cut = cut
    pieces.append((start, len(sentence)))
    result: list[tuple[int, int]] = []
    for begin, end in pieces:
        result.extend(_split_at_spaces(sentence, begin, end, max_chars))
    return [(b, len(sentence[:e].rstrip())) for b, e in result if sentence[b:e].strip()]


def _split_at_spaces(sentence: str, begin: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    pieces = []
    while end - begin > max_chars:
        space = sentence.rfind(" ", begin + 1, begin + max_chars)
        if space <= begin:
            space = begin + max_chars  # one enormous "word": cut it, nothing is lost
        else:
            space += 1
        pieces.append((begin, space))
        begin = space
    pieces.append((begin, end))
    return pieces

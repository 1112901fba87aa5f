"""The result types of a repair: what changed, where, and how sure the model was."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Edit:
    """One change: ``before`` (the input characters ``start:end``) was replaced by ``after``.

    Offsets index the input text given to the repairer, so ``text[start:end] == before`` always.
    ``score`` is the repairer's confidence in this edit, between 0 and 1.
    """

    start: int
    end: int
    before: str
    after: str
    score: float

    def shifted(self, offset: int) -> "Edit":
        return Edit(self.start + offset, self.end + offset, self.before, self.after, self.score)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Repair:
    """A repaired text and the edits that turn the input into it."""

    source: str
    text: str
    edits: list[Edit] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"source": self.source, "text": self.text, "edits": [edit.to_dict() for edit in self.edits]}


def apply_edits(text: str, edits: list[Edit]) -> str:
    """Apply non-overlapping edits (offsets into ``text``) and return the new text."""
    pieces = []
    position = 0
    for edit in sorted(edits, key=lambda e: e.start):
        if edit.start < position:
            raise ValueError(f"overlapping edits at offset {edit.start}")
        if text[edit.start:edit.end] != edit.before:
            raise ValueError(f"edit does not match the text at {edit.start}: {edit.before!r}")
        pieces.append(text[position:edit.start])
        pieces.append(edit.after)
        position = edit.end
    pieces.append(text[position:])
    return "".join(pieces)

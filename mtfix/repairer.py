"""The public entry points: :class:`Repairer` and :func:`repair`."""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import functools
import multiprocessing
import os
import signal
import sys
from dataclasses import dataclass
from typing import Callable, Protocol, Sequence, overload

from tqdm.auto import tqdm

from .constrained import DEFAULT_MIN_CHECK_SCORE
from .guards import is_repairable, violations
from .lattice import LatticeWeights, Suspicion
from .fast import Engine, load_engine
from .model import check_file_sizes, read_settings, resolve_model_dir
from .passthrough import QUOTE_POLICIES, overlaps, passthrough_spans, quoted_spans
from .result import Edit, Repair, apply_edits
from .segment import clause_spans, sentence_spans, starts_sentence
from .text import apostrophe_style, has_apostrophe, with_apostrophe

# The tokenizer of our models averages well over 3 characters a token on news copy, so a piece of
# this many characters per token of window fits; pieces are re-checked with the real tokenizer.
_CHARS_PER_TOKEN = 3

# quotes="auto": the prose around a quotation is evidently spun when the repair changes at least this many
# of its words, at this rate or more. Clean news gets about 0.4 false repairs in 100 words, spun copy 10 to
# 20 (on 4,000 clean test sentences the rule let 1 edit into a quotation; a count alone, not a rate,
# would call every long clean text spun).
_SPUN_MIN_REPAIRS = 2
_SPUN_REPAIRS_PER_100_WORDS = 4

# Pieces one lattice call repairs, a batch at a time: its rewrite pass then runs the seq2seq once over all the
# pieces it rewrites (see LatticeBackend.propose).
_LATTICE_WORK_ITEM = 512


class Backend(Protocol):
    """Proposes word edits (offsets into each sentence, with a confidence) for a batch of sentences."""

    def propose(self, sentences: list[str]) -> list[list[Edit]]: ...


class FreeGenerationBackend:
    """The seq2seq model rewrites the sentence freely; the diff to the input gives the edits."""

    def __init__(self, engine: Engine, num_beams: int):
        from .diff import word_edits

        self._engine = engine  # torch or CTranslate2 (mtfix.fast)
        self._num_beams = num_beams
        self._word_edits = word_edits

    def propose(self, sentences: list[str]) -> list[list[Edit]]:
        proposals = []
        for sentence, generated in zip(sentences, self._engine.generate(sentences, self._num_beams)):
            proposals.append(self._word_edits(sentence, generated.text, generated.span_confidence))
        return proposals


@dataclass(frozen=True)
class _Piece:
    """A span of one input text that is repaired as a unit (a sentence, or a clause of a long one)."""

    text_index: int
    start: int
    end: int


class Repairer:
    """Repairs spun or garbled news text with one loaded model.

    Args:
        model: a model directory; None for the bundled default model.
        device: "auto" (CUDA when available), "cpu", "cuda", "cuda:1", ...
        batch_size: sentences per model call.
        num_beams: beam width of free generation (1 = greedy).
        min_confidence: edits the model is less sure of than this (0-1) are not applied.
        mode: "lattice" (choose among candidate restorations, scored by a news LM and the seq2seq),
            "free" (the seq2seq rewrites each sentence), or "auto": lattice when the model has one.
        progress: show a progress bar on stderr while repairing.
        backend: what runs the seq2seq model: "ctranslate2" (fast on CPU; needs mtfix[fast]; the model is
            converted once, see mtfix.fast), "torch", or "auto": ctranslate2 when it is installed and the
            model converts, else torch.
        workers: processes that repair batches side by side (lattice mode without seq2seq rescoring, on
            systems with fork; otherwise one). The lattice is pure CPU work in one thread, so use one
            worker per core for big jobs.
        quotes: what to do inside double quotation marks ("...", “...”): "keep" them as they are (news
            copy quotes people verbatim), "repair" them like the rest, or "auto" (default): keep them
            unless the prose around them is evidently spun (the repair changes at least 2 words there,
            and 4 in 100 or more), because a spinner rewrites quotations with everything else.
        restore_number_words: let the lattice spell out a digit where wire style wants a word ("3 soldiers"
            -> "three soldiers", a spinner's damage). Off by default: digits and number words are kept.

    Code, JSON/YAML/CSV, markup, tables and lists of identifiers (see :mod:`mtfix.passthrough`) are
    always passed through unchanged, and a repair never changes the case of a word: only a word it
    writes in place of the first word of a sentence takes a capital. An apostrophe it writes anew takes the
    style of the text it repairs (each of ``texts`` in :meth:`repair_many`): curly or straight.
    """

    def __init__(
        self,
        model: str | os.PathLike | None = None,
        device: str = "auto",
        batch_size: int = 32,
        num_beams: int = 1,
        min_confidence: float = 0.5,
        mode: str = "auto",
        progress: bool = False,
        backend: str = "auto",
        workers: int = 1,
        quotes: str = "auto",
        restore_number_words: bool = False,
    ):
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if num_beams < 1:
            raise ValueError(f"num_beams must be at least 1, got {num_beams}")
        if not 0.0 <= min_confidence <= 1.0:
            raise ValueError(f"min_confidence must be between 0 and 1, got {min_confidence}")
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        if quotes not in QUOTE_POLICIES:
            raise ValueError(f"quotes must be one of {', '.join(map(repr, QUOTE_POLICIES))}, got {quotes!r}")
        if mode not in ("auto", "lattice", "free"):
            raise ValueError(f"mode must be 'auto', 'lattice' or 'free', got {mode!r}")
        from .constrained import LatticeBackend, has_lattice

        path = resolve_model_dir(model)
        if mode == "auto":
            mode = "lattice" if has_lattice(path) else "free"
        self.mode = mode
        # self.loaded.model is None with ctranslate2, and with torch until the seq2seq is first needed:
        # the lattice path without rescoring never needs it.
        lattice_weights = LatticeWeights.from_settings(read_settings(path))
        needs_seq2seq = mode == "free" or lattice_weights.seq2seq > 0
        # The rewrite pass (LatticeWeights.rewrite_min_postedits) runs the seq2seq on a few sentences only: it starts
        # on first use, so forked workers each start their own.
        check_file_sizes(path, lattice=mode == "lattice",
                         seq2seq=needs_seq2seq or (mode == "lattice" and lattice_weights.rewrite_min_postedits > 0))
        self.loaded, self.engine = load_engine(path, backend=backend, device=device, lazy=not needs_seq2seq)
        self.batch_size = batch_size
        self.min_confidence = min_confidence
        self.progress = progress
        self.workers = workers
        self.quotes = quotes
        self.restore_number_words = restore_number_words
        self.backend: Backend = (LatticeBackend.from_model(self.loaded, self.engine, restore_number_words=restore_number_words)
                                 if mode == "lattice" else FreeGenerationBackend(self.engine, num_beams))

    # -- public API -------------------------------------------------------------------------------

    def repair(self, text: str) -> str:
        """The repaired text; layout, names and numbers are kept."""
        return self.repair_with_edits(text).text

    def repair_many(self, texts: Sequence[str], progress: bool | None = None) -> list[str]:
        """Repair many texts at once (batched across texts, in length order)."""
        return [result.text for result in self.repair_many_with_edits(texts, progress=progress)]

    def repair_with_edits(self, text: str) -> Repair:
        """The repaired text and the :class:`Edit` list (offsets into ``text``) that produced it."""
        return self.repair_many_with_edits([text])[0]

    def repair_many_with_edits(self, texts: Sequence[str],
                               progress: bool | Callable[[int], None] | None = None) -> list[Repair]:
        """``progress``: show a bar counted in sentences (True), or call this with each batch's count."""
        if isinstance(texts, (str, bytes)):
            raise TypeError("repair_many expects a sequence of strings, not a single string; use repair()")
        texts = list(texts)
        for index, text in enumerate(texts):
            _check_text(text, where=f"texts[{index}]")
        pieces = self._pieces(texts)
        piece_texts = sorted({texts[p.text_index][p.start:p.end] for p in pieces}, key=len)
        edits_of = self._propose_all(piece_texts, self.progress if progress is None else progress)
        edits_per_text: list[list[Edit]] = [[] for _ in texts]
        for piece in pieces:
            for edit in edits_of[texts[piece.text_index][piece.start:piece.end]]:
                edits_per_text[piece.text_index].append(edit.shifted(piece.start))
        edits_per_text = [_as_written_edits(text, self._outside_quotes(text, edits, edits))
                          for text, edits in zip(texts, edits_per_text)]
        return [Repair(text, apply_edits(text, edits), edits) for text, edits in zip(texts, edits_per_text)]

    def check(self, text: str, min_score: float | None = None) -> list[Suspicion]:
        """The spans of ``text`` that look spun, each with a suggested restoration, the alternatives
        and a confidence; offsets index ``text``. Spans the repair would change score 0.5 or more;
        near misses it leaves alone score less, down to ``min_score`` (default 0.2). Needs the
        lattice path."""
        _check_text(text)
        if not hasattr(self.backend, "check"):
            raise ValueError("check() needs a model with the candidate lattice (mode='lattice')")
        if min_score is None:
            min_score = DEFAULT_MIN_CHECK_SCORE
        pieces = self._pieces([text])
        found: list[Suspicion] = []
        piece_texts = [text[p.start:p.end] for p in pieces]
        for start in range(0, len(pieces), self.batch_size):
            batch = pieces[start:start + self.batch_size]
            checked = self.backend.check(piece_texts[start:start + self.batch_size], min_score)
            for piece, suspicions in zip(batch, checked):
                found.extend(s.shifted(piece.start) for s in suspicions)
        found = self._outside_quotes(text, found, [s for s in found if s.score >= self.min_confidence])
        apostrophe = apostrophe_style(text)
        return [_as_written_suggestion(text, s, apostrophe) for s in found]

    # -- internals --------------------------------------------------------------------------------

    def _outside_quotes(self, text: str, spans: list, repairs: list) -> list:
        """``spans`` (edits or suspicions) less those inside a quotation, unless quotes are repaired too:
        always (``quotes="repair"``), or ("auto") where ``repairs``, the spans the repair makes, show
        that the prose around the quotations is spun."""
        if not spans or self.quotes == "repair":
            return spans
        quotes = quoted_spans(text)
        if not quotes:
            return spans
        if self.quotes == "auto":
            outside = sum(not overlaps(r.start, r.end, quotes) for r in repairs)
            quoted_words = sum(len(text[start:end].split()) for start, end in quotes)
            prose_words = max(len(text.split()) - quoted_words, 1)
            if outside >= _SPUN_MIN_REPAIRS and 100 * outside / prose_words >= _SPUN_REPAIRS_PER_100_WORDS:
                return spans
        return [span for span in spans if not overlaps(span.start, span.end, quotes)]

    def _pieces(self, texts: list[str]) -> list[_Piece]:
        """The repairable sentences of ``texts`` outside code and data, split at clauses where they
        overflow the model's window."""
        spans = []
        for index, text in enumerate(texts):
            passthrough = passthrough_spans(text)
            spans.extend((index, start, end) for start, end in sentence_spans(text)
                         if not overlaps(start, end, passthrough) and is_repairable(text[start:end]))
        window = self.loaded.max_source_length
        # Most sentences fit whole: their token counts come from one tokenizer call for all of them.
        short = [i for i, (index, start, end) in enumerate(spans) if end - start <= window * _CHARS_PER_TOKEN]
        fits = set()
        if short:
            counts = self.loaded.tokenizer([texts[spans[i][0]][spans[i][1]:spans[i][2]] for i in short],
                                           add_special_tokens=True)["input_ids"]
            fits = {i for i, ids in zip(short, counts) if len(ids) <= window}
        pieces = []
        for i, (index, start, end) in enumerate(spans):
            windows = [(0, end - start)] if i in fits else self._fit_window(texts[index][start:end], window)
            pieces.extend(_Piece(index, start + piece_start, start + piece_end) for piece_start, piece_end in windows)
        return pieces

    def _fit_window(self, sentence: str, window: int) -> list[tuple[int, int]]:
        """Split a sentence at clause boundaries until every piece fits the model's window."""
        max_chars = window * _CHARS_PER_TOKEN
        while True:
            spans = clause_spans(sentence, max_chars)
            if max_chars <= 8 or all(self._token_count(sentence[s:e]) <= window for s, e in spans):
                return spans
            max_chars //= 2

    def _token_count(self, text: str) -> int:
        return len(self.loaded.tokenizer(text, add_special_tokens=True)["input_ids"])

    def _propose_all(self, piece_texts: list[str], progress: bool | Callable[[int], None]) -> dict[str, list[Edit]]:
        edits_of: dict[str, list[Edit]] = {}
        items = self._work_items(piece_texts)
        report = progress if callable(progress) else None  # a caller's own bar, kept over many calls
        runner = contextlib.nullcontext(self._kept_runner) if self._kept_runner else self._batch_runner(len(items))
        with runner as run, tqdm(total=len(piece_texts), desc="repairing", unit="sentence",
                                 disable=report is not None or not progress or len(items) < 2) as bar:
            for item, accepted in zip(items, run(items)):
                edits_of.update(zip(item, accepted))
                bar.update(len(item))
                if report is not None:
                    report(len(item))
        return edits_of

    def _work_items(self, piece_texts: list[str]) -> list[list[str]]:
        """The pieces cut into what one call of the backend (in a worker, where there are workers) repairs.

        Free generation: a batch. The lattice: up to about ``_LATTICE_WORK_ITEM`` pieces, searched a batch at a
        time, so that its rewrite pass (the seq2seq on the few sentences that look machine-translated) runs
        once over many; cut into a multiple of ``workers`` items of equal size, so no worker idles at the end.
        ``piece_texts`` come shortest first; the items go longest first, so that the last ones, which a worker
        may repair while the others are done, are short (2 workers, 8,192 test sentences: 156.7 sentences/s
        against 148.5 shortest first, means of 5 alternating runs)."""
        size = self.batch_size
        if self.mode == "lattice" and len(piece_texts) > size:
            rounds = -(-len(piece_texts) // (self.workers * _LATTICE_WORK_ITEM))
            size = max(size, -(-len(piece_texts) // (self.workers * rounds)))
        return [piece_texts[i:i + size] for i in range(0, len(piece_texts), size)][::-1]

    def _repair_batch(self, batch: list[str]) -> list[list[Edit]]:
        proposed = (self.backend.propose(batch, batch_size=self.batch_size) if self.mode == "lattice"
                    else self.backend.propose(batch))
        return [self._accept(piece, edits) for piece, edits in zip(batch, proposed)]

    _kept_runner = None

    @contextlib.contextmanager
    def keep_workers(self):
        """Within this block, repair calls share one pool of forked workers (see ``workers``), whose caches
        stay warm, instead of forking a pool per call: for many calls in a row, like the chunks of a
        streamed file."""
        with self._batch_runner(self.workers) as run:
            self._kept_runner = run
            try:
                yield self
            finally:
                self._kept_runner = None

    @contextlib.contextmanager
    def _batch_runner(self, batches: int):
        """A function repairing batches in order: in this process, or in forked workers that share the
        loaded model.

        Only the lattice without a seq2seq rescorer is forked: it is numpy and Python, while a torch or
        CTranslate2 model may hold threads that do not survive a fork. The rewrite pass's seq2seq starts in each
        worker on its first rewrite, which CTranslate2 cannot do in a child of a process that ran a translator
        (it blocks): then the batches are repaired here.
        """
        from .fast import Ct2Model, translator_started_here

        rewriter = getattr(self.backend, "rewriter", None)
        forkable = (self.workers > 1 and batches > 1 and "fork" in multiprocessing.get_all_start_methods()
                    and self.mode == "lattice" and self.backend.rescorer is None
                    and not (isinstance(rewriter, Ct2Model) and translator_started_here()))
        if not forkable:
            yield lambda items: map(self._repair_batch, items)
            return
        global _FORKED_REPAIRER
        _FORKED_REPAIRER = self  # the children inherit it: nothing is pickled but batches and edits
        try:
            with multiprocessing.get_context("fork").Pool(min(self.workers, batches), initializer=_start_worker) as pool:
                yield lambda items: pool.imap(_repair_in_worker, items)
        finally:
            _FORKED_REPAIRER = None

    def _accept(self, piece: str, proposed: list[Edit]) -> list[Edit]:
        """Keep the confident edits, then refuse the whole piece if the result breaks a guard.

        An edit that only changes case ("navy" -> "Navy", "the" -> "The") is no repair: a spinner
        changes words, and a capital at a line start or after "Conn." says nothing about sentences."""
        edits = [edit for edit in proposed if edit.score >= self.min_confidence
                 and not (edit.after != edit.before and edit.after.lower() == edit.before.lower())]
        if not edits:
            return []
        if violations(piece, apply_edits(piece, edits)):
            return []
        return edits


_FORKED_REPAIRER: "Repairer | None" = None


def _as_written(text: str, start: int, before: str, after: str, apostrophe: str | None = None) -> str:
    """``after`` as a repair writes it in place of ``before`` at ``start``: with a capital where it replaces
    the first word of a sentence, as wire copy does (spinners lower-case sentence starts: "however the" ->
    "But the"). Only there does a repair change case: a first word it leaves alone keeps its case, and
    where a sentence starts is decided on the whole text (:func:`mtfix.segment.starts_sentence`), so a
    hard wrap, an abbreviation or a clause piece is no start.

    An apostrophe the repair writes anew ("Syria s" -> "Syria's", "we are" -> "we're") takes ``apostrophe``, the
    style of the whole text (:func:`mtfix.text.apostrophe_style`): a sentence alone often shows none."""
    if before[:1].islower() and after[:1].islower() and starts_sentence(text, start):
        after = after[:1].upper() + after[1:]
    if apostrophe and not has_apostrophe(before):
        after = with_apostrophe(after, apostrophe)
    return after


def _as_written_suggestion(text: str, suspicion: Suspicion, apostrophe: str | None) -> Suspicion:
    """A suspicion's suggestion as the repair would write it."""
    return dataclasses.replace(
        suspicion, suggestion=_as_written(text, suspicion.start, suspicion.text, suspicion.suggestion, apostrophe))


def _as_written_edits(text: str, edits: list[Edit]) -> list[Edit]:
    """The edits as the repair writes them (:func:`_as_written`)."""
    if not edits:
        return edits
    apostrophe = apostrophe_style(text)
    return [Edit(e.start, e.end, e.before, _as_written(text, e.start, e.before, e.after, apostrophe), e.score)
            for e in edits]


_PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies


def _start_worker() -> None:
    """A forked worker's numpy runs one BLAS thread: the workers already fill the cores, and BLAS threads
    that spin waiting for work slow the other workers down (2 workers on 2 cores: 99 sentences/s with
    BLAS's own threads, 118 with one each). The rewrite pass's CTranslate2 translator, which a worker starts
    on its first rewrite, runs one thread too.

    Interrupts are the parent's to handle (Ctrl-C reaches the whole process group; the parent stops the
    pool), and a worker ends with its parent: killed parents used to leave workers printing tracebacks of
    a broken pipe.

    SIGTERM, which the pool sends its workers when it closes, ends a worker at once, whatever handler the
    parent had (``mtfix repair`` has one; a user's program may too). A Python handler runs only on a
    worker's main thread: when the signal reached one of its other threads (BLAS, tokenizer) while the main
    thread waited on the pool's queue lock, the worker never woke and the pool's close waited forever."""
    from threadpoolctl import threadpool_limits

    from .fast import Ct2Model

    threadpool_limits(1)
    rewriter = getattr(getattr(_FORKED_REPAIRER, "backend", None), "rewriter", None)
    if isinstance(rewriter, Ct2Model):  # the same for the rewrite pass's translator, started in the worker
        rewriter.intra_threads = 1
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        except (OSError, AttributeError):  # no prctl: the broken pipe ends the worker, less quietly
            pass


def _repair_in_worker(batch: list[str]) -> list[list[Edit]]:
    return _FORKED_REPAIRER._repair_batch(batch)


def _check_text(text: object, where: str = "text") -> None:
    if not isinstance(text, str):
        raise TypeError(f"mtfix repairs text: {where} must be str, got {type(text).__name__}")


@functools.lru_cache(maxsize=4)
def _cached_repairer(options: tuple) -> Repairer:
    return Repairer(**dict(options))


@overload
def repair(text: str, **options) -> str: ...
@overload
def repair(text: Sequence[str], **options) -> list[str]: ...


def repair(text, **options):
    """Repair one text (returns a str) or many (returns a list), with the bundled default model.

    ``options`` are :class:`Repairer` arguments; the model is loaded once per process and option set.
    """
    if isinstance(text, str):
        if not text.strip():
            return text
        return _cached_repairer(tuple(sorted(options.items()))).repair(text)
    if isinstance(text, Sequence) and not isinstance(text, (bytes, bytearray)):
        for index, item in enumerate(text):
            _check_text(item, where=f"text[{index}]")
        return _cached_repairer(tuple(sorted(options.items()))).repair_many(list(text))
    raise TypeError(f"mtfix.repair expects a str or a sequence of str, got {type(text).__name__}")

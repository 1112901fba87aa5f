"""The public API on a real (tiny, freshly trained) T5 model in free-generation mode."""

from __future__ import annotations

import random

import pytest

import mtfix
from mtfix import Edit, Repair, Repairer
from mtfix.lattice import Suspicion
from mtfix.result import apply_edits

DOCUMENT = (
    'ANKARA (AFP) - Turkish officials stated on Thursday that 3 soldiers were hurt.\n'
    '\n'
    '   "We are working hard," Cavusoglu instructed reporters in Ankara.\n'
    '\n\n'
    'The report, published at https://example.com/a?b=1, was denied.\t\n'
    '  -- indented line with two  spaces\n'
)


def test_layout_is_kept_byte_for_byte(tiny_repairer):
    result = tiny_repairer.repair_with_edits(DOCUMENT)
    # Every edit stays inside one line, and the text outside the edits is the input's.
    assert apply_edits(DOCUMENT, result.edits) == result.text
    assert result.text.count("\n") == DOCUMENT.count("\n")
    assert [len(line) - len(line.lstrip()) for line in result.text.split("\n")] == \
        [len(line) - len(line.lstrip()) for line in DOCUMENT.split("\n")]
    assert result.text.endswith("\n") and "\t\n  " in result.text


def test_numbers_names_urls_and_quotes_survive(tiny_repairer):
    result = tiny_repairer.repair(DOCUMENT)
    for kept in ("ANKARA", "AFP", "Thursday", "3", "Cavusoglu", "Ankara", "https://example.com/a?b=1"):
        assert kept in result
    assert result.count('"') == DOCUMENT.count('"')


def test_edits_index_the_input(tiny_repairer):
    text = "The army stated the rocket fireplace had stopped."
    result = tiny_repairer.repair_with_edits(text)
    assert isinstance(result, Repair)
    for edit in result.edits:
        assert isinstance(edit, Edit)
        assert text[edit.start:edit.end] == edit.before
        assert 0.0 <= edit.score <= 1.0


def test_the_tiny_model_really_repairs_something(tiny_repairer):
    spun = ["The minister stated the talks had failed.", "Police stated the fireplace was out of control."]
    repaired = tiny_repairer.repair_many(spun)
    assert repaired != spun
    assert any("said" in text for text in repaired)


def test_min_confidence_one_applies_nothing(tiny_model_dir):
    strict = Repairer(tiny_model_dir, device="cpu", min_confidence=1.0)
    text = "The minister stated the talks had failed."
    assert strict.repair(text) == text


def test_repair_many_matches_one_at_a_time(tiny_repairer):
    texts = ["The minister stated the talks had failed.", "", "Rocket fireplace hit the town.", "   \n"]
    assert tiny_repairer.repair_many(texts) == [tiny_repairer.repair(t) for t in texts]


def test_output_is_deterministic(tiny_repairer):
    text = "The minister stated the talks had failed. Rocket fireplace hit the town."
    assert len({tiny_repairer.repair(text) for _ in range(3)}) == 1


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t\n"])
def test_empty_and_blank_text_come_back_as_is(tiny_repairer, text):
    assert tiny_repairer.repair(text) == text
    assert mtfix.repair(text) == text  # no model is even loaded for these


@pytest.mark.parametrize("bad", [None, 42, b"bytes", ["a", 3]])
def test_non_strings_raise_type_error(tiny_repairer, bad):
    with pytest.raises(TypeError, match="str"):
        if isinstance(bad, list):
            tiny_repairer.repair_many(bad)
        else:
            tiny_repairer.repair(bad)


@pytest.mark.parametrize("junk", [
    "<html><body><p>The army <b>released</b> a statement.</p></body></html>",
    "Россия начала военную операцию в Сирии в 2015 году.",
    "Die Regierung hat am Donnerstag eine Erklärung abgegeben, sagte der Minister.",
    "\x00\x01\x02\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + "".join(chr(c) for c in range(0x80, 0xa0)),
    "年月日 東京 — 政府は木曜日に声明を発表した。",
])
def test_markup_foreign_text_and_junk_pass_through(tiny_repairer, junk):
    assert tiny_repairer.repair(junk) == junk


def test_a_sentence_longer_than_the_window_is_split_not_truncated(tiny_repairer):
    sentence = ", ".join(f"the minister stated plan number {i} had failed" for i in range(60)) + "."
    result = tiny_repairer.repair(sentence)
    for i in range(60):
        assert f"number {i} " in result
    assert len(result) > 0.8 * len(sentence)


def test_a_one_megabyte_document_completes(tiny_repairer):
    # Wire archives repeat boilerplate, and each distinct sentence is repaired once; the throughput
    # benchmark measures the linear cost on distinct sentences.
    rng = random.Random(0)
    subjects = ["The minister", "Police", "The army", "Officials", "The company", "Rebels", "Witnesses"]
    verbs = ["stated", "said", "reported", "denied", "confirmed"]
    objects = ["the talks had failed", "the fireplace was out", "prices rose", "the town was calm"]
    sentences = [f"{s} {v} {o}." for s in subjects for v in verbs for o in objects]
    paragraphs, size = [], 0
    while size < 1_000_000:
        paragraph = " ".join(rng.choice(sentences) for _ in range(6))
        paragraphs.append(paragraph)
        size += len(paragraph) + 2
    document = "\n\n".join(paragraphs)
    repairer = Repairer(tiny_repairer.loaded.path, device="cpu", batch_size=64)
    result = repairer.repair_with_edits(document)
    assert len(document) >= 1_000_000
    assert result.text.count("\n") == document.count("\n")
    assert apply_edits(document, result.edits) == result.text
    assert len(result.edits) > 1000  # the repeated spun sentences were all repaired, not skipped


def test_bad_arguments_are_rejected(tiny_model_dir):
    with pytest.raises(ValueError):
        Repairer(tiny_model_dir, batch_size=0)
    with pytest.raises(ValueError):
        Repairer(tiny_model_dir, min_confidence=2.0)
    with pytest.raises(ValueError):
        Repairer(tiny_model_dir, mode="creative")
    with pytest.raises(ValueError, match="workers"):
        Repairer(tiny_model_dir, workers=0)


def _blas_threads() -> list[int]:
    from threadpoolctl import threadpool_info

    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


def _worker_state() -> tuple[list[int], bool, int]:
    import ctypes
    import signal
    import sys

    death_signal = ctypes.c_int(-1)
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(2, ctypes.byref(death_signal))  # PR_GET_PDEATHSIG
    return _blas_threads(), signal.getsignal(signal.SIGINT) == signal.SIG_IGN, death_signal.value


@pytest.mark.skipif("fork" not in __import__("multiprocessing").get_all_start_methods(), reason="needs fork")
def test_forked_workers_run_one_blas_thread_each_and_leave_interrupts_to_their_parent():
    import multiprocessing
    import signal
    import sys

    import numpy as np

    from mtfix.repairer import _start_worker

    np.ones((64, 64)) @ np.ones((64, 64))  # BLAS loaded in the parent, as after the detector has run
    with multiprocessing.get_context("fork").Pool(1, initializer=_start_worker) as pool:
        threads, ignores_interrupts, death_signal = pool.apply(_worker_state)
    assert threads and all(n == 1 for n in threads)
    assert ignores_interrupts  # Ctrl-C is the parent's: no traceback from each worker
    if sys.platform.startswith("linux"):
        assert death_signal == signal.SIGTERM  # a worker ends with its parent, silently


def _rewriter_threads() -> int:
    from mtfix import repairer

    return repairer._FORKED_REPAIRER.backend.rewriter.intra_threads


@pytest.mark.skipif("fork" not in __import__("multiprocessing").get_all_start_methods(), reason="needs fork")
def test_a_forked_worker_starts_the_rewrite_translator_with_one_thread():
    pytest.importorskip("ctranslate2")
    import multiprocessing

    from mtfix import Repairer, repairer
    from mtfix.fast import Ct2Model

    parent = Repairer(device="cpu", backend="ctranslate2")
    assert isinstance(parent.backend.rewriter, Ct2Model) and parent.backend.rewriter.intra_threads >= 1
    repairer._FORKED_REPAIRER = parent
    try:
        with multiprocessing.get_context("fork").Pool(1, initializer=repairer._start_worker) as pool:
            assert pool.apply(_rewriter_threads) == 1  # the workers already fill the cores
    finally:
        repairer._FORKED_REPAIRER = None


@pytest.mark.parametrize("pieces, workers, sizes", [
    (8192, 2, [512] * 16),
    (700, 2, [350] * 2),  # not 512 + 188: the second worker would idle through half the call
    (1500, 2, [375] * 4),
    (700, 1, [350] * 2),
    (100, 2, [50] * 2),
    (20, 2, [20]),  # one batch
])
def test_lattice_work_items_are_equal_multiples_of_the_workers_longest_first(pieces, workers, sizes):
    from types import SimpleNamespace

    from mtfix.repairer import Repairer

    texts = [f"sentence {'x' * n}" for n in range(pieces)]  # shortest first, as repair_many sorts them
    items = Repairer._work_items(SimpleNamespace(mode="lattice", batch_size=32, workers=workers), texts)
    assert [len(item) for item in items] == sizes
    assert [text for item in reversed(items) for text in item] == texts
    free = Repairer._work_items(SimpleNamespace(mode="free", batch_size=32, workers=workers), texts)
    assert all(len(item) <= 32 for item in free) and sorted(t for item in free for t in item) == sorted(texts)


class _Stop(BaseException):
    pass


def _raise_stop(signum, frame):
    raise _Stop


def _start_worker_whose_main_thread_never_sees_sigterm() -> None:
    """The worst case of a busy worker: SIGTERM can only reach a thread other than the main one."""
    import signal
    import threading
    import time

    from mtfix.repairer import _start_worker

    _start_worker()
    threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})


def _pid() -> int:
    import os

    return os.getpid()


@pytest.mark.skipif("fork" not in __import__("multiprocessing").get_all_start_methods(), reason="needs fork")
def test_closing_the_pool_ends_workers_whatever_sigterm_handler_the_parent_has():
    """The pool closes its workers with SIGTERM. A Python handler inherited from the parent (``mtfix repair``
    has one) runs only on a worker's main thread, so a worker whose signal went to another thread hung the
    pool's close forever (CI timed out on it)."""
    import multiprocessing
    import os
    import signal
    import threading
    import time

    previous = signal.signal(signal.SIGTERM, _raise_stop)
    try:
        pool = multiprocessing.get_context("fork").Pool(2, initializer=_start_worker_whose_main_thread_never_sees_sigterm)
        pids = {pool.apply(_pid) for _ in range(4)}
        for _ in range(2):
            pool.apply_async(time.sleep, (3600,))  # busy workers, as in the middle of a long repair
        time.sleep(1)
        closing = threading.Thread(target=pool.terminate, daemon=True)
        closing.start()
        closing.join(timeout=30)
        hung = closing.is_alive()
        if hung:
            for pid in pids:
                os.kill(pid, signal.SIGKILL)
            closing.join(timeout=60)
        assert not hung, "the pool's workers ignored SIGTERM"
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_pieces_of_many_texts_match_fitting_each_sentence_alone(tiny_repairer):
    """Token counts come from one tokenizer call for all sentences; the pieces are those of fitting each
    sentence to the window on its own (long ones split at clauses, junk skipped)."""
    from mtfix.guards import is_repairable
    from mtfix.segment import sentence_spans

    window = tiny_repairer.loaded.max_source_length
    long_sentence = ", ".join(f"the council stated clause number {i} was agreed" for i in range(window // 4)) + "."
    texts = ["The navy released an attack. It was huge.", long_sentence + " Short one here.", "<p>markup</p>", "",
             "x" * (window * 5) + " words after a very long token."]
    expected = [(index, start + s, start + e) for index, text in enumerate(texts) for start, end in sentence_spans(text)
                if is_repairable(text[start:end]) for s, e in tiny_repairer._fit_window(text[start:end], window)]
    assert [(p.text_index, p.start, p.end) for p in tiny_repairer._pieces(texts)] == expected
    assert any(index == 1 for index, _, _ in expected) and len({(i, s) for i, s, _ in expected if i == 1}) > 2


def test_an_edit_that_only_changes_case_is_dropped(tiny_repairer, monkeypatch):
    """Free generation may write "Navy" for "navy" or "The" at a hard-wrapped line start: no repair."""
    text = "the navy stated it"

    def propose(sentences):
        return [[Edit(0, 3, "the", "The", 0.99), Edit(4, 8, "navy", "Navy", 0.99), Edit(9, 15, "stated", "said", 0.99)]
                for _ in sentences]

    monkeypatch.setattr(tiny_repairer.backend, "propose", propose)
    result = tiny_repairer.repair_with_edits(text)
    assert result.text == "the navy said it"
    assert [(e.before, e.after) for e in result.edits] == [("stated", "said")]


def test_a_restored_apostrophe_follows_the_typography_of_the_whole_text(tiny_repairer, monkeypatch):
    """A sentence alone often shows no apostrophe: the lattice writes "'" there, the text may write "’"."""

    def propose(sentences):
        return [[Edit(s.index("Syria"), s.index("Syria") + 7, "Syria\u00a0s", "Syria's", 0.99)] if "Syria" in s else []
                for s in sentences]

    monkeypatch.setattr(tiny_repairer.backend, "propose", propose)
    second = "The army of Syria\u00a0s government said it would go on."
    curly = "The minister’s aide said the talks had failed.\n\n" + second
    assert tiny_repairer.repair(curly).endswith("The army of Syria’s government said it would go on.")
    straight = "The minister's aide said the talks had failed.\n\n" + second
    assert tiny_repairer.repair(straight).endswith("The army of Syria's government said it would go on.")
    assert tiny_repairer.repair(second) == "The army of Syria's government said it would go on."

    def check(sentences, min_score):
        return [[Suspicion(s.index("Syria"), s.index("Syria") + 7, "Syria\u00a0s", "Syria's", 0.99, [])]
                if "Syria" in s else [] for s in sentences]

    monkeypatch.setattr(tiny_repairer.backend, "check", check, raising=False)
    assert [s.suggestion for s in tiny_repairer.check(curly)] == ["Syria’s"]


def test_apostrophe_style_reads_apostrophes_then_quotation_marks():
    from mtfix.text import apostrophe_style, with_apostrophe

    assert apostrophe_style("don’t, isn’t, it's") == "’"
    assert apostrophe_style("don't") == "'"
    assert apostrophe_style("“Yes,” he said.") == "’"
    assert apostrophe_style('"Yes," he said.') == "'"
    assert apostrophe_style("the 'quoted' word, 5' tall") is None  # no apostrophe between letters
    assert apostrophe_style("no marks at all") is None
    assert with_apostrophe("we're Syria's 'own'", "’") == "we’re Syria’s 'own'"

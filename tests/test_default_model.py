"""Quality bars of the bundled default model (the candidate-lattice path), on fixed samples.

The samples in tests/data come from the test split of `training/build_data.py` (articles no model
saw) and from its clean test sentences. The seed article comes from a real spinner that neither the
thesaurus nor the training pairs were built from.
"""

from __future__ import annotations

import difflib
import json
import subprocess
import sys
from pathlib import Path

import pytest
import sacrebleu

from mtfix.evaluation.metrics.overcorrection import changed_words
from mtfix import DEFAULT_MODEL_DIR, Repairer
from mtfix.guards import protected_tokens
from mtfix.text import tokenize, words

from conftest import SEED_REFERENCE, SEED_SPUN

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="module")
def default_repairer():
    if not (DEFAULT_MODEL_DIR / "config.json").is_file():
        pytest.fail(f"the bundled default model is missing in {DEFAULT_MODEL_DIR}")
    return Repairer(device="cpu")


@pytest.fixture(scope="module")
def synthetic():
    rows = [json.loads(line) for line in (DATA / "synthetic_test_sample.jsonl").read_text(encoding="utf-8").splitlines()]
    return [r["source"] for r in rows], [r["target"] for r in rows]


def _lines(path: Path) -> list[str]:
    return _lines_of(path.read_text(encoding="utf-8"))


def _lines_of(text: str) -> list[str]:
    return [line for line in text.split("\n") if line.strip()]


def test_default_path_is_the_lattice(default_repairer):
    assert default_repairer.mode == "lattice"


def test_default_lattice_consults_the_spin_detector(default_repairer):
    decoder = default_repairer.backend.decoder
    assert decoder.detector is not None and decoder.weights.detector > 0
    sentence = "A Britain-based struggle reveal said rocket fireplace and air moves hit the town."
    tokens, candidates = decoder.candidates(sentence)
    assert any(c.spun != 0 for c in candidates if not c.is_keep)
    # On the seed article (another spinner than the one it was trained on) it ranks the words that the spinner
    # changed above those it left alone: 0.93 of such pairs for the bundled detector, 0.91 for the one before.
    changed, kept = [], []
    for spun_line, reference_line in zip(_lines(SEED_SPUN), _lines(SEED_REFERENCE)):
        tokens = tokenize(spun_line)
        probabilities = decoder.detector.word_probabilities([spun_line], [tokens])[0]
        matcher = difflib.SequenceMatcher(a=[t.text for t in tokens], b=[t.text for t in tokenize(reference_line)],
                                          autojunk=False)
        spun = {i for op, i1, i2, _, _ in matcher.get_opcodes() if op != "equal" for i in range(i1, i2)}
        for i, token in enumerate(tokens):
            if token.is_word:
                (changed if i in spun else kept).append(probabilities[i])
    ranked_above = sum(c > k for c in changed for k in kept) / (len(changed) * len(kept))
    assert len(changed) > 50 and ranked_above > 0.85, ranked_above


def test_seed_article_gains_at_least_17_bleu(default_repairer):
    """Repaired as one document (the README's first command) the seed gains +17.2 BLEU; paragraph by
    paragraph +14.4, as a paragraph that is mostly quotation is no evidence that the quotation was spun
    (quotes="auto" keeps it). Digits stay digits by default ("3 soldiers"); asked to restore number words
    and every quotation, +17.7."""
    spun, reference = _lines(SEED_SPUN), _lines(SEED_REFERENCE)
    identity = sacrebleu.corpus_bleu(spun, [reference]).score
    document = _lines_of(default_repairer.repair(SEED_SPUN.read_text(encoding="utf-8")))
    assert sacrebleu.corpus_bleu(document, [reference]).score >= identity + 17, identity
    system = sacrebleu.corpus_bleu(default_repairer.repair_many(spun), [reference]).score
    assert system >= identity + 14, (identity, system)
    asked = Repairer(device="cpu", quotes="repair", restore_number_words=True).repair_many(spun)
    system = sacrebleu.corpus_bleu(asked, [reference]).score
    assert system >= identity + 17.5, (identity, system)


def test_synthetic_test_sample_improves(default_repairer, synthetic):
    sources, targets = synthetic
    identity = sacrebleu.corpus_bleu(sources, [targets]).score
    system = sacrebleu.corpus_bleu(default_repairer.repair_many(sources), [targets]).score
    assert system >= identity + 5, (identity, system)


def test_clean_input_changes_at_most_one_word_in_a_hundred(default_repairer):
    clean = _lines(DATA / "clean_test_sample.txt")
    repaired = default_repairer.repair_many(clean)
    changed = sum(changed_words(c, r) for c, r in zip(clean, repaired))
    assert 100 * changed / sum(len(words(c)) for c in clean) <= 1.0


def test_every_name_and_number_survives(default_repairer, synthetic):
    texts = synthetic[0] + _lines(SEED_SPUN)
    for text, repaired in zip(texts, default_repairer.repair_many(texts)):
        for token in protected_tokens(text):  # digits stay digits: "3 soldiers" is not spelled out by default
            assert token in repaired, (token, text, repaired)


def test_forked_workers_repair_exactly_like_one_process(default_repairer, synthetic):
    sources = synthetic[0][:120]
    two = Repairer(device="cpu", batch_size=16, workers=2)
    assert two.repair_many(sources) == default_repairer.repair_many(sources)
    # The same edits; their confidences agree to float precision (the spin detector pads each run of
    # sentences to its longest, and other batch sizes give other runs).
    for forked, alone in zip(two.repair_many_with_edits(sources[:40]), default_repairer.repair_many_with_edits(sources[:40])):
        assert [(e.start, e.end, e.after) for e in forked.edits] == [(e.start, e.end, e.after) for e in alone.edits]
        assert [e.score for e in forked.edits] == pytest.approx([e.score for e in alone.edits], abs=1e-5)


def test_lattice_without_rescoring_never_loads_the_seq2seq(tmp_path):
    """Start-up of a plain install: the default lattice (seq2seq weight 0) repairs without torch
    being imported at all; a lattice that rescores loads the seq2seq when the Repairer is made."""
    sentence = "Russia released a navy intervention in help of Assad."
    script = ("import sys; from mtfix import repair; "
              f"out = repair({sentence!r}, backend='torch'); print(out); print('torch' in sys.modules)")
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True)
    repaired = Repairer(device="cpu").repair(sentence)
    assert repaired != sentence and ran.stdout.split("\n")[:2] == [repaired, "False"]

    rescoring = tmp_path / "rescoring"
    rescoring.mkdir()
    for item in DEFAULT_MODEL_DIR.iterdir():
        if item.name != "mtfix.json":
            (rescoring / item.name).symlink_to(item)
    settings = json.loads((DEFAULT_MODEL_DIR / "mtfix.json").read_text(encoding="utf-8"))
    settings["lattice"]["seq2seq"] = 0.05
    (rescoring / "mtfix.json").write_text(json.dumps(settings), encoding="utf-8")
    assert Repairer(rescoring, device="cpu", backend="torch").engine.is_loaded
    assert not Repairer(device="cpu", backend="torch").engine.is_loaded


def test_every_bundled_model_file_is_package_data():
    """An installed (non-editable) mtfix must carry the whole default model, subdirectories included."""
    import fnmatch

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    repo = DEFAULT_MODEL_DIR.parents[2]
    patterns = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-data"]["mtfix"]
    package = DEFAULT_MODEL_DIR.parents[1]
    files = [p.relative_to(package).as_posix() for p in DEFAULT_MODEL_DIR.rglob("*")
             if p.is_file() and not p.relative_to(DEFAULT_MODEL_DIR).parts[0].startswith("ct2-")]
    assert files and all(any(fnmatch.fnmatch(f, pattern) and "/" not in f[len(pattern) - 1:] for pattern in patterns)
                         for f in files), files


def test_the_detector_head_chooses_among_the_offered_originals(default_repairer):
    decoder = default_repairer.backend.decoder
    assert decoder.detector.has_original_words and decoder.weights.choice > 0
    sentence = "Russia released a navy intervention in help of Assad."
    _, candidates = decoder.candidates(sentence)
    at_navy = [c for c in candidates if c.start == 3 and c.end == 4 and not c.is_keep]
    assert len(at_navy) > 5
    assert max(at_navy, key=lambda c: c.choice).words == ("military",)


def test_the_bundled_model_stays_under_75_mb():
    # 60 MB until the post-editing phrase table (3.1 MB, then 6.45 MB, then 11.2 MB at min count 3, 2026-12-03:
    # 70.6 MB in all); the package must stay tens of MB.
    from mtfix.lexicon import DEFAULT_PATH as THESAURUS_PATH

    files = [p for p in DEFAULT_MODEL_DIR.rglob("*") if p.is_file() and "ct2-" not in str(p.relative_to(DEFAULT_MODEL_DIR))]
    total = sum(p.stat().st_size for p in files) + THESAURUS_PATH.stat().st_size
    assert total <= 75_000_000, total


def test_a_model_weighting_the_detector_without_one_says_so(tmp_path):
    from mtfix import ModelNotFoundError

    for item in DEFAULT_MODEL_DIR.iterdir():
        if item.name != "detector":
            (tmp_path / item.name).symlink_to(item)
    with pytest.raises(ModelNotFoundError, match="detector"):
        Repairer(tmp_path, device="cpu")


def test_check_at_half_lists_exactly_what_the_repair_changes(default_repairer):
    """check(min_score=0.5) is the repair's own list: a span the repair leaves alone (in a sentence held
    back by min_sentence_gain, or one the beam missed) is a near miss below 0.5, and suggestions carry
    the capital the repair writes at a sentence start."""
    text = SEED_SPUN.read_text(encoding="utf-8")
    checked = {(s.start, s.end, s.suggestion) for s in default_repairer.check(text, min_score=0.5)}
    repaired = {(e.start, e.end, e.after) for e in default_repairer.repair_with_edits(text).edits}
    assert checked == repaired

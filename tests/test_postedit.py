"""The post-editing phrase table inside the lattice: machine-translation damage undone with a small LM and a
hand-made table, gated per sentence; and the bundled model's table on real round trips."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from mtfix.candidates import CandidateGenerator, ChannelRates
from mtfix.constrained import PHRASE_TABLE_FILE, LatticeBackend
from mtfix.detector import Reading, detector_scores
from mtfix.lattice import LatticeWeights
from mtfix.phrase_table import PhraseOption, PhraseTable
from mtfix.text import lm_form, tokenize, words
from training.build_lm import train_lm

NEWS = [
    "The minister gave a news conference on Thursday in Ankara.",
    "The president gave a news conference on Monday.",
    "Officials said on Thursday that the talks had failed.",
    "He told reporters that the ceasefire had not been secured.",
    "The ministry said on Monday that the report was false.",
    "She told reporters on Thursday that the plan would go ahead.",
    "The minister said the talks would resume.",
]


def _option(clean: str, log_p_garbled: float) -> PhraseOption:
    return PhraseOption(tuple(clean.split()), log_p_clean=-1.0, log_p_garbled=log_p_garbled, count=10)


TABLE = PhraseTable({
    ("a", "conference", "of", "news"): [_option("a news conference", -0.5)],
    ("the", "thursday"): [_option("on thursday", -0.7), _option("thursday", -1.0)],
    ("said", "reporters"): [_option("told reporters", -0.3)],
    ("the", "monday"): [_option("on monday", -0.3)],
    ("said", "'"): [_option("told '", -0.3)],  # punctuation pairs are not offered
})


@pytest.fixture(scope="module")
def thesaurus():
    return CandidateGenerator().thesaurus


@pytest.fixture(scope="module")
def lm():
    return train_lm([[lm_form(w) for w in words(s)] for s in NEWS * 3], order=3)


def _backend(lm, thesaurus, rate: float, min_changes: int, min_gain: float = 0.0) -> LatticeBackend:
    weights = LatticeWeights(change_penalty=0.0, min_postedit_changes=min_changes, min_postedit_gain=min_gain)
    return LatticeBackend(lm, weights, thesaurus=thesaurus, rates=ChannelRates(postedit=rate), phrase_table=TABLE)


def test_the_table_offers_rewrites_with_their_channel_score(thesaurus):
    generator = CandidateGenerator(thesaurus, ChannelRates(postedit=0.2), phrase_table=TABLE)
    sentence = "The minister gave a conference of news the Thursday, said reporters."
    candidates = generator.candidates(sentence)[1]
    postedits = {(c.start, c.end, c.words): c.channel for c in candidates if c.kind == "postedit"}
    assert postedits[(3, 7, ("a", "news", "conference"))] == pytest.approx(math.log(0.2) - 0.5)
    assert postedits[(7, 9, ("on", "Thursday"))] == pytest.approx(math.log(0.2) - 0.7)  # "Thursday" as observed
    assert (7, 9, ("Thursday",)) in postedits
    assert (10, 12, ("told", "reporters")) in postedits
    assert not any("'" in words for _, _, words in postedits)
    # the span's initial capital goes to the rewrite's first word
    capitalised = CandidateGenerator(thesaurus, ChannelRates(postedit=0.2), phrase_table=TABLE)
    assert any(c.words == ("On", "Thursday") for c in capitalised.candidates("The Thursday it rained.")[1])


def test_rewrites_keep_the_names_and_numbers_of_their_span(thesaurus):
    # Apertium writes "Both" for "Obama" and "White Home" for "White House", so the (lower-case) table learns
    # "both" -> "obama" and "home" -> "house"; a rewrite that alters a name the input carries would have the
    # guards refuse the sentence's every repair (on validation round trips: 57.84 -> 61.84 BLEU once they could not).
    table = PhraseTable({**dict(TABLE.items()), ("both", "said"): [_option("obama said", -0.2)],
                         ("the", "1"): [_option("one", -0.1)], ("both",): [_option("both", -0.1)]})
    generator = CandidateGenerator(thesaurus, ChannelRates(postedit=0.2), phrase_table=table)
    sentence = "Over the Thursday, Both said the 1 plan failed."
    postedits = {c.words for c in generator.candidates(sentence)[1] if c.kind == "postedit"}
    assert ("on", "Thursday") in postedits  # a protected word the rewrite keeps as written
    assert ("Obama", "said") not in postedits and ("one",) not in postedits
    # the same words as common words, not names, are rewritten
    lower = {c.words for c in generator.candidates("He said both said the talks failed.")[1] if c.kind == "postedit"}
    assert ("obama", "said") in lower


def test_no_rewrites_without_a_rate_or_a_table(thesaurus):
    sentence = "He gave a conference of news."
    for generator in (CandidateGenerator(thesaurus, ChannelRates(postedit=0.0), phrase_table=TABLE),
                      CandidateGenerator(thesaurus, ChannelRates(postedit=0.2))):
        assert not any(c.kind == "postedit" for c in generator.candidates(sentence)[1])
    generator = CandidateGenerator(thesaurus, ChannelRates(postedit=0.2), phrase_table=TABLE)
    tokens = tokenize(sentence)
    assert not any(c.kind == "postedit" for c in generator.columns(sentence, tokens, postedit=False).rows())


def test_the_spin_detector_neither_scores_nor_prunes_rewrites(thesaurus):
    generator = CandidateGenerator(thesaurus, ChannelRates(postedit=0.2), phrase_table=TABLE)
    sentence = "He gave a conference of news."
    tokens = tokenize(sentence)
    columns = generator.columns(sentence, tokens)
    certain_clean = Reading(spun=np.full(len(tokens), 1e-6), states=None)
    kept = detector_scores(columns, certain_clean, floor=-3.0).rows()
    postedits = [c for c in kept if c.kind == "postedit"]
    assert postedits and all(c.spun == 0.0 for c in postedits)
    assert not any(c.kind == "synonym" for c in kept)  # the floor still prunes the spinner's candidates


def test_garbled_sentences_are_repaired_when_they_take_enough_rewrites(lm, thesaurus):
    garbled = "The minister gave a conference of news the Thursday in Ankara."
    assert _backend(lm, thesaurus, 0.3, 2).repair_sentences([garbled]) == [
        "The minister gave a news conference on Thursday in Ankara."]
    # one rewrite alone is no evidence of machine translation: the sentence is searched without the table
    lone = "The ministry said the Monday that the report was false."
    assert _backend(lm, thesaurus, 0.3, 2).repair_sentences([lone]) == [lone]
    assert _backend(lm, thesaurus, 0.3, 1).repair_sentences([lone]) == ["The ministry said on Monday that the report was false."]
    # ... unless it gains enough over the best path without the table
    assert _backend(lm, thesaurus, 0.3, 2, min_gain=0.5).repair_sentences([lone]) == [
        "The ministry said on Monday that the report was false."]
    assert _backend(lm, thesaurus, 0.3, 2, min_gain=500.0).repair_sentences([lone]) == [lone]


class _ScriptedRewriter:
    """A seq2seq stand-in: rewrites each sentence it is given as ``rewrites`` says, and records what it saw."""

    def __init__(self, rewrites: dict[str, str]):
        self.rewrites = rewrites
        self.seen: list[str] = []
        self.calls = 0

    def generate(self, sentences: list[str], num_beams: int = 1):
        from mtfix.generate import Generated

        self.seen += sentences
        self.calls += 1
        return [Generated(self.rewrites.get(s, s), []) for s in sentences]


def _rewriting_backend(lm, thesaurus, rewriter, min_postedits: int, min_lm_gain: float) -> LatticeBackend:
    weights = LatticeWeights(change_penalty=0.0, min_postedit_changes=2, rewrite_min_postedits=min_postedits,
                             rewrite_min_lm_gain=min_lm_gain)
    return LatticeBackend(lm, weights, rescorer=rewriter, thesaurus=thesaurus, rates=ChannelRates(postedit=0.3),
                          phrase_table=TABLE)


def test_the_seq2seq_rewrites_sentences_with_enough_rewrites_where_the_lm_prefers_it(lm, thesaurus):
    # Word order across phrases is what the table cannot undo, and the seq2seq can.
    garbled = "The president a conference of news gave the Monday."
    lattice_repair = "The president a news conference gave on Monday."
    assert _backend(lm, thesaurus, 0.3, 2).repair_sentences([garbled]) == [lattice_repair]
    better = "The president gave a news conference on Monday."  # the LM's own training sentence
    rewriter = _ScriptedRewriter({lattice_repair: better})
    backend = _rewriting_backend(lm, thesaurus, rewriter, min_postedits=2, min_lm_gain=0.0)
    clean = NEWS[2]
    assert backend.repair_sentences([garbled, clean]) == [better, clean]
    assert rewriter.seen == [lattice_repair]  # from the lattice's repair; the clean sentence is never rewritten
    # below the LM gain, or for sentences with fewer rewrites, the lattice's repair stands
    assert _rewriting_backend(lm, thesaurus, _ScriptedRewriter({lattice_repair: better}), 2, 1e6).repair_sentences(
        [garbled]) == [lattice_repair]
    fewer = _ScriptedRewriter({lattice_repair: better})
    assert _rewriting_backend(lm, thesaurus, fewer, 3, 0.0).repair_sentences([garbled]) == [lattice_repair]
    assert fewer.seen == []
    # 0 turns the rewrite pass off
    assert _rewriting_backend(lm, thesaurus, _ScriptedRewriter({lattice_repair: better}), 0, 0.0).rewriter is None


def test_the_rewrite_pass_runs_once_over_all_the_batches_of_a_call(lm, thesaurus):
    # CTranslate2 on CPU costs per call more than per sentence: the sentences a call rewrites go together,
    # whatever the batches its lattice search takes, and the repairs are those of a sentence at a time.
    first = "The president a conference of news gave the Monday."
    second = "The minister a conference of news gave the Monday."
    sentences = [first, NEWS[2], second, NEWS[3]]
    repairs = {first: "The president a news conference gave on Monday.",
               second: "The minister a news conference gave on Monday."}
    assert _backend(lm, thesaurus, 0.3, 2).repair_sentences([first, second]) == [repairs[first], repairs[second]]
    better = {repairs[first]: "The president gave a news conference on Monday.",
              repairs[second]: "The minister gave a news conference on Monday."}
    rewriter = _ScriptedRewriter(better)
    batched = _rewriting_backend(lm, thesaurus, rewriter, min_postedits=2, min_lm_gain=-1e6)
    edits = batched.propose(sentences, batch_size=1)
    assert rewriter.calls == 1 and rewriter.seen == [repairs[first], repairs[second]]
    alone = _rewriting_backend(lm, thesaurus, _ScriptedRewriter(better), min_postedits=2, min_lm_gain=-1e6)
    assert edits == [alone.propose([sentence])[0] for sentence in sentences]
    assert edits[0] and edits[2] and not edits[1] and not edits[3]


def test_a_rewrite_the_guards_refuse_leaves_the_lattice_repair(lm, thesaurus):
    garbled = "The minister gave a conference of news the Thursday in Ankara."
    lattice_repair = "The minister gave a news conference on Thursday in Ankara."
    # likelier to the LM, but drops a name of the input: a repair must never do that
    rewriter = _ScriptedRewriter({lattice_repair: "The minister gave a news conference on Thursday in Paris."})
    backend = _rewriting_backend(lm, thesaurus, rewriter, min_postedits=2, min_lm_gain=-1e6)
    assert backend.repair_sentences([garbled]) == [lattice_repair]


def test_a_rewrite_that_alters_a_name_keeps_its_other_repairs(lm, thesaurus):
    # Machine translation turns names into words ("Bush" -> "Shrub"), and the seq2seq, trained on such pairs,
    # changes capitalised words: a fifth of its rewrites of held-out round trips alter one. Its word-order
    # repairs elsewhere in the sentence are kept, the name is not touched.
    garbled = "The president a conference of news gave the Monday in Ankara."
    lattice_repair = _backend(lm, thesaurus, 0.3, 2).repair_sentences([garbled])[0]
    assert lattice_repair == "The president a news conference gave on Monday in Ankara."
    rewriter = _ScriptedRewriter({lattice_repair: "The president gave a news conference on Monday in Paris."})
    assert _rewriting_backend(lm, thesaurus, rewriter, 2, -1e6).repair_sentences([garbled]) == [
        "The president gave a news conference on Monday in Ankara."]


def test_what_of_a_rewrite_may_replace_the_input():
    from mtfix.constrained import allowed_rewrite

    source = "The president a conference of news gave the Monday in Ankara at 3."
    whole = "The president gave a news conference on Monday in Ankara at 3."
    assert allowed_rewrite(source, whole) == whole
    assert allowed_rewrite(source, "The president gave a news conference on Monday in Paris at three.") == whole
    assert allowed_rewrite(source, source.replace("Ankara", "Paris")) is None  # nothing else to keep
    assert allowed_rewrite(source, "  ") is None


def test_clean_sentences_stay_as_they_are(lm, thesaurus):
    backend = _backend(lm, thesaurus, 0.3, 2)
    clean = [s for s in NEWS]
    assert backend.repair_sentences(clean) == clean


def test_the_model_directory_must_hold_the_table_its_settings_weight(tmp_path):
    import json
    import shutil

    from mtfix.model import DEFAULT_MODEL_DIR, ModelLoadError, ModelNotFoundError, load_model

    model = tmp_path / "model"
    shutil.copytree(DEFAULT_MODEL_DIR, model, ignore=shutil.ignore_patterns("ct2-*", PHRASE_TABLE_FILE))
    settings = json.loads((model / "mtfix.json").read_text())
    settings["channel_rates"]["postedit"] = 0.2
    settings.pop("files", None)
    (model / "mtfix.json").write_text(json.dumps(settings))
    with pytest.raises(ModelNotFoundError, match=PHRASE_TABLE_FILE):
        LatticeBackend.from_model(load_model(model, device="cpu"))
    # A table that is there but cut short (no manifest to catch it first) is one clear error too.
    (model / PHRASE_TABLE_FILE).write_bytes((DEFAULT_MODEL_DIR / PHRASE_TABLE_FILE).read_bytes()[:5000])
    with pytest.raises(ModelLoadError, match="cannot read the phrase table"):
        LatticeBackend.from_model(load_model(model, device="cpu"))


def test_names_and_numbers_of_garbled_text_survive_the_bundled_model():
    from collections import Counter

    from mtfix import Repairer
    from mtfix.evaluation.inputs import load_garbled
    from mtfix.guards import protected_tokens

    garbled = load_garbled().sources[:200]
    repaired = Repairer(device="cpu").repair_many(garbled)
    changed = 0
    for source, output in zip(garbled, repaired):
        # a restored possessive keeps the name: "Christie team" -> "Christie's team"
        kept = Counter(re.sub(r"['’]s$", "", token.text) for token in tokenize(output))
        assert not protected_tokens(source) - kept, (source, output)
        changed += source != output
    assert changed >= 50  # the table does repair this text (about 60% of these sentences change)


def test_the_bundled_model_repairs_garbled_text():
    from mtfix import Repairer

    repairer = Repairer(device="cpu")
    garbled = ("Turkish Foreign minister Mevlut Cavusoglu the Thursday said a cease-fire had not been fully ensured "
               "in Syrian northwestern Idlib province, in spite of an ad by Moscow.")
    repaired = repairer.repair(garbled)
    # Bundled table and weights of 2026-12-03: "... on Thursday said ... fully secured ..., despite an announcement
    # by Moscow." (the wire copy's own words); the test holds to the rewrites any table should make.
    assert "despite an" in repaired and "in spite of" not in repaired and "the Thursday" not in repaired
    assert "Mevlut Cavusoglu" in repaired and "Idlib" in repaired
    assert repairer.repair("Cavusoglu told a news conference on Thursday.") == "Cavusoglu told a news conference on Thursday."
    # The table learned "democrat" -> "democrats"; applied to the name "Democrat" the guards refused the sentence's
    # every repair. A validation round trip (en-eo) whose wire copy reads "Aides think Democrats should be grateful
    # that we are growing voter turnout and enforcement."
    garbled = "Assistant thinks Democrat should grateful that free beaten growing voter turnout and application."
    repaired = repairer.repair(garbled)
    assert repaired != garbled and " Democrat " in repaired and "should be grateful" in repaired


def test_dropping_the_rewrites_gives_the_candidates_made_without_the_table(thesaurus):
    """What the per-sentence gate relies on to search a sentence again without generating it again."""
    from mtfix.candidates import POSTEDIT

    table = PhraseTable({**dict(TABLE.items()), ("said",): [_option("told", -0.1)], ("gave",): [_option("held", -0.2)]})
    generator = CandidateGenerator(thesaurus, ChannelRates(postedit=0.3), phrase_table=table)
    for sentence in ("The minister gave a conference of news the Thursday, said reporters.",
                     "Officials said the Monday that the talks had failed."):
        tokens = tokenize(sentence)
        with_table = generator.columns(sentence, tokens)
        assert (with_table.kind == POSTEDIT).any()
        dropped = with_table.take(with_table.kind != POSTEDIT)
        without = generator.columns(sentence, tokens, postedit=False)
        for field in ("start", "end", "number", "channel", "kind"):
            assert np.array_equal(getattr(dropped, field), getattr(without, field)), field


@pytest.mark.timeout(600)
def test_workers_of_a_process_that_ran_a_translator_do_not_block_on_the_rewrite_pass():
    """CTranslate2 blocks when a forked child of a process that ran a translator starts its own; the rewrite
    pass starts one per worker, so such a process repairs in itself, with the same result."""
    pytest.importorskip("ctranslate2")
    from mtfix import Repairer
    from mtfix.evaluation.inputs import load_garbled
    from mtfix.fast import translator_started_here

    garbled = load_garbled().sources[:64]
    alone = Repairer(device="cpu", backend="ctranslate2", batch_size=16)
    expected = alone.repair_many(garbled)
    assert alone.backend.rewriter is not None and translator_started_here()
    assert Repairer(device="cpu", backend="ctranslate2", batch_size=16, workers=2).repair_many(garbled) == expected


def test_a_rewrite_that_spells_out_the_inputs_digits_keeps_them_as_written(lm, thesaurus):
    garbled = "The president a conference of news gave the Monday at 3."
    lattice_repair = _backend(lm, thesaurus, 0.3, 2).repair_sentences([garbled])[0]
    rewriter = _ScriptedRewriter({lattice_repair: "The president gave a news conference on Monday at three."})
    # the word order is repaired, "3" stays
    assert _rewriting_backend(lm, thesaurus, rewriter, 2, -1e6).repair_sentences([garbled]) == [
        "The president gave a news conference on Monday at 3."]

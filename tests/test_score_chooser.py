"""training.score_chooser: the scorers compared at the gold spans of hand-spun text (a tiny untrained masked LM)."""

import math

import pytest


@pytest.fixture(scope="module")
def tiny_mlm(tmp_path_factory):
    from training.train_mlm import MaskedLMArguments, get_model, get_tokenizer

    tokenizer = get_tokenizer("mtfix/models/default")
    model = get_model(MaskedLMArguments(hidden_size=16, layers=1, heads=2), tokenizer)
    out = tmp_path_factory.mktemp("mlm")
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def test_the_masked_lm_scores_a_stretch_with_both_sides_in_view(tiny_mlm):
    from training.score_chooser import MaskedLMScorer

    scorer = MaskedLMScorer(tiny_mlm, window=1)
    text = "Russia launched a military intervention in support of Assad."
    start = text.index("military")
    score = scorer.local_pll(text, start, start + len("military"))
    assert score < 0 and math.isfinite(score)
    # A wider window scores more pieces, each with a negative log-probability.
    assert MaskedLMScorer(tiny_mlm, window=4).local_pll(text, start, start + len("military")) < score
    assert scorer.local_pll(text, len(text) + 5, len(text) + 9) is None  # nothing there


def test_measure_compares_every_scorer_on_the_spans_whose_original_is_offered(tiny_mlm, tmp_path):
    from mtfix import Repairer
    from training.score_chooser import SCORERS, MaskedLMScorer, main, measure

    pairs = [("Russia released a navy intervention in help of Assad.",
              "Russia launched a military intervention in support of Assad."),
             ("The talks were calm.", "The talks were calm.")]
    decoder = Repairer(mode="lattice").backend.decoder
    report = measure(pairs, decoder, MaskedLMScorer(tiny_mlm), top=4)
    assert report.spans >= 2  # navy -> military and help -> support are thesaurus candidates
    assert all(0 <= report.first[name] <= report.spans for name in SCORERS)
    assert report.first["lattice"] >= 1  # the bundled repair restores "military" (test_default_model)
    assert "| lattice+mlm |" in report.markdown()

    ood = tmp_path / "ood"
    ood.mkdir()
    (ood / "spun.txt").write_text("\n".join(s for s, _ in pairs) + "\n")
    (ood / "ref.txt").write_text("\n".join(r for _, r in pairs) + "\n")
    assert main(["--mlm", str(tiny_mlm), "--ood-dir", str(ood), "--spans", "1", "--threads", "1"]).spans == 1

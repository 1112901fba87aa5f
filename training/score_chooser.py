"""How well each scorer picks the original at the gold spans of hand-spun text: the chooser of issue 16.

    python -m training.score_chooser --mlm runs/mlm/model [--spans 300]         # ../shared/data/ood_dev

The spun and original sentences are aligned as in ``training.candidate_coverage``; a gold span counts
where the lattice's candidates (the bundled model's, detector floor included) hold its original over
exactly that span. At each such span the candidates of that span (the ``--top`` best by the lattice's
full score, plus the original) are ranked by:

- ``lattice``: the full path score with only this span changed (LM, channel, context, detector, choice);
- ``lm``: the 4-gram LM's score of the whole sentence with this span changed;
- ``mlm``: the masked LM's pseudo-log-likelihood of the span's pieces and ``--window`` pieces either side
  (each masked in turn, the rest of the sentence in view), minus the same for the observed words;
- ``lattice+mlm``: the sum of the two.

Reported per scorer: how often the original ranks first among the span's candidates, and how often it
beats keeping the observed words (the decoder changes a span only when a candidate does). ood_dev is
development data: measure on it, never train on it.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mtfix.lattice import LatticeDecoder, keep_candidates
from mtfix.text import tokenize
from training.candidate_coverage import changed_spans, read_ood_dev
from training.corpus import DEFAULT_DATA_DIR

SCORERS = ("lattice", "lm", "mlm", "lattice+mlm")


@dataclass
class ChooserReport:
    spans: int = 0
    first: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SCORERS, 0))
    beats_keep: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SCORERS, 0))

    def markdown(self) -> str:
        lines = [f"{self.spans} gold spans whose original is a candidate", "",
                 "| scorer | original ranked first | original beats keeping |", "|---|---:|---:|"]
        for name in SCORERS:
            lines.append(f"| {name} | {self.first[name] / max(self.spans, 1):.3f} | "
                         f"{self.beats_keep[name] / max(self.spans, 1):.3f} |")
        return "\n".join(lines)


class MaskedLMScorer:
    """Pseudo-log-likelihood of a stretch of a sentence under a masked LM (``training.train_mlm``)."""

    def __init__(self, model_dir: str | Path, window: int = 3):
        import torch
        from transformers import AutoTokenizer, BertForMaskedLM

        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        self.model = BertForMaskedLM.from_pretrained(model_dir, dtype=torch.float32).eval()
        self.window = window

    def local_pll(self, text: str, start: int, end: int) -> float | None:
        """Sum of ln P(piece | the rest) over the pieces overlapping characters ``start:end`` and ``window``
        pieces either side, each masked in turn; None when no piece overlaps (the span was cut off)."""
        torch = self.torch
        encoded = self.tokenizer(text, return_offsets_mapping=True, truncation=True,
                                 max_length=self.model.config.max_position_embeddings)
        ids, offsets = encoded["input_ids"], encoded["offset_mapping"]
        inside = [i for i, (a, b) in enumerate(offsets) if b > a and a < end and b > start]
        if not inside:
            return None
        last_real = max(i for i, (a, b) in enumerate(offsets) if b > a)
        positions = list(range(max(0, inside[0] - self.window), min(last_real, inside[-1] + self.window) + 1))
        batch = torch.tensor([ids] * len(positions))
        rows = torch.arange(len(positions))
        batch[rows, positions] = self.tokenizer.mask_token_id
        with torch.no_grad():
            logits = self.model(input_ids=batch).logits[rows, positions]
        log_probs = torch.log_softmax(logits.float(), dim=-1)
        return float(log_probs[rows, torch.tensor([ids[p] for p in positions])].sum())


def measure(pairs: list[tuple[str, str]], decoder: LatticeDecoder, mlm: MaskedLMScorer, top: int = 8,
            max_spans: int | None = None) -> ChooserReport:
    report = ChooserReport()
    for spun, reference in pairs:
        tokens = tokenize(spun)
        spans, _ = changed_spans(tokens, tokenize(reference), 4)
        if not spans:
            continue
        candidates = decoder.candidates(spun)[1]
        keep = keep_candidates(tokens, 0, len(tokens))
        keep_lattice, keep_lm = decoder.scores_of([keep])[0], float(decoder.path_lm_scores([keep])[0])
        for span in spans:
            here = [c for c in candidates if (c.start, c.end) == (span.start, span.end) and not c.is_keep]
            gold = [i for i, c in enumerate(here) if tuple(w.lower() for w in c.words) == span.original]
            if not gold:
                continue
            lattice = np.array(decoder.replacement_scores(keep, [(span.start, span.end, [c]) for c in here])) - keep_lattice
            ranked = [int(i) for i in np.argsort(-lattice, kind="stable")[:top]]
            ranked += [gold[0]] if gold[0] not in ranked else []
            begin, stop = tokens[span.start].start, tokens[span.end - 1].end
            observed = mlm.local_pll(spun, begin, stop)
            if observed is None:
                continue
            lm = decoder.path_lm_scores([keep[:span.start] + [here[i]] + keep[span.end:] for i in ranked]) - keep_lm
            masked = []
            for i in ranked:
                words = " ".join(here[i].words)
                masked.append(mlm.local_pll(spun[:begin] + words + spun[stop:], begin, begin + len(words)) - observed)
            scores = {"lattice": lattice[ranked], "lm": np.asarray(lm), "mlm": np.array(masked)}
            scores["lattice+mlm"] = scores["lattice"] + scores["mlm"]
            at = ranked.index(gold[0])
            report.spans += 1
            for name, values in scores.items():
                report.first[name] += int(np.argmax(values) == at)
                report.beats_keep[name] += int(values[at] > 0)
            if max_spans and report.spans >= max_spans:
                return report
    return report


def main(argv: list[str] | None = None) -> ChooserReport:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mlm", type=Path, default=Path("runs/mlm/model"), help="a masked LM of training.train_mlm")
    parser.add_argument("--model", default=None, help="mtfix model directory (default: the bundled one)")
    parser.add_argument("--ood-dir", type=Path, default=DEFAULT_DATA_DIR / "ood_dev")
    parser.add_argument("--spans", type=int, default=300, help="stop after this many gold spans (0: all)")
    parser.add_argument("--top", type=int, default=8, help="candidates per span, best by the lattice's score")
    parser.add_argument("--window", type=int, default=3, help="pieces either side scored by the masked LM")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    import torch

    from mtfix import Repairer

    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    decoder = Repairer(args.model, mode="lattice").backend.decoder
    report = measure(read_ood_dev(args.ood_dir), decoder, MaskedLMScorer(args.mlm, args.window), args.top,
                     args.spans or None)
    print(report.markdown())
    print(f"\n({time.perf_counter() - started:.0f} s; masked LM {args.mlm})")
    return report


if __name__ == "__main__":
    main()

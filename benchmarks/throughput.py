"""Repair throughput of the torch and CTranslate2 backends, and their quality on the test split.

    python benchmarks/throughput.py [--model DIR] [--sentences N] [--quick]

For each backend (torch, ctranslate2), mode (lattice, the default path, when the model has an LM;
free generation) and batch size (1, 16, 64), one fresh subprocess loads the model, repairs a first
sentence (timed from the start of the process, imports included: the first-call latency), then
repairs the benchmark sentences twice: "new text" is the first pass, where every word is new to the
process (the lattice computes and caches each word type's candidate originals, its LM ids and
vectors once), "again" the second, with those caches warm, which a long job approaches as its
vocabulary repeats. It reports its peak resident memory (``ru_maxrss``, the peak over the whole run).
Another subprocess times plain ``model.generate`` of the torch model one sentence at a time, greedy:
the baseline of the "x generate" column (tokens/s of the new-text pass over the baseline's tokens/s,
as the batch-size-1 rows and the baseline run on fewer sentences than the batched rows). The big-file
rows (lattice only) repair ``--long-sentences`` in one call, as ``mtfix repair`` does a file, in one
process and in N forked workers; workers end with the call, caches and all, so they have no "again".

Inputs: the sentences of ``seeds/idlib_ceasefire_spun.txt`` and, when built, of the test split in
``work_data/pairs`` (field ``source``), deduplicated, shuffled with a fixed seed and capped at
``--sentences``; batch size 1 and the baseline run on the first ``--sentences-bs1`` of them, as they are
slow. tokens/s counts the model tokenizer's tokens of the input sentences.

Quality: corpus BLEU (sacrebleu) of each backend's repairs against the targets of up to 500 test pairs
(the seed article against its reference when the split is absent), with the unrepaired input's BLEU
and the share of outputs on which the backends agree.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SEED_SPUN = REPO / "seeds" / "idlib_ceasefire_spun.txt"
PAIRS_DIR = REPO / "work_data" / "pairs"
BACKENDS = ("torch", "ctranslate2")


# -- inputs ---------------------------------------------------------------------------------------


def benchmark_sentences(limit: int, seed: int = 0) -> list[str]:
    """Distinct repairable sentences of the seed article and the test split, shuffled, at most ``limit``."""
    from mtfix.guards import is_repairable
    from mtfix.segment import split_sentences

    texts = [SEED_SPUN.read_text(encoding="utf-8")]
    if PAIRS_DIR.is_dir():
        import datasets

        texts.extend(datasets.load_from_disk(str(PAIRS_DIR))["test"]["source"])
    sentences = list(dict.fromkeys(s.strip() for text in texts for s in split_sentences(text)))
    sentences = [s for s in sentences if is_repairable(s)]
    random.Random(seed).shuffle(sentences)
    return sentences[:limit]


def quality_set(limit: int) -> tuple[str, list[str], list[str]]:
    """(name, sources, references): up to ``limit`` test pairs, or the seed article's lines."""
    from mtfix.evaluation.inputs import load_seed, load_synthetic

    eval_set = load_synthetic(PAIRS_DIR) if PAIRS_DIR.is_dir() else load_seed()
    lines = eval_set.scored_lines[:limit]
    return (f"{eval_set.name} ({len(lines)} segments)", [eval_set.sources[i] for i in lines],
            [eval_set.references[0][i] for i in lines])


# -- workers (each runs in a fresh subprocess) ----------------------------------------------------


def _peak_rss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def worker_repair(job: dict) -> dict:
    """Load, first repair (timed from the subprocess's launch), then the sentences at each batch size,
    twice unless ``job["again"]`` is false; and the quality outputs."""
    from mtfix import Repairer

    repairer = Repairer(job["model"], device="cpu", backend=job["backend"], mode=job["mode"],
                        min_confidence=job["min_confidence"], workers=job.get("workers", 1))
    load_s = time.time() - job["launched"]
    repairer.repair(job["first"])
    result: dict = {"load_s": load_s, "first_call_s": time.time() - job["launched"], "runs": []}
    for batch_size in job["batch_sizes"]:
        sentences = job["sentences_bs1"] if batch_size == 1 else job["sentences"]
        repairer.batch_size = batch_size
        run = {"batch_size": batch_size, "sentences": len(sentences)}
        for name in ("seconds", "again_seconds") if job.get("again", True) else ("seconds",):
            begin = time.perf_counter()
            repairer.repair_many(sentences)
            run[name] = time.perf_counter() - begin
        result["runs"].append(run)
    repairer.batch_size = max(job["batch_sizes"])
    result["outputs"] = repairer.repair_many(job["quality_sources"])
    result["peak_rss_mib"] = _peak_rss_mib()
    return result


def worker_generate(job: dict) -> dict:
    """Plain ``model.generate`` of the torch model, greedy, one sentence at a time."""
    import torch

    from mtfix.model import load_model

    loaded = load_model(job["model"], device="cpu")
    tokenizer, model = loaded.tokenizer, loaded.model
    first_call_s = None
    begin = time.perf_counter()
    with torch.inference_mode():
        for sentence in [job["first"]] + job["sentences_bs1"]:
            batch = tokenizer([sentence], return_tensors="pt", truncation=True, max_length=loaded.max_source_length)
            output = model.generate(**batch, num_beams=1, do_sample=False,
                                    max_new_tokens=int(batch["input_ids"].shape[1] * 1.5) + 8)
            tokenizer.decode(output[0], skip_special_tokens=True)
            if first_call_s is None:
                first_call_s = time.time() - job["launched"]
                begin = time.perf_counter()
    seconds = time.perf_counter() - begin
    return {"first_call_s": first_call_s, "peak_rss_mib": _peak_rss_mib(),
            "runs": [{"batch_size": 1, "sentences": len(job["sentences_bs1"]), "seconds": seconds}]}


def run_worker(kind: str, job: dict) -> dict:
    """Run a worker in a fresh interpreter; its last stdout line is the JSON result."""
    job = {**job, "launched": time.time()}
    env = dict(os.environ, PYTHONPATH=str(REPO), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               TOKENIZERS_PARALLELISM="false")
    process = subprocess.run([sys.executable, __file__, "--worker", kind], input=json.dumps(job),
                             capture_output=True, text=True, env=env, cwd=REPO)
    if process.returncode != 0:
        raise RuntimeError(f"the {kind} worker failed:\n{process.stderr[-3000:]}")
    return json.loads(process.stdout.strip().splitlines()[-1])


# -- report ---------------------------------------------------------------------------------------


def machine_line() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{cpu}, {os.cpu_count()} CPUs, load average {load}"


def bleu(outputs: list[str], references: list[str]) -> float:
    import sacrebleu

    return sacrebleu.corpus_bleu(outputs, [references]).score


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", metavar="DIR", help="model directory (default: the bundled model)")
    parser.add_argument("--sentences", type=int, default=1024, metavar="N", help="sentences per batched run")
    parser.add_argument("--sentences-bs1", type=int, default=48, metavar="N",
                        help="sentences for batch size 1 and the plain-generate baseline")
    parser.add_argument("--long-sentences", type=int, default=8192, metavar="N",
                        help="sentences of the big-file rows (one process and forked workers, one call)")
    parser.add_argument("--quality-pairs", type=int, default=500, metavar="N")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--modes", nargs="+", choices=["lattice", "free"], default=None,
                        help="default: lattice (when the model has an LM) and free")
    parser.add_argument("--min-confidence", type=float, default=0.5)
    parser.add_argument("--workers", type=int, nargs="*", default=[2], metavar="N",
                        help="the big-file rows: --long-sentences in one call (as mtfix repair does a file) at the "
                             "largest batch size, in one process and with N forked workers; --workers alone: no such rows")
    parser.add_argument("--quick", action="store_true", help="a small run: 32 sentences, 8 at batch size 1, 32 quality pairs")
    parser.add_argument("--worker", choices=["repair", "generate"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        job = json.loads(sys.stdin.read())
        result = worker_repair(job) if args.worker == "repair" else worker_generate(job)
        print(json.dumps(result))
        return
    if args.quick:
        args.sentences, args.sentences_bs1, args.quality_pairs, args.long_sentences = 32, 8, 32, 128

    from mtfix.constrained import has_lattice
    from mtfix.fast import convert, converted_dir, load_tokenizer
    from mtfix.lattice import LatticeWeights
    from mtfix.model import DEFAULT_MODEL_DIR, check_model_dir, read_settings

    model_dir = check_model_dir(args.model or DEFAULT_MODEL_DIR)
    modes = args.modes or (["lattice", "free"] if has_lattice(model_dir) else ["free"])
    print(f"model: {model_dir}")
    print(f"machine: {machine_line()}")
    if "lattice" in modes:
        weight = LatticeWeights.from_settings(read_settings(model_dir)).seq2seq
        note = "" if weight > 0 else " (0: the seq2seq is not used in lattice mode, so the backends cannot differ there)"
        print(f"lattice seq2seq weight: {weight}{note}")
    if converted_dir(model_dir) is None:
        begin = time.perf_counter()
        convert(model_dir)
        print(f"converted to CTranslate2 int8 in {time.perf_counter() - begin:.1f} s (once; cached)")

    sentences = benchmark_sentences(args.sentences)
    sentences_bs1 = sentences[:args.sentences_bs1]
    tokenizer = load_tokenizer(model_dir)
    token_counts = {s: len(ids) for s, ids in zip(sentences, tokenizer(sentences, add_special_tokens=False)["input_ids"])}
    quality_name, quality_sources, references = quality_set(args.quality_pairs)
    first = "The minister stated the talks had failed."
    print(f"sentences: {len(sentences)} (batch size 1: {len(sentences_bs1)}), "
          f"{sum(token_counts.values()) / len(sentences):.1f} tokens each on average")

    job = {"model": str(model_dir), "first": first, "sentences": sentences, "sentences_bs1": sentences_bs1,
           "batch_sizes": args.batch_sizes, "quality_sources": quality_sources, "min_confidence": args.min_confidence}
    baseline = run_worker("generate", job)
    base_run = baseline["runs"][0]
    base_rate = base_run["sentences"] / base_run["seconds"]

    header = ("| backend | mode | batch | sentences/s, new text | sentences/s, again | tokens/s, new text | x generate "
              "| first call (s) | peak RSS (MiB) |")
    rows = [header, "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    tokens_bs1 = sum(token_counts[s] for s in sentences_bs1)
    base_tokens_rate = tokens_bs1 / base_run["seconds"]
    rows.append(f"| torch | plain generate, one at a time | 1 | {base_rate:.1f} | - | {base_tokens_rate:.0f} "
                f"| 1.0 | {baseline['first_call_s']:.2f} | {baseline['peak_rss_mib']:.0f} |")

    def row(backend: str, mode: str, result: dict, inputs: list[str], rss_note: str = "") -> str:
        run = result["runs"][0]
        tokens_rate = sum(token_counts[s] for s in inputs) / run["seconds"]
        again = f"{run['sentences'] / run['again_seconds']:.1f}" if "again_seconds" in run else "-"
        return (f"| {backend} | {mode} | {run['batch_size']} | {run['sentences'] / run['seconds']:.1f} | {again} "
                f"| {tokens_rate:.0f} | {tokens_rate / base_tokens_rate:.1f} | {result['first_call_s']:.2f} "
                f"| {result['peak_rss_mib']:.0f}{rss_note} |")

    outputs: dict[tuple[str, str], list[str]] = {}
    largest = max(args.batch_sizes)
    for mode in modes:
        for backend in BACKENDS:
            for batch_size in args.batch_sizes:  # a fresh process each: every first pass meets new words
                result = run_worker("repair", {**job, "backend": backend, "mode": mode, "batch_sizes": [batch_size],
                                               "quality_sources": quality_sources if batch_size == largest else []})
                if batch_size == largest:
                    outputs[(backend, mode)] = result["outputs"]
                rows.append(row(backend, mode, result, sentences_bs1 if batch_size == 1 else sentences))
                print(f"  {backend} {mode} batch {batch_size}: load {result['load_s']:.2f} s", file=sys.stderr)
    if "lattice" in modes and LatticeWeights.from_settings(read_settings(model_dir)).seq2seq == 0 and args.workers:
        # A big file in one call, in one process and in forked workers, which share the loaded lattice
        # (with a seq2seq rescorer the Repairer does not fork).
        long_input = benchmark_sentences(args.long_sentences)
        token_counts.update(zip(long_input, (len(ids) for ids in tokenizer(long_input, add_special_tokens=False)["input_ids"])))
        for workers in [1] + [w for w in args.workers if w > 1]:
            result = run_worker("repair", {**job, "sentences": long_input, "backend": "auto", "mode": "lattice",
                                           "workers": workers, "batch_sizes": [largest], "quality_sources": [], "again": False})
            rows.append(row("auto", f"lattice, {workers} worker{'s' if workers > 1 else ''}, {len(long_input):,} sentences",
                            result, long_input, " (parent)" if workers > 1 else ""))
    print()
    print("\n".join(rows))
    print()
    print(f"quality: corpus BLEU against the references of {quality_name}; unrepaired input: "
          f"{bleu(quality_sources, references):.2f}")
    print("| mode | torch | ctranslate2 | difference | identical outputs |")
    print("|---|---:|---:|---:|---:|")
    for mode in modes:
        torch_out, ct2_out = outputs[("torch", mode)], outputs[("ctranslate2", mode)]
        torch_bleu, ct2_bleu = bleu(torch_out, references), bleu(ct2_out, references)
        same = sum(a == b for a, b in zip(torch_out, ct2_out))
        print(f"| {mode} | {torch_bleu:.2f} | {ct2_bleu:.2f} | {ct2_bleu - torch_bleu:+.2f} | {same}/{len(torch_out)} |")
    print(f"\nmachine at the end: {machine_line()}")


if __name__ == "__main__":
    main()

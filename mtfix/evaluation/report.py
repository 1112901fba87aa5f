"""The eval report: build it once, render it as Markdown, as one self-contained HTML page, or as JSON.

:func:`build_report` scores a system's output (given, or produced by a repair function it times)
against the references, next to the identity baseline (the spun source scored as is):

* BLEU, chrF++ and TER from sacrebleu, with signatures, and system minus identity with a 95% interval
  from sacrebleu's paired bootstrap (:mod:`mtfix.evaluation.significance`);
* edit precision / recall / F0.5, preservation of numbers and names, and over-correction when a
  repair function is given (the clean references are repaired and every change counts against it);
* per-sentence chrF++ of both, the sentences that gained and lost most, with word diffs;
* throughput (when the repair ran here) and the machine.
"""

from __future__ import annotations

import dataclasses
import html
import json
import os
import platform
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from string import Template
from typing import Literal

import sacrebleu

import mtfix
from mtfix.diff import word_edits
from mtfix.evaluation.inputs import EvalSet, check_hypotheses
from mtfix.evaluation.metrics import BLEU, TER, ChrF, EditF05, MetricResult, OverCorrection, Preservation
from mtfix.evaluation.significance import Comparison, compare_to_identity, segment_statistics

RepairFunction = Callable[[list[str]], list[str]]
DiffOperation = Literal["equal", "delete", "insert"]

SENTENCE_METRIC = "chrF++"


@dataclass(frozen=True)
class DiffPiece:
    operation: DiffOperation
    text: str


def word_diff(before: str, after: str) -> list[DiffPiece]:
    """``before`` -> ``after`` as equal/delete/insert pieces, from mtfix's own word diff.

    Joining the ``equal`` and ``delete`` pieces gives ``before``; ``equal`` and ``insert`` give ``after``.
    """
    pieces = []
    position = 0
    for edit in word_edits(before, after):
        pieces.append(DiffPiece("equal", before[position:edit.start]))
        pieces.append(DiffPiece("delete", edit.before))
        pieces.append(DiffPiece("insert", edit.after))
        position = edit.end
    pieces.append(DiffPiece("equal", before[position:]))
    return [piece for piece in pieces if piece.text]


def _highlight(piece: DiffPiece, marks: dict[DiffOperation, str], escape: Callable[[str], str]) -> str:
    """The piece as ``marks[operation]`` around its text, white space at either end left outside."""
    match = re.fullmatch(r"(\s*)(.*?)(\s*)", piece.text, re.DOTALL)
    assert match is not None
    before, core, after = match.groups()
    if not core:
        return escape(piece.text)
    return escape(before) + marks[piece.operation].format(escape(core)) + escape(after)


@dataclass(frozen=True)
class SentenceScore:
    """Sentence-level chrF++ of the identity baseline and of the system on one line (1-based)."""

    line: int
    identity: float
    system: float

    @property
    def change(self) -> float:
        return self.system - self.identity


@dataclass(frozen=True)
class SentenceChange:
    """A sentence shown in the report: what the system did to it and what it should have been."""

    line: int
    identity: float
    system: float
    change: float
    source: str
    output: str
    references: list[str]
    diff: list[DiffPiece]


@dataclass(frozen=True)
class Throughput:
    sentences: int
    seconds: float
    sentences_per_second: float


@dataclass(frozen=True)
class Machine:
    platform: str
    python: str
    cpu: str
    cpu_count: int | None
    torch_threads: int | None


@dataclass(frozen=True)
class Report:
    test_set: str
    source: str
    references: list[str]
    system: str
    lines: int
    segments: int
    # How many documents the lines were repaired as (their lines as one text each); None: each line alone, or
    # the hypotheses were given (not repaired here).
    documents: int | None
    corpus: list[Comparison]
    edits: MetricResult
    preservation: MetricResult
    reference_preservation: MetricResult
    overcorrection: MetricResult | None
    sentence_metric: str
    sentences: list[SentenceScore]
    improved: list[SentenceChange]
    damaged: list[SentenceChange]
    throughput: Throughput | None
    machine: Machine
    versions: dict[str, str]
    created: str


def machine_info() -> Machine:
    """Where the eval ran. Torch threads are reported only when torch is loaded (a model ran)."""
    cpu = platform.processor()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        match = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(errors="replace"), re.MULTILINE)
        if match:
            cpu = match.group(1).strip()
    torch = sys.modules.get("torch")
    return Machine(
        platform=platform.platform(),
        python=platform.python_version(),
        cpu=cpu or platform.machine(),
        cpu_count=os.cpu_count(),
        torch_threads=torch.get_num_threads() if torch is not None else None,
    )


def run_repair(repair: RepairFunction, lines: Sequence[str],
               documents: Sequence[int] | None = None) -> tuple[list[str], Throughput]:
    """Repair the non-blank ``lines`` (blank ones stay blank), each on its own or, with ``documents`` (the
    document of each line), the lines of a document as the paragraphs of one text, joined by blank lines as
    in a file; all in one call to ``repair``, and timed."""
    positions = [index for index, line in enumerate(lines) if line.strip()]
    groups: dict[int, list[int]] = {}
    for index in positions:
        groups.setdefault(index if documents is None else documents[index], []).append(index)
    started = time.perf_counter()
    repaired = repair(["\n\n".join(lines[index] for index in group) for group in groups.values()])
    seconds = time.perf_counter() - started
    if len(repaired) != len(groups):
        raise RuntimeError(f"the repairer returned {len(repaired)} texts for {len(groups)} inputs")
    output = ["" for _ in lines]
    for group, text in zip(groups.values(), repaired):
        paragraphs = text.split("\n\n")  # a repair never adds or removes a line break
        if len(paragraphs) != len(group):
            raise RuntimeError(f"a repaired document has {len(paragraphs)} paragraphs, not {len(group)}")
        for index, paragraph in zip(group, paragraphs):
            output[index] = " ".join(paragraph.split("\n"))
    throughput = Throughput(len(positions), seconds, len(positions) / seconds if seconds > 0 else float("inf"))
    return output, throughput


def build_report(
    eval_set: EvalSet,
    hypotheses: Sequence[str] | None = None,
    repair: RepairFunction | None = None,
    system_label: str = "",
    top: int = 5,
    bootstrap_samples: int = 1000,
) -> Report:
    """Score ``hypotheses`` (one a line of ``eval_set``), or the output of ``repair`` on the sources.

    With ``repair``, over-correction is measured too (the first reference stream is repaired), and
    when ``hypotheses`` is None the repair of the sources is timed for the throughput.
    """
    if hypotheses is None and repair is None:
        raise ValueError("give hypotheses, a repair function, or both")
    throughput = None
    if hypotheses is None:
        assert repair is not None
        hypotheses, throughput = run_repair(repair, eval_set.sources, eval_set.documents)
    check_hypotheses(eval_set, hypotheses, system_label or "the hypotheses")

    scored = eval_set.scored_lines
    sources = [eval_set.sources[index] for index in scored]
    outputs = [hypotheses[index] for index in scored]
    references = [[stream[index] for index in scored] for stream in eval_set.references]

    corpus = []
    sentence_scores: tuple[list[float], list[float]] = ([], [])
    for metric in (BLEU(), ChrF(), TER()):
        identity_stats = segment_statistics(metric, sources, references)
        system_stats = segment_statistics(metric, outputs, references)
        corpus.append(compare_to_identity(metric, identity_stats, system_stats, bootstrap_samples))
        if isinstance(metric, ChrF):
            # A sentence's chrF++ is the score of its own statistics (what sacrebleu's sentence_score does).
            sentence_scores = (
                [metric.sacrebleu_metric._compute_score_from_stats(row).score for row in identity_stats],
                [metric.sacrebleu_metric._compute_score_from_stats(row).score for row in system_stats],
            )
    sentences = [
        SentenceScore(line=index + 1, identity=identity, system=system)
        for index, identity, system in zip(scored, *sentence_scores)
    ]

    overcorrection = None
    if repair is not None:
        documents = None if eval_set.documents is None else [eval_set.documents[index] for index in scored]
        repaired_references, _ = run_repair(repair, references[0], documents)
        overcorrection = OverCorrection().compute(references[0], repaired_references, references)

    def shown(score: SentenceScore) -> SentenceChange:
        index = score.line - 1
        return SentenceChange(
            line=score.line,
            identity=score.identity,
            system=score.system,
            change=score.change,
            source=eval_set.sources[index],
            output=hypotheses[index],
            references=[stream[index] for stream in eval_set.references],
            diff=word_diff(eval_set.sources[index], hypotheses[index]),
        )

    by_change = sorted(sentences, key=lambda score: (-score.change, score.line))
    improved = [shown(score) for score in by_change if score.change > 0][:top]
    damaged = [shown(score) for score in reversed(by_change) if score.change < 0][:top]

    return Report(
        test_set=eval_set.name,
        source=eval_set.source_label,
        references=list(eval_set.reference_labels),
        system=system_label,
        lines=len(eval_set.sources),
        segments=len(scored),
        documents=(None if repair is None or eval_set.documents is None
                   else len({eval_set.documents[index] for index in scored})),
        corpus=corpus,
        edits=EditF05().compute(sources, outputs, references),
        preservation=Preservation().compute(sources, outputs, references),
        reference_preservation=Preservation().compute(sources, references[0], references),
        overcorrection=overcorrection,
        sentence_metric=SENTENCE_METRIC,
        sentences=sentences,
        improved=improved,
        damaged=damaged,
        throughput=throughput,
        machine=machine_info(),
        versions={"mtfix": mtfix.__version__, "sacrebleu": sacrebleu.__version__, "python": platform.python_version()},
        created=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    )


# ----------------------------------------------------------------------------------------------
# Shared wording


def _signed(value: float) -> str:
    return f"{value:+.1f}"


def _interval(comparison: Comparison) -> str:
    return f"{_signed(comparison.difference)} [{_signed(comparison.ci_low)}, {_signed(comparison.ci_high)}]"


def _verdict(comparison: Comparison) -> str:
    if comparison.improved:
        return "better"
    if comparison.worsened:
        return "worse"
    return "no clear difference"


def _edit_summary(result: MetricResult) -> str:
    d = result.details
    return (
        f"precision {d['precision']:.1f}, recall {d['recall']:.1f}, F0.5 {d['f0.5']:.1f} "
        f"({d['true_positives']} correct, {d['false_positives']} wrong or partial, "
        f"{d['false_negatives']} missed)"
    )


def _preservation_summary(result: MetricResult) -> str:
    d = result.details
    return (
        f"{result.score:.1f}% kept: numbers {d['numbers_kept']}/{d['numbers']}, "
        f"names {d['names_kept']}/{d['names']}"
    )


def _overcorrection_summary(result: MetricResult | None) -> str:
    if result is None:
        return "not measured (needs a model: --model)"
    d = result.details
    return (
        f"{result.score:.2f}% of words changed when the reference is the input "
        f"({d['changed_words']} of {d['words']} words; {d['changed_segments']} of {d['segments']} lines touched)"
    )


def _unit_summary(report: Report) -> str:
    if report.documents is None:
        repaired_here = report.throughput is not None or report.overcorrection is not None
        return "each line on its own" if repaired_here else "not here: the hypotheses were given"
    return f"as {report.documents:,} document(s): the lines of each as the paragraphs of one text"


def _throughput_summary(report: Report) -> str:
    if report.throughput is None:
        return "not measured (hypotheses were given)"
    t = report.throughput
    return f"{t.sentences_per_second:.2f} sentences/s ({t.sentences} sentences in {t.seconds:.2f} s)"


def _machine_summary(machine: Machine) -> str:
    threads = "torch not loaded" if machine.torch_threads is None else f"{machine.torch_threads} torch threads"
    return f"{machine.cpu}, {machine.cpu_count} CPUs, {threads}; {machine.platform}; Python {machine.python}"


# ----------------------------------------------------------------------------------------------
# JSON


def render_json(report: Report) -> str:
    """All of the report as JSON (diffs as lists of ``operation``/``text`` pieces)."""
    data = dataclasses.asdict(report)
    for comparison, row in zip(report.corpus, data["corpus"]):
        row["verdict"] = _verdict(comparison)
    for score, row in zip(report.sentences, data["sentences"]):
        row["change"] = score.change
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


# ----------------------------------------------------------------------------------------------
# Markdown

_MARKDOWN_SPECIAL_RE = re.compile(r"([\\`*_~\[\]|<>#])")


def _md(text: str) -> str:
    return _MARKDOWN_SPECIAL_RE.sub(r"\\\1", text)


def _md_diff(pieces: list[DiffPiece]) -> str:
    marks: dict[DiffOperation, str] = {"equal": "{}", "delete": "~~{}~~", "insert": "**{}**"}
    text = ""
    for previous, piece in zip([None, *pieces], pieces):
        # "~~old~~ **new**" reads better in plain text than "~~old~~**new**".
        separator = " " if previous and previous.operation == "delete" and piece.operation == "insert" else ""
        text += separator + _highlight(piece, marks, _md)
    return text


def _md_sentences(title: str, changes: list[SentenceChange]) -> list[str]:
    lines = [f"## {title}", ""]
    if not changes:
        return lines + ["None.", ""]
    for change in changes:
        lines.append(
            f"- **line {change.line}**, {SENTENCE_METRIC} {change.identity:.1f} → {change.system:.1f} "
            f"({_signed(change.change)})"
        )
        lines.append(f"  - change: {_md_diff(change.diff)}")
        for reference in change.references:
            lines.append(f"  - reference: {_md(reference)}")
    return lines + [""]


def render_markdown(report: Report) -> str:
    lines = [
        "# mtfix evaluation report",
        "",
        f"- test set: {_md(report.test_set)} ({report.segments} segments scored of {report.lines} lines; "
        "blank lines skipped)",
        f"- source: `{report.source}`",
        *[f"- reference: `{reference}`" for reference in report.references],
        f"- system: `{report.system}`",
        "",
        "## Corpus scores",
        "",
        "Identity = the spun source scored as is. Difference = system − identity, with a 95% interval "
        "from sacrebleu's paired bootstrap.",
        "",
        "| metric | identity | system | difference [95% CI] | p | verdict |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for c in report.corpus:
        arrow = "↑" if c.higher_is_better else "↓"
        lines.append(
            f"| {c.name} {arrow} | {c.identity:.1f} | {c.system:.1f} | {_interval(c)} | {c.p_value:.3f} "
            f"| {_verdict(c)} |"
        )
    lines += ["", "Signatures:", ""]
    lines += [f"- {c.name}: `{c.signature}` ({c.bootstrap})" for c in report.corpus]
    lines += [
        "",
        "## Edits, over-correction, preservation",
        "",
        f"- edits (source → output against source → reference): {_edit_summary(report.edits)}",
        f"- over-correction: {_overcorrection_summary(report.overcorrection)}",
        f"- preservation of numbers and names: {_preservation_summary(report.preservation)} "
        f"(the reference itself: {report.reference_preservation.score:.1f}%)",
        "",
    ]
    lines += _md_sentences("Most improved sentences", report.improved)
    lines += _md_sentences("Most damaged sentences", report.damaged)
    lines += [
        "## Run",
        "",
        f"- repaired: {_unit_summary(report)}",
        f"- throughput: {_throughput_summary(report)}",
        f"- machine: {_md(_machine_summary(report.machine))}",
        f"- versions: {', '.join(f'{name} {version}' for name, version in report.versions.items())}; {report.created}",
        "",
    ]
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# HTML

_PLOT_SORT_ABOVE = 600


def _nice_limit(value: float) -> float:
    for limit in (1, 2, 5, 10, 20, 25, 50, 100):
        if value <= limit:
            return float(limit)
    return float(value)


def _tick_label(value: float) -> str:
    return "0" if value == 0 else f"{value:+g}"


def render_plot(sentences: list[SentenceScore], width: int = 1000, height: int = 280) -> str:
    """An inline SVG bar chart of the per-sentence score change, in line order (sorted when large)."""
    left, right, top, bottom = 56, 12, 16, 44
    plot_width = width - left - right
    plot_height = height - top - bottom
    ordered = len(sentences) <= _PLOT_SORT_ABOVE
    bars = sentences if ordered else sorted(sentences, key=lambda score: score.change, reverse=True)
    limit = _nice_limit(max([abs(score.change) for score in bars] + [1.0]))

    def y(value: float) -> float:
        return top + plot_height / 2 - value / limit * plot_height / 2

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label="per-sentence {SENTENCE_METRIC} change">'
    ]
    for tick in (-limit, -limit / 2, 0.0, limit / 2, limit):
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'class="{"zero" if tick == 0 else "grid"}"/>'
            f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" class="tick" text-anchor="end">{_tick_label(tick)}</text>'
        )
    step = plot_width / len(bars)
    bar_width = max(step * 0.8 if ordered else step, 0.5)  # sorted bars join into an area
    label_every = max(1, round(len(bars) / 20))
    for position, score in enumerate(bars):
        x = left + position * step + (step - bar_width) / 2
        top_y, bottom_y = sorted((y(score.change), y(0.0)))
        kind = "up" if score.change > 0 else "down" if score.change < 0 else "same"
        bar_height = max(bottom_y - top_y, 1.0)
        title = ""
        if ordered:
            title = (
                f"<title>line {score.line}: {score.identity:.1f} → {score.system:.1f} "
                f"({_signed(score.change)})</title>"
            )
        parts.append(
            f'<rect x="{x:.2f}" y="{top_y:.1f}" width="{bar_width:.2f}" height="{bar_height:.1f}" '
            f'class="{kind}">{title}</rect>'
        )
        if ordered and position % label_every == 0:
            parts.append(
                f'<text x="{x + bar_width / 2:.1f}" y="{height - bottom + 16}" class="tick" '
                f'text-anchor="middle">{score.line}</text>'
            )
    x_title = "line" if ordered else f"{len(bars)} sentences, sorted by change"
    parts.append(
        f'<text x="{left + plot_width / 2:.0f}" y="{height - 6}" class="axis" text-anchor="middle">{x_title}</text>'
        f'<text x="14" y="{top + plot_height / 2:.0f}" class="axis" text-anchor="middle" '
        f'transform="rotate(-90 14 {top + plot_height / 2:.0f})">{SENTENCE_METRIC} change</text>'
        "</svg>"
    )
    return "".join(parts)


def _html_diff(pieces: list[DiffPiece]) -> str:
    tags: dict[DiffOperation, str] = {"equal": "{}", "delete": "<del>{}</del>", "insert": "<ins>{}</ins>"}
    return "".join(_highlight(piece, tags, html.escape) for piece in pieces)


def _html_sentences(changes: list[SentenceChange]) -> str:
    if not changes:
        return '<p class="muted">None.</p>'
    items = []
    for change in changes:
        kind = "up" if change.change > 0 else "down"
        references = "".join(
            f'<p class="reference"><span class="label">reference</span> {html.escape(reference)}</p>'
            for reference in change.references
        )
        items.append(
            f'<li><p class="head">line {change.line} · {SENTENCE_METRIC} {change.identity:.1f} → '
            f'{change.system:.1f} <span class="{kind}">{_signed(change.change)}</span></p>'
            f'<p class="diff">{_html_diff(change.diff)}</p>{references}</li>'
        )
    return f'<ol class="sentences">{"".join(items)}</ol>'


_PAGE = Template(
    """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mtfix evaluation report: $test_set</title>
<style>
body { font: 15px/1.5 system-ui, "Segoe UI", sans-serif; color: #1f2328; margin: 0; background: #f6f8fa; }
main { max-width: 1080px; margin: 0 auto; padding: 24px 32px 48px; background: #fff; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid #d0d7de; }
.muted, .meta { color: #57606a; }
.meta { margin: 0; font-size: 13px; }
code { font: 12px/1.4 ui-monospace, Menlo, monospace; background: #f6f8fa; padding: 1px 4px; border-radius: 4px; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 10px; border-bottom: 1px solid #d0d7de; text-align: right; }
th:first-child, td:first-child, th.text, td.text { text-align: left; }
th { background: #f6f8fa; font-weight: 600; }
.verdict { font-weight: 600; border-radius: 10px; padding: 1px 8px; font-size: 13px; }
.verdict.better { background: #dafbe1; color: #116329; }
.verdict.worse { background: #ffebe9; color: #a40e26; }
.verdict.same { background: #eaeef2; color: #57606a; }
ul.signatures { margin: 8px 0 0; padding-left: 18px; font-size: 13px; }
.cards { display: grid; grid-template-columns: repeat(3, 1fr); gap: 12px; }
.card { border: 1px solid #d0d7de; border-radius: 8px; padding: 10px 14px; }
.card .value { font-size: 26px; font-weight: 600; font-variant-numeric: tabular-nums; }
.card .title { font-weight: 600; }
.card p { margin: 2px 0; font-size: 13px; }
svg { display: block; background: #fff; border: 1px solid #d0d7de; border-radius: 8px; }
svg .grid { stroke: #eaeef2; stroke-width: 1; }
svg .zero { stroke: #57606a; stroke-width: 1; }
svg .tick { font-size: 11px; fill: #57606a; }
svg .axis { font-size: 12px; fill: #1f2328; }
svg rect.up { fill: #2da44e; }
svg rect.down { fill: #cf222e; }
svg rect.same { fill: #8c959f; }
ol.sentences { padding-left: 22px; }
ol.sentences li { margin-bottom: 14px; }
ol.sentences p { margin: 2px 0; }
.head { font-weight: 600; font-size: 13px; color: #57606a; }
span.up { color: #116329; } span.down { color: #a40e26; }
.diff { font-size: 15px; }
.reference { font-size: 13px; color: #57606a; }
.label { display: inline-block; min-width: 64px; font-size: 11px; text-transform: uppercase; letter-spacing: .04em; }
del { background: #ffebe9; color: #a40e26; text-decoration: line-through; border-radius: 3px; padding: 0 2px; }
ins { background: #dafbe1; color: #116329; text-decoration: none; border-radius: 3px; padding: 0 2px; }
del + ins { margin-left: 3px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dt { font-weight: 600; } dd { margin: 0; }
</style>
</head>
<body>
<main>
<h1>mtfix evaluation report</h1>
<p class="meta">test set <b>$test_set</b> · $segments segments scored of $lines lines (blank lines skipped) · $created</p>
<p class="meta">source <code>$source</code> · $references · system <code>$system</code></p>

<h2>Corpus scores</h2>
<table>
<tr><th>metric</th><th>identity</th><th>system</th><th>difference [95% CI]</th><th>p</th><th class="text">verdict</th></tr>
$corpus_rows
</table>
<p class="muted">Identity = the spun source scored as is. Difference = system − identity with a 95% interval
from sacrebleu's paired bootstrap resampling.</p>
<ul class="signatures">$signatures</ul>

<h2>Edits, over-correction, preservation</h2>
<div class="cards">
<div class="card">
  <div class="title">Edit F0.5</div><div class="value">$edit_f</div><p>$edit_detail</p>
  <p class="muted">word edits source → output against source → reference, exact match</p>
</div>
<div class="card">
  <div class="title">Over-correction ↓</div><div class="value">$over_value</div><p>$over_detail</p>
  <p class="muted">words changed when the clean reference is the input</p>
</div>
<div class="card">
  <div class="title">Preservation</div><div class="value">$preservation_value</div><p>$preservation_detail</p>
  <p class="muted">numbers and capitalised names of the source kept (reference: $reference_preservation)</p>
</div>
</div>

<h2>Per-sentence $sentence_metric change (system − identity)</h2>
$plot

<h2>Most improved sentences</h2>
$improved

<h2>Most damaged sentences</h2>
$damaged

<h2>Run</h2>
<dl>
<dt>repaired</dt><dd>$unit</dd>
<dt>throughput</dt><dd>$throughput</dd>
<dt>machine</dt><dd>$machine</dd>
<dt>versions</dt><dd>$versions</dd>
</dl>
</main>
</body>
</html>
"""
)


def render_html(report: Report) -> str:
    """One self-contained page: inline CSS and SVG, no scripts, nothing fetched from elsewhere."""
    e = html.escape
    verdict_class = {"better": "better", "worse": "worse", "no clear difference": "same"}
    corpus_rows = "\n".join(
        f"<tr><td>{e(c.name)} {'↑' if c.higher_is_better else '↓'}</td><td>{c.identity:.1f}</td>"
        f"<td>{c.system:.1f}</td><td>{_interval(c)}</td><td>{c.p_value:.3f}</td>"
        f'<td class="text"><span class="verdict {verdict_class[_verdict(c)]}">{_verdict(c)}</span></td></tr>'
        for c in report.corpus
    )
    signatures = "".join(
        f"<li>{e(c.name)}: <code>{e(c.signature)}</code> <span class=\"muted\">({e(c.bootstrap)})</span></li>"
        for c in report.corpus
    )
    edits = report.edits.details
    preservation = report.preservation.details
    over = report.overcorrection
    return _PAGE.substitute(
        test_set=e(report.test_set),
        segments=report.segments,
        lines=report.lines,
        created=e(report.created),
        source=e(report.source),
        references=" · ".join(f"reference <code>{e(label)}</code>" for label in report.references),
        system=e(report.system),
        corpus_rows=corpus_rows,
        signatures=signatures,
        edit_f=f"{report.edits.score:.1f}",
        edit_detail=(
            f"precision {edits['precision']:.1f} · recall {edits['recall']:.1f}<br>"
            f"{edits['true_positives']} correct, {edits['false_positives']} wrong or partial, "
            f"{edits['false_negatives']} missed"
        ),
        over_value="–" if over is None else f"{over.score:.2f}%",
        over_detail=e(_overcorrection_summary(over)),
        preservation_value=f"{report.preservation.score:.1f}%",
        preservation_detail=(
            f"numbers {preservation['numbers_kept']}/{preservation['numbers']} · "
            f"names {preservation['names_kept']}/{preservation['names']}"
        ),
        reference_preservation=f"{report.reference_preservation.score:.1f}%",
        sentence_metric=e(report.sentence_metric),
        plot=render_plot(report.sentences),
        improved=_html_sentences(report.improved),
        damaged=_html_sentences(report.damaged),
        unit=e(_unit_summary(report)),
        throughput=e(_throughput_summary(report)),
        machine=e(_machine_summary(report.machine)),
        versions=e(", ".join(f"{name} {version}" for name, version in report.versions.items())),
    )


RENDERERS: dict[str, Callable[[Report], str]] = {
    "md": render_markdown,
    "html": render_html,
    "json": render_json,
}

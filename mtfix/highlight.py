"""A self-contained HTML page that highlights suspected spun spans in a document."""

from __future__ import annotations

import html

from .lattice import Suspicion

_STYLE = """
body { font: 16px/1.6 Georgia, serif; max-width: 48em; margin: 2em auto; color: #222; }
.doc { white-space: pre-wrap; }
mark { border-radius: 3px; padding: 0 2px; cursor: help; }
mark.high { background: #f7b4b4; } mark.mid { background: #fcd9a8; } mark.low { background: #fdf0c2; }
mark .fix { font-size: 80%; color: #0a6b2d; margin-left: 3px; }
table { border-collapse: collapse; margin-top: 2em; font: 14px/1.4 sans-serif; }
td, th { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: left; }
"""


def _level(score: float) -> str:
    return "high" if score >= 0.9 else "mid" if score >= 0.7 else "low"


def render_check_html(text: str, suspicions: list[Suspicion], title: str = "mtfix check") -> str:
    pieces, position = [], 0
    for s in sorted(suspicions, key=lambda s: s.start):
        tip = f"suggestion: {s.suggestion} (confidence {s.score:.2f})"
        if s.alternatives:
            tip += "; alternatives: " + ", ".join(s.alternatives)
        pieces.append(html.escape(text[position:s.start]))
        pieces.append(f'<mark class="{_level(s.score)}" title="{html.escape(tip)}">{html.escape(s.text)}'
                      f'<span class="fix">→ {html.escape(s.suggestion)}</span></mark>')
        position = s.end
    pieces.append(html.escape(text[position:]))
    rows = "".join(
        f"<tr><td>{s.start}-{s.end}</td><td>{html.escape(s.text)}</td><td>{html.escape(s.suggestion)}</td>"
        f"<td>{s.score:.2f}</td><td>{html.escape(', '.join(s.alternatives))}</td></tr>" for s in suspicions)
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
            f"<p>{len(suspicions)} suspected spun spans. Hover a highlight for the alternatives.</p>"
            f"<div class='doc'>{''.join(pieces)}</div>"
            "<table><tr><th>chars</th><th>text</th><th>suggestion</th><th>confidence</th><th>alternatives</th></tr>"
            f"{rows}</table></body></html>\n")

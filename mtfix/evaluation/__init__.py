"""mtfix's evaluation: metrics, the report builder and its renderers, and the ``mtfix eval`` command."""

from mtfix.evaluation.inputs import EvalInputError, EvalSet, load_files, load_test_set
from mtfix.evaluation.report import Report, build_report, render_html, render_json, render_markdown

__all__ = [
    "EvalInputError",
    "EvalSet",
    "Report",
    "build_report",
    "load_files",
    "load_test_set",
    "render_html",
    "render_json",
    "render_markdown",
]

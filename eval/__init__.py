"""Thin scripts for a checkout: the evaluation itself is :mod:`mtfix.evaluation`, installed with mtfix.

    python -m eval ...                 # the same command as ``mtfix eval``
    python -m eval.ablation ...        # mtfix.evaluation.ablation
    python -m eval.check_quality ...   # mtfix.evaluation.check_quality
    python -m eval.screenshot ...      # mtfix.evaluation.screenshot

The seed test set is ``seeds/`` at the top of the checkout; the package reads it through
``mtfix/evaluation/testsets/``, whose files are links to it.
"""

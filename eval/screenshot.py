"""``python -m eval.screenshot``: runs :mod:`mtfix.evaluation.screenshot`."""

from mtfix.evaluation.screenshot import main

if __name__ == "__main__":
    raise SystemExit(main())

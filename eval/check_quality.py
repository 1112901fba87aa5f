"""``python -m eval.check_quality``: runs :mod:`mtfix.evaluation.check_quality`."""

from mtfix.evaluation.check_quality import main

if __name__ == "__main__":
    main()

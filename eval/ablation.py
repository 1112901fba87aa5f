"""``python -m eval.ablation``: runs :mod:`mtfix.evaluation.ablation`."""

from mtfix.evaluation.ablation import main

if __name__ == "__main__":
    main()

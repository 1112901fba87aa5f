"""``python -m mtfix.evaluation``: the same command as ``mtfix eval``."""

from mtfix.evaluation.cli import main

raise SystemExit(main())

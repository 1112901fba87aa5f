"""``python -m eval``: the same command as ``mtfix eval``."""

from eval.cli import main

raise SystemExit(main())

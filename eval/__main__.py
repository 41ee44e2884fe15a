"""``python -m eval``: the evaluation command line (see `eval.cli`)."""

from eval.cli import main

main()

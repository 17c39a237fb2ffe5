"""``python -m tracefreeze``: the same as the ``tracefreeze`` command."""

from tracefreeze.cli.main import main

main()

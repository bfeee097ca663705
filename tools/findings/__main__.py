"""``python -m tools.findings``: rewrite (or ``--check``) the README's findings from ``results/``."""

from helpers import cli

from . import main

cli.run(main, "python -m tools.findings")

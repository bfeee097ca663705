"""``python -m helpers.findings``: rewrite (or ``--check``) the README's findings from ``results/``."""

from .. import cli
from . import main

cli.run(main, "python -m helpers.findings")

"""``python -m helpers.findings``: rewrite (or ``--check``) the README's findings from ``results/``."""

from . import main

raise SystemExit(main())

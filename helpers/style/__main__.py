"""``python -m helpers.style [--profile reduced] [--styles ...] [--steps ...] [--slices ...] [--crop N] [--batch N]``.

Stylises ISBI training slices into the run's cache (resumable); what is not given comes from the profile.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from .. import config
from .cache import stylize_isbi
from .engine import StyleSettings


def main(argv: Sequence[str] | None = None) -> dict:
    """Parse the command line and stylise.

    Args:
        argv: the arguments (None: ``sys.argv[1:]``).

    Returns:
        The summary of :func:`helpers.style.cache.stylize_isbi` (also printed as JSON).
    """
    parser = argparse.ArgumentParser(
        prog="python -m helpers.style", description="Stylise ISBI training slices into the cache (resumable)."
    )
    parser.add_argument("--profile", default=None, help="full | reduced | ci (default: $NSEM_PROFILE or automatic)")
    parser.add_argument("--styles", type=int, nargs="+", help="painting numbers (default: the profile's)")
    parser.add_argument("--steps", type=int, nargs="+", help="step counts (default: the profile's)")
    parser.add_argument("--slices", type=int, nargs="+", help="slice indices (default: the profile's)")
    parser.add_argument("--crop", type=int, default=None, help="top-left crop side (default: the profile's; 0: whole)")
    parser.add_argument("--batch", type=int, default=None, help="pairs per batch (default: the profile's)")
    args = parser.parse_args(argv)
    run = config.select(args.profile)
    work = run.style
    summary = stylize_isbi(
        run.cache,
        args.slices or work.slices,
        args.styles or work.styles,
        args.steps or work.steps,
        crop=work.crop if args.crop is None else (args.crop or None),
        batch_size=args.batch or work.batch,
        settings=StyleSettings(device=run.device),
    )
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()

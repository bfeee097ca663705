"""``python -m helpers.style [--profile P] [--styles ...] [--steps ...] [--slices ...] [--crop N] [--batch N] [...]``.

Stylises ISBI training slices into the run's cache (resumable); what is not given comes from the profile;
``--workers N`` optimises N batches at once as Dask tasks. A bad argument, an unusable cache folder or the full
profile on a CPU end in one line naming it and the fix (exit status 2), before any work (:mod:`helpers.cli`).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence

from .. import checks, cli, config, data
from .cache import checked_crop, stylize_isbi
from .settings import StyleSettings


def _argument(check: Callable[[int], object]) -> Callable[[str], int]:
    """An argparse type: a whole number that passes ``check`` (whose error message becomes argparse's)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
            check(value)
        except (TypeError, ValueError) as error:
            message = str(error) if "must" in str(error) else f"not a whole number: {text!r}"
            raise argparse.ArgumentTypeError(message) from error
        return value

    return parse


def main(argv: Sequence[str] | None = None) -> dict:
    """Parse the command line and stylise.

    Args:
        argv: the arguments (None: ``sys.argv[1:]``).

    Returns:
        The summary of :func:`helpers.style.cache.stylize_isbi` (also printed as JSON).

    Raises:
        SystemExit: status 2 with one line naming the argument, for a bad argument.
        ValueError: before any work, for an unusable cache or the full profile on a CPU.
    """
    parser = cli.ArgumentParser(
        prog="python -m helpers.style", description="Stylise ISBI training slices into the cache (resumable)."
    )
    parser.add_argument(
        "--profile", type=cli.profile, default=None, help="full | reduced | ci (default: $NSEM_PROFILE or automatic)"
    )
    parser.add_argument(
        "--styles", type=cli.painting, nargs="+", action=cli.Unique, help="painting numbers (default: the profile's)"
    )
    steps = _argument(lambda value: checks.integer(value, "steps", 1))
    parser.add_argument(
        "--steps", type=steps, nargs="+", action=cli.Unique, help="step counts (default: the profile's)"
    )
    index = _argument(lambda value: checks.integer(value, "slice index", 0, data.ISBI_SHAPE[0] - 1))
    parser.add_argument(
        "--slices", type=index, nargs="+", action=cli.Unique, help="slice indices 0..29 (default: the profile's)"
    )
    crop = _argument(lambda value: checked_crop(value or None))
    parser.add_argument("--crop", type=crop, default=None, help="crop side 16..512 (default: the profile's; 0: whole)")
    batch = _argument(lambda value: checks.integer(value, "batch", 1))
    parser.add_argument("--batch", type=batch, default=None, help="pairs per batch, >= 1 (default: the profile's)")
    workers = _argument(lambda value: checks.integer(value, "workers", 1))
    parser.add_argument(
        "--workers", type=workers, default=1, help="batches at once as Dask tasks, >= 1 (default: 1, here)"
    )
    args = parser.parse_args(argv)
    try:
        run = config.select(args.profile)
    except ValueError as error:
        parser.error(str(error))
    work = run.style
    if run.profile == "full" and run.device != "cuda":
        raise ValueError(
            f"--profile full stylises {len(work.slices)} slices x {len(work.styles)} paintings at full size, days "
            "of work on a CPU (chapter 06 refuses it too): run it on a GPU machine and copy cache/stylized here, "
            "or use --profile reduced"
        )
    cli.check_cache(run.cache)
    summary = stylize_isbi(
        run.cache,
        work.slices if args.slices is None else args.slices,
        work.styles if args.styles is None else args.styles,
        work.steps if args.steps is None else args.steps,
        crop=work.crop if args.crop is None else (args.crop or None),
        batch_size=work.batch if args.batch is None else args.batch,
        settings=StyleSettings(device=run.device),
        workers=args.workers,
    )
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    cli.run(main, "python -m helpers.style")

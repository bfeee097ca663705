"""``python -m helpers.vgg --export PATH [--source hed|vgg19] [--last-layer conv5_1]``: a travelling weights file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .. import cli
from .vgg19 import VGG19_WEIGHTS_ENV, export_vgg19_weights
from .weights import WEIGHTS_ENV, export_weights


def main(argv: Sequence[str] | None = None) -> Path:
    """Export one offline network's conv layers (those the style losses use) to a small ``.npz``.

    ``hed`` is written in float16 by default; ``vgg19`` keeps its 256-level quantisation exactly.

    Args:
        argv: the arguments (None: ``sys.argv[1:]``).

    Returns:
        The written file.

    Raises:
        SystemExit: status 2 naming the argument, for an unknown layer or an unusable ``--export`` path (checked
            before the weights are read).
    """
    parser = cli.ArgumentParser(
        prog="python -m helpers.vgg", description="Export an offline VGG's conv weights to a small .npz."
    )
    parser.add_argument("--export", required=True, type=Path, help="output .npz path")
    parser.add_argument("--source", default="hed", choices=("hed", "vgg19"), help="the network (default hed)")
    parser.add_argument(
        "--last-layer", type=cli.layer, default="conv5_1", help="deepest conv layer kept (default conv5_1)"
    )
    parser.add_argument("--dtype", default="float16", choices=("float16", "float32"), help="hed only")
    args = parser.parse_args(argv)
    if args.export.is_dir():
        parser.error(f"argument --export: {args.export} is a folder: pass a file name such as {args.export}/vgg.npz")
    try:
        cli.check_output_folder(args.export.expanduser().parent, "--export's folder")
    except ValueError as error:
        parser.error(f"argument --export: {error}")
    args.export = args.export.expanduser()
    if args.source == "hed":
        path, variable = export_weights(args.export, args.last_layer, args.dtype), WEIGHTS_ENV
    else:
        path, variable = export_vgg19_weights(args.export, args.last_layer), VGG19_WEIGHTS_ENV
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB); use it with {variable}={path}")
    return path


if __name__ == "__main__":
    cli.run(main, "python -m helpers.vgg")

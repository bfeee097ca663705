"""``python -m helpers.vgg --export PATH [--last-layer conv5_1] [--dtype float16]``: a travelling weights file."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from .weights import WEIGHTS_ENV, export_weights


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m helpers.vgg --export PATH [--last-layer conv5_1] [--dtype float16]``: a travelling weights file.

    Args:
        argv: the arguments (None: ``sys.argv[1:]``).
    """
    parser = argparse.ArgumentParser(
        prog="python -m helpers.vgg", description="Export the HED VGG16 conv weights to a small .npz (export_weights)."
    )
    parser.add_argument("--export", required=True, type=Path, help="output .npz path")
    parser.add_argument("--last-layer", default="conv5_1")
    parser.add_argument("--dtype", default="float16", choices=("float16", "float32"))
    args = parser.parse_args(argv)
    path = export_weights(args.export, args.last_layer, args.dtype)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB); use it with {WEIGHTS_ENV}={path}")


if __name__ == "__main__":
    main()

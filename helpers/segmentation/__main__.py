"""Segment your own EM stack from the command line: learn the pipeline from labelled slices, then segment a stack.

::

    python -m helpers.segmentation train --raw raw.tif --labels labels.h5 --labels-dataset seg --out model.nsem
    python -m helpers.segmentation segment model.nsem big-stack.tif --out big-stack-labels.zarr --workers 4

``train`` reads slices and labels (any format of :func:`helpers.data.load_em_stack`), trains the Frangi pipeline's
edge forest (the profile's trees and edge cap, seed 0) and saves one model file (:mod:`.model_file`). ``segment``
reads a stack of any length slice by slice into a resumable zarr label volume (:mod:`.stack`), on Dask with
``--workers`` or ``NSEM_SCHEDULER``. Mistakes end in one line and status 2 (:mod:`helpers.cli`).
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from .. import cli

PROG = "python -m helpers.segmentation"


def _membrane(text: str) -> int | str:
    """A mask's membrane value: a whole number, ``dark`` or ``bright``."""
    if text.strip().lower() in ("dark", "bright"):
        return text.strip().lower()
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--membrane must be a pixel value (e.g. 0 or 255), 'dark' or 'bright', got {text!r}"
        ) from None


def _slices(text: str) -> slice | list[int]:
    """``START:STOP`` or a comma-separated list of slice positions, for ``train --z``."""
    try:
        if ":" in text:
            start, stop = (int(part) if part.strip() else None for part in text.split(":"))
            return slice(start, stop)
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--z must be START:STOP or a list such as 0,1,2, got {text!r}") from None


def parser() -> cli.ArgumentParser:
    """The command line of ``train`` and ``segment``."""
    from ..data.normalize import NORMALIZATIONS

    main = cli.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    commands = main.add_subparsers(dest="command", required=True, parser_class=cli.ArgumentParser)
    train = commands.add_parser("train", help="learn the pipeline from labelled slices; save it as one file")
    train.add_argument("--raw", required=True, help="raw slices: TIFF, PNG folder, HDF5, zarr or .npy")
    train.add_argument("--labels", required=True, help="their labels: a membrane mask or instance ids")
    train.add_argument("--raw-dataset", help="dataset of --raw in an HDF5 file or zarr group")
    train.add_argument("--labels-dataset", help="dataset of --labels in an HDF5 file or zarr group")
    train.add_argument("--kind", choices=("auto", "mask", "instances"), default="auto", help="label kind")
    train.add_argument("--membrane", type=_membrane, help="a mask's membrane value, or dark/bright")
    train.add_argument("--table", help="dataset of a supervoxel-to-body table in the labels' file")
    train.add_argument("--z", type=_slices, help="training slices: START:STOP or 0,1,2 (default: all)")
    normalisations = tuple(NORMALIZATIONS)
    train.add_argument("--intensity", choices=normalisations, default="none", help="per-slice normalisation")
    train.add_argument("--profile", type=cli.profile, help="profile whose tree count and edge cap are the defaults")
    train.add_argument("--trees", type=cli.whole("--trees", 1), help="trees of the edge forest")
    train.add_argument("--max-samples", type=cli.whole("--max-samples", 1), help="cap on the training edges")
    train.add_argument("--seed", type=cli.whole("--seed", 0, 2**32 - 1), default=0, help="seed of the forest")
    train.add_argument("--out", required=True, type=Path, help="the model file to write")
    segment = commands.add_parser("segment", help="segment every slice of a stack into a zarr label volume")
    segment.add_argument("model", type=Path, help="a model file written by train")
    segment.add_argument("raw", type=Path, help="the stack: TIFF, folder of PNG/TIFF slices, HDF5, zarr or .npy")
    segment.add_argument("--out", required=True, type=Path, help="the zarr label volume to write (or resume)")
    segment.add_argument("--dataset", help="dataset of RAW in an HDF5 file or zarr group")
    segment.add_argument("--workers", type=cli.whole("--workers", 1), default=1, help="Dask worker processes")
    segment.add_argument("--z", help="slices to segment, START:STOP (default: all)")
    segment.add_argument("--overwrite", action="store_true", help="replace a store of another model or stack")
    segment.add_argument("--quiet", action="store_true", help="no progress bar")
    return main


def train(arguments: argparse.Namespace) -> int:
    """The ``train`` command: train a model from labelled slices and save it; returns 0."""
    from ..config import select
    from ..data import load_em_stack
    from .cross_dataset import stack_graphs
    from .model_file import SegmentationModel, save_model
    from .pipeline import train_edge_rf
    from .settings import PipelineSettings

    cli.check_output_folder(arguments.out.expanduser().parent, "--out's folder")
    work = select(arguments.profile).segmentation
    settings = PipelineSettings(rf_trees=work.rf_trees, rf_max_samples=work.rf_max_samples, seed=arguments.seed)
    settings = replace(
        settings,
        intensity=arguments.intensity,
        rf_trees=arguments.trees or settings.rf_trees,
        rf_max_samples=arguments.max_samples or settings.rf_max_samples,
    )
    stack = load_em_stack(
        arguments.raw,
        arguments.labels,
        kind=arguments.kind,
        membrane=arguments.membrane,
        table=arguments.table,
        raw_dataset=arguments.raw_dataset,
        labels_dataset=arguments.labels_dataset,
        z=arguments.z,
    )
    forest = train_edge_rf(
        stack_graphs(stack, settings, progress=True),
        trees=settings.rf_trees,
        seed=settings.seed,
        max_samples=settings.rf_max_samples,
        tree_fraction=settings.rf_tree_fraction,
    )
    training = {key: str(value) for key, value in stack.notes.items()} | {"slices": len(stack)}
    digest = save_model(arguments.out, SegmentationModel(forest, settings, training))
    print(f"trained on {len(stack)} slices; model {arguments.out} (sha256 {digest[:12]})")
    return 0


def segment(arguments: argparse.Namespace) -> int:
    """The ``segment`` command: segment a stack into a zarr label volume; returns 0."""
    from ..data.lazy import open_stack
    from .model_file import load_model
    from .stack import segment_stack, z_range

    out = arguments.out.expanduser()
    cli.check_output_folder(out.parent, "--out's folder")
    model = load_model(arguments.model.expanduser())
    stack = open_stack(arguments.raw, arguments.dataset)
    chosen = z_range(arguments.z, len(stack))
    result = segment_stack(
        model, stack, out, list(chosen), arguments.workers, arguments.overwrite, progress=not arguments.quiet
    )
    print(
        f"segmented {len(result.segmented)} slices of {arguments.raw} into {out} (run {result.run}; "
        f"{len(result.skipped)} already done)"
    )
    return 0


def main(argv: list[str]) -> int:
    """Parse ``argv`` and run ``train`` or ``segment``; returns the exit status."""
    arguments = parser().parse_args(argv)
    return train(arguments) if arguments.command == "train" else segment(arguments)


if __name__ == "__main__":
    cli.run(main, PROG)

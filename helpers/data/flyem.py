"""The second EM dataset: a subset of the FlyEM FIB-SEM *Drosophila* medulla cube (CC BY, ``data/flyem-medulla``).

16 slices (z = 2600, 2610, ..., 2750 of the original 250-slice cube; 10 nm isotropic voxels; 250 x 250 px) as 8-bit
PNGs, and their NeuroProof ground truth: supervoxel ids (``stack``) with a supervoxel-to-body table (``transforms``)
in a gzipped HDF5 file. Origin and changes: ``data/flyem-medulla/PROVENANCE.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from ..paths import DATA
from .files import data_file
from .stacks import EMStack, load_em_stack

FLYEM_FOLDER = "flyem-medulla"
FLYEM_Z = tuple(range(2600, 2760, 10))  # original slice numbers of the vendored PNGs
FLYEM_LABELS = "groundtruth-subset.h5.gz"


def load_flyem(
    slices: Sequence[int] | None = None, crop: int | None = None, data_dir: Path = DATA, verify: bool = True
) -> EMStack:
    """The vendored FlyEM slices (raw uint8, membranes from the body boundaries, dense ground truth), checksum-verified.

    ``slices``: positions 0..15 in the subset (None: all 16); ``crop``: keep the top-left ``crop`` x ``crop`` pixels
    (None: all 250).

    Raises:
        FileNotFoundError: a file is missing.
        DataError: a file is damaged or changed.
        IndexError: a position outside 0..15.
    """
    for z in FLYEM_Z:
        data_file(f"{FLYEM_FOLDER}/grayscale_maps/iso.{z}.png", data_dir, verify)
    labels = data_file(f"{FLYEM_FOLDER}/{FLYEM_LABELS}", data_dir, verify)
    stack = load_em_stack(
        Path(data_dir) / FLYEM_FOLDER / "grayscale_maps",
        labels,
        kind="instances",
        labels_dataset="stack",
        table="transforms",
        z=None if slices is None else list(slices),
        crop=crop,
        name="FlyEM medulla",
    )
    files = {"raw": f"data/{FLYEM_FOLDER}/grayscale_maps/", "labels": f"data/{FLYEM_FOLDER}/{FLYEM_LABELS}"}
    return replace(stack, notes=stack.notes | files)

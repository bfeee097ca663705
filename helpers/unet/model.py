"""A small 2D U-Net (Ronneberger et al. 2015) for membrane probability, written here: no downloaded weights.

Each level is two 3x3 convolutions with batch norm and ReLU; the encoder max-pools and doubles the channels, the
decoder upsamples by transposed convolution and concatenates the encoder's same-level features. One-pixel padding
keeps an input with sides multiple of ``2**depth`` at its size. Output: one channel of logits (sigmoid: membrane
probability).
"""

from __future__ import annotations

import torch
from torch import nn

from .. import checks


def _double_conv(channels_in: int, channels_out: int) -> nn.Sequential:
    """Two 3x3 convolutions, each followed by batch normalisation and ReLU."""
    return nn.Sequential(
        nn.Conv2d(channels_in, channels_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(channels_out),
        nn.ReLU(inplace=True),
        nn.Conv2d(channels_out, channels_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(channels_out),
        nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    """A 2D U-Net: one grey channel in, one membrane logit channel out, the same size."""

    def __init__(self, width: int = 16, depth: int = 3) -> None:
        """Build the layers (PyTorch's default initialisation: seed torch first for reproducible weights).

        Args:
            width: channels of the first level; level ``k`` has ``width * 2**k``.
            depth: number of poolings.

        Raises:
            ValueError: for a width or depth below 1.
        """
        super().__init__()
        self.width = checks.integer(width, "UNet width", 1)
        self.depth = checks.integer(depth, "UNet depth", 1)
        channels = [self.width * 2**level for level in range(self.depth + 1)]
        self.encoders = nn.ModuleList(
            [_double_conv(1, channels[0])] + [_double_conv(channels[k - 1], channels[k]) for k in range(1, depth + 1)]
        )
        self.pool = nn.MaxPool2d(2)
        self.upsamplers = nn.ModuleList(
            [nn.ConvTranspose2d(channels[k], channels[k - 1], 2, stride=2) for k in range(depth, 0, -1)]
        )
        self.decoders = nn.ModuleList([_double_conv(2 * channels[k - 1], channels[k - 1]) for k in range(depth, 0, -1)])
        self.head = nn.Conv2d(channels[0], 1, 1)

    @property
    def multiple(self) -> int:
        """The number that the input's height and width must be multiples of: ``2**depth``."""
        return 2**self.depth

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Membrane logits, (batch, 1, H, W), of a (batch, 1, H, W) float batch, H and W multiples of :attr:`multiple`.

        Raises:
            ValueError: for another shape.
        """
        if images.ndim != 4 or images.shape[1] != 1:
            raise ValueError(f"UNet input must have shape (batch, 1, H, W), got {tuple(images.shape)}")
        height, width = images.shape[-2:]
        if height % self.multiple or width % self.multiple:
            raise ValueError(
                f"UNet input size {height}x{width} is not a multiple of 2**depth = {self.multiple}: "
                "pad the image (helpers.unet.predict does) or choose another patch size"
            )
        skips = []
        features = images
        for level, encoder in enumerate(self.encoders):
            features = encoder(features if level == 0 else self.pool(features))
            skips.append(features)
        for upsample, decoder, skip in zip(self.upsamplers, self.decoders, reversed(skips[:-1])):
            features = decoder(torch.cat([skip, upsample(features)], dim=1))
        return self.head(features)

"""Motion pathway: PWC-Lite with segment flow (docs/method.md section 3).

Both frames go through one shared feature pyramid. From the coarsest level to the finest, the
source frame's features are warped by the running segment flow, compared with the reference
frame's features in a cost volume, and a dense estimator turns [cost volume, reduced reference
features, running flow] into a motion feature map V. Unlike a flow network, V never becomes a
per-pixel flow: it is pooled inside each mask and turned into one vector per segment
(segment_flow.py), and the segment flow field made from those vectors is what the next level
refines and what the loss sees.

Differences from the release (docs/method.md section 3), both bugs there:
- the masked average pooling divides by the area clamped from below (`AMDConfig.segment_eps`,
  at least the dtype's smallest normal number): equal to the release wherever the release is
  finite, where the release divides by zero and gives NaN for an empty resized mask;
- the release also turns V into a dense per-pixel flow with the same head g, but never adds a
  loss on it, so that branch never trains and changes nothing: it is left out.
For the ablation `AMDConfig.segment_flow=False` (dense per-pixel flow instead of segment flow)
that dense branch comes back in place of the segment flow, and the masks drop out of the loss.
Beyond the release, as options that the `paper` profile leaves off: a normalised cost volume
(`normalized_correlation`) and a pyramid that starts below 1/64 (`coarsest_stride`).
Flow input sizes that are multiples of the coarsest stride reproduce the release's level sizes
exactly; other sizes work (each level's size is the convolution's ceil(H/2)).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..config import AMDConfig
from .correlation import correlation
from .segment_flow import SegmentFlowHead, masked_average_pool, segment_flow_field
from .warp import warp


def conv_lrelu(in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1) -> nn.Sequential:
    """Conv with bias followed by LeakyReLU(0.1): the only layer type of PWC-Lite."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding=(kernel_size - 1) // 2),
        nn.LeakyReLU(0.1, inplace=True),
    )


class FeaturePyramid(nn.Module):
    """Blocks of (3x3 conv stride 2, 3x3 conv), channels 3-16-32-64-96-128-192.

    Only the blocks down to the coarsest level in use are built (six for the release).
    """

    def __init__(self, channels: tuple[int, ...], num_blocks: int) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(
            nn.Sequential(conv_lrelu(c_in, c_out, stride=2), conv_lrelu(c_out, c_out))
            for c_in, c_out in list(zip(channels[:-1], channels[1:]))[:num_blocks]
        )

    def forward(self, images: Tensor) -> list[Tensor]:
        """B,3,H,W -> features at strides 2, 4, ..., 2**num_blocks (fine to coarse)."""
        features = []
        x = images
        for block in self.blocks:
            x = block(x)
            features.append(x)
        return features


class DenseEstimator(nn.Module):
    """PWC-Lite's densely connected estimator, shared by all levels; returns the 96-channel V.

    x1 = conv(in->128), x2 = conv(x1->128), x3 = conv([x1,x2]->96), x4 = conv([x2,x3]->64),
    x5 = conv([x3,x4]->32), V = [x4, x5].
    """

    out_channels = 96

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.conv1 = conv_lrelu(in_channels, 128)
        self.conv2 = conv_lrelu(128, 128)
        self.conv3 = conv_lrelu(128 + 128, 96)
        self.conv4 = conv_lrelu(128 + 96, 64)
        self.conv5 = conv_lrelu(96 + 64, 32)

    def forward(self, x: Tensor) -> Tensor:
        """B,in,h,w -> B,96,h,w motion features."""
        x1 = self.conv1(x)
        x2 = self.conv2(x1)
        x3 = self.conv3(torch.cat((x1, x2), 1))
        x4 = self.conv4(torch.cat((x2, x3), 1))
        x5 = self.conv5(torch.cat((x3, x4), 1))
        return torch.cat((x4, x5), 1)


def normalize_for_cost_volume(reference: Tensor, source: Tensor, eps: float = 1e-6) -> tuple[Tensor, Tensor]:
    """Centre each channel by its mean over both images and positions, then L2-normalise across
    channels (UFlow's cost-volume normalisation; `AMDConfig.normalized_correlation`)."""
    mean = (reference.mean((2, 3), keepdim=True) + source.mean((2, 3), keepdim=True)) / 2
    reference, source = reference - mean, source - mean
    return (reference / (reference.norm(dim=1, keepdim=True) + eps),
            source / (source.norm(dim=1, keepdim=True) + eps))


def resize_flow(flow: Tensor, size: tuple[int, int], factor: float) -> Tensor:
    """Bilinear (align_corners=True) resize of a B,2,h,w flow to `size`, values times `factor`."""
    return F.interpolate(flow * factor, size=size, mode="bilinear", align_corners=True)


class MotionPathway(nn.Module):
    """Two frames and the masks that segment the flow -> segment flows at every level."""

    def __init__(self, config: AMDConfig) -> None:
        super().__init__()
        self.config = config
        self.level_strides = config.level_strides
        num_blocks = int(math.log2(config.coarsest_stride))
        self.pyramid = FeaturePyramid(config.pyramid_channels, num_blocks)
        self.reductions = nn.ModuleList(
            conv_lrelu(config.pyramid_channels[int(math.log2(s))], 32, kernel_size=1) for s in self.level_strides
        )
        num_offsets = (2 * config.search_range + 1) ** 2
        self.estimator = DenseEstimator(num_offsets + 32 + 2)
        self.segment_flow_head = SegmentFlowHead(DenseEstimator.out_channels)

    def features(self, images: Tensor) -> list[Tensor]:
        """B,3,H,W in [0,1] -> features of the levels in use, coarse to fine."""
        pyramid = self.pyramid(images)
        return [pyramid[int(math.log2(s)) - 1] for s in self.level_strides]

    def forward(self, reference_features: list[Tensor], source_features: list[Tensor],
                source_masks: Tensor) -> list[Tensor]:
        """Segment flows from reference to source, coarse to fine, each upsampled x4.

        reference_features, source_features: per level (coarse to fine) B,C_l,h_l,w_l.
        source_masks: B,c,hm,wm soft masks that cut the flow into segments: the source frame's
            (the frame being warped) in the release, the reference frame's with
            `config.flow_masks == "reference"` (the name keeps the release's meaning).
        Returns a list of B,2,4h_l,4w_l flows in pixels of that resolution, coarse to fine.
        The flow at p points to where p's content is found in the source frame.
        With `config.segment_flow=False` (ablation) the flows are dense per-pixel flows and
        `source_masks` is not used, so nothing downstream sends a gradient to the masks.
        """
        cfg = self.config
        flows: list[Tensor] = []
        flow = segment_vectors = None
        for level, (reference, source) in enumerate(zip(reference_features, source_features)):
            size = reference.shape[-2:]
            if level == 0:
                flow = reference.new_zeros(reference.shape[0], 2, *size)
                warped = source
            else:
                flow = resize_flow(flow, size, 2.0)
                if segment_vectors is not None:
                    segment_vectors = segment_vectors * 2
                warped = warp(source, flow)
            if cfg.normalized_correlation:
                ref_n, warped_n = normalize_for_cost_volume(reference, warped)
                cost = correlation(ref_n, warped_n, cfg.search_range) * reference.shape[1]
            else:
                cost = correlation(reference, warped, cfg.search_range)
            motion = self.estimator(torch.cat((F.leaky_relu(cost, 0.1), self.reductions[level](reference), flow), 1))

            if cfg.segment_flow:
                flow, segment_vectors = self.segment_flow_step(motion, source_masks, segment_vectors)
            else:  # ablation: dense per-pixel flow, residual as PWC-Net; the masks are not used
                flow = flow + self.segment_flow_head.per_pixel(motion)
            flows.append(flow)
        return [resize_flow(f, (4 * f.shape[-2], 4 * f.shape[-1]), 4.0) for f in flows]

    def segment_flow_step(self, motion: Tensor, source_masks: Tensor,
                          segment_vectors: Tensor | None) -> tuple[Tensor, Tensor]:
        """docs/method.md section 3 steps 7-8 at one level: pool the B,96,h,w motion features inside each of
        the B,c,hm,wm masks (resized to h,w as the release does), add g's B,c,2 per-segment delta
        to the upsampled running vectors (None at the coarsest level), and build the B,2,h,w
        segment flow. Returns (segment flow, accumulated B,c,2 vectors)."""
        masks = F.interpolate(source_masks, size=motion.shape[-2:], mode="bilinear", align_corners=True)
        delta = self.segment_flow_head(masked_average_pool(motion, masks, self.config.segment_eps))
        segment_vectors = delta if segment_vectors is None else segment_vectors + delta
        return segment_flow_field(masks, segment_vectors), segment_vectors

"""AMD: the appearance pathway, the motion pathway and the loss in one module.

Data flow of one training step (docs/method.md section 1):

    frames B,2,3,H,W ──appearance──> masks B,2,c,H/8,W/8 (per frame, softmax over c)
          │ resized to the flow input size (bilinear, `flow_resize_align_corners`)
          └──motion (both directions, source = the frame being warped, its masks)──>
              segment flows per scale ──loss (warp, occlusion, L1 + DSSIM)──> scalar
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .appearance import AppearancePathway
from ..config import AMDConfig
from .loss import LossTerms, amd_loss
from .motion import MotionPathway


@dataclass
class AMDOutput:
    """What one forward pass of `AMD` produces."""

    loss: Tensor
    """Scalar objective (docs/method.md section 4), `terms.total`."""
    masks: Tensor
    """B,2,c,H/8,W/8 soft masks of frame 1 and frame 2 (H/4 for the `small` backbone)."""
    flows: list[Tensor]
    """Per output scale, finest first: B,2,2,h,w; [:, 0] forward flow F12 (frame 1's grid), [:, 1]
    backward flow F21 (frame 2's grid), each segmented by `flow_masks`."""
    flow_masks: Tensor
    """B,2,c,H/8,W/8: [:, 0] the masks that segment F12 (frame 2's in the release, frame 1's with
    `config.flow_masks == "reference"`), [:, 1] those that segment F21."""
    terms: LossTerms
    """The loss's parts: per-scale photometric terms, smoothness, visibility masks."""


def resize_to_flow_input(images: Tensor, config: AMDConfig) -> Tensor:
    """N,3,H,W frames -> N,3,*flow_size, bilinear with `config.flow_resize_align_corners`
    (True: the release's decode head; docs/method.md section 3)."""
    return F.interpolate(images, size=config.flow_size, mode="bilinear",
                         align_corners=config.flow_resize_align_corners)


class AMD(nn.Module):
    """Appearance-Motion Decomposition (Liu et al., NeurIPS 2021).

    `object_channel` is the mask channel known to hold the object, or None: `load_checkpoint`
    sets 1 for the authors' released weights (docs/method.md section 6), and evaluations use it
    as their default fixed channel when set.
    """

    def __init__(self, config: AMDConfig | None = None) -> None:
        super().__init__()
        self.config = config or AMDConfig()
        self.appearance = AppearancePathway(self.config)
        self.motion = MotionPathway(self.config)
        self.object_channel: int | None = None

    def forward(self, frames: Tensor) -> AMDOutput:
        """B,2,3,H,W frame pairs with values in [0,1] -> loss, masks and segment flows."""
        if frames.dim() != 5 or frames.shape[1:3] != (2, 3):
            raise ValueError(f"AMD expects frames of shape B,2,3,H,W; got {tuple(frames.shape)}")
        batch = frames.shape[0]
        images = frames.flatten(0, 1)  # 2B,3,H,W ordered (b0f1, b0f2, b1f1, ...)
        masks = self.appearance(images).unflatten(0, (batch, 2))

        # The motion pathway sees both frames stretched to the fixed flow input size.
        flow_images = resize_to_flow_input(images, self.config).unflatten(0, (batch, 2))
        frame1, frame2 = flow_images[:, 0], flow_images[:, 1]
        features = self.motion.features(torch.cat((frame1, frame2)))
        first = [f[:batch] for f in features]
        second = [f[batch:] for f in features]
        # Both directions in one batch: forward (reference frame 1, source frame 2) then backward
        # (reference frame 2, source frame 1).
        flow_masks = masks.flip(1) if self.config.flow_masks == "source" else masks
        flows = self.motion(
            [torch.cat(pair) for pair in zip(first, second)],
            [torch.cat(pair) for pair in zip(second, first)],
            torch.cat((flow_masks[:, 0], flow_masks[:, 1])),
        )
        flows = [torch.stack((f[:batch], f[batch:]), 1) for f in reversed(flows)]
        terms = amd_loss(frame1, frame2, flows, self.config)
        return AMDOutput(loss=terms.total, masks=masks, flows=flows, flow_masks=flow_masks, terms=terms)

    @torch.no_grad()
    def segment(self, images: Tensor, size: tuple[int, int] | None = None) -> Tensor:
        """B,3,H,W images in [0,1] -> B,c,H/s,W/s soft masks, s = appearance.output_stride
        (8; 4 for `small`), or B,c,*size (bilinear) when `size` is given.

        Uses the appearance pathway alone, as every evaluation in the paper does. Call
        `model.eval()` first for inference (BatchNorm statistics, no dropout).
        """
        masks = self.appearance(images)
        if size is not None:
            masks = F.interpolate(masks, size=size, mode="bilinear", align_corners=False)
        return masks

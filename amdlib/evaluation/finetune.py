"""Semantic segmentation fine-tuning from AMD's appearance backbone (docs/method.md section 6c).

The paper's transfer test: initialise a segmentation network's backbone from AMD (trained on
unlabeled video only), fine-tune with labels on PASCAL VOC 2012 and report mIoU on val; compare
with the same network from random initialisation. The head is a fresh FCN head (the same design
as AMD's, docs/method.md section 2) with one output per class. `freeze_backbone` measures how much the
features alone carry (a linear-probe-like setting) against full fine-tuning.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..io.progress import Throttle, say
from ..model.appearance import IMAGENET_MEAN, IMAGENET_STD, FCNHead, build_trunk
from ..config import AMDConfig
from ..data.transforms import resize_images
from .segmentation_metrics import ConfusionMatrix
from ..model.amd import AMD
from ..training.optimizer import adam
from ..training.train import isolated_rng

VOC_IGNORE = 255


class SemanticSegmenter(nn.Module):
    """Backbone + FCN head -> per-class logits at the input resolution."""

    def __init__(self, backbone: nn.Module, num_classes: int = 21, head_channels: int = 256,
                 head_dilation: int = 6) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = FCNHead(backbone.out_channels, num_classes, head_channels, head_dilation)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, images: Tensor) -> Tensor:
        """B,3,H,W in [0,1] -> B,K,H,W class logits."""
        logits = self.head(self.backbone((images - self.mean) / self.std))
        return F.interpolate(logits, size=images.shape[-2:], mode="bilinear", align_corners=False)


def from_amd(model: AMD, num_classes: int = 21) -> SemanticSegmenter:
    """A segmenter whose backbone is a copy of AMD's appearance backbone (head: fresh)."""
    config = model.config
    return SemanticSegmenter(copy.deepcopy(model.appearance.backbone), num_classes, config.head_channels,
                             config.head_dilation)


def from_scratch(config: AMDConfig, num_classes: int = 21) -> SemanticSegmenter:
    """The same network with a randomly initialised backbone (the comparison)."""
    return SemanticSegmenter(build_trunk(config.backbone), num_classes, config.head_channels, config.head_dilation)


@dataclass(frozen=True)
class FinetuneConfig:
    iterations: int = 500
    batch_size: int = 8
    lr: float = 1e-3
    weight_decay: float = 1e-4
    size: tuple[int, int] = (128, 128)
    freeze_backbone: bool = False
    flip: bool = True
    seed: int = 0


def resize_pair(image: Tensor, label: Tensor, size: tuple[int, int]) -> tuple[Tensor, Tensor]:
    """3,H,W image (bilinear) and H,W label map (nearest, so void stays void) to `size`."""
    image = resize_images(image[None], size)[0]
    label = F.interpolate(label[None, None].float(), size=size, mode="nearest")[0, 0].long()
    return image, label


def finetune(segmenter: SemanticSegmenter, dataset, config: FinetuneConfig = FinetuneConfig()) -> SemanticSegmenter:
    """Train `segmenter` in place with cross-entropy (void ignored) on (image, label, ...) items,
    on the device the segmenter lives on (the batches are drawn on the CPU, so a seed gives the
    same batches on any device)."""
    if len(dataset) == 0:
        raise ValueError("the fine-tuning dataset is empty")
    generator = torch.Generator().manual_seed(config.seed)
    for parameter in segmenter.backbone.parameters():
        parameter.requires_grad_(not config.freeze_backbone)
    parameters = [p for p in segmenter.parameters() if p.requires_grad]
    optimizer = adam(parameters, lr=config.lr, weight_decay=config.weight_decay)
    items = [resize_pair(*dataset[i][:2], config.size) for i in range(len(dataset))]
    device = next(segmenter.parameters()).device
    segmenter.train()
    if config.freeze_backbone:
        segmenter.backbone.eval()  # frozen features: BatchNorm statistics stay those of AMD
    throttle = Throttle(30.0)
    with isolated_rng(config.seed):
        for iteration in range(config.iterations):
            if throttle():
                say(f"fine-tuning: iteration {iteration}/{config.iterations}"
                    f"{' (frozen backbone)' if config.freeze_backbone else ''}")
            picks = torch.randint(len(items), (config.batch_size,), generator=generator).tolist()
            images = torch.stack([items[i][0] for i in picks])
            labels = torch.stack([items[i][1] for i in picks])
            if config.flip:
                flip = torch.rand(config.batch_size, generator=generator) < 0.5
                images[flip], labels[flip] = images[flip].flip(-1), labels[flip].flip(-1)
            loss = F.cross_entropy(segmenter(images.to(device)), labels.to(device), ignore_index=VOC_IGNORE)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return segmenter.eval()


@torch.no_grad()
def evaluate_segmentation(segmenter: SemanticSegmenter, dataset, size: tuple[int, int] | None = None,
                          num_classes: int = 21) -> ConfusionMatrix:
    """Confusion matrix over `dataset` at the labels' full resolution (predictions resized up),
    on the device the segmenter lives on."""
    segmenter.eval()
    device = next(segmenter.parameters()).device
    confusion = ConfusionMatrix(num_classes, VOC_IGNORE)
    for index in range(len(dataset)):
        image, label = dataset[index][:2]
        batch = image[None]
        if size is not None:
            batch = resize_images(batch, size)
        logits = F.interpolate(segmenter(batch.to(device)), size=label.shape[-2:], mode="bilinear", align_corners=False)
        confusion.update(logits.argmax(1)[0].cpu().numpy(), label.numpy())
    return confusion

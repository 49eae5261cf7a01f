"""Appearance pathway: one frame in, c soft masks out (docs/method.md section 2).

A torchvision ResNet from random initialisation with output stride 8, followed by an FCN head.
The masks are the only thing the appearance pathway ever produces; objectness has to emerge in
them because the motion pathway can explain a frame pair only with one flow vector per mask.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
import torchvision
from torch import Tensor, nn

from ..config import AMDConfig

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _set_stride_and_dilation(layer: nn.Sequential, stride: int, dilation: int) -> None:
    """Give a torchvision ResNet stage a new stride and dilation, in place.

    The stride lives in the first block (its 3x3 conv and its downsample shortcut). The dilation
    goes on the 3x3 conv that carries the stride in every block of the stage, first block
    included, as MMSegmentation's ResNet does (Bottleneck: conv2; BasicBlock: conv1).
    """
    for index, block in enumerate(layer):
        spatial = block.conv2 if isinstance(block, torchvision.models.resnet.Bottleneck) else block.conv1
        spatial.dilation = (dilation, dilation)
        spatial.padding = (dilation, dilation)
        if index == 0:
            spatial.stride = (stride, stride)
            if block.downsample is not None:
                block.downsample[0].stride = (stride, stride)


def build_backbone(name: str) -> nn.Module:
    """ResNet-18/34/50 trunk with stage strides (1,2,1,1) and dilations (1,1,1,2).

    Stage 3 runs at 1/8 without dilation and stage 4 at 1/8 with dilation 2 (docs/method.md section 2).
    This is not torchvision's `replace_stride_with_dilation` preset (which would dilate stage 3
    too). Returns the trunk without its pooling and classifier; random initialisation.
    """
    resnet = getattr(torchvision.models, name)(weights=None)
    _set_stride_and_dilation(resnet.layer3, stride=1, dilation=1)
    _set_stride_and_dilation(resnet.layer4, stride=1, dilation=2)
    del resnet.avgpool, resnet.fc
    return resnet


class ResNetTrunk(nn.Module):
    """Wraps the modified ResNet so that parameter names stay torchvision's (conv1, layer1...)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        trunk = build_backbone(name)
        self.conv1, self.bn1, self.relu, self.maxpool = trunk.conv1, trunk.bn1, trunk.relu, trunk.maxpool
        self.layer1, self.layer2, self.layer3, self.layer4 = trunk.layer1, trunk.layer2, trunk.layer3, trunk.layer4
        self.out_channels = 2048 if name == "resnet50" else 512
        self.output_stride = 8

    def forward(self, x: Tensor) -> Tensor:
        """B,3,H,W normalised image -> B,C,H/8,W/8 features."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


def conv_bn_relu(in_channels: int, out_channels: int, dilation: int = 1, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=dilation, dilation=dilation, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class SmallConvNet(nn.Module):
    """Seven 3x3 conv-BN-ReLU layers, output stride 4, 128 channels: a CPU-sized trunk.

    Not in the release: on 2 CPU cores the backbone mostly sets the pace of emergence, and a net
    this size lets objectness emerge in minutes where ResNet-18 is slower (docs/method.md section 9).
    """

    output_stride = 4
    out_channels = 128

    def __init__(self) -> None:
        super().__init__()
        widths = (32, 32, 64, 64, 128, 128, 128)
        strides = (2, 1, 2, 1, 1, 1, 1)
        layers, c_in = [], 3
        for width, stride in zip(widths, strides):
            layers.append(conv_bn_relu(c_in, width, stride=stride))
            c_in = width
        self.layers = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        """B,3,H,W normalised image -> B,128,H/4,W/4 features."""
        return self.layers(x)


def build_trunk(name: str) -> nn.Module:
    """The appearance backbone named by `AMDConfig.backbone`, randomly initialised."""
    if name == "small":
        return SmallConvNet()
    return ResNetTrunk(name)


class FCNHead(nn.Module):
    """Two dilated 3x3 conv-BN-ReLU, Dropout2d, 1x1 classifier to c mask logits (MMSeg FCNHead)."""

    def __init__(self, in_channels: int, num_masks: int, channels: int = 256, dilation: int = 6,
                 dropout: float = 0.1) -> None:
        super().__init__()
        self.convs = nn.Sequential(
            conv_bn_relu(in_channels, channels, dilation),
            conv_bn_relu(channels, channels, dilation),
        )
        self.dropout = nn.Dropout2d(dropout)
        self.classifier = nn.Conv2d(channels, num_masks, 1)

    def forward(self, features: Tensor) -> Tensor:
        """B,C,h,w -> B,c,h,w logits."""
        return self.classifier(self.dropout(self.convs(features)))


def set_padding_mode(module: nn.Module, mode: str) -> None:
    """Give every padded Conv2d inside `module` the padding `mode`, in place (also convolutions
    whose padding was changed after construction, as `_set_stride_and_dilation` does)."""
    for conv in module.modules():
        if isinstance(conv, nn.Conv2d) and any(conv.padding):
            conv.padding_mode = mode
            conv._reversed_padding_repeated_twice = [p for p in reversed(conv.padding) for _ in range(2)]


class AppearancePathway(nn.Module):
    """Frame (values in [0,1]) -> c soft masks at 1/8 resolution (1/4 for `small`), softmax over c."""

    def __init__(self, config: AMDConfig) -> None:
        super().__init__()
        self.backbone = build_trunk(config.backbone)
        self.output_stride: int = self.backbone.output_stride
        self.head = FCNHead(self.backbone.out_channels, config.num_masks, config.head_channels,
                            config.head_dilation, config.head_dropout)
        if config.padding_mode != "zeros":
            set_padding_mode(self, config.padding_mode)
        # Not persistent: they are constants, and keeping them out of the state dict keeps it
        # identical in content to the release's.
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def logits(self, images: Tensor) -> Tensor:
        """B,3,H,W in [0,1] -> B,c,H/s,W/s mask logits, s = output_stride (ImageNet normalisation inside)."""
        return self.head(self.backbone((images - self.mean) / self.std))

    def forward(self, images: Tensor) -> Tensor:
        """B,3,H,W in [0,1] -> B,c,H/s,W/s masks (s = output_stride), softmax over c."""
        return F.softmax(self.logits(images), dim=1)

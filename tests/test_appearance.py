import pytest
import torch

from amdlib.model.appearance import AppearancePathway, build_backbone
from amdlib.config import AMDConfig


def count(module):
    return sum(p.numel() for p in module.parameters())


def test_release_parameter_counts():
    appearance = AppearancePathway(AMDConfig())
    assert count(appearance.backbone) == 23_508_032
    assert count(appearance.head) == 5_310_725


def test_resnet50_strides_and_dilations_follow_the_release():
    trunk = build_backbone("resnet50")
    assert trunk.layer2[0].conv2.stride == (2, 2)
    assert trunk.layer3[0].conv2.stride == (1, 1) and trunk.layer3[0].downsample[0].stride == (1, 1)
    assert all(block.conv2.dilation == (1, 1) for block in trunk.layer3)
    assert trunk.layer4[0].conv2.stride == (1, 1) and trunk.layer4[0].downsample[0].stride == (1, 1)
    assert all(block.conv2.dilation == (2, 2) and block.conv2.padding == (2, 2) for block in trunk.layer4)


@pytest.mark.parametrize("backbone", ["resnet18", "resnet34", "resnet50"])
def test_masks_are_a_softmax_at_output_stride_8(backbone):
    appearance = AppearancePathway(AMDConfig(backbone=backbone, num_masks=3)).eval()
    masks = appearance(torch.rand(2, 3, 64, 80))
    assert masks.shape == (2, 3, 8, 10)
    assert torch.allclose(masks.sum(1), torch.ones(2, 8, 10), atol=1e-5)


def test_imagenet_normalisation_happens_inside():
    appearance = AppearancePathway(AMDConfig(backbone="resnet18")).eval()
    image = torch.rand(1, 3, 32, 32)
    normalised = (image - appearance.mean) / appearance.std
    expected = torch.softmax(appearance.head(appearance.backbone(normalised)), 1)
    assert torch.allclose(appearance(image), expected)
    assert "mean" not in appearance.state_dict()


def test_small_backbone_runs_at_output_stride_4():
    appearance = AppearancePathway(AMDConfig(backbone="small", num_masks=2, head_channels=64)).eval()
    assert appearance.output_stride == 4
    assert appearance(torch.rand(1, 3, 64, 48)).shape == (1, 2, 16, 12)


def corner_reach(backbone: str) -> float:
    """How much the top-left feature depends on the bottom-right 8x8 pixels of a 64x64 frame."""
    torch.manual_seed(0)
    trunk = AppearancePathway(AMDConfig(backbone=backbone, num_masks=2, head_channels=32)).backbone.eval()
    image = torch.rand(1, 3, 64, 64, requires_grad=True)
    trunk(image)[0, :, 0, 0].sum().backward()
    return image.grad[..., -8:, -8:].abs().sum().item()


def test_small_net_features_see_43_pixels_so_a_corner_misses_the_opposite_corner():
    # SmallConvNet: 7 convolutions of 3x3 at strides 2,1,2,1,1,1,1 reach 43 pixels, so a corner
    # feature cannot depend on the opposite corner of a 64x64 frame.
    assert corner_reach("small") == 0.0


@pytest.mark.parametrize("backbone", ["small", "resnet18"])
def test_reflect_padding_leaves_no_trace_of_the_frame_border(backbone):
    # A uniform frame holds no content and no position. With reflect padding every convolution
    # sees the same neighbourhood everywhere, so the masks are uniform too; zero padding marks
    # the border, and the masks vary with position (what lets a model split the frame by place).
    uniform = torch.full((1, 3, 64, 64), 0.6)
    spreads = {}
    for mode in ("zeros", "reflect"):
        torch.manual_seed(0)
        pathway = AppearancePathway(AMDConfig(backbone=backbone, num_masks=2, head_channels=32,
                                              padding_mode=mode))  # train mode: BN standardises
        with torch.no_grad():
            masks = pathway(uniform)
        spreads[mode] = (masks - masks.mean((2, 3), keepdim=True)).abs().max().item()
    assert spreads["reflect"] < 1e-5
    assert spreads["zeros"] > 1e-3


def test_unknown_padding_mode_is_a_clear_error():
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        AMDConfig(padding_mode="circular")

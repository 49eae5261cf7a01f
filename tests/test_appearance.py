import pytest
import torch

from amdlib.appearance import AppearancePathway, build_backbone
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


def test_unet_backbone_runs_at_output_stride_4():
    appearance = AppearancePathway(AMDConfig(backbone="unet", num_masks=2, head_channels=64)).eval()
    assert appearance.output_stride == 4
    masks = appearance(torch.rand(1, 3, 64, 48))
    assert masks.shape == (1, 2, 16, 12)
    assert torch.allclose(masks.sum(1), torch.ones(1, 16, 12), atol=1e-5)


def corner_reach(backbone: str) -> float:
    """How much the top-left feature depends on the bottom-right 8x8 pixels of a 64x64 frame."""
    torch.manual_seed(0)
    trunk = AppearancePathway(AMDConfig(backbone=backbone, num_masks=2, head_channels=32)).backbone.eval()
    image = torch.rand(1, 3, 64, 64, requires_grad=True)
    trunk(image)[0, :, 0, 0].sum().backward()
    return image.grad[..., -8:, -8:].abs().sum().item()


def test_unet_features_see_the_whole_frame_where_the_small_net_sees_43_pixels():
    # SmallConvNet: 7 convolutions of 3x3 at strides 2,1,2,1,1,1,1 reach 43 pixels, so a corner
    # feature cannot depend on the opposite corner of a 64x64 frame; through the 1/16 level of
    # the U-Net it does.
    assert corner_reach("small") == 0.0
    assert corner_reach("unet") > 0.0


@pytest.mark.parametrize("backbone", ["small", "unet", "resnet18"])
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


@pytest.mark.parametrize("num_masks, prior", [(2, 0.9), (3, 0.8)])
def test_channel0_prior_starts_every_pixel_in_channel_0_with_that_probability(num_masks, prior):
    pathway = AppearancePathway(AMDConfig(backbone="small", num_masks=num_masks, head_channels=16,
                                          channel0_prior=prior)).eval()
    with torch.no_grad():
        pathway.head.classifier.weight.zero_()  # leave only the bias: the prior itself
        masks = pathway(torch.rand(2, 3, 32, 32))
    assert torch.allclose(masks[:, 0], torch.full_like(masks[:, 0], prior), atol=1e-6)
    assert torch.allclose(masks[:, 1:], torch.full_like(masks[:, 1:], (1 - prior) / (num_masks - 1)), atol=1e-6)
    with pytest.raises(ValueError, match="channel0_prior must be in"):
        AMDConfig(num_masks=num_masks, channel0_prior=1 / num_masks)


def test_head_context_starts_as_the_release_head_and_draws_the_same_initial_weights():
    from amdlib.model import AMD

    config = AMDConfig(backbone="small", num_masks=2, head_channels=16, flow_size=(32, 32), coarsest_stride=16)
    torch.manual_seed(0)
    plain = AMD(config).state_dict()
    torch.manual_seed(0)
    with_context = AMD(config.replace(head_context=True)).state_dict()
    assert set(with_context) - set(plain) == {"appearance.head.context.weight"}
    assert all(torch.equal(plain[name], with_context[name]) for name in plain)
    assert not with_context["appearance.head.context.weight"].any()


@pytest.mark.parametrize("padding_mode", ["zeros", "reflect"])
def test_head_context_equals_a_convolution_of_features_and_their_frame_mean(padding_mode):
    # Reference: the first head convolution applied to the features concatenated with their
    # broadcast per-frame mean, the extra input channels weighted only at the centre tap (which
    # never reads padding), for either padding mode.
    torch.manual_seed(1)
    pathway = AppearancePathway(AMDConfig(backbone="small", num_masks=3, head_channels=8, head_context=True,
                                          padding_mode=padding_mode)).eval()
    head = pathway.head
    with torch.no_grad():
        head.context.weight.normal_()
        features = torch.randn(2, 128, 12, 10)
        conv, norm, relu = head.convs[0]
        mean = features.mean((2, 3), keepdim=True).expand_as(features)
        centre = torch.zeros(8, 128, 3, 3)
        centre[:, :, 1, 1] = head.context.weight[:, :, 0, 0]
        padded = torch.nn.functional.pad(torch.cat([features, mean], 1), [conv.dilation[0]] * 4,
                                         mode="constant" if padding_mode == "zeros" else padding_mode)
        first = torch.nn.functional.conv2d(padded, torch.cat([conv.weight, centre], 1), dilation=conv.dilation)
        expected = head.classifier(head.convs[1](relu(norm(first))))
        assert torch.allclose(head(features), expected, atol=1e-5)

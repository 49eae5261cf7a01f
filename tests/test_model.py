import pytest
import torch

from amdlib import AMD, AMDConfig


@pytest.fixture
def smoke_model():
    return AMD(AMDConfig.profile("smoke"))


def test_forward_shapes_and_a_finite_loss(smoke_model):
    frames = torch.rand(2, 2, 3, 48, 64)
    out = smoke_model(frames)
    c = smoke_model.config.num_masks
    assert out.loss.dim() == 0 and torch.isfinite(out.loss)
    assert out.masks.shape == (2, 2, c, 12, 16)  # the smoke profile's small net: output stride 4
    assert torch.allclose(out.masks.sum(2), torch.ones(2, 2, 12, 16), atol=1e-5)
    assert [f.shape for f in out.flows] == [(2, 2, 2, 64, 64), (2, 2, 2, 32, 32), (2, 2, 2, 16, 16)]
    assert len(out.terms.photometric) == 3


def test_release_model_shapes_at_a_small_flow_input():
    model = AMD(AMDConfig(flow_size=(128, 192)))
    assert sum(p.numel() for p in model.parameters()) == 30_540_471
    out = model(torch.rand(1, 2, 3, 64, 64))
    assert out.masks.shape == (1, 2, 5, 8, 8)
    assert [f.shape[-2:] for f in out.flows] == [(128, 192), (64, 96), (32, 48), (16, 24), (8, 12)]
    assert out.terms.photometric[4] == 0  # the coarsest scale has weight 0


def test_gradients_reach_both_pathways(smoke_model):
    smoke_model(torch.rand(2, 2, 3, 32, 32)).loss.backward()
    appearance_grad = smoke_model.appearance.backbone.layers[0][0].weight.grad
    motion_grad = smoke_model.motion.pyramid.blocks[0][0][0].weight.grad
    assert appearance_grad is not None and appearance_grad.abs().sum() > 0
    assert motion_grad is not None and motion_grad.abs().sum() > 0
    assert smoke_model.motion.segment_flow_head.out.weight.grad.abs().sum() > 0


def test_bf16_autocast_runs_on_cpu(smoke_model):
    frames = torch.rand(2, 2, 3, 32, 32)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = smoke_model(frames)
    assert out.loss.dtype == torch.float32 and torch.isfinite(out.loss)
    out.loss.backward()
    grads = [p.grad for p in smoke_model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    assert all(p.grad is None or p.grad.dtype == torch.float32 for p in smoke_model.parameters())


def test_segment_matches_the_training_masks_in_eval_mode(smoke_model):
    smoke_model.eval()
    frames = torch.rand(1, 2, 3, 32, 48)
    with torch.no_grad():
        masks = smoke_model(frames).masks
    assert torch.allclose(smoke_model.segment(frames[:, 1]), masks[:, 1], atol=1e-6)
    assert smoke_model.segment(frames[:, 0], size=(32, 48)).shape == (1, smoke_model.config.num_masks, 32, 48)


def test_same_seed_same_model_and_loss():
    frames = torch.rand(1, 2, 3, 32, 32)
    losses = []
    for _ in range(2):
        torch.manual_seed(3)
        model = AMD(AMDConfig.profile("smoke")).eval()
        losses.append(model(frames).loss.item())
    assert losses[0] == losses[1]


def test_wrong_input_shape_is_a_clear_error(smoke_model):
    with pytest.raises(ValueError, match="B,2,3,H,W"):
        smoke_model(torch.rand(2, 3, 32, 32))


class _StripeMasks(torch.nn.Module):
    """Stands in for the appearance pathway: hard c = 2 masks that split frame 1 into a top and a
    bottom half and frame 2 into a left and a right half (input 2B,3,H,W ordered b0f1, b0f2, ...)."""

    def forward(self, images):
        masks = torch.zeros(images.shape[0], 2, 8, 8)
        masks[0::2, 0, :4], masks[0::2, 1, 4:] = 1.0, 1.0  # frame 1: rows
        masks[1::2, 0, :, :4], masks[1::2, 1, :, 4:] = 1.0, 1.0  # frame 2: columns
        return masks


@pytest.mark.parametrize("flow_masks, cutting_frames", [("source", (2, 1)), ("reference", (1, 2))])
def test_flow_masks_choose_which_frame_cuts_each_flow_into_segments(flow_masks, cutting_frames):
    # A segment flow is constant inside each segment. Frame 1 is cut into rows and frame 2 into
    # columns, so a flow cut by frame 1's masks is constant along each row (over the width) and
    # one cut by frame 2's masks is constant along each column (over the height).
    model = AMD(AMDConfig.profile("smoke", flow_masks=flow_masks, flow_size=(32, 32)))
    model.appearance = _StripeMasks()
    out = model(torch.rand(2, 2, 3, 32, 32))
    for direction, frame in enumerate(cutting_frames):  # 0: F12, 1: F21
        flow = out.flows[0][:, direction]  # B,2,H,W at the finest scale
        constant_over, varying_over = (-1, -2) if frame == 1 else (-2, -1)
        assert flow.std(dim=constant_over).max() < 1e-5, (direction, frame)
        assert flow.std(dim=varying_over).max() > 1e-4, (direction, frame)
    assert torch.equal(out.flow_masks, out.masks if flow_masks == "reference" else out.masks.flip(1))


def test_unknown_flow_masks_is_a_clear_error():
    with pytest.raises(ValueError, match="flow_masks must be one of"):
        AMDConfig(flow_masks="both")


# Frame resize to the flow input (AMDConfig.flow_resize_align_corners).

def _flow_input(model: AMD, frames: torch.Tensor) -> torch.Tensor:
    """The images the motion pathway's pyramid sees in one forward pass."""
    seen = []
    handle = model.motion.pyramid.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    model(frames)
    handle.remove()
    return seen[0]


@pytest.mark.parametrize("align_corners, expected", [(True, [0.0, 1 / 3, 2 / 3, 1.0]),
                                                     (False, [0.0, 0.25, 0.75, 1.0])])
def test_frames_reach_the_flow_input_with_the_configured_align_corners(align_corners, expected):
    """A 2-pixel ramp [0, 1] stretched to 4 pixels, by hand: align_corners=True samples at
    x = 0, 1/3, 2/3, 1; False at x = -0.25, 0.25, 0.75, 1.25 clamped to the edges. The model's
    pyramid sees exactly that resize."""
    from amdlib.model.amd import resize_to_flow_input

    ramp = torch.tensor([0.0, 1.0]).view(1, 1, 1, 2).expand(1, 3, 2, 2)
    config = AMDConfig.profile("smoke", flow_size=(4, 4), flow_resize_align_corners=align_corners)
    assert torch.allclose(resize_to_flow_input(ramp, config)[0, 0, 0], torch.tensor(expected), atol=1e-6)
    model = AMD(AMDConfig.profile("smoke", flow_size=(32, 48), flow_resize_align_corners=align_corners)).eval()
    frames = torch.rand(1, 2, 3, 40, 40)
    expected_input = torch.nn.functional.interpolate(frames[0], size=(32, 48), mode="bilinear",
                                                     align_corners=align_corners)
    assert torch.allclose(_flow_input(model, frames), expected_input, atol=1e-6)


def test_align_corners_defaults_the_release_true_and_the_cpu_profile_false():
    assert AMDConfig().flow_resize_align_corners and AMDConfig.profile("paper").flow_resize_align_corners
    assert not AMDConfig.profile("cpu").flow_resize_align_corners
    assert not AMDConfig.profile("smoke").flow_resize_align_corners
    # A stored config from before the field resized with align_corners=False.
    stored = {k: v for k, v in AMDConfig().to_dict().items() if k != "flow_resize_align_corners"}
    assert AMDConfig.from_dict(stored).flow_resize_align_corners is False
    assert AMDConfig.from_dict(AMDConfig().to_dict()).flow_resize_align_corners is True


def test_align_corners_changes_nothing_when_the_frames_already_have_the_flow_size():
    """Identity resize under both settings: the same loss, bit for bit."""
    frames = torch.rand(2, 2, 3, 64, 64)
    losses = []
    for align in (True, False):
        torch.manual_seed(0)
        losses.append(AMD(AMDConfig.profile("smoke", flow_resize_align_corners=align)).train()(frames).loss)
    assert torch.equal(losses[0], losses[1])


# Masked average pooling: the release's bare division wherever it is finite.

def test_masked_average_pool_equals_the_bare_division_for_a_tiny_mask():
    """Mask sum 1e-5 (< 1e-4): adding the old eps = 1e-6 scaled the feature by 1e-5 / 1.1e-5;
    the clamp leaves the release's bare division, 3.0, untouched."""
    from amdlib.model.segment_flow import masked_average_pool

    features = torch.full((1, 1, 2, 2), 3.0)
    masks = torch.zeros(1, 1, 2, 2)
    masks[0, 0, 0, 0] = 1e-5
    bare = (features * masks).sum() / masks.sum()
    old = (features * masks).sum() / (masks.sum() + 1e-6)
    assert bare.item() == pytest.approx(3.0) and old.item() == pytest.approx(3.0 / 1.1, rel=1e-4)
    assert masked_average_pool(features, masks).item() == bare.item()
    assert masked_average_pool(features.double(), masks.double()).item() == pytest.approx(3.0, rel=1e-12)


def test_masked_average_pool_of_an_empty_segment_is_zero_with_finite_gradients():
    from amdlib.model.segment_flow import masked_average_pool

    features = torch.rand(1, 4, 3, 3, requires_grad=True)
    masks = torch.zeros(1, 2, 3, 3)
    masks[0, 0] = torch.rand(3, 3)
    masks.requires_grad_(True)
    pooled = masked_average_pool(features, masks)
    assert torch.equal(pooled[0, 1], torch.zeros(4))
    pooled.sum().backward()
    assert torch.isfinite(features.grad).all() and torch.isfinite(masks.grad).all()
    # A floor above the dtype's smallest normal number applies as given.
    assert masked_average_pool(features, masks.detach() * 0 + 1e-3, eps=1.0)[0, 0, 0].item() == pytest.approx(
        (features[0, 0] * 1e-3).sum().item(), rel=1e-5)


def test_segment_eps_is_the_pooling_floor_in_the_model():
    """AMDConfig.segment_eps reaches the pooling as its floor (default 0: the dtype's smallest
    normal number); a floor of 1e6 shrinks every pooled feature and so changes the loss."""
    frames = torch.rand(1, 2, 3, 32, 32)
    losses = []
    for eps in (0.0, 1e6):
        torch.manual_seed(0)
        losses.append(AMD(AMDConfig.profile("smoke", segment_eps=eps)).train()(frames).loss.item())
    assert AMDConfig().segment_eps == 0.0 and losses[0] != losses[1]

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

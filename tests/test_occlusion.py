import torch

from amdlib.model.occlusion import splat_weights, visibility_mask


def test_zero_flow_marks_nothing_occluded():
    flow = torch.zeros(2, 2, 6, 8)
    assert torch.equal(splat_weights(flow), torch.ones(2, 1, 6, 8))
    assert torch.equal(visibility_mask(flow), torch.ones(2, 1, 6, 8))


def test_flow_onto_left_half_occludes_right_half():
    height, width = 6, 16
    xs = torch.arange(width, dtype=torch.float32).view(1, width).expand(height, width)
    flow = torch.zeros(1, 2, height, width)
    flow[0, 0] = -xs / 2  # pixel x of frame 2 lands at x/2 on frame 1
    visible = visibility_mask(flow)[0, 0]
    # Landing positions cover [0, 7.5]: columns 0..7 receive weight >= 0.5, column 8 gets 0.5
    # from pixel 15 (landing at 7.5), columns 9..15 receive nothing.
    assert torch.equal(visible[:, :9], torch.ones(height, 9))
    assert torch.equal(visible[:, 9:], torch.zeros(height, 7))


def test_splatting_conserves_weight_that_stays_inside():
    flow = torch.rand(1, 2, 9, 9) * 2 - 1  # everything lands at most 1 px away
    weights = splat_weights(flow)
    landed_inside = weights.sum()
    assert 0 < landed_inside <= 81 + 1e-4
    # A constant sub-pixel shift spreads each pixel's unit weight bilinearly.
    shifted = splat_weights(torch.full((1, 2, 5, 5), 0.25))[0, 0]
    assert torch.allclose(shifted[1:, 1:], torch.ones(4, 4))
    assert torch.allclose(shifted[0, 0], torch.tensor(0.75 * 0.75))


def test_flow_leaving_the_frame_occludes_the_vacated_border():
    flow = torch.zeros(1, 2, 4, 10)
    flow[:, 0] = 3.0  # frame 2 content lands 3 px to the right on frame 1
    visible = visibility_mask(flow)[0, 0]
    assert torch.equal(visible[:, :3], torch.zeros(4, 3))
    assert torch.equal(visible[:, 3:], torch.ones(4, 7))


def test_non_finite_flow_lands_nowhere_instead_of_crashing():
    flow = torch.zeros(1, 2, 3, 3)
    flow[0, 0, 1, 1] = float("nan")
    flow[0, 1, 0, 0] = float("inf")
    weights = splat_weights(flow)[0, 0]
    assert torch.isfinite(weights).all()
    assert weights[1, 1] == 0 and weights[0, 0] == 0 and weights[2, 2] == 1
